"""Recurrent cells that torch does not ship in the shape the operators need.

Every cell here follows the cell contract of DESIGN.md section 4: it is called as
``cell(x_t, z_prev) -> z_next`` with ``x_t: [B, I]`` and ``z_prev, z_next:
[B, H]``, and its trainable parameters are theta. The tanh RNN and the GRU need
no wrapper: :class:`torch.nn.RNNCell` and :class:`torch.nn.GRUCell` already
follow the contract.
"""

from __future__ import annotations

import torch
from torch import nn


class LeakyRNNCell(nn.Module):
    r"""The Euler step of a leaky continuous-time RNN (a neural ODE).

    .. math::

        z_{t} = (1 - a) z_{t-1} + a (W \tanh(z_{t-1}) + U x_t + b),
        \qquad a = dt / \tau

    Shapes: ``x_t`` is [B, I], ``z_prev`` and the result are [B, H].

    Args:
        input_size: I, the number of input channels.
        hidden_size: H, the number of units.
        alpha: The leak ``a = dt / tau`` in (0, 1]; ``alpha = 1`` is a discrete
            RNN whose state is the pre-activation.

    Attributes:
        weight_hh: W, the recurrent weights [H, H].
        weight_ih: U, the input weights [H, I].
        bias: b [H].
    """

    def __init__(self, input_size: int, hidden_size: int, alpha: float) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.alpha = alpha
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.bias = nn.Parameter(torch.empty(hidden_size))

    def forward(self, x_t: torch.Tensor, z_prev: torch.Tensor) -> torch.Tensor:
        """One step: ``x_t`` [B, I] and ``z_prev`` [B, H] give ``z_next`` [B, H]."""
        drive = torch.tanh(z_prev) @ self.weight_hh.T + x_t @ self.weight_ih.T
        return (1 - self.alpha) * z_prev + self.alpha * (drive + self.bias)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, alpha={self.alpha:g}"


class LSTMCellFlat(nn.Module):
    """An :class:`torch.nn.LSTMCell` whose state is one flat vector ``z = [h, c]``.

    The operators need a single state tensor, so the hidden and cell states of
    ``n`` LSTM units are concatenated: ``z`` has ``H = 2 n`` entries, ``h`` first.

    Shapes: ``x_t`` is [B, I], ``z_prev`` and the result are [B, 2 n].

    Args:
        input_size: I, the number of input channels.
        num_units: n, the number of LSTM units.

    Attributes:
        lstm: The wrapped :class:`torch.nn.LSTMCell`, which owns the parameters.
    """

    def __init__(self, input_size: int, num_units: int) -> None:
        super().__init__()
        self.num_units = num_units
        self.lstm = nn.LSTMCell(input_size, num_units)

    def forward(self, x_t: torch.Tensor, z_prev: torch.Tensor) -> torch.Tensor:
        """One step: ``x_t`` [B, I] and ``z_prev`` [B, 2n] give ``z_next`` [B, 2n]."""
        h_prev, c_prev = z_prev.split(self.num_units, dim=-1)
        h_next, c_next = self.lstm(x_t, (h_prev, c_prev))
        return torch.cat([h_next, c_next], dim=-1)
