"""Hidden-dimension measures against hand-computed values."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from kpwidgets.analysis import (
    collapse_curve,
    participation_ratio,
    principal_variances,
    variance_dimension,
)

# Three zero-mean, mutually orthogonal columns of equal norm (a Hadamard design).
DESIGN = torch.tensor(
    [[1.0, 1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, -1.0, -1.0], [-1.0, -1.0, 1.0]],
    dtype=torch.float64,
)


def embed(samples: torch.Tensor, hidden_size: int = 6) -> torch.Tensor:
    """Place [n, d] samples in an H-dimensional space, as trajectories [2, n/2, H]."""
    generator = torch.Generator().manual_seed(0)
    basis, _ = torch.linalg.qr(
        torch.randn(hidden_size, samples.shape[1], generator=generator).double()
    )
    return (samples @ basis.T + 0.7).reshape(2, -1, hidden_size)


def test_equal_variance_directions():
    hidden = embed(DESIGN)
    assert participation_ratio(hidden) == pytest.approx(3.0)
    # Interpolated: 2 full components hold 2/3; the third reaches 0.95 at 0.85.
    assert variance_dimension(hidden) == pytest.approx(2.85)
    assert variance_dimension(hidden, threshold=1.0) == pytest.approx(3.0)


def test_unequal_variances():
    hidden = embed(DESIGN * torch.tensor([3.0**0.5, 1.0, 1.0]).double())
    assert participation_ratio(hidden) == pytest.approx(25 / 11)
    variances = principal_variances(hidden)[:3]
    np.testing.assert_allclose(variances.numpy(), [4.0, 4 / 3, 4 / 3])
    # Fractions 0.6, 0.8, 1.0: 0.95 is reached 3/4 into the third component.
    assert variance_dimension(hidden) == pytest.approx(2.75)


def test_one_dimensional_and_constant_trajectories():
    line = embed(DESIGN[:, :1])
    assert participation_ratio(line) == pytest.approx(1.0)
    assert variance_dimension(line) == pytest.approx(0.95)
    constant = torch.ones(2, 5, 4)
    assert participation_ratio(constant) == 0.0
    assert variance_dimension(constant) == 0.0


def test_collapse_curve_follows_snapshots():
    snapshots = [
        SimpleNamespace(step=0, hidden=embed(DESIGN)),
        SimpleNamespace(step=10, hidden=embed(DESIGN[:, :1])),
    ]
    curve = collapse_curve(SimpleNamespace(snapshots=snapshots))
    np.testing.assert_array_equal(curve["step"], [0, 10])
    np.testing.assert_allclose(curve["participation_ratio"], [3.0, 1.0])
    np.testing.assert_allclose(curve["variance_dimension"], [2.85, 0.95])


def test_errors():
    with pytest.raises(ValueError, match=r"hidden must have shape \[B, T, H\]"):
        participation_ratio(torch.ones(3, 4))
    with pytest.raises(ValueError, match="at least two samples"):
        variance_dimension(torch.ones(1, 1, 4))
    with pytest.raises(ValueError, match=r"threshold must be .*; got 1.5"):
        variance_dimension(embed(DESIGN), threshold=1.5)
    with pytest.raises(TypeError, match="hidden must be a torch.Tensor"):
        participation_ratio(np.ones((2, 3, 4)))
