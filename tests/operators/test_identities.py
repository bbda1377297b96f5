"""The identities of DESIGN section 2, on every cell type."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from kpwidgets.operators import (
    InversePropagationOperator,
    ParameterOperator,
    PropagationOperator,
    dense,
)
from tests.toy_cells import LeakyRNNCell
from tests.toy_problems import B, H, I, T, make_problem


def random_trajectories(generator, k=None):
    shape = (B, T, H) if k is None else (k, B, T, H)
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


def inner(a, b):
    return (a * b).sum()


def test_adjoint_identities(problem, generator):
    operators = [
        PropagationOperator(*problem.args),
        InversePropagationOperator(*problem.args),
        ParameterOperator(*problem.args),
    ]
    q, r = random_trajectories(generator), random_trajectories(generator)
    for op in operators:
        assert_close(inner(op.matvec(q), r), inner(q, op.T.matvec(r)))
        assert_close(op.rmatvec(r), op.T.matvec(r))


def test_parameter_operator_is_self_adjoint_and_psd(problem):
    K = ParameterOperator(*problem.args)
    assert K.T is K
    matrix = K.to_dense()
    assert_close(matrix, matrix.T)
    eigenvalues = torch.linalg.eigvalsh(matrix)
    assert eigenvalues.min() >= -1e-10 * eigenvalues.max()


def test_inverse_undoes_propagation(problem, generator):
    P = PropagationOperator(*problem.args)
    inverse = P.inverse()
    q = random_trajectories(generator, k=2)
    assert_close(inverse.matvec(P.matvec(q)), q)
    assert_close(P.matvec(inverse.matvec(q)), q)
    assert_close(P.T.matvec(inverse.T.matvec(q)), q)


def test_propagation_is_causal_and_trials_are_independent(problem):
    P = PropagationOperator(*problem.args)
    push = torch.zeros(B, T, H, dtype=torch.float64)
    push[1, 2, 0] = 1.0
    response = P.matvec(push)
    assert torch.all(response[:, :2] == 0)
    assert torch.all(response[[0, 2]] == 0)
    assert_close(response[1, 2], push[1, 2])


def test_adjoint_with_error_is_backpropagation_through_time(problem, generator):
    """P* e is dL/dz_n with temporal credit assignment, as autograd computes it."""
    e = random_trajectories(generator)
    P = PropagationOperator(*problem.args)
    hidden = dense.unroll(
        problem.cell, problem.inputs.requires_grad_(False), problem.h0
    )
    forcing = torch.zeros(B, T, H, dtype=torch.float64, requires_grad=True)
    # Inject a zero forcing after every step: its gradient is the total
    # derivative of <e, hidden> with respect to the state at that step.
    state, states = problem.h0, []
    for t in range(T):
        state = problem.cell(problem.inputs[:, t], state) + forcing[:, t]
        states.append(state)
    loss = inner(e, torch.stack(states, dim=1))
    (expected,) = torch.autograd.grad(loss, forcing)
    assert_close(hidden, problem.hidden)
    assert_close(P.T.matvec(e), expected)


def readout_gradient(problem, generator):
    """A readout loss on the cell's trajectory: its gradient and error e.

    Returns:
        The trainable parameters, their autograd gradients, and ``e = dL/dz``
        taken through the readout only.
    """
    readout = torch.nn.Linear(H, 2).double()
    targets = torch.randn(B, T, 2, generator=generator, dtype=torch.float64)
    parameters = {
        name: p.detach().clone().requires_grad_(True)
        for name, p in problem.cell.named_parameters()
        if p.requires_grad
    }
    hidden = dense.unroll(problem.cell, problem.inputs, problem.h0, parameters)
    loss = 0.5 * (readout(hidden) - targets).square().sum()
    grads = torch.autograd.grad(loss, list(parameters.values()))
    error = ((readout(hidden) - targets) @ readout.weight).detach()
    return parameters, grads, error


def test_gradient_is_j_adjoint_p_adjoint_e(problem, generator):
    parameters, expected, error = readout_gradient(problem, generator)
    K = ParameterOperator(*problem.args)
    P = PropagationOperator(*problem.args)
    gradient = K.jacobian_adjoint(P.T.matvec(error))
    for name, grad in zip(parameters, expected, strict=True):
        assert_close(gradient[name], grad)


@pytest.mark.parametrize("cell_name", ["rnn", "gru", "lstm", "custom"])
def test_small_gradient_step_moves_hidden_by_minus_eta_p_k_p_adjoint_e(
    cell_name, generator
):
    problem = make_problem(cell_name)
    parameters, grads, error = readout_gradient(problem, generator)
    K = ParameterOperator(*problem.args)
    P = PropagationOperator(*problem.args)
    predicted_direction = -(P @ K @ P.T).matvec(error)

    residuals = []
    for eta in (1e-5, 5e-6):
        stepped = {
            name: p.detach() - eta * g
            for (name, p), g in zip(parameters.items(), grads, strict=True)
        }
        moved = dense.unroll(problem.cell, problem.inputs, problem.h0, stepped)
        residual = moved - problem.hidden - eta * predicted_direction
        residuals.append(residual.norm() / (eta * predicted_direction.norm()))
    # First order: the relative residual is O(eta) and halves with eta.
    assert residuals[0] < 0.05
    assert_close(
        residuals[0] / residuals[1], torch.tensor(2.0).double(), rtol=0.1, atol=0
    )


def test_leaky_rnn_parameter_operator_is_kronecker(generator):
    leak = 0.3
    cell = LeakyRNNCell(I, H, leak=leak).double()
    inputs = torch.randn(B, T, I, generator=generator, dtype=torch.float64)
    h0 = torch.randn(B, H, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        hidden = dense.unroll(cell, inputs, h0)
    previous = torch.cat([h0[:, None], hidden[:, :-1]], dim=1)
    sites = torch.cat([torch.tanh(previous), inputs], dim=-1).reshape(B * T, -1)
    expected = leak**2 * torch.kron(sites @ sites.T, torch.eye(H).double())
    K = ParameterOperator(cell, inputs, hidden, h0)
    assert_close(K.to_dense(), expected)
    # The rank of K is capped by the site dimension H + I, times H.
    rank = torch.linalg.matrix_rank(K.to_dense()).item()
    assert rank <= (H + I) * H


def test_parameter_operator_is_a_sum_over_weights(generator):
    """K = sum_j K_j, one PSD term per weight, rank capped by its site variable."""
    problem = make_problem("leaky")
    K = ParameterOperator(*problem.args).to_dense()
    parts = []
    for name in ("recurrent.weight", "input.weight"):
        cell = problem.cell
        for other, parameter in cell.named_parameters():
            parameter.requires_grad_(other == name)
        parts.append(ParameterOperator(*problem.args).to_dense())
        site_size = H if name == "recurrent.weight" else I
        assert torch.linalg.matrix_rank(parts[-1]).item() <= site_size * H
    for parameter in problem.cell.parameters():
        parameter.requires_grad_(True)
    assert_close(K, parts[0] + parts[1])
