"""Task similarity and task interference against direct dense computations."""

from __future__ import annotations

import pytest
import torch

from kpwidgets.analysis.gradient_flow import readout_error
from kpwidgets.analysis.multitask import task_interference, task_similarity
from kpwidgets.models import RecurrentModel
from kpwidgets.operators import dense, kpflow_operators
from kpwidgets.tasks import make_task


def test_similarity_of_planted_tasks():
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(2, 5, 3, generator=generator, dtype=torch.float64)
    other = torch.randn(2, 5, 3, generator=generator, dtype=torch.float64)
    hidden = torch.cat([base, -base, base, other])  # tasks 0..3, two trials each
    labels = torch.arange(4).repeat_interleave(2)
    similarity = task_similarity(hidden, labels)
    assert similarity.shape == (4, 4)
    torch.testing.assert_close(similarity.diagonal(), torch.ones(4).double())
    assert similarity[0, 1] == pytest.approx(-1.0)
    assert similarity[0, 2] == pytest.approx(1.0)
    torch.testing.assert_close(similarity, similarity.T)


def test_similarity_steps_and_centring():
    hidden = torch.zeros(2, 4, 1, dtype=torch.float64)
    hidden[0, :, 0] = torch.tensor([5.0, 5.0, 1.0, 2.0])
    hidden[1, :, 0] = torch.tensor([5.0, 5.0, -1.0, -2.0])
    labels = torch.tensor([0, 1])
    similarity = task_similarity(hidden, labels, steps=slice(2, None))
    assert similarity[0, 1] == pytest.approx(-1.0)
    assert task_similarity(hidden, labels)[0, 1] > 0
    # Centring removes the shared first two steps, leaving opposite activity.
    assert task_similarity(hidden, labels, centred=True)[0, 1] == pytest.approx(-1.0)


def test_similarity_errors():
    hidden = torch.zeros(3, 4, 2)
    with pytest.raises(ValueError, match="same number of trials"):
        task_similarity(hidden, torch.tensor([0, 0, 1]))
    with pytest.raises(ValueError, match=r"labels must have shape \[B\] = \[3\]"):
        task_similarity(hidden, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="labels must give each trial's task"):
        task_similarity(hidden, None)
    with pytest.raises(ValueError, match="at least one of 4 steps"):
        task_similarity(torch.ones(2, 4, 2), torch.tensor([0, 1]), steps=slice(4, 9))
    with pytest.raises(ValueError, match="all zero"):
        task_similarity(torch.zeros(2, 4, 2), torch.tensor([0, 1]))


def toy_multitask():
    task = make_task(
        "multitask",
        context_steps=1,
        stimulus_steps=1,
        memory_steps=1,
        response_steps=2,
        grace_steps=0,
    )
    model = RecurrentModel("gru", task.input_size, 3, task.output_size, seed=2)
    return task, model.double(), task.evaluation_batch(4, dtype=torch.float64)


def test_interference_against_the_dense_hidden_state_ntk():
    task, model, batch = toy_multitask()
    result = task_interference(model, task, batch)

    # The same terms from the dense NTK of the unrolled network.
    B, T = batch.inputs.shape[:2]
    h0 = torch.zeros(B, 3, dtype=torch.float64)
    ntk = dense.hidden_state_ntk(model.cell, batch.inputs, h0)  # [N, N]
    error = readout_error(model, task, batch.inputs, batch.targets)
    terms = torch.zeros(4, 4, T * 3, dtype=torch.float64)
    for l in range(4):
        masked = torch.zeros_like(error)
        masked[l] = error[l]  # one trial per task, in label order
        push = (ntk @ masked.flatten()).reshape(B, T * 3)
        terms[:, l] = push
    size = terms.norm(dim=-1)
    own = terms[range(4), range(4)]
    alignment = (terms * own[:, None]).sum(-1) / (size * size.diagonal()[:, None])
    assert batch.labels.tolist() == [0, 1, 2, 3]
    torch.testing.assert_close(result.size, size)
    torch.testing.assert_close(result.alignment, alignment)
    torch.testing.assert_close(result.alignment.diagonal(), torch.ones(4).double())
    assert result.label_names == batch.label_names
    assert result.pushes.shape == (4, 4, 1, T, 3)
    torch.testing.assert_close(result.pushes.flatten(start_dim=2), terms)


def test_pushes_add_up_to_the_whole_step():
    task, model, batch = toy_multitask()
    steps = slice(2, None)
    result = task_interference(model, task, batch, steps=steps)
    hidden = model(batch.inputs)[1].detach()
    error = readout_error(model, task, batch.inputs, batch.targets)
    whole = kpflow_operators(model.cell, batch.inputs, hidden).hidden_ntk @ error
    for k in range(4):
        mine = batch.labels == k
        torch.testing.assert_close(result.pushes[k].sum(0), whole[mine, steps])


def test_interference_needs_labels():
    task, model, batch = toy_multitask()
    single = make_task("memory_pro", stimulus_steps=2, memory_steps=1, response_steps=2)
    plain = single.evaluation_batch(4, dtype=torch.float64)
    model = RecurrentModel("gru", 3, 3, 3, seed=0).double()
    with pytest.raises(ValueError, match="labels must give each trial's task"):
        task_interference(model, single, plain)
