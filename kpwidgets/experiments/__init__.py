"""Sweeps that reproduce the KPFlow paper's findings, and their results.

Run a sweep from the shell::

    python -m kpwidgets.experiments sweep collapse --out sweeps/collapse
    python -m kpwidgets.experiments report

or from Python with :func:`run_sweep` and the grids of
:mod:`kpwidgets.experiments.specs`. The course's small precomputed results
load with :func:`load_collapse_sweep` and :func:`load_multitask_sweep`, and
the ``plot_*`` functions of :mod:`kpwidgets.experiments.plots` draw them.
"""

from kpwidgets.experiments.course_data import (
    CollapseSweep,
    MultitaskSweep,
    grouping_score,
    load_collapse_sweep,
    load_multitask_sweep,
    package_sweeps,
    regenerate_course_data,
)
from kpwidgets.experiments.plots import (
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
from kpwidgets.experiments.report import build_report
from kpwidgets.experiments.results import (
    RunResult,
    load_result,
    load_results,
    result_path,
    save_result,
)
from kpwidgets.experiments.runner import SweepOutcome, pending_specs, run_sweep
from kpwidgets.experiments.specs import (
    EXPERIMENTS,
    PRESETS,
    RunSpec,
    collapse_grid,
    multitask_grid,
    preset,
)

__all__ = [
    # The course's precomputed results
    "load_collapse_sweep",
    "load_multitask_sweep",
    "CollapseSweep",
    "MultitaskSweep",
    "grouping_score",
    "regenerate_course_data",
    "package_sweeps",
    "build_report",
    # Plotting them
    "plot_collapse_sweep",
    "plot_operator_ranks",
    "plot_training_loss",
    "plot_dimension_against_g",
    "plot_collapse_ratio_against_g",
    "plot_learning_speed_against_g",
    "plot_multitask_grouping",
    "plot_prediction_of_final",
    "plot_task_matrix",
    # What to run
    "RunSpec",
    "collapse_grid",
    "multitask_grid",
    "preset",
    "EXPERIMENTS",
    "PRESETS",
    # Running
    "run_sweep",
    "pending_specs",
    "SweepOutcome",
    # Result files
    "RunResult",
    "save_result",
    "load_result",
    "load_results",
    "result_path",
]
