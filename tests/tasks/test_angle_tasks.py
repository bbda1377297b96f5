"""The Memory-Pro family and the multitask: phases, angles, cues, scoring."""

import math

import pytest
import torch

from kpwidgets.tasks import make_task

PHASES = {"stimulus_steps": 4, "memory_steps": 3, "response_steps": 5}
ANGLE_TASKS = ("memory_pro", "memory_anti", "delay_pro", "delay_anti")


def test_default_phases_are_thirty_steps_each():
    task = make_task("memory_pro")
    assert task.phases == {
        "stimulus": slice(0, 30),
        "memory": slice(30, 60),
        "response": slice(60, 90),
    }
    assert (task.num_steps, task.input_size, task.output_size) == (90, 3, 3)


@pytest.mark.parametrize("name", ANGLE_TASKS)
def test_inputs_and_targets_follow_the_phases(name):
    task = make_task(name, **PHASES)
    batch = task.evaluation_batch(8)
    inputs, targets, angles = batch.inputs, batch.targets, batch.angles
    stimulus, memory, response = (task.phases[p] for p in task.phases)
    delay, anti = name.startswith("delay"), name.endswith("anti")

    # Fixation: on until the response, in the input and the target.
    for tensor in (inputs, targets):
        assert torch.all(tensor[:, : response.start, 0] == 1)
        assert torch.all(tensor[:, response, 0] == 0)

    # Stimulus: cos and sin of the angle while shown; memory only for delay.
    shown = torch.stack([angles.cos(), angles.sin()], dim=-1)[:, None]
    torch.testing.assert_close(inputs[:, stimulus, 1:], shown.expand(-1, 4, -1))
    during_memory = shown.expand(-1, 3, -1) if delay else torch.zeros(8, 3, 2)
    torch.testing.assert_close(inputs[:, memory, 1:], during_memory)
    assert torch.all(inputs[:, response, 1:] == 0)

    # Response: nothing before, then the stimulus angle or its opposite.
    assert torch.all(targets[:, : response.start, 1:] == 0)
    wanted = angles + math.pi * anti
    answer = torch.stack([wanted.cos(), wanted.sin()], dim=-1)[:, None]
    torch.testing.assert_close(targets[:, response, 1:], answer.expand(-1, 5, -1))


def test_evaluation_angles_are_evenly_spaced_and_noise_free():
    task = make_task("memory_pro", **PHASES)
    first, second = task.evaluation_batch(16), task.evaluation_batch(16)
    expected = torch.arange(16) * (2 * math.pi / 16)
    torch.testing.assert_close(first.angles, expected)
    assert torch.equal(first.inputs, second.inputs)
    assert first.labels is None and first.label_names == ()
    assert set(first.inputs[:, :, 0].unique().tolist()) == {0.0, 1.0}


def test_multitask_cues_the_task_during_the_context_only():
    task = make_task("multitask", context_steps=2, **PHASES)
    assert list(task.phases) == ["context", "stimulus", "memory", "response"]
    assert (task.num_steps, task.input_size) == (14, 7)
    batch = task.evaluation_batch(8)
    assert batch.label_names == ("memory_pro", "memory_anti", "delay_pro", "delay_anti")
    assert batch.labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]

    cue = torch.nn.functional.one_hot(batch.labels, 4).float()
    torch.testing.assert_close(batch.inputs[:, :2, 3:], cue[:, None].expand(-1, 2, -1))
    assert torch.all(batch.inputs[:, 2:, 3:] == 0)
    assert torch.all(batch.inputs[:, :2, 1:3] == 0)  # no stimulus in the context


def test_multitask_trials_follow_their_own_task():
    task = make_task("multitask", context_steps=2, **PHASES)
    batch = task.evaluation_batch(8)
    for label, name in enumerate(batch.label_names):
        single = make_task(name, **PHASES).evaluation_batch(2)
        rows = batch.labels == label
        torch.testing.assert_close(batch.inputs[rows, 2:, :3], single.inputs)
        torch.testing.assert_close(batch.targets[rows, 2:], single.targets)


