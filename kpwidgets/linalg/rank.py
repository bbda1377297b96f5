"""Effective rank of a PSD operator or spectrum: participation ratio, threshold."""

from __future__ import annotations

import torch

from kpwidgets._validation import check_choice, check_float
from kpwidgets.linalg._checks import check_count, check_operator, resolve_generator
from kpwidgets.linalg._estimate import (
    Estimate,
    delta_method_error,
    standard_error_of_mean,
)
from kpwidgets.linalg.eigen import top_eigenpairs
from kpwidgets.linalg.partial_trace import AXES, partial_trace
from kpwidgets.linalg.trace import deflated_moments, hutchpp_split
from kpwidgets.operators._base import TrajectoryOperator

KINDS = ("participation_ratio", "threshold")

# Budget of the estimators when the caller gives none.
DEFAULT_NUM_MATVECS = 100

# Modes of the first eigensolve when the threshold rank needs a spectrum.
FIRST_MODES = 8


def _check_spectrum(eigenvalues: object) -> torch.Tensor:
    if not isinstance(eigenvalues, torch.Tensor) or eigenvalues.dim() != 1:
        shown = (
            list(eigenvalues.shape)
            if isinstance(eigenvalues, torch.Tensor)
            else type(eigenvalues).__name__
        )
        raise ValueError(f"eigenvalues must be a 1-D tensor [n]; got {shown}")
    if eigenvalues.numel() == 0 or not bool(torch.isfinite(eigenvalues).all()):
        raise ValueError("eigenvalues must be a non-empty tensor of finite numbers")
    largest = eigenvalues.abs().max()
    slack = torch.finfo(eigenvalues.dtype).eps ** 0.5 * largest
    if bool(eigenvalues.min() < -slack) or not bool(largest > 0):
        raise ValueError(
            "eigenvalues must be those of a non-zero PSD operator (>= 0 up to "
            f"rounding); got minimum {float(eigenvalues.min()):.3g} and maximum "
            f"{float(eigenvalues.max()):.3g}"
        )
    return eigenvalues.clamp(min=0)


def participation_ratio(eigenvalues: torch.Tensor) -> float:
    r"""``(sum lambda)^2 / sum lambda^2`` of a PSD spectrum ``[n]``.

    Equals ``tr(N)^2 / ||N||_F^2``: ``r`` for ``r`` equal non-zero eigenvalues,
    close to 1 when one mode dominates.
    """
    values = _check_spectrum(eigenvalues)
    return float(values.sum() ** 2 / values.square().sum())


def _interpolated_count(
    values: torch.Tensor, threshold: float, total: float | None = None
) -> tuple[float, int] | None:
    """Fractional modes to reach ``threshold * total``, and the last mode used.

    ``total`` defaults to the sum of ``values``; None when they fall short.
    """
    ordered = values.sort(descending=True).values
    cumulative = ordered.cumsum(0)
    target = threshold * float(cumulative[-1] if total is None else total)
    reached = torch.nonzero(cumulative >= target)
    if len(reached) == 0:
        return None
    index = int(reached[0])
    before = float(cumulative[index - 1]) if index > 0 else 0.0
    return index + (target - before) / float(ordered[index]), index


def threshold_rank(eigenvalues: torch.Tensor, threshold: float = 0.95) -> float:
    """Modes needed to hold ``threshold`` of the trace, linearly interpolated.

    With eigenvalues sorted in descending order and partial sums ``S_j``
    (``S_0 = 0``), the rank is ``j + (threshold * S_n - S_j) / lambda_{j+1}`` for
    the ``j`` with ``S_j < threshold * S_n <= S_{j+1}``: ``threshold * r`` for
    ``r`` equal modes, ``threshold`` for a single mode.

    Args:
        eigenvalues: ``[n]``, a PSD spectrum in any order.
        threshold: The fraction of the trace, in ``(0, 1]``.
    """
    values = _check_spectrum(eigenvalues)
    threshold = check_float("threshold", threshold, low=0, high=1, low_inclusive=False)
    count, _ = _interpolated_count(values, threshold)
    return count


def _of_spectrum(values: torch.Tensor, kind: str, threshold: float) -> float:
    if kind == "participation_ratio":
        return participation_ratio(values)
    return threshold_rank(values, threshold)


def _jackknife_error(samples: torch.Tensor, kind: str, threshold: float) -> float:
    """Jackknife standard error of a rank computed from the mean of ``samples``."""
    count = samples.shape[0]
    if count < 2:
        return float("nan")
    leave_one_out = (samples.sum(dim=0) - samples) / (count - 1)
    spectra = torch.linalg.eigvalsh((leave_one_out + leave_one_out.mT) / 2)
    ranks = torch.tensor(
        [_of_spectrum(spectrum.clamp(min=0), kind, threshold) for spectrum in spectra]
    )
    return float(((count - 1) / count * (ranks - ranks.mean()).square().sum()).sqrt())


def _estimated_participation_ratio(
    operator: TrajectoryOperator, num_matvecs: int, generator: torch.Generator
) -> Estimate:
    sketch, probes = hutchpp_split(operator, num_matvecs)
    moments = deflated_moments(operator, sketch, probes, generator, "rademacher")
    trace = moments.sketch_trace + float(moments.quadratic.mean())
    frobenius = moments.sketch_frobenius + float(moments.squared_norm.mean())
    gradient = torch.tensor([2 * trace / frobenius, -(trace**2) / frobenius**2])
    samples = torch.stack([moments.quadratic, moments.squared_norm], dim=1).cpu()
    return Estimate(
        value=trace**2 / frobenius,
        standard_error=delta_method_error(gradient.to(samples.dtype), samples),
        num_matvecs=num_matvecs,
        exact=False,
    )


