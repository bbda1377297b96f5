"""What a panel trains: the settings its controls edit, with their ranges."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from kpwidgets._validation import check_choice, check_float, check_int
from kpwidgets.models import ARCHITECTURES
from kpwidgets.tasks import TASKS, Task, make_task
from kpwidgets.training import TrainingRun

# Short trials (30 steps, 35 for the multitask) so a laptop trains in seconds.
_SHORT_ANGLE_TRIALS = {
    "stimulus_steps": 10,
    "memory_steps": 10,
    "response_steps": 10,
    "grace_steps": 3,
}
TASK_PRESETS: dict[str, dict[str, Any]] = {
    "memory_pro": dict(_SHORT_ANGLE_TRIALS),
    "memory_anti": dict(_SHORT_ANGLE_TRIALS),
    "delay_pro": dict(_SHORT_ANGLE_TRIALS),
    "delay_anti": dict(_SHORT_ANGLE_TRIALS),
    "multitask": {**_SHORT_ANGLE_TRIALS, "context_steps": 5},
    "flip_flop": {"num_steps": 40, "pulse_probability": 0.08},
}

# (low, high, step) of each number; init scale and learning rate are log-scaled.
WIDTH_RANGE = (8, 256, 8)
INIT_SCALE_RANGE = (0.1, 10.0)
LEARNING_RATE_RANGE = (1e-4, 10.0)
STEPS_RANGE = (10, 3000, 10)
SEED_RANGE = (0, 99, 1)


def _check_grid(name: str, value: object, grid: tuple[int, int, int]) -> int:
    low, high, step = grid
    value = check_int(name, value, minimum=low)
    if value > high or (value - low) % step:
        raise ValueError(
            f"{name} must be an integer in [{low}, {high}] in steps of {step} "
            f"(the range of its slider); got {value}"
        )
    return value


@dataclass(frozen=True)
class LabSettings:
    """The choices a student makes in a panel: one training run each.

    Attributes:
        architecture: ``"rnn"``, ``"gru"``, ``"lstm"`` or ``"ctrnn"``.
        width: Hidden units, 8 to 256 in steps of 8.
        task: A name from :data:`kpwidgets.tasks.TASKS`.
        init_scale: g, the scale of the recurrent weights, 0.1 to 10.
        learning_rate: Adam's learning rate, 1e-4 to 10.
        steps: Optimiser steps, 10 to 3000 in steps of 10.
        seed: Seed of the initialisation and of the training batches, 0 to 99.

    Raises:
        ValueError: If a value is outside the range of its control.
    """

    architecture: str = "gru"
    width: int = 64
    task: str = "memory_pro"
    init_scale: float = 1.0
    learning_rate: float = 3e-3
    steps: int = 300
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("architecture", self.architecture, ARCHITECTURES)
        check_choice("task", self.task, TASKS)
        _check_grid("width", self.width, WIDTH_RANGE)
        _check_grid("steps", self.steps, STEPS_RANGE)
        _check_grid("seed", self.seed, SEED_RANGE)
        for name, (low, high) in (
            ("init_scale", INIT_SCALE_RANGE),
            ("learning_rate", LEARNING_RATE_RANGE),
        ):
            value = check_float(name, getattr(self, name), low=low, high=high)
            # Keep the log sliders' rounding from creating "different" settings.
            object.__setattr__(self, name, float(f"{value:.4g}"))

    @property
    def name(self) -> str:
        """The run's short name, e.g. ``"gru-64"``."""
        return f"{self.architecture}-{self.width}"

    def replace(self, **changes: Any) -> LabSettings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def build_task(name: str, task_options: dict[str, dict[str, Any]] | None) -> Task:
    """The task ``name`` with the short-trial preset, updated by ``task_options``."""
    options = {**TASK_PRESETS[name], **(task_options or {}).get(name, {})}
    return make_task(name, **options)


def check_task_options(
    task_options: dict[str, dict[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Validate ``{task name: {option: value}}`` by building each task once."""
    task_options = dict(task_options or {})
    for name, options in task_options.items():
        check_choice("a key of task_options", name, TASKS)
        if not isinstance(options, dict):
            raise ValueError(
                f"task_options[{name!r}] must be a dict of task options, e.g. "
                f"{{'memory_steps': 20}}; got {options!r}"
            )
        build_task(name, task_options)
    return task_options


def settings_of_run(run: TrainingRun) -> LabSettings:
    """The panel settings that describe a finished run.

    Raises:
        ValueError: If the run has no snapshots or its settings are outside the
            range of the panel's controls.
    """
    if not isinstance(run, TrainingRun):
        raise ValueError(
            f"run must be a kpwidgets.training.TrainingRun; got {type(run).__name__}"
        )
    if not run.snapshots or run.evaluation is None:
        raise ValueError("run must have snapshots and an evaluation batch to show")
    model, config = run.config["model"], run.config
    try:
        return LabSettings(
            architecture=model["architecture"],
            width=model["hidden_size"],
            task=config["task"]["name"],
            init_scale=model["init_scale"],
            learning_rate=config["lr"],
            steps=config["steps"],
            seed=model["seed"],
        )
    except ValueError as error:
        raise ValueError(
            f"the run {run.name} does not fit the panel's controls: {error}"
        ) from error
