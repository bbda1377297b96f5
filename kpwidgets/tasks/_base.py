"""What every task provides: sampling, an evaluation batch, a loss, an accuracy."""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from kpwidgets._validation import check_int


@dataclass(frozen=True)
class EvaluationBatch:
    """A fixed, noise-free batch for analysis and plots, with its conditions.

    Attributes:
        inputs: [B, T, I].
        targets: [B, T, O].
        angles: The stimulus angle of each trial in radians [B], or None for
            tasks without one (flip-flop). Useful to colour trajectories.
        labels: The task index of each trial [B] (multitask), else None.
        label_names: The task name of each label value (multitask), else ().
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    angles: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    label_names: tuple[str, ...] = ()


class Task(abc.ABC):
    """A supervised sequence task for a recurrent network.

    Subclasses set ``name``, ``options`` (a frozen dataclass), ``input_size``,
    ``output_size``, ``phases`` and the two ``accuracy_*`` attributes, and
    implement :meth:`_generate` and :meth:`trial_scores`.

    Attributes:
        name: The name :func:`kpwidgets.tasks.make_task` knows the task by.
        options: The task's frozen options dataclass.
        input_size: I, the number of input channels.
        output_size: O, the number of target channels.
        phases: Named time windows, in order, e.g. ``{"stimulus": slice(0, 30),
            ...}``; they tile ``range(num_steps)``.
        accuracy_name: What :meth:`accuracy` measures, e.g.
            ``"response angle error (degrees)"``.
        higher_is_better: Whether a larger accuracy is better.
    """

    name: str
    options: Any
    input_size: int
    output_size: int
    phases: dict[str, slice]
    accuracy_name: str
    higher_is_better: bool

    @property
    def num_steps(self) -> int:
        """T, the number of time steps of a trial."""
        return max(window.stop for window in self.phases.values())

    @property
    def config(self) -> dict[str, Any]:
        """``make_task(**task.config)`` rebuilds this task."""
        return {"name": self.name, **dataclasses.asdict(self.options)}

    @property
    def loss_mask(self) -> torch.Tensor:
        """Weight of each time step in :meth:`loss` [T] (1 unless stated)."""
        return torch.ones(self.num_steps)

    def sample(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        noise: bool = True,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw a batch of random trials.

        Args:
            batch_size: B, the number of trials.
            generator: A CPU ``torch.Generator``; the global one when None.
            noise: Add the options' input noise.
            dtype: The floating dtype of the result.
            device: Where to put the result (drawn on the CPU, then moved, so
                equal seeds give equal batches on every device).

        Returns:
            ``(inputs, targets)``: [B, T, I] and [B, T, O].
        """
        batch_size = check_int("batch_size", batch_size, minimum=1)
        batch = self._generate(batch_size, generator, noise, evenly_spaced=False)
        return (
            batch.inputs.to(dtype=dtype, device=device),
            batch.targets.to(dtype=dtype, device=device),
        )

    def evaluation_batch(
        self,
        num_trials: int = 32,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> EvaluationBatch:
        """The fixed noise-free batch analysis and plots use.

        Angle tasks use ``num_trials`` evenly spaced angles (per task, for the
        multitask); flip-flop uses pulses drawn from a fixed seed.

        Returns:
            An :class:`EvaluationBatch` with inputs [B, T, I], targets [B, T, O]
            and the trials' conditions.
        """
        num_trials = check_int("num_trials", num_trials, minimum=1)
        batch = self._generate(
            num_trials, torch.Generator().manual_seed(0), False, evenly_spaced=True
        )
        return dataclasses.replace(
            batch,
            inputs=batch.inputs.to(dtype=dtype, device=device),
            targets=batch.targets.to(dtype=dtype, device=device),
        )

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean squared error weighted by :attr:`loss_mask` over time.

        Shapes: ``outputs`` and ``targets`` [B, T, O] give a scalar.
        """
        check_pair(outputs, targets, self.num_steps, self.output_size)
        mask = self.loss_mask.to(dtype=outputs.dtype, device=outputs.device)
        squared = (outputs - targets).square().mean(dim=(0, 2))  # [T]
        return (squared * mask).sum() / mask.sum()

    def accuracy(self, outputs: torch.Tensor, targets: torch.Tensor) -> float:
        """The task's accuracy (see :attr:`accuracy_name`), averaged over trials."""
        return float(self.trial_scores(outputs, targets).nanmean())

    @abc.abstractmethod
    def trial_scores(
        self, outputs: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """The accuracy of each trial [B] (NaN where it is undefined)."""

    @abc.abstractmethod
    def _generate(
        self,
        batch_size: int,
        generator: torch.Generator | None,
        noise: bool,
        evenly_spaced: bool,
    ) -> EvaluationBatch:
        """Build a float32 CPU batch of ``batch_size`` trials."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, options={self.options!r})"


def check_pair(
    outputs: torch.Tensor, targets: torch.Tensor, num_steps: int, output_size: int
) -> None:
    """Raise ``ValueError`` unless outputs and targets are both [B, T, O]."""
    for name, value in (("outputs", outputs), ("targets", targets)):
        shape = tuple(value.shape)
        if len(shape) != 3 or shape[1:] != (num_steps, output_size):
            raise ValueError(
                f"{name} must have shape [B, T, O] with T = {num_steps} and "
                f"O = {output_size}; got {list(shape)}"
            )
    if outputs.shape != targets.shape:
        raise ValueError(
            f"outputs and targets must have the same shape; got "
            f"{list(outputs.shape)} and {list(targets.shape)}"
        )
