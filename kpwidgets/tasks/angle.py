"""The Memory-Pro family: remember an angle, answer at it or opposite it.

In the style of Yang et al. (2019): the inputs are a fixation signal and the
cosine and sine of a stimulus angle; the targets are a fixation output and the
cosine and sine of the response angle.

================  ==========================================================
task              stimulus during memory; response angle
================  ==========================================================
``memory_pro``    off; the stimulus angle
``memory_anti``   off; the opposite angle (stimulus + 180 degrees)
``delay_pro``     on;  the stimulus angle
``delay_anti``    on;  the opposite angle
``multitask``     the four above, chosen per trial, announced by a one-hot
                  cue during a context period before the stimulus
================  ==========================================================

Phases: (context,) stimulus, memory, response. Fixation input and target are 1
until the response phase and 0 during it; the response target is 0 until then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from kpwidgets._validation import check_float, check_int
from kpwidgets.tasks._base import EvaluationBatch, Task, check_pair

# (anti, delay) for each member of the family.
VARIANTS = {
    "memory_pro": (False, False),
    "memory_anti": (True, False),
    "delay_pro": (False, True),
    "delay_anti": (True, True),
}


@dataclass(frozen=True)
class AngleTaskOptions:
    """Options of ``memory_pro``, ``memory_anti``, ``delay_pro``, ``delay_anti``.

    Attributes:
        stimulus_steps: Length of the stimulus phase (>= 1).
        memory_steps: Length of the memory (delay) phase (>= 0).
        response_steps: Length of the response phase (>= 1).
        grace_steps: Steps at the start of the response left out of the loss
            and the accuracy, so the network may turn (0 <= grace < response);
            None gives a sixth of the response, rounded down (5 of 30).
        input_noise: Standard deviation of the Gaussian noise added to every
            input channel at every step (>= 0).
    """

    stimulus_steps: int = 30
    memory_steps: int = 30
    response_steps: int = 30
    grace_steps: int | None = None
    input_noise: float = 0.1

    def __post_init__(self) -> None:
        check_int("stimulus_steps", self.stimulus_steps, minimum=1)
        check_int("memory_steps", self.memory_steps, minimum=0)
        check_int("response_steps", self.response_steps, minimum=1)
        if self.grace_steps is None:
            object.__setattr__(self, "grace_steps", self.response_steps // 6)
        check_int("grace_steps", self.grace_steps, minimum=0)
        if self.grace_steps >= self.response_steps:
            raise ValueError(
                "grace_steps must be smaller than response_steps "
                f"({self.response_steps}); got {self.grace_steps}"
            )
        check_float("input_noise", self.input_noise, low=0.0)


@dataclass(frozen=True)
class MultitaskOptions(AngleTaskOptions):
    """Options of ``multitask``: those of :class:`AngleTaskOptions`, plus

    Attributes:
        context_steps: Length of the context phase that shows the task cue
            (>= 1).
    """

    context_steps: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("context_steps", self.context_steps, minimum=1)


class AngleTask(Task):
    """A member of the Memory-Pro family, or all four of them (``multitask``).

    Inputs [B, T, I]: fixation, cos, sin, and for the multitask a one-hot cue
    of the trial's task (I = 3 or 7). Targets [B, T, 3]: fixation, cos, sin.

    Build it with :func:`kpwidgets.tasks.make_task`.

    Args:
        name: ``"memory_pro"``, ``"memory_anti"``, ``"delay_pro"``,
            ``"delay_anti"`` or ``"multitask"``.
        options: :class:`AngleTaskOptions` (:class:`MultitaskOptions` for the
            multitask).
    """

    output_size = 3
    accuracy_name = "response angle error (degrees)"
    higher_is_better = False

    def __init__(self, name: str, options: AngleTaskOptions) -> None:
        self.name = name
        self.options = options
        if name == "multitask":
            self.label_names = tuple(VARIANTS)
            context = options.context_steps
        else:
            self.label_names = ()
            context = 0
        self.input_size = 3 + len(self.label_names)

        lengths = {
            "context": context,
            "stimulus": options.stimulus_steps,
            "memory": options.memory_steps,
            "response": options.response_steps,
        }
        self.phases, start = {}, 0
        for phase, length in lengths.items():
            if phase == "context" and not context:
                continue
            self.phases[phase] = slice(start, start + length)
            start += length

    @property
    def scored_steps(self) -> slice:
        """The response steps after the grace period: what the accuracy reads."""
        response = self.phases["response"]
        return slice(response.start + self.options.grace_steps, response.stop)

    @property
    def loss_mask(self) -> torch.Tensor:
        """1 at every step except the grace steps of the response [T]."""
        mask = torch.ones(self.num_steps)
        mask[self.phases["response"].start : self.scored_steps.start] = 0
        return mask

    def trial_scores(
        self, outputs: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """The response angle error of each trial in degrees [B], in [0, 180].

        The response angle is that of the (cos, sin) outputs averaged over the
        scored response steps; the target angle is read from ``targets``.
        """
        check_pair(outputs, targets, self.num_steps, self.output_size)
        window = self.scored_steps
        response = outputs[:, window, 1:].mean(dim=1)  # [B, 2]
        wanted = targets[:, window, 1:].mean(dim=1)  # [B, 2]
        difference = torch.atan2(response[:, 1], response[:, 0]) - torch.atan2(
            wanted[:, 1], wanted[:, 0]
        )
        wrapped = torch.remainder(difference + math.pi, 2 * math.pi) - math.pi
        return wrapped.abs().rad2deg().detach()

    def _generate(self, batch_size, generator, noise, evenly_spaced):
        num_variants = max(len(self.label_names), 1)

        # The conditions: a stimulus angle and (multitask) a task per trial.
        if evenly_spaced:
            if batch_size % num_variants:
                raise ValueError(
                    f"num_trials must be a multiple of {num_variants} (the number "
                    f"of tasks) for {self.name!r}; got {batch_size}"
                )
            per_task = batch_size // num_variants
            angles = torch.arange(per_task).repeat(num_variants) * (
                2 * math.pi / per_task
            )
            labels = torch.arange(num_variants).repeat_interleave(per_task)
        else:
            angles = 2 * math.pi * torch.rand(batch_size, generator=generator)
            labels = torch.randint(num_variants, (batch_size,), generator=generator)
        if self.label_names:
            flags = torch.tensor([VARIANTS[name] for name in self.label_names])
        else:
            flags = torch.tensor([VARIANTS[self.name]])
        anti, delay = flags[labels].unbind(dim=1)  # [B] each

        # Time masks [T] and per-trial masks [B, T].
        steps = torch.arange(self.num_steps)

        def during(phase: str) -> torch.Tensor:
            window = self.phases.get(phase, slice(0, 0))
            return (steps >= window.start) & (steps < window.stop)

        before_response = (steps < self.phases["response"].start).float()
        stimulus_on = (during("stimulus") | (delay[:, None] & during("memory"))).float()
        response_on = during("response").float()

        inputs = torch.zeros(batch_size, self.num_steps, self.input_size)
        inputs[..., 0] = before_response
        inputs[..., 1] = stimulus_on * angles.cos()[:, None]
        inputs[..., 2] = stimulus_on * angles.sin()[:, None]
        if self.label_names:
            cue = torch.nn.functional.one_hot(labels, num_variants).float()  # [B, K]
            inputs[..., 3:] = during("context").float()[None, :, None] * cue[:, None]
        if noise and self.options.input_noise > 0:
            inputs += self.options.input_noise * torch.randn(
                inputs.shape, generator=generator
            )

        responses = angles + math.pi * anti.float()
        targets = torch.zeros(batch_size, self.num_steps, self.output_size)
        targets[..., 0] = before_response
        targets[..., 1] = response_on * responses.cos()[:, None]
        targets[..., 2] = response_on * responses.sin()[:, None]
        return EvaluationBatch(
            inputs,
            targets,
            angles=angles,
            labels=labels if self.label_names else None,
            label_names=self.label_names,
        )
