"""The sweep plots: what each panel draws, its labels, and its errors."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from kpwidgets.experiments import (
    load_collapse_sweep,
    load_multitask_sweep,
    plot_collapse_ratio_against_g,
    plot_collapse_sweep,
    plot_dimension_against_g,
    plot_learning_speed_against_g,
    plot_multitask_grouping,
    plot_operator_ranks,
    plot_prediction_of_final,
    plot_task_matrix,
    plot_training_loss,
)


@pytest.fixture(scope="module")
def collapse(tiny_sweeps):
    return load_collapse_sweep(tiny_sweeps / "collapse")


@pytest.fixture(scope="module")
def multitask(tiny_sweeps):
    return load_multitask_sweep(tiny_sweeps / "multitask")


def axes(count: int = 1):
    figure = Figure()
    return figure.subplots(1, count, squeeze=False)[0]


def test_operator_ranks_draw_one_line_per_g_on_three_log_axes(collapse):
    row = axes(3)
    plot_operator_ranks(collapse, row, architecture="rnn", over="time")

    G = len(collapse.init_scales)
    titles = [axis.get_title() for axis in row]
    assert titles == ["RNN: rank of K", "RNN: rank of P P*", "RNN: rank of P K P*"]
    expected = collapse.mean("time_rank_PKP")[1]
    for line, values in zip(row[2].get_lines(), expected, strict=True):
        np.testing.assert_allclose(line.get_xdata(), collapse.steps)
        np.testing.assert_allclose(line.get_ydata(), values)
    for axis in row:
        assert len(axis.get_lines()) == G
        assert axis.get_yscale() == "log"
        assert axis.get_xlabel() == "training step"
    assert row[0].get_ylabel() == "effective rank, over time"
    assert [line.get_label() for line in row[0].get_lines()] == ["g = 0.5", "g = 2"]


def test_collapse_sweep_plots_any_metric_with_labels_and_legend(collapse):
    (axis,) = axes()
    plot_collapse_sweep(collapse, axis, "hidden_pr", architecture="gru")
    assert axis.get_ylabel() == "hidden participation ratio"
    assert axis.get_legend() is not None
    np.testing.assert_allclose(
        axis.get_lines()[0].get_ydata(), collapse.mean("hidden_pr")[0, 0]
    )


def test_panels_against_g_and_loss(collapse):
    row = axes(4)
    plot_dimension_against_g(collapse, row[0])
    plot_collapse_ratio_against_g(collapse, row[1])
    plot_learning_speed_against_g(collapse, row[2])
    plot_training_loss(collapse, row[3], architecture="gru")
    A = len(collapse.architectures)
    assert len(row[0].get_lines()) == 2 * A  # start and end
    for axis in row[:3]:
        assert axis.get_xlabel() == "init scale g"
        assert axis.get_legend() is not None
    assert "steps to learn" in row[2].get_ylabel()
    assert len(row[3].get_lines()) == len(collapse.init_scales)


def test_multitask_panels(multitask):
    row = axes(3)
    plot_multitask_grouping(multitask, row[0], "delay/memory")
    twin = plot_prediction_of_final(multitask, row[1])
    matrix = multitask.metrics["hidden_similarity"][:, -1].mean(0)
    image = plot_task_matrix(matrix, multitask.task_names, row[2], "end")

    hidden_line = row[0].get_lines()[0]
    scores = multitask.grouping("hidden_similarity", "delay/memory").mean(0)
    np.testing.assert_allclose(hidden_line.get_ydata(), scores)
    assert row[0].get_title().startswith("delay/memory grouping")
    assert twin.get_ylabel() == "evaluation loss"
    assert row[1].get_ylabel() and row[1].get_legend() is not None
    np.testing.assert_allclose(image.get_array(), (matrix + matrix.T) / 2)
    assert len(row[2].texts) == 16


def test_plot_errors(collapse, multitask):
    row = axes(3)
    with pytest.raises(ValueError, match=r"architecture must be one of \['gru'"):
        plot_operator_ranks(collapse, row, architecture="lstm")
    with pytest.raises(ValueError, match="over must be one of"):
        plot_operator_ranks(collapse, row, over="trials")
    with pytest.raises(ValueError, match="three axes.*got 2"):
        plot_operator_ranks(collapse, row[:2])
    with pytest.raises(ValueError, match="metric must be one of"):
        plot_collapse_sweep(collapse, row[0], "train_loss")
    with pytest.raises(ValueError, match="partition must be one of"):
        plot_multitask_grouping(multitask, row[0], "pro/delay")
    with pytest.raises(ValueError, match=r"\[L, L\] = \[4, 4\].*got \[3, 3\]"):
        plot_task_matrix(np.eye(3), multitask.task_names, row[0])


def test_the_shipped_sweeps_plot(tmp_path):
    collapse, multitask = load_collapse_sweep(), load_multitask_sweep()
    figure = Figure(figsize=(9, 6), layout="constrained")
    grid = figure.subplots(2, 3)
    plot_operator_ranks(collapse, grid[0], architecture="gru")
    plot_multitask_grouping(multitask, grid[1, 0])
    plot_dimension_against_g(collapse, grid[1, 1])
    plot_learning_speed_against_g(collapse, grid[1, 2])
    figure.savefig(tmp_path / "sweeps.png")
    assert (tmp_path / "sweeps.png").stat().st_size > 20_000
