"""The numbers the findings report quotes, computed from condensed sweeps."""

from __future__ import annotations

import numpy as np

from kpwidgets.experiments.course_data import (
    PARTITIONS,
    CollapseSweep,
    MultitaskSweep,
    grouping_score,
)

# Training loss below which a collapse run counts as having learned the task
# (the fixation-only plateau of Memory-Pro sits near 0.10).
LEARNED_LOSS = 0.02
SMOOTHING = 20


def steps_to_learn(train_loss: np.ndarray, threshold: float = LEARNED_LOSS):
    """First step whose running-mean training loss is below ``threshold``.

    Args:
        train_loss: ``[..., steps]``.
        threshold: The loss level.

    Returns:
        ``[...]`` steps (1-based), NaN where never reached.
    """
    kernel = np.ones(SMOOTHING) / SMOOTHING
    smooth = np.apply_along_axis(
        lambda row: np.convolve(row, kernel, mode="valid"), -1, train_loss
    )
    below = smooth < threshold
    first = np.argmax(below, axis=-1).astype(float) + SMOOTHING
    first[~below.any(axis=-1)] = np.nan
    return first


def collapse_numbers(sweep: CollapseSweep) -> dict[str, dict]:
    """Per architecture: the table rows and the rank comparisons.

    Returns:
        ``{architecture: {"rows": [...], "rank": {...}}}``. Each row (one g)
        holds seed means of the hidden participation ratio at the start,
        its minimum and end, the steps to learn (and how many seeds learned),
        the final accuracy, and the time-averaged ranks of K, P P*, P K P*
        and misdirection. ``"rank"`` holds the fraction of snapshots with
        rank K < rank P P*, with rank P K P* closer to rank K than to
        rank P P* (in log ratio), and the correlation of log ranks over all
        snapshots.
    """
    numbers = {}
    metrics = sweep.metrics
    for a, architecture in enumerate(sweep.architectures):
        rows = []
        for g_index, scale in enumerate(sweep.init_scales):
            pr = metrics["hidden_pr"][a, g_index]  # [S, N]
            learned = steps_to_learn(metrics["train_loss"][a, g_index])
            rows.append(
                {
                    "g": float(scale),
                    "pr_start": float(np.nanmean(pr[:, 0])),
                    "pr_min": float(np.nanmean(np.nanmin(pr, axis=1))),
                    "pr_end": float(np.nanmean(pr[:, -1])),
                    "learned": int(np.isfinite(learned).sum()),
                    "seeds": len(learned),
                    "steps_to_learn": float(np.nanmean(learned))
                    if np.isfinite(learned).any()
                    else float("nan"),
                    "accuracy_end": float(
                        np.nanmean(metrics["eval_accuracy"][a, g_index, :, -1])
                    ),
                    **{
                        key: float(np.nanmean(metrics[key][a, g_index]))
                        for key in ("rank_K", "rank_PP", "rank_PKP", "misdirection")
                    },
                }
            )
        rank = {}
        for prefix in ("rank", "time_rank"):
            k, pp, pkp = (
                np.log(metrics[f"{prefix}_{name}"][a].ravel())
                for name in ("K", "PP", "PKP")
            )
            finite = np.isfinite(k) & np.isfinite(pp) & np.isfinite(pkp)
            k, pp, pkp = k[finite], pp[finite], pkp[finite]
            rank[prefix] = {
                "snapshots": int(finite.sum()),
                "k_below_pp": float(np.mean(k < pp)) if finite.any() else np.nan,
                "pkp_nearer_k": float(np.mean(np.abs(pkp - k) < np.abs(pkp - pp)))
                if finite.any()
                else np.nan,
                "corr_pkp_k": _correlation(pkp, k),
                "corr_pkp_pp": _correlation(pkp, pp),
                "median_pkp_over_k": float(np.exp(np.median(pkp - k)))
                if finite.any()
                else np.nan,
            }
        numbers[architecture] = {"rows": rows, "rank": rank}
    return numbers


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def half_time(scores: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """First step at which each score curve ``[S, N]`` reaches half its final value.

    NaN for a curve whose final value is not positive (no grouping to reach).
    """
    final = scores[:, -1:]
    reached = scores >= final / 2
    first = steps[np.argmax(reached, axis=1)].astype(float)
    first[final[:, 0] <= 0] = np.nan
    return first


def prediction_of_final(sweep: MultitaskSweep, metric: str) -> np.ndarray:
    """Correlation of a task matrix at each snapshot with the final hidden one.

    Over the six off-diagonal pairs of the symmetrised matrices, per seed:
    ``[S, N]``. High early values mean the measure already shows the
    eventual hidden-state similarity structure.
    """
    matrices = sweep.metrics[metric]
    matrices = (matrices + np.swapaxes(matrices, -1, -2)) / 2
    final = sweep.metrics["hidden_similarity"][:, -1]
    final = (final + np.swapaxes(final, -1, -2)) / 2
    upper = np.triu_indices(len(sweep.task_names), k=1)
    out = np.full(matrices.shape[:2], np.nan)
    for s in range(matrices.shape[0]):
        target = final[s][upper]
        for n in range(matrices.shape[1]):
            out[s, n] = _correlation(matrices[s, n][upper], target)
    return out


def multitask_numbers(sweep: MultitaskSweep) -> dict[str, dict]:
    """Per partition and measure: final grouping scores and when they appear.

    Returns:
        ``{partition: {measure: {...}}}`` with measures ``"hidden"`` (hidden
        similarity) and ``"operator"`` (cumulative interference alignment):
        the seed mean and spread of the final score, how many seeds end
        positive, and the seed-mean half-time; plus ``"earlier"``, the seeds
        whose operator half-time precedes the hidden one. Key ``"prediction"``
        holds, per measure, the mean correlation with the final hidden
        matrix at each snapshot.
    """
    measures = {"hidden": "hidden_similarity", "operator": "cumulative_alignment"}
    numbers: dict[str, dict] = {}
    for partition in PARTITIONS:
        entry = {}
        times = {}
        for measure, metric in measures.items():
            scores = grouping_score(sweep.metrics[metric], sweep.task_names, partition)
            times[measure] = half_time(scores, sweep.steps)
            entry[measure] = {
                "final_mean": float(scores[:, -1].mean()),
                "final_std": float(scores[:, -1].std()),
                "positive": int((scores[:, -1] > 0).sum()),
                "half_time": float(np.nanmean(times[measure]))
                if np.isfinite(times[measure]).any()
                else float("nan"),
            }
        both = np.isfinite(times["hidden"]) & np.isfinite(times["operator"])
        entry["earlier"] = int((times["operator"][both] < times["hidden"][both]).sum())
        entry["compared"] = int(both.sum())
        numbers[partition] = entry
    numbers["prediction"] = {
        measure: np.nanmean(prediction_of_final(sweep, metric), axis=0)
        for measure, metric in measures.items()
    }
    numbers["seeds"] = len(sweep.seeds)
    return numbers
