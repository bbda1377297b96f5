"""TrainingLab without a browser: controls, runs, plotted data, status, errors."""

from __future__ import annotations

import re
import time

import ipywidgets as widgets
import numpy as np
import pytest

from kpwidgets import analysis
from kpwidgets.widgets import (
    CollapsePanel,
    LabSettings,
    SpectrumPanel,
    TrainingLab,
    TrajectoryPanel,
    _jobs,
    _views,
)

DESCRIPTIONS = {
    "architecture": "Architecture",
    "width": "Width",
    "task": "Task",
    "init_scale": "Init scale g",
    "learning_rate": "Learning rate",
    "steps": "Steps",
    "seed": "Seed",
}
FINISHED = re.compile(r"finished: (\d+) steps in \d+\.\d s")


def all_widgets(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from all_widgets(child)


def test_panel_shows_every_control_and_trains_nothing(make_lab):
    lab = make_lab()
    shown = list(all_widgets(lab.widget))
    for name, description in DESCRIPTIONS.items():
        control = getattr(lab.controls, name)
        assert control.description == description
        assert control in shown
    for control in (lab.controls.width, lab.controls.init_scale, lab.controls.steps):
        assert control.continuous_update is False
    buttons = [w.description for w in shown if isinstance(w, widgets.Button)]
    assert buttons == ["Train", "Stop"]
    assert lab.status.progress in shown and lab.readout in shown
    assert all(view.host.widget in shown for view in lab.plots.values())
    assert lab.state == "ready" and lab.run is None
    assert (
        lab.status.text
        == "ready: press Train to train gru-16 on memory_pro for 30 steps"
    )
    bundle = lab._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == (
        lab.widget.model_id
    )


def test_train_button_trains_and_plots_the_run(make_lab, fake_spectra):
    lab = make_lab()
    lab.controls.train_button.click()
    run = lab.wait()

    assert lab.state == "finished" and run.status == "finished"
    assert FINISHED.fullmatch(lab.status.text).group(1) == "30"
    assert (lab.status.progress.value, lab.status.progress.max) == (30, 30)
    assert lab.status.progress.bar_style == "success"
    steps, losses = lab.plots["loss"].train_line.get_data()
    np.testing.assert_array_equal(steps, np.arange(1, 31))
    np.testing.assert_allclose(losses, run.losses)

    # Every snapshot is analysed; step 0 and the end always get spectra.
    assert sorted(lab.analyses) == [snapshot.step for snapshot in run.snapshots]
    final = lab.analyses[30]
    assert lab.analyses[0].spectra is not None and final.spectra is not None
    trajectories = lab.plots["trajectories"]
    assert len(trajectories.lines) == run.evaluation.inputs.shape[0]
    x, y, z = trajectories.lines[5].get_data_3d()
    np.testing.assert_allclose(np.stack([x, y, z], 1), final.projection[5])
    expected = fake_spectra(run.build_model(), run.evaluation.inputs)
    modes, values = lab.plots["spectra"].value_lines["PKP*"].get_data()
    np.testing.assert_array_equal(modes, np.arange(1, 11))
    np.testing.assert_allclose(values, expected.eigenvalues["PKP*"].numpy())
    collapse_steps, ratios = lab.plots["collapse"].hidden_line.get_data()
    curve = analysis.collapse_curve(run)
    np.testing.assert_array_equal(collapse_steps, curve["step"])
    np.testing.assert_allclose(ratios, curve["participation_ratio"], rtol=1e-5)
    assert "hidden participation ratio" in lab.readout.value
    assert f"{final.participation_ratio:.2f}" in lab.readout.value
    assert lab.status.error_text == ""


@pytest.mark.parametrize(("share", "live"), [(0.0, False), (1.0, True)])
def test_spectra_share_decides_live_spectra(make_lab, fake_spectra, share, live):
    lab = make_lab(steps=90, spectra_share=share)
    lab.train()
    lab.wait()
    with_spectra = [s for s, result in lab.analyses.items() if result.spectra]
    assert {0, 90} <= set(with_spectra)
    assert (len(with_spectra) > 2) == live


def test_stop_halts_quickly_and_nothing_advances_after(
    make_lab, fake_spectra, wait_until
):
    lab = make_lab(steps=3000)
    lab.train()
    wait_until(lambda: lab.status.progress.value >= 5, message="training to start")
    lab.controls.stop_button.click()
    stopped = time.perf_counter()
    lab.wait(timeout=5)
    assert time.perf_counter() - stopped < 0.5
    run = lab.run
    assert lab.state == "stopped" and run.status == "stopped"
    assert lab.status.text == f"stopped at step {run.steps_completed}"
    assert run.steps_completed < 3000

    def picture():
        steps, _ = lab.plots["loss"].train_line.get_data()
        return (
            lab.status.text,
            lab.status.progress.value,
            len(steps),
            lab.readout.value,
            sorted(lab.analyses),
            {name: view.host.redraws for name, view in lab.plots.items()},
        )

    before = picture()
    assert before[2] == run.steps_completed
    time.sleep(0.6)
    assert picture() == before


def test_stop_during_the_final_analysis_ends_at_once(
    make_lab, fake_spectra, monkeypatch, wait_until
):
    def slow(model, inputs, **kwargs):
        time.sleep(1.5)
        return fake_spectra(model, inputs, **kwargs)

    monkeypatch.setattr(analysis, "kpflow_summary", slow)
    lab = make_lab()
    lab.train()
    wait_until(lambda: lab.state == "analysing", message="the final analysis")
    stopped = time.perf_counter()
    lab.stop()
    lab.wait(timeout=5)
    assert time.perf_counter() - stopped < 0.5
    assert FINISHED.fullmatch(lab.status.text)


def test_changing_a_setting_supersedes_the_run(
    make_lab, fake_spectra, monkeypatch, wait_until
):
    painted = []
    for name in ("paint_progress", "paint_analysis", "paint_end"):
        original = getattr(_views, name)

        def record(lab, job, *args, _original=original):
            painted.append(job.settings.width)
            _original(lab, job, *args)

        monkeypatch.setattr(_views, name, record)
    lab = make_lab(steps=3000)
    lab.train()
    wait_until(lambda: lab.status.progress.value >= 3, message="first run")
    first = lab._job
    with lab._gate:
        lab.controls.width.value = 24
        switched = len(painted)
    assert lab._job is not first and first.stop_event.is_set()
    lab.configure(steps=30)
    run = lab.wait()
    assert first.done and first.run.status == "stopped"
    assert run.config["model"]["hidden_size"] == 24 and run.steps_completed == 30
    assert set(painted[switched:]) == {24}
    assert FINISHED.fullmatch(lab.status.text)


def test_divergence_says_so_and_keeps_the_last_good_state(make_lab, fake_spectra):
    lab = make_lab(learning_rate=10.0)
    lab.train()
    run = lab.wait()
    assert lab.state == "diverged"
    assert re.fullmatch(
        r"diverged at step \d+ \(.+\): lower the learning rate", lab.status.text
    )
    assert lab.status.progress.bar_style == "danger"
    assert "diverged" in lab.plots["loss"].axes.get_title()
    assert sorted(lab.analyses)[-1] == run.snapshots[-1].step


def test_a_failing_analysis_is_shown_in_the_panel(make_lab, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the eigen-solver broke")

    monkeypatch.setattr(analysis, "kpflow_summary", broken, raising=False)
    lab = make_lab()
    lab.train()
    run = lab.wait()
    assert run.status == "finished"
    assert lab.status.text.endswith("; the analysis failed (details below)")
    assert "RuntimeError: the eigen-solver broke" in lab.status.error_text
    assert "Error in analysis" in lab.status.error_text


def test_a_failing_training_is_shown_in_the_panel(make_lab, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory, say")

    monkeypatch.setattr(_jobs, "train", broken)
    lab = make_lab()
    lab.train()
    lab.wait()
    assert lab.state == "error"
    assert lab.status.text == (
        "error in training: RuntimeError: out of memory, say (details below)"
    )
    assert "Traceback" in lab.status.error_text


def test_a_failing_button_handler_is_shown_in_the_panel(make_lab):
    lab = make_lab()

    def broken():
        raise ValueError("no such thing")

    lab.train = broken
    lab.controls.train_button.click()
    assert (
        lab.status.text == "error in Train: ValueError: no such thing (details below)"
    )
    assert "no such thing" in lab.status.error_text


def test_view_controls_redraw_without_retraining(make_lab, fake_spectra):
    lab = make_lab()
    lab.train()
    lab.wait()
    job = lab._job
    spectra = lab.plots["spectra"]

    lab.view_controls.spectrum.value = "K"
    assert [n for n, line in spectra.value_lines.items() if line.get_visible()] == ["K"]
    lab.view_controls.view_step.value = 0
    assert lab._job is job and lab.state == "finished"
    x, y, z = lab.plots["trajectories"].lines[0].get_data_3d()
    np.testing.assert_allclose(np.stack([x, y, z], 1), lab.analyses[0].projection[0])
    assert "step 0" in lab.plots["trajectories"].axes.get_title()
    assert list(lab.plots["collapse"].cursor.get_xdata()) == [0, 0]


def test_revisiting_a_setting_redraws_at_once(make_lab, fake_spectra):
    lab = make_lab()
    lab.train()
    first = lab.wait()
    lab.configure(width=24)
    lab.wait()
    lab.configure(width=16)
    assert lab.state == "finished" and lab.run is first
    assert FINISHED.fullmatch(lab.status.text)


def test_cached_runs_are_analysed_without_training(
    make_lab, fake_spectra, monkeypatch, tmp_path
):
    monkeypatch.setenv("KPWIDGETS_CACHE", "1")
    monkeypatch.setenv("KPWIDGETS_CACHE_DIR", str(tmp_path))
    first = make_lab()
    first.train()
    trained = first.wait()
    lab = make_lab()
    lab.train()
    run = lab.wait()
    assert run.from_cache and run.losses == trained.losses
    assert lab.status.text.endswith("(from cache)")
    assert sorted(lab.analyses) == [snapshot.step for snapshot in run.snapshots]
    assert lab.analyses[30].spectra is not None


def test_show_run_displays_a_run_trained_elsewhere(make_lab, fake_spectra):
    from kpwidgets.models import RecurrentModel
    from kpwidgets.training import train
    from kpwidgets.widgets._settings import build_task

    task = build_task("flip_flop", None)
    model = RecurrentModel("rnn", task.input_size, 24, task.output_size, seed=3)
    run = train(model, task, 20, 1e-2, batch_size=16, seed=3, cache=False)
    lab = make_lab()
    lab.show_run(run)
    assert lab.wait() is run
    assert lab.settings == LabSettings("rnn", 24, "flip_flop", 1.0, 1e-2, 20, 3)
    assert FINISHED.fullmatch(lab.status.text)
    assert sorted(lab.analyses) == [snapshot.step for snapshot in run.snapshots]

    odd = train(
        RecurrentModel("rnn", task.input_size, 20, task.output_size, seed=3),
        task, 20, 1e-2, batch_size=16, seed=3, cache=False,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"rnn-20 does not fit.*width must be"):
        lab.show_run(odd)


def test_changes_before_the_first_run_train_nothing(make_lab):
    lab = make_lab()
    lab.controls.width.value = 32
    lab.configure(architecture="lstm", init_scale=2.0)
    assert lab.state == "ready" and lab._job is None
    assert lab.status.text == (
        "ready: press Train to train lstm-32 on memory_pro for 30 steps"
    )
    assert lab.settings.init_scale == 2.0
    with pytest.raises(ValueError, match=r"width must be an integer in \[8, 256\]"):
        lab.configure(width=1000)


def test_after_a_run_changes_retrain_unless_told_not_to(make_lab, fake_spectra):
    lab = make_lab()
    lab.train()
    lab.wait()
    lab.controls.seed.value = 1
    assert lab.state == "training"
    assert lab.wait().config["seed"] == 1
    job = lab._job
    lab.controls.retrain.value = False
    lab.controls.seed.value = 2
    assert lab._job is job and lab.state == "finished"
    assert lab.status.text.startswith("ready: press Train to train gru-16")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"width": 1000}, r"width must be an integer in \[8, 256\] in steps of 8"),
        ({"task": "nope"}, r"task must be one of 'memory_pro'"),
        ({"learning_rate": 0.0}, r"learning_rate must be a finite number in"),
        ({"views": ("loss", "movie")}, r"a name in views must be one of 'loss'"),
        ({"controls": ("depth",)}, r"a name in controls must be one of"),
        ({"figures": "svg"}, r"figures must be one of 'auto', 'ipympl', 'image'"),
        ({"task_options": {"flip_flop": {"bits": 2}}}, r"unknown option 'bits'"),
        ({"torch_threads": 0}, r"torch_threads must be a positive integer"),
    ],
)
def test_bad_arguments_raise_clear_errors(arguments, message):
    with pytest.raises(ValueError, match=message):
        TrainingLab(**arguments)


