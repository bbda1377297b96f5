"""Alignment of two operators: the cosine of the angle between them."""

from __future__ import annotations

import math

import torch

from kpwidgets.linalg._checks import (
    check_compatible,
    check_count,
    check_operator,
    resolve_generator,
)
from kpwidgets.linalg._estimate import Estimate, delta_method_error
from kpwidgets.linalg._probes import chunk_sizes, draw_probes
from kpwidgets.operators._base import TrajectoryOperator

# Probes when the caller gives no budget.
DEFAULT_NUM_MATVECS = 100


def _exact_alignment(first: TrajectoryOperator, second: TrajectoryOperator) -> float:
    size = first.shape[0]
    dense_first = first.to_dense(max_size=size)
    dense_second = second.to_dense(max_size=size)
    inner = (dense_first * dense_second).sum()
    return float(inner / (dense_first.norm() * dense_second.norm()))


def operator_alignment(
    first: TrajectoryOperator,
    second: TrajectoryOperator,
    *,
    num_matvecs: int = DEFAULT_NUM_MATVECS,
    exact: bool | None = None,
    generator: torch.Generator | None = None,
) -> Estimate:
    r"""``cos(A, B) = tr(A^T B) / (||A||_F ||B||_F)``, the Frobenius cosine.

    1 when one operator is a positive multiple of the other, 0 when they act on
    orthogonal supports, -1 for a negative multiple. Estimated with shared
    Rademacher probes ``z``:

    .. math::

        \cos(A, B) \approx \frac{\sum_i \langle A z_i, B z_i \rangle}
        {\sqrt{\sum_i \|A z_i\|^2 \sum_i \|B z_i\|^2}}.

    Args:
        first: ``A``, a ``TrajectoryOperator`` on ``[B, T, H]``.
        second: ``B``, on the same trajectories, dtype and device.
        num_matvecs: ``m`` probes; each is applied once to ``A`` and once to
            ``B``, as blocks ``[k, B, T, H]``.
        exact: True compares the dense matrices (``N = B*T*H`` matvecs of
            each, toy sizes); None (default) is exact when ``N <= m``.
        generator: Source of the probes; a fixed seed when None.

    Returns:
        An ``Estimate``; ``standard_error`` is the delta-method error of the
        ratio (``nan`` for one probe, 0 when exact).

    Raises:
        ValueError: If the operators act on different trajectories.

    Notes:
        Costs ``m`` matvecs of each operator. Numerator and denominators are
        unbiased; the ratio is consistent, with bias of order ``1/m``. Sharing
        probes makes the estimate exactly 1 for ``A`` against a positive
        multiple of itself and exactly 0 for orthogonal supports.
    """
    check_operator("first", first)
    check_operator("second", second)
    check_compatible("first", first, "second", second)
    num_matvecs = check_count("num_matvecs", num_matvecs, 1)
    generator = resolve_generator(generator, first.device)
    size = first.shape[0]
    if exact or (exact is None and size <= num_matvecs):
        return Estimate(_exact_alignment(first, second), 0.0, size, exact=True)

    samples = []
    for count in chunk_sizes(num_matvecs):
        probes = draw_probes((count, *first.trajectory_shape), first, generator)
        image_first, image_second = first.matvec(probes), second.matvec(probes)
        samples.append(
            torch.stack(
                [
                    (image_first * image_second).sum(dim=(1, 2, 3)),
                    image_first.square().sum(dim=(1, 2, 3)),
                    image_second.square().sum(dim=(1, 2, 3)),
                ],
                dim=1,
            )
        )
    samples = torch.cat(samples).cpu()  # [m, 3]: <Az, Bz>, |Az|^2, |Bz|^2
    inner, norm_first, norm_second = samples.mean(dim=0).tolist()
    scale = math.sqrt(norm_first * norm_second)
    value = inner / scale
    gradient = torch.tensor(
        [1 / scale, -value / (2 * norm_first), -value / (2 * norm_second)],
        dtype=samples.dtype,
    )
    return Estimate(value, delta_method_error(gradient, samples), num_matvecs, False)


def misdirection(
    parameter_operator: TrajectoryOperator,
    propagation_operator: TrajectoryOperator,
    *,
    num_matvecs: int = DEFAULT_NUM_MATVECS,
    exact: bool | None = None,
    generator: torch.Generator | None = None,
) -> Estimate:
    """``cos(P K P*, P P*)``: how far K turns the hidden-state update off P P*.

    With ``K = I`` the update ``dz = -eta P K P* e`` would be ``-eta P P* e``;
    the alignment is 1 then, and falls as K's low rank redirects the update.

    Args:
        parameter_operator: ``K``.
        propagation_operator: ``P``.
        num_matvecs: Probes, as in :func:`operator_alignment`.
        exact: As in :func:`operator_alignment`.
        generator: Source of the probes; a fixed seed when None.

    Notes:
        Costs ``num_matvecs`` matvecs of ``P K P*`` and of ``P P*``.
    """
    P = propagation_operator
    return operator_alignment(
        P @ parameter_operator @ P.T,
        P @ P.T,
        num_matvecs=num_matvecs,
        exact=exact,
        generator=generator,
    )
