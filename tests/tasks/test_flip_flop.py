"""The flip-flop task: targets hold the last pulse, bits-correct scoring."""

import pytest
import torch

from kpwidgets.tasks import make_task


def held_sign_reference(pulses):
    """The targets by an explicit loop over trials, time and bits."""
    B, T, K = pulses.shape
    targets = torch.zeros_like(pulses)
    for b in range(B):
        for k in range(K):
            held = 0.0
            for t in range(T):
                if pulses[b, t, k] != 0:
                    held = pulses[b, t, k].item()
                targets[b, t, k] = held
    return targets


def test_targets_hold_the_sign_of_the_last_pulse():
    task = make_task("flip_flop", num_steps=25, pulse_probability=0.2)
    pulses, targets = task.sample(6, torch.Generator().manual_seed(3), noise=False)
    assert pulses.shape == targets.shape == (6, 25, 3)
    assert set(pulses.unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert (pulses != 0).any()
    torch.testing.assert_close(targets, held_sign_reference(pulses))


def test_bits_option_and_sizes():
    task = make_task("flip_flop", num_bits=5, num_steps=10)
    assert (task.input_size, task.output_size, task.num_steps) == (5, 5, 10)
    assert task.phases == {"trial": slice(0, 10)}


def test_accuracy_is_the_fraction_of_bits_correct():
    task = make_task("flip_flop", num_steps=40, pulse_probability=0.2)
    batch = task.evaluation_batch(8)
    assert batch.angles is None and batch.labels is None
    targets = batch.targets
    assert task.accuracy(0.5 * targets, targets) == 1.0
    assert task.accuracy(-targets, targets) == 0.0
    assert task.higher_is_better and task.accuracy_name == "bits correct (fraction)"


def test_evaluation_batch_is_fixed_and_noise_free():
    task = make_task("flip_flop", num_steps=30)
    first, second = task.evaluation_batch(4), task.evaluation_batch(4)
    assert torch.equal(first.inputs, second.inputs)
    assert set(first.inputs.unique().tolist()) <= {-1.0, 0.0, 1.0}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_steps": -5}, r"num_steps must be a positive integer; got -5"),
        ({"num_bits": 0}, r"num_bits must be a positive integer; got 0"),
        ({"pulse_probability": 1.5}, r"pulse_probability must be a finite number in"),
        ({"input_noise": float("inf")}, r"input_noise must be a finite number"),
    ],
)
def test_invalid_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        make_task("flip_flop", **options)
