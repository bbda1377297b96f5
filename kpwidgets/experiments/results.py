"""Result files: one ``<run_id>.npz`` per run, with its spec as JSON inside.

npz is numpy's open zip-of-arrays format: any language with a zip and an
``.npy`` reader opens it, and it loads with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import kpwidgets
from kpwidgets.experiments.specs import RunSpec

FORMAT = "kpwidgets.experiments.run"
FORMAT_VERSION = 1
_META = "__meta__"


@dataclass(frozen=True)
class RunResult:
    """One finished run of a sweep.

    Attributes:
        spec: What was run.
        arrays: The measurements, keyed by name (see
            :mod:`kpwidgets.experiments.measure`).
    """

    spec: RunSpec
    arrays: dict[str, np.ndarray]

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


def result_path(directory: str | os.PathLike[str], spec: RunSpec) -> Path:
    """Where the result of ``spec`` lives in a sweep directory."""
    return Path(directory) / f"{spec.run_id}.npz"


def save_result(path: str | os.PathLike[str], result: RunResult) -> Path:
    """Write ``result`` to ``path`` atomically (a temporary file, then a rename).

    An interrupted write leaves no file behind, so resuming never reads half a
    result.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if _META in result.arrays:
        raise ValueError(f"array names must not include {_META!r}")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kpwidgets": kpwidgets.__version__,
        "spec": json.loads(result.spec.to_json()),
    }
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez_compressed(
                file, **{_META: np.array(json.dumps(meta))}, **result.arrays
            )
        # mkstemp makes the file private; a result is as readable as any output.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_result(path: str | os.PathLike[str]) -> RunResult:
    """Read a file written by :func:`save_result`.

    Raises:
        ValueError: If the file is not a readable run result.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data[_META]))
            arrays = {key: data[key] for key in data.files if key != _META}
    except (OSError, KeyError, ValueError, EOFError) as error:
        raise ValueError(f"{path} is not a readable run result: {error}") from error
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} is not a {FORMAT} file of version {FORMAT_VERSION}; "
            f"got format {meta.get('format')!r} version {meta.get('format_version')!r}"
        )
    return RunResult(RunSpec(**meta["spec"]), arrays)


def load_results(
    directory: str | os.PathLike[str], experiment: str | None = None
) -> list[RunResult]:
    """Every run result in ``directory``, sorted by run id.

    Args:
        directory: A sweep directory.
        experiment: Keep only runs of this experiment.

    Raises:
        ValueError: If the directory does not exist or holds no results.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"sweep directory {directory} does not exist")
    results = [load_result(path) for path in sorted(directory.glob("*.npz"))]
    if experiment is not None:
        results = [r for r in results if r.spec.experiment == experiment]
    if not results:
        which = f"{experiment} " if experiment else ""
        raise ValueError(f"no {which}run results (*.npz) in {directory}")
    return results
