"""The operator contract: blocks, algebra, dtype and device, the caller's module."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse.linalg
import torch
from torch.testing import assert_close

from kpwidgets.operators import (
    IdentityOperator,
    ParameterOperator,
    PropagationOperator,
)
from tests.toy_problems import B, H, T, make_problem


def all_operators(problem):
    K = ParameterOperator(*problem.args)
    P = PropagationOperator(*problem.args)
    return [K, P, P.T, P.inverse(), P.inverse().T, P @ K @ P.T]


def test_block_equals_stacked_single_matvecs(problem, generator):
    block = torch.randn(11, B, T, H, generator=generator, dtype=torch.float64)
    for op in all_operators(problem):
        singles = torch.stack([op.matvec(probe) for probe in block])
        assert_close(op.matvec(block), singles)


def test_repeated_application_gives_the_same_answer(problem, generator):
    """Regression: torch.func.linearize goes wrong from its second call on."""
    q = torch.randn(B, T, H, generator=generator, dtype=torch.float64)
    for op in all_operators(problem):
        first = op.matvec(q)
        assert_close(op.matvec(q), first, rtol=0, atol=0)


def test_callers_module_is_untouched(problem):
    before = copy.deepcopy(problem.cell.state_dict())
    flags = [p.requires_grad for p in problem.cell.parameters()]
    problem.cell.train()
    for op in all_operators(problem):
        op.matvec(torch.ones(B, T, H, dtype=torch.float64))
    after = problem.cell.state_dict()
    for name, value in before.items():
        assert_close(after[name], value, rtol=0, atol=0)
        assert after[name].dtype == value.dtype
    assert [p.requires_grad for p in problem.cell.parameters()] == flags
    assert problem.cell.training
    assert all(p.grad is None for p in problem.cell.parameters())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_follows_the_data(dtype):
    problem = make_problem("gru", dtype)
    for op in all_operators(problem):
        assert op.dtype == dtype
        assert op.device == torch.device("cpu")
        assert op.matvec(torch.ones(B, T, H, dtype=dtype)).dtype == dtype


def test_shape_and_repr():
    problem = make_problem("gru")
    K = ParameterOperator(*problem.args)
    P = PropagationOperator(*problem.args)
    assert K.shape == (B * T * H, B * T * H)
    assert repr(P @ K @ P.T) == f"P[B={B},T={T},H={H}] @ K @ P.T"
    assert repr(P.inverse()) == f"P^-1[B={B},T={T},H={H}]"
    assert repr(2 * K - P) == f"2 * K[B={B},T={T},H={H}] + -1 * P"
    assert K.num_parameters == sum(p.numel() for p in problem.cell.parameters())


def test_algebra_matches_dense():
    problem = make_problem("rnn")
    K = ParameterOperator(*problem.args)
    P = PropagationOperator(*problem.args)
    Kd, Pd = K.to_dense(), P.to_dense()
    identity = IdentityOperator(P.trajectory_shape, P.dtype, P.device)
    assert_close((K + P).to_dense(), Kd + Pd)
    assert_close((K - P).to_dense(), Kd - Pd)
    assert_close((-K).to_dense(), -Kd)
    assert_close((0.5 * K * 3).to_dense(), 1.5 * Kd)
    assert_close((P @ P.T).to_dense(), Pd @ Pd.T)
    assert_close((P.inverse() @ P - identity).to_dense(), torch.zeros_like(Pd))
    assert P.T.T is P
    assert K.T is K
    assert (P @ K @ P.T).is_self_adjoint
    assert (P @ P.T).is_self_adjoint
    assert not (P @ K).is_self_adjoint
    assert not P.is_self_adjoint
    assert (K + K).is_self_adjoint


def test_block_diagonal_structure_is_declared_truthfully():
    for name in ("rnn", "gru", "lstm"):
        problem = make_problem(name)
        K = ParameterOperator(*problem.args)
        P = PropagationOperator(*problem.args)
        assert "trials" in (P @ P.T).block_diagonal_axes
        assert not (P @ K @ P.T).block_diagonal_axes
        matrix = K.to_dense().reshape(B * T, H, B * T, H)
        off_diagonal_units = matrix * (1 - torch.eye(H).double())[None, :, None, :]
        unit_blocks = bool(off_diagonal_units.abs().max() == 0)
        assert ("units" in K.block_diagonal_axes) == (name in ("rnn", "gru"))
        assert unit_blocks or "units" not in K.block_diagonal_axes


def test_scipy_wrapper_agrees():
    problem = make_problem("gru")
    K = ParameterOperator(*problem.args)
    values = scipy.sparse.linalg.eigsh(K.to_scipy(), k=3, which="LA")[0]
    expected = torch.linalg.eigvalsh(K.to_dense())[-3:].numpy()
    np.testing.assert_allclose(np.sort(values), expected, rtol=1e-8)


def test_gradient_flags_on_inputs_are_ignored():
    problem = make_problem("gru")
    inputs = problem.inputs.clone().requires_grad_(True)
    hidden = problem.hidden.clone().requires_grad_(True)
    P = PropagationOperator(problem.cell, inputs, hidden, problem.h0)
    assert not P.matvec(torch.ones(B, T, H, dtype=torch.float64)).requires_grad


def test_h0_defaults_to_zeros_and_broadcasts():
    problem = make_problem("gru")
    zero_start = make_problem("gru")
    from kpwidgets.operators import dense

    with torch.no_grad():
        hidden = dense.unroll(problem.cell, problem.inputs, torch.zeros(B, H).double())
    P_default = PropagationOperator(problem.cell, problem.inputs, hidden)
    P_explicit = PropagationOperator(
        zero_start.cell, zero_start.inputs, hidden, torch.zeros(H).double()
    )
    assert_close(P_default.to_dense(), P_explicit.to_dense())
