"""One snapshot in KPFlow terms: spectra and effective ranks of K, P P*, P K P*."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from kpwidgets.linalg import effective_rank, top_eigenpairs
from kpwidgets.linalg._probes import draw_probes
from kpwidgets.operators import TrajectoryOperator, kpflow_operators
from kpwidgets.operators._checks import check_positive_int

OPERATOR_NAMES = ("K", "PP*", "PKP*")
AXES = ("trials", "time", "units")


@dataclass(frozen=True)
class KPFlowSummary:
    """Spectra, effective ranks and misdirection of one trained network.

    Operators are keyed ``"K"``, ``"PP*"`` and ``"PKP*"``.

    Attributes:
        eigenvalues: The ``top_k`` largest eigenvalues of each, descending.
        trace: Each operator's trace (estimated, deflated by the top modes).
        cumulative_fraction: ``eigenvalues.cumsum() / trace``: how much of the
            operator the leading modes hold.
        effective_rank: Participation ratio ``tr(N)^2 / ||N||_F^2`` of each
            (estimated from the same probes).
        partial_effective_rank: Per operator, the participation ratio of its
            partial trace over each kept axis in ``axes`` ("trials", "time",
            "units").
        misdirection: cos(P K P*, P P*): how well the hidden-state NTK lines
            up with the plain flow (1: parameters move states as freely as
            pushes; near 0: they move them in few, other directions).
        warm_start: The eigenfunctions ``[top_k, B, T, H]`` of each operator;
            pass back as ``warm_start`` at the next, nearby snapshot.
    """

    eigenvalues: dict[str, torch.Tensor]
    trace: dict[str, float]
    cumulative_fraction: dict[str, torch.Tensor]
    effective_rank: dict[str, float]
    partial_effective_rank: dict[str, dict[str, float]]
    misdirection: float
    warm_start: dict[str, torch.Tensor] = field(repr=False)


def kpflow_summary(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    *,
    h0: torch.Tensor | None = None,
    top_k: int = 10,
    axes: tuple[str, ...] = (),
    num_probes: int = 16,
    tol: float = 1e-2,
    generator: torch.Generator | None = None,
    warm_start: dict[str, torch.Tensor] | None = None,
) -> KPFlowSummary:
    """Spectra, effective ranks and misdirection of K, P P* and P K P*.

    Args:
        model: A :class:`~kpwidgets.models.RecurrentModel` (or any module with
            a ``cell`` and ``model(inputs, h0) -> (outputs, hidden)``).
        inputs: ``[B, T, I]``, e.g. the task's evaluation batch.
        h0: ``[B, H]`` initial state; zeros when None.
        top_k: Eigenvalues per operator.
        axes: Kept axes ("trials", "time", "units") for partial effective
            ranks; none by default, as each costs hundreds of matvecs.
        num_probes: Random probes shared by the trace, rank and alignment
            estimates.
        tol: Relative residual of the eigensolves (1e-2 draws a spectrum).
        generator: Source of all probes; seed 0 when None, so a summary is
            reproducible.
        warm_start: ``summary.warm_start`` of a previous, nearby snapshot.

    Returns:
        A :class:`KPFlowSummary`.

    Notes:
        Three top-``k`` eigensolves (block Krylov, warm-startable), then one
        block of ``num_probes`` through each operator. The eigenvectors deflate
        the trace and Frobenius estimates (``tr N = sum(lambda) + E[y^T N y]``
        with ``y`` the probe minus its part in the top-``k`` space), which makes
        them nearly exact for the low-rank K and P K P*.
    """
    check_positive_int("top_k", top_k)
    check_positive_int("num_probes", num_probes)
    unknown = [axis for axis in axes if axis not in AXES]
    if unknown:
        raise ValueError(f"axes must be drawn from {AXES}; got {tuple(axes)!r}")
    with torch.no_grad():
        _, hidden = model(inputs, h0)
    operators = kpflow_operators(model.cell, inputs, hidden, h0)
    by_name: dict[str, TrajectoryOperator] = {
        "K": operators.K,
        "PP*": operators.flow,
        "PKP*": operators.hidden_ntk,
    }
    if generator is None:
        generator = torch.Generator(device=inputs.device).manual_seed(0)
    warm_start = warm_start or {}
    probes = draw_probes((num_probes, *hidden.shape), operators.K, generator)

    spectra, images = {}, {}
    for name, operator in by_name.items():
        initial = _usable(warm_start.get(name), operator)
        if initial is None and name == "PKP*":
            # P K P* maps into P (range K): P applied to K's top modes is a
            # good starting block, far better than random vectors.
            initial = operators.P.matvec(spectra["K"].vectors)
        spectra[name] = top_eigenpairs(
            operator,
            min(top_k, operator.shape[0]),
            initial=initial,
            generator=generator,
            tol=tol,
        )
        images[name] = operator.matvec(probes)

    moments = {
        name: _deflated_moments(spectra[name], probes, images[name]) for name in by_name
    }
    traces = {name: trace for name, (trace, _) in moments.items()}
    cross = float((images["PKP*"] * images["PP*"]).sum() / num_probes)
    norms = moments["PKP*"][1] * moments["PP*"][1]
    return KPFlowSummary(
        eigenvalues={name: result.values for name, result in spectra.items()},
        trace=traces,
        cumulative_fraction={
            name: result.values.cumsum(0) / traces[name]
            for name, result in spectra.items()
        },
        effective_rank={
            name: trace**2 / frobenius for name, (trace, frobenius) in moments.items()
        },
        partial_effective_rank={
            name: {
                axis: effective_rank(operator, axis=axis, generator=generator).value
                for axis in axes
            }
            for name, operator in by_name.items()
        },
        misdirection=cross / norms**0.5,
        warm_start={name: result.vectors for name, result in spectra.items()},
    )


def _deflated_moments(result, probes, images) -> tuple[float, float]:
    """``(tr N, ||N||_F^2)``: exact on the eigenvectors, sampled on the rest.

    With ``N Q = Q Lambda`` and ``y = z - Q Q^T z``: ``N y = N z - Q Lambda
    Q^T z``, so the deflated samples need no further matvecs.
    """
    k = len(result.values)
    basis = result.vectors.reshape(k, -1)  # [k, N]
    flat_probes = probes.reshape(len(probes), -1)  # [m, N]
    weights = flat_probes @ basis.T  # [m, k]
    deflated = flat_probes - weights @ basis
    deflated_images = (
        images.reshape(len(probes), -1) - (weights * result.values) @ basis
    )
    trace = result.values.sum() + (deflated * deflated_images).sum(1).mean()
    frobenius = result.values.square().sum() + deflated_images.square().sum(1).mean()
    return float(trace), float(frobenius)


def _usable(vectors: torch.Tensor | None, operator: TrajectoryOperator):
    """Warm-start vectors that still fit the operator, else None."""
    if vectors is None:
        return None
    if tuple(vectors.shape[1:]) != operator.trajectory_shape:
        return None
    if vectors.dtype != operator.dtype or vectors.device != operator.device:
        return None
    return vectors
