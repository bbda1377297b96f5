"""The controls of a panel: what to train, and how to look at the result.

Every control has a plain-text description; numbers are sliders (keyboard
operable: focus the handle, then the arrow keys) that report only when
released (``continuous_update=False``), since most of them retrain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from kpwidgets._validation import check_choice
from kpwidgets.models import ARCHITECTURES
from kpwidgets.tasks import TASKS
from kpwidgets.widgets._settings import (
    INIT_SCALE_RANGE,
    LEARNING_RATE_RANGE,
    SEED_RANGE,
    STEPS_RANGE,
    WIDTH_RANGE,
    LabSettings,
)

# The fields of LabSettings, in the order the controls are laid out.
CONTROLS = (
    "architecture",
    "width",
    "task",
    "init_scale",
    "learning_rate",
    "steps",
    "seed",
)

_STYLE = {"description_width": "92px"}
_LAYOUT = {"width": "275px"}

SPECTRUM_CHOICES = (
    ("all three", "all"),
    ("K", "K"),
    ("P P*", "PP*"),
    ("P K P*", "PKP*"),
)


def _slider(cls: type, description: str, **kwargs: Any) -> widgets.Widget:
    return cls(
        description=description,
        continuous_update=False,
        style=_STYLE,
        layout=widgets.Layout(**_LAYOUT),
        **kwargs,
    )


def _log_slider(
    description: str, bounds: tuple[float, float], value: float, fmt: str
) -> widgets.FloatLogSlider:
    low, high = (math.log10(bound) for bound in bounds)
    return _slider(
        widgets.FloatLogSlider,
        description,
        value=value,
        base=10,
        min=low,
        max=high,
        step=0.05,
        readout_format=fmt,
    )


class TrainingControls:
    """The controls that choose a training run, and the Train and Stop buttons.

    Args:
        settings: The values to start from.
        shown: Which fields of :class:`LabSettings` get a visible control; the
            others keep their value.

    Attributes:
        architecture, width, task, init_scale, learning_rate, steps, seed: The
            controls, described ``Architecture``, ``Width``, ``Task``,
            ``Init scale g``, ``Learning rate``, ``Steps`` and ``Seed``.
        train_button, stop_button: ``Train`` and ``Stop``.
        retrain: ``Retrain on change``: after a first run, a changed setting
            starts a new run at once.
        widget: The laid-out controls.
    """

    def __init__(self, settings: LabSettings, shown: Sequence[str] = CONTROLS):
        for name in shown:
            check_choice("a name in controls", name, CONTROLS)
        self.architecture = widgets.Dropdown(
            options=ARCHITECTURES,
            value=settings.architecture,
            description="Architecture",
            style=_STYLE,
            layout=widgets.Layout(**_LAYOUT),
        )
        self.width = _slider(
            widgets.IntSlider,
            "Width",
            value=settings.width,
            min=WIDTH_RANGE[0],
            max=WIDTH_RANGE[1],
            step=WIDTH_RANGE[2],
        )
        self.task = widgets.Dropdown(
            options=TASKS,
            value=settings.task,
            description="Task",
            style=_STYLE,
            layout=widgets.Layout(**_LAYOUT),
        )
        self.init_scale = _log_slider(
            "Init scale g", INIT_SCALE_RANGE, settings.init_scale, ".2f"
        )
        self.learning_rate = _log_slider(
            "Learning rate", LEARNING_RATE_RANGE, settings.learning_rate, ".1e"
        )
        self.steps = _slider(
            widgets.IntSlider,
            "Steps",
            value=settings.steps,
            min=STEPS_RANGE[0],
            max=STEPS_RANGE[1],
            step=STEPS_RANGE[2],
        )
        self.seed = _slider(
            widgets.IntSlider,
            "Seed",
            value=settings.seed,
            min=SEED_RANGE[0],
            max=SEED_RANGE[1],
            step=SEED_RANGE[2],
        )
        self.train_button = widgets.Button(
            description="Train",
            button_style="primary",
            icon="play",
            tooltip="Train a network with these settings",
            layout=widgets.Layout(width="110px"),
        )
        self.stop_button = widgets.Button(
            description="Stop",
            button_style="warning",
            icon="stop",
            tooltip="Stop training and keep what has been learned so far",
            layout=widgets.Layout(width="110px"),
        )
        self.retrain = widgets.Checkbox(
            value=True,
            description="Retrain on change",
            indent=False,
            layout=widgets.Layout(width="auto"),
        )
        shown_controls = [getattr(self, name) for name in CONTROLS if name in shown]
        buttons = widgets.HBox(
            [self.train_button, self.stop_button, self.retrain],
            layout=widgets.Layout(align_items="center", grid_gap="8px"),
        )
        self.widget = widgets.VBox(
            [
                widgets.GridBox(
                    shown_controls,
                    layout=widgets.Layout(
                        grid_template_columns="repeat(2, 280px)", grid_gap="2px 8px"
                    ),
                ),
                buttons,
            ]
        )

    @property
    def settings(self) -> LabSettings:
        """The settings the controls show now."""
        return LabSettings(**{name: getattr(self, name).value for name in CONTROLS})

    def show(self, settings: LabSettings) -> None:
        """Set every control to ``settings`` (observers run)."""
        for name in CONTROLS:
            getattr(self, name).value = getattr(settings, name)

    def observe(self, handler: Callable[[dict[str, Any]], None]) -> None:
        """Call ``handler(change)`` when any setting's value changes."""
        for name in CONTROLS:
            getattr(self, name).observe(handler, names="value")


class ViewControls:
    """Controls that change the view without retraining.

    Attributes:
        spectrum: ``Spectrum of``: all three operators, or K, P P* or P K P*.
        view_step: ``View step``: which analysed snapshot the trajectories and
            spectra show; it follows training while left at the newest step.
        widget: The laid-out controls.
    """

    def __init__(self) -> None:
        self.spectrum = widgets.Dropdown(
            options=SPECTRUM_CHOICES,
            value="all",
            description="Spectrum of",
            style=_STYLE,
            layout=widgets.Layout(**_LAYOUT),
        )
        self.view_step = widgets.SelectionSlider(
            options=[0],
            value=0,
            description="View step",
            continuous_update=False,
            style=_STYLE,
            layout=widgets.Layout(width="420px"),
        )
        self.widget = widgets.HBox(
            [self.view_step, self.spectrum], layout=widgets.Layout(grid_gap="16px")
        )

    @property
    def following(self) -> bool:
        """Whether the view sits at the newest analysed step."""
        options = self.view_step.options
        return not options or self.view_step.value == options[-1]

    def set_steps(self, steps: Sequence[int], value: int) -> None:
        """Offer ``steps`` (ascending) and select ``value``.

        Changing the options first selects the first one (ipywidgets' rule), so
        the value's observers see two changes.
        """
        steps = tuple(steps)
        if self.view_step.options != steps:
            self.view_step.options = steps
        self.view_step.value = value
