"""Run a sweep: on this machine by default, on a Dask cluster when asked.

The driver (this process) owns the result directory: workers train and
measure, return arrays, and the driver writes one file per finished run. So a
cluster needs no shared file system, and a sweep that stops (Ctrl-C, a lost
job) resumes by skipping the runs whose files exist.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpwidgets._validation import check_int
from kpwidgets.experiments.measure import execute
from kpwidgets.experiments.results import (
    RunResult,
    load_result,
    result_path,
    save_result,
)
from kpwidgets.experiments.specs import RunSpec

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SweepOutcome:
    """What :func:`run_sweep` did.

    Attributes:
        directory: The result directory.
        completed: Run ids trained in this call.
        skipped: Run ids whose results were already on disk.
    """

    directory: Path
    completed: tuple[str, ...]
    skipped: tuple[str, ...]


def pending_specs(
    specs: Sequence[RunSpec], directory: str | os.PathLike[str]
) -> tuple[list[RunSpec], list[RunSpec]]:
    """Split ``specs`` into (to run, already done) by the files in ``directory``.

    A file that cannot be read (a crash in the middle of an older, non-atomic
    copy, say) counts as not done and is run again.

    Raises:
        ValueError: If two specs share a run id, or a file holds a run with
            the same id but other settings (a different sweep in the same
            directory).
    """
    ids = [spec.run_id for spec in specs]
    duplicates = sorted({run_id for run_id in ids if ids.count(run_id) > 1})
    if duplicates:
        raise ValueError(f"specs must have distinct run ids; repeated: {duplicates}")
    todo, done = [], []
    for spec in specs:
        path = result_path(directory, spec)
        if not path.exists():
            todo.append(spec)
            continue
        try:
            stored = load_result(path).spec
        except ValueError as error:
            logger.warning("running %s again: %s", spec.run_id, error)
            todo.append(spec)
            continue
        if stored != spec:
            raise ValueError(
                f"{path} holds run {spec.run_id} with other settings "
                f"({stored.to_json()}); write this sweep to another directory"
            )
        done.append(spec)
    return todo, done


def run_sweep(
    specs: Sequence[RunSpec],
    directory: str | os.PathLike[str],
    *,
    workers: int = 1,
    scheduler: str | Any | None = None,
    threads: int = 1,
    progress: Progress | None = None,
) -> SweepOutcome:
    """Train and measure every spec whose result is not yet in ``directory``.

    Args:
        specs: The runs (see :mod:`kpwidgets.experiments.specs`).
        directory: Where the ``<run_id>.npz`` files go; created if needed.
        workers: Local worker processes when ``scheduler`` is None; 1 runs
            the sweep in this process, one run after another.
        scheduler: A Dask scheduler address (``"tcp://host:8786"``) or a
            ``distributed.Client``; the runs then go to that cluster's
            workers, which must have kpwidgets installed.
        threads: Torch threads per run (1 is fastest for these small models
            when runs share the cores).
        progress: Called as ``progress(done, total, run_id)`` after each run
            (and once with the count already on disk).

    Returns:
        A :class:`SweepOutcome`.

    Raises:
        ValueError: For a bad argument or a directory holding another sweep.
        ImportError: If ``scheduler`` is given but Dask distributed is not
            installed (``pip install "kpwidgets[distributed]"``).
    """
    workers = check_int("workers", workers, minimum=1)
    threads = check_int("threads", threads, minimum=1)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    todo, done = pending_specs(specs, directory)
    total = len(specs)
    if progress is not None:
        progress(len(done), total, "")
    logger.info("%d runs to do, %d already in %s", len(todo), len(done), directory)

    completed: list[str] = []

    def finish(spec: RunSpec, arrays) -> None:
        save_result(result_path(directory, spec), RunResult(spec, arrays))
        completed.append(spec.run_id)
        if progress is not None:
            progress(len(done) + len(completed), total, spec.run_id)

    if todo and scheduler is not None:
        _run_on_dask(todo, scheduler, threads, finish)
    elif todo and workers > 1:
        # spawn: a fresh interpreter per worker, safe with torch's threads.
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(workers, mp_context=context)
        try:
            futures = {pool.submit(execute, spec, threads): spec for spec in todo}
            for future in as_completed(futures):
                finish(futures[future], future.result())
        finally:
            # On Ctrl-C or a failed run, drop the queued runs instead of
            # finishing them: the next call resumes from the files.
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for spec in todo:
            finish(spec, execute(spec, threads))
    return SweepOutcome(
        directory, tuple(completed), tuple(spec.run_id for spec in done)
    )


def _run_on_dask(todo, scheduler, threads, finish) -> None:
    """Submit the runs to a Dask cluster and write each result as it arrives."""
    try:
        from distributed import Client, as_completed
    except ImportError as error:
        raise ImportError(
            "running a sweep on a cluster needs Dask distributed: "
            'pip install "kpwidgets[distributed]"'
        ) from error
    owns_client = not isinstance(scheduler, Client)
    if owns_client and not isinstance(scheduler, str):
        raise ValueError(
            "scheduler must be an address like 'tcp://10.0.0.5:8786' or a "
            f"distributed.Client; got {type(scheduler).__name__}"
        )
    client = Client(scheduler) if owns_client else scheduler
    try:
        # pure=False: equal specs still run (a rerun after a change of code).
        futures = client.map(execute, todo, threads=threads, pure=False)
        spec_of = {future.key: spec for future, spec in zip(futures, todo, strict=True)}
        try:
            for future in as_completed(futures):
                finish(spec_of[future.key], future.result())
                future.release()
        finally:
            client.cancel(futures)
    finally:
        if owns_client:
            client.close()
