"""Spectral tools for trajectory operators: eigenpairs, traces, ranks, alignment.

Every estimator takes an explicit probe budget ``num_matvecs`` and draws its
randomness from a ``torch.Generator`` (a fixed seed when none is given).
"""

from kpwidgets.linalg._estimate import Estimate
from kpwidgets.linalg._warnings import ConvergenceWarning
from kpwidgets.linalg.alignment import misdirection, operator_alignment
from kpwidgets.linalg.eigen import EigenResult, top_eigenpairs
from kpwidgets.linalg.partial_trace import PartialTrace, partial_trace
from kpwidgets.linalg.rank import effective_rank, participation_ratio, threshold_rank
from kpwidgets.linalg.trace import hutchinson_trace, hutchpp_trace

__all__ = [
    # Spectra
    "top_eigenpairs",
    "EigenResult",
    # Traces
    "hutchinson_trace",
    "hutchpp_trace",
    "partial_trace",
    "PartialTrace",
    # Effective rank
    "effective_rank",
    "participation_ratio",
    "threshold_rank",
    # Alignment
    "operator_alignment",
    "misdirection",
    # Results and warnings
    "Estimate",
    "ConvergenceWarning",
]
