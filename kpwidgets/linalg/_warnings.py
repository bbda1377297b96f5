"""Warning categories of the spectral tools."""


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped before meeting its tolerance."""
