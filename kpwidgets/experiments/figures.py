"""Figures of the findings report, composed of the panels of :mod:`.plots`."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kpwidgets.experiments import plots
from kpwidgets.experiments.course_data import PARTITIONS, CollapseSweep, MultitaskSweep


def _legend_outside(figure: Figure, axis) -> None:
    """One legend of the g values, right of the panels."""
    handles, labels = axis.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right upper", fontsize="small")


def rank_figure(sweep: CollapseSweep, prefix: str = "rank") -> Figure:
    """Effective rank of K, P P*, P K P* over training; rows architectures."""
    over = "time" if prefix == "time_rank" else "overall"
    rows = len(sweep.architectures)
    figure = Figure(figsize=(12, 3.1 * rows), layout="constrained")
    axes = figure.subplots(rows, 3, squeeze=False)
    for row, architecture in zip(axes, sweep.architectures, strict=True):
        plots.plot_operator_ranks(sweep, row, architecture=architecture, over=over)
    _legend_outside(figure, axes[0, 0])
    return figure


def dimension_figure(sweep: CollapseSweep) -> Figure:
    """Hidden participation ratio, training loss and misdirection over training."""
    rows = len(sweep.architectures)
    figure = Figure(figsize=(12, 3.1 * rows), layout="constrained")
    axes = figure.subplots(rows, 3, squeeze=False)
    for row, architecture in zip(axes, sweep.architectures, strict=True):
        options = {"architecture": architecture, "legend": False}
        plots.plot_collapse_sweep(sweep, row[0], "hidden_pr", **options)
        plots.plot_training_loss(sweep, row[1], architecture=architecture)
        plots.plot_collapse_sweep(sweep, row[2], "misdirection", **options)
        for axis, title in zip(
            row, ("hidden dimension", "learning", "misdirection"), strict=True
        ):
            axis.set_title(f"{architecture.upper()}: {title}")
    _legend_outside(figure, axes[0, 0])
    return figure


def scale_figure(sweep: CollapseSweep) -> Figure:
    """Against g: hidden dimension at start and end, its ratio, steps to learn."""
    figure = Figure(figsize=(11, 3.2), layout="constrained")
    axes = figure.subplots(1, 3)
    plots.plot_dimension_against_g(sweep, axes[0])
    plots.plot_collapse_ratio_against_g(sweep, axes[1])
    plots.plot_learning_speed_against_g(sweep, axes[2])
    return figure


def multitask_figure(sweep: MultitaskSweep) -> Figure:
    """Grouping scores over training, prediction of the final grouping, matrices."""
    figure = Figure(figsize=(13, 6.4), layout="constrained")
    axes = figure.subplots(2, 3)
    for axis, partition in zip(axes[0], PARTITIONS, strict=False):
        plots.plot_multitask_grouping(sweep, axis, partition)
    plots.plot_prediction_of_final(sweep, axes[0, 2])
    metrics = sweep.metrics
    panels = (
        ("hidden similarity, end", metrics["hidden_similarity"][:, -1]),
        (
            "operator alignment, cumulative, end",
            metrics["cumulative_alignment"][:, -1],
        ),
        ("operator alignment, step 0", metrics["interference_alignment"][:, 0]),
    )
    for axis, (title, matrices) in zip(axes[1], panels, strict=True):
        image = plots.plot_task_matrix(
            np.mean(matrices, 0), sweep.task_names, axis, title
        )
    figure.colorbar(image, ax=axes[1, -1], shrink=0.8)
    return figure
