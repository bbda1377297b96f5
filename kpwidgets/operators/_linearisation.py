"""Linearisation of one recurrent step at every recorded sample n = (b, t).

At sample n the step ``z_n = f(z_{n-1}, x_n; theta)`` has two Jacobians:
``A_n = df/dz`` (``[H, H]``) and ``J_n = df/dtheta`` (``[H, p]``). They are never
formed: a linearisation applies them and their transposes to blocks of probes.

Shapes: a block of ``k`` state probes is ``[k, B, H]`` at one step ``t`` or
``[k, B, T, H]`` at all steps; a block of parameter probes is a dict from
parameter name to ``[k, *parameter.shape]``.
"""

from __future__ import annotations

import torch
from torch.func import functional_call, jvp, vjp

from kpwidgets.operators._trajectory import RecordedTrajectory, warn_if_mismatched

ParameterBlock = dict[str, torch.Tensor]


class StepLinearisation:
    """Applies ``A_n``, ``A_n^T``, ``J_n`` and ``J_n^T`` along a trajectory.

    Subclasses implement the four products; ``t=None`` means every step at once.
    """

    # True when unit h of the output depends only on parameters that no other
    # unit uses (true of nn.RNNCell and nn.GRUCell); then K is block-diagonal
    # over units.
    units_are_independent = False

    def __init__(self, trajectory: RecordedTrajectory) -> None:
        self.trajectory = trajectory
        self.parameters: ParameterBlock = {
            name: parameter.detach()
            for name, parameter in trajectory.cell.named_parameters()
            if parameter.requires_grad
        }

    def state_tangent(self, r: torch.Tensor, t: int | None = None) -> torch.Tensor:
        """``A_n r_n`` for ``r`` of shape ``[k, B, H]`` (step ``t``) or
        ``[k, B, T, H]`` (all steps)."""
        raise NotImplementedError

    def state_cotangent(self, a: torch.Tensor, t: int | None = None) -> torch.Tensor:
        """``A_n^T a_n``, shapes as in :meth:`state_tangent`."""
        raise NotImplementedError

    def parameter_cotangent(self, q: torch.Tensor) -> ParameterBlock:
        """``J* q = sum_n J_n^T q_n`` for ``q`` of shape ``[k, B, T, H]``."""
        raise NotImplementedError

    def parameter_tangent(self, v: ParameterBlock) -> torch.Tensor:
        """``(J v)_n = J_n v``, returned as ``[k, B, T, H]``."""
        raise NotImplementedError

    def _samples(self, t: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and previous states at step ``t``, or at every step."""
        if t is None:
            return self.trajectory.inputs, self.trajectory.previous
        return self.trajectory.inputs[:, t], self.trajectory.previous[:, t]


class GenericLinearisation(StepLinearisation):
    """Any cell, through ``torch.func`` (``jvp`` forward, ``vjp`` reverse).

    Notes:
        A state product costs about one forward and one tangent or backward
        pass of the step; parameter products loop over the probes of a block.
        ``torch.func.linearize`` is deliberately not used: it returns wrong
        results for ``nn.RNNCell``/``nn.GRUCell`` from its second call on.
    """

    def __init__(self, trajectory: RecordedTrajectory) -> None:
        super().__init__(trajectory)
        cell = trajectory.cell
        self._fixed = {
            name: tensor.detach()
            for name, tensor in [*cell.named_parameters(), *cell.named_buffers()]
            if name not in self.parameters
        }
        self._parameter_vjp = None
        B, T, H = trajectory.shape
        recomputed = self._step(self.parameters, *self._flat_samples(None, 1))
        warn_if_mismatched(trajectory, recomputed.reshape(B, T, H))

    def _step(self, parameters: ParameterBlock, x, z) -> torch.Tensor:
        return functional_call(
            self.trajectory.cell, {**self._fixed, **parameters}, (x, z)
        )

    def _flat_samples(self, t: int | None, copies: int):
        """Samples flattened to ``[copies * samples, I]`` and ``[..., H]``."""
        x, z = self._samples(t)
        x = x.reshape(-1, x.shape[-1]).repeat(copies, 1)
        z = z.reshape(-1, z.shape[-1]).repeat(copies, 1)
        return x, z

    def state_tangent(self, r, t=None):
        x, z = self._flat_samples(t, r.shape[0])
        _, tangent = jvp(
            lambda state: self._step(self.parameters, x, state),
            (z,),
            (r.reshape(z.shape),),
        )
        return tangent.reshape(r.shape)

    def state_cotangent(self, a, t=None):
        x, z = self._flat_samples(t, a.shape[0])
        _, pullback = vjp(lambda state: self._step(self.parameters, x, state), z)
        (cotangent,) = pullback(a.reshape(z.shape))
        return cotangent.reshape(a.shape)

    def parameter_cotangent(self, q):
        if self._parameter_vjp is None:
            # Reused by every call: one forward over all B*T samples, cached.
            x, z = self._flat_samples(None, 1)
            _, self._parameter_vjp = vjp(lambda p: self._step(p, x, z), self.parameters)
        samples = q.shape[1] * q.shape[2]
        per_probe = [self._parameter_vjp(probe.reshape(samples, -1))[0] for probe in q]
        return {
            name: torch.stack([grads[name] for grads in per_probe])
            for name in self.parameters
        }

    def parameter_tangent(self, v):
        x, z = self._flat_samples(None, 1)
        k = next(iter(v.values())).shape[0]
        B, T, H = self.trajectory.shape
        tangents = [
            jvp(
                lambda p: self._step(p, x, z),
                (self.parameters,),
                ({name: v[name][probe] for name in self.parameters},),
            )[1]
            for probe in range(k)
        ]
        return torch.stack(tangents).reshape(k, B, T, H)
