"""The result type shared by the stochastic estimators."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Estimate:
    """A scalar computed exactly or estimated from random probes.

    Attributes:
        value: The estimate (or the exact value).
        standard_error: Its estimated standard deviation; ``0.0`` when exact and
            ``nan`` when one probe gives no spread.
        num_matvecs: Operator applications spent.
        exact: Whether ``value`` is exact up to rounding.
    """

    value: float
    standard_error: float
    num_matvecs: int
    exact: bool

    def __float__(self) -> float:
        return self.value


def standard_error_of_mean(samples: torch.Tensor) -> float:
    """``std(samples) / sqrt(n)`` with Bessel's correction; ``nan`` for one sample."""
    count = samples.shape[0]
    if count < 2:
        return math.nan
    return float(samples.std(correction=1) / math.sqrt(count))


def delta_method_error(gradient: torch.Tensor, samples: torch.Tensor) -> float:
    """Standard error of ``g(mean of samples)`` to first order.

    Args:
        gradient: ``[d]``, the gradient of ``g`` at the sample mean.
        samples: ``[n, d]``, independent draws of a ``d``-vector.
    """
    count = samples.shape[0]
    if count < 2:
        return math.nan
    covariance = torch.cov(samples.T, correction=1).reshape(len(gradient), -1)
    variance = gradient @ covariance @ gradient / count
    return float(variance.clamp(min=0).sqrt())
