"""One training run and its analysis, each in a background thread.

The training thread calls :func:`kpwidgets.training.train` with a stop event
and a cheap callback that records the loss and queues snapshots. The analysis
thread turns every queued snapshot into a :class:`StepAnalysis` record at once.
The operators' spectra cost more: during training they take at most
``spectra_share`` of the time training has run (step 0's first, then the
newest snapshot's), so training keeps its pace; step 0 and the final snapshot
always get them, after training if not before.
Neither thread touches a widget: they report to a :class:`JobListener`, which
decides what is painted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import torch

from kpwidgets.models import RecurrentModel
from kpwidgets.tasks import EvaluationBatch, Task
from kpwidgets.training import Snapshot, TrainingRun, resolve_device, train
from kpwidgets.widgets._analysis import StepAnalysis, describe_hidden, operator_spectra
from kpwidgets.widgets._settings import LabSettings, build_task

STATES = ("starting", "training", "analysing", "finished", "stopped", "diverged")


@dataclass(frozen=True)
class JobOptions:
    """The settings of a job that no control changes."""

    batch_size: int = 32
    optimizer: str = "adam"
    clip: float | None = 1.0
    device: str | None = None
    top_k: int = 10
    torch_threads: int | None = 1
    task_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The most snapshots whose spectra a cached run gets (evenly spaced).
    cached_spectra: int = 6
    # Spectra while training may take this share of the time training has run.
    spectra_share: float = 0.1
    # Whether to compute the operators' spectra at all (a view shows them).
    spectra: bool = True


class JobListener(Protocol):
    """What a job reports; called from its threads."""

    def on_progress(self, job: TrainingJob) -> None:
        """Training advanced a step, or the job changed state; keep it cheap."""

    def on_analysis(self, job: TrainingJob, result: StepAnalysis) -> None:
        """A snapshot was analysed."""

    def on_error(self, job: TrainingJob, where: str, error: BaseException) -> None:
        """Something raised in ``where`` (e.g. ``"training"``)."""

    def on_end(self, job: TrainingJob) -> None:
        """The job ended (finished, stopped, diverged or failed); called once."""


def snapshot_interval(steps: int) -> int:
    """Steps between snapshots: about 30 per run, so the views move every second."""
    return max(1, steps // 30)


# CPU seconds one set of spectra is guessed to take before any was timed.
_FIRST_SPECTRA_GUESS = 0.25

# When a queued snapshot gets spectra: always, never, or when due (live runs).
_ALWAYS, _NEVER, _WHEN_DUE = "always", "never", "when due"


class _SnapshotQueue:
    """Snapshots waiting for analysis; the consumer takes all pending at once."""

    def __init__(self) -> None:
        self._items: list[tuple[Snapshot, str]] = []
        self.steps: set[int] = set()
        self._closed = False
        self._condition = threading.Condition()

    def put(self, snapshot: Snapshot, spectra: str) -> None:
        with self._condition:
            self._items.append((snapshot, spectra))
            self.steps.add(snapshot.step)
            self._condition.notify()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify()

    def take_all(self) -> list[tuple[Snapshot, str]] | None:
        """Everything pending, waiting for something; None once closed and empty."""
        with self._condition:
            self._condition.wait_for(lambda: self._items or self._closed)
            items, self._items = self._items, []
            return items or None


class TrainingJob:
    """Train once with ``settings`` and analyse the snapshots, in two threads.

    Attributes:
        settings: What is trained.
        state: One of :data:`STATES`, or ``"error"``.
        run: The :class:`TrainingRun`, once :func:`train` has returned.
        device: Where it trains.
        task: The task it trains on.
        evaluation: The task's evaluation batch (CPU).
        steps, losses: Step number and training loss of every step so far.
        elapsed: Seconds of training so far.
        analyses: :class:`StepAnalysis` by step, in the order they came (a
            new dict at every change, so readers in other threads may iterate
            the one they hold).
        analysis_error: Whether the analysis failed (and stopped).
        given_run: The run shown instead of training one, or None.
    """

    def __init__(
        self,
        settings: LabSettings,
        options: JobOptions,
        listener: JobListener,
        *,
        after: TrainingJob | None = None,
        run: TrainingRun | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.state = "starting"
        self.run: TrainingRun | None = None
        self.device = resolve_device(options.device)
        if run is None:
            self.task: Task = build_task(settings.task, options.task_options)
            # In the dtype the model will have (torch's default).
            self.evaluation: EvaluationBatch = self.task.evaluation_batch(
                dtype=torch.get_default_dtype()
            )
        else:
            self.task = run.build_task()
            self.evaluation = run.evaluation
        self.given_run = run
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.elapsed = 0.0
        self.analyses: dict[int, StepAnalysis] = {}
        self.analysis_error = False
        self.stop_event = threading.Event()
        self._spectra_seconds, self._spectra_count = 0.0, 0
        self._listener = listener
        self._after = after
        self._queue = _SnapshotQueue()
        self._ended = threading.Event()
        self._training = threading.Thread(
            target=self._guard(self._train, "training"), daemon=True
        )
        self._analysis = threading.Thread(
            target=self._guard(self._analyse, "analysis"), daemon=True
        )

    @property
    def done(self) -> bool:
        """Whether the job has ended (its end was reported)."""
        return self._ended.is_set()

    def start(self) -> None:
        """Start the training thread (it starts the analysis thread)."""
        self._training.start()

    def request_stop(self) -> None:
        """Ask both threads to stop soon; the training thread ends within a step."""
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; True if it did within ``timeout`` seconds."""
        return self._ended.wait(timeout)

    def _guard(self, work: Callable[[], None], where: str) -> Callable[[], None]:
        def guarded() -> None:
            try:
                work()
            except Exception as error:
                if where == "training":
                    self.state = "error"
                    self.stop_event.set()
                else:
                    self.analysis_error = True
                self._listener.on_error(self, where, error)
            finally:
                if where == "training":
                    self._queue.close()
                    try:
                        self._listener.on_end(self)
                    finally:
                        self._ended.set()

        return guarded

    def _train(self) -> None:
        # A superseded job stops within a step; waiting keeps one run on the CPU.
        if self._after is not None:
            self._after.join(timeout=10.0)
        if self.options.torch_threads is not None:
            torch.set_num_threads(self.options.torch_threads)
        settings, task = self.settings, self.task
        self.state = "training"
        self._analysis.start()
        if self.given_run is not None:
            self._replay(self.given_run)
            return
        model = self._build_model()
        self._queue.put(self._initial_snapshot(model, task), _ALWAYS)
        self._listener.on_progress(self)

        run = train(
            model,
            task,
            settings.steps,
            settings.learning_rate,
            optimizer=self.options.optimizer,
            batch_size=self.options.batch_size,
            clip=self.options.clip,
            device=self.device,
            seed=settings.seed,
            callback=self._on_step,
            stop_event=self.stop_event,
            snapshot_every=snapshot_interval(settings.steps),
        )
        self.run = run
        if run.status == "stopped":
            # The analysis thread sees the stop event and ends on its own.
            self.state = "stopped"
            return

        if run.from_cache:
            self._replay(run)
            return
        self.state = "analysing"
        if run.snapshots[-1].step not in self._queue.steps:
            self._queue.put(run.snapshots[-1], _ALWAYS)
        self._listener.on_progress(self)
        self._finish_analysis()
        if run.status == "diverged":
            # Snapshots after the last good one belong to the diverging path.
            good = run.snapshots[-1].step
            self.analyses = {s: a for s, a in self.analyses.items() if s <= good}
        self.state = run.status

    def _replay(self, run: TrainingRun) -> None:
        """Analyse a run that had no callbacks (cached or given): some spectra."""
        self.run = run
        self.steps = list(range(1, len(run.losses) + 1))
        self.losses = list(run.losses)
        self.elapsed = run.elapsed
        self.state = "analysing"
        self._listener.on_progress(self)
        snapshots = run.snapshots
        count = min(self.options.cached_spectra, len(snapshots))
        last = len(snapshots) - 1
        chosen = {round(i * last / max(count - 1, 1)) for i in range(count)}
        for index, snapshot in enumerate(snapshots):
            if snapshot.step not in self._queue.steps:
                self._queue.put(snapshot, _ALWAYS if index in chosen else _NEVER)
        self._finish_analysis()
        self.state = run.status

    def _build_model(self) -> RecurrentModel:
        if self.given_run is not None:
            return self.given_run.build_model()
        settings, task = self.settings, self.task
        return RecurrentModel(
            settings.architecture,
            task.input_size,
            settings.width,
            task.output_size,
            init_scale=settings.init_scale,
            seed=settings.seed,
        )

    def _initial_snapshot(self, model: RecurrentModel, task: Task) -> Snapshot:
        evaluation = self.evaluation
        with torch.no_grad():
            outputs, hidden = model(evaluation.inputs)
        return Snapshot(
            step=0,
            state_dict={k: v.clone() for k, v in model.state_dict().items()},
            hidden=hidden,
            loss=task.loss(outputs, evaluation.targets).item(),
            accuracy=task.accuracy(outputs, evaluation.targets),
        )

    def _on_step(self, step: int, metrics: dict[str, Any]) -> None:
        self.steps.append(step)
        self.losses.append(metrics["loss"])
        self.elapsed = metrics["elapsed"]
        if "snapshot" in metrics:
            last = step == self.settings.steps
            self._queue.put(metrics["snapshot"], _ALWAYS if last else _WHEN_DUE)
        self._listener.on_progress(self)

    def _analyse(self) -> None:
        model = self._build_model().to(self.device)
        inputs = self.evaluation.inputs.to(self.device)
        components, warm_start = None, None
        owed: dict[int, tuple[Snapshot, StepAnalysis]] = {}  # step 0, the final
        newest: tuple[Snapshot, StepAnalysis] | None = None  # of the live ones
        while True:
            items = self._queue.take_all()
            for snapshot, when in items or ():
                if self.stop_event.is_set():
                    return
                result = describe_hidden(snapshot, components)
                components = result.components
                self._publish(result)
                if not self.options.spectra:
                    continue
                if when == _ALWAYS:
                    owed[snapshot.step] = (snapshot, result)
                elif when == _WHEN_DUE:
                    newest = (snapshot, result)

            training = items is not None and self.state == "training"
            for snapshot, result in self._spectra_now(owed, newest, training):
                if newest is not None and newest[1] is result:
                    newest = None
                started = time.thread_time()
                model.load_state_dict(snapshot.state_dict)
                spectra, warm_start = operator_spectra(
                    model, inputs, top_k=self.options.top_k, warm_start=warm_start
                )
                self._spectra_seconds += time.thread_time() - started
                self._spectra_count += 1
                if self.stop_event.is_set():
                    return
                self._publish(replace(result, spectra=spectra))
            if items is None:
                return

    def _spectra_now(
        self,
        owed: dict[int, tuple[Snapshot, StepAnalysis]],
        newest: tuple[Snapshot, StepAnalysis] | None,
        training: bool,
    ) -> list[tuple[Snapshot, StepAnalysis]]:
        """Which snapshots get spectra now (taking them out of ``owed``).

        Once training is over, every one owed. While training, one, and only
        if the CPU time of the spectra so far plus one more stays within
        ``spectra_share`` of the time training has run: first those owed, then
        the newest live one.
        """
        if not training:
            return [owed.pop(step) for step in sorted(owed)]
        count = self._spectra_count
        next_cost = self._spectra_seconds / count if count else _FIRST_SPECTRA_GUESS
        if (
            self._spectra_seconds + next_cost
            > self.options.spectra_share * self.elapsed
        ):
            return []
        if owed:
            return [owed.pop(min(owed))]
        return [] if newest is None else [newest]

    def _publish(self, result: StepAnalysis) -> None:
        # Copy on write: painting threads iterate the dict they picked up.
        self.analyses = {**self.analyses, result.step: result}
        self._listener.on_analysis(self, result)

    def _finish_analysis(self) -> None:
        """Let the analysis drain the queue, unless Stop is pressed meanwhile."""
        self._queue.close()
        while self._analysis.is_alive() and not self.stop_event.is_set():
            self._analysis.join(timeout=0.05)
