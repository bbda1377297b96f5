"""What the course measures on trained networks: collapse, spectra, stability."""

from kpwidgets.analysis.dimension import (
    collapse_curve,
    participation_ratio,
    principal_variances,
    variance_dimension,
)
from kpwidgets.analysis.lyapunov import (
    finite_time_lyapunov_exponents,
    impulse_response,
)
from kpwidgets.analysis.summary import KPFlowSummary, kpflow_summary

__all__ = [
    # Dimension of hidden trajectories (collapse)
    "participation_ratio",
    "variance_dimension",
    "principal_variances",
    "collapse_curve",
    # KPFlow operators of one snapshot
    "kpflow_summary",
    "KPFlowSummary",
    # The Lyapunov view of P
    "finite_time_lyapunov_exponents",
    "impulse_response",
]
