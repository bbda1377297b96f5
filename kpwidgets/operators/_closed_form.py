"""Closed-form linearisations of ``nn.RNNCell`` (tanh) and ``nn.GRUCell``.

The gate values of the recorded trajectory are computed once, in one batched
pass over all ``B*T`` samples; afterwards every product with ``A_n``, ``A_n^T``,
``J_n`` or ``J_n^T`` is a single GEMM with the weights plus elementwise work.
That makes a matvec of P or P* cost about one forward pass of the model.
"""

from __future__ import annotations

import torch
from torch import nn

from kpwidgets.operators._linearisation import (
    GenericLinearisation,
    StepLinearisation,
)
from kpwidgets.operators._trajectory import RecordedTrajectory, warn_if_mismatched

# Step marker for the parameter products, which hold probes as [B, T, k, H].
PROBES_INNER = object()


class _AffineSitesLinearisation(StepLinearisation):
    """Shared algebra of cells whose pre-activations are ``W_ih x + W_hh z + b``.

    Subclasses provide ``_pre_tangent(dgi, dgh, t)`` (the output's tangent for
    tangents of the input and hidden pre-activations) and ``_pre_cotangent(a,
    t)`` (its transpose); the weight products follow from the two sites.
    """

    units_are_independent = True

    def __init__(self, trajectory: RecordedTrajectory) -> None:
        super().__init__(trajectory)
        cell = trajectory.cell
        self.weight_ih = cell.weight_ih.detach()
        self.weight_hh = cell.weight_hh.detach()
        self.has_bias = cell.bias_ih is not None
        self.gates_size = self.weight_hh.shape[0]

    def _pre_activations(self) -> tuple[torch.Tensor, torch.Tensor]:
        x, z = self.trajectory.inputs, self.trajectory.previous
        gi = x @ self.weight_ih.T  # [B, T, G]
        gh = z @ self.weight_hh.T  # [B, T, G]
        if self.has_bias:
            gi = gi + self.parameters["bias_ih"]
            gh = gh + self.parameters["bias_hh"]
        return gi, gh

    def parameter_cotangent(self, q):
        k, B, T, H = q.shape
        # Probes go innermost so every weight gradient is one GEMM over samples.
        grad_gi, grad_gh = self._pre_cotangent(q.permute(1, 2, 0, 3), PROBES_INNER)
        grad_gi = grad_gi.reshape(B * T, -1)  # [B*T, k*G]
        grad_gh = grad_gh.reshape(B * T, -1)
        x = self.trajectory.inputs.reshape(B * T, -1)  # [B*T, I]
        z = self.trajectory.previous.reshape(B * T, H)  # [B*T, H]
        grads = {
            "weight_ih": (x.T @ grad_gi).view(-1, k, self.gates_size).permute(1, 2, 0),
            "weight_hh": (z.T @ grad_gh).view(H, k, self.gates_size).permute(1, 2, 0),
        }
        if self.has_bias:
            grads["bias_ih"] = grad_gi.sum(dim=0).view(k, self.gates_size)
            grads["bias_hh"] = grad_gh.sum(dim=0).view(k, self.gates_size)
        return grads

    def parameter_tangent(self, v):
        B, T, H = self.trajectory.shape
        k = v["weight_hh"].shape[0]
        x = self.trajectory.inputs.reshape(B * T, -1)  # [B*T, I]
        z = self.trajectory.previous.reshape(B * T, H)  # [B*T, H]
        # One GEMM per site for all probes: [B*T, I] @ [I, k*G].
        dgi = x @ v["weight_ih"].permute(2, 0, 1).reshape(x.shape[1], -1)
        dgh = z @ v["weight_hh"].permute(2, 0, 1).reshape(H, -1)
        dgi = dgi.view(B, T, k, self.gates_size)
        dgh = dgh.view(B, T, k, self.gates_size)
        if self.has_bias:
            dgi = dgi + v["bias_ih"]
            dgh = dgh + v["bias_hh"]
        tangent = self._pre_tangent(dgi, dgh, PROBES_INNER)  # [B, T, k, H]
        return tangent.permute(2, 0, 1, 3).contiguous()


def _view(gate: torch.Tensor, t) -> torch.Tensor:
    """A gate ``[B, T, H]`` shaped to broadcast against the probes at step ``t``."""
    if t is None:
        return gate
    if t is PROBES_INNER:
        return gate.unsqueeze(2)
    return gate[:, t]


