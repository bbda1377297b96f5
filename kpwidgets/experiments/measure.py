"""Train one :class:`~kpwidgets.experiments.specs.RunSpec` and measure it.

Each function returns plain numpy arrays keyed by name, with one row per
snapshot, ready for :func:`~kpwidgets.experiments.results.save_result`.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch

from kpwidgets.analysis import kpflow_summary, participation_ratio, variance_dimension
from kpwidgets.analysis.multitask import (
    own_term_alignment,
    task_interference,
    task_similarity,
)
from kpwidgets.analysis.summary import OPERATOR_NAMES
from kpwidgets.experiments.specs import RunSpec
from kpwidgets.models import RecurrentModel
from kpwidgets.tasks import make_task
from kpwidgets.training import TrainingRun, train

# Keys of the operators in result files ("PP*" is not a good array name).
OPERATOR_KEYS = {"K": "K", "PP*": "PP", "PKP*": "PKP"}


def execute(spec: RunSpec, threads: int | None = 1) -> dict[str, np.ndarray]:
    """Train and measure one run; what a sweep worker calls.

    Args:
        spec: The run.
        threads: Torch threads to use while it runs (restored afterwards);
            None leaves the setting alone.

    Returns:
        The run's arrays (see :func:`measure_collapse`, :func:`measure_multitask`),
        plus ``"wall_seconds"``.
    """
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        run = train_spec(spec)
        if spec.experiment == "collapse":
            arrays = measure_collapse(spec, run)
        else:
            arrays = measure_multitask(spec, run)
    finally:
        torch.set_num_threads(previous)
    arrays["wall_seconds"] = np.array(time.perf_counter() - start)
    return arrays


def train_spec(spec: RunSpec) -> TrainingRun:
    """Train the run's model (CPU, float32), keeping the measured snapshots."""
    task = make_task(spec.task, **spec.task_options)
    model = RecurrentModel(
        spec.architecture,
        task.input_size,
        spec.hidden_size,
        task.output_size,
        init_scale=spec.init_scale,
        seed=spec.seed,
    )
    return train(
        model,
        task,
        spec.steps,
        spec.lr,
        clip=spec.clip,
        device="cpu",
        seed=spec.seed,
        snapshot_every=spec.snapshot_every,
        cache=False,
    )


def _training_curves(run: TrainingRun, spec: RunSpec) -> dict[str, np.ndarray]:
    """Per-step loss and accuracy, padded with NaN after a divergence."""
    losses = np.full(spec.steps, np.nan)
    accuracy = np.full(spec.steps, np.nan)
    losses[: len(run.losses)] = run.losses
    accuracy[: len(run.metrics["accuracy"])] = run.metrics["accuracy"]
    return {
        "train_loss": losses,
        "train_accuracy": accuracy,
        "diverged": np.array(run.status == "diverged"),
    }


def measure_collapse(spec: RunSpec, run: TrainingRun) -> dict[str, np.ndarray]:
    """Spectra, effective ranks, misdirection and hidden dimension per snapshot.

    Returns:
        ``step``, ``eval_loss``, ``eval_accuracy``, ``hidden_pr`` and
        ``hidden_dim95`` (on the run's evaluation batch), then, on the first
        ``spec.analysis_trials`` trials in float64: ``rank_<op>`` (participation
        ratio), ``time_rank_<op>`` (over time; NaN unless ``spec.time_ranks``)
        and ``eigenvalues_<op>`` ``[snapshots, 10]`` for ``op`` in ``K``, ``PP``,
        ``PKP``, and ``misdirection``; plus the training curves.
    """
    task = run.build_task()
    batch = task.evaluation_batch(spec.analysis_trials, dtype=torch.float64)
    axes = ("time",) if spec.time_ranks else ()
    rows: dict[str, list] = {"step": [], "eval_loss": [], "eval_accuracy": []}
    for key in ("hidden_pr", "hidden_dim95", "misdirection"):
        rows[key] = []
    for key in OPERATOR_KEYS.values():
        rows[f"rank_{key}"], rows[f"time_rank_{key}"] = [], []
        rows[f"eigenvalues_{key}"] = []
    warm_start = None
    for index, snapshot in enumerate(run.snapshots):
        model = run.build_model(index).double()
        summary = kpflow_summary(
            model,
            batch.inputs,
            top_k=10,
            axes=axes,
            generator=torch.Generator().manual_seed(spec.seed),
            warm_start=warm_start,
        )
        warm_start = summary.warm_start
        rows["step"].append(snapshot.step)
        rows["eval_loss"].append(snapshot.loss)
        rows["eval_accuracy"].append(snapshot.accuracy)
        rows["hidden_pr"].append(participation_ratio(snapshot.hidden))
        rows["hidden_dim95"].append(variance_dimension(snapshot.hidden))
        rows["misdirection"].append(summary.misdirection)
        for name in OPERATOR_NAMES:
            key = OPERATOR_KEYS[name]
            rows[f"rank_{key}"].append(summary.effective_rank[name])
            partial = summary.partial_effective_rank[name]
            rows[f"time_rank_{key}"].append(partial.get("time", np.nan))
            values = np.full(10, np.nan)
            found = summary.eigenvalues[name].numpy()
            values[: len(found)] = found
            rows[f"eigenvalues_{key}"].append(values)
    arrays = {key: np.asarray(value, dtype=float) for key, value in rows.items()}
    arrays["step"] = arrays["step"].astype(np.int64)
    arrays.update(_training_curves(run, spec))
    return arrays


