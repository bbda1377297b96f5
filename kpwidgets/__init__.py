"""kpwidgets: see how gradient descent shapes recurrent networks (KPFlow).

One small gradient step moves the hidden trajectories by ``dz = -eta P K P* e``:
``K = J J*`` is the parameter operator, ``P`` the linearised flow propagator.
The course notebooks start with::

    import kpwidgets as kpw
    kpw.setup()
"""

__version__ = "0.1.0"

import importlib

from kpwidgets._setup import setup
from kpwidgets.analysis import (
    collapse_curve,
    finite_time_lyapunov_exponents,
    impulse_response,
    participation_ratio,
    variance_dimension,
)
from kpwidgets.models import RecurrentModel
from kpwidgets.operators import (
    InversePropagationOperator,
    ParameterOperator,
    PropagationOperator,
    kpflow_operators,
)
from kpwidgets.tasks import make_task
from kpwidgets.training import TrainingRun, train

# Submodules reachable as attributes (kpw.dense, kpw.linalg, kpw.widgets, ...);
# widgets import ipywidgets and matplotlib, so they load on first use.
_SUBMODULES = ("analysis", "linalg", "models", "operators", "tasks", "training")
_LAZY = {"widgets": "kpwidgets.widgets", "dense": "kpwidgets.operators.dense"}

__all__ = [
    "__version__",
    "setup",
    # Models, tasks and training
    "RecurrentModel",
    "make_task",
    "train",
    "TrainingRun",
    # Operators
    "ParameterOperator",
    "PropagationOperator",
    "InversePropagationOperator",
    "kpflow_operators",
    # Analysis
    "participation_ratio",
    "variance_dimension",
    "collapse_curve",
    "finite_time_lyapunov_exponents",
    "impulse_response",
]


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(_LAZY[name])
    if name in _SUBMODULES:
        return importlib.import_module(f"kpwidgets.{name}")
    raise AttributeError(f"module 'kpwidgets' has no attribute {name!r}")
