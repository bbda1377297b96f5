"""Train a :class:`~kpwidgets.models.RecurrentModel` on a task, with snapshots.

:func:`train` runs plain minibatch gradient descent (Adam or SGD) on fresh
trials each step, records the loss and metrics of every step, and keeps
snapshots (parameters and hidden states on the task's fixed evaluation batch)
for the analyses. It is safe to run in a background thread: a
``threading.Event`` stops it within one step, and divergence ends the run
with a status instead of an exception.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import kpwidgets
from kpwidgets import _cache
from kpwidgets._cache import cache_dir, clear_cache
from kpwidgets._runfile import Snapshot, TrainingRun
from kpwidgets._validation import check_choice, check_float, check_int
from kpwidgets.models import RecurrentModel
from kpwidgets.tasks import EvaluationBatch, Task

logger = logging.getLogger(__name__)

OPTIMIZERS = ("adam", "sgd")

# A loss this many times above max(first loss, 1) counts as divergence.
DIVERGENCE_FACTOR = 1e3

Callback = Callable[[int, dict[str, Any]], None]


def train(
    model: RecurrentModel,
    task: Task,
    steps: int,
    lr: float,
    optimizer: str = "adam",
    batch_size: int = 64,
    clip: float | None = None,
    device: torch.device | str | None = None,
    seed: int | None = None,
    callback: Callback | None = None,
    stop_event: threading.Event | None = None,
    snapshot_every: int | None = None,
    *,
    cache: bool = True,
) -> TrainingRun:
    """Train ``model`` in place on fresh batches of ``task``.

    Each step draws ``batch_size`` noisy trials, takes one optimiser step on
    ``task.loss`` and records the loss, the gradient norm (before clipping) and
    the task's accuracy on that batch. Every ``snapshot_every`` steps, and at
    step 0 and the end, a :class:`Snapshot` stores the parameters and the
    hidden states [B, T, H] on ``task.evaluation_batch()``.

    Args:
        model: The model; it is moved to ``device`` and trained in place.
        task: The task; its input and output sizes must match the model's.
        steps: Number of optimiser steps (>= 1).
        lr: Learning rate (> 0).
        optimizer: ``"adam"`` or ``"sgd"`` (plain, no momentum).
        batch_size: Trials per step (>= 1).
        clip: Clip the gradient norm to this value (> 0), or None.
        device: Where to train; by default CUDA, else MPS, else the CPU.
        seed: Seed of the batches; drawn from torch's global generator when
            None (and recorded in ``run.config``).
        callback: Called as ``callback(step, metrics)`` after every step with
            ``metrics`` holding ``"loss"``, ``"grad_norm"``, ``"accuracy"`` and
            ``"elapsed"`` (seconds), plus ``"eval_loss"``, ``"eval_accuracy"``
            and ``"snapshot"`` (the new :class:`Snapshot`) at snapshot steps.
            Exceptions it raises propagate.
        stop_event: When set, the run stops before its next step with status
            ``"stopped"``, keeping the parameters of the last finished step.
        snapshot_every: Steps between snapshots; by default about 20 in all.
        cache: Reuse and store finished runs in the run cache (see
            :func:`cache_dir`); only runs with an explicit ``seed`` are cached.

    Returns:
        The :class:`TrainingRun`. Its last snapshot holds the model's final
        parameters.

    Raises:
        ValueError: If an argument is out of range or the sizes do not match.

    Notes:
        The run diverges (status ``"diverged"``) when the loss or the gradient
        norm is not finite, or the loss exceeds ``DIVERGENCE_FACTOR`` times
        ``max(first loss, 1)``. The model then keeps the last parameters whose
        loss was finite, and only finite snapshots are kept. On the CPU, equal
        arguments and seeds give bit-identical runs.
    """
    config = _check_arguments(
        model, task, steps, lr, optimizer, batch_size, clip, snapshot_every
    )
    if seed is None:
        seed = int(torch.randint(0, 2**62, ()).item())
        cache = False
    seed = check_int("seed", seed)
    device = resolve_device(device)
    model.to(device)
    dtype = model.recurrent_weight.dtype
    config.update(seed=seed, device=device.type, dtype=str(dtype))

    # Cached runs are keyed by everything that determines them.
    key = {
        **config,
        "initial_parameters": _cache.parameters_digest(model),
        "kpwidgets": kpwidgets.__version__,
        "torch": torch.__version__,
    }
    use_cache = cache and _cache.cache_enabled()
    if use_cache:
        cached = _load_cached(_cache.run_path(key), model)
        if cached is not None:
            return cached

    run = _Trainer(model, task, config, device, dtype).run(callback, stop_event)
    if use_cache and run.status != "stopped":
        run.save(_cache.run_path(key))
    return run


def resolve_device(device: torch.device | str | None = None) -> torch.device:
    """The device given, else CUDA, else MPS, else the CPU."""
    if device is not None:
        try:
            return torch.device(device)
        except (RuntimeError, TypeError) as error:
            raise ValueError(
                "device must be a torch.device or a name like 'cpu', 'cuda', "
                f"'cuda:1', 'mps'; got {device!r}"
            ) from error
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _check_arguments(
    model: RecurrentModel,
    task: Task,
    steps: int,
    lr: float,
    optimizer: str,
    batch_size: int,
    clip: float | None,
    snapshot_every: int | None,
) -> dict[str, Any]:
    """Validate the arguments of :func:`train`; return them as a config."""
    if not isinstance(model, RecurrentModel):
        raise TypeError(
            f"model must be a kpwidgets.models.RecurrentModel; got {type(model)}"
        )
    if not isinstance(task, Task):
        raise TypeError(f"task must be a kpwidgets.tasks.Task; got {type(task)}")
    for what in ("input_size", "output_size"):
        if getattr(model, what) != getattr(task, what):
            raise ValueError(
                f"model {what} must match the task's ({getattr(task, what)} for "
                f"{task.name!r}); got {getattr(model, what)}"
            )
    steps = check_int("steps", steps, minimum=1)
    if snapshot_every is None:
        snapshot_every = max(1, steps // 20)
    return {
        "model": model.config,
        "task": task.config,
        "steps": steps,
        "lr": check_float("lr", lr, low=0.0, low_inclusive=False),
        "optimizer": check_choice("optimizer", optimizer, OPTIMIZERS),
        "batch_size": check_int("batch_size", batch_size, minimum=1),
        "clip": None
        if clip is None
        else check_float("clip", clip, low=0.0, low_inclusive=False),
        "snapshot_every": check_int("snapshot_every", snapshot_every, minimum=1),
    }


def _load_cached(path: Path, model: RecurrentModel) -> TrainingRun | None:
    if not path.is_file():
        return None
    try:
        run = TrainingRun.load(path)
        run.restore(model)
    except ValueError as error:
        logger.warning("ignoring unreadable cached run %s: %s", path, error)
        return None
    run.from_cache = True
    logger.info("loaded %s from the run cache %s", run.name, path)
    return run


@dataclass
class _Trainer:
    """The state of one training run while it runs."""

    model: RecurrentModel
    task: Task
    config: dict[str, Any]
    device: torch.device
    dtype: torch.dtype
    parameters: list[torch.Tensor] = field(init=False)
    evaluation: EvaluationBatch = field(init=False)
    # The step whose parameters the copy of the last good state holds.
    good_step: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.parameters = list(self.model.parameters())
        self.evaluation = self.task.evaluation_batch(
            dtype=self.dtype, device=self.device
        )

    def run(
        self, callback: Callback | None, stop_event: threading.Event | None
    ) -> TrainingRun:
        config = self.config
        model, task = self.model, self.task
        generator = torch.Generator().manual_seed(config["seed"])
        if config["optimizer"] == "adam":
            optimizer = torch.optim.Adam(self.parameters, lr=config["lr"])
        else:
            optimizer = torch.optim.SGD(self.parameters, lr=config["lr"])
        clip = math.inf if config["clip"] is None else config["clip"]
        # The last parameters whose loss was finite, restored on divergence.
        good = [parameter.detach().clone() for parameter in self.parameters]

        run = TrainingRun(
            config=config,
            device=str(self.device),
            evaluation=_to_cpu(self.evaluation),
        )
        initial = self._snapshot(0)
        if initial is None:
            run.status, run.diverged_step = "diverged", 0
            run.divergence_reason = "hidden states were not finite at the start"
            logger.warning("%s: %s", run.name, run.message)
            return run
        run.snapshots.append(initial)
        logger.info(
            "training %s on %s for %d steps", run.name, self.device, config["steps"]
        )
        threshold = math.inf
        start = time.perf_counter()
        for step in range(1, config["steps"] + 1):
            if stop_event is not None and stop_event.is_set():
                run.status = "stopped"
                break

            inputs, targets = task.sample(
                config["batch_size"], generator, dtype=self.dtype, device=self.device
            )
            outputs = model.outputs(inputs)
            loss = task.loss(outputs, targets)
            loss_value = loss.item()
            problem = _value_problem("loss", loss_value, threshold)
            if problem:
                self._diverge(run, step, problem, good)
                break
            if step == 1:
                threshold = DIVERGENCE_FACTOR * max(loss_value, 1.0)
            self._copy(good, self.parameters)
            self.good_step = step - 1

            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.parameters, clip))
            problem = _value_problem("gradient", grad_norm, math.inf)
            if problem:
                self._diverge(run, step, problem, good)
                break
            optimizer.step()

            metrics = {
                "loss": loss_value,
                "grad_norm": grad_norm,
                "accuracy": task.accuracy(outputs.detach(), targets),
                "elapsed": time.perf_counter() - start,
            }
            run.losses.append(loss_value)
            for name in ("grad_norm", "accuracy", "elapsed"):
                run.metrics[name].append(metrics[name])
            if step % config["snapshot_every"] == 0 or step == config["steps"]:
                snapshot = self._snapshot(step)
                if snapshot is None:
                    self._diverge(run, step, "hidden states became non-finite", good)
                    break
                run.snapshots.append(snapshot)
                metrics.update(
                    eval_loss=snapshot.loss,
                    eval_accuracy=snapshot.accuracy,
                    snapshot=snapshot,
                )
            if callback is not None:
                callback(step, metrics)

        run.elapsed = time.perf_counter() - start
        final_step = self.good_step if run.status == "diverged" else len(run.losses)
        if run.snapshots[-1].step != final_step:
            snapshot = self._snapshot(final_step)
            if snapshot is not None:
                run.snapshots.append(snapshot)
        logger.info("%s: %s", run.name, run.message)
        return run

    def _diverge(self, run: TrainingRun, step: int, reason: str, good) -> None:
        run.status = "diverged"
        run.diverged_step = step
        run.divergence_reason = reason
        self._copy(self.parameters, good)
        # Snapshots after the restored parameters belong to the diverging path.
        run.snapshots = [s for s in run.snapshots if s.step <= self.good_step]
        logger.warning("%s diverged at step %d (%s)", run.name, step, reason)

    @staticmethod
    @torch.no_grad()
    def _copy(targets: list[torch.Tensor], sources: list[torch.Tensor]) -> None:
        for target, source in zip(targets, sources, strict=True):
            target.copy_(source)

    @torch.no_grad()
    def _snapshot(self, step: int) -> Snapshot | None:
        """The model's current state on the evaluation batch; None if not finite."""
        outputs, hidden = self.model(self.evaluation.inputs)
        targets = self.evaluation.targets
        loss = self.task.loss(outputs, targets).item()
        if not (math.isfinite(loss) and torch.isfinite(hidden).all()):
            return None
        return Snapshot(
            step=step,
            state_dict={
                name: tensor.detach().cpu().clone()
                for name, tensor in self.model.state_dict().items()
            },
            hidden=hidden.cpu(),
            loss=loss,
            accuracy=self.task.accuracy(outputs, targets),
        )


def _value_problem(name: str, value: float, threshold: float) -> str | None:
    """Why ``value`` means divergence (``"loss became nan"``), or None."""
    if math.isnan(value) or math.isinf(value):
        return f"{name} became {value}"
    if value > threshold:
        return f"{name} exploded to {value:.3g}"
    return None


def _to_cpu(batch: EvaluationBatch) -> EvaluationBatch:
    return dataclasses.replace(
        batch, inputs=batch.inputs.cpu(), targets=batch.targets.cpu()
    )


__all__ = [
    # training
    "train",
    "TrainingRun",
    "Snapshot",
    "resolve_device",
    "OPTIMIZERS",
    "DIVERGENCE_FACTOR",
    # the run cache
    "cache_dir",
    "clear_cache",
]
