"""Fixtures for the widget tests: quick panels and a fast stand-in for spectra.

Most tests exercise threads, painting and status, not the eigen-solvers, so
they replace :func:`kpwidgets.analysis.kpflow_summary` by
``fake_kpflow_summary``: deterministic numbers that follow the weights, in
microseconds. ``test_real_analysis_end_to_end`` uses the real one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch

from kpwidgets import analysis
from kpwidgets.widgets import TrainingLab

# Small enough that a run of QUICK steps takes a fraction of a second.
QUICK = {"width": 16, "steps": 30}


@dataclass
class FakeSummary:
    """The fields of kpwidgets.analysis.KPFlowSummary the panels read."""

    eigenvalues: dict[str, torch.Tensor]
    cumulative_fraction: dict[str, torch.Tensor]
    effective_rank: dict[str, float]
    misdirection: float
    warm_start: Any


def fake_kpflow_summary(model, inputs, *, h0=None, top_k=10, generator=None,
                        warm_start=None) -> FakeSummary:  # fmt: skip
    """Geometric spectra scaled by the recurrent weights' size (so they move)."""
    scale = float(model.recurrent_weight.detach().norm()) + 1.0
    decay = 0.5 ** torch.arange(top_k, dtype=torch.float64)
    eigenvalues = {
        name: factor * scale * decay
        for name, factor in (("K", 1.0), ("PP*", 3.0), ("PKP*", 10.0))
    }
    fractions = {name: values.cumsum(0) / (1.25 * values.sum())
                 for name, values in eigenvalues.items()}  # fmt: skip
    ranks = {name: float(values.sum() ** 2 / values.square().sum())
             for name, values in eigenvalues.items()}  # fmt: skip
    return FakeSummary(eigenvalues, fractions, ranks, 0.25, warm_start)


@pytest.fixture
def fake_spectra(monkeypatch) -> Callable[..., FakeSummary]:
    """Replace kpflow_summary by ``fake_kpflow_summary`` for one test."""
    monkeypatch.setattr(analysis, "kpflow_summary", fake_kpflow_summary, raising=False)
    return fake_kpflow_summary


@pytest.fixture(autouse=True)
def no_run_cache(monkeypatch):
    """Train for real unless a test turns the run cache back on."""
    monkeypatch.setenv("KPWIDGETS_CACHE", "0")


@pytest.fixture
def make_lab() -> Callable[..., TrainingLab]:
    """Build quick labs (ipympl figures); their runs are stopped afterwards."""
    labs: list[TrainingLab] = []

    def make(cls: type[TrainingLab] = TrainingLab, **kwargs: Any) -> TrainingLab:
        lab = cls(**{**QUICK, "figures": "ipympl", **kwargs})
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.stop()
        lab.wait(timeout=30)


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """Poll ``condition()`` until true; fail with ``message`` after ``timeout``."""

    def wait(condition: Callable[[], bool], timeout: float = 30.0, message=""):
        deadline = time.perf_counter() + timeout
        while not condition():
            if time.perf_counter() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting: {message}")
            time.sleep(0.005)

    return wait
