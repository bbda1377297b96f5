"""The flip-flop task (Sussillo and Barak, 2013): hold the sign of the last pulse.

Each of K input channels receives brief +1 or -1 pulses at random times; output
channel k must hold the sign of the most recent pulse on input k (0 before the
first one). A trained network stores 2^K stable states.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kpwidgets._validation import check_float, check_int
from kpwidgets.tasks._base import EvaluationBatch, Task, check_pair


@dataclass(frozen=True)
class FlipFlopOptions:
    """Options of ``flip_flop``.

    Attributes:
        num_steps: T, the length of a trial (>= 1).
        num_bits: K, the number of independent flip-flops (>= 1).
        pulse_probability: Chance of a pulse per channel and step, in [0, 1].
        input_noise: Standard deviation of the Gaussian input noise (>= 0).
    """

    num_steps: int = 90
    num_bits: int = 3
    pulse_probability: float = 0.05
    input_noise: float = 0.05

    def __post_init__(self) -> None:
        check_int("num_steps", self.num_steps, minimum=1)
        check_int("num_bits", self.num_bits, minimum=1)
        check_float("pulse_probability", self.pulse_probability, low=0.0, high=1.0)
        check_float("input_noise", self.input_noise, low=0.0)


class FlipFlopTask(Task):
    """K-bit flip-flop: inputs and targets are both [B, T, K].

    Build it with :func:`kpwidgets.tasks.make_task`. Its evaluation batch draws
    pulses from a fixed seed (there is no angle to space evenly).

    Args:
        options: :class:`FlipFlopOptions`.
    """

    name = "flip_flop"
    accuracy_name = "bits correct (fraction)"
    higher_is_better = True

    def __init__(self, options: FlipFlopOptions) -> None:
        self.options = options
        self.input_size = self.output_size = options.num_bits
        self.phases = {"trial": slice(0, options.num_steps)}

    def trial_scores(
        self, outputs: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """Fraction of bits whose output sign matches the target [B].

        Only steps after a channel's first pulse count (the target is 0 before
        it); a trial without any pulse scores NaN.
        """
        check_pair(outputs, targets, self.num_steps, self.output_size)
        counted = targets != 0
        correct = (torch.sign(outputs) == targets) & counted
        return (correct.sum(dim=(1, 2)) / counted.sum(dim=(1, 2))).detach().float()

    def _generate(self, batch_size, generator, noise, evenly_spaced):
        K, T = self.options.num_bits, self.options.num_steps
        shape = (batch_size, T, K)

        # A pulse of random sign where a uniform draw falls under p.
        pulsed = torch.rand(shape, generator=generator) < self.options.pulse_probability
        signs = 2.0 * torch.randint(2, shape, generator=generator) - 1
        pulses = pulsed * signs  # [B, T, K]

        # The last pulse at or before t, found with a running max of pulse times.
        times = torch.arange(T)[None, :, None].expand(shape)
        last = torch.cummax(torch.where(pulsed, times, -1), dim=1).values
        targets = pulses.gather(1, last.clamp(min=0)) * (last >= 0)

        inputs = pulses.clone()
        if noise and self.options.input_noise > 0:
            inputs += self.options.input_noise * torch.randn(shape, generator=generator)
        return EvaluationBatch(inputs, targets)
