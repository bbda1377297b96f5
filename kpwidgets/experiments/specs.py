"""What one run of a sweep is: :class:`RunSpec`, and the grids the course uses.

A sweep is a list of :class:`RunSpec`; each names its result file
(:attr:`RunSpec.run_id`), so a sweep that stops can resume by skipping the
runs whose files exist.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kpwidgets._validation import check_choice, check_float, check_int

EXPERIMENTS = ("collapse", "multitask")
PRESETS = ("tiny", "course")

# Short phases keep a run to seconds on a laptop core.
SHORT_PHASES = {"stimulus_steps": 10, "memory_steps": 10, "response_steps": 10}


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines one run of a sweep.

    Attributes:
        experiment: ``"collapse"`` (one task, K / P spectra and hidden
            dimension per snapshot) or ``"multitask"`` (task similarity and
            operator interference per snapshot).
        architecture: ``"gru"``, ``"rnn"``, ... (see ``RecurrentModel``).
        init_scale: g, the factor on the recurrent weights at initialisation.
        seed: Seed of the initialisation and of the training batches.
        hidden_size: H.
        task: Task name for :func:`kpwidgets.tasks.make_task`.
        task_options: Options of the task (phase lengths, ...).
        steps: Optimiser steps (Adam).
        lr: Learning rate.
        clip: Gradient-norm clip, or None.
        snapshot_every: Steps between the snapshots that are measured.
        analysis_trials: Trials of the evaluation batch the operators of the
            collapse experiment are built on (the spectra cost grows with it).
        time_ranks: Also measure the effective ranks over time (partial trace
            over trials and units); a few hundred matvecs per snapshot.
    """

    experiment: str
    architecture: str
    init_scale: float
    seed: int
    hidden_size: int = 32
    task: str = "memory_pro"
    task_options: dict[str, Any] = field(default_factory=lambda: dict(SHORT_PHASES))
    steps: int = 600
    lr: float = 3e-3
    clip: float | None = 1.0
    snapshot_every: int = 50
    analysis_trials: int = 8
    time_ranks: bool = True

    def __post_init__(self) -> None:
        check_choice("experiment", self.experiment, EXPERIMENTS)
        check_float("init_scale", self.init_scale, low=0.0)
        check_int("seed", self.seed)
        check_int("hidden_size", self.hidden_size, minimum=1)
        check_int("steps", self.steps, minimum=1)
        check_float("lr", self.lr, low=0.0, low_inclusive=False)
        check_int("snapshot_every", self.snapshot_every, minimum=1)
        check_int("analysis_trials", self.analysis_trials, minimum=1)
        if self.experiment == "multitask" and self.task != "multitask":
            raise ValueError(
                f"a multitask run must train on task 'multitask'; got {self.task!r}"
            )

    @property
    def run_id(self) -> str:
        """A file-name-safe label unique within a sweep: ``collapse-gru-g1-s0``."""
        scale = f"{self.init_scale:g}".replace(".", "p")
        return f"{self.experiment}-{self.architecture}-g{scale}-s{self.seed}"

    def to_json(self) -> str:
        """The spec as a JSON string; :meth:`from_json` reads it back."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        """Rebuild a spec written by :meth:`to_json`."""
        return cls(**json.loads(text))


def collapse_grid(
    architectures: Sequence[str] = ("gru", "rnn"),
    init_scales: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0),
    seeds: Sequence[int] = (0, 1, 2),
    **settings: Any,
) -> list[RunSpec]:
    """The dynamic-collapse sweep: architecture x g x seed on Memory-Pro.

    Args:
        architectures: Architectures to train.
        init_scales: Values of g.
        seeds: Seeds per (architecture, g).
        **settings: Further :class:`RunSpec` fields shared by every run.

    Returns:
        One spec per grid point.
    """
    return [
        RunSpec("collapse", architecture, float(scale), int(seed), **settings)
        for architecture, scale, seed in itertools.product(
            architectures, init_scales, seeds
        )
    ]


def multitask_grid(seeds: Sequence[int] = tuple(range(10)), **settings: Any):
    """The multi-task sweep: GRUs on the four-task Memory-Pro mix, one per seed.

    Returns:
        One :class:`RunSpec` per seed.
    """
    defaults = {
        "task": "multitask",
        "task_options": {"context_steps": 5, **SHORT_PHASES},
        "steps": 800,
        "lr": 1e-2,
        "snapshot_every": 25,
        "time_ranks": False,
    }
    defaults.update(settings)
    scale = float(defaults.pop("init_scale", 1.0))
    return [RunSpec("multitask", "gru", scale, int(seed), **defaults) for seed in seeds]


def preset(experiment: str, name: str) -> list[RunSpec]:
    """A named grid: ``"course"`` (what ships with the package) or ``"tiny"``.

    ``"tiny"`` trains a few very short runs (a couple of seconds each), for
    tests and for trying the command line.
    """
    check_choice("experiment", experiment, EXPERIMENTS)
    check_choice("preset", name, PRESETS)
    if name == "course":
        return collapse_grid() if experiment == "collapse" else multitask_grid()
    tiny = {
        "hidden_size": 8,
        "steps": 20,
        "snapshot_every": 10,
        "analysis_trials": 4,
    }
    phases = {"stimulus_steps": 3, "memory_steps": 3, "response_steps": 3}
    if experiment == "collapse":
        return collapse_grid(
            ("gru", "rnn"), (0.5, 2.0), (0,), task_options=phases, **tiny
        )
    return multitask_grid((0, 1), task_options={"context_steps": 2, **phases}, **tiny)