def measure_multitask(spec: RunSpec, run: TrainingRun) -> dict[str, np.ndarray]:
    r"""Task similarity of hidden states and operator interference per snapshot.

    With trials grouped by task, ``e_l`` the readout error of task ``l``'s
    trials (zero elsewhere) and ``eta`` the learning rate,

    .. math::

        dz_{k \leftarrow l} = -\eta\, P_k K_{kl} P_l^* e_l
            = -\eta\, [P K P^* e_l]_{\text{trials of } k},

    since P is block-diagonal over trials. Both measures are those of
    :mod:`kpwidgets.analysis.multitask` with its defaults, on the steps after
    the context phase: hidden states and pushes centred over each task's own
    trials, trials matched by stimulus angle.

    Returns:
        ``step``, ``eval_loss``, ``eval_accuracy``; ``hidden_similarity``
        ``[S, K, K]`` (:func:`~kpwidgets.analysis.task_similarity`);
        ``interference_norm`` ``[S, K, K]`` (``||dz_{k<-l}||``, row k, column
        l); ``interference_alignment`` ``[S, K, K]`` (``cos(dz_{k<-l},
        dz_{k<-k})`` at that snapshot,
        :func:`~kpwidgets.analysis.task_interference`); ``cumulative_alignment``
        ``[S, K, K]`` (the same for the sums of ``dz_{k<-l}`` over snapshots so
        far, each weighted by the steps it stands for); ``task_names``;
        training curves.
    """
    task = run.build_task()
    batch = dataclasses.replace(
        run.evaluation,
        inputs=run.evaluation.inputs.double(),
        targets=run.evaluation.targets.double(),
    )
    after_cue = slice(task.phases["stimulus"].start, task.num_steps)
    rows: dict[str, list] = {
        key: []
        for key in (
            "step",
            "eval_loss",
            "eval_accuracy",
            "hidden_similarity",
            "interference_norm",
            "interference_alignment",
            "cumulative_alignment",
        )
    }
    total = None
    previous_step = 0
    for index, snapshot in enumerate(run.snapshots):
        model = run.build_model(index).double()
        with torch.no_grad():
            _, hidden = model(batch.inputs)
        interference = task_interference(model, task, batch, steps=after_cue)

        # moved[k, l] = dz_{k<-l}, centred as the alignment compares it; the
        # sum over snapshots weights each by the training steps it stands for.
        moved = -spec.lr * interference.compared  # [K(k), K(l), trials, T', H]
        weight = max(snapshot.step - previous_step, 1)
        total = weight * moved if total is None else total + weight * moved
        previous_step = snapshot.step

        rows["step"].append(snapshot.step)
        rows["eval_loss"].append(snapshot.loss)
        rows["eval_accuracy"].append(snapshot.accuracy)
        rows["hidden_similarity"].append(
            task_similarity(hidden, batch.labels, steps=after_cue).numpy()
        )
        rows["interference_norm"].append((spec.lr * interference.size).numpy())
        rows["interference_alignment"].append(interference.alignment.numpy())
        rows["cumulative_alignment"].append(own_term_alignment(total).numpy())
    arrays = {key: np.asarray(value, dtype=float) for key, value in rows.items()}
    arrays["step"] = arrays["step"].astype(np.int64)
    arrays["task_names"] = np.array(batch.label_names)
    arrays.update(_training_curves(run, spec))
    return arrays
