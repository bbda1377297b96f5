"""Plot the course sweeps on axes you supply: the panels of the findings report.

Every function draws on matplotlib axes passed in (from ``plt.subplots`` in a
notebook, or a ``Figure`` in the report) and labels them; none creates a figure
or calls pyplot. :mod:`kpwidgets.experiments.figures` composes these panels into
the report's figures, so the notebooks and ``docs/findings.md`` show the same
plots::

    sweep = load_collapse_sweep()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), layout="constrained")
    plot_operator_ranks(sweep, axes, architecture="gru")
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.image import AxesImage

from kpwidgets.experiments.analysis import (
    SMOOTHING,
    prediction_of_final,
    steps_to_learn,
)
from kpwidgets.experiments.course_data import (
    COLLAPSE_METRICS,
    CollapseSweep,
    MultitaskSweep,
    grouping_score,
)

OPERATOR_LABELS = {"K": "K", "PP": "P P*", "PKP": "P K P*"}
RANK_KINDS = {"overall": "rank", "time": "time_rank"}
METRIC_LABELS = {
    "eval_loss": "evaluation loss",
    "eval_accuracy": "angle error (degrees)",
    "hidden_pr": "hidden participation ratio",
    "hidden_dim95": "dimensions for 95% variance",
    "misdirection": "cos(P K P*, P P*)",
    **{f"rank_{key}": f"effective rank of {op}" for key, op in OPERATOR_LABELS.items()},
    **{
        f"time_rank_{key}": f"effective rank of {op} over time"
        for key, op in OPERATOR_LABELS.items()
    },
}
# The two multi-task measures: the sweep's metric and a line style each.
MULTITASK_MEASURES = {
    "hidden similarity": ("hidden_similarity", "-"),
    "operator alignment (cumulative)": ("cumulative_alignment", "--"),
}


def _architecture_index(sweep: CollapseSweep, architecture: str) -> int:
    if architecture not in sweep.architectures:
        raise ValueError(
            f"architecture must be one of {list(sweep.architectures)} (the "
            f"sweep's); got {architecture!r}"
        )
    return sweep.architectures.index(architecture)


def _colours(count: int) -> np.ndarray:
    import matplotlib

    return matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, count))


def log_y(axis: Axes) -> None:
    """A log y axis labelled with plain numbers (2, 5, 10) rather than powers.

    Call it after drawing: the labels depend on the range of the data.
    """
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    axis.set_yscale("log")
    low, high = axis.get_ylim()
    axis.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    if high < 10 * low:
        # Within a decade, label the minor ticks too.
        axis.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        axis.tick_params(axis="y", which="minor", labelsize="x-small")
        return
    if high < 1000 * low:
        # Across one or two decades, label 1, 2 and 5 of each.
        axis.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.yaxis.set_minor_formatter(NullFormatter())


def plot_by_g(
    sweep: CollapseSweep, axis: Axes, values: np.ndarray, x: np.ndarray | None = None
) -> None:
    """One line per g of ``values [G, N]``, coloured by g and labelled ``g = ...``.

    Args:
        sweep: Supplies the g values and, when ``x`` is None, the steps.
        axis: Where to draw.
        values: ``[G, N]``, e.g. ``sweep.mean("hidden_pr")[a]``.
        x: ``[N]`` positions; the snapshot steps by default.
    """
    x = sweep.steps if x is None else x
    for colour, scale, row in zip(
        _colours(len(sweep.init_scales)), sweep.init_scales, values, strict=True
    ):
        axis.plot(x, row, color=colour, linestyle="-", label=f"g = {scale:g}")


def plot_collapse_sweep(
    sweep: CollapseSweep,
    axis: Axes,
    metric: str = "hidden_pr",
    *,
    architecture: str = "gru",
    legend: bool = True,
) -> None:
    """A per-snapshot metric over training, seed mean, one line per g.

    Args:
        sweep: The collapse sweep (:func:`load_collapse_sweep`).
        axis: Where to draw.
        metric: One of :data:`~kpwidgets.experiments.course_data.COLLAPSE_METRICS`.
        architecture: Which of ``sweep.architectures``.
        legend: Add a legend of the g values.

    Raises:
        ValueError: For an unknown metric or architecture.
    """
    if metric not in COLLAPSE_METRICS:
        raise ValueError(
            f"metric must be one of {list(COLLAPSE_METRICS)}; got {metric!r}"
        )
    a = _architecture_index(sweep, architecture)
    plot_by_g(sweep, axis, sweep.mean(metric)[a])
    if metric.startswith(("rank_", "time_rank_")) or metric == "eval_loss":
        log_y(axis)
    axis.set_xlabel("training step")
    axis.set_ylabel(METRIC_LABELS[metric])
    axis.set_title(f"{architecture.upper()}: {METRIC_LABELS[metric]}")
    if legend:
        axis.legend(fontsize="small")


def plot_operator_ranks(
    sweep: CollapseSweep,
    axes: Sequence[Axes],
    *,
    architecture: str = "gru",
    over: str = "overall",
) -> None:
    """Effective ranks of K, P P* and P K P* over training, one line per g.

    Args:
        sweep: The collapse sweep.
        axes: Three axes, for K, P P* and P K P* in that order.
        architecture: Which of ``sweep.architectures``.
        over: ``"overall"`` (rank on the whole trajectory space) or
            ``"time"`` (rank of the operator's time-by-time partial trace).

    Raises:
        ValueError: For an unknown architecture or ``over``, or not three axes.
    """
    if over not in RANK_KINDS:
        raise ValueError(f"over must be one of {list(RANK_KINDS)}; got {over!r}")
    axes = list(np.ravel(axes))
    if len(axes) != 3:
        raise ValueError(f"axes must be three axes (K, P P*, P K P*); got {len(axes)}")
    a = _architecture_index(sweep, architecture)
    prefix = RANK_KINDS[over]
    for axis, (key, label) in zip(axes, OPERATOR_LABELS.items(), strict=True):
        plot_by_g(sweep, axis, sweep.mean(f"{prefix}_{key}")[a])
        log_y(axis)
        axis.set_title(f"{architecture.upper()}: rank of {label}")
        axis.set_xlabel("training step")
    axes[0].set_ylabel("effective rank, " + ("over time" if over == "time" else over))


def plot_training_loss(
    sweep: CollapseSweep, axis: Axes, *, architecture: str = "gru"
) -> None:
    """The training loss (running mean over 20 steps), seed mean, one line per g."""
    a = _architecture_index(sweep, architecture)
    loss = sweep.mean("train_loss")[a]  # [G, steps]
    kernel = np.ones(SMOOTHING) / SMOOTHING
    smooth = np.array([np.convolve(row, kernel, mode="valid") for row in loss])
    plot_by_g(sweep, axis, smooth, x=np.arange(smooth.shape[1]) + SMOOTHING)
    axis.set_yscale("log")
    axis.set_xlabel("training step")
    axis.set_ylabel(f"training loss ({SMOOTHING}-step mean)")


def plot_dimension_against_g(sweep: CollapseSweep, axis: Axes) -> None:
    """Hidden participation ratio at the start and the end of training, against g."""
    pr = sweep.metrics["hidden_pr"]  # [A, G, S, N]
    for a, architecture in enumerate(sweep.architectures):
        name = architecture.upper()
        for when, style, index in (("start", "o--", 0), ("end", "o-", -1)):
            axis.plot(
                sweep.init_scales,
                np.nanmean(pr[a, :, :, index], 1),
                style,
                color=f"C{a}",
                label=f"{name} {when}",
            )
    _against_g(sweep, axis, "hidden participation ratio", "hidden dimension vs g")


def plot_collapse_ratio_against_g(sweep: CollapseSweep, axis: Axes) -> None:
    """End over start hidden participation ratio against g (below 1: collapsed)."""
    pr = sweep.metrics["hidden_pr"]
    for a, architecture in enumerate(sweep.architectures):
        ratio = pr[a, :, :, -1] / pr[a, :, :, 0]
        axis.plot(
            sweep.init_scales,
            np.nanmean(ratio, 1),
            "o-",
            color=f"C{a}",
            label=architecture.upper(),
        )
    axis.axhline(1.0, color="grey", lw=0.8)
    _against_g(
        sweep,
        axis,
        "end / start participation ratio",
        "collapse: below 1 means the dimension fell",
    )


def plot_learning_speed_against_g(sweep: CollapseSweep, axis: Axes) -> None:
    """Steps until the training loss falls below the "learned" level, per seed."""
    learned = steps_to_learn(sweep.metrics["train_loss"])  # [A, G, S]
    for a, architecture in enumerate(sweep.architectures):
        for s in range(learned.shape[2]):
            axis.plot(
                sweep.init_scales,
                learned[a, :, s],
                "o",
                color=f"C{a}",
                alpha=0.5,
                label=architecture.upper() if s == 0 else None,
            )
    _against_g(
        sweep,
        axis,
        f"steps to learn (of {sweep.settings['steps']})",
        "learning speed (seeds that learned)",
    )


def _against_g(sweep: CollapseSweep, axis: Axes, ylabel: str, title: str) -> None:
    """Log g axis with a tick at each of the sweep's values, and the labels."""
    from matplotlib.ticker import NullLocator

    axis.set_xscale("log", base=2)
    axis.set_xticks(sweep.init_scales, [f"{g:g}" for g in sweep.init_scales])
    axis.xaxis.set_minor_locator(NullLocator())
    axis.set_xlabel("init scale g")
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.legend(fontsize="small")


def plot_multitask_grouping(
    sweep: MultitaskSweep, axis: Axes, partition: str = "pro/anti"
) -> None:
    """A grouping score over training, hidden and operator measures, mean ± sd.

    Args:
        sweep: The multi-task sweep (:func:`load_multitask_sweep`).
        axis: Where to draw.
        partition: ``"pro/anti"`` or ``"delay/memory"``
            (:data:`~kpwidgets.experiments.course_data.PARTITIONS`).

    Raises:
        ValueError: For an unknown partition.
    """
    for label, (metric, style) in MULTITASK_MEASURES.items():
        scores = grouping_score(sweep.metrics[metric], sweep.task_names, partition)
        mean, spread = scores.mean(0), scores.std(0)
        axis.plot(sweep.steps, mean, style, color="k", label=label)
        axis.fill_between(
            sweep.steps, mean - spread, mean + spread, color="grey", alpha=0.25
        )
    axis.axhline(0, color="grey", lw=0.8)
    axis.set_title(f"{partition} grouping (mean ± sd, {len(sweep.seeds)} GRUs)")
    axis.set_xlabel("training step")
    axis.set_ylabel("within-pair minus across-pair")
    axis.legend(fontsize="small")


def plot_prediction_of_final(sweep: MultitaskSweep, axis: Axes) -> Axes:
    """How well each measure already shows the final hidden similarity pattern.

    Draws the seed mean of
    :func:`~kpwidgets.experiments.analysis.prediction_of_final` for both
    measures, and the evaluation loss on a twin axis.

    Returns:
        The twin axis of the loss.
    """
    for label, (metric, style) in MULTITASK_MEASURES.items():
        axis.plot(
            sweep.steps,
            np.nanmean(prediction_of_final(sweep, metric), 0),
            style,
            color="k",
            label=label,
        )
    twin = axis.twinx()
    twin.semilogy(sweep.steps, sweep.metrics["eval_loss"].mean(0), color="C3")
    twin.set_ylabel("evaluation loss", color="C3")
    axis.set_title("correlation with the final hidden similarity")
    axis.set_xlabel("training step")
    axis.set_ylabel("correlation over the 6 task pairs")
    axis.legend(fontsize="small")
    return twin


def plot_task_matrix(
    matrix: np.ndarray, task_names: Sequence[str], axis: Axes, title: str = ""
) -> AxesImage:
    """A task-by-task matrix (symmetrised), coloured in [-1, 1] with its values.

    Args:
        matrix: ``[L, L]``, e.g. ``sweep.metrics["hidden_similarity"][:, -1].mean(0)``.
        task_names: The ``L`` task names.
        axis: Where to draw.
        title: The panel's title.

    Returns:
        The image, for a colour bar.

    Raises:
        ValueError: If ``matrix`` is not ``[L, L]`` for the ``L`` names.
    """
    matrix = np.asarray(matrix, dtype=float)
    L = len(task_names)
    if matrix.shape != (L, L):
        raise ValueError(
            f"matrix must have shape [L, L] = [{L}, {L}] for {L} task names; "
            f"got {list(matrix.shape)}"
        )
    matrix = (matrix + matrix.T) / 2
    image = axis.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    for (i, j), value in np.ndenumerate(matrix):
        colour = "white" if abs(value) > 0.6 else "black"
        axis.text(
            j, i, f"{value:.2f}", ha="center", va="center", fontsize=8, color=colour
        )
    short = [name.replace("_", "\n") for name in task_names]
    axis.set_xticks(range(L), short, fontsize=7)
    axis.set_yticks(range(L), short, fontsize=7)
    axis.grid(False)
    axis.set_title(title)
    return image


__all__ = [
    "plot_collapse_sweep",
    "plot_operator_ranks",
    "plot_training_loss",
    "plot_dimension_against_g",
    "plot_collapse_ratio_against_g",
    "plot_learning_speed_against_g",
    "plot_multitask_grouping",
    "plot_prediction_of_final",
    "plot_task_matrix",
    "plot_by_g",
    "log_y",
]
