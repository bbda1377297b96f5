"""Partial traces of a trajectory operator over all axes but one."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kpwidgets._validation import check_choice
from kpwidgets.linalg._checks import check_count, check_operator, resolve_generator
from kpwidgets.linalg._probes import PROBES_PER_CALL, draw_probes
from kpwidgets.operators._base import TrajectoryOperator

AXES = ("trials", "time", "units")

# Probe rounds per kept index when no budget is given: the estimated matrix
# then averages four independent samples.
DEFAULT_ROUNDS = 4


@dataclass
class PartialTrace:
    """The reduced matrix of an operator on one axis.

    Attributes:
        matrix: ``[n, n]``, ``n`` the size of the kept axis.
        samples: ``[S, n, n]`` independent estimates whose mean (symmetrised
            for a self-adjoint operator) is ``matrix``; None when exact.
        axis: ``"trials"``, ``"time"`` or ``"units"``.
        exact: Whether ``matrix`` is exact up to rounding.
        num_matvecs: Operator applications spent.
    """

    matrix: torch.Tensor
    samples: torch.Tensor | None
    axis: str
    exact: bool
    num_matvecs: int


def _axis_first(block: torch.Tensor, dim: int) -> torch.Tensor:
    """``[k, B, T, H]`` to ``[k, n, rest]`` with the kept axis second."""
    moved = block.movedim(1 + dim, 1)
    return moved.reshape(moved.shape[0], moved.shape[1], -1)


def _trajectory(rows: torch.Tensor, shape: tuple[int, ...], dim: int) -> torch.Tensor:
    """Inverse of :func:`_axis_first`: ``[k, n, rest]`` to ``[k, B, T, H]``."""
    others = [size for index, size in enumerate(shape) if index != dim]
    full = rows.reshape(rows.shape[0], shape[dim], *others)
    return full.movedim(1, 1 + dim).contiguous()


def _exact(operator: TrajectoryOperator, dim: int) -> torch.Tensor:
    """``M[a, c] = sum_o N[(a, o), (c, o)]`` from all ``N`` basis vectors."""
    shape = operator.trajectory_shape
    kept = shape[dim]
    rest = operator.shape[0] // kept
    options = {"dtype": operator.dtype, "device": operator.device}
    transposed = torch.zeros(kept, kept, **options)
    for start in range(0, kept * rest, PROBES_PER_CALL):
        index = torch.arange(
            start, min(start + PROBES_PER_CALL, kept * rest), device=operator.device
        )
        columns, others = index // rest, index % rest
        probe_index = torch.arange(len(index), device=operator.device)
        basis = torch.zeros(len(index), kept, rest, **options)
        basis[probe_index, columns, others] = 1
        image = _axis_first(operator.matvec(_trajectory(basis, shape, dim)), dim)
        # Column c of M collects entry (a, o) of N e_(c, o).
        transposed.index_add_(0, columns, image[probe_index, :, others])
    return transposed.T


def _sample(
    operator: TrajectoryOperator, dim: int, generator: torch.Generator
) -> torch.Tensor:
    """One unbiased estimate of ``M``: probe ``e_c (x) w_c`` for every ``c``."""
    shape = operator.trajectory_shape
    kept = shape[dim]
    rest = operator.shape[0] // kept
    estimate = torch.empty(kept, kept, dtype=operator.dtype, device=operator.device)
    for start in range(0, kept, PROBES_PER_CALL):
        columns = torch.arange(
            start, min(start + PROBES_PER_CALL, kept), device=operator.device
        )
        signs = draw_probes((len(columns), rest), operator, generator)
        probes = torch.zeros(
            len(columns), kept, rest, dtype=operator.dtype, device=operator.device
        )
        probes[torch.arange(len(columns), device=operator.device), columns] = signs
        image = _axis_first(operator.matvec(_trajectory(probes, shape, dim)), dim)
        # E[sum_o (N z_c)_(a, o) w_c(o)] = sum_o N[(a, o), (c, o)] = M[a, c].
        estimate[:, columns] = torch.einsum("kar,kr->ak", image, signs)
    return estimate


def partial_trace(
    operator: TrajectoryOperator,
    axis: str,
    *,
    exact: bool | None = None,
    num_matvecs: int | None = None,
    generator: torch.Generator | None = None,
) -> PartialTrace:
    r"""The partial trace of ``N`` over every axis except ``axis``.

    For ``axis="trials"`` this is the ``B x B`` matrix

    .. math::

        M_{bc} = \sum_{t, h} N_{(b, t, h), (c, t, h)},

    and likewise ``T x T`` for ``"time"`` and ``H x H`` for ``"units"``;
    ``tr(M) = tr(N)``, and ``M`` is PSD when ``N`` is.

    Args:
        operator: A square ``TrajectoryOperator`` on ``[B, T, H]``.
        axis: The kept axis: ``"trials"``, ``"time"`` or ``"units"``.
        exact: True applies ``N`` to all ``N = B*T*H`` basis vectors; False
            estimates; None (default) is exact when that costs no more than
            ``num_matvecs``.
        num_matvecs: Budget of the estimate, at least the axis size ``n``;
            ``4 n`` by default. Spent in whole rounds of ``n`` probes.
        generator: Source of the probes; a fixed seed when None.

    Returns:
        A ``PartialTrace``; symmetrised when the operator is self-adjoint.

    Notes:
        The estimate probes index ``c`` of the kept axis with ``e_c (x) w``,
        ``w`` random signs over the other axes: each round of ``n`` probes
        gives an unbiased estimate of all of ``M``, and an operator that is
        block-diagonal over the kept axis gets exactly zero off-diagonal
        entries. Exact costs ``N`` matvecs; the estimate ``n`` per round.
    """
    check_operator("operator", operator)
    axis = check_choice("axis", axis, AXES)
    dim = AXES.index(axis)
    kept = operator.trajectory_shape[dim]
    size = operator.shape[0]
    if num_matvecs is None:
        num_matvecs = DEFAULT_ROUNDS * kept
    num_matvecs = check_count("num_matvecs", num_matvecs, 1)
    if exact is None:
        exact = size <= num_matvecs
    generator = resolve_generator(generator, operator.device)

    if exact:
        matrix, samples, used = _exact(operator, dim), None, size
    else:
        if num_matvecs < kept:
            raise ValueError(
                f"num_matvecs must be at least the size of the kept axis {axis!r}, "
                f"{kept}, for one round of probes; got {num_matvecs}"
            )
        rounds = num_matvecs // kept
        samples = torch.stack(
            [_sample(operator, dim, generator) for _ in range(rounds)]
        )
        matrix, used = samples.mean(dim=0), rounds * kept
    if operator.is_self_adjoint:
        matrix = (matrix + matrix.T) / 2
    return PartialTrace(matrix, samples, axis, bool(exact), used)
