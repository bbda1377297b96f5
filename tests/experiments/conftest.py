"""Tiny sweeps: a few seconds in all, shared by the experiment tests."""

from __future__ import annotations

import pytest

from kpwidgets.experiments import RunSpec, collapse_grid, multitask_grid, run_sweep

PHASES = {"stimulus_steps": 2, "memory_steps": 1, "response_steps": 2}
TINY = {"hidden_size": 4, "steps": 4, "snapshot_every": 2, "analysis_trials": 2}


def tiny_collapse(**settings) -> list[RunSpec]:
    """Four very short runs: GRU and RNN x two values of g."""
    options = {"task_options": PHASES, "time_ranks": False, **TINY, **settings}
    return collapse_grid(("gru", "rnn"), (0.5, 2.0), (0,), **options)


def tiny_multitask(**settings) -> list[RunSpec]:
    """Two very short multi-task runs."""
    options = {"task_options": {"context_steps": 1, **PHASES}, **TINY, **settings}
    return multitask_grid((0, 1), **options)


@pytest.fixture(scope="session")
def tiny_sweeps(tmp_path_factory):
    """Directories holding a finished tiny collapse and multi-task sweep."""
    root = tmp_path_factory.mktemp("sweeps")
    run_sweep(tiny_collapse(time_ranks=True), root / "collapse")
    run_sweep(tiny_multitask(), root / "multitask")
    return root
