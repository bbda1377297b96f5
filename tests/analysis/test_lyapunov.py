"""Finite-time Lyapunov exponents and impulse responses against dense products."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from kpwidgets.analysis import finite_time_lyapunov_exponents, impulse_response
from kpwidgets.operators import dense
from tests.toy_problems import B, H, T, make_problem


class DiagonalLinearCell(nn.Module):
    """``z' = diag(a) z + U x``: exponents are ``log |a|`` exactly."""

    def __init__(self, rates: torch.Tensor, input_size: int) -> None:
        super().__init__()
        self.rates = nn.Parameter(rates)
        self.input = nn.Linear(input_size, len(rates), bias=False).double()

    def forward(self, x, z):
        return self.rates * z + self.input(x)


def test_linear_cell_exponents_are_log_rates():
    rates = torch.tensor([0.5, -1.5, 1.0, 0.8], dtype=torch.float64)
    steps = 400
    inputs = torch.zeros(B, steps, 2, dtype=torch.float64)
    cell = DiagonalLinearCell(rates, input_size=2)
    h0 = torch.ones(B, H, dtype=torch.float64)
    with torch.no_grad():
        hidden = dense.unroll(cell, inputs, h0)
    expected = torch.sort(rates.abs().log(), descending=True).values
    # A random frame aligns with the fastest directions at a rate O(1 / T).
    exponents = finite_time_lyapunov_exponents(cell, inputs, hidden, h0)
    assert_close(exponents, expected.expand(B, H), rtol=0, atol=0.02)
    leading = finite_time_lyapunov_exponents(
        cell, inputs, hidden, h0, num_exponents=2, dt=0.1
    )
    assert_close(leading, 10 * expected[:2].expand(B, 2), rtol=0, atol=0.2)


@pytest.mark.parametrize("name", ["rnn", "gru", "lstm"])
def test_exponents_match_the_dense_jacobian_product(name):
    problem = make_problem(name)
    A, _ = dense.step_jacobians(*problem.args)
    product = torch.eye(H, dtype=torch.float64).expand(B, H, H)
    for t in range(T):
        product = A[:, t] @ product
    exponents = finite_time_lyapunov_exponents(*problem.args)
    # The sum of all exponents is the volume growth rate, log|det| / T.
    assert_close(exponents.sum(-1), torch.linalg.slogdet(product)[1] / T)
    # With one exponent the frame is one random unit vector, grown by the product.
    first = finite_time_lyapunov_exponents(
        *problem.args, num_exponents=1, generator=torch.Generator().manual_seed(5)
    )
    start = torch.randn(H, 1, generator=torch.Generator().manual_seed(5)).double()
    growth = torch.linalg.vector_norm(product @ (start / start.norm()), dim=(-2, -1))
    assert_close(first[:, 0], growth.log() / T)


def test_impulse_response_is_a_column_block_of_p():
    problem = make_problem("gru")
    P = dense.dense_propagation(*problem.args).reshape(B, T, H, B, T, H)
    response = impulse_response(*problem.args[:3], 2, problem.h0)
    assert response.shape == (H, B, T, H)
    for b in range(B):
        assert_close(response[:, b], P[b, :, :, b, 2, :].permute(2, 0, 1))
    assert torch.all(response[:, :, :2] == 0)
    direction = torch.tensor([1.0, 0.0, -1.0, 2.0], dtype=torch.float64)
    along = impulse_response(*problem.args[:3], 2, problem.h0, direction=direction)
    assert_close(along, torch.einsum("j,jbth->bth", direction, response))


def test_errors():
    problem = make_problem("gru")
    with pytest.raises(ValueError, match=rf"num_exponents must be at most H = {H}"):
        finite_time_lyapunov_exponents(*problem.args, num_exponents=H + 1)
    with pytest.raises(ValueError, match="num_exponents must be a positive integer"):
        finite_time_lyapunov_exponents(*problem.args, num_exponents=0)
    with pytest.raises(ValueError, match="dt must be positive"):
        finite_time_lyapunov_exponents(*problem.args, dt=0.0)
    with pytest.raises(
        ValueError, match=rf"time must be an integer step in \[0, {T - 1}\]"
    ):
        impulse_response(*problem.args[:3], T, problem.h0)
    with pytest.raises(ValueError, match=r"direction must have shape \[H\]"):
        impulse_response(*problem.args[:3], 0, problem.h0, direction=torch.ones(H + 1))
    with pytest.raises(ValueError, match="direction must have dtype torch.float64"):
        impulse_response(*problem.args[:3], 0, problem.h0, direction=torch.ones(H))
