"""Top eigenpairs of a self-adjoint trajectory operator ("eigenfunctions")."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from kpwidgets._validation import check_choice, check_float
from kpwidgets.linalg._checks import (
    check_count,
    check_operator,
    check_self_adjoint,
    check_trajectory_block,
    resolve_generator,
)
from kpwidgets.linalg._krylov import block_krylov_top
from kpwidgets.linalg._warnings import ConvergenceWarning
from kpwidgets.operators._base import TrajectoryOperator

METHODS = ("auto", "global", "trials", "units")

# Probes per group per iteration when the operator is block-diagonal: the top-k
# spread over many groups, so each group needs only a few vectors at a time.
GROUPED_BLOCK_SIZE = 2


@dataclass
class EigenResult:
    """Leading eigenpairs of a self-adjoint operator.

    Attributes:
        values: ``[k]`` eigenvalues, descending.
        vectors: ``[k, B, T, H]`` orthonormal eigenfunctions (plain sum inner
            product over ``(b, t, h)``).
        residuals: ``[k]``, ``||N v - lambda v||`` of each pair.
        converged: Whether every pair met the tolerance.
        num_matvecs: Trajectory probes applied (one block call applies many).
        num_iterations: Block extensions after the first block.
        method: The structure used: ``"global"``, ``"trials"`` or ``"units"``.
    """

    values: torch.Tensor
    vectors: torch.Tensor
    residuals: torch.Tensor
    converged: bool
    num_matvecs: int
    num_iterations: int
    method: str


class _Layout:
    """Views a block ``[c, B, T, H]`` as ``G`` independent groups ``[G, c, n]``."""

    def __init__(self, method: str, trajectory_shape: tuple[int, int, int]) -> None:
        self.method = method
        B, T, H = self.trajectory_shape = trajectory_shape
        self.num_groups = {"global": 1, "trials": B, "units": H}[method]
        self.group_size = B * T * H // self.num_groups

    def to_rows(self, block: torch.Tensor) -> torch.Tensor:
        c = block.shape[0]
        if self.method == "units":
            return block.reshape(c, -1, self.num_groups).permute(2, 0, 1)  # [H, c, BT]
        return block.reshape(c, self.num_groups, -1).transpose(0, 1)  # [G, c, n]

    def to_block(self, rows: torch.Tensor) -> torch.Tensor:
        c = rows.shape[1]
        if self.method == "units":
            flat = rows.permute(1, 2, 0)  # [c, BT, H]
        else:
            flat = rows.transpose(0, 1)  # [c, G, n]
        return flat.reshape(c, *self.trajectory_shape).contiguous()


def _choose_method(operator: TrajectoryOperator, method: str) -> str:
    axes = operator.block_diagonal_axes
    if method == "auto":
        B, _, H = operator.trajectory_shape
        sizes = {"trials": B, "units": H}
        usable = [axis for axis in ("trials", "units") if axis in axes]
        return max(usable, key=sizes.get) if usable else "global"
    if method != "global" and method not in axes:
        raise ValueError(
            f"method={method!r} needs an operator that is block-diagonal over "
            f"{method} ({method!r} in block_diagonal_axes); got {operator!r} with "
            f"block_diagonal_axes={sorted(axes)}"
        )
    return method


def _starting_rows(
    layout: _Layout,
    operator: TrajectoryOperator,
    initial: torch.Tensor | None,
    width: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """``[G, width, n]``: warm-start guesses per group, completed at random.

    A previous eigenfunction usually lives in one group (one trial, one unit).
    Each group starts from the guesses that live in it, then from the shapes
    of the others (a good guess when groups are alike, as near-identical
    trials are), in the order given.
    """
    G, n = layout.num_groups, layout.group_size
    start = torch.randn(
        G, width, n, generator=generator, dtype=operator.dtype, device=operator.device
    )
    if initial is None:
        return start
    guesses = layout.to_rows(initial)  # [G, m, n]
    norms = guesses.norm(dim=-1)  # [G, m]
    present = norms > 1e-3 * norms.amax(dim=0, keepdim=True)
    shared = guesses.sum(dim=0, keepdim=True).expand_as(guesses)
    guesses = torch.where(present.unsqueeze(-1), guesses, shared)
    order = torch.sort(present.to(torch.int8), dim=1, descending=True, stable=True)
    used = min(width, guesses.shape[1])
    index = order.indices[:, :used, None].expand(G, used, n)
    start[:, :used] = guesses.gather(1, index)
    return start


def top_eigenpairs(
    operator: TrajectoryOperator,
    k: int,
    *,
    initial: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    method: str = "auto",
    block_size: int | None = None,
    max_iterations: int = 200,
    tol: float | None = None,
) -> EigenResult:
    r"""The ``k`` largest eigenvalues and eigenfunctions of a self-adjoint operator.

    Solves :math:`N v = \lambda v` for trajectories ``v`` of shape ``[B, T, H]``
    (K, P P*, P K P*), with the plain sum inner product over ``(b, t, h)``.

    Args:
        operator: A self-adjoint ``TrajectoryOperator`` (``is_self_adjoint``).
        k: Number of eigenpairs, ``1 <= k <= B*T*H``.
        initial: ``[m, B, T, H]`` warm start, e.g. the eigenfunctions found at
            the previous slider position; up to ``block_size`` seed each group.
        generator: Source of all randomness; a fixed seed when None.
        method: ``"auto"`` uses ``operator.block_diagonal_axes`` ("trials" for
            P P*, "units" for K of RNN/GRU cells) and otherwise ``"global"``.
        block_size: Probes per group per iteration: ``k`` for the global
            method, ``min(k, 2)`` per trial or unit by default. A group finds
            at most ``block_size`` copies of a repeated eigenvalue.
        max_iterations: Block iterations before giving up.
        tol: Stop when every residual ``||N v - lambda v||`` is at most ``tol``
            times the largest eigenvalue; ``sqrt(eps)`` of the dtype by default
            (``1e-2`` is plenty for plotting a spectrum).

    Returns:
        An ``EigenResult`` with ``values [k]`` (descending), ``vectors
        [k, B, T, H]``, residuals and convergence information.

    Raises:
        ValueError: If the operator is not self-adjoint, ``k`` is outside
            ``[1, B*T*H]``, ``method`` does not match the operator's structure,
            or ``initial`` has the wrong shape, dtype or device.

    Notes:
        Thick-restart block Lanczos: each iteration applies the operator once,
        to a block of ``block_size`` probes, so a solve costs about
        ``block_size * (iterations + 1)`` matvecs. On an operator that is
        block-diagonal over trials (units), a probe block is read as ``B``
        (``H``) independent blocks, one per trial (unit): a single call advances
        all of them, each group gets its own Rayleigh-Ritz, and the groups'
        pairs merge into the global top-k. Eigenfunctions then live in one
        trial (unit) each. This avoids the slow convergence of global Lanczos
        on the clustered eigenvalues of near-identical trials, and symmetry
        across groups (identical trials, K of a leaky RNN ``M M^T kron I_H``)
        no longer repeats eigenvalues inside a group, so small blocks suffice.
        Largest means algebraically largest; for PSD operators, largest in
        magnitude. A ``ConvergenceWarning`` is issued when ``max_iterations``
        runs out. Memory: ``4 * (k + block_size)`` vectors ``[B, T, H]``.
    """
    check_operator("operator", operator)
    check_self_adjoint("operator", operator, "top_eigenpairs")
    size = operator.shape[0]
    k = check_count("k", k, 1, size)
    check_choice("method", method, METHODS)
    max_iterations = check_count("max_iterations", max_iterations, 0)
    if initial is not None:
        initial = check_trajectory_block("initial", initial, operator)
    if tol is None:
        tol = torch.finfo(operator.dtype).eps ** 0.5
    tol = check_float("tol", tol, low=0, low_inclusive=False)
    generator = resolve_generator(generator, operator.device)

    layout = _Layout(_choose_method(operator, method), operator.trajectory_shape)
    n = layout.group_size
    per_group = min(k, n)
    if block_size is None:
        width = k if layout.method == "global" else min(k, GROUPED_BLOCK_SIZE)
    else:
        width = check_count("block_size", block_size, 1)
    width = min(width, n)
    start = _starting_rows(layout, operator, initial, width, generator)

    def apply(rows: torch.Tensor) -> torch.Tensor:
        return layout.to_rows(operator.matvec(layout.to_block(rows)))

    solution = block_krylov_top(
        apply,
        start,
        k,
        max_basis=2 * (per_group + width),
        max_iterations=max_iterations,
        tol=tol,
        generator=generator,
    )
    if not solution.converged:
        warnings.warn(
            f"top_eigenpairs did not converge in {max_iterations} iterations "
            f"({solution.num_matvecs} matvecs); largest residual "
            f"{float(solution.residuals.max()):.3g}. Raise max_iterations or "
            "block_size, or loosen tol",
            ConvergenceWarning,
            stacklevel=2,
        )

    # Each eigenfunction is its group's vector, zero in every other group.
    rows = torch.zeros(
        layout.num_groups, k, n, dtype=operator.dtype, device=operator.device
    )
    rows[solution.groups, torch.arange(k, device=operator.device)] = solution.vectors
    return EigenResult(
        values=solution.values,
        vectors=layout.to_block(rows),
        residuals=solution.residuals,
        converged=solution.converged,
        num_matvecs=solution.num_matvecs,
        num_iterations=solution.num_iterations,
        method=layout.method,
    )
