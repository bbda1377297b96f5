"""Matrix-free operators of the KPFlow decomposition on trajectories [B, T, H]."""

from kpwidgets.operators._base import (
    IdentityOperator,
    TrajectoryOperator,
)
from kpwidgets.operators._closed_form import linearise
from kpwidgets.operators._trajectory import (
    TrajectoryMismatchWarning,
    record_trajectory,
)
from kpwidgets.operators.kpflow import KPFlowOperators, kpflow_operators
from kpwidgets.operators.parameter import ParameterOperator
from kpwidgets.operators.propagation import (
    InversePropagationOperator,
    PropagationOperator,
)

__all__ = [
    # The operators of dz = -eta P K P* e
    "ParameterOperator",
    "PropagationOperator",
    "InversePropagationOperator",
    "kpflow_operators",
    "KPFlowOperators",
    # Building blocks
    "TrajectoryOperator",
    "IdentityOperator",
    "record_trajectory",
    "linearise",
    # Warnings
    "TrajectoryMismatchWarning",
]
