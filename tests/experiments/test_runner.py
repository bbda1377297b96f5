"""The sweep runner: local runs, resuming after an interruption, its errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from kpwidgets.experiments import load_results, pending_specs, run_sweep
from kpwidgets.experiments.measure import OPERATOR_KEYS

from .conftest import tiny_collapse


class Interrupt(Exception):
    """Stands for Ctrl-C or a lost job in the middle of a sweep."""


def test_collapse_results_hold_every_measurement(tiny_sweeps):
    results = load_results(tiny_sweeps / "collapse")

    assert len(results) == 4
    for result in results:
        steps = result["step"]
        np.testing.assert_array_equal(steps, [0, 2, 4])
        for key in OPERATOR_KEYS.values():
            assert result[f"rank_{key}"].shape == steps.shape
            assert np.isfinite(result[f"time_rank_{key}"]).all()
            assert (result[f"rank_{key}"] >= 1.0 - 1e-6).all()
        assert np.isfinite(result["hidden_pr"]).all()
        assert (np.abs(result["misdirection"]) <= 1.0 + 1e-9).all()
        assert result["train_loss"].shape == (4,)


def test_multitask_results_hold_task_matrices(tiny_sweeps):
    results = load_results(tiny_sweeps / "multitask")

    assert [r.spec.seed for r in results] == [0, 1]
    for result in results:
        assert list(result["task_names"]) == [
            "memory_pro",
            "memory_anti",
            "delay_pro",
            "delay_anti",
        ]
        for key in ("hidden_similarity", "interference_alignment"):
            matrices = result[key]
            assert matrices.shape == (3, 4, 4)
            np.testing.assert_allclose(np.diagonal(matrices, 0, 1, 2), 1.0)
        assert (result["interference_norm"] >= 0).all()


def test_an_interrupted_sweep_resumes_where_it_stopped(tmp_path):
    specs = tiny_collapse()
    seen = []

    def stop_after_two(done, total, run_id):
        seen.append(run_id)
        if done == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_sweep(specs, tmp_path, progress=stop_after_two)
    first = {path.name: path.stat().st_mtime_ns for path in tmp_path.glob("*.npz")}
    outcome = run_sweep(specs, tmp_path)

    assert sorted(first) == sorted(f"{s.run_id}.npz" for s in specs[:2])
    assert outcome.skipped == tuple(s.run_id for s in specs[:2])
    assert outcome.completed == tuple(s.run_id for s in specs[2:])
    for name, stamp in first.items():
        assert (tmp_path / name).stat().st_mtime_ns == stamp
    assert run_sweep(specs, tmp_path).completed == ()


def test_a_damaged_result_is_run_again(tmp_path, caplog):
    specs = tiny_collapse()[:1]
    (tmp_path / f"{specs[0].run_id}.npz").write_bytes(b"half a file")

    with caplog.at_level(logging.WARNING, logger="kpwidgets.experiments.runner"):
        outcome = run_sweep(specs, tmp_path)

    assert outcome.completed == (specs[0].run_id,)
    assert "running collapse-gru-g0p5-s0 again" in caplog.text


def test_another_sweep_in_the_same_directory_is_refused(tmp_path):
    run_sweep(tiny_collapse()[:1], tmp_path)

    with pytest.raises(ValueError, match="with other settings"):
        pending_specs(tiny_collapse(steps=6)[:1], tmp_path)


def test_repeated_run_ids_are_refused(tmp_path):
    spec = tiny_collapse()[0]

    with pytest.raises(ValueError, match="distinct run ids"):
        run_sweep([spec, spec], tmp_path)


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"workers": 0}, ValueError, "workers must be"),
        ({"threads": 0}, ValueError, "threads must be"),
        ({"scheduler": 8786}, ValueError, "scheduler must be an address"),
    ],
)
def test_bad_runner_arguments(tmp_path, arguments, error, match):
    pytest.importorskip("distributed")

    with pytest.raises(error, match=match):
        run_sweep(tiny_collapse()[:1], tmp_path, **arguments)


@pytest.mark.slow
def test_local_worker_processes_match_the_sequential_run(tmp_path, tiny_sweeps):
    specs = tiny_collapse(time_ranks=True)[:2]

    run_sweep(specs, tmp_path, workers=2)

    for spec in specs:
        pooled = load_results(tmp_path)[specs.index(spec)]
        alone = [r for r in load_results(tiny_sweeps / "collapse") if r.spec == spec]
        np.testing.assert_allclose(pooled["rank_K"], alone[0]["rank_K"])
        np.testing.assert_array_equal(pooled["train_loss"], alone[0]["train_loss"])
