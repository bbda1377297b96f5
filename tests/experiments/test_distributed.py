"""The cluster path: a Dask LocalCluster on loopback, started by the test."""

from __future__ import annotations

import numpy as np
import pytest

from kpwidgets.experiments import load_results, run_sweep

from .conftest import tiny_collapse, tiny_multitask

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    # One in-process worker (light), still talking TCP on loopback as a real
    # cluster's scheduler and workers do.
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield local


def test_a_sweep_runs_on_the_cluster_by_address(cluster, tmp_path, tiny_sweeps):
    specs = tiny_collapse(time_ranks=True)
    address = cluster.scheduler_address

    outcome = run_sweep(specs, tmp_path, scheduler=address)

    assert address.startswith("tcp://127.0.0.1:")
    assert sorted(outcome.completed) == sorted(s.run_id for s in specs)
    local = {r.spec.run_id: r for r in load_results(tiny_sweeps / "collapse")}
    for result in load_results(tmp_path):
        expected = local[result.spec.run_id]
        np.testing.assert_allclose(result["rank_PKP"], expected["rank_PKP"])
        np.testing.assert_array_equal(result["train_loss"], expected["train_loss"])


def test_a_sweep_runs_through_a_client_and_resumes(cluster, tmp_path):
    specs = tiny_multitask()
    run_sweep(specs[:1], tmp_path)

    with distributed.Client(cluster) as client:
        outcome = run_sweep(specs, tmp_path, scheduler=client)
        assert client.status == "running"

    assert outcome.skipped == (specs[0].run_id,)
    assert outcome.completed == (specs[1].run_id,)