def _estimated_threshold_rank(
    operator: TrajectoryOperator,
    threshold: float,
    num_matvecs: int,
    generator: torch.Generator,
) -> Estimate:
    sketch, probes = hutchpp_split(operator, num_matvecs)
    moments = deflated_moments(operator, sketch, probes, generator, "rademacher")
    trace = moments.sketch_trace + float(moments.quadratic.mean())
    trace_error = standard_error_of_mean(moments.quadratic)
    size, modes, vectors, used = operator.shape[0], FIRST_MODES, None, num_matvecs
    while True:
        modes = min(modes, size)
        result = top_eigenpairs(operator, modes, initial=vectors, generator=generator)
        used += result.num_matvecs
        values = result.values.clamp(min=0)
        found = _interpolated_count(values, threshold, None if modes == size else trace)
        if found is not None:
            count, index = found
            error = threshold * trace_error / float(values[index])
            return Estimate(count, error, used, exact=False)
        vectors, modes = result.vectors, 2 * modes


def effective_rank(
    operator_or_eigenvalues: TrajectoryOperator | torch.Tensor,
    *,
    kind: str = "participation_ratio",
    threshold: float = 0.95,
    axis: str | None = None,
    exact: bool | None = None,
    num_matvecs: int | None = None,
    generator: torch.Generator | None = None,
) -> Estimate:
    r"""Effective rank of a PSD operator ``N``, of its spectrum, or along one axis.

    Conventions (named by ``kind``):

    - ``"participation_ratio"``: :math:`\operatorname{tr}(N)^2 / \|N\|_F^2
      = (\sum \lambda)^2 / \sum \lambda^2`.
    - ``"threshold"``: the number of leading modes holding ``threshold`` of the
      trace, linearly interpolated (see :func:`threshold_rank`).

    With ``axis`` ("trials", "time" or "units") the rank is that of the partial
    trace ``M`` of ``N`` over the other axes (:func:`partial_trace`), e.g. how
    many independent trial patterns ``N`` spans.

    Args:
        operator_or_eigenvalues: A self-adjoint PSD ``TrajectoryOperator`` or a
            spectrum ``[n]``.
        kind: ``"participation_ratio"`` or ``"threshold"``.
        threshold: Fraction of the trace for ``kind="threshold"``, in ``(0, 1]``.
        axis: None for the whole operator, else the kept axis.
        exact: True computes exactly (``N = B*T*H`` matvecs, dense spectrum);
            False estimates; None (default) is exact when that costs at most
            ``num_matvecs``. Ignored for a spectrum.
        num_matvecs: Budget of the estimate; 100 by default (``4 n`` with
            ``axis``, ``n`` the axis size).
        generator: Source of the probes; a fixed seed when None.

    Returns:
        An ``Estimate``. Its spread is the delta-method error of the ratio
        estimate (participation ratio), the trace error carried to the
        interpolated count (threshold), or a jackknife over probe rounds (with
        ``axis``); 0 when exact.

    Notes:
        Estimated participation ratio: Hutch++ probes give both ``tr(N)`` and
        ``||N||_F^2 = E||N y||^2`` from the same ``num_matvecs`` matvecs; the
        ratio is consistent (bias of order ``1/num_matvecs``). Estimated
        threshold rank: Hutch++ for the trace, then top eigenpairs with a
        doubling number of modes until their sum reaches ``threshold`` of it,
        so its cost grows with the rank. With ``axis``, ``M`` is exact or
        estimated as in :func:`partial_trace`, then its spectrum is exact.
    """
    kind = check_choice("kind", kind, KINDS)
    threshold = check_float("threshold", threshold, low=0, high=1, low_inclusive=False)
    if isinstance(operator_or_eigenvalues, torch.Tensor):
        if axis is not None:
            raise ValueError(
                f"axis={axis!r} needs an operator to take a partial trace of; got "
                "a spectrum (pass the operator instead)"
            )
        value = _of_spectrum(operator_or_eigenvalues, kind, threshold)
        return Estimate(value, 0.0, 0, exact=True)

    operator = check_operator("operator_or_eigenvalues", operator_or_eigenvalues)
    if not operator.is_self_adjoint:
        raise ValueError(
            "operator_or_eigenvalues must be a self-adjoint PSD operator for "
            f"effective_rank; got {operator!r}, which is not self-adjoint"
        )
    generator = resolve_generator(generator, operator.device)
    if axis is not None:
        axis = check_choice("axis", axis, AXES)
        reduced = partial_trace(
            operator, axis, exact=exact, num_matvecs=num_matvecs, generator=generator
        )
        spectrum = torch.linalg.eigvalsh(reduced.matrix).clamp(min=0)
        error = (
            0.0 if reduced.exact else _jackknife_error(reduced.samples, kind, threshold)
        )
        value = _of_spectrum(spectrum, kind, threshold)
        return Estimate(value, error, reduced.num_matvecs, reduced.exact)

    size = operator.shape[0]
    budget = DEFAULT_NUM_MATVECS if num_matvecs is None else num_matvecs
    budget = check_count("num_matvecs", budget, 1)
    if exact or (exact is None and size <= budget):
        spectrum = torch.linalg.eigvalsh(operator.to_dense(max_size=size))
        value = _of_spectrum(spectrum.clamp(min=0), kind, threshold)
        return Estimate(value, 0.0, size, exact=True)
    if kind == "participation_ratio":
        return _estimated_participation_ratio(operator, budget, generator)
    return _estimated_threshold_rank(operator, threshold, budget, generator)
