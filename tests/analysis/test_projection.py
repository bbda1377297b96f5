"""Principal components of trajectories against hand-built data."""

from __future__ import annotations

import pytest
import torch

from kpwidgets.analysis.projection import principal_components


def planted(hidden_size: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Trajectories [2, 4, H] spanning two known orthonormal directions."""
    generator = torch.Generator().manual_seed(0)
    basis, _ = torch.linalg.qr(
        torch.randn(hidden_size, 2, generator=generator).double()
    )
    # Zero-mean coordinates with variances 4:1 along the two directions.
    coordinates = torch.tensor(
        [[2.0, 1.0], [-2.0, 1.0], [2.0, -1.0], [-2.0, -1.0]] * 2, dtype=torch.float64
    )
    return (coordinates @ basis.T + 0.3).reshape(2, 4, hidden_size), basis


def test_recovers_planted_directions_and_variances():
    hidden, basis = planted()
    result = principal_components(hidden, num_components=2)
    overlap = result.components @ basis  # [2, 2], a signed permutation
    torch.testing.assert_close(overlap.abs(), torch.eye(2, dtype=torch.float64))
    torch.testing.assert_close(result.explained, torch.tensor([0.8, 0.2]).double())
    torch.testing.assert_close(result.variances, torch.tensor([32 / 7, 8 / 7]).double())
    assert result.projection.shape == (2, 4, 2)


def test_projection_reconstructs_the_centred_data():
    hidden, _ = planted()
    result = principal_components(hidden, num_components=2)
    rebuilt = result.projection @ result.components + result.mean
    torch.testing.assert_close(rebuilt, hidden)
    torch.testing.assert_close(result.project(hidden), result.projection)


def test_signs_are_fixed_by_the_largest_entry():
    hidden, _ = planted()
    first = principal_components(hidden, 2).components
    flipped = principal_components(-hidden, 2).components
    torch.testing.assert_close(first, flipped)
    largest = first.abs().argmax(dim=1)
    assert (first[torch.arange(2), largest] > 0).all()


def test_errors_name_the_argument():
    hidden, _ = planted()
    with pytest.raises(
        ValueError, match=r"num_components must be at most min\(B\*T, H\) = 5"
    ):
        principal_components(hidden, num_components=6)
    with pytest.raises(ValueError, match="num_components must be a positive integer"):
        principal_components(hidden, num_components=0)
    with pytest.raises(ValueError, match=r"hidden must have shape \[B, T, H\]"):
        principal_components(hidden[0])
    with pytest.raises(ValueError, match="floating-point"):
        principal_components(torch.ones(2, 3, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"shape \[\.\.\., H\] with H = 5"):
        principal_components(hidden).project(torch.zeros(3, 4))
