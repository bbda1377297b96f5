"""Tiny recurrent cells covering the closed-form and the generic code paths."""

from __future__ import annotations

import torch
from torch import nn


class FlatLSTMCell(nn.Module):
    """An LSTM cell whose state is the flat concatenation ``[h, c]``."""

    def __init__(self, input_size: int, units: int) -> None:
        super().__init__()
        self.units = units
        self.lstm = nn.LSTMCell(input_size, units)

    def forward(self, x, z):
        h, c = z.split(self.units, dim=-1)
        h, c = self.lstm(x, (h, c))
        return torch.cat([h, c], dim=-1)


class LeakyRNNCell(nn.Module):
    """``z' = (1 - a) z + a (W tanh(z) + U x)``: Euler step of a leaky RNN."""

    def __init__(self, input_size: int, hidden_size: int, leak: float = 0.2) -> None:
        super().__init__()
        self.leak = leak
        self.recurrent = nn.Linear(hidden_size, hidden_size, bias=False)
        self.input = nn.Linear(input_size, hidden_size, bias=False)

    def forward(self, x, z):
        drive = self.recurrent(torch.tanh(z)) + self.input(x)
        return (1 - self.leak) * z + self.leak * drive


class GainCell(nn.Module):
    """A user's own cell: per-unit gains, a frozen parameter and a buffer."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.recurrent = nn.Linear(hidden_size, hidden_size)
        self.input = nn.Linear(input_size, hidden_size, bias=False)
        self.gain = nn.Parameter(torch.linspace(0.5, 1.5, hidden_size))
        self.frozen_offset = nn.Parameter(0.1 * torch.ones(hidden_size))
        self.frozen_offset.requires_grad_(False)
        self.register_buffer("decay", torch.tensor(0.9))

    def forward(self, x, z):
        drive = self.gain * self.recurrent(z) + self.input(x) + self.frozen_offset
        return self.decay * z + torch.nn.functional.softplus(drive) - 0.5


class WrappedGRUCell(nn.Module):
    """``nn.GRUCell`` behind a wrapper: forces the generic torch.func path."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.gru = nn.GRUCell(input_size, hidden_size)

    def forward(self, x, z):
        return self.gru(x, z)


def make_cell(name: str, input_size: int, hidden_size: int) -> nn.Module:
    """A seeded float64 cell by name."""
    torch.manual_seed(1)
    cells = {
        "rnn": lambda: nn.RNNCell(input_size, hidden_size),
        "gru": lambda: nn.GRUCell(input_size, hidden_size),
        "relu_rnn": lambda: nn.RNNCell(input_size, hidden_size, nonlinearity="relu"),
        "gru_no_bias": lambda: nn.GRUCell(input_size, hidden_size, bias=False),
        "lstm": lambda: FlatLSTMCell(input_size, hidden_size // 2),
        "leaky": lambda: LeakyRNNCell(input_size, hidden_size),
        "custom": lambda: GainCell(input_size, hidden_size),
        "wrapped_gru": lambda: WrappedGRUCell(input_size, hidden_size),
    }
    cell = cells[name]().double()
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.mul_(1.5)
    return cell


CELL_NAMES = [
    "rnn",
    "gru",
    "relu_rnn",
    "gru_no_bias",
    "lstm",
    "leaky",
    "custom",
    "wrapped_gru",
]