class TanhRNNLinearisation(_AffineSitesLinearisation):
    """``z' = tanh(W_ih x + b_ih + W_hh z + b_hh)``: ``A_n = diag(1 - z'^2) W_hh``."""

    def __init__(self, trajectory: RecordedTrajectory) -> None:
        super().__init__(trajectory)
        gi, gh = self._pre_activations()
        following = torch.tanh(gi + gh)
        warn_if_mismatched(trajectory, following)
        self.slope = 1 - following.square()  # [B, T, H]

    def _slope(self, t):
        return _view(self.slope, t)

    def _pre_tangent(self, dgi, dgh, t):
        return self._slope(t) * (dgi + dgh)

    def _pre_cotangent(self, a, t):
        grad = self._slope(t) * a
        return grad, grad

    def state_tangent(self, r, t=None):
        return self._slope(t) * (r @ self.weight_hh.T)

    def state_cotangent(self, a, t=None):
        return (self._slope(t) * a) @ self.weight_hh


class GRULinearisation(_AffineSitesLinearisation):
    """``nn.GRUCell``: reset r, update u, candidate n, ``z' = (1 - u) n + u z``."""

    def __init__(self, trajectory: RecordedTrajectory) -> None:
        super().__init__(trajectory)
        gi, gh = self._pre_activations()
        gi_r, gi_u, gi_n = gi.chunk(3, dim=-1)
        gh_r, gh_u, gh_n = gh.chunk(3, dim=-1)
        reset = torch.sigmoid(gi_r + gh_r)
        update = torch.sigmoid(gi_u + gh_u)
        candidate = torch.tanh(gi_n + reset * gh_n)
        previous = trajectory.previous
        warn_if_mismatched(trajectory, (1 - update) * candidate + update * previous)

        # Everything the four products need, each [B, T, H].
        self.gates = {
            "reset": reset,
            "update": update,
            "reset_slope": reset * (1 - reset),
            "update_slope": update * (1 - update),
            "candidate_slope": 1 - candidate.square(),
            "hidden_candidate": gh_n,
            "state_minus_candidate": previous - candidate,
        }

    def _gate(self, name, t):
        return _view(self.gates[name], t)

    def _pre_tangent(self, dgi, dgh, t):
        g = lambda name: self._gate(name, t)  # noqa: E731
        dgi_r, dgi_u, dgi_n = (0, 0, 0) if dgi is None else dgi.chunk(3, dim=-1)
        dgh_r, dgh_u, dgh_n = dgh.chunk(3, dim=-1)
        d_reset = g("reset_slope") * (dgi_r + dgh_r)
        d_update = g("update_slope") * (dgi_u + dgh_u)
        d_candidate = g("candidate_slope") * (
            dgi_n + d_reset * g("hidden_candidate") + g("reset") * dgh_n
        )
        return (1 - g("update")) * d_candidate + d_update * g("state_minus_candidate")

    def _pre_cotangent(self, a, t):
        g = lambda name: self._gate(name, t)  # noqa: E731
        grad_update = a * g("state_minus_candidate") * g("update_slope")
        grad_candidate = a * (1 - g("update")) * g("candidate_slope")
        grad_reset = grad_candidate * g("hidden_candidate") * g("reset_slope")
        grad_gi = torch.cat([grad_reset, grad_update, grad_candidate], dim=-1)
        grad_gh = torch.cat(
            [grad_reset, grad_update, grad_candidate * g("reset")], dim=-1
        )
        return grad_gi, grad_gh

    def state_tangent(self, r, t=None):
        dgh = r @ self.weight_hh.T
        return self._pre_tangent(None, dgh, t) + self._gate("update", t) * r

    def state_cotangent(self, a, t=None):
        _, grad_gh = self._pre_cotangent(a, t)
        return grad_gh @ self.weight_hh + self._gate("update", t) * a


def linearise(trajectory: RecordedTrajectory) -> StepLinearisation:
    """The fastest exact linearisation for the trajectory's cell.

    ``nn.RNNCell`` with tanh and ``nn.GRUCell`` (exact types, no hooks, all
    parameters trainable) get closed forms; every other cell uses ``torch.func``.
    """
    cell = trajectory.cell
    plain = (
        not cell._forward_hooks
        and not cell._forward_pre_hooks
        and all(parameter.requires_grad for parameter in cell.parameters())
    )
    if plain and type(cell) is nn.RNNCell and cell.nonlinearity == "tanh":
        return TanhRNNLinearisation(trajectory)
    if plain and type(cell) is nn.GRUCell:
        return GRULinearisation(trajectory)
    return GenericLinearisation(trajectory)
