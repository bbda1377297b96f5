"""Operator alignment cos(A, B) = tr(A^T B) / (||A||_F ||B||_F)."""

import pytest
import torch

from kpwidgets.linalg import misdirection, operator_alignment

EPS = torch.finfo(torch.float64).eps


def _dense_cosine(first, second):
    a, b = first.to_dense(), second.to_dense()
    return float((a * b).sum() / (a.norm() * b.norm()))


def test_an_operator_is_aligned_with_itself_and_its_multiples(gru_operators):
    K, P = gru_operators
    operator = P @ K @ P.T
    for exact in (True, False):
        itself = operator_alignment(operator, operator, exact=exact)
        scaled = operator_alignment(operator, 2.5 * operator, exact=exact)
        negated = operator_alignment(operator, -operator, exact=exact)
        assert itself.value == pytest.approx(1, abs=100 * EPS)
        assert scaled.value == pytest.approx(1, abs=100 * EPS)
        assert negated.value == pytest.approx(-1, abs=100 * EPS)
        assert itself.standard_error == pytest.approx(0, abs=1e-6)


def test_orthogonal_supports_give_zero(dense_operator, random_psd):
    # One operator acts on trial 0 only, the other on trials 1 and 2 only.
    matrix = random_psd(rank=20, seed=5)
    first_trial = torch.zeros(60, dtype=torch.bool)
    first_trial[:20] = True
    mask = first_trial[:, None] & first_trial[None, :]
    others = ~first_trial[:, None] & ~first_trial[None, :]
    first = dense_operator(matrix * mask)
    second = dense_operator(matrix * others)

    estimate = operator_alignment(first, second, exact=False, num_matvecs=10)
    assert estimate.value == 0.0
    assert operator_alignment(first, second, exact=True).value == 0.0


def test_matches_the_dense_formula(gru_operators):
    K, P = gru_operators
    first, second = P @ K @ P.T, P @ P.T
    expected = _dense_cosine(first, second)

    exact = operator_alignment(first, second)  # N = 60 <= 100 probes: exact
    estimate = operator_alignment(first, second, exact=False, num_matvecs=400)

    assert exact.exact and exact.value == pytest.approx(expected, rel=1e-12)
    assert not estimate.exact and estimate.num_matvecs == 400
    assert abs(estimate.value - expected) <= 5 * estimate.standard_error


def test_estimate_converges(gru_operators):
    K, P = gru_operators
    first, second = K, P @ P.T
    expected = _dense_cosine(first, second)

    def mean_error(budget):
        errors = [
            operator_alignment(
                first,
                second,
                exact=False,
                num_matvecs=budget,
                generator=torch.Generator().manual_seed(seed),
            ).value
            - expected
            for seed in range(30)
        ]
        return float(torch.tensor(errors).square().mean())

    assert mean_error(80) < mean_error(5) / 4


def test_misdirection_is_the_alignment_of_pkp_with_pp(gru_operators):
    K, P = gru_operators
    result = misdirection(K, P)
    assert result.exact
    assert result.value == pytest.approx(_dense_cosine(P @ K @ P.T, P @ P.T), rel=1e-12)
    estimate = misdirection(K, P, exact=False, num_matvecs=50)
    assert abs(estimate.value - result.value) <= 5 * estimate.standard_error


def test_invalid_arguments(gru_operators, make_operators, dense_operator):
    K, P = gru_operators
    with pytest.raises(ValueError, match="second must have the dtype of first"):
        operator_alignment(K, dense_operator(torch.eye(60, dtype=torch.float32)))
    with pytest.raises(ValueError, match="num_matvecs must be an integer >= 1; got 0"):
        operator_alignment(K, K, num_matvecs=0)
    with pytest.raises(ValueError, match="second must be a TrajectoryOperator"):
        operator_alignment(K, torch.eye(60))
