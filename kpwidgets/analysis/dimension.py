"""How many dimensions the hidden trajectories use: the collapse measure.

Trajectories ``[B, T, H]`` are flattened over (trials, time) into ``B*T``
samples of ``H`` units, centred, and described by the variances of their
principal components.
"""

from __future__ import annotations

import numpy as np
import torch

from kpwidgets import linalg
from kpwidgets.operators._checks import check_tensor, format_shape


def principal_variances(hidden: torch.Tensor) -> torch.Tensor:
    """Variances of the principal components of ``hidden [B, T, H]``, descending.

    Returns:
        ``[min(B*T, H)]`` non-negative variances.
    """
    check_tensor("hidden", hidden)
    if hidden.dim() != 3 or hidden.shape[0] * hidden.shape[1] < 2:
        raise ValueError(
            "hidden must have shape [B, T, H] with at least two samples (B*T >= 2); "
            f"got {format_shape(hidden.shape)}"
        )
    samples = hidden.detach().reshape(-1, hidden.shape[-1])  # [B*T, H]
    centred = samples - samples.mean(dim=0)
    singular_values = torch.linalg.svdvals(centred)
    return singular_values.square() / (samples.shape[0] - 1)


def participation_ratio(hidden: torch.Tensor) -> float:
    r"""PCA participation ratio of trajectories ``[B, T, H]``.

    .. math::

        \mathrm{PR} = \frac{(\sum_i \lambda_i)^2}{\sum_i \lambda_i^2}

    over the principal variances ``lambda_i``: ``d`` for ``d`` equally used
    directions, 1 when one direction dominates. 0 for constant trajectories.
    """
    variances = principal_variances(hidden)
    if variances.sum() == 0:
        return 0.0
    return linalg.participation_ratio(variances)


def variance_dimension(hidden: torch.Tensor, threshold: float = 0.95) -> float:
    """Principal components needed to explain ``threshold`` of the variance.

    Interpolated between whole components, with the convention of
    :func:`kpwidgets.linalg.threshold_rank` (``0.95 d`` for ``d`` equally used
    directions), so it changes smoothly over training. 0 for constant
    trajectories.
    """
    variances = principal_variances(hidden)
    if variances.sum() == 0:
        return 0.0
    return linalg.threshold_rank(variances, threshold)


def collapse_curve(run, threshold: float = 0.95) -> dict[str, np.ndarray]:
    """Hidden dimension at every snapshot of a training run.

    Args:
        run: A :class:`~kpwidgets.training.TrainingRun`.
        threshold: Variance fraction for :func:`variance_dimension`.

    Returns:
        Arrays keyed ``"step"``, ``"participation_ratio"`` and
        ``"variance_dimension"``, one entry per snapshot.
    """
    snapshots = run.snapshots
    return {
        "step": np.array([snapshot.step for snapshot in snapshots]),
        "participation_ratio": np.array(
            [participation_ratio(snapshot.hidden) for snapshot in snapshots]
        ),
        "variance_dimension": np.array(
            [variance_dimension(snapshot.hidden, threshold) for snapshot in snapshots]
        ),
    }
