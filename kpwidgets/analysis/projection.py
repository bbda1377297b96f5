"""Principal components of hidden trajectories, for pictures of the dynamics.

The course draws trained dynamics (the ring of Memory-Pro, the cube of
flip-flop states) in the top principal components of the hidden states,
flattened over (trials, time) like every dimension measure of
:mod:`kpwidgets.analysis.dimension`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kpwidgets.operators._checks import (
    check_floating,
    check_positive_int,
    check_tensor,
    format_shape,
)


@dataclass(frozen=True)
class PrincipalComponents:
    """The top principal directions of trajectories ``[B, T, H]``.

    Attributes:
        components: ``[k, H]`` orthonormal directions, by decreasing variance;
            each is signed so that its largest-magnitude entry is positive, so
            equal data always give the same picture.
        mean: ``[H]``, the mean state over all trials and times.
        variances: ``[k]``, the variance along each direction.
        explained: ``[k]``, each direction's fraction of the total variance.
        projection: ``[B, T, k]``, the centred trajectories in those directions.
    """

    components: torch.Tensor
    mean: torch.Tensor
    variances: torch.Tensor
    explained: torch.Tensor
    projection: torch.Tensor

    def project(self, hidden: torch.Tensor) -> torch.Tensor:
        """Other states ``[..., H]`` in the same coordinates: ``[..., k]``.

        Use it to draw a later snapshot in the axes of an earlier one.
        """
        check_tensor("hidden", hidden)
        H = self.components.shape[1]
        if hidden.dim() < 1 or hidden.shape[-1] != H:
            raise ValueError(
                f"hidden must have shape [..., H] with H = {H}; "
                f"got {format_shape(hidden.shape)}"
            )
        centred = hidden.detach().to(self.components.dtype) - self.mean
        return centred @ self.components.T


def principal_components(
    hidden: torch.Tensor, num_components: int = 3
) -> PrincipalComponents:
    """The top ``num_components`` principal components of ``hidden [B, T, H]``.

    Args:
        hidden: Trajectories ``[B, T, H]`` (a snapshot's ``.hidden``).
        num_components: How many directions, at most ``min(B*T, H)``.

    Returns:
        A :class:`PrincipalComponents` with the projection ``[B, T, k]``.

    Raises:
        ValueError: If ``hidden`` is not a floating ``[B, T, H]`` tensor with at
            least two samples, or ``num_components`` is out of range.

    Notes:
        One thin SVD of the centred ``[B*T, H]`` sample matrix. The variances
        use the ``B*T - 1`` normalisation of
        :func:`~kpwidgets.analysis.principal_variances`.
    """
    check_tensor("hidden", hidden)
    if hidden.dim() != 3 or hidden.shape[0] * hidden.shape[1] < 2:
        raise ValueError(
            "hidden must have shape [B, T, H] with at least two samples (B*T >= 2); "
            f"got {format_shape(hidden.shape)}"
        )
    check_floating("hidden", hidden)
    B, T, H = hidden.shape
    k = check_positive_int("num_components", num_components)
    if k > min(B * T, H):
        raise ValueError(
            f"num_components must be at most min(B*T, H) = {min(B * T, H)}; got {k}"
        )

    samples = hidden.detach().reshape(B * T, H)  # [B*T, H]
    mean = samples.mean(dim=0)
    centred = samples - mean
    _, singular_values, right = torch.linalg.svd(centred, full_matrices=False)
    components = right[:k]  # [k, H]

    # Fix each direction's sign: its largest-magnitude entry is positive.
    largest = components.abs().argmax(dim=1)
    signs = torch.sign(components[torch.arange(k), largest])
    components = components * torch.where(signs == 0, 1.0, signs)[:, None]

    all_variances = singular_values.square() / (B * T - 1)
    total = all_variances.sum()
    variances = all_variances[:k]
    explained = variances / total if total > 0 else torch.zeros_like(variances)
    projection = (centred @ components.T).reshape(B, T, k)  # [B, T, k]
    return PrincipalComponents(components, mean, variances, explained, projection)
