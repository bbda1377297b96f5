"""kpw.setup(): seeds, threads, style and the report it shows."""

from __future__ import annotations

import matplotlib as mpl
import pytest
import torch

import kpwidgets as kpw
from kpwidgets.style import CATEGORICAL


def test_setup_seeds_and_reports():
    threads = torch.get_num_threads()
    try:
        report = kpw.setup(seed=3, threads=1)
        first = torch.rand(3)
        kpw.setup(seed=3, threads=1)
        assert torch.equal(torch.rand(3), first)
    finally:
        torch.set_num_threads(threads)
    assert report.device == "cpu" or report.device in ("cuda", "mps")
    text = repr(report)
    assert f"kpwidgets {kpw.__version__}" in text
    assert "device: " in text
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"][0] == CATEGORICAL[0]


def test_setup_rejects_bad_arguments():
    with pytest.raises(ValueError, match="seed must be a non-negative integer; got -1"):
        kpw.setup(seed=-1)
    with pytest.raises(ValueError, match="threads must be a positive integer or None"):
        kpw.setup(threads=0)


def test_lazy_submodules_and_unknown_names():
    assert kpw.dense.unroll is not None
    assert kpw.linalg is not None
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        kpw.nothing  # noqa: B018
