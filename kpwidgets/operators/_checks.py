"""Argument guards shared by the operators: every message says what was expected."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def format_shape(shape: Sequence[int]) -> str:
    """Render a shape as ``[4, 30, 64]``."""
    return "[" + ", ".join(str(int(size)) for size in shape) + "]"


def check_tensor(name: str, value: object) -> torch.Tensor:
    """Return ``value`` if it is a tensor, else raise a ``TypeError`` naming it."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(value).__name__}")
    return value


def check_shape(
    name: str, value: torch.Tensor, expected: Sequence[int], meaning: str
) -> None:
    """Raise ``ValueError`` unless ``value.shape == expected``.

    Args:
        name: The argument's name, as the caller wrote it.
        value: The tensor to check.
        expected: The required shape.
        meaning: The axes' names, e.g. ``"[B, T, H]"``.
    """
    if tuple(value.shape) != tuple(expected):
        raise ValueError(
            f"{name} must have shape {meaning} = {format_shape(expected)}; "
            f"got {format_shape(value.shape)}"
        )


def check_floating(name: str, value: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``value`` holds real floating-point numbers."""
    if not value.dtype.is_floating_point:
        raise ValueError(
            f"{name} must be a floating-point tensor (float32 or float64); "
            f"got {value.dtype}"
        )


def check_same_dtype_device(
    name: str, value: torch.Tensor, dtype: torch.dtype, device: torch.device
) -> None:
    """Raise ``ValueError`` if ``value`` would need a silent cast or a move."""
    if value.dtype != dtype:
        raise ValueError(
            f"{name} must have dtype {dtype} to match the operator; got "
            f"{value.dtype} (convert it explicitly, e.g. with .to({dtype}))"
        )
    if value.device != device:
        raise ValueError(
            f"{name} must be on device {device} to match the operator; got "
            f"{value.device}"
        )


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` as an int if it is a positive integer, else raise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return value
