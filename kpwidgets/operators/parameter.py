"""The parameter operator K = J J*."""

from __future__ import annotations

import torch

from kpwidgets.operators._base import TrajectoryOperator
from kpwidgets.operators._closed_form import linearise
from kpwidgets.operators._linearisation import ParameterBlock, StepLinearisation
from kpwidgets.operators._trajectory import record_trajectory

# Probe entries (k * B * T * H) per K application: larger blocks are split so
# the intermediates stay near the cache instead of streaming through memory.
PROBE_CHUNK_ENTRIES = 2**18


class ParameterOperator(TrajectoryOperator):
    r"""The parameter operator ``K = J J*`` on trajectories ``[B, T, H]``.

    ``J`` maps a parameter change to the change of every step's output,
    ``(J dtheta)_n = J_n dtheta`` with ``J_n = df/dtheta`` at sample
    ``n = (b, t)``; ``K`` couples all trials and times:

    .. math::

        (K q)_n = J_n \sum_m J_m^\top q_m .

    Args:
        cell: Module called as ``cell(x_t [B, I], z_prev [B, H]) -> [B, H]``;
            its trainable parameters are theta.
        inputs: ``[B, T, I]``.
        hidden: ``[B, T, H]``, the states the cell produced from ``inputs``.
        h0: ``[B, H]`` initial state; zeros when None.

    Notes:
        Self-adjoint and positive semi-definite. A matvec is one VJP and one JVP
        of a single step over all ``B*T`` samples: about two forward passes for
        ``nn.RNNCell``/``nn.GRUCell`` (closed form), a few more for other cells.
        The caller's module is neither moved nor modified.
    """

    symbol = "K"
    is_self_adjoint = True

    def __init__(
        self,
        cell: torch.nn.Module,
        inputs: torch.Tensor,
        hidden: torch.Tensor,
        h0: torch.Tensor | None = None,
    ) -> None:
        linearisation = linearise(record_trajectory(cell, inputs, hidden, h0))
        self._init_from(linearisation)

    @classmethod
    def from_linearisation(cls, linearisation: StepLinearisation):
        """Build from an existing linearisation (shared with other operators)."""
        operator = cls.__new__(cls)
        operator._init_from(linearisation)
        return operator

    def _init_from(self, linearisation: StepLinearisation) -> None:
        trajectory = linearisation.trajectory
        super().__init__(trajectory.shape, trajectory.dtype, trajectory.device)
        if not linearisation.parameters:
            raise ValueError(
                "cell must have at least one trainable parameter for K = J J*; "
                "got none with requires_grad=True"
            )
        self.linearisation = linearisation
        # Closed-form cells update each unit from its own weight rows only.
        if linearisation.units_are_independent:
            self.block_diagonal_axes = frozenset({"units"})

    @property
    def num_parameters(self) -> int:
        """``p``, the number of trainable cell parameters."""
        return sum(value.numel() for value in self.linearisation.parameters.values())

    def jacobian(self, parameter_change: ParameterBlock) -> torch.Tensor:
        """``J dtheta``: the first-order change of every step's output.

        Args:
            parameter_change: Dict from parameter name to a tensor of that
                parameter's shape.

        Returns:
            ``[B, T, H]``.
        """
        expected = self.linearisation.parameters
        if set(parameter_change) != set(expected):
            raise ValueError(
                f"parameter_change must have the keys {sorted(expected)}; "
                f"got {sorted(parameter_change)}"
            )
        block = {}
        for name, value in expected.items():
            if tuple(parameter_change[name].shape) != tuple(value.shape):
                raise ValueError(
                    f"parameter_change[{name!r}] must have shape "
                    f"{list(value.shape)}; got {list(parameter_change[name].shape)}"
                )
            block[name] = parameter_change[name].unsqueeze(0)
        return self.linearisation.parameter_tangent(block)[0]

    def jacobian_adjoint(self, trajectory: torch.Tensor) -> ParameterBlock:
        """``J* q = sum_n J_n^T q_n``, a dict of parameter-shaped tensors.

        With ``q = P* e`` this is the gradient of the loss (DESIGN section 2).
        """
        block = self._apply(trajectory, lambda probes: probes)
        single = trajectory.dim() == 3
        grads = self.linearisation.parameter_cotangent(
            block.unsqueeze(0) if single else block
        )
        return {name: grad[0] if single else grad for name, grad in grads.items()}

    def _matvec(self, block):
        chunk_size = max(1, PROBE_CHUNK_ENTRIES // block[0].numel())
        chunks = [
            self.linearisation.parameter_tangent(
                self.linearisation.parameter_cotangent(chunk)
            )
            for chunk in block.split(chunk_size)
        ]
        return torch.cat(chunks)
