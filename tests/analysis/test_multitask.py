"""Task similarity and task interference: the centring convention, and dense checks."""

from __future__ import annotations

import pytest
import torch

from kpwidgets.analysis.gradient_flow import readout_error
from kpwidgets.analysis.multitask import (
    own_term_alignment,
    task_interference,
    task_similarity,
)
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


def test_similarity_centres_each_task_over_its_own_trials():
    generator = torch.Generator().manual_seed(1)
    angle_part = torch.randn(3, 5, 4, generator=generator, dtype=torch.float64)
    offsets = 10 * torch.randn(2, 1, 5, 4, generator=generator, dtype=torch.float64)
    hidden = torch.cat([offsets[0] + angle_part, offsets[1] + angle_part])
    labels = torch.arange(2).repeat_interleave(3)

    # Per task: each task's own offset goes, the shared angle code stays.
    similarity = task_similarity(hidden, labels)
    assert similarity[0, 1] == pytest.approx(1.0)
    own_means = torch.cat(
        [hidden[labels == k].mean(0, keepdim=True).expand(3, 5, 4) for k in (0, 1)]
    )
    torch.testing.assert_close(
        similarity, task_similarity(hidden - own_means, labels, centred=False)
    )
    # Raw, the two large random offsets dominate; centring on the mean over
    # all trials would leave +-(offset 0 - offset 1) / 2, which dominates too.
    assert abs(task_similarity(hidden, labels, centred=False)[0, 1]) < 0.5
    overall = hidden - hidden.mean(0, keepdim=True)
    assert task_similarity(overall, labels, centred=False)[0, 1] < 0


def test_a_shared_offset_hides_opposite_codes_unless_centred():
    generator = torch.Generator().manual_seed(2)
    angle_part = torch.randn(4, 6, 3, generator=generator, dtype=torch.float64)
    shared = 10 * torch.randn(1, 6, 3, generator=generator, dtype=torch.float64)
    hidden = torch.cat([shared + angle_part, shared - angle_part])
    labels = torch.arange(2).repeat_interleave(4)
    assert task_similarity(hidden, labels, centred=False)[0, 1] > 0.9
    assert task_similarity(hidden, labels)[0, 1] == pytest.approx(-1.0)


