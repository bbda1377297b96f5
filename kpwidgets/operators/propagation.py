"""The linearised flow propagator P and its inverse."""

from __future__ import annotations

import torch

from kpwidgets.operators._base import TrajectoryOperator
from kpwidgets.operators._closed_form import linearise
from kpwidgets.operators._linearisation import StepLinearisation
from kpwidgets.operators._trajectory import record_trajectory


class _LinearisedFlow(TrajectoryOperator):
    """Shared constructor: validate the trajectory and linearise its cell."""

    def __init__(
        self,
        cell: torch.nn.Module,
        inputs: torch.Tensor,
        hidden: torch.Tensor,
        h0: torch.Tensor | None = None,
    ) -> None:
        self._init_from(linearise(record_trajectory(cell, inputs, hidden, h0)))

    @classmethod
    def from_linearisation(cls, linearisation: StepLinearisation):
        """Build from an existing linearisation (shared with other operators)."""
        operator = cls.__new__(cls)
        operator._init_from(linearisation)
        return operator

    def _init_from(self, linearisation: StepLinearisation) -> None:
        trajectory = linearisation.trajectory
        super().__init__(trajectory.shape, trajectory.dtype, trajectory.device)
        self.linearisation = linearisation
        self.block_diagonal_axes = frozenset({"trials"})


class PropagationOperator(_LinearisedFlow):
    r"""The linearised flow propagator ``P`` on trajectories ``[B, T, H]``.

    ``r = P q`` is the response of the linearised dynamics to a forcing ``q``:

    .. math::

        r(t) = A(t)\, r(t-1) + q(t), \qquad r(0) = 0,

    with ``A(t) = df/dz`` at ``(hidden[:, t-1], inputs[:, t])``. ``P.T`` is the
    adjoint ``P*``: ``a(T) = r(T)``, ``a(s) = r(s) + A(s+1)^T a(s+1)``, which
    with ``r = e`` is back-propagation through time.

    Args:
        cell: Module called as ``cell(x_t [B, I], z_prev [B, H]) -> [B, H]``.
        inputs: ``[B, T, I]``.
        hidden: ``[B, T, H]``, the states the cell produced from ``inputs``.
        h0: ``[B, H]`` initial state; zeros when None.

    Notes:
        Causal in time and block-diagonal over trials. A matvec is one pass
        through time with one tangent (``P``) or adjoint (``P*``) step each:
        about one forward pass for ``nn.RNNCell``/``nn.GRUCell``, a few for
        other cells. A block ``[k, B, T, H]`` folds the probes into the batch.
    """

    symbol = "P"

    def inverse(self) -> InversePropagationOperator:
        """``P^-1``, sharing this operator's linearisation."""
        return InversePropagationOperator.from_linearisation(self.linearisation)

    def _matvec(self, block):
        response = torch.empty_like(block)
        state = block[:, :, 0]
        response[:, :, 0] = state
        for t in range(1, block.shape[2]):
            state = self.linearisation.state_tangent(state, t) + block[:, :, t]
            response[:, :, t] = state
        return response

    def _rmatvec(self, block):
        adjoint = torch.empty_like(block)
        state = block[:, :, -1]
        adjoint[:, :, -1] = state
        for s in range(block.shape[2] - 2, -1, -1):
            state = block[:, :, s] + self.linearisation.state_cotangent(state, s + 1)
            adjoint[:, :, s] = state
        return adjoint


class InversePropagationOperator(_LinearisedFlow):
    r"""``P^-1``: ``(P^-1 q)(t) = q(t) - A(t) q(t-1)``, with ``q(0) = 0``.

    Args:
        cell: Module called as ``cell(x_t [B, I], z_prev [B, H]) -> [B, H]``.
        inputs: ``[B, T, I]``.
        hidden: ``[B, T, H]``, the states the cell produced from ``inputs``.
        h0: ``[B, H]`` initial state; zeros when None.

    Notes:
        No recursion: all steps are applied at once, about one forward pass.
    """

    symbol = "P^-1"

    def _matvec(self, block):
        shifted = torch.zeros_like(block)
        shifted[:, :, 1:] = block[:, :, :-1]
        return block - self.linearisation.state_tangent(shifted)

    def _rmatvec(self, block):
        pulled = self.linearisation.state_cotangent(block)
        result = block.clone()
        result[:, :, :-1] -= pulled[:, :, 1:]
        return result
