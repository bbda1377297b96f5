"""kpflow_summary against dense spectra of K, P P* and P K P* at toy size."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from kpwidgets.analysis import kpflow_summary
from kpwidgets.models import RecurrentModel
from kpwidgets.operators import kpflow_operators


@pytest.fixture
def toy():
    model = RecurrentModel("gru", 2, 4, 1, init_scale=1.5, seed=0).double()
    inputs = torch.randn(3, 5, 2, generator=torch.Generator().manual_seed(1)).double()
    return model, inputs


def dense_operators(model, inputs):
    with torch.no_grad():
        _, hidden = model(inputs)
    operators = kpflow_operators(model.cell, inputs, hidden)
    return {
        "K": operators.K.to_dense(),
        "PP*": operators.flow.to_dense(),
        "PKP*": operators.hidden_ntk.to_dense(),
    }


def test_summary_matches_dense_spectra(toy):
    model, inputs = toy
    summary = kpflow_summary(model, inputs, top_k=4, num_probes=64, tol=1e-8)
    dense = dense_operators(model, inputs)
    for name, matrix in dense.items():
        eigenvalues = torch.linalg.eigvalsh(matrix).flip(0)
        assert_close(summary.eigenvalues[name], eigenvalues[:4], rtol=1e-6, atol=1e-8)
        trace = matrix.trace().item()
        assert summary.trace[name] == pytest.approx(trace, rel=0.1)
        participation = trace**2 / matrix.square().sum().item()
        assert summary.effective_rank[name] == pytest.approx(participation, rel=0.2)
        assert_close(
            summary.cumulative_fraction[name],
            summary.eigenvalues[name].cumsum(0) / summary.trace[name],
        )
    ntk, flow = dense["PKP*"], dense["PP*"]
    cosine = (ntk * flow).sum() / (ntk.norm() * flow.norm())
    assert summary.misdirection == pytest.approx(cosine.item(), abs=0.1)


def test_deflation_makes_low_rank_traces_exact(toy):
    model, inputs = toy
    # K of this GRU has rank at most 4 * (2 + 4 + 2) = 32 < B*T*H = 60; with
    # every mode deflated the estimate is exact whatever the probes.
    summary = kpflow_summary(model, inputs, top_k=60, num_probes=1, tol=1e-10)
    dense = dense_operators(model, inputs)
    assert summary.trace["K"] == pytest.approx(dense["K"].trace().item(), rel=1e-6)


def test_summary_is_reproducible_and_warm_startable(toy):
    model, inputs = toy
    first = kpflow_summary(model, inputs, top_k=3)
    again = kpflow_summary(model, inputs, top_k=3)
    assert first.effective_rank == again.effective_rank
    warm = kpflow_summary(model, inputs, top_k=3, warm_start=first.warm_start)
    assert_close(warm.eigenvalues["K"], first.eigenvalues["K"], rtol=1e-2, atol=0)
    assert first.warm_start["PKP*"].shape == (3, 3, 5, 4)


def test_partial_ranks_on_request(toy):
    model, inputs = toy
    summary = kpflow_summary(model, inputs, top_k=2, axes=("trials", "time"))
    for name in ("K", "PP*", "PKP*"):
        ranks = summary.partial_effective_rank[name]
        assert 1.0 <= ranks["trials"] <= 3.0 + 1e-9
        assert 1.0 <= ranks["time"] <= 5.0 + 1e-9


def test_errors(toy):
    model, inputs = toy
    with pytest.raises(ValueError, match="axes must be drawn from"):
        kpflow_summary(model, inputs, axes=("neurons",))
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        kpflow_summary(model, inputs, top_k=0)
    with pytest.raises(ValueError, match="num_probes must be a positive integer"):
        kpflow_summary(model, inputs, num_probes=0)
