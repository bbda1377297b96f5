"""Every operator against dense matrices built with torch.func, in float64."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from kpwidgets.operators import (
    InversePropagationOperator,
    ParameterOperator,
    PropagationOperator,
    dense,
)
from tests.toy_problems import B, H, T, make_problem

N = B * T * H


def test_propagation_matches_dense(problem):
    P = PropagationOperator(*problem.args)
    expected = dense.dense_propagation(*problem.args)
    assert_close(P.to_dense(), expected)
    assert_close(P.T.to_dense(), expected.T)


def test_inverse_propagation_matches_dense(problem):
    inverse = InversePropagationOperator(*problem.args)
    expected = dense.dense_inverse_propagation(*problem.args)
    assert_close(inverse.to_dense(), expected)
    assert_close(inverse.T.to_dense(), expected.T)


def test_parameter_operator_matches_dense(problem):
    K = ParameterOperator(*problem.args)
    assert_close(K.to_dense(), dense.dense_parameter_operator(*problem.args))


def test_hidden_state_ntk_is_p_k_p_adjoint(problem):
    K = ParameterOperator(*problem.args)
    P = PropagationOperator(*problem.args)
    ntk = dense.hidden_state_ntk(problem.cell, problem.inputs, problem.h0)
    assert_close((P @ K @ P.T).to_dense(), ntk)


def test_unrolled_jacobian_is_p_times_j(problem):
    P = PropagationOperator(*problem.args)
    J = dense.dense_parameter_jacobian(*problem.args)
    unrolled = dense.unrolled_hidden_jacobian(problem.cell, problem.inputs, problem.h0)
    assert_close(P.to_dense() @ J, unrolled)


def test_jacobian_products_match_dense(problem, generator):
    K = ParameterOperator(*problem.args)
    J = dense.dense_parameter_jacobian(*problem.args)
    q = torch.randn(B, T, H, generator=generator, dtype=torch.float64)
    grads = K.jacobian_adjoint(q)
    assert_close(
        torch.cat([g.reshape(-1) for g in grads.values()]), J.T @ q.reshape(-1)
    )
    assert_close(K.jacobian(grads), (J @ J.T @ q.reshape(-1)).reshape(B, T, H))


def test_float32_matches_float64():
    for name in ("gru", "lstm"):
        exact = make_problem(name, torch.float64)
        single = make_problem(name, torch.float32)
        q = torch.randn(B, T, H, generator=torch.Generator().manual_seed(3))
        P32 = PropagationOperator(*single.args)
        K32 = ParameterOperator(*single.args)
        P64 = PropagationOperator(*exact.args)
        K64 = ParameterOperator(*exact.args)
        result = (P32 @ K32 @ P32.T).matvec(q)
        assert result.dtype == torch.float32
        expected = (P64 @ K64 @ P64.T).matvec(q.double())
        assert_close(result.double(), expected, rtol=1e-4, atol=1e-4)
