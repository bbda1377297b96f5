"""Argument guards for models, tasks and training: every message teaches.

Each helper returns the validated value, so call sites read
``steps = check_int("steps", steps, minimum=1)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping


def format_allowed(allowed: Iterable[str]) -> str:
    """Render allowed names as ``'rnn', 'gru', 'lstm'``."""
    return ", ".join(repr(name) for name in allowed)


def check_choice(name: str, value: object, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"{name} must be one of {format_allowed(allowed)}; got {value!r}"
        )
    return value


def check_int(name: str, value: object, minimum: int = 0) -> int:
    """Return ``value`` if it is an integer of at least ``minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return value


def check_float(
    name: str,
    value: object,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a float if it is a finite number in the given range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number; got {value!r}")
    value = float(value)
    above = value >= low if low_inclusive else value > low
    below = value <= high if high_inclusive else value < high
    if not (math.isfinite(value) and above and below):
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        raise ValueError(
            f"{name} must be a finite number in {left}{low:g}, {high:g}{right}; "
            f"got {value!r}"
        )
    return value


def check_options(
    owner: str, options: Mapping[str, object], allowed: Iterable[str]
) -> None:
    """Raise ``ValueError`` naming the first unknown key of ``options``."""
    allowed = tuple(allowed)
    for key in options:
        if key not in allowed:
            accepted = (
                f"allowed options: {format_allowed(allowed)}"
                if allowed
                else "it takes no options"
            )
            raise ValueError(f"unknown option {key!r} for {owner}; {accepted}")
