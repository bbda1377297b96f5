r"""The terms of one gradient step in hidden space: ``dz = -eta P K P* e``.

:func:`readout_error` gives ``e``, the loss gradient with respect to every
hidden state through the readout only (no credit assigned through time);
:func:`gradient_step_check` compares the first-order prediction
``-eta P K P* e`` with the change of the hidden states after a real gradient
step, so a student can see where the linear picture holds.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from kpwidgets._validation import check_float
from kpwidgets.models import RecurrentModel
from kpwidgets.operators import kpflow_operators
from kpwidgets.operators._checks import check_tensor, format_shape
from kpwidgets.tasks import Task


def _check_model_and_task(model: object, task: object) -> None:
    if not isinstance(model, RecurrentModel):
        raise TypeError(
            f"model must be a kpwidgets.models.RecurrentModel; got {type(model)}"
        )
    if not isinstance(task, Task):
        raise TypeError(f"task must be a kpwidgets.tasks.Task; got {type(task)}")


def _check_batch(
    model: RecurrentModel, task: Task, inputs: torch.Tensor, targets: torch.Tensor
) -> None:
    check_tensor("inputs", inputs)
    check_tensor("targets", targets)
    B = inputs.shape[0] if inputs.dim() == 3 else "B"
    expected = (B, task.num_steps, task.output_size)
    if targets.dim() != 3 or tuple(targets.shape) != expected:
        raise ValueError(
            f"targets must have shape [B, T, O] = {format_shape(expected)} "
            f"(B from inputs, T and O from the task); "
            f"got {format_shape(targets.shape)}"
        )
    if targets.dtype != inputs.dtype:
        raise ValueError(
            f"targets must have the dtype of inputs ({inputs.dtype}); "
            f"got {targets.dtype}"
        )


def readout_error(
    model: RecurrentModel,
    task: Task,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    hidden: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""``e = dL/dz``: the loss gradient at every hidden state, through the readout.

    .. math::

        e_n = \frac{\partial L}{\partial z_n}\Big|_{\text{readout only}}
            = W_\text{out}^\top \frac{\partial L}{\partial y_n}

    Only the readout path counts: how ``z_n`` changes later states is the job
    of ``P*`` (back-propagation through time).

    Args:
        model: The model whose readout and loss define ``L``.
        task: Supplies the loss, ``task.loss(outputs, targets)``.
        inputs: ``[B, T, I]``.
        targets: ``[B, T, O]``.
        hidden: ``[B, T, H]``; by default ``model(inputs)``'s hidden states.

    Returns:
        ``[B, T, H]`` (for an LSTM, zero on the cell-state half the readout
        does not read).

    Raises:
        ValueError: If the shapes or dtypes do not match.
    """
    _check_model_and_task(model, task)
    _check_batch(model, task, inputs, targets)
    if hidden is None:
        with torch.no_grad():
            _, hidden = model(inputs)
    check_tensor("hidden", hidden)
    expected = (*inputs.shape[:2], model.state_size)
    if tuple(hidden.shape) != expected:
        raise ValueError(
            f"hidden must have shape [B, T, H] = {format_shape(expected)}; "
            f"got {format_shape(hidden.shape)}"
        )
    with torch.enable_grad():
        leaf = hidden.detach().requires_grad_(True)
        outputs = model.readout(model.readout_state(leaf))
        (error,) = torch.autograd.grad(task.loss(outputs, targets), leaf)
    return error


@dataclass(frozen=True)
class GradientStepCheck:
    """The predicted and the actual change of the hidden states after one step.

    Attributes:
        learning_rate: ``eta`` of the plain gradient step.
        predicted: ``[B, T, H]``, ``-eta P K P* e``.
        actual: ``[B, T, H]``, ``z(theta - eta grad L) - z(theta)``.
    """

    learning_rate: float
    predicted: torch.Tensor
    actual: torch.Tensor

    @property
    def relative_error(self) -> float:
        """``||actual - predicted|| / ||actual||`` (0 when nothing moved)."""
        scale = self.actual.norm()
        if scale == 0:
            return 0.0
        return float((self.actual - self.predicted).norm() / scale)


def gradient_step_check(
    model: RecurrentModel,
    task: Task,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    learning_rates: Sequence[float],
) -> list[GradientStepCheck]:
    """Compare ``-eta P K P* e`` with a real gradient step, for each ``eta``.

    The real step is plain gradient descent on the cell's parameters, with
    the gradient from autograd (independent of the operators); the readout
    does not move hidden states, so it is left alone. The caller's model is
    not changed.

    Args:
        model: The model; use float64 to see the error fall with ``eta``
            below float32 rounding.
        task: Supplies the loss.
        inputs: ``[B, T, I]``.
        targets: ``[B, T, O]``.
        learning_rates: Positive step sizes ``eta``.

    Returns:
        One :class:`GradientStepCheck` per learning rate, in the order given.

    Notes:
        The prediction is first order: the relative error grows like ``eta``
        until the step leaves the linear regime. Costs one K and two P
        matvecs, plus one forward pass per learning rate.
    """
    _check_model_and_task(model, task)
    _check_batch(model, task, inputs, targets)
    rates = [
        check_float("a learning rate", rate, low=0.0, low_inclusive=False)
        for rate in learning_rates
    ]
    if not rates:
        raise ValueError("learning_rates must hold at least one positive number")

    with torch.no_grad():
        _, hidden = model(inputs)
    error = readout_error(model, task, inputs, targets, hidden)
    operators = kpflow_operators(model.cell, inputs, hidden)
    response = operators.hidden_ntk.matvec(error)  # [B, T, H], P K P* e

    # The true gradient of the cell parameters, by autograd through time.
    names = [name for name, p in model.cell.named_parameters() if p.requires_grad]
    parameters = [dict(model.cell.named_parameters())[name] for name in names]
    with torch.enable_grad():
        outputs, _ = model(inputs)
        gradients = torch.autograd.grad(task.loss(outputs, targets), parameters)

    checks = []
    stepped = copy.deepcopy(model)
    stepped_parameters = dict(stepped.cell.named_parameters())
    for rate in rates:
        with torch.no_grad():
            for name, start, gradient in zip(names, parameters, gradients, strict=True):
                stepped_parameters[name].copy_(start - rate * gradient)
            _, moved = stepped(inputs)
        checks.append(
            GradientStepCheck(
                learning_rate=rate, predicted=-rate * response, actual=moved - hidden
            )
        )
    return checks
