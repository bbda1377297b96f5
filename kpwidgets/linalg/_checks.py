"""Argument guards of the spectral tools: every message says what was expected."""

from __future__ import annotations

import torch

from kpwidgets.operators._base import TrajectoryOperator
from kpwidgets.operators._checks import check_same_dtype_device, format_shape

# Seed of the generator used when the caller passes none: results are reproducible.
DEFAULT_SEED = 0


def check_operator(name: str, operator: object) -> TrajectoryOperator:
    """Return ``operator`` if it is a ``TrajectoryOperator``, else raise."""
    if not isinstance(operator, TrajectoryOperator):
        raise ValueError(
            f"{name} must be a TrajectoryOperator (e.g. ParameterOperator or "
            f"P @ P.T); got {type(operator).__name__}"
        )
    return operator


def check_self_adjoint(name: str, operator: TrajectoryOperator, purpose: str) -> None:
    """Raise ``ValueError`` unless ``operator`` declares itself self-adjoint."""
    if not operator.is_self_adjoint:
        raise ValueError(
            f"{name} must be self-adjoint for {purpose}; got {operator!r}, which is "
            "not (build a symmetric product such as P @ K @ P.T or P @ P.T)"
        )


def check_compatible(
    first_name: str,
    first: TrajectoryOperator,
    second_name: str,
    second: TrajectoryOperator,
) -> None:
    """Raise ``ValueError`` unless both operators act on the same trajectories."""
    for attribute in ("trajectory_shape", "dtype", "device"):
        expected, got = getattr(first, attribute), getattr(second, attribute)
        if expected != got:
            shown = (
                (format_shape(expected), format_shape(got))
                if attribute == "trajectory_shape"
                else (expected, got)
            )
            raise ValueError(
                f"{second_name} must have the {attribute} of {first_name}, "
                f"{shown[0]}; got {shown[1]}"
            )


def check_count(name: str, value: object, low: int, high: int | None = None) -> int:
    """Return ``value`` if it is an integer in ``[low, high]``, else raise."""
    inside = (
        not isinstance(value, bool)
        and isinstance(value, int)
        and value >= low
        and (high is None or value <= high)
    )
    if not inside:
        allowed = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be an integer {allowed}; got {value!r}")
    return value


def resolve_generator(
    generator: torch.Generator | None, device: torch.device
) -> torch.Generator:
    """The caller's generator, checked against ``device``, or a seeded default."""
    if generator is None:
        return torch.Generator(device=device).manual_seed(DEFAULT_SEED)
    if not isinstance(generator, torch.Generator):
        raise ValueError(
            f"generator must be a torch.Generator; got {type(generator).__name__}"
        )
    if generator.device.type != device.type:
        raise ValueError(
            f"generator must be on the operator's device type {device.type!r}; got "
            f"{generator.device.type!r} (create it with "
            f"torch.Generator(device={str(device)!r}))"
        )
    return generator


def check_trajectory_block(
    name: str, value: object, operator: TrajectoryOperator
) -> torch.Tensor:
    """Return ``value`` as a block ``[m, B, T, H]`` matching ``operator``."""
    B, T, H = operator.trajectory_shape
    expected = f"[B, T, H] = [{B}, {T}, {H}] or a block [m, {B}, {T}, {H}]"
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} must be a tensor {expected}; got {type(value)}")
    if value.dim() not in (3, 4) or tuple(value.shape[-3:]) != (B, T, H):
        raise ValueError(f"{name} must be {expected}; got {format_shape(value.shape)}")
    check_same_dtype_device(name, value, operator.dtype, operator.device)
    return value.unsqueeze(0) if value.dim() == 3 else value
