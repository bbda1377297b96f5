"""make_task and what every task shares: shapes, seeding, options, errors."""

import dataclasses

import pytest
import torch

from kpwidgets.tasks import TASKS, Task, make_task

SHORT = {
    "memory_pro": {"stimulus_steps": 5, "memory_steps": 5, "response_steps": 10},
    "flip_flop": {"num_steps": 20},
    "multitask": {"context_steps": 2, "response_steps": 8},
}


def short_task(name):
    return make_task(name, **SHORT.get(name, SHORT["memory_pro"]))


@pytest.mark.parametrize("name", TASKS)
def test_shapes_and_phases(name):
    task = short_task(name)
    assert isinstance(task, Task) and task.name == name
    inputs, targets = task.sample(7)
    assert inputs.shape == (7, task.num_steps, task.input_size)
    assert targets.shape == (7, task.num_steps, task.output_size)
    assert inputs.dtype == targets.dtype == torch.float32

    # The phases tile the trial in order.
    starts = [window.start for window in task.phases.values()]
    stops = [window.stop for window in task.phases.values()]
    assert starts[0] == 0 and stops[-1] == task.num_steps
    assert starts[1:] == stops[:-1]

    batch = task.evaluation_batch(8)
    assert batch.inputs.shape == (8, task.num_steps, task.input_size)
    assert task.loss(batch.targets, batch.targets).item() == 0.0


@pytest.mark.parametrize("name", TASKS)
def test_sampling_is_seeded(name):
    task = short_task(name)
    first = task.sample(5, torch.Generator().manual_seed(4))
    second = task.sample(5, torch.Generator().manual_seed(4))
    other = task.sample(5, torch.Generator().manual_seed(5))
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not torch.equal(first[0], other[0])


def test_dtype_and_device_arguments():
    task = short_task("delay_pro")
    inputs, targets = task.sample(2, dtype=torch.float64, device="cpu")
    assert inputs.dtype == targets.dtype == torch.float64
    assert task.evaluation_batch(4, dtype=torch.float64).inputs.dtype == torch.float64


@pytest.mark.parametrize("name", TASKS)
def test_config_rebuilds_the_task_and_options_are_frozen(name):
    task = short_task(name)
    rebuilt = make_task(**task.config)
    assert rebuilt.options == task.options and rebuilt.name == name
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.options.input_noise = 1.0
    assert name in repr(task)


def test_defaults_are_not_shared_between_tasks():
    first, second = make_task("memory_pro"), make_task("memory_pro", memory_steps=3)
    assert first.options.memory_steps == 30 and second.options.memory_steps == 3


def test_unknown_name_lists_the_tasks():
    with pytest.raises(
        ValueError,
        match=r"name must be one of 'memory_pro', 'memory_anti', 'delay_pro', "
        r"'delay_anti', 'flip_flop', 'multitask'; got 'memory'",
    ):
        make_task("memory")


def test_unknown_option_lists_the_allowed_ones():
    with pytest.raises(
        ValueError,
        match=r"unknown option 'delay' for task 'memory_pro'; allowed options: "
        r"'stimulus_steps', 'memory_steps', 'response_steps', 'grace_steps', "
        r"'input_noise'",
    ):
        make_task("memory_pro", delay=10)
    with pytest.raises(ValueError, match=r"unknown option 'memory_steps' for task"):
        make_task("flip_flop", memory_steps=10)


def test_invalid_batch_sizes_raise():
    task = short_task("memory_pro")
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer"):
        task.sample(0)
    with pytest.raises(ValueError, match=r"num_trials must be a positive integer"):
        task.evaluation_batch(-1)
