"""Run specs and result files: JSON and npz round trips, and their errors."""

from __future__ import annotations

import numpy as np
import pytest

from kpwidgets.experiments import (
    RunResult,
    RunSpec,
    load_result,
    load_results,
    preset,
    result_path,
    save_result,
)

from .conftest import tiny_collapse


def test_spec_json_round_trip():
    spec = tiny_collapse()[0]

    assert RunSpec.from_json(spec.to_json()) == spec


def test_run_ids_name_the_grid_point():
    ids = [spec.run_id for spec in tiny_collapse()]

    assert ids == [
        "collapse-gru-g0p5-s0",
        "collapse-gru-g2-s0",
        "collapse-rnn-g0p5-s0",
        "collapse-rnn-g2-s0",
    ]


def test_course_presets_have_the_size_the_issue_asks_for():
    collapse = preset("collapse", "course")
    multitask = preset("multitask", "course")

    assert len({s.architecture for s in collapse}) == 2
    assert len({s.init_scale for s in collapse}) >= 6
    assert len({s.seed for s in collapse}) >= 3
    assert len(multitask) >= 10
    assert {s.task for s in multitask} == {"multitask"}


def test_result_file_round_trip(tmp_path):
    spec = tiny_collapse()[0]
    arrays = {
        "step": np.arange(3),
        "rank_K": np.array([3.0, 2.5, np.nan]),
        "eigenvalues_K": np.ones((3, 10)),
        "task_names": np.array(["a", "bb"]),
        "diverged": np.array(False),
    }

    path = save_result(result_path(tmp_path, spec), RunResult(spec, arrays))
    loaded = load_result(path)

    assert path.name == f"{spec.run_id}.npz"
    assert loaded.spec == spec
    assert loaded.arrays.keys() == arrays.keys()
    for key, value in arrays.items():
        np.testing.assert_array_equal(loaded[key], value)
        assert loaded[key].dtype == value.dtype
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"experiment": "sweep"}, "experiment must be one of"),
        ({"steps": 0}, "steps must be"),
        ({"lr": 0.0}, "lr must be"),
        ({"experiment": "multitask"}, "must train on task 'multitask'"),
    ],
)
def test_bad_specs_are_refused(settings, match):
    arguments = {"experiment": "collapse", "architecture": "gru", "init_scale": 1.0}
    arguments["seed"] = 0

    with pytest.raises(ValueError, match=match):
        RunSpec(**{**arguments, **settings})


def test_reserved_array_name_is_refused(tmp_path):
    spec = tiny_collapse()[0]

    with pytest.raises(ValueError, match="must not include '__meta__'"):
        save_result(tmp_path / "x.npz", RunResult(spec, {"__meta__": np.zeros(1)}))


def test_unreadable_and_foreign_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, __meta__=np.array('{"format": "other"}'))

    with pytest.raises(ValueError, match="is not a readable run result"):
        load_result(garbage)
    with pytest.raises(ValueError, match="is not a kpwidgets.experiments.run file"):
        load_result(foreign)


def test_load_results_needs_a_directory_with_results(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_results(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"no collapse run results \(\*.npz\)"):
        load_results(tmp_path, "collapse")
