"""How a :class:`~kpwidgets.widgets.TrainingLab` lays out and paints its views.

Every ``paint_*`` function runs with the lab's paint gate held, for the lab's
current job only (the lab checks both), so a superseded run never paints.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import numpy as np

from kpwidgets.widgets._analysis import OPERATORS, StepAnalysis
from kpwidgets.widgets._figures import IPYMPL_HINT
from kpwidgets.widgets._plots import (
    CollapsePlot,
    LossPlot,
    SpectrumPlot,
    TrajectoryPlot,
    trial_styles,
)
from kpwidgets.widgets._status import readout_html

if TYPE_CHECKING:
    from kpwidgets.widgets._jobs import TrainingJob
    from kpwidgets.widgets._settings import LabSettings
    from kpwidgets.widgets._throttle import PaintBudget
    from kpwidgets.widgets.lab import TrainingLab

_VIEW_CLASSES = {
    "loss": LossPlot,
    "trajectories": TrajectoryPlot,
    "spectra": SpectrumPlot,
    "collapse": CollapsePlot,
}

SUBTITLE = (
    "One gradient step moves the hidden trajectories by "
    "<i>dz</i> = &minus;<i>&eta;</i> P K P* <i>e</i>: K (parameters) and P "
    "(dynamics) decide which directions they can move in."
)


def build_views(names: Sequence[str], backend: str) -> dict[str, Any]:
    """The views named, each with its own figure."""
    return {name: _VIEW_CLASSES[name](backend) for name in names}


def layout(lab: TrainingLab, title: str) -> widgets.VBox:
    """Everything in one box: controls and readout, status, then the figures."""
    plots = lab.plots
    heading = widgets.HTML(
        f"<div style='line-height:1.3'><span style='font-size:1.35em;"
        f"font-weight:600'>{title}</span><br><span style='color:#444'>"
        f"{SUBTITLE}</span></div>"
    )
    rows: list[widgets.Widget] = [
        heading,
        _row([lab.controls.widget, lab.readout], gap="8px 24px"),
        lab.status.widget,
    ]
    if lab.backend == "image":
        rows.append(
            widgets.HTML(
                f"<div style='line-height:1.3;color:#555;font-size:0.9em'>"
                f"{IPYMPL_HINT}</div>"
            )
        )
    for names in (("loss", "trajectories"), ("spectra", "collapse")):
        if "spectra" in names and ("trajectories" in plots or "spectra" in plots):
            rows.append(lab.view_controls.widget)
        figures = [plots[name].host.widget for name in names if name in plots]
        if figures:
            rows.append(_row(figures, gap="4px 12px"))
    return widgets.VBox(rows, layout=widgets.Layout(grid_gap="6px"))


def _row(children: list[widgets.Widget], gap: str) -> widgets.HBox:
    """A row that wraps onto the next line when the notebook is narrow."""
    return widgets.HBox(
        children,
        layout=widgets.Layout(
            flex_flow="row wrap", grid_gap=gap, align_items="flex-start"
        ),
    )


def paint_ready(lab: TrainingLab, device: str) -> None:
    """Before the first run: empty views scaled for the settings, and a readout."""
    settings = lab.settings
    empty = np.array([])
    if "loss" in lab.plots:
        lab.plots["loss"].update(empty, empty, empty, empty, settings.steps)
    if "spectra" in lab.plots:
        lab.plots["spectra"].update(None, None, lab.view_controls.spectrum.value)
    if "collapse" in lab.plots:
        lab.plots["collapse"].update(empty, empty, empty, {}, 0, settings.steps)
    lab.readout.value = readout_html("Current numbers", _run_rows(settings, device, 0))


def _run_rows(
    settings: LabSettings, device: str, done: int
) -> list[tuple[str, str | None]]:
    return [
        ("network", f"{settings.name}, g = {settings.init_scale:.2f}"),
        ("task", settings.task),
        ("device", device),
        ("step", f"{done} of {settings.steps}"),
    ]


def budgeted(
    budget: PaintBudget, paint: Callable[..., None], lab: TrainingLab, *args: Any
) -> None:
    """Run ``paint(lab, *args)`` and charge it, renders it queued included."""
    with budget.spend() as elsewhere:
        before = {name: view.host.full_redraws for name, view in lab.plots.items()}
        paint(lab, *args)
        elsewhere.append(
            sum(
                view.host.deferred_cost
                for name, view in lab.plots.items()
                if view.host.full_redraws != before[name]
            )
        )


def reset(lab: TrainingLab, job: TrainingJob) -> None:
    """Clear the views for a new job and say it is training."""
    if "trajectories" in lab.plots:
        lab.plots["trajectories"].set_trials(trial_styles(job.evaluation))
    _sync_view_steps(lab, [0], 0)
    paint_progress(lab, job)
    if "spectra" in lab.plots:
        lab.plots["spectra"].update(None, None, lab.view_controls.spectrum.value)
    _paint_collapse(lab, job)


def paint_progress(lab: TrainingLab, job: TrainingJob) -> None:
    """Status line, progress bar, loss curve and readout."""
    settings = job.settings
    done = len(job.losses)
    if job.state in ("starting", "training"):
        lab.status.show(
            f"training {settings.name} on {job.device.type}: step {done} of "
            f"{settings.steps}",
            "training",
        )
    elif job.state == "analysing":
        source = "loaded from the run cache" if job.run.from_cache else "trained"
        lab.status.show(
            f"analysing {settings.name} ({source}): spectra of K, P P* and P K P*",
            "analysing",
        )
    lab.status.advance(done, settings.steps)
    if "loss" in lab.plots:
        steps = np.asarray(job.steps[:done])
        losses = np.asarray(job.losses[:done])
        analysed = sorted(job.analyses.values(), key=lambda result: result.step)
        title = "Loss"
        if job.run is not None and job.run.status == "diverged":
            title = f"Loss (diverged at step {job.run.diverged_step})"
        lab.plots["loss"].update(
            steps,
            losses,
            np.array([result.step for result in analysed]),
            np.array([result.loss for result in analysed]),
            settings.steps,
            title,
        )
    lab.readout.value = readout_html("Current numbers", _readout_rows(lab, job))


def paint_analysis(lab: TrainingLab, job: TrainingJob, result: StepAnalysis) -> None:
    """Offer the new step in ``View step``; follow it if the view was at the end."""
    following = _offer_analysed_steps(lab, job)
    if following:
        paint_view(lab, job, spectra=result.spectra is not None)
    else:
        _paint_collapse(lab, job)


def paint_end(lab: TrainingLab, job: TrainingJob) -> None:
    """The final picture of a job: everything, and its final status."""
    if job.state == "error":
        return
    paint_progress(lab, job)
    if job.analyses:
        _offer_analysed_steps(lab, job)
    paint_view(lab, job)
    run = job.run
    message = run.message
    if job.analysis_error:
        message += "; the analysis failed (details below)"
    lab.status.show(message, run.status)


def paint_everything(lab: TrainingLab, job: TrainingJob) -> None:
    """Redraw a remembered job at once, as it ended."""
    reset(lab, job)
    paint_end(lab, job)


def paint_view(
    lab: TrainingLab,
    job: TrainingJob,
    *,
    trajectories: bool = True,
    spectra: bool = True,
    collapse: bool = True,
) -> None:
    """Trajectories, spectra, collapse cursor and readout at the viewed step."""
    viewed = _viewed(lab, job)
    if trajectories and viewed is not None and "trajectories" in lab.plots:
        lab.plots["trajectories"].update(
            viewed.projection, viewed.step, viewed.explained
        )
    if spectra and "spectra" in lab.plots:
        latest = _latest_spectra(job, viewed)
        lab.plots["spectra"].update(
            None if latest is None else latest.spectra,
            None if latest is None else latest.step,
            lab.view_controls.spectrum.value,
        )
    if collapse:
        _paint_collapse(lab, job)
    lab.readout.value = readout_html("Current numbers", _readout_rows(lab, job))


def _paint_collapse(lab: TrainingLab, job: TrainingJob) -> None:
    if "collapse" not in lab.plots:
        return
    analysed = sorted(job.analyses.values(), key=lambda result: result.step)
    with_spectra = [result for result in analysed if result.spectra is not None]
    viewed = _viewed(lab, job)
    lab.plots["collapse"].update(
        np.array([result.step for result in analysed]),
        np.array([result.participation_ratio for result in analysed]),
        np.array([result.step for result in with_spectra]),
        {
            name: np.array([r.spectra.effective_rank[name] for r in with_spectra])
            for name in OPERATORS
        },
        0 if viewed is None else viewed.step,
        job.settings.steps,
    )


def _offer_analysed_steps(lab: TrainingLab, job: TrainingJob) -> bool:
    """Offer every analysed step in ``View step``; True if it follows the newest."""
    steps = sorted(job.analyses)
    following = lab.view_controls.following
    current = lab.view_controls.view_step.value
    _sync_view_steps(lab, steps, steps[-1] if following else current)
    return following


def _sync_view_steps(lab: TrainingLab, steps: Sequence[int], value: int) -> None:
    """Set ``View step`` without its observer repainting from this thread."""
    lab._syncing_thread = threading.get_ident()
    try:
        lab.view_controls.set_steps(steps, value)
    finally:
        lab._syncing_thread = None


def _viewed(lab: TrainingLab, job: TrainingJob) -> StepAnalysis | None:
    return job.analyses.get(lab.view_controls.view_step.value)


def _latest_spectra(
    job: TrainingJob, viewed: StepAnalysis | None
) -> StepAnalysis | None:
    """The viewed step if it has spectra, else the latest earlier one that has."""
    if viewed is None:
        return None
    earlier = [
        result
        for step, result in job.analyses.items()
        if step <= viewed.step and result.spectra is not None
    ]
    return max(earlier, key=lambda result: result.step, default=None)


def _readout_rows(lab: TrainingLab, job: TrainingJob) -> list[tuple[str, str | None]]:
    """What the readout lists: the run, then the numbers at the viewed step."""
    settings, task = job.settings, job.task
    done = len(job.losses)
    rows = _run_rows(settings, job.device.type, done)
    if done and job.elapsed > 0:
        rows.append(("speed", f"{done / job.elapsed:.0f} steps/s"))
    if done:
        rows.append(("training loss", f"{job.losses[done - 1]:.3g}"))
    viewed = _viewed(lab, job)
    if viewed is None:
        return rows
    spectra = _latest_spectra(job, viewed)
    heading = f"at step {viewed.step}"
    if spectra is not None and spectra.step != viewed.step:
        heading += f" (spectra: step {spectra.step})"
    rows += [
        (heading, None),
        ("evaluation loss", f"{viewed.loss:.3g}"),
        (task.accuracy_name, f"{viewed.accuracy:.3g}"),
        ("hidden participation ratio", f"{viewed.participation_ratio:.2f}"),
        ("PCs for 95% of the variance", f"{viewed.variance_dimension:.2f}"),
    ]
    if spectra is not None:
        ranks = spectra.spectra.effective_rank
        rows += [
            (f"effective rank of {label}", f"{ranks[name]:.3g}")
            for name, label in zip(OPERATORS, ("K", "P P*", "P K P*"), strict=True)
        ]
        rows.append(
            ("misdirection cos(P K P*, P P*)", f"{spectra.spectra.misdirection:.3f}")
        )
    return rows
