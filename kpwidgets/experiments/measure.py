"""Train one :class:`~kpwidgets.experiments.specs.RunSpec` and measure it.

Each function returns plain numpy arrays keyed by name, with one row per
snapshot, ready for :func:`~kpwidgets.experiments.results.save_result`.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from kpwidgets.analysis import kpflow_summary, participation_ratio, variance_dimension
from kpwidgets.analysis.gradient_flow import readout_error
from kpwidgets.analysis.summary import OPERATOR_NAMES
from kpwidgets.experiments.specs import RunSpec
from kpwidgets.models import RecurrentModel
from kpwidgets.operators import kpflow_operators
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


def _within_task_centred(
    vectors: torch.Tensor, labels: torch.Tensor, num_tasks: int
) -> torch.Tensor:
    """Each task's trials ``[B, T, H]`` stacked and centred: ``[K, trials*T*H]``.

    Subtracting a task's mean over its trials at each (step, unit) keeps what
    depends on the stimulus angle and drops what every trial of the task
    shares (the fixation-driven path, the cue), which would otherwise make
    every pair of tasks look alike.
    """
    rows = []
    for k in range(num_tasks):
        trials = vectors[labels == k]  # [trials, T, H]
        rows.append((trials - trials.mean(dim=0, keepdim=True)).reshape(-1))
    return torch.stack(rows)


def _task_similarity(
    hidden: torch.Tensor, labels: torch.Tensor, window: slice, num_tasks: int
) -> np.ndarray:
    """Cosine between tasks' hidden states at matched stimulus angles [K, K].

    Trial ``i`` of every task has the same angle (the evaluation batch is
    built so), so the tasks' centred states (:func:`_within_task_centred`,
    over the steps in ``window``) line up entry by entry.
    """
    flat = _within_task_centred(hidden[:, window], labels, num_tasks)
    flat = flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-300)
    return (flat @ flat.T).numpy()


def _cosines(vectors: torch.Tensor) -> np.ndarray:
    """``cos(v[k, l], v[k, k])`` for ``vectors [K, K, N]``: alignment with own term."""
    own = vectors.diagonal(dim1=0, dim2=1).T  # [K, N]
    dots = (vectors * own[:, None]).sum(-1)  # [K, K]
    norms = vectors.norm(dim=-1) * own.norm(dim=-1)[:, None]
    return (dots / norms.clamp_min(1e-300)).numpy()


def measure_multitask(spec: RunSpec, run: TrainingRun) -> dict[str, np.ndarray]:
    r"""Task similarity of hidden states and operator interference per snapshot.

    With trials grouped by task, ``e_l`` the readout error of task ``l``'s
    trials (zero elsewhere) and ``eta`` the learning rate,

    .. math::

        dz_{k \leftarrow l} = -\eta\, P_k K_{kl} P_l^* e_l
            = -\eta\, [P K P^* e_l]_{\text{trials of } k},

    since P is block-diagonal over trials. The vectors ``dz_{k<-l}`` are
    windowed and centred over task k's trials like the hidden states
    (:func:`_within_task_centred`).

    Returns:
        ``step``, ``eval_loss``, ``eval_accuracy``; ``hidden_similarity``
        ``[S, K, K]`` (:func:`_task_similarity` after the context phase);
        ``interference_norm`` ``[S, K, K]`` (``||dz_{k<-l}||``, row k, column
        l); ``interference_alignment`` ``[S, K, K]`` (``cos(dz_{k<-l},
        dz_{k<-k})`` at that snapshot); ``cumulative_alignment`` ``[S, K, K]``
        (the same for the sums of ``dz_{k<-l}`` over snapshots so far, each
        weighted by the steps it stands for); ``task_names``; training curves.
    """
    task = run.build_task()
    evaluation = run.evaluation
    labels = evaluation.labels
    num_tasks = len(evaluation.label_names)
    inputs = evaluation.inputs.double()
    targets = evaluation.targets.double()
    masks = torch.stack([(labels == k).double() for k in range(num_tasks)])  # [K, B]
    window = slice(task.phases["stimulus"].start, task.num_steps)
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
            _, hidden = model(inputs)
        error = readout_error(model, task, inputs, targets, hidden)  # [B, T, H]
        operators = kpflow_operators(model.cell, inputs, hidden)
        sources = error[None] * masks[:, :, None, None]  # [K(l), B, T, H]
        moved = -spec.lr * operators.hidden_ntk.matvec(sources)  # [K(l), B, T, H]

        # vectors[k, l] = dz_{k<-l}: task l's push read on task k's trials,
        # centred over task k's trials and windowed as the hidden states are.
        vectors = torch.stack(
            [_within_task_centred(push[:, window], labels, num_tasks) for push in moved]
        ).transpose(0, 1)  # [K(k), K(l), N]
        weight = max(snapshot.step - previous_step, 1)
        total = weight * vectors if total is None else total + weight * vectors
        previous_step = snapshot.step

        rows["step"].append(snapshot.step)
        rows["eval_loss"].append(snapshot.loss)
        rows["eval_accuracy"].append(snapshot.accuracy)
        rows["hidden_similarity"].append(
            _task_similarity(hidden, labels, window, num_tasks)
        )
        rows["interference_norm"].append(vectors.norm(dim=-1).numpy())
        rows["interference_alignment"].append(_cosines(vectors))
        rows["cumulative_alignment"].append(_cosines(total))
    arrays = {key: np.asarray(value, dtype=float) for key, value in rows.items()}
    arrays["step"] = arrays["step"].astype(np.int64)
    arrays["task_names"] = np.array(evaluation.label_names)
    arrays.update(_training_curves(run, spec))
    return arrays
