"""The panels' parts on their own: figures, redraw budget, settings, styles."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from kpwidgets.widgets import LabSettings, _figures, resolve_figure_backend
from kpwidgets.widgets._figures import FigureHost
from kpwidgets.widgets._plots import LossPlot, trial_styles
from kpwidgets.widgets._settings import TASK_PRESETS, build_task
from kpwidgets.widgets._status import StatusArea, readout_html
from kpwidgets.widgets._throttle import PaintBudget


def test_figure_backend_follows_the_front_end_and_the_environment(monkeypatch):
    monkeypatch.delenv("KPWIDGETS_FIGURES", raising=False)
    monkeypatch.setattr(_figures, "ipympl_front_end_installed", lambda: True)
    assert resolve_figure_backend("auto") == "ipympl"
    assert resolve_figure_backend("image") == "image"
    monkeypatch.setattr(_figures, "ipympl_front_end_installed", lambda: False)
    assert resolve_figure_backend() == "image"
    monkeypatch.setattr(_figures, "ipympl_front_end_installed", lambda: True)
    monkeypatch.setenv("KPWIDGETS_FIGURES", "image")
    assert resolve_figure_backend() == "image"
    monkeypatch.setenv("KPWIDGETS_FIGURES", "png")
    with pytest.raises(ValueError, match=r"\$KPWIDGETS_FIGURES must be one of"):
        resolve_figure_backend()


def test_without_ipympl_the_panels_fall_back_to_images(monkeypatch):
    find_spec = _figures.importlib.util.find_spec
    monkeypatch.setattr(
        _figures.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "ipympl" else find_spec(name, *args),
    )
    assert not _figures.ipympl_front_end_installed()
    with pytest.raises(ValueError, match="figures='ipympl' needs the ipympl package"):
        resolve_figure_backend("ipympl")


def test_live_canvas_waits_while_a_thread_edits_the_figure():
    host = FigureHost(2.0, 1.5, "ipympl")
    axes = host.figure.add_subplot()
    (line,) = axes.plot([0, 1], [0, 1])
    editing, release = threading.Event(), threading.Event()
    drawn = []

    def edit():
        with host.editing():
            line.set_data([0, 1, 2], [0, 1, 4])
            editing.set()
            release.wait(5)

    def draw():
        host.widget.draw()  # what the browser's draw request does
        drawn.append(time.perf_counter())

    editor = threading.Thread(target=edit)
    editor.start()
    editing.wait(5)
    drawer = threading.Thread(target=draw)
    drawer.start()
    time.sleep(0.2)
    assert drawn == []
    released = time.perf_counter()
    release.set()
    drawer.join(5)
    editor.join(5)
    assert drawn and drawn[0] >= released
    assert host.redraws == 1


def test_image_host_renders_png_on_every_redraw():
    host = FigureHost(2.0, 1.5, "image")
    host.figure.add_subplot().plot([0, 1], [1, 0])
    with host.editing():
        pass
    assert bytes(host.widget.value).startswith(b"\x89PNG")
    assert host.redraws == 1 and host.last_redraw is not None


def test_paint_budget_keeps_interval_and_backs_off_when_slow():
    budget = PaintBudget(interval=0.05, share=0.1)
    assert budget.due()
    with budget.spend():
        pass
    assert not budget.due()
    time.sleep(0.06)
    assert budget.due()
    with budget.spend() as elsewhere:
        elsewhere.append(0.03)  # 0.03 s of rendering at a 10% share: wait 0.3 s
    time.sleep(0.1)
    assert not budget.due()
    budget.reset()
    assert budget.due() and budget.count == 2
    with pytest.raises(ValueError, match=r"share must be a finite number in \(0, 1\]"):
        PaintBudget(0.1, 1.5)


def test_settings_validate_round_and_name():
    settings = LabSettings(init_scale=1.2345678, learning_rate=0.00312345)
    assert (settings.init_scale, settings.learning_rate) == (1.235, 0.003123)
    assert settings.name == "gru-64"
    assert settings.replace(architecture="lstm", width=128).name == "lstm-128"
    with pytest.raises(ValueError, match=r"steps must be an integer in \[10, 3000\]"):
        settings.replace(steps=15)
    with pytest.raises(ValueError, match="architecture must be one of 'rnn'"):
        settings.replace(architecture="transformer")


@pytest.mark.parametrize("name", sorted(TASK_PRESETS))
def test_presets_make_short_trials_and_styles_explain_colours(name):
    task = build_task(name, None)
    assert task.num_steps <= 40
    evaluation = task.evaluation_batch()
    styles = trial_styles(evaluation)
    B = evaluation.inputs.shape[0]
    assert len(styles.colors) == len(styles.linestyles) == B
    assert styles.angle_colorbar == (name not in ("multitask", "flip_flop"))
    assert len(styles.legend) == (4 if name == "multitask" else 0)
    assert styles.caption == ("colour: final bits" if name == "flip_flop" else "")


def test_task_options_override_the_presets():
    task = build_task("memory_pro", {"memory_pro": {"memory_steps": 25}})
    assert task.options.memory_steps == 25
    assert task.options.stimulus_steps == TASK_PRESETS["memory_pro"]["stimulus_steps"]


def test_status_area_shows_errors_in_full():
    status = StatusArea()
    try:
        np.linalg.cholesky(-np.eye(2))
    except np.linalg.LinAlgError as error:
        status.report_error("the spectra", error)
    assert status.text == (
        "error in the spectra: LinAlgError: Matrix is not positive definite "
        "(details below)"
    )
    assert "Traceback" in status.error_text and "cholesky" in status.error_text
    assert status.progress.bar_style == "danger"
    status.clear_errors()
    assert status.error_text == ""


def test_readout_escapes_text():
    html = readout_html("Numbers", [("a < b", "1 & 2")])
    assert "a &lt; b" in html and "1 &amp; 2" in html


@pytest.mark.parametrize("backend", ["ipympl", "image"])
def test_loss_plot_blits_its_lines_until_the_limits_move(backend):
    plot = LossPlot(backend)
    host = plot.host
    empty = host.render()
    steps, losses = np.arange(1, 11), np.linspace(0.5, 0.3, 10)
    plot.update(steps, losses, steps[::5], losses[::5], 100)
    drawn = host.render()  # what the browser asks for after a full redraw
    assert drawn != empty
    full, all_redraws = host.full_redraws, host.redraws

    plot.update(steps, losses * 0.9, steps[::5], losses[::5] * 0.9, 100)
    assert (host.full_redraws, host.redraws) == (full, all_redraws + 1)
    np.testing.assert_allclose(plot.train_line.get_data()[1], losses * 0.9)
    if backend == "image":
        assert bytes(host.widget.value) not in (empty, drawn)

    plot.update(steps, losses * 0.01, steps[::5], losses[::5] * 0.01, 100)
    assert host.full_redraws == full + 1
    low, high = plot.axes.get_ylim()
    assert low <= 0.003 and high >= 0.005
