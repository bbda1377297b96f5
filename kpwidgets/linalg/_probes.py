"""Random probe blocks and their chunked application to an operator."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from kpwidgets._validation import check_choice
from kpwidgets.operators._base import TrajectoryOperator

DISTRIBUTIONS = ("rademacher", "gaussian")

# Probes per operator call: large enough to amortise the time loop of P, small
# enough that a block at paper scale (1.15 M entries per probe) stays near 150 MB.
PROBES_PER_CALL = 32


def check_distribution(distribution: object) -> str:
    """Return ``distribution`` if it names a probe distribution, else raise."""
    return check_choice("distribution", distribution, DISTRIBUTIONS)


def draw_probes(
    shape: tuple[int, ...],
    operator: TrajectoryOperator,
    generator: torch.Generator,
    distribution: str = "rademacher",
) -> torch.Tensor:
    """Probes with ``E[z z^T] = I``, on the operator's dtype and device.

    Args:
        shape: The block's shape, usually ``[k, B, T, H]``.
        operator: Supplies dtype and device.
        generator: The only source of randomness.
        distribution: ``"rademacher"`` (entries +-1) or ``"gaussian"``.
    """
    options = {"dtype": operator.dtype, "device": operator.device}
    if distribution == "gaussian":
        return torch.randn(shape, generator=generator, **options)
    signs = torch.randint(0, 2, shape, generator=generator, **options)
    return signs.mul_(2).sub_(1)


def chunk_sizes(total: int) -> Iterator[int]:
    """Split ``total`` probes into calls of at most ``PROBES_PER_CALL``."""
    for start in range(0, total, PROBES_PER_CALL):
        yield min(PROBES_PER_CALL, total - start)


def apply_in_chunks(operator: TrajectoryOperator, block: torch.Tensor) -> torch.Tensor:
    """``operator`` applied to ``block [k, B, T, H]``, ``PROBES_PER_CALL`` at a time."""
    return torch.cat([operator.matvec(chunk) for chunk in block.split(PROBES_PER_CALL)])
