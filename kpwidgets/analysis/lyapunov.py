"""The Lyapunov view of P: growth rates and impulse responses along a trajectory."""

from __future__ import annotations

import torch

from kpwidgets.operators import PropagationOperator, linearise, record_trajectory
from kpwidgets.operators._checks import check_positive_int, check_same_dtype_device


def finite_time_lyapunov_exponents(
    cell: torch.nn.Module,
    inputs: torch.Tensor,
    hidden: torch.Tensor,
    h0: torch.Tensor | None = None,
    *,
    num_exponents: int | None = None,
    dt: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Finite-time Lyapunov exponents of each trial, by QR along the trajectory.

    The product ``A(T) ... A(1)`` of the step Jacobians is tracked on an
    orthonormal frame ``Q``; re-orthonormalising ``A(t) Q = Q' R`` each step,

    .. math::

        \lambda_i = \frac{1}{T\,dt} \sum_t \log |R_{ii}(t)| .

    Args:
        cell, inputs, hidden, h0: As for the operators (DESIGN section 4).
        num_exponents: How many leading exponents (at most H); all by default.
        dt: Time per step, to report rates per unit time (1: per step).
        generator: Draws the random orthonormal starting frame (seed 0 when
            None), so that the leading exponents are found whatever the frame.

    Returns:
        ``[B, num_exponents]``, descending in each trial. Positive exponents
        mean pushes grow (chaos); all negative means P forgets (stability).

    Notes:
        One tangent step per time step on a block of ``num_exponents`` probes:
        about one forward pass, plus a small QR per trial and step.
    """
    linearisation = linearise(record_trajectory(cell, inputs, hidden, h0))
    B, T, H = linearisation.trajectory.shape
    m = (
        H
        if num_exponents is None
        else check_positive_int("num_exponents", num_exponents)
    )
    if m > H:
        raise ValueError(f"num_exponents must be at most H = {H}; got {m}")
    if not dt > 0:
        raise ValueError(f"dt must be positive; got {dt!r}")

    if generator is None:
        generator = torch.Generator(device=hidden.device).manual_seed(0)
    start = torch.randn(H, m, generator=generator, device=hidden.device)
    start = torch.linalg.qr(start.to(hidden.dtype))[0]  # [H, m]
    frame = start.T.unsqueeze(1).expand(m, B, H).contiguous()  # [m, B, H]
    log_growth = torch.zeros(B, m, dtype=hidden.dtype, device=hidden.device)
    for t in range(T):
        pushed = linearisation.state_tangent(frame, t)  # [m, B, H]
        q, r = torch.linalg.qr(pushed.permute(1, 2, 0))  # [B, H, m], [B, m, m]
        diagonal = torch.diagonal(r, dim1=-2, dim2=-1)
        # Keep Q's columns pointing the same way as the pushed frame.
        q = q * torch.sign(diagonal).unsqueeze(1)
        log_growth += diagonal.abs().clamp(min=torch.finfo(hidden.dtype).tiny).log()
        frame = q.permute(2, 0, 1)
    exponents = log_growth / (T * dt)
    return torch.sort(exponents, dim=-1, descending=True).values


def impulse_response(
    cell: torch.nn.Module,
    inputs: torch.Tensor,
    hidden: torch.Tensor,
    time: int,
    h0: torch.Tensor | None = None,
    *,
    direction: torch.Tensor | None = None,
) -> torch.Tensor:
    """P's Green's function: the response at every time to a unit push at ``time``.

    Args:
        cell, inputs, hidden, h0: As for the operators (DESIGN section 4).
        time: The step ``s`` of the push, ``0 <= s < T``.
        direction: ``[H]`` or ``[B, H]``, the push; by default one push per
            hidden unit.

    Returns:
        ``[B, T, H]`` for a given direction; otherwise ``[H, B, T, H]`` where
        ``[j, b, t]`` is the response at time ``t`` of trial ``b`` to a unit
        push of unit ``j`` at ``time`` (zero before ``time``: P is causal).
    """
    P = PropagationOperator(cell, inputs, hidden, h0)
    B, T, H = P.trajectory_shape
    if isinstance(time, bool) or not isinstance(time, int) or not 0 <= time < T:
        raise ValueError(f"time must be an integer step in [0, {T - 1}]; got {time!r}")
    if direction is None:
        push = torch.zeros(H, B, T, H, dtype=P.dtype, device=P.device)
        units = torch.arange(H)
        push[units, :, time, units] = 1.0
        return P.matvec(push)
    if tuple(direction.shape) not in ((H,), (B, H)):
        raise ValueError(
            f"direction must have shape [H] = [{H}] or [B, H] = [{B}, {H}]; "
            f"got {list(direction.shape)}"
        )
    check_same_dtype_device("direction", direction, P.dtype, P.device)
    push = torch.zeros(B, T, H, dtype=P.dtype, device=P.device)
    push[:, time] = direction
    return P.matvec(push)
