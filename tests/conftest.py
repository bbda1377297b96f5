"""Suite-wide settings: a private run cache and one torch thread per process."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def private_run_cache(tmp_path_factory):
    """Keep test runs out of the user's real cache directory."""
    patch = pytest.MonkeyPatch()
    patch.setenv("KPWIDGETS_CACHE_DIR", str(tmp_path_factory.mktemp("run-cache")))
    yield
    patch.undo()


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Small GEMMs are fastest, and timings steadiest, on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
