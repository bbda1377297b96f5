"""Seeded toy problems (B=3, T=5, H=4, float64): a cell and its trajectory."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kpwidgets.operators import dense
from tests.toy_cells import make_cell

B, T, I, H = 3, 5, 2, 4


@dataclass
class Problem:
    """A cell, its inputs and initial state, and the trajectory it produced."""

    cell: torch.nn.Module
    inputs: torch.Tensor
    hidden: torch.Tensor
    h0: torch.Tensor

    @property
    def args(self):
        return (self.cell, self.inputs, self.hidden, self.h0)


def make_problem(name: str, dtype=torch.float64) -> Problem:
    generator = torch.Generator().manual_seed(7)
    cell = make_cell(name, I, H).to(dtype)
    inputs = torch.randn(B, T, I, generator=generator, dtype=torch.float64).to(dtype)
    h0 = 0.5 * torch.randn(B, H, generator=generator, dtype=torch.float64).to(dtype)
    with torch.no_grad():
        hidden = dense.unroll(cell, inputs, h0)
    return Problem(cell, inputs, hidden, h0)
