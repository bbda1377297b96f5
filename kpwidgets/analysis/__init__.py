"""What the course measures on trained networks: collapse, spectra, stability."""

from kpwidgets.analysis.dimension import (
    collapse_curve,
    participation_ratio,
    principal_variances,
    threshold_count,
    variance_dimension,
)
from kpwidgets.analysis.lyapunov import (
    finite_time_lyapunov_exponents,
    impulse_response,
)

__all__ = [
    # Dimension of hidden trajectories (collapse)
    "participation_ratio",
    "variance_dimension",
    "principal_variances",
    "threshold_count",
    "collapse_curve",
    # The Lyapunov view of P
    "finite_time_lyapunov_exponents",
    "impulse_response",
]
