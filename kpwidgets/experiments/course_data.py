"""The sweeps condensed into arrays: what the course notebooks load.

:func:`load_collapse_sweep` and :func:`load_multitask_sweep` read the small
precomputed results that ship in ``kpwidgets/data``; :func:`regenerate_course_data`
runs the course sweeps again and rewrites them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from kpwidgets.experiments.results import RunResult, load_results

DATA_PACKAGE = "kpwidgets.data"
COLLAPSE_FILE = "collapse_sweep.npz"
MULTITASK_FILE = "multitask_sweep.npz"

# Metrics of the collapse runs with one value per snapshot.
COLLAPSE_METRICS = (
    "eval_loss",
    "eval_accuracy",
    "hidden_pr",
    "hidden_dim95",
    "misdirection",
    "rank_K",
    "rank_PP",
    "rank_PKP",
    "time_rank_K",
    "time_rank_PP",
    "time_rank_PKP",
)
MULTITASK_MATRICES = (
    "hidden_similarity",
    "interference_norm",
    "interference_alignment",
    "cumulative_alignment",
)

# Two ways to split the four tasks into two pairs.
PARTITIONS = {
    "pro/anti": (("memory_pro", "delay_pro"), ("memory_anti", "delay_anti")),
    "delay/memory": (("memory_pro", "memory_anti"), ("delay_pro", "delay_anti")),
}


@dataclass(frozen=True)
class CollapseSweep:
    """The collapse sweep as arrays over (architecture, g, seed, snapshot).

    Attributes:
        architectures: ``A`` architecture names.
        init_scales: ``[G]`` values of g.
        seeds: ``[S]`` seeds.
        steps: ``[N]`` training steps of the snapshots.
        metrics: Per-snapshot values ``[A, G, S, N]`` keyed as
            :data:`COLLAPSE_METRICS` (NaN where a run diverged earlier), plus
            ``eigenvalues_K``, ``eigenvalues_PP``, ``eigenvalues_PKP``
            ``[A, G, S, N, 10]`` and ``train_loss`` ``[A, G, S, steps]``.
        settings: The settings shared by the runs (width, task, lr, ...).
    """

    architectures: tuple[str, ...]
    init_scales: np.ndarray
    seeds: np.ndarray
    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    settings: dict[str, Any]

    def mean(self, metric: str) -> np.ndarray:
        """The seed mean of a metric: ``[A, G, N]`` (or ``[A, G, steps]``)."""
        return np.nanmean(self.metrics[metric], axis=2)


@dataclass(frozen=True)
class MultitaskSweep:
    """The multi-task sweep as arrays over (seed, snapshot, task k, task l).

    Attributes:
        task_names: The four task names, in matrix order.
        seeds: ``[S]`` seeds.
        steps: ``[N]`` training steps of the snapshots.
        metrics: ``hidden_similarity``, ``interference_norm``,
            ``interference_alignment``, ``cumulative_alignment`` ``[S, N, K, K]``
            (see :func:`~kpwidgets.experiments.measure.measure_multitask`),
            ``eval_loss`` and ``eval_accuracy`` ``[S, N]``, ``train_loss``
            ``[S, steps]``.
        settings: The settings shared by the runs.
    """

    task_names: tuple[str, ...]
    seeds: np.ndarray
    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    settings: dict[str, Any]

    def grouping(self, metric: str, partition: str) -> np.ndarray:
        """:func:`grouping_score` of a matrix metric at every snapshot ``[S, N]``."""
        return grouping_score(self.metrics[metric], self.task_names, partition)


def grouping_score(
    matrices: np.ndarray, task_names: Sequence[str], partition: str
) -> np.ndarray:
    """Mean within-pair minus mean across-pair entry of task matrices ``[..., K, K]``.

    Positive when the tasks of each pair of ``PARTITIONS[partition]`` are more
    alike (by the matrix's measure) than tasks of different pairs. Matrices
    are symmetrised first; the diagonal is left out.
    """
    if partition not in PARTITIONS:
        raise ValueError(
            f"partition must be one of {sorted(PARTITIONS)}; got {partition!r}"
        )
    symmetric = (matrices + np.swapaxes(matrices, -1, -2)) / 2
    group = {
        name: index for index, pair in enumerate(PARTITIONS[partition]) for name in pair
    }
    same = np.array([[group[a] == group[b] for b in task_names] for a in task_names])
    off_diagonal = ~np.eye(len(task_names), dtype=bool)
    within = symmetric[..., same & off_diagonal].mean(-1)
    across = symmetric[..., ~same].mean(-1)
    return within - across


def _shared_settings(results: Sequence[RunResult], varying: Sequence[str]):
    settings = dataclasses.asdict(results[0].spec)
    for key in varying:
        settings.pop(key)
    return settings


def _pad(values: np.ndarray, length: int) -> np.ndarray:
    """``values`` along its first axis padded with NaN to ``length``."""
    padded = np.full((length, *values.shape[1:]), np.nan)
    padded[: len(values)] = values
    return padded


def condense_collapse(results: Sequence[RunResult]) -> CollapseSweep:
    """Stack collapse run results into a :class:`CollapseSweep`."""
    results = [r for r in results if r.spec.experiment == "collapse"]
    if not results:
        raise ValueError("no collapse runs to condense")
    architectures = tuple(dict.fromkeys(r.spec.architecture for r in results))
    scales = np.array(sorted({r.spec.init_scale for r in results}))
    seeds = np.array(sorted({r.spec.seed for r in results}))
    steps = max((r["step"] for r in results), key=len)
    shape = (len(architectures), len(scales), len(seeds))
    keys = list(COLLAPSE_METRICS) + [f"eigenvalues_{k}" for k in ("K", "PP", "PKP")]
    metrics = {}
    for key in [*keys, "train_loss"]:
        length = len(results[0]["train_loss"]) if key == "train_loss" else len(steps)
        tail = results[0][key].shape[1:]
        metrics[key] = np.full((*shape, length, *tail), np.nan)
    for r in results:
        index = (
            architectures.index(r.spec.architecture),
            int(np.searchsorted(scales, r.spec.init_scale)),
            int(np.searchsorted(seeds, r.spec.seed)),
        )
        for key, array in metrics.items():
            array[index] = _pad(r[key], array.shape[3])
    settings = _shared_settings(results, ("architecture", "init_scale", "seed"))
    return CollapseSweep(architectures, scales, seeds, steps, metrics, settings)


def condense_multitask(results: Sequence[RunResult]) -> MultitaskSweep:
    """Stack multi-task run results into a :class:`MultitaskSweep`."""
    results = sorted(
        (r for r in results if r.spec.experiment == "multitask"),
        key=lambda r: r.spec.seed,
    )
    if not results:
        raise ValueError("no multitask runs to condense")
    steps = max((r["step"] for r in results), key=len)
    metrics = {}
    for key in (*MULTITASK_MATRICES, "eval_loss", "eval_accuracy"):
        metrics[key] = np.stack([_pad(r[key], len(steps)) for r in results])
    metrics["train_loss"] = np.stack([r["train_loss"] for r in results])
    return MultitaskSweep(
        tuple(str(name) for name in results[0]["task_names"]),
        np.array([r.spec.seed for r in results]),
        steps,
        metrics,
        _shared_settings(results, ("seed",)),
    )


def save_sweep(sweep: CollapseSweep | MultitaskSweep, path: str | os.PathLike[str]):
    """Write a condensed sweep as one npz (float32 measurements, JSON labels)."""
    labels = {
        "kind": type(sweep).__name__,
        "settings": sweep.settings,
        "names": list(
            sweep.architectures
            if isinstance(sweep, CollapseSweep)
            else sweep.task_names
        ),
    }
    arrays = {f"metric_{k}": v.astype(np.float32) for k, v in sweep.metrics.items()}
    axis = sweep.init_scales if isinstance(sweep, CollapseSweep) else np.array([])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        labels=np.array(json.dumps(labels)),
        init_scales=axis,
        seeds=sweep.seeds,
        steps=sweep.steps,
        **arrays,
    )
    return path


def load_sweep(path: str | os.PathLike[str]) -> CollapseSweep | MultitaskSweep:
    """Read a file written by :func:`save_sweep`.

    Raises:
        ValueError: If ``path`` is neither such a file nor a sweep directory.
    """
    if not Path(path).is_file():
        raise ValueError(
            f"no sweep at {path}: expected a sweep directory of run files or a "
            "condensed .npz"
        )
    with np.load(path, allow_pickle=False) as data:
        labels = json.loads(str(data["labels"]))
        metrics = {
            key.removeprefix("metric_"): data[key].astype(np.float64)
            for key in data.files
            if key.startswith("metric_")
        }
        seeds, steps, scales = data["seeds"], data["steps"], data["init_scales"]
    names = tuple(labels["names"])
    if labels["kind"] == "CollapseSweep":
        return CollapseSweep(names, scales, seeds, steps, metrics, labels["settings"])
    return MultitaskSweep(names, seeds, steps, metrics, labels["settings"])


def _packaged(name: str) -> Path:
    return Path(str(resources.files(DATA_PACKAGE).joinpath(name)))


def load_collapse_sweep(path: str | os.PathLike[str] | None = None) -> CollapseSweep:
    """The collapse sweep: the precomputed one that ships, or one at ``path``.

    ``path`` may be a condensed ``.npz`` or a sweep directory of run files.
    """
    if path is not None and Path(path).is_dir():
        return condense_collapse(load_results(path, "collapse"))
    return load_sweep(path or _packaged(COLLAPSE_FILE))


def load_multitask_sweep(path: str | os.PathLike[str] | None = None) -> MultitaskSweep:
    """The multi-task sweep: the precomputed one that ships, or one at ``path``."""
    if path is not None and Path(path).is_dir():
        return condense_multitask(load_results(path, "multitask"))
    return load_sweep(path or _packaged(MULTITASK_FILE))


def package_sweeps(
    collapse: str | os.PathLike[str],
    multitask: str | os.PathLike[str],
    destination: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Condense two sweep directories into the course data files.

    Args:
        collapse: Directory of the collapse sweep's run files.
        multitask: Directory of the multi-task sweep's run files.
        destination: Folder for the two npz files; the installed
            ``kpwidgets/data`` when None.
    """
    folder = Path(destination) if destination else _packaged(COLLAPSE_FILE).parent
    return [
        save_sweep(load_collapse_sweep(collapse), folder / COLLAPSE_FILE),
        save_sweep(load_multitask_sweep(multitask), folder / MULTITASK_FILE),
    ]


def regenerate_course_data(
    *,
    preset_name: str = "course",
    sweeps: str | os.PathLike[str] = "sweeps",
    destination: str | os.PathLike[str] | None = None,
    workers: int = 1,
    scheduler: Any = None,
) -> list[Path]:
    """Run (or resume) both course sweeps, then rewrite the course data files.

    Args:
        preset_name: ``"course"`` (about 20 minutes on two cores) or ``"tiny"``.
        sweeps: Folder for the run files (``<experiment>-<preset>`` inside).
        destination: Where the two npz files go; ``kpwidgets/data`` when None.
        workers: Local processes (when ``scheduler`` is None).
        scheduler: A Dask scheduler address or ``distributed.Client``.

    Returns:
        The paths of the two files written.
    """
    from kpwidgets.experiments.runner import run_sweep
    from kpwidgets.experiments.specs import preset

    folders = {}
    for experiment in ("collapse", "multitask"):
        folders[experiment] = Path(sweeps) / f"{experiment}-{preset_name}"
        run_sweep(
            preset(experiment, preset_name),
            folders[experiment],
            workers=workers,
            scheduler=scheduler,
        )
    return package_sweeps(folders["collapse"], folders["multitask"], destination)
