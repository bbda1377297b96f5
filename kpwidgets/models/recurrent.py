"""``RecurrentModel``: a recurrent cell unrolled over time, plus a linear readout."""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from kpwidgets._validation import (
    check_choice,
    check_float,
    check_int,
    check_options,
)
from kpwidgets.models.cells import LeakyRNNCell, LSTMCellFlat

ARCHITECTURES = ("rnn", "gru", "lstm", "ctrnn")

# Per-architecture options and their defaults (copied, never mutated).
_DEFAULT_OPTIONS: dict[str, dict[str, float]] = {
    "rnn": {},
    "gru": {},
    "lstm": {},
    "ctrnn": {"dt": 1.0, "tau": 5.0},
}

# The fused kernels torch uses inside nn.RNN / nn.GRU / nn.LSTM.
_FUSED_KERNELS = {"rnn": torch.rnn_tanh, "gru": torch.gru, "lstm": torch.lstm}


class RecurrentModel(nn.Module):
    r"""A recurrent network: ``z_t = cell(x_t, z_{t-1})``, ``y_t = W_out z_t + b``.

    Shapes: ``inputs`` [B, T, I] give ``outputs`` [B, T, O] and ``hidden``
    [B, T, H] with ``H = model.state_size``. ``hidden[:, t]`` equals
    ``model.cell(inputs[:, t], hidden[:, t - 1])`` with ``hidden[:, -1]`` read
    as ``h0`` (zeros by default), so the operators of :mod:`kpwidgets.operators`
    apply to ``model.cell`` and the recorded ``hidden``.

    Architectures:

    - ``"rnn"``: ``model.cell`` is a :class:`torch.nn.RNNCell` (tanh).
    - ``"gru"``: ``model.cell`` is a :class:`torch.nn.GRUCell`.
    - ``"lstm"``: ``model.cell`` is a :class:`LSTMCellFlat` of ``hidden_size``
      units; its state is the flat ``z = [h, c]``, so ``state_size = 2 *
      hidden_size``. The readout reads ``h`` only.
    - ``"ctrnn"``: ``model.cell`` is a :class:`LeakyRNNCell`,
      :math:`z_t = (1 - a) z_{t-1} + a (W \tanh(z_{t-1}) + U x_t + b)` with
      ``a = dt / tau`` (options ``dt=1.0``, ``tau=5.0``).

    Initialisation: torch's standard uniform initialisation for the torch cells
    and the readout; for ``"ctrnn"``, ``W ~ N(0, 1/H)`` and ``U``, ``b``
    uniform in ``±1/sqrt(I)``. The recurrent matrix is then multiplied by
    ``init_scale`` (the paper's g). All draws come from a ``torch.Generator``
    seeded with ``seed``, so equal seeds give bit-identical weights; the global
    random state is left untouched unless ``seed`` is None, in which case the
    seed is drawn from it (and recorded in ``model.config``).

    Args:
        architecture: One of ``"rnn"``, ``"gru"``, ``"lstm"``, ``"ctrnn"``.
        input_size: I, the number of input channels.
        hidden_size: The number of units (for ``"lstm"``, half the state size).
        output_size: O, the number of readout channels.
        init_scale: g >= 0, the factor applied to the recurrent weights.
        seed: Seed of the initialisation, or None to draw one.
        **options: Architecture options; only ``"ctrnn"`` has any (``dt``,
            ``tau``, with ``0 < dt <= tau``).

    Raises:
        ValueError: If an argument or option is unknown or out of range.

    Notes:
        Training uses a fused path: torch's own RNN kernels called with the
        cell's parameters (no copies), and for ``"ctrnn"`` the input projection
        of all steps in one GEMM before the time loop. It computes the same
        hidden states as the cell loop (``forward(..., fused=False)``) up to
        rounding. The LSTM kernel returns only ``h``; ``c`` is rebuilt from the
        gates in one batched GEMM and an elementwise loop.
    """

    def __init__(
        self,
        architecture: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        init_scale: float = 1.0,
        seed: int | None = None,
        **options: float,
    ) -> None:
        super().__init__()
        self.architecture = check_choice("architecture", architecture, ARCHITECTURES)
        self.input_size = check_int("input_size", input_size, minimum=1)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        self.output_size = check_int("output_size", output_size, minimum=1)
        self.init_scale = check_float("init_scale", init_scale, low=0.0)
        defaults = _DEFAULT_OPTIONS[architecture]
        check_options(f"architecture {architecture!r}", options, defaults)
        self.options = {**defaults, **options}
        for name, value in self.options.items():
            self.options[name] = check_float(name, value, low=0.0, low_inclusive=False)
        if seed is None:
            seed = int(torch.randint(0, 2**62, ()).item())
        self.seed = check_int("seed", seed)

        # Building torch's modules draws from the global generator; shield it.
        with torch.random.fork_rng(devices=[]):
            self.cell = self._build_cell()
            self.readout = nn.Linear(hidden_size, output_size)
        self._initialise(torch.Generator().manual_seed(self.seed))

    @property
    def state_size(self) -> int:
        """H, the size of the state the operators see (``2 * hidden_size`` for LSTM)."""
        return 2 * self.hidden_size if self.architecture == "lstm" else self.hidden_size

    @property
    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model's initialisation exactly."""
        return {
            "architecture": self.architecture,
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
            "init_scale": self.init_scale,
            "seed": self.seed,
            "options": dict(self.options),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RecurrentModel:
        """Build a freshly initialised model from :attr:`config`."""
        config = dict(config)
        options = config.pop("options", {})
        return cls(**config, **options)

    @property
    def recurrent_weight(self) -> torch.Tensor:
        """The recurrent matrix that ``init_scale`` multiplies."""
        if self.architecture == "lstm":
            return self.cell.lstm.weight_hh
        return self.cell.weight_hh

    def readout_state(self, hidden: torch.Tensor) -> torch.Tensor:
        """The part of the state the readout reads: ``h`` of ``[h, c]`` for LSTM.

        Shapes: ``hidden`` [..., H] gives [..., hidden_size].
        """
        if self.architecture == "lstm":
            return hidden[..., : self.hidden_size]
        return hidden

    def forward(
        self,
        inputs: torch.Tensor,
        h0: torch.Tensor | None = None,
        *,
        fused: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the network over a batch of input sequences.

        Args:
            inputs: [B, T, I], with the model's dtype and device.
            h0: Initial state [B, H], zeros when None.
            fused: Use the fused kernels (see Notes of the class); False runs
                the reference loop ``z = cell(x_t, z)``.

        Returns:
            ``(outputs, hidden)``: [B, T, O] and [B, T, H].

        Raises:
            ValueError: If ``inputs`` or ``h0`` has the wrong shape or dtype.
        """
        h0 = self._check_inputs(inputs, h0)
        hidden = self._states(inputs, h0, fused, cell_states=True)
        return self.readout(self.readout_state(hidden)), hidden

    def outputs(
        self, inputs: torch.Tensor, h0: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The outputs [B, T, O] of the fused forward pass, without ``hidden``.

        The same as ``model(inputs, h0)[0]``; for LSTM it skips rebuilding the
        cell states the readout does not read, which makes training faster.
        """
        h0 = self._check_inputs(inputs, h0)
        return self.readout(self._states(inputs, h0, fused=True, cell_states=False))

    def _check_inputs(
        self, inputs: torch.Tensor, h0: torch.Tensor | None
    ) -> torch.Tensor:
        """Validate ``inputs`` [B, T, I] and ``h0`` [B, H]; return ``h0``."""
        weight = self.recurrent_weight
        _check_batch("inputs", inputs, (None, None, self.input_size), "[B, T, I]")
        if inputs.dtype != weight.dtype or inputs.device != weight.device:
            raise ValueError(
                f"inputs must have dtype {weight.dtype} on {weight.device} to match "
                f"the model; got {inputs.dtype} on {inputs.device}"
            )
        B = inputs.shape[0]
        if h0 is None:
            return inputs.new_zeros(B, self.state_size)
        _check_batch("h0", h0, (B, self.state_size), "[B, H]")
        return h0

    def _states(
        self, inputs: torch.Tensor, h0: torch.Tensor, fused: bool, cell_states: bool
    ) -> torch.Tensor:
        """The states [B, T, H], or only what the readout reads."""
        if fused and self.architecture == "ctrnn":
            hidden = self._leaky_loop(inputs, h0)
        elif fused and inputs.device.type in ("cpu", "cuda"):
            return self._fused_kernel(inputs, h0, cell_states)
        else:
            hidden = self._cell_loop(inputs, h0)
        return hidden if cell_states else self.readout_state(hidden)

    def _build_cell(self) -> nn.Module:
        inputs, units = self.input_size, self.hidden_size
        if self.architecture == "rnn":
            return nn.RNNCell(inputs, units, nonlinearity="tanh")
        if self.architecture == "gru":
            return nn.GRUCell(inputs, units)
        if self.architecture == "lstm":
            return LSTMCellFlat(inputs, units)
        alpha = self.options["dt"] / self.options["tau"]
        if alpha > 1:
            raise ValueError(
                "ctrnn needs dt <= tau (the Euler step is unstable beyond); got "
                f"dt={self.options['dt']:g}, tau={self.options['tau']:g}"
            )
        return LeakyRNNCell(inputs, units, alpha)

    @torch.no_grad()
    def _initialise(self, generator: torch.Generator) -> None:
        for name, parameter in self.named_parameters():
            if name.startswith("readout."):
                bound = 1 / math.sqrt(self.hidden_size)
            elif self.architecture == "ctrnn":
                bound = 1 / math.sqrt(self.input_size)
            else:
                bound = 1 / math.sqrt(self.hidden_size)
            parameter.uniform_(-bound, bound, generator=generator)
        weight = self.recurrent_weight
        if self.architecture == "ctrnn":
            weight.normal_(0.0, 1 / math.sqrt(self.hidden_size), generator=generator)
        weight.mul_(self.init_scale)

    def _cell_loop(self, inputs: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
        z, states = h0, []
        for x_t in inputs.unbind(dim=1):
            z = self.cell(x_t, z)
            states.append(z)
        return torch.stack(states, dim=1)  # [B, T, H]

    def _leaky_loop(self, inputs: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
        cell = self.cell
        alpha = cell.alpha
        # The input drive of every step in one GEMM, split by time (unbind keeps
        # the backward pass to one stack instead of a scatter per step).
        drive = alpha * (inputs @ cell.weight_ih.T + cell.bias)  # [B, T, H]
        recurrent = (alpha * cell.weight_hh).T
        z, states = h0, []
        for drive_t in drive.unbind(dim=1):
            z = torch.addmm(drive_t + (1 - alpha) * z, torch.tanh(z), recurrent)
            states.append(z)
        return torch.stack(states, dim=1)

    def _fused_kernel(
        self, inputs: torch.Tensor, h0: torch.Tensor, cell_states: bool
    ) -> torch.Tensor:
        torch_cell = self.cell.lstm if self.architecture == "lstm" else self.cell
        weights = [
            torch_cell.weight_ih,
            torch_cell.weight_hh,
            torch_cell.bias_ih,
            torch_cell.bias_hh,
        ]
        n = self.hidden_size
        hx = h0[None, :, :n].contiguous()  # [1, B, n]
        if self.architecture == "lstm":
            hx = (hx, h0[None, :, n:].contiguous())
        kernel = _FUSED_KERNELS[self.architecture]
        with _quiet_cudnn_weights(inputs.device):
            result = kernel(
                inputs, hx, weights, True, 1, 0.0, self.training, False, True
            )
        h = result[0]  # [B, T, n]
        if self.architecture != "lstm" or not cell_states:
            return h
        return torch.cat([h, _lstm_cell_states(torch_cell, inputs, h, h0)], dim=-1)

    def extra_repr(self) -> str:
        options = "".join(f", {k}={v:g}" for k, v in self.options.items())
        return (
            f"architecture={self.architecture!r}, state_size={self.state_size}, "
            f"init_scale={self.init_scale:g}, seed={self.seed}{options}"
        )


@contextlib.contextmanager
def _quiet_cudnn_weights(device: torch.device) -> Iterator[None]:
    """On CUDA, silence cuDNN's request for one flat weight buffer.

    Sharing the cell's own parameters (never stale copies) is worth the
    compaction cuDNN then does on each call.
    """
    if device.type != "cuda":
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="RNN module weights are not")
        yield


def _lstm_cell_states(
    cell: nn.LSTMCell, inputs: torch.Tensor, h: torch.Tensor, h0: torch.Tensor
) -> torch.Tensor:
    """Rebuild the cell states c [B, T, n] from the hidden states h [B, T, n]."""
    n = cell.hidden_size
    h_prev = torch.cat([h0[:, None, :n], h[:, :-1]], dim=1)  # [B, T, n]
    gates = inputs @ cell.weight_ih.T + h_prev @ cell.weight_hh.T
    gates = gates + cell.bias_ih + cell.bias_hh  # [B, T, 4n]
    i, f, g, _ = gates.chunk(4, dim=-1)
    write = torch.sigmoid(i) * torch.tanh(g)
    forget = torch.sigmoid(f)
    c, states = h0[:, n:], []
    for forget_t, write_t in zip(forget.unbind(1), write.unbind(1), strict=True):
        c = forget_t * c + write_t
        states.append(c)
    return torch.stack(states, dim=1)


def _check_batch(
    name: str, value: object, expected: tuple[int | None, ...], meaning: str
) -> None:
    """Raise ``ValueError`` unless ``value`` is a tensor of the expected shape."""
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor; got {type(value).__name__}")
    shape = tuple(value.shape)
    matches = len(shape) == len(expected) and all(
        want is None or want == got for want, got in zip(expected, shape, strict=False)
    )
    if not matches:
        axes = meaning.strip("[]").split(", ")
        fixed = [f"{axis} = {size}" for axis, size in zip(axes, expected, strict=True)]
        fixed = [text for text, size in zip(fixed, expected, strict=True) if size]
        raise ValueError(
            f"{name} must have shape {meaning} with {', '.join(fixed)}; "
            f"got {list(shape)}"
        )
