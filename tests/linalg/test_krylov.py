"""The batched block Lanczos core on explicit [G, n, n] matrices."""

import torch

from kpwidgets.linalg._krylov import block_krylov_top, orthonormalize

EPS = torch.finfo(torch.float64).eps


def _generator(seed=0):
    return torch.Generator().manual_seed(seed)


def test_orthonormalize_completes_dependent_rows():
    basis, _ = torch.linalg.qr(torch.randn(2, 20, 3, dtype=torch.float64))
    basis = basis.mT  # [G, m, n]
    block = torch.randn(2, 4, 20, dtype=torch.float64)
    block[:, 1] = 0  # a zero row
    block[:, 2] = block[:, 0]  # a repeated row
    block[:, 3] = basis[:, 0] + 1e-12 * block[:, 3]  # inside the basis

    rows, triangle = orthonormalize(block, basis, _generator())

    identity = torch.eye(4, dtype=torch.float64).expand(2, 4, 4)
    torch.testing.assert_close(rows @ rows.mT, identity, atol=100 * EPS, rtol=0)
    torch.testing.assert_close(
        rows @ basis.mT,
        torch.zeros(2, 4, 3, dtype=torch.float64),
        atol=100 * EPS,
        rtol=0,
    )
    assert triangle.shape == (2, 4, 4)


def test_orthonormalize_keeps_the_span_of_independent_rows():
    block = torch.randn(1, 3, 10, dtype=torch.float64)
    rows, _ = orthonormalize(block, None, _generator())
    # Projecting the block onto the rows changes nothing.
    torch.testing.assert_close(block @ rows.mT @ rows, block, atol=100 * EPS, rtol=0)


def test_merges_the_groups_into_the_global_top():
    generator = _generator(1)
    factors = torch.randn(3, 12, 12, generator=generator, dtype=torch.float64)
    matrices = factors @ factors.mT  # [G, n, n], three independent PSD problems
    start = torch.randn(3, 2, 12, generator=generator, dtype=torch.float64)

    solution = block_krylov_top(
        lambda rows: rows @ matrices.mT,
        start,
        5,
        max_basis=14,
        max_iterations=100,
        tol=1e-12,
        generator=generator,
    )

    spectra = torch.linalg.eigvalsh(matrices)  # [G, n]
    expected = spectra.flatten().sort(descending=True).values[:5]
    assert solution.converged
    torch.testing.assert_close(
        solution.values, expected, atol=1e3 * EPS * expected[0], rtol=0
    )
    for value, group, vector in zip(
        solution.values, solution.groups, solution.vectors, strict=True
    ):
        torch.testing.assert_close(
            matrices[group] @ vector, value * vector, atol=1e-9 * expected[0], rtol=0
        )
