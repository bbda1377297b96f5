"""Fixtures for the spectral tools: tiny seeded models and dense test operators.

Everything is float64 with B=3, T=5, H=4 (N = 60), so every quantity has a
dense oracle. Helpers are offered as fixtures so that no test imports this file.
"""

from __future__ import annotations

import pytest
import torch

from kpwidgets.operators import ParameterOperator, PropagationOperator
from kpwidgets.operators._base import TrajectoryOperator
from kpwidgets.operators.dense import unroll

B, T, I, H = 3, 5, 2, 4
SHAPE = (B, T, H)
DTYPE = torch.float64


class DenseOperator(TrajectoryOperator):
    """A trajectory operator given by an explicit ``[N, N]`` matrix."""

    symbol = "D"

    def __init__(self, matrix: torch.Tensor, block_diagonal_axes=()) -> None:
        super().__init__(SHAPE, matrix.dtype, matrix.device)
        self.matrix = matrix
        self.is_self_adjoint = bool(torch.equal(matrix, matrix.T))
        self.block_diagonal_axes = frozenset(block_diagonal_axes)

    def _matvec(self, block):
        flat = block.reshape(block.shape[0], -1)
        return (flat @ self.matrix.T).reshape(block.shape)

    def _rmatvec(self, block):
        flat = block.reshape(block.shape[0], -1)
        return (flat @ self.matrix).reshape(block.shape)


def _random_psd(rank: int, seed: int) -> torch.Tensor:
    """A seeded symmetric PSD ``[N, N]`` of the given rank, decaying spectrum."""
    generator = torch.Generator().manual_seed(seed)
    size = B * T * H
    factor = torch.randn(size, rank, generator=generator, dtype=DTYPE)
    factor = factor * torch.logspace(0, -1, rank, dtype=DTYPE)
    matrix = factor @ factor.T
    return (matrix + matrix.T) / 2


def _model(kind: str, perturbation: float = 0.0, dtype: torch.dtype = DTYPE):
    """A seeded cell, inputs, its hidden states and a non-zero h0."""
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    cell = {"gru": torch.nn.GRUCell, "rnn": torch.nn.RNNCell}[kind](I, H).to(dtype)
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.add_(perturbation * torch.randn_like(parameter))
    inputs = torch.randn(B, T, I, generator=generator, dtype=dtype)
    h0 = 0.5 * torch.randn(B, H, generator=generator, dtype=dtype)
    with torch.no_grad():
        hidden = unroll(cell, inputs, h0)
    return cell, inputs, hidden, h0


def _operators(kind: str, perturbation: float = 0.0, dtype: torch.dtype = DTYPE):
    """``(K, P)`` of a tiny seeded model."""
    model = _model(kind, perturbation, dtype)
    return ParameterOperator(*model), PropagationOperator(*model)


@pytest.fixture(scope="session")
def make_operators():
    """``make_operators(kind, perturbation=0.0, dtype=float64) -> (K, P)``."""
    return _operators


@pytest.fixture(scope="session", params=["gru", "rnn"])
def operators(request):
    """``(K, P)`` for each cell type."""
    return _operators(request.param)


@pytest.fixture(scope="session")
def gru_operators():
    """``(K, P)`` of the tiny GRU."""
    return _operators("gru")


@pytest.fixture(scope="session")
def dense_operator():
    """``dense_operator(matrix, block_diagonal_axes=())``: a DenseOperator."""
    return DenseOperator


@pytest.fixture(scope="session")
def random_psd():
    """``random_psd(rank, seed) -> [N, N]``, a seeded PSD matrix."""
    return _random_psd


@pytest.fixture(scope="session")
def diagonal_operator():
    """``diagonal_operator(values [B, T, H])``: diag over flattened (b, t, h)."""

    def build(values: torch.Tensor) -> DenseOperator:
        return DenseOperator(torch.diag(values.reshape(-1)), {"trials", "units"})

    return build
