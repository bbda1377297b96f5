"""K and P built together from one linearisation of the trajectory."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kpwidgets.operators._base import TrajectoryOperator
from kpwidgets.operators._closed_form import linearise
from kpwidgets.operators._trajectory import record_trajectory
from kpwidgets.operators.parameter import ParameterOperator
from kpwidgets.operators.propagation import PropagationOperator


@dataclass(frozen=True)
class KPFlowOperators:
    """The operators of ``dz = -eta P K P* e`` for one trajectory.

    Attributes:
        K: The parameter operator ``J J*``.
        P: The linearised flow propagator; ``P.T`` is ``P*``.
    """

    K: ParameterOperator
    P: PropagationOperator

    @property
    def hidden_ntk(self) -> TrajectoryOperator:
        """``P K P*``, the hidden-state NTK of the unrolled network."""
        return self.P @ self.K @ self.P.T

    @property
    def flow(self) -> TrajectoryOperator:
        """``P P*``, how a unit push anywhere spreads through the dynamics."""
        return self.P @ self.P.T


def kpflow_operators(
    cell: torch.nn.Module,
    inputs: torch.Tensor,
    hidden: torch.Tensor,
    h0: torch.Tensor | None = None,
) -> KPFlowOperators:
    """Build K and P sharing one linearisation (half the cost of building both).

    Args:
        cell: Module called as ``cell(x_t [B, I], z_prev [B, H]) -> [B, H]``.
        inputs: ``[B, T, I]``.
        hidden: ``[B, T, H]``, the states the cell produced from ``inputs``.
        h0: ``[B, H]`` initial state; zeros when None.
    """
    linearisation = linearise(record_trajectory(cell, inputs, hidden, h0))
    return KPFlowOperators(
        K=ParameterOperator.from_linearisation(linearisation),
        P=PropagationOperator.from_linearisation(linearisation),
    )
