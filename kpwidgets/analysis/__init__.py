"""What the course measures on trained networks: collapse, spectra, stability."""

from kpwidgets.analysis.dimension import (
    collapse_curve,
    participation_ratio,
    principal_variances,
    variance_dimension,
)
from kpwidgets.analysis.gradient_flow import gradient_step_check, readout_error
from kpwidgets.analysis.lyapunov import (
    finite_time_lyapunov_exponents,
    impulse_response,
)
from kpwidgets.analysis.multitask import (
    TaskInterference,
    own_term_alignment,
    task_interference,
    task_similarity,
)
from kpwidgets.analysis.projection import principal_components
from kpwidgets.analysis.summary import KPFlowSummary, kpflow_summary

__all__ = [
    # Dimension of hidden trajectories (collapse)
    "participation_ratio",
    "variance_dimension",
    "principal_variances",
    "collapse_curve",
    "principal_components",
    # dz = -eta P K P* e, step by step
    "readout_error",
    "gradient_step_check",
    # KPFlow operators of one snapshot
    "kpflow_summary",
    "KPFlowSummary",
    # The Lyapunov view of P
    "finite_time_lyapunov_exponents",
    "impulse_response",
    # Several tasks in one network
    "task_similarity",
    "task_interference",
    "TaskInterference",
    "own_term_alignment",
]
