"""Stochastic trace estimation: Hutchinson and Hutch++."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kpwidgets.linalg._checks import check_count, check_operator, resolve_generator
from kpwidgets.linalg._estimate import Estimate, standard_error_of_mean
from kpwidgets.linalg._probes import (
    apply_in_chunks,
    check_distribution,
    chunk_sizes,
    draw_probes,
)
from kpwidgets.operators._base import TrajectoryOperator


@dataclass
class DeflatedMoments:
    """Exact moments on a sketched subspace plus probe samples on the rest.

    With ``Q`` orthonormal and ``y = (I - Q Q^T) z`` for probes ``E[z z^T] = I``:
    ``tr(N) = tr(Q^T N Q) + E[y^T N y]`` and
    ``||N||_F^2 = ||N Q||_F^2 + E[||N y||^2]``, for any ``Q``.

    Attributes:
        sketch_trace: ``tr(Q^T N Q)`` (0 without a sketch).
        sketch_frobenius: ``||N Q||_F^2`` (0 without a sketch).
        quadratic: ``[g]`` samples of ``y^T N y``.
        squared_norm: ``[g]`` samples of ``||N y||^2``.
        num_matvecs: ``2 s + g``.
    """

    sketch_trace: float
    sketch_frobenius: float
    quadratic: torch.Tensor
    squared_norm: torch.Tensor
    num_matvecs: int


def deflated_moments(
    operator: TrajectoryOperator,
    num_sketch: int,
    num_probes: int,
    generator: torch.Generator,
    distribution: str,
) -> DeflatedMoments:
    """Sketch ``Q = orth(N S)`` with ``num_sketch`` probes, then sample the rest.

    Notes:
        Costs ``2 * num_sketch + num_probes`` matvecs (``num_sketch <= N``).
    """
    shape = operator.trajectory_shape
    size = operator.shape[0]
    sketch_trace = sketch_frobenius = 0.0
    basis = None
    if num_sketch > 0:
        sketch = draw_probes((num_sketch, *shape), operator, generator, distribution)
        image = apply_in_chunks(operator, sketch).reshape(num_sketch, size)
        basis = torch.linalg.qr(image.T).Q.T.reshape(num_sketch, *shape)
        applied = apply_in_chunks(operator, basis)
        sketch_trace = float((basis * applied).sum())
        sketch_frobenius = float(applied.square().sum())

    quadratic, squared_norm = [], []
    for count in chunk_sizes(num_probes):
        probes = draw_probes((count, *shape), operator, generator, distribution)
        if basis is not None:
            # Deflate: y = (I - Q Q^T) z, so only the unsketched part is sampled.
            weights = probes.reshape(count, size) @ basis.reshape(num_sketch, size).T
            probes = probes - (weights @ basis.reshape(num_sketch, size)).reshape(
                probes.shape
            )
        image = operator.matvec(probes)
        quadratic.append((probes * image).sum(dim=(1, 2, 3)))
        squared_norm.append(image.square().sum(dim=(1, 2, 3)))
    return DeflatedMoments(
        sketch_trace=sketch_trace,
        sketch_frobenius=sketch_frobenius,
        quadratic=torch.cat(quadratic),
        squared_norm=torch.cat(squared_norm),
        num_matvecs=2 * num_sketch + num_probes,
    )


def hutchpp_split(operator: TrajectoryOperator, num_matvecs: int) -> tuple[int, int]:
    """``(s, g)`` with ``2 s + g = num_matvecs``, ``g >= 1`` and ``s <= N``.

    A third of the budget sketches, a third applies the sketch, the rest (at
    least a third, so at least one probe) samples the remainder.
    """
    sketch = min(num_matvecs // 3, operator.shape[0])
    return sketch, num_matvecs - 2 * sketch


def hutchinson_trace(
    operator: TrajectoryOperator,
    num_matvecs: int,
    *,
    generator: torch.Generator | None = None,
    distribution: str = "rademacher",
) -> Estimate:
    r"""Hutchinson's estimate of ``tr(N)``: the mean of ``z^T N z``.

    .. math::

        \operatorname{tr} N \approx \frac{1}{m} \sum_{i=1}^m z_i^\top N z_i,
        \qquad E[z z^\top] = I.

    Args:
        operator: Any square ``TrajectoryOperator`` on ``[B, T, H]``.
        num_matvecs: ``m >= 1`` probes, applied in blocks ``[k, B, T, H]``.
        generator: Source of the probes; a fixed seed when None.
        distribution: ``"rademacher"`` (entries +-1, lower variance) or
            ``"gaussian"``.

    Returns:
        An ``Estimate``; ``standard_error`` is the sample standard deviation
        over ``sqrt(m)`` (``nan`` for ``m = 1``).

    Notes:
        Unbiased for every ``m``; costs ``m`` matvecs. The error falls like
        ``||N||_F / sqrt(m)``; for operators with a few dominant eigenvalues
        (K, P K P*) prefer :func:`hutchpp_trace`.
    """
    check_operator("operator", operator)
    num_matvecs = check_count("num_matvecs", num_matvecs, 1)
    distribution = check_distribution(distribution)
    generator = resolve_generator(generator, operator.device)
    moments = deflated_moments(operator, 0, num_matvecs, generator, distribution)
    return Estimate(
        value=float(moments.quadratic.mean()),
        standard_error=standard_error_of_mean(moments.quadratic),
        num_matvecs=num_matvecs,
        exact=False,
    )


def hutchpp_trace(
    operator: TrajectoryOperator,
    num_matvecs: int,
    *,
    generator: torch.Generator | None = None,
    distribution: str = "rademacher",
) -> Estimate:
    r"""Hutch++ estimate of ``tr(N)``: exact on a sketched range, sampled elsewhere.

    With ``Q = orth(N S)`` for ``s`` random probes ``S``:

    .. math::

        \operatorname{tr} N \approx \operatorname{tr}(Q^\top N Q)
        + \frac{1}{g} \sum_{i=1}^g y_i^\top N y_i,
        \qquad y_i = (I - Q Q^\top) z_i.

    Args:
        operator: Any square ``TrajectoryOperator`` on ``[B, T, H]``.
        num_matvecs: ``m >= 1``; split as ``s = m // 3`` sketch probes (each
            applied twice) and ``g = m - 2 s >= 1`` samples, so every budget is
            spent exactly (``m = 1, 2`` is plain Hutchinson).
        generator: Source of the probes; a fixed seed when None.
        distribution: ``"rademacher"`` or ``"gaussian"``, for sketch and samples.

    Returns:
        An ``Estimate``; ``standard_error`` is that of the sampled part
        (``nan`` when ``g = 1``), which is the whole error given the sketch.

    Notes:
        Unbiased for every budget: the split identity holds for any ``Q`` and
        the samples are drawn independently of it. Costs ``m`` matvecs; the
        error falls like ``1/m`` rather than ``1/sqrt(m)`` when the spectrum
        decays (Meyer, Musco, Musco and Woodruff, 2021).
    """
    check_operator("operator", operator)
    num_matvecs = check_count("num_matvecs", num_matvecs, 1)
    distribution = check_distribution(distribution)
    generator = resolve_generator(generator, operator.device)
    sketch, probes = hutchpp_split(operator, num_matvecs)
    moments = deflated_moments(operator, sketch, probes, generator, distribution)
    return Estimate(
        value=moments.sketch_trace + float(moments.quadratic.mean()),
        standard_error=standard_error_of_mean(moments.quadratic),
        num_matvecs=num_matvecs,
        exact=False,
    )
