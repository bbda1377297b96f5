"""Thick-restart block Lanczos on a batch of independent symmetric problems.

Vectors are rows: a block is ``[G, c, n]``, ``c`` vectors in each of ``G``
groups of size ``n``, each vector contiguous in memory. The operator is
applied to all groups at once, so one call
advances every group's Krylov space; Rayleigh-Ritz runs per group, and the
groups' Ritz pairs are merged into one global top-k. With ``G = 1`` this is the
ordinary (global) method.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

ApplyRows = Callable[[torch.Tensor], torch.Tensor]

logger = logging.getLogger(__name__)

# Columns per slice when a restart rotates the basis in place.
ROTATION_CHUNK = 1 << 15


@dataclass
class KrylovSolution:
    """The global top-k Ritz pairs of a batched solve.

    Attributes:
        values: ``[k]``, descending.
        groups: ``[k]``, the group each pair lives in.
        vectors: ``[k, n]``, each pair's unit vector inside its group.
        residuals: ``[k]``, ``||A y - theta y||``.
        converged: Whether every pair that could enter the top-k met ``tol``.
        num_matvecs: Vectors applied per group, i.e. trajectory probes.
        num_iterations: Block extensions after the first block.
    """

    values: torch.Tensor
    groups: torch.Tensor
    vectors: torch.Tensor
    residuals: torch.Tensor
    converged: bool
    num_matvecs: int
    num_iterations: int


def _project_out(
    block: torch.Tensor,
    basis: torch.Tensor | None,
    coefficients: torch.Tensor | None = None,
) -> torch.Tensor:
    """``block - (block V^T) V``; ``coefficients = block V^T`` when known."""
    if basis is None or basis.shape[-2] == 0:
        return block
    if coefficients is None:
        coefficients = block @ basis.mT
    return block - coefficients @ basis


def orthonormalize(
    block: torch.Tensor,
    basis: torch.Tensor | None,
    generator: torch.Generator,
    coefficients: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Orthonormal rows ``[G, c, n]`` spanning ``block`` minus ``basis``.

    Rows that are (numerically) inside the span of ``basis`` and of the rows
    before them are replaced by random directions, so the result always has
    ``c`` orthonormal rows orthogonal to ``basis`` (when ``c + m <= n``).

    Args:
        block: ``[G, c, n]``.
        basis: ``[G, m, n]`` orthonormal rows, or None.
        generator: Source of the replacement directions.
        coefficients: ``block @ basis^T`` when the caller has it already.

    Returns:
        The rows, and the triangular factor ``R [G, c, c]`` of the projected
        block: ``((I - V^T V) block^T) = Q R``, so ``||W^T s|| = ||R s||``.

    Notes:
        Block Gram-Schmidt twice. The first round orthonormalises by
        Householder QR, which keeps small but genuine components; the second,
        on rows that are already nearly orthonormal, by the eigendecomposition
        of their Gram matrix (SVQB), which needs no Householder sweeps.
    """
    dependence = torch.finfo(block.dtype).eps ** 0.5
    reference = block.norm(dim=-1)

    q, triangle = torch.linalg.qr(_project_out(block, basis, coefficients).mT)
    rows = q.mT
    dependent = triangle.diagonal(dim1=-2, dim2=-1).abs() <= dependence * reference
    if bool(dependent.any()):
        noise = torch.randn(
            block.shape, generator=generator, dtype=block.dtype, device=block.device
        )
        noise = noise / noise.norm(dim=-1, keepdim=True)
        rows = torch.where(dependent.unsqueeze(-1), noise, rows)

    rows = _project_out(rows, basis)
    values, vectors = torch.linalg.eigh(rows @ rows.mT)
    rows = (vectors * values.rsqrt().unsqueeze(-2)).mT @ rows
    return rows, triangle


def _rotate_in_place(rows: torch.Tensor, rotation: torch.Tensor) -> None:
    """``rows[:, :r] = rotation^T rows[:, :m]`` for ``rotation [G, m, r]``, ``r <= m``.

    Works on slices of the columns ``n``, so the temporary stays small.
    """
    size, kept = rotation.shape[-2:]
    for start in range(0, rows.shape[-1], ROTATION_CHUNK):
        piece = rows[:, :, start : start + ROTATION_CHUNK]
        piece[:, :kept] = rotation.mT @ piece[:, :size]


def _select(
    theta: torch.Tensor, residual: torch.Tensor, num_wanted: int, tol: float
) -> tuple[torch.Tensor, bool]:
    """Indices into ``theta.flatten()`` of the global top pairs, and convergence.

    A group's pair counts for convergence when it is selected or when its
    residual interval ``theta + r`` still reaches the smallest selected value.
    """
    flat = theta.reshape(-1)
    chosen = torch.topk(flat, num_wanted).indices
    threshold = flat[chosen].min()
    scale = theta.abs().max()
    candidates = theta + residual >= threshold
    converged = bool((residual[candidates] <= tol * scale).all())
    return chosen, converged


