"""The sweep measures multi-task runs with the analysis functions' convention."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from kpwidgets.analysis import task_interference, task_similarity
from kpwidgets.experiments.measure import measure_multitask, train_spec

from .conftest import tiny_multitask


def test_multitask_measures_are_the_analysis_functions():
    spec = tiny_multitask()[0]
    run = train_spec(spec)
    arrays = measure_multitask(spec, run)

    task = run.build_task()
    batch = dataclasses.replace(
        run.evaluation,
        inputs=run.evaluation.inputs.double(),
        targets=run.evaluation.targets.double(),
    )
    after_cue = slice(task.phases["stimulus"].start, None)
    model = run.build_model(len(run.snapshots) - 1).double()
    with torch.no_grad():
        hidden = model(batch.inputs)[1]
    similarity = task_similarity(hidden, batch.labels, steps=after_cue)
    interference = task_interference(model, task, batch, steps=after_cue)

    np.testing.assert_allclose(arrays["hidden_similarity"][-1], similarity.numpy())
    np.testing.assert_allclose(
        arrays["interference_alignment"][-1], interference.alignment.numpy()
    )
    np.testing.assert_allclose(
        arrays["interference_norm"][-1], spec.lr * interference.size.numpy()
    )
    # Centred per task: the raw measures differ.
    raw = task_similarity(hidden, batch.labels, steps=after_cue, centred=False)
    assert not np.allclose(arrays["hidden_similarity"][-1], raw.numpy())
