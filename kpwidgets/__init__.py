"""kpwidgets: see how gradient descent shapes recurrent networks (KPFlow)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