def test_similarity_steps():
    hidden = torch.zeros(2, 4, 1, dtype=torch.float64)
    hidden[0, :, 0] = torch.tensor([5.0, 5.0, 1.0, 2.0])
    hidden[1, :, 0] = torch.tensor([5.0, 5.0, -1.0, -2.0])
    labels = torch.tensor([0, 1])
    raw = dict(centred=False)
    assert task_similarity(hidden, labels, steps=slice(2, None), **raw)[0, 1] == (
        pytest.approx(-1.0)
    )
    assert task_similarity(hidden, labels, **raw)[0, 1] > 0


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
    with pytest.raises(ValueError, match="at least 2 trials per task; got 1"):
        task_similarity(torch.ones(2, 4, 2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="do not vary over its trials"):
        task_similarity(torch.ones(4, 4, 2), torch.tensor([0, 0, 1, 1]))
    with pytest.raises(ValueError, match="all zero"):
        task_similarity(torch.zeros(2, 4, 2), torch.tensor([0, 1]), centred=False)


def test_own_term_alignment():
    terms = torch.zeros(2, 2, 3, dtype=torch.float64)
    terms[0, 0] = torch.tensor([1.0, 0.0, 0.0])
    terms[0, 1] = torch.tensor([-2.0, 0.0, 0.0])
    terms[1, 1] = torch.tensor([0.0, 1.0, 0.0])
    terms[1, 0] = torch.tensor([0.0, 1.0, 1.0])
    expected = torch.tensor([[1.0, -1.0], [2**-0.5, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(own_term_alignment(terms), expected)
    with pytest.raises(ValueError, match=r"\[L, L, \.\.\.\].*got \[2, 3, 3\]"):
        own_term_alignment(torch.zeros(2, 3, 3))


def toy_multitask(trials: int = 4):
    """A tiny multitask GRU in float64 and an evaluation batch of ``trials``."""
    task = make_task(
        "multitask",
        context_steps=1,
        stimulus_steps=1,
        memory_steps=1,
        response_steps=2,
        grace_steps=0,
    )
    model = RecurrentModel("gru", task.input_size, 3, task.output_size, seed=2)
    return task, model.double(), task.evaluation_batch(trials, dtype=torch.float64)


def dense_terms(model, task, batch) -> torch.Tensor:
    """``[L, L, n, T, H]``: task l's error through the dense NTK, on task k's trials."""
    B, T = batch.inputs.shape[:2]
    h0 = torch.zeros(B, 3, dtype=torch.float64)
    ntk = dense.hidden_state_ntk(model.cell, batch.inputs, h0)  # [N, N]
    error = readout_error(model, task, batch.inputs, batch.targets)
    pushes = []
    for l in range(4):
        masked = error * (batch.labels == l)[:, None, None]
        pushes.append((ntk @ masked.flatten()).reshape(B, T, 3))
    return torch.stack(
        [torch.stack([push[batch.labels == k] for push in pushes]) for k in range(4)]
    )


def alignment_of(terms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = terms.flatten(start_dim=2)
    size = flat.norm(dim=-1)
    own = flat[range(4), range(4)]
    alignment = (flat * own[:, None]).sum(-1) / (size * size.diagonal()[:, None])
    return alignment, size


def test_raw_interference_against_the_dense_hidden_state_ntk():
    task, model, batch = toy_multitask()
    result = task_interference(model, task, batch, centred=False)

    T = batch.inputs.shape[1]
    terms = dense_terms(model, task, batch)
    alignment, size = alignment_of(terms)
    assert batch.labels.tolist() == [0, 1, 2, 3]
    torch.testing.assert_close(result.size, size)
    torch.testing.assert_close(result.alignment, alignment)
    torch.testing.assert_close(result.alignment.diagonal(), torch.ones(4).double())
    assert result.label_names == batch.label_names
    assert result.pushes.shape == (4, 4, 1, T, 3)
    torch.testing.assert_close(result.pushes, terms)
    assert result.compared is result.pushes


def test_centred_interference_against_the_dense_hidden_state_ntk():
    task, model, batch = toy_multitask(trials=8)
    result = task_interference(model, task, batch)

    terms = dense_terms(model, task, batch)  # [4, 4, 2, T, 3]
    centred = terms - terms.mean(dim=2, keepdim=True)
    alignment, size = alignment_of(centred)
    torch.testing.assert_close(result.pushes, terms)
    torch.testing.assert_close(result.compared, centred)
    torch.testing.assert_close(result.size, size)
    torch.testing.assert_close(result.alignment, alignment)
    torch.testing.assert_close(result.alignment.diagonal(), torch.ones(4).double())
    raw = task_interference(model, task, batch, centred=False)
    assert not torch.allclose(raw.alignment, result.alignment)


def test_pushes_add_up_to_the_whole_step():
    task, model, batch = toy_multitask(trials=8)
    steps = slice(2, None)
    result = task_interference(model, task, batch, steps=steps)
    hidden = model(batch.inputs)[1].detach()
    error = readout_error(model, task, batch.inputs, batch.targets)
    whole = kpflow_operators(model.cell, batch.inputs, hidden).hidden_ntk @ error
    for k in range(4):
        mine = batch.labels == k
        torch.testing.assert_close(result.pushes[k].sum(0), whole[mine, steps])


def test_interference_errors():
    task, model, batch = toy_multitask()
    with pytest.raises(ValueError, match="at least 2 trials per task; got 1"):
        task_interference(model, task, batch)
    single = make_task("memory_pro", stimulus_steps=2, memory_steps=1, response_steps=2)
    plain = single.evaluation_batch(4, dtype=torch.float64)
    model = RecurrentModel("gru", 3, 3, 3, seed=0).double()
    with pytest.raises(ValueError, match="labels must give each trial's task"):
        task_interference(model, single, plain)
