"""Dense reference matrices of K, P, P*, P^-1 and the unrolled NTK (toy sizes).

Everything here is built from full Jacobians computed with ``torch.func`` and
is meant for tests and for the notebooks' "check it yourself" cells. Matrices
are ``[N, N]`` with ``N = B*T*H``, rows and columns indexed by flattened
``(b, t, h)``, the same order as ``TrajectoryOperator.to_dense``.
"""

from __future__ import annotations

import torch
from torch.func import functional_call, jacrev

from kpwidgets.operators._trajectory import record_trajectory

MAX_DENSE_SIZE = 4096


def _check_size(size: int, what: str) -> None:
    if size > MAX_DENSE_SIZE:
        raise ValueError(
            f"the dense {what} would have {size} rows, above the reference limit "
            f"of {MAX_DENSE_SIZE}; use toy sizes (B*T*H at most {MAX_DENSE_SIZE})"
        )


def _trainable(cell: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {
        name: parameter.detach()
        for name, parameter in cell.named_parameters()
        if parameter.requires_grad
    }


def _call(cell, parameters, x, z):
    fixed = {
        name: tensor.detach()
        for name, tensor in [*cell.named_parameters(), *cell.named_buffers()]
        if name not in parameters
    }
    return functional_call(cell, {**fixed, **parameters}, (x, z))


def step_jacobians(
    cell: torch.nn.Module,
    inputs: torch.Tensor,
    hidden: torch.Tensor,
    h0: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-sample Jacobians ``A_n = df/dz`` and ``J_n = df/dtheta``.

    Returns:
        ``A`` of shape ``[B, T, H, H]`` and ``J`` of shape ``[B, T, H, p]``,
        parameters flattened in ``named_parameters`` order.
    """
    trajectory = record_trajectory(cell, inputs, hidden, h0)
    B, T, H = trajectory.shape
    _check_size(B * T * H, "step Jacobians")
    x = trajectory.inputs.reshape(B * T, -1)
    z = trajectory.previous.reshape(B * T, H)
    parameters = _trainable(cell)
    samples = torch.arange(B * T)

    # Samples are independent, so the Jacobian over the flat batch is
    # block-diagonal; keep the diagonal blocks.
    state = jacrev(lambda state: _call(cell, parameters, x, state))(z)
    A = state[samples, :, samples, :].reshape(B, T, H, H)
    by_parameter = jacrev(lambda p: _call(cell, p, x, z))(parameters)
    J = torch.cat(
        [jac.reshape(B * T, H, -1) for jac in by_parameter.values()], dim=-1
    ).reshape(B, T, H, -1)
    return A, J


def dense_inverse_propagation(cell, inputs, hidden, h0=None) -> torch.Tensor:
    """``P^-1 = I - S`` with ``S`` carrying ``A(t)`` from step ``t-1`` to ``t``."""
    A, _ = step_jacobians(cell, inputs, hidden, h0)
    B, T, H, _ = A.shape
    shift = torch.zeros(B, T, H, B, T, H, dtype=A.dtype, device=A.device)
    for b in range(B):
        for t in range(1, T):
            shift[b, t, :, b, t - 1, :] = A[b, t]
    size = B * T * H
    identity = torch.eye(size, dtype=A.dtype, device=A.device)
    return identity - shift.reshape(size, size)


def dense_propagation(cell, inputs, hidden, h0=None) -> torch.Tensor:
    """``P = (P^-1)^-1``, the dense linearised flow propagator ``[N, N]``."""
    return torch.linalg.inv(dense_inverse_propagation(cell, inputs, hidden, h0))


def dense_parameter_jacobian(cell, inputs, hidden, h0=None) -> torch.Tensor:
    """``J`` as an ``[N, p]`` matrix: row ``(b, t, h)`` is ``df_h/dtheta``."""
    _, J = step_jacobians(cell, inputs, hidden, h0)
    return J.reshape(-1, J.shape[-1])


def dense_parameter_operator(cell, inputs, hidden, h0=None) -> torch.Tensor:
    """``K = J J^T``, dense ``[N, N]``."""
    J = dense_parameter_jacobian(cell, inputs, hidden, h0)
    return J @ J.T


def unroll(
    cell: torch.nn.Module,
    inputs: torch.Tensor,
    h0: torch.Tensor,
    parameters: dict[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Run the cell over ``inputs [B, T, I]``; returns hidden states ``[B, T, H]``.

    Args:
        cell: The recurrent cell.
        inputs: ``[B, T, I]``.
        h0: ``[B, H]``, the initial state.
        parameters: Replacement trainable parameters (for ``torch.func``).
    """
    parameters = _trainable(cell) if parameters is None else parameters
    states, state = [], h0
    for t in range(inputs.shape[1]):
        state = _call(cell, parameters, inputs[:, t], state)
        states.append(state)
    return torch.stack(states, dim=1)


def unrolled_hidden_jacobian(cell, inputs, h0) -> torch.Tensor:
    """``d hidden / d theta`` of the whole unrolled network, ``[N, p]``.

    Differentiates through every step, so it includes the temporal credit
    assignment that ``J`` alone leaves out: it equals ``P J``.
    """
    parameters = _trainable(cell)
    hidden = unroll(cell, inputs, h0, parameters)
    _check_size(hidden.numel(), "unrolled Jacobian")
    by_parameter = jacrev(lambda p: unroll(cell, inputs, h0, p))(parameters)
    return torch.cat(
        [jac.reshape(hidden.numel(), -1) for jac in by_parameter.values()], dim=-1
    )


def hidden_state_ntk(cell, inputs, h0) -> torch.Tensor:
    """The hidden-state NTK of the unrolled network, ``[N, N]``: equals P K P*."""
    jacobian = unrolled_hidden_jacobian(cell, inputs, h0)
    return jacobian @ jacobian.T
