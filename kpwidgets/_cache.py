"""Where finished training runs are kept, so reopening a notebook does not retrain.

Runs are stored as ``<cache dir>/runs/<key>.pt``, the key being a hash of the
run's full configuration (model, initial parameters, task, optimiser, seed,
device type, kpwidgets and torch versions). The directory is
``$KPWIDGETS_CACHE_DIR`` when set, else the platform's user cache directory;
``KPWIDGETS_CACHE=0`` (or ``off``, ``false``, ``no``) turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger(__name__)

DIRECTORY_VARIABLE = "KPWIDGETS_CACHE_DIR"
SWITCH_VARIABLE = "KPWIDGETS_CACHE"
_OFF = ("0", "off", "false", "no")


def cache_dir() -> Path:
    """The directory runs are cached in (it need not exist yet)."""
    configured = os.environ.get(DIRECTORY_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
        return base / "kpwidgets" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "kpwidgets"
    return Path(os.environ.get("XDG_CACHE_HOME", home / ".cache")) / "kpwidgets"


def cache_enabled() -> bool:
    """False when ``KPWIDGETS_CACHE`` is set to 0, off, false or no."""
    return os.environ.get(SWITCH_VARIABLE, "1").strip().lower() not in _OFF


def clear_cache() -> int:
    """Delete every cached run; return how many files were removed."""
    runs = cache_dir() / "runs"
    removed = 0
    for path in runs.glob("*.pt") if runs.is_dir() else ():
        path.unlink(missing_ok=True)
        removed += 1
    logger.info("removed %d cached runs from %s", removed, runs)
    return removed


def parameters_digest(module: torch.nn.Module) -> str:
    """A SHA-256 of a module's parameters and buffers (names, dtypes, values)."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(f"{name}:{tensor.dtype}:{list(tensor.shape)}".encode())
        raw = tensor.detach().cpu().contiguous().view(-1).view(torch.uint8)
        digest.update(raw.numpy().tobytes())
    return digest.hexdigest()


def run_path(config: dict[str, Any]) -> Path:
    """The cache file of the run with this JSON-serialisable configuration."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    key = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return cache_dir() / "runs" / f"{key}.pt"
