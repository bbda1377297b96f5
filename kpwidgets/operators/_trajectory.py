"""The recorded trajectory that every operator linearises around."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from kpwidgets.operators._checks import (
    check_floating,
    check_same_dtype_device,
    check_tensor,
    format_shape,
)


class TrajectoryMismatchWarning(UserWarning):
    """The hidden states given are not the ones the cell produces."""


@dataclass(frozen=True)
class RecordedTrajectory:
    """A cell and the trajectory it produced, validated and detached.

    Attributes:
        cell: The recurrent cell, called as ``cell(x_t, z_prev) -> z_next``.
        inputs: ``[B, T, I]``, the input at every step.
        hidden: ``[B, T, H]``, the state after every step.
        previous: ``[B, T, H]``, the state before every step: ``h0`` then
            ``hidden[:, :-1]``. Step ``t`` is linearised at
            ``(inputs[:, t], previous[:, t])``.
    """

    cell: torch.nn.Module
    inputs: torch.Tensor
    hidden: torch.Tensor
    previous: torch.Tensor

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(B, T, H)``."""
        return tuple(self.hidden.shape)

    @property
    def dtype(self) -> torch.dtype:
        return self.hidden.dtype

    @property
    def device(self) -> torch.device:
        return self.hidden.device


def record_trajectory(
    cell: torch.nn.Module,
    inputs: torch.Tensor,
    hidden: torch.Tensor,
    h0: torch.Tensor | None = None,
) -> RecordedTrajectory:
    """Validate the operator arguments of DESIGN section 4 and detach them.

    Args:
        cell: A ``torch.nn.Module`` called as ``cell(x_t [B, I], z [B, H])``.
        inputs: ``[B, T, I]``.
        hidden: ``[B, T, H]``, with ``hidden[:, t] = cell(inputs[:, t],
            hidden[:, t - 1])`` and ``hidden[:, -1]`` read as ``h0``.
        h0: ``[B, H]`` (or ``[H]``, shared by all trials); zeros when None.

    Raises:
        TypeError: If ``cell`` is not a module or a tensor argument is not a
            tensor.
        ValueError: On a wrong shape, dtype or device, naming the argument,
            the expected shape and the received one.
    """
    if not isinstance(cell, torch.nn.Module):
        raise TypeError(
            f"cell must be a torch.nn.Module called as cell(x_t, z_prev); "
            f"got {type(cell).__name__}"
        )
    check_tensor("inputs", inputs)
    check_tensor("hidden", hidden)
    if inputs.dim() != 3:
        raise ValueError(
            f"inputs must have shape [B, T, I]; got {format_shape(inputs.shape)}"
        )
    B, T, _ = inputs.shape
    if hidden.dim() != 3 or tuple(hidden.shape[:2]) != (B, T):
        H = hidden.shape[-1] if hidden.dim() >= 1 else "H"
        raise ValueError(
            f"hidden must have shape [B, T, H] = [{B}, {T}, {H}] to match inputs; "
            f"got {format_shape(hidden.shape)}"
        )
    if B == 0 or T == 0 or hidden.shape[2] == 0:
        raise ValueError(
            f"hidden must have B, T and H of at least 1; got "
            f"{format_shape(hidden.shape)}"
        )
    H = hidden.shape[2]
    check_floating("hidden", hidden)
    dtype, device = hidden.dtype, hidden.device
    check_same_dtype_device("inputs", inputs, dtype, device)
    for name, parameter in cell.named_parameters():
        check_same_dtype_device(f"cell parameter {name!r}", parameter, dtype, device)

    if h0 is None:
        h0 = torch.zeros(B, H, dtype=dtype, device=device)
    check_tensor("h0", h0)
    if tuple(h0.shape) == (H,):
        h0 = h0.expand(B, H)
    if tuple(h0.shape) != (B, H):
        raise ValueError(
            f"h0 must have shape [B, H] = [{B}, {H}] (or [H] = [{H}]); "
            f"got {format_shape(h0.shape)}"
        )
    check_same_dtype_device("h0", h0, dtype, device)

    hidden = hidden.detach()
    previous = torch.cat([h0.detach().unsqueeze(1), hidden[:, :-1]], dim=1)
    return RecordedTrajectory(cell, inputs.detach(), hidden, previous)


def warn_if_mismatched(trajectory: RecordedTrajectory, recomputed: torch.Tensor):
    """Warn when ``cell(inputs[:, t], previous[:, t])`` differs from ``hidden``.

    Args:
        trajectory: The validated trajectory.
        recomputed: ``[B, T, H]``, the cell applied at every recorded sample.
    """
    tolerance = 10 * torch.finfo(trajectory.dtype).eps ** 0.5
    hidden = trajectory.hidden
    error = (recomputed - hidden).abs().max().item()
    scale = 1.0 + hidden.abs().max().item()
    if not error <= tolerance * scale:
        warnings.warn(
            "hidden[:, t] is not cell(inputs[:, t], hidden[:, t - 1]) (largest "
            f"difference {error:.3g}); the operators linearise the cell around the "
            "given states, so pass the trajectory the cell produced (and its h0)",
            TrajectoryMismatchWarning,
            stacklevel=4,
        )
