"""What the panels show about one snapshot, computed away from the plots.

:func:`describe_hidden` is cheap (one SVD of the hidden states) and runs for
every snapshot; :func:`operator_spectra` calls
:func:`kpwidgets.analysis.kpflow_summary` and is what costs time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from kpwidgets import analysis
from kpwidgets.analysis.projection import principal_components
from kpwidgets.models import RecurrentModel
from kpwidgets.training import Snapshot

OPERATORS = ("K", "PP*", "PKP*")


@dataclass(frozen=True)
class Spectra:
    """The operators' spectra at one snapshot, as plain numpy data.

    Attributes:
        eigenvalues: Top eigenvalues, descending, keyed ``"K"``, ``"PP*"``,
            ``"PKP*"``.
        cumulative_fraction: Cumulative fraction of each operator's trace
            reached by those eigenvalues.
        effective_rank: Participation ratio of each operator.
        misdirection: cos(P K P*, P P*), the operator alignment.
    """

    eigenvalues: dict[str, np.ndarray]
    cumulative_fraction: dict[str, np.ndarray]
    effective_rank: dict[str, float]
    misdirection: float


@dataclass(frozen=True)
class StepAnalysis:
    """Everything the panels draw or print about one snapshot.

    Attributes:
        step: The training step of the snapshot.
        loss: Loss on the evaluation batch.
        accuracy: Task accuracy on the evaluation batch.
        participation_ratio: PCA participation ratio of the hidden states.
        variance_dimension: Principal components holding 95% of the variance.
        projection: Hidden states in their top 3 principal components
            [B, T, 3].
        components: The principal directions [3, H], signs aligned with the
            previous snapshot's so the picture does not flip.
        explained: The fraction of the variance those 3 directions hold.
        spectra: The operators' spectra, or None where they were skipped.
    """

    step: int
    loss: float
    accuracy: float
    participation_ratio: float
    variance_dimension: float
    projection: np.ndarray
    components: np.ndarray
    explained: float
    spectra: Spectra | None = None


def describe_hidden(
    snapshot: Snapshot, previous_components: np.ndarray | None = None
) -> StepAnalysis:
    """Dimension and top-3 PCA projection of a snapshot's hidden states.

    Shapes: the snapshot's hidden states [B, T, H] give a projection
    [B, T, 3]; ``previous_components`` is [3, H].
    """
    hidden = snapshot.hidden.detach().cpu()  # [B, T, H]
    pca = principal_components(hidden, 3)
    components = pca.components.double().numpy()  # [3, H]
    projection = pca.projection.double().numpy()  # [B, T, 3]
    if previous_components is not None:
        # Flip directions that turned around, so consecutive pictures match.
        signs = np.sign(np.sum(components * previous_components, axis=1))
        signs = np.where(signs == 0, 1.0, signs)
        components, projection = components * signs[:, None], projection * signs
    return StepAnalysis(
        step=snapshot.step,
        loss=snapshot.loss,
        accuracy=snapshot.accuracy,
        participation_ratio=analysis.participation_ratio(hidden),
        variance_dimension=analysis.variance_dimension(hidden),
        projection=projection,
        components=components,
        explained=float(pca.explained.sum()),
    )


def operator_spectra(
    model: RecurrentModel,
    inputs: torch.Tensor,
    *,
    top_k: int,
    warm_start: Any = None,
) -> tuple[Spectra, Any]:
    """Spectra of K, P P* and P K P* along the model's trajectory on ``inputs``.

    Args:
        model: The model at the snapshot (on the device to compute on).
        inputs: The evaluation inputs [B, T, I], on the model's device.
        top_k: How many eigenvalues of each operator.
        warm_start: The previous call's warm start (same run), or None.

    Returns:
        The spectra and the warm start to pass to the next call.
    """
    summary = analysis.kpflow_summary(model, inputs, top_k=top_k, warm_start=warm_start)

    def to_numpy(values: dict[str, Any]) -> dict[str, np.ndarray]:
        return {
            name: torch.as_tensor(values[name]).detach().cpu().double().numpy()
            for name in OPERATORS
        }

    spectra = Spectra(
        eigenvalues=to_numpy(summary.eigenvalues),
        cumulative_fraction=to_numpy(summary.cumulative_fraction),
        effective_rank={
            name: float(summary.effective_rank[name]) for name in OPERATORS
        },
        misdirection=float(summary.misdirection),
    )
    return spectra, summary.warm_start
