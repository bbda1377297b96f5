"""The record of a training run, and its file format.

:class:`TrainingRun` and :class:`Snapshot` are public through
:mod:`kpwidgets.training`; this module keeps their storage apart from the
training loop. A run file is a ``torch.save`` of plain containers, tensors,
strings and numbers, so :meth:`TrainingRun.load` reads it with
``weights_only=True`` (no code runs while loading).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import kpwidgets
from kpwidgets.models import RecurrentModel
from kpwidgets.tasks import EvaluationBatch, Task, make_task

FORMAT = "kpwidgets.TrainingRun"
FORMAT_VERSION = 1


@dataclass
class Snapshot:
    """The model at one step of a run.

    Attributes:
        step: Number of optimiser steps taken (0 is the initialisation).
        state_dict: The model's parameters, on the CPU.
        hidden: Hidden states on the run's evaluation batch [B, T, H], CPU.
        loss: Task loss on the evaluation batch.
        accuracy: Task accuracy on the evaluation batch.
    """

    step: int
    state_dict: dict[str, torch.Tensor]
    hidden: torch.Tensor
    loss: float
    accuracy: float


def _empty_metrics() -> dict[str, list[float]]:
    return {"grad_norm": [], "accuracy": [], "elapsed": []}


@dataclass
class TrainingRun:
    """What :func:`kpwidgets.training.train` did, step by step.

    Attributes:
        config: Model, task and optimiser settings (JSON-serialisable).
        status: ``"finished"``, ``"stopped"`` or ``"diverged"``.
        losses: Training loss of each completed step.
        metrics: Per-step ``"grad_norm"`` (before clipping), ``"accuracy"``
            (on the training batch) and ``"elapsed"`` (seconds since start).
        snapshots: Finite snapshots in step order; the last one holds the
            model's final parameters.
        evaluation: The fixed evaluation batch (on the CPU) the snapshots'
            hidden states were recorded on.
        device: Where the run trained.
        elapsed: Seconds the training loop took.
        diverged_step: The step at which divergence was detected, or None.
        divergence_reason: E.g. ``"loss became nan"``, or None.
        from_cache: Whether :func:`~kpwidgets.training.train` loaded the run
            from the run cache instead of training.
    """

    config: dict[str, Any]
    status: str = "finished"
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=_empty_metrics)
    snapshots: list[Snapshot] = field(default_factory=list)
    evaluation: EvaluationBatch | None = None
    device: str = "cpu"
    elapsed: float = 0.0
    diverged_step: int | None = None
    divergence_reason: str | None = None
    from_cache: bool = False

    @property
    def name(self) -> str:
        """A short label like ``"gru-64"``."""
        model = self.config["model"]
        return f"{model['architecture']}-{model['hidden_size']}"

    @property
    def steps_completed(self) -> int:
        """The number of optimiser steps taken."""
        return len(self.losses)

    @property
    def message(self) -> str:
        """One plain line for a status bar, e.g. ``"stopped at step 412"``."""
        if self.status == "stopped":
            return f"stopped at step {self.steps_completed}"
        if self.status == "diverged":
            return (
                f"diverged at step {self.diverged_step} ({self.divergence_reason}): "
                "lower the learning rate"
            )
        cached = " (from cache)" if self.from_cache else ""
        return f"finished: {self.steps_completed} steps in {self.elapsed:.1f} s{cached}"

    def build_task(self) -> Task:
        """The task the run trained on."""
        task = dict(self.config["task"])
        return make_task(task.pop("name"), **task)

    def build_model(self, snapshot: int = -1) -> RecurrentModel:
        """A new CPU model holding the parameters of ``snapshots[snapshot]``."""
        model = RecurrentModel.from_config(self.config["model"])
        dtype = self.snapshots[snapshot].hidden.dtype
        return self.restore(model.to(dtype), snapshot)

    def restore(self, model: RecurrentModel, snapshot: int = -1) -> RecurrentModel:
        """Load the parameters of ``snapshots[snapshot]`` into ``model``.

        Raises:
            ValueError: If ``model`` differs in architecture, sizes or options.
        """
        wanted = {k: v for k, v in self.config["model"].items() if k != "seed"}
        got = {k: v for k, v in model.config.items() if k != "seed"}
        if wanted != got:
            raise ValueError(f"model must match the run's model {wanted}; got {got}")
        try:
            model.load_state_dict(self.snapshots[snapshot].state_dict)
        except RuntimeError as error:
            raise ValueError(
                f"the run's parameters do not fit the model: {error}"
            ) from error
        return model

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the run to ``path`` (parent folders are created); return it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        evaluation = self.evaluation
        payload = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kpwidgets_version": kpwidgets.__version__,
            "config": json.dumps(self.config),
            "status": self.status,
            "losses": torch.tensor(self.losses, dtype=torch.float64),
            "metrics": {
                name: torch.tensor(values, dtype=torch.float64)
                for name, values in self.metrics.items()
            },
            "snapshots": [vars(snapshot) for snapshot in self.snapshots],
            "evaluation": None if evaluation is None else vars(evaluation),
            "device": self.device,
            "elapsed": self.elapsed,
            "diverged_step": self.diverged_step,
            "divergence_reason": self.divergence_reason,
        }
        # Write then rename, so a crash never leaves half a file behind.
        partial = path.with_name(path.name + ".partial")
        torch.save(payload, partial)
        os.replace(partial, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainingRun:
        """Read a run written by :meth:`save`.

        Raises:
            FileNotFoundError: If there is no such file.
            ValueError: If the file is corrupt, not a run, or from a newer
                file format.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no training run file at {path}")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch.load fails in many ways on bad bytes
            raise ValueError(
                f"{path} is not a readable kpwidgets training run (corrupt or "
                f"another kind of file): {type(error).__name__}: {error}"
            ) from error
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(
                f"{path} is not a kpwidgets training run: expected a file written "
                "by TrainingRun.save"
            )
        version = payload.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"{path} has run file format {version!r}; this kpwidgets "
                f"({kpwidgets.__version__}) reads format {FORMAT_VERSION}"
            )
        try:
            evaluation = payload["evaluation"]
            return cls(
                config=json.loads(payload["config"]),
                status=payload["status"],
                losses=payload["losses"].tolist(),
                metrics={k: v.tolist() for k, v in payload["metrics"].items()},
                snapshots=[Snapshot(**entry) for entry in payload["snapshots"]],
                evaluation=None
                if evaluation is None
                else EvaluationBatch(**evaluation),
                device=payload["device"],
                elapsed=payload["elapsed"],
                diverged_step=payload["diverged_step"],
                divergence_reason=payload["divergence_reason"],
            )
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise ValueError(
                f"{path} is a damaged kpwidgets training run: "
                f"{type(error).__name__}: {error}"
            ) from error
