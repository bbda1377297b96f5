"""The main panel in a real browser: JupyterLab, headless Chromium, Playwright.

Run with ``pytest -m browser``. Screenshots go to ``test-output/widgets/``.
Without Chromium these tests skip (and say how to enable them); in CI
(``CI=true``) they fail instead, since ``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.widgets import _jupyter

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "widgets"
NOTEBOOK = [
    "from kpwidgets.widgets import TrainingLab",
    "lab = TrainingLab(width=32, steps=100)\nlab",
]
SECONDS = 1000  # Playwright counts milliseconds


def _unavailable(reason: str) -> None:
    if _jupyter.in_ci():
        pytest.fail(f"browser tests are mandatory in CI: {reason}")
    pytest.skip(f"{reason}; to run the browser tests, {_jupyter.HOW_TO_ENABLE}")


@pytest.fixture(scope="module")
def chromium() -> str:
    executable = _jupyter.find_chromium()
    if executable is None:
        _unavailable("no Chromium found")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed")
    return executable


@pytest.fixture(scope="module")
def jupyter_lab(chromium, tmp_path_factory):
    lab = _jupyter.start_jupyter_lab(tmp_path_factory.mktemp("jupyter"))
    yield lab
    lab.stop()


@pytest.fixture
def page(chromium, jupyter_lab, tmp_path):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=chromium,
            headless=True,
            args=_jupyter.CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1500},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
            jupyter_lab.delete_sessions()


def open_and_run_all(page, jupyter_lab, name: str, cells=NOTEBOOK) -> None:
    """Open a fresh copy of a notebook, wait for the kernel, Run All."""
    notebook = jupyter_lab.write_notebook(name, cells)
    # reset: start from an empty workspace, not the previous test's tabs.
    url = f"{jupyter_lab.url}/lab/tree/{notebook}?reset&token={jupyter_lab.token}"
    page.goto(url)
    status_bar = page.locator("#jp-main-statusbar")
    status_bar.get_by_text("Idle").wait_for(timeout=120 * SECONDS)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator('li[data-command="runmenu:run-all"]').click()


def slider(page, description: str):
    return page.locator(".widget-slider").filter(
        has=page.locator(f'.widget-label:text-is("{description}")')
    )


def set_by_typing(page, description: str, value: str) -> None:
    """Type a value into a slider's readout, as a keyboard user would."""
    readout = slider(page, description).locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(value)
    page.keyboard.press("Enter")


def test_panel_retrains_from_its_controls_and_stops(page, jupyter_lab):
    open_and_run_all(page, jupyter_lab, "panel.ipynb")
    status = page.locator(".widget-label").filter(has_text=re.compile("^ready: "))
    status.wait_for(timeout=120 * SECONDS)
    panel = page.locator(".jp-OutputArea-output").filter(has_text="KPFlow training lab")
    for description in ("Architecture", "Width", "Task", "Init scale g",
                        "Learning rate", "Steps", "Seed"):  # fmt: skip
        assert panel.get_by_text(description, exact=True).count() == 1
    figures = panel.locator(".jupyter-matplotlib-figure")
    page.wait_for_function(
        "() => document.querySelectorAll('.jupyter-matplotlib-figure canvas').length"
        " >= 4",
        timeout=30 * SECONDS,
    )
    time.sleep(1.0)  # the first frames
    loss_figure = figures.first
    panel.screenshot(path=SCREENSHOTS / "01-ready.png")
    empty_loss = loss_figure.screenshot()

    # Width by typing; Init scale g by the keyboard on the slider's handle.
    set_by_typing(page, "Width", "24")
    page.get_by_text("ready: press Train to train gru-24").wait_for()
    handle = slider(page, "Init scale g").locator(".noUi-handle")
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")

    panel.locator("button.widget-button", has_text="Train").click()
    finished = page.get_by_text(re.compile(r"^finished: 100 steps in \d+\.\d s"))
    finished.wait_for(timeout=180 * SECONDS)
    readout = panel.locator(".widget-html").filter(has_text="Current numbers")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.widget-html')].some("
        "e => e.textContent.includes('at step 100'))",
        timeout=30 * SECONDS,
    )
    text = readout.inner_text()
    assert "gru-24, g = 1.26" in text and "memory_pro" in text
    assert "evaluation loss" in text and "effective rank" in text
    time.sleep(1.0)  # the browser asks the kernel for the last frames
    panel.screenshot(path=SCREENSHOTS / "02-finished.png")
    assert loss_figure.screenshot() != empty_loss

    # A change after a run retrains at once; Stop ends it and nothing moves.
    set_by_typing(page, "Steps", "3000")
    page.get_by_text(re.compile(r"^training gru-24 on \w+: step \d+ of 3000")).wait_for(
        timeout=60 * SECONDS
    )
    # Long enough for live spectra (they may take 10% of the training time).
    page.get_by_text(re.compile(r"step ([5-9]\d\d|\d{4}) of 3000")).wait_for(
        timeout=60 * SECONDS
    )
    panel.locator("button.widget-button", has_text="Stop").click()
    stopped = page.get_by_text(re.compile(r"^stopped at step \d+$"))
    stopped.wait_for(timeout=10 * SECONDS)
    message = stopped.inner_text()
    time.sleep(1.0)
    assert stopped.inner_text() == message
    panel.screenshot(path=SCREENSHOTS / "03-stopped.png")


def test_demo_cell_trains_with_image_figures(page, jupyter_lab):
    cells = [
        "from kpwidgets.widgets import TrainingLab",
        "lab = TrainingLab(width=16, steps=40, task='flip_flop', figures='image')\nlab",
        "lab.train()\nrun = lab.wait()\nprint(run.message)",
    ]
    open_and_run_all(page, jupyter_lab, "demo.ipynb", cells)
    printed = page.locator("[data-mime-type='application/vnd.jupyter.stdout']")
    printed.wait_for(timeout=180 * SECONDS)
    assert printed.inner_text().startswith("finished: 40 steps in")
    panel = page.locator(".jp-OutputArea-output").filter(has_text="KPFlow training lab")
    panel.get_by_text("finished: 40 steps in").wait_for(timeout=30 * SECONDS)
    assert panel.get_by_text("pip install ipympl").count() == 1
    images = panel.locator("img")
    assert images.count() == 4
    assert all(images.nth(i).evaluate("e => e.naturalWidth") > 300 for i in range(4))
    panel.screenshot(path=SCREENSHOTS / "04-image-figures.png")