def block_krylov_top(
    apply: ApplyRows,
    start: torch.Tensor,
    num_wanted: int,
    *,
    max_basis: int,
    max_iterations: int,
    tol: float,
    generator: torch.Generator,
) -> KrylovSolution:
    """Top ``num_wanted`` eigenpairs over all groups of a symmetric batch.

    Args:
        apply: Maps rows ``[G, c, n]`` to the operator applied to them.
        start: ``[G, c, n]`` starting block (any rank; completed at random).
        num_wanted: ``k``, at most ``G * n``.
        max_basis: Vectors per group kept before a thick restart; at least
            ``min(k, n) + c``, or ``n``.
        max_iterations: Block extensions allowed once every group holds at
            least ``min(k, n)`` vectors.
        tol: Converged when residuals are at most ``tol`` times the largest
            Ritz value in magnitude.
        generator: Source of the random directions that replace breakdowns.

    Notes:
        Keeps ``A V`` next to the basis ``V``, so Rayleigh-Ritz and residuals
        cost no matvecs: each iteration applies the operator once, to ``c``
        vectors per group. The next block is ``A`` of the last block,
        orthogonalised against the basis (block Lanczos with full
        reorthogonalisation); its triangular factor gives every residual norm
        cheaply, and explicit residuals confirm convergence. A restart keeps
        the leading Ritz vectors, which preserves the Krylov relation
        (Krylov-Schur). Each iteration reads the basis about four times.
    """
    G, width, n = start.shape
    per_group = min(num_wanted, n)
    max_basis = min(max_basis, n)
    options = {"dtype": start.dtype, "device": start.device}
    basis = torch.zeros(G, max_basis, n, **options)
    applied = torch.zeros(G, max_basis, n, **options)
    projected = torch.zeros(G, max_basis, max_basis, **options)

    block, _ = orthonormalize(start, None, generator)
    size, num_matvecs, iteration = 0, 0, 0
    while True:
        width = block.shape[-2]
        applied_block = apply(block)
        num_matvecs += width
        last, size = size, size + width
        basis[:, last:size] = block
        applied[:, last:size] = applied_block
        # A V^T of the new rows: the Rayleigh quotient's new entries, and the
        # coefficients of the first projection of the next block.
        coupling = applied_block @ basis[:, :size].mT
        projected[:, last:size, :size] = coupling
        projected[:, :size, last:size] = coupling.mT

        # Rayleigh-Ritz in every group; eigh sorts ascending, we want the top.
        matrix = projected[:, :size, :size]
        theta, rotation = torch.linalg.eigh((matrix + matrix.mT) / 2)
        theta, rotation = theta.flip(-1), rotation.flip(-1)
        top = min(per_group, size)

        # The next block comes first: with W = (I - V^T V) A Q_last, the
        # residual of the Ritz vector V^T s is W^T s_last.
        estimate = torch.full((G, top), math.inf, **options)
        if size < n:
            next_width = min(width, n - size)
            next_block, triangle = orthonormalize(
                applied_block[:, :next_width],
                basis[:, :size],
                generator,
                coupling[:, :next_width],
            )
            if next_width == width:
                estimate = (triangle @ rotation[:, last:size, :top]).norm(dim=-2)

        # Merge only once every group holds min(k, n) pairs: a group may hold
        # all of the top-k.
        if top == per_group:
            chosen, converged = _select(theta[:, :top], estimate, num_wanted, tol)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "iteration %d: %d matvecs, basis %d, selected residual <= %.3g",
                    iteration,
                    num_matvecs,
                    size,
                    float(estimate.reshape(-1)[chosen].max() / theta.abs().max()),
                )
            stop = size == n or iteration >= max_iterations
            if converged or stop:
                ritz = rotation[:, :size, :top].mT @ basis[:, :size]
                residual_rows = rotation[:, :size, :top].mT @ applied[:, :size]
                residual_rows -= theta[:, :top, None] * ritz
                residual = residual_rows.norm(dim=-1)
                chosen, converged = _select(theta[:, :top], residual, num_wanted, tol)
                if converged or stop:
                    break
            iteration += 1

        if size + next_block.shape[-2] > max_basis:
            # Thick restart: keep the leading Ritz vectors, whose span together
            # with the next block still satisfies the Krylov relation; keeping
            # half the basis leaves room for several blocks before the next.
            keep = max(per_group, max_basis // 2)
            _rotate_in_place(basis, rotation[:, :size, :keep])
            _rotate_in_place(applied, rotation[:, :size, :keep])
            projected[:, :keep, :keep] = torch.diag_embed(theta[:, :keep])
            size = keep
        block = next_block

    return KrylovSolution(
        values=theta[:, :top].reshape(-1)[chosen],
        groups=torch.div(chosen, top, rounding_mode="floor"),
        vectors=ritz.reshape(G * top, n)[chosen],
        residuals=residual.reshape(-1)[chosen],
        converged=converged,
        num_matvecs=num_matvecs,
        num_iterations=iteration,
    )
