"""Recurrent models whose cells follow the operators' cell contract."""

from kpwidgets.models.cells import LeakyRNNCell, LSTMCellFlat
from kpwidgets.models.recurrent import ARCHITECTURES, RecurrentModel

__all__ = [
    # the model
    "RecurrentModel",
    "ARCHITECTURES",
    # cells torch does not ship in contract form
    "LeakyRNNCell",
    "LSTMCellFlat",
]