def test_multitask_samples_every_task():
    task = make_task("multitask", context_steps=2, **PHASES)
    inputs, _ = task.sample(200, torch.Generator().manual_seed(0), noise=False)
    counts = inputs[:, 0, 3:].sum(dim=0)
    assert torch.all(counts > 30) and counts.sum() == 200


def test_noise_has_the_configured_spread():
    task = make_task("delay_pro", input_noise=0.2, **PHASES)
    generator = torch.Generator().manual_seed(0)
    clean, _ = task.sample(400, torch.Generator().manual_seed(0), noise=False)
    noisy, _ = task.sample(400, generator)
    noise = noisy - clean
    assert noise.std().item() == pytest.approx(0.2, rel=0.05)


def test_loss_masks_the_grace_steps():
    task = make_task("memory_pro", grace_steps=2, **PHASES)
    mask = task.loss_mask
    assert mask.tolist() == [1.0] * 7 + [0.0, 0.0] + [1.0] * 3
    batch = task.evaluation_batch(4)
    outputs = batch.targets.clone()
    outputs[:, 7:9] += 5.0  # errors inside the grace period cost nothing
    assert task.loss(outputs, batch.targets).item() == 0.0
    outputs[:, 0] += 1.0
    assert task.loss(outputs, batch.targets).item() == pytest.approx(1 / 10)


def test_accuracy_is_the_response_angle_error_in_degrees():
    task = make_task("memory_anti", **PHASES)
    batch = task.evaluation_batch(8)
    assert task.accuracy(batch.targets, batch.targets) == pytest.approx(0, abs=1e-4)
    assert task.accuracy_name == "response angle error (degrees)"

    rotation = math.radians(30)
    cos, sin = batch.targets[..., 1], batch.targets[..., 2]
    rotated = batch.targets.clone()
    rotated[..., 1] = math.cos(rotation) * cos - math.sin(rotation) * sin
    rotated[..., 2] = math.sin(rotation) * cos + math.cos(rotation) * sin
    scores = task.trial_scores(rotated, batch.targets)
    torch.testing.assert_close(scores, torch.full((8,), 30.0), atol=1e-3, rtol=0)
    assert task.accuracy(-batch.targets, batch.targets) == pytest.approx(180, abs=1e-3)


def test_evaluation_batch_of_the_multitask_needs_whole_tasks():
    task = make_task("multitask")
    with pytest.raises(ValueError, match=r"num_trials must be a multiple of 4 .*got 6"):
        task.evaluation_batch(6)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"stimulus_steps": -1}, r"stimulus_steps must be a positive integer; got -1"),
        ({"memory_steps": -2}, r"memory_steps must be a non-negative integer; got -2"),
        ({"response_steps": 0}, r"response_steps must be a positive integer; got 0"),
        ({"grace_steps": 30}, r"grace_steps must be smaller than response_steps"),
        ({"input_noise": -0.1}, r"input_noise must be a finite number in \[0, inf\]"),
        ({"memory_steps": 2.5}, r"memory_steps must be a non-negative integer"),
    ],
)
def test_invalid_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        make_task("delay_anti", **options)


def test_invalid_context_raises():
    with pytest.raises(ValueError, match=r"context_steps must be a positive integer"):
        make_task("multitask", context_steps=0)


def test_scores_check_shapes():
    task = make_task("memory_pro", **PHASES)
    good = torch.zeros(2, 12, 3)
    with pytest.raises(ValueError, match=r"outputs must have shape \[B, T, O\] with"):
        task.accuracy(torch.zeros(2, 11, 3), good)
    with pytest.raises(ValueError, match=r"outputs and targets must have the same"):
        task.loss(torch.zeros(3, 12, 3), good)
