"""The terms of dz = -eta P K P* e against autograd on small float64 models."""

from __future__ import annotations

import pytest
import torch

from kpwidgets.analysis.gradient_flow import gradient_step_check, readout_error
from kpwidgets.models import ARCHITECTURES, RecurrentModel
from kpwidgets.operators import kpflow_operators
from kpwidgets.tasks import make_task


def small_problem(architecture: str):
    task = make_task(
        "memory_pro", stimulus_steps=2, memory_steps=2, response_steps=3, grace_steps=1
    )
    model = RecurrentModel(architecture, task.input_size, 4, task.output_size, seed=3)
    model = model.double()
    batch = task.evaluation_batch(4, dtype=torch.float64)
    return model, task, batch.inputs, batch.targets


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_gradient_is_j_adjoint_of_p_adjoint_of_error(architecture):
    model, task, inputs, targets = small_problem(architecture)
    _, hidden = model(inputs)
    error = readout_error(model, task, inputs, targets)
    operators = kpflow_operators(model.cell, inputs, hidden.detach())
    predicted = operators.K.jacobian_adjoint(operators.P.T @ error)

    loss = task.loss(model(inputs)[0], targets)
    parameters = dict(model.cell.named_parameters())
    names = list(predicted)
    true = torch.autograd.grad(loss, [parameters[name] for name in names])
    for name, gradient in zip(names, true, strict=True):
        torch.testing.assert_close(predicted[name], gradient)


def test_readout_error_is_zero_on_lstm_cell_states():
    model, task, inputs, targets = small_problem("lstm")
    error = readout_error(model, task, inputs, targets)
    assert error.shape == (4, task.num_steps, 8)
    assert error[..., 4:].abs().max() == 0
    assert error[..., :4].abs().max() > 0


@pytest.mark.parametrize("architecture", ["gru", "ctrnn"])
def test_prediction_error_is_first_order(architecture):
    model, task, inputs, targets = small_problem(architecture)
    before = [parameter.clone() for parameter in model.parameters()]
    small, smaller = gradient_step_check(model, task, inputs, targets, [1e-3, 1e-4])
    assert small.actual.abs().max() > 0
    # Halving the error per decade would be slower; first order gives ~10x.
    assert smaller.relative_error < small.relative_error / 5
    assert small.relative_error < 1e-2
    for parameter, start in zip(model.parameters(), before, strict=True):
        assert torch.equal(parameter, start)


def test_errors():
    model, task, inputs, targets = small_problem("gru")
    with pytest.raises(
        ValueError, match=r"targets must have shape \[B, T, O\] = \[4, 7, 3\]"
    ):
        readout_error(model, task, inputs, targets[:, :-1])
    with pytest.raises(
        ValueError, match=r"hidden must have shape \[B, T, H\] = \[4, 7, 4\]"
    ):
        readout_error(model, task, inputs, targets, torch.zeros(4, 7, 5).double())
    with pytest.raises(ValueError, match="a learning rate must be a finite number"):
        gradient_step_check(model, task, inputs, targets, [0.0])
    with pytest.raises(ValueError, match="at least one positive number"):
        gradient_step_check(model, task, inputs, targets, [])
    with pytest.raises(TypeError, match="model must be a kpwidgets"):
        readout_error(model.cell, task, inputs, targets)
