"""top_eigenpairs against dense eigendecompositions (float64, B=3, T=5, H=4)."""

import pytest
import scipy.sparse.linalg
import torch

from kpwidgets.linalg import ConvergenceWarning, top_eigenpairs

EPS = torch.finfo(torch.float64).eps
TOL = 1e-10  # residual tolerance passed to the solver, relative to lambda_max


def _build(name, K, P):
    return {"K": K, "PP*": P @ P.T, "PKP*": P @ K @ P.T}[name]


def _dense_top(operator, k):
    values, vectors = torch.linalg.eigh(operator.to_dense())
    return values.flip(0)[:k], vectors.flip(1)[:, :k]


def _assert_matches_dense(result, operator, k):
    values, vectors = _dense_top(operator, k)
    scale = float(values[0])
    torch.testing.assert_close(result.values, values, rtol=0, atol=1e3 * EPS * scale)
    # Same subspace: all principal cosines are 1 (the gaps here exceed 1e-3).
    found = result.vectors.reshape(k, -1)
    cosines = torch.linalg.svdvals(found @ vectors)
    torch.testing.assert_close(
        cosines, torch.ones(k, dtype=cosines.dtype), atol=1e-6, rtol=0
    )


@pytest.mark.parametrize("name", ["K", "PP*", "PKP*"])
@pytest.mark.parametrize("k", [1, 4])
def test_eigenpairs_match_dense(operators, name, k):
    operator = _build(name, *operators)
    result = top_eigenpairs(operator, k, tol=TOL)

    assert result.converged
    assert result.values.shape == (k,) and result.vectors.shape == (k, 3, 5, 4)
    _assert_matches_dense(result, operator, k)


@pytest.mark.parametrize("name", ["K", "PP*", "PKP*"])
def test_vectors_are_orthonormal_eigenfunctions(gru_operators, name):
    operator = _build(name, *gru_operators)
    result = top_eigenpairs(operator, 6, tol=TOL)

    flat = result.vectors.reshape(6, -1)
    identity = torch.eye(6, dtype=flat.dtype)
    torch.testing.assert_close(flat @ flat.T, identity, atol=100 * EPS, rtol=0)
    image = operator.matvec(result.vectors)
    residuals = (image - result.values[:, None, None, None] * result.vectors).flatten(1)
    torch.testing.assert_close(
        residuals.norm(dim=1),
        result.residuals,
        atol=1e3 * EPS * result.values[0],
        rtol=0,
    )
    assert bool((result.residuals <= TOL * result.values[0]).all())


@pytest.mark.parametrize(("name", "structure"), [("PP*", "trials"), ("K", "units")])
def test_block_diagonal_path_matches_global_and_dense(gru_operators, name, structure):
    operator = _build(name, *gru_operators)
    assert structure in operator.block_diagonal_axes

    grouped = top_eigenpairs(operator, 5, tol=TOL)
    plain = top_eigenpairs(operator, 5, tol=TOL, method="global")

    assert grouped.method == structure and plain.method == "global"
    torch.testing.assert_close(
        grouped.values, plain.values, atol=1e3 * EPS * plain.values[0], rtol=0
    )
    _assert_matches_dense(grouped, operator, 5)
    # Each eigenfunction of a block-diagonal operator lives in one block.
    axis = {"trials": (2, 3), "units": (1, 2)}[structure]
    support = (grouped.vectors.abs().sum(dim=axis) > 0).sum(dim=1)
    assert support.tolist() == [1] * 5


def test_product_without_structure_uses_global(gru_operators):
    K, P = gru_operators
    assert top_eigenpairs(P @ K @ P.T, 2).method == "global"


def test_repeated_eigenvalues_are_all_found(dense_operator, diagonal_operator):
    values = torch.ones(3, 5, 4, dtype=torch.float64)
    values[0, 0, :3] = 5.0
    values[1, 2, 1] = 3.0
    operator = diagonal_operator(values)
    expected = torch.tensor([5.0, 5.0, 5.0, 3.0, 1.0], dtype=torch.float64)

    for method in ("global", "trials", "units"):
        result = top_eigenpairs(operator, 5, method=method, tol=TOL)
        torch.testing.assert_close(result.values, expected, atol=100 * EPS, rtol=0)

    # The identity: the Krylov space breaks down at once and restarts at random.
    identity = dense_operator(torch.eye(60, dtype=torch.float64))
    result = top_eigenpairs(identity, 7, tol=TOL)
    torch.testing.assert_close(result.values, torch.ones(7, dtype=torch.float64))


@pytest.mark.parametrize(
    ("name", "method"), [("PP*", "global"), ("PP*", "trials"), ("K", "units")]
)
def test_k_may_be_the_whole_space(gru_operators, name, method):
    operator = _build(name, *gru_operators)
    result = top_eigenpairs(operator, 60, method=method)

    assert result.converged
    _assert_matches_dense(result, operator, 60)


