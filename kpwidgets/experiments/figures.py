"""Figures of the findings report, drawn from condensed sweeps (matplotlib)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kpwidgets.experiments.analysis import prediction_of_final
from kpwidgets.experiments.course_data import (
    PARTITIONS,
    CollapseSweep,
    MultitaskSweep,
    grouping_score,
)

OPERATOR_LABELS = {"K": "K", "PP": "P P*", "PKP": "P K P*"}


def _colours(count: int):
    import matplotlib

    return matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, count))


def _log_y(axis) -> None:
    """A log y axis labelled with plain numbers (2, 5, 10) rather than powers."""
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    low, high = axis.get_ylim()
    # Minor labels help within a decade and crowd the axis across several.
    minor = FormatStrFormatter("%g") if high < 10 * low else NullFormatter()
    axis.yaxis.set_minor_formatter(minor)
    axis.tick_params(axis="y", which="minor", labelsize="x-small")


def _legend_outside(figure: Figure, axis) -> None:
    """One legend of the g values, right of the panels."""
    handles, labels = axis.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right upper", fontsize="small")


def _by_g(axis, sweep: CollapseSweep, values: np.ndarray, x=None) -> None:
    """One line per g of ``values [G, N]`` (seed means), coloured by g."""
    x = sweep.steps if x is None else x
    for colour, scale, row in zip(
        _colours(len(sweep.init_scales)), sweep.init_scales, values, strict=True
    ):
        axis.plot(x, row, color=colour, label=f"g = {scale:g}")


def rank_figure(sweep: CollapseSweep, prefix: str = "rank") -> Figure:
    """Effective rank of K, P P*, P K P* over training; rows architectures."""
    rows = len(sweep.architectures)
    figure = Figure(figsize=(12, 3.1 * rows), layout="constrained")
    axes = figure.subplots(rows, 3, squeeze=False)
    what = "over time" if prefix == "time_rank" else "overall"
    for a, architecture in enumerate(sweep.architectures):
        for column, (key, label) in enumerate(OPERATOR_LABELS.items()):
            axis = axes[a, column]
            _by_g(axis, sweep, sweep.mean(f"{prefix}_{key}")[a])
            _log_y(axis)
            axis.set_title(f"{architecture.upper()}: rank of {label}")
            axis.set_xlabel("training step")
        axes[a, 0].set_ylabel(f"effective rank, {what}")
    _legend_outside(figure, axes[0, 0])
    return figure


def dimension_figure(sweep: CollapseSweep) -> Figure:
    """Hidden participation ratio, training loss and misdirection over training."""
    rows = len(sweep.architectures)
    figure = Figure(figsize=(12, 3.1 * rows), layout="constrained")
    axes = figure.subplots(rows, 3, squeeze=False)
    loss = sweep.mean("train_loss")  # [A, G, steps]
    kernel = np.ones(20) / 20
    for a, architecture in enumerate(sweep.architectures):
        _by_g(axes[a, 0], sweep, sweep.mean("hidden_pr")[a])
        axes[a, 0].set_ylabel("hidden participation ratio")
        smooth = np.array([np.convolve(row, kernel, mode="valid") for row in loss[a]])
        _by_g(axes[a, 1], sweep, smooth, x=np.arange(smooth.shape[1]) + 20)
        axes[a, 1].set_yscale("log")
        axes[a, 1].set_ylabel("training loss (20-step mean)")
        _by_g(axes[a, 2], sweep, sweep.mean("misdirection")[a])
        axes[a, 2].set_ylabel("cos(P K P*, P P*)")
        for axis, title in zip(
            axes[a], ("hidden dimension", "learning", "misdirection"), strict=True
        ):
            axis.set_title(f"{architecture.upper()}: {title}")
            axis.set_xlabel("training step")
    _legend_outside(figure, axes[0, 0])
    return figure


def scale_figure(sweep: CollapseSweep, steps_to_learn: np.ndarray) -> Figure:
    """Against g: hidden dimension at start and end, and steps to learn.

    Args:
        sweep: The collapse sweep.
        steps_to_learn: ``[A, G, S]`` (NaN for runs that did not learn).
    """
    figure = Figure(figsize=(11, 3.2), layout="constrained")
    axes = figure.subplots(1, 3)
    pr = sweep.metrics["hidden_pr"]
    scales = sweep.init_scales
    for a, architecture in enumerate(sweep.architectures):
        colour = f"C{a}"
        axes[0].plot(
            scales,
            np.nanmean(pr[a, :, :, 0], 1),
            "o--",
            color=colour,
            label=f"{architecture.upper()} start",
        )
        axes[0].plot(
            scales,
            np.nanmean(pr[a, :, :, -1], 1),
            "o-",
            color=colour,
            label=f"{architecture.upper()} end",
        )
        ratio = pr[a, :, :, -1] / pr[a, :, :, 0]
        axes[1].plot(
            scales, np.nanmean(ratio, 1), "o-", color=colour, label=architecture.upper()
        )
        for s in range(steps_to_learn.shape[2]):
            axes[2].plot(
                scales,
                steps_to_learn[a, :, s],
                "o",
                color=colour,
                alpha=0.5,
                label=architecture.upper() if s == 0 else None,
            )
    axes[0].set_ylabel("hidden participation ratio")
    axes[1].axhline(1.0, color="grey", lw=0.8)
    axes[1].set_ylabel("end / start participation ratio")
    axes[2].set_ylabel(f"steps to learn (of {sweep.settings['steps']})")
    for axis in axes:
        axis.set_xscale("log", base=2)
        axis.set_xlabel("init scale g")
        axis.legend(fontsize="small")
    axes[0].set_title("hidden dimension vs g")
    axes[1].set_title("collapse: below 1 means the dimension fell")
    axes[2].set_title("learning speed (seeds that learned)")
    return figure


def multitask_figure(sweep: MultitaskSweep) -> Figure:
    """Grouping scores over training, prediction of the final grouping, matrices."""
    figure = Figure(figsize=(13, 6.4), layout="constrained")
    axes = figure.subplots(2, 3)
    measures = {
        "hidden similarity": ("hidden_similarity", "-"),
        "operator alignment (cumulative)": ("cumulative_alignment", "--"),
    }
    for column, partition in enumerate(PARTITIONS):
        axis = axes[0, column]
        for label, (metric, style) in measures.items():
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
    axis = axes[0, 2]
    for label, (metric, style) in measures.items():
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
    axis.legend(fontsize="small")
    short = [name.replace("_", "\n") for name in sweep.task_names]
    panels = (
        ("hidden similarity, end", sweep.metrics["hidden_similarity"][:, -1]),
        (
            "operator alignment, cumulative, end",
            sweep.metrics["cumulative_alignment"][:, -1],
        ),
        ("operator alignment, step 0", sweep.metrics["interference_alignment"][:, 0]),
    )
    for axis, (title, matrices) in zip(axes[1], panels, strict=True):
        matrix = matrices.mean(0)
        matrix = (matrix + matrix.T) / 2
        image = axis.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
        for (i, j), value in np.ndenumerate(matrix):
            colour = "white" if abs(value) > 0.6 else "black"
            axis.text(
                j, i, f"{value:.2f}", ha="center", va="center", fontsize=8, color=colour
            )
        axis.set_xticks(range(len(short)), short, fontsize=7)
        axis.set_yticks(range(len(short)), short, fontsize=7)
        axis.set_title(title)
    figure.colorbar(image, ax=axes[1, -1], shrink=0.8)
    return figure
