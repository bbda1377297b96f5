"""``TrainingLab``: move a slider, watch a network retrain and its operators change."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from kpwidgets._validation import check_choice, check_float, check_int
from kpwidgets.training import OPTIMIZERS, TrainingRun, resolve_device
from kpwidgets.widgets import _views
from kpwidgets.widgets._analysis import StepAnalysis
from kpwidgets.widgets._controls import CONTROLS, TrainingControls, ViewControls
from kpwidgets.widgets._figures import resolve_figure_backend
from kpwidgets.widgets._jobs import JobOptions, TrainingJob
from kpwidgets.widgets._settings import (
    LabSettings,
    check_task_options,
    settings_of_run,
)
from kpwidgets.widgets._status import StatusArea
from kpwidgets.widgets._throttle import PaintBudget

VIEWS = ("loss", "trajectories", "spectra", "collapse")

# Finished runs kept in memory (with their analyses) for instant revisits.
_REMEMBERED_RUNS = 4

# Largest shares of CPU time that live redraws may take.
_PROGRESS_SHARE = 0.1
_ANALYSIS_SHARE = 0.08
# Seconds between live redraws of the trajectories, spectra and collapse plot.
_ANALYSIS_INTERVAL = 1.0


class TrainingLab:
    """Train a recurrent network from sliders and watch K, P and the dynamics.

    ``display(lab)``, or ``lab`` as the last line of a cell, shows the controls
    (``Architecture``, ``Width``, ``Task``, ``Init scale g``, ``Learning rate``,
    ``Steps``, ``Seed``), the ``Train`` and ``Stop`` buttons, a progress bar,
    a status line, a text readout and the live views: the loss, the hidden
    trajectories in their top three principal components, the spectra of K,
    P P* and P K P*, and the effective ranks over training (the collapse plot).

    Nothing trains until ``Train`` is pressed or :meth:`train` is called.
    Training runs in a background thread; changing a setting during a run
    cancels it and trains the new setting (after a first run, a change also
    retrains when ``Retrain on change`` is ticked). Finished runs are
    remembered, so going back to a setting redraws at once.

    Args:
        architecture, width, task, init_scale, learning_rate, steps, seed: The
            starting values of the controls (see :class:`LabSettings`).
        controls: Which of those get a visible control (by default all).
        views: Which of ``"loss"``, ``"trajectories"``, ``"spectra"`` and
            ``"collapse"`` to show (by default all).
        batch_size: Trials per training step.
        optimizer: ``"adam"`` or ``"sgd"``.
        clip: Gradient-norm clipping, or None.
        device: Where to train; by default the GPU if there is one, else the CPU.
        top_k: Eigenvalues computed per operator.
        spectra_share: The share of the training time that the spectra may
            take while training runs (on a busy machine they slow training by
            about that much); 0 computes them only after training. Step 0 and
            the final snapshot always get them, after training if not before.
        task_options: ``{task name: {option: value}}`` on top of the short-trial
            presets (:data:`TASK_PRESETS`), e.g. ``{"memory_pro":
            {"memory_steps": 20}}``.
        torch_threads: ``torch.set_num_threads`` applied when a run starts
            (1 leaves a core for the analysis and one for the notebook on a
            laptop); None leaves torch's setting alone.
        figures: ``"auto"``, ``"ipympl"`` or ``"image"`` (see
            :func:`resolve_figure_backend`).
        paint_interval: Seconds between live redraws of the loss, status and
            readout while training (longer when redraws are slow: they take
            at most 10% of the time).
        title: The heading shown above the controls.

    Attributes:
        controls: The :class:`TrainingControls` (``controls.width`` etc.).
        view_controls: ``Spectrum of`` and ``View step``, which never retrain.
        status: The :class:`StatusArea` (``status.text``, ``status.errors``).
        readout: The ``HTML`` readout of the current numbers.
        plots: The views by name, each with ``.host.figure`` and its artists.
        widget: The root widget.

    Raises:
        ValueError: If a setting is outside its control's range or an option
            is invalid.

    Notes:
        Live redraws are budgeted to keep training at pace: the loss curve is
        blitted at most every ``paint_interval`` seconds and 10% of the CPU
        time, the other views at most once a second and 8%, and the spectra
        (a few tenths of a second each at the default size) at most
        ``spectra_share`` of the training time; each panel sets
        ``torch.set_num_threads(torch_threads)`` when a run starts.
        While a cell blocks in :meth:`wait`, ipympl figures redraw only when the
        cell ends (the kernel answers the browser between cells); the status
        line and progress bar keep moving.
    """

    default_controls: tuple[str, ...] = CONTROLS
    default_views: tuple[str, ...] = VIEWS
    default_title = "KPFlow training lab"

    def __init__(
        self,
        architecture: str = "gru",
        width: int = 64,
        task: str = "memory_pro",
        init_scale: float = 1.0,
        learning_rate: float = 3e-3,
        steps: int = 300,
        seed: int = 0,
        *,
        controls: Sequence[str] | None = None,
        views: Sequence[str] | None = None,
        batch_size: int = 32,
        optimizer: str = "adam",
        clip: float | None = 1.0,
        device: str | None = None,
        top_k: int = 10,
        spectra_share: float = 0.1,
        task_options: dict[str, dict[str, Any]] | None = None,
        torch_threads: int | None = 1,
        figures: str = "auto",
        paint_interval: float = 0.4,
        title: str | None = None,
    ) -> None:
        settings = LabSettings(
            architecture, width, task, init_scale, learning_rate, steps, seed
        )
        controls = self.default_controls if controls is None else controls
        views = self.default_views if views is None else views
        for view in views:
            check_choice("a name in views", view, VIEWS)
        self.options = JobOptions(
            batch_size=check_int("batch_size", batch_size, minimum=1),
            optimizer=check_choice("optimizer", optimizer, OPTIMIZERS),
            clip=None if clip is None else check_float("clip", clip, low=0.0),
            device=device,
            top_k=check_int("top_k", top_k, minimum=1),
            spectra_share=check_float(
                "spectra_share", spectra_share, low=0.0, high=1.0
            ),
            torch_threads=None
            if torch_threads is None
            else check_int("torch_threads", torch_threads, minimum=1),
            task_options=check_task_options(task_options),
            spectra="spectra" in views or "collapse" in views,
        )
        self.paint_interval = check_float("paint_interval", paint_interval, low=0.05)
        self.backend = resolve_figure_backend(figures)

        self.controls = TrainingControls(settings, controls)
        self.view_controls = ViewControls()
        self.status = StatusArea()
        self.readout = widgets.HTML(layout=widgets.Layout(width="330px"))
        self.plots = _views.build_views(views, self.backend)

        self._gate = threading.RLock()
        self._job: TrainingJob | None = None
        self._remembered: OrderedDict[LabSettings, TrainingJob] = OrderedDict()
        self._trained = False
        self._quiet = False
        self._syncing_thread: int | None = None
        self.progress_budget = PaintBudget(self.paint_interval, _PROGRESS_SHARE)
        self.analysis_budget = PaintBudget(_ANALYSIS_INTERVAL, _ANALYSIS_SHARE)

        controls, views = self.controls, self.view_controls
        controls.train_button.on_click(self._reporting("Train", lambda _: self.train()))
        controls.stop_button.on_click(self._reporting("Stop", lambda _: self.stop()))
        controls.observe(self._reporting("a setting", self._on_setting))
        views.spectrum.observe(
            self._reporting("Spectrum of", self._on_spectrum), names="value"
        )
        views.view_step.observe(
            self._reporting("View step", self._on_view_step), names="value"
        )
        title = self.default_title if title is None else title
        self.widget = _views.layout(self, title)
        self._show_ready()

    # Display: the panel is its root widget.
    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def settings(self) -> LabSettings:
        """What the controls show now (what :meth:`train` would train)."""
        return self.controls.settings

    @property
    def run(self) -> TrainingRun | None:
        """The current job's :class:`TrainingRun`, once its training returned."""
        return None if self._job is None else self._job.run

    @property
    def state(self) -> str:
        """The current run's state, or ``"ready"`` before the first.

        One of ``"ready"``, ``"training"``, ``"analysing"``, ``"finished"``,
        ``"stopped"``, ``"diverged"`` or ``"error"``.
        """
        if self._job is None:
            return "ready"
        return "training" if self._job.state == "starting" else self._job.state

    @property
    def analyses(self) -> dict[int, StepAnalysis]:
        """The current job's analysed snapshots, by step."""
        return {} if self._job is None else dict(self._job.analyses)

    def configure(self, **changes: Any) -> None:
        """Set several controls at once, e.g. ``lab.configure(width=32)``.

        Acts like one change of one control: retrains if a run is going (or
        ``Retrain on change`` applies), else only updates the status line.

        Raises:
            ValueError: For an unknown name or a value out of range.
        """
        settings = self.settings.replace(**changes)
        self._quiet = True
        try:
            self.controls.show(settings)
        finally:
            self._quiet = False
        self._on_setting(None)

    def train(self) -> None:
        """Train with the current settings (cancelling any run in progress)."""
        self._trained = True
        self._start(self.settings, None)

    def _start(self, settings: LabSettings, run: TrainingRun | None) -> None:
        """Make a job for ``settings`` (showing ``run`` if given) the current one."""
        with self._gate:
            previous = self._job
            if previous is not None:
                previous.request_stop()
            self.status.clear_errors()
            remembered = None if run is not None else self._remembered.get(settings)
            if remembered is not None:
                self._remembered.move_to_end(settings)
                self._job = remembered
                _views.paint_everything(self, remembered)
                return
            after = None if previous is None or previous.done else previous
            job = TrainingJob(settings, self.options, self, after=after, run=run)
            self._job = job
            self.progress_budget.reset()
            self.analysis_budget.reset()
            _views.reset(self, job)
        job.start()

    def show_run(self, run: TrainingRun) -> None:
        """Show a run trained elsewhere (e.g. by :func:`kpwidgets.training.train`).

        The controls move to the run's settings without retraining, and its
        snapshots are analysed in the background, as for a cached run.

        Raises:
            ValueError: If the run has no snapshots, or its settings are outside
                the controls' ranges.
        """
        settings = settings_of_run(run)
        self._quiet = True
        try:
            self.controls.show(settings)
        finally:
            self._quiet = False
        self._start(settings, run)

    def stop(self) -> None:
        """Stop the run in progress; the panel keeps its last state."""
        job = self._job
        if job is not None and not job.done:
            with self._gate:
                job.request_stop()

    def wait(self, timeout: float | None = 300.0) -> TrainingRun | None:
        """Block until the current run has ended; return it (None if none started).

        Raises:
            TimeoutError: If it is still going after ``timeout`` seconds.
        """
        job = self._job
        if job is None:
            return None
        if not job.join(timeout):
            raise TimeoutError(
                f"training {job.settings.name} was still going after {timeout} s; "
                "call stop() to end it, or wait longer"
            )
        return job.run

    # JobListener: called from the job's threads.
    # Redraws wait until their budget allows; the final redraw shows whatever
    # was skipped.
    def on_progress(self, job: TrainingJob) -> None:
        budget = self.progress_budget
        if job.state != "training" or budget.due():
            paint = functools.partial(_views.budgeted, budget, _views.paint_progress)
            self._paint(job, paint, blocking=False)

    def on_analysis(self, job: TrainingJob, result: StepAnalysis) -> None:
        budget = self.analysis_budget
        if budget.due():
            paint = functools.partial(_views.budgeted, budget, _views.paint_analysis)
            self._paint(job, lambda lab, job: paint(lab, job, result))

    def on_error(self, job: TrainingJob, where: str, error: BaseException) -> None:
        self._paint(
            job, lambda lab, j: lab.status.report_error(where, error), final=True
        )

    def on_end(self, job: TrainingJob) -> None:
        # Remember complete runs only: not stopped mid-analysis, not failed.
        if (
            job.state in ("finished", "diverged")
            and not job.stop_event.is_set()
            and not job.analysis_error
            and job.given_run is None
        ):
            with self._gate:
                self._remembered[job.settings] = job
                while len(self._remembered) > _REMEMBERED_RUNS:
                    self._remembered.popitem(last=False)
        self._paint(job, _views.paint_end, final=True)

    def _paint(
        self,
        job: TrainingJob,
        paint: Callable[[TrainingLab, TrainingJob], None],
        *,
        blocking: bool = True,
        final: bool = False,
    ) -> None:
        """Run ``paint(self, job)`` if ``job`` is current and may still paint."""
        if not self._gate.acquire(blocking=blocking):
            return
        try:
            if job is not self._job or (job.stop_event.is_set() and not final):
                return
            paint(self, job)
        except Exception as error:
            self.status.report_error("drawing the panel", error)
        finally:
            self._gate.release()

    def _reporting(self, where: str, handler: Callable[[Any], None]):
        """``handler`` with its exceptions shown in the panel, not only logged."""

        @functools.wraps(handler)
        def reporting(argument: Any) -> None:
            try:
                handler(argument)
            except Exception as error:
                self.status.report_error(where, error)

        return reporting

    def _on_setting(self, change: dict[str, Any] | None) -> None:
        if self._quiet:
            return
        running = self._job is not None and not self._job.done
        if running or (self._trained and self.controls.retrain.value):
            self.train()
        else:
            self._show_ready()

    def _on_spectrum(self, change: dict[str, Any]) -> None:
        if self._job is not None:
            with self._gate:
                _views.paint_view(self, self._job, trajectories=False, collapse=False)

    def _on_view_step(self, change: dict[str, Any]) -> None:
        # View step also moves when a painting thread offers a new step.
        if self._syncing_thread != threading.get_ident() and self._job is not None:
            with self._gate:
                _views.paint_view(self, self._job)

    def _show_ready(self) -> None:
        settings = self.settings
        self.status.show(
            f"ready: press Train to train {settings.name} on {settings.task} "
            f"for {settings.steps} steps",
            "ready",
        )
        if self._job is None:
            with self._gate:
                _views.paint_ready(self, resolve_device(self.options.device).type)