def test_warm_start_needs_fewer_matvecs(make_operators):
    K, P = make_operators("gru")
    before = top_eigenpairs(P @ K @ P.T, 4, tol=TOL)
    K2, P2 = make_operators("gru", perturbation=1e-3)
    operator = P2 @ K2 @ P2.T

    cold = top_eigenpairs(operator, 4, tol=TOL)
    warm = top_eigenpairs(operator, 4, tol=TOL, initial=before.vectors)
    again = top_eigenpairs(P @ K @ P.T, 4, tol=TOL, initial=before.vectors)

    assert warm.converged and warm.num_matvecs < cold.num_matvecs
    torch.testing.assert_close(
        warm.values, cold.values, atol=1e3 * EPS * cold.values[0], rtol=0
    )
    assert again.num_matvecs == 4  # exact eigenvectors: converged on the first block


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_warm_start_on_trials(make_operators, dtype):
    _, P = make_operators("gru", dtype=dtype)
    _, P2 = make_operators("gru", perturbation=1e-3, dtype=dtype)
    before = top_eigenpairs(P @ P.T, 4)

    cold = top_eigenpairs(P2 @ P2.T, 4)
    warm = top_eigenpairs(P2 @ P2.T, 4, initial=before.vectors)

    assert warm.method == "trials" and warm.converged
    assert warm.num_matvecs < cold.num_matvecs
    # The reported residuals are the true ones and meet the default tolerance.
    image = (P2 @ P2.T).matvec(warm.vectors)
    true = (image - warm.values[:, None, None, None] * warm.vectors).flatten(1)
    tol = torch.finfo(dtype).eps ** 0.5 * float(warm.values[0])
    assert float(true.norm(dim=1).max()) <= 2 * tol


def test_agrees_with_scipy_eigsh(gru_operators):
    K, P = gru_operators
    operator = P @ K @ P.T
    expected = scipy.sparse.linalg.eigsh(operator.to_scipy(), k=5, which="LA")[0]

    result = top_eigenpairs(operator, 5, tol=TOL)
    torch.testing.assert_close(
        result.values,
        torch.as_tensor(expected[::-1].copy()),
        atol=1e3 * EPS * float(result.values[0]),
        rtol=0,
    )


def test_reproducible_with_generator(gru_operators):
    K, P = gru_operators
    operator = P @ K @ P.T
    first = top_eigenpairs(operator, 3, generator=torch.Generator().manual_seed(7))
    second = top_eigenpairs(operator, 3, generator=torch.Generator().manual_seed(7))
    default = top_eigenpairs(operator, 3)

    assert torch.equal(first.vectors, second.vectors)
    assert torch.equal(default.values, top_eigenpairs(operator, 3).values)


def test_reports_non_convergence(gru_operators):
    K, P = gru_operators
    with pytest.warns(ConvergenceWarning, match="did not converge in 0 iterations"):
        result = top_eigenpairs(P @ K @ P.T, 3, max_iterations=0, tol=1e-14)
    assert not result.converged and result.num_iterations == 0


def test_float32_operator(random_psd, dense_operator):
    operator = dense_operator(random_psd(20, seed=3).float())
    result = top_eigenpairs(operator, 3)
    expected = torch.linalg.eigvalsh(operator.matrix.double()).flip(0)[:3]

    assert result.values.dtype == torch.float32 and result.converged
    eps32 = torch.finfo(torch.float32).eps
    torch.testing.assert_close(
        result.values.double(), expected, atol=1e2 * eps32 * float(expected[0]), rtol=0
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"k": 0}, r"k must be an integer in \[1, 60\]; got 0"),
        ({"k": 61}, r"k must be an integer in \[1, 60\]; got 61"),
        ({"k": 2.0}, r"k must be an integer in \[1, 60\]; got 2.0"),
        (
            {"k": 2, "method": "lanczos"},
            r"method must be one of .*'units'; got 'lanczos'",
        ),
        ({"k": 2, "method": "trials"}, r"block-diagonal over trials .*got K\["),
        ({"k": 2, "block_size": 0}, "block_size must be an integer >= 1; got 0"),
        (
            {"k": 2, "max_iterations": -1},
            "max_iterations must be an integer >= 0; got -1",
        ),
        ({"k": 2, "generator": 3}, r"generator must be a torch.Generator; got int"),
    ],
)
def test_invalid_arguments(gru_operators, arguments, message):
    K, _ = gru_operators
    with pytest.raises(ValueError, match=message):
        top_eigenpairs(K, **arguments)


def test_rejects_non_self_adjoint_and_bad_initial(gru_operators):
    K, P = gru_operators
    with pytest.raises(ValueError, match=r"operator must be self-adjoint .* got P\["):
        top_eigenpairs(P, 2)
    with pytest.raises(ValueError, match="operator must be a TrajectoryOperator"):
        top_eigenpairs(torch.eye(60), 2)
    with pytest.raises(ValueError, match=r"initial must be \[B, T, H\] = \[3, 5, 4\]"):
        top_eigenpairs(K, 2, initial=torch.zeros(2, 3, 5, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="initial must have dtype torch.float64"):
        top_eigenpairs(K, 2, initial=torch.zeros(2, 3, 5, 4))
