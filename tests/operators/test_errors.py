"""Every error path says what was expected and what was received."""

from __future__ import annotations

import pytest
import torch

from kpwidgets.operators import (
    InversePropagationOperator,
    ParameterOperator,
    PropagationOperator,
    TrajectoryMismatchWarning,
)
from tests.toy_problems import B, H, I, T, make_problem


@pytest.fixture
def problem():
    return make_problem("gru")


@pytest.mark.parametrize(
    "Operator", [ParameterOperator, PropagationOperator, InversePropagationOperator]
)
def test_wrong_hidden_shape_names_argument_and_shapes(problem, Operator):
    with pytest.raises(
        ValueError,
        match=rf"hidden must have shape \[B, T, H\] = \[{B}, {T}, {H}\] to match "
        rf"inputs; got \[{B}, {T - 1}, {H}\]",
    ):
        Operator(problem.cell, problem.inputs, problem.hidden[:, :-1], problem.h0)


def test_wrong_inputs_rank(problem):
    with pytest.raises(ValueError, match=r"inputs must have shape \[B, T, I\]; got"):
        PropagationOperator(problem.cell, problem.inputs[0], problem.hidden)


def test_wrong_h0_shape(problem):
    with pytest.raises(
        ValueError, match=rf"h0 must have shape \[B, H\] = \[{B}, {H}\]"
    ):
        PropagationOperator(problem.cell, problem.inputs, problem.hidden, problem.h0.T)


def test_empty_trajectory(problem):
    with pytest.raises(ValueError, match="at least 1"):
        PropagationOperator(problem.cell, problem.inputs[:, :0], problem.hidden[:, :0])


def test_cell_must_be_a_module(problem):
    with pytest.raises(TypeError, match="cell must be a torch.nn.Module"):
        PropagationOperator(lambda x, z: z, problem.inputs, problem.hidden)


def test_tensors_must_be_tensors(problem):
    with pytest.raises(TypeError, match="hidden must be a torch.Tensor; got list"):
        PropagationOperator(problem.cell, problem.inputs, [[0.0]])


def test_integer_hidden_is_refused(problem):
    with pytest.raises(ValueError, match="hidden must be a floating-point tensor"):
        PropagationOperator(
            problem.cell, problem.inputs.long(), problem.hidden.long(), problem.h0
        )


def test_no_silent_cast_between_data_and_cell(problem):
    with pytest.raises(ValueError, match=r"cell parameter 'weight_ih' must have dtype"):
        ParameterOperator(problem.cell.float(), problem.inputs, problem.hidden)
    with pytest.raises(ValueError, match="inputs must have dtype torch.float64"):
        ParameterOperator(problem.cell.double(), problem.inputs.float(), problem.hidden)


def test_matvec_checks_vector_shape_and_dtype(problem):
    P = PropagationOperator(*problem.args)
    with pytest.raises(
        ValueError,
        match=rf"vector must have shape \[B, T, H\] = \[{B}, {T}, {H}\] or a block",
    ):
        P.matvec(torch.ones(B, T, H + 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="vector must have dtype torch.float64"):
        P.matvec(torch.ones(B, T, H))
    with pytest.raises(TypeError, match="vector must be a torch.Tensor"):
        P.matvec(None)
    with pytest.raises(ValueError, match="got"):
        P.matvec(torch.ones(1, 1, B, T, H, dtype=torch.float64))


def test_operator_algebra_refuses_mixed_types(problem):
    K = ParameterOperator(*problem.args)
    with pytest.raises(TypeError, match="operators add only to operators"):
        K + 1.0
    with pytest.raises(TypeError, match="operators subtract only operators"):
        K - torch.ones(3)
    with pytest.raises(TypeError, match="operators multiply only by real scalars"):
        K * torch.ones(3)
    with pytest.raises(TypeError, match="real scalars"):
        K * True


def test_composition_needs_matching_shapes(problem):
    other = make_problem("gru")
    P_short = PropagationOperator(
        other.cell, other.inputs[:, :-1], other.hidden[:, :-1], other.h0
    )
    with pytest.raises(ValueError, match="cannot combine"):
        PropagationOperator(*problem.args) @ P_short


def test_to_dense_refuses_large_matrices(problem):
    K = ParameterOperator(*problem.args)
    with pytest.raises(ValueError, match=r"above max_size=10; use a smaller"):
        K.to_dense(max_size=10)


def test_parameter_operator_needs_trainable_parameters(problem):
    for parameter in problem.cell.parameters():
        parameter.requires_grad_(False)
    with pytest.raises(ValueError, match="at least one trainable parameter"):
        ParameterOperator(*problem.args)


def test_jacobian_checks_its_parameter_change(problem):
    K = ParameterOperator(*problem.args)
    with pytest.raises(ValueError, match="parameter_change must have the keys"):
        K.jacobian({"weight_ih": torch.zeros(3 * H, I).double()})
    change = {name: torch.zeros_like(p) for name, p in problem.cell.named_parameters()}
    change["weight_hh"] = torch.zeros(H, H).double()
    with pytest.raises(ValueError, match=r"parameter_change\['weight_hh'\] must have"):
        K.jacobian(change)


@pytest.mark.parametrize("name", ["gru", "rnn", "custom"])
def test_mismatched_trajectory_warns(name):
    problem = make_problem(name)
    with pytest.warns(TrajectoryMismatchWarning, match="pass the trajectory the cell"):
        PropagationOperator(problem.cell, problem.inputs, problem.hidden + 0.1)