def test_image_figures_render_pngs_and_say_how_to_get_ipympl(make_lab, fake_spectra):
    lab = make_lab(figures="image")
    assert isinstance(lab.plots["loss"].host.widget, widgets.Image)
    hints = [w.value for w in all_widgets(lab.widget) if isinstance(w, widgets.HTML)]
    assert any("pip install ipympl" in hint for hint in hints)
    lab.train()
    lab.wait()
    for view in lab.plots.values():
        assert bytes(view.host.widget.value).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("panel", "views"),
    [
        (SpectrumPanel, {"loss", "spectra"}),
        (TrajectoryPanel, {"loss", "trajectories"}),
        (CollapsePanel, {"loss", "collapse"}),
    ],
)
def test_focused_panels_show_one_view(make_lab, fake_spectra, panel, views):
    lab = make_lab(panel, task="flip_flop")
    assert set(lab.plots) == views
    shown = list(all_widgets(lab.widget))
    assert lab.controls.width in shown and lab.controls.seed not in shown
    lab.train()
    assert lab.wait().status == "finished"
    assert lab.status.error_text == ""
    # Spectra are computed only for a view that shows them.
    computed = any(result.spectra for result in lab.analyses.values())
    assert computed == bool(views & {"spectra", "collapse"})


def test_real_analysis_end_to_end(make_lab):
    lab = make_lab(width=8, steps=20)
    lab.train()
    lab.wait(timeout=120)
    assert lab.status.error_text == ""
    assert lab.state == "finished"
    spectra = lab.analyses[20].spectra
    for name in ("K", "PP*", "PKP*"):
        values = spectra.eigenvalues[name]
        assert values.shape == (10,) and np.all(np.diff(values) <= 1e-9 * values[0])
        assert 1 <= spectra.effective_rank[name]
    assert -1 <= spectra.misdirection <= 1
