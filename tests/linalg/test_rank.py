"""Effective ranks on spectra with hand-computed values and on operators."""

import pytest
import torch

from kpwidgets.linalg import effective_rank, participation_ratio, threshold_rank

EPS = torch.finfo(torch.float64).eps


def _spectrum(*values):
    return torch.tensor(values, dtype=torch.float64)


@pytest.mark.parametrize(
    ("values", "expected"),
    [((1, 1, 1, 1), 4.0), ((1, 0, 0), 1.0), ((3, 1), 1.6), ((2, 2, 0, 1e-18), 2.0)],
)
def test_participation_ratio_by_hand(values, expected):
    assert participation_ratio(_spectrum(*values)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("values", "threshold", "expected"),
    [
        ((1, 1, 1, 1), 0.95, 3.8),  # r equal modes: threshold * r
        ((1, 0, 0), 0.95, 0.95),  # one mode
        ((1, 2, 3, 4), 0.5, 1 + 1 / 3),  # sorted 4, 3, ...: 5 = 4 + 1/3 of 3
        ((2, 2), 1.0, 2.0),
    ],
)
def test_threshold_rank_by_hand(values, threshold, expected):
    assert threshold_rank(_spectrum(*values), threshold) == pytest.approx(expected)


def test_effective_rank_of_a_spectrum_is_exact():
    result = effective_rank(_spectrum(3, 1), kind="participation_ratio")
    assert result.value == pytest.approx(1.6) and result.exact
    assert float(result) == result.value and result.standard_error == 0


@pytest.fixture(scope="module")
def diagonal(diagonal_operator):
    # Spectrum (b + 1) * 2^-t on the grid [B=3, T=5, H=4].
    b = torch.arange(3, dtype=torch.float64)[:, None, None]
    t = torch.arange(5, dtype=torch.float64)[None, :, None]
    values = ((b + 1) * 0.5**t).expand(3, 5, 4)
    return diagonal_operator(values), values


@pytest.mark.parametrize("kind", ["participation_ratio", "threshold"])
def test_operator_rank_equals_rank_of_its_spectrum(diagonal, kind):
    operator, values = diagonal
    expected = effective_rank(values.flatten(), kind=kind).value
    result = effective_rank(operator, kind=kind)
    assert result.exact and result.num_matvecs == 60
    assert result.value == pytest.approx(expected, rel=1e3 * EPS)


def test_partial_ranks_by_hand(diagonal):
    operator, values = diagonal
    # Diagonal N: M is diagonal with the sums over the other axes.
    per_trial = values.sum(dim=(1, 2))  # 4 * 1.9375 * (1, 2, 3)
    per_time = values.sum(dim=(0, 2))  # 4 * 6 * 2^-t
    per_unit = values.sum(dim=(0, 1))  # equal: H modes
    assert effective_rank(operator, axis="trials", exact=True).value == pytest.approx(
        36 / 14
    )
    assert effective_rank(operator, axis="units", exact=True).value == pytest.approx(4)
    for axis, sums in [("trials", per_trial), ("time", per_time), ("units", per_unit)]:
        for kind in ("participation_ratio", "threshold"):
            result = effective_rank(operator, kind=kind, axis=axis, exact=True)
            expected = effective_rank(sums, kind=kind).value
            assert result.value == pytest.approx(expected, rel=1e3 * EPS)


@pytest.mark.parametrize("axis", ["trials", "time", "units"])
def test_partial_rank_matches_dense_partial_trace(gru_operators, axis):
    K, P = gru_operators
    operator = P @ K @ P.T
    dense = operator.to_dense().reshape(3, 5, 4, 3, 5, 4)
    einsum = {"trials": "bthcth->bc", "time": "bthbsh->ts", "units": "bthbtg->hg"}
    spectrum = torch.linalg.eigvalsh(torch.einsum(einsum[axis], dense))

    exact = effective_rank(operator, axis=axis, exact=True)
    estimate = effective_rank(operator, axis=axis, exact=False, num_matvecs=40 * 5)

    assert exact.value == pytest.approx(participation_ratio(spectrum), rel=1e-10)
    assert abs(estimate.value - exact.value) <= 5 * estimate.standard_error + 0.05
    assert estimate.standard_error > 0 and not estimate.exact


def test_estimated_participation_ratio_is_close(gru_operators):
    K, P = gru_operators
    operator = P @ K @ P.T
    exact = effective_rank(operator).value
    estimate = effective_rank(operator, exact=False, num_matvecs=60)
    assert abs(estimate.value - exact) <= 5 * estimate.standard_error
    assert estimate.num_matvecs == 60 and estimate.standard_error < 0.1 * exact


def test_estimated_threshold_rank_is_close(dense_operator, random_psd):
    operator = dense_operator(random_psd(rank=12, seed=4))
    exact = effective_rank(operator, kind="threshold").value
    estimate = effective_rank(operator, kind="threshold", exact=False, num_matvecs=30)
    # Hutch++ with a 10-probe sketch of a rank-12 operator: a close trace.
    assert abs(estimate.value - exact) <= 5 * estimate.standard_error + 0.05
    assert estimate.num_matvecs > 30  # the trace, then the eigensolves


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "entropy"}, "kind must be one of 'participation_ratio', 'threshold'"),
        ({"threshold": 0.0}, r"threshold must be a finite number in \(0, 1\]; got 0.0"),
        ({"threshold": 1.5}, r"threshold must be a finite number in \(0, 1\]; got 1.5"),
        ({"axis": "trials"}, "axis='trials' needs an operator .* got a spectrum"),
    ],
)
def test_invalid_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        effective_rank(_spectrum(1, 2), **arguments)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (torch.ones(2, 2), r"eigenvalues must be a 1-D tensor \[n\]; got \[2, 2\]"),
        (torch.tensor([]), "eigenvalues must be a non-empty tensor of finite numbers"),
        (torch.tensor([1.0, float("nan")]), "must be a non-empty tensor of finite"),
        (torch.tensor([1.0, -0.5]), "must be those of a non-zero PSD .*minimum -0.5"),
        (torch.zeros(3), "must be those of a non-zero PSD operator"),
    ],
)
def test_invalid_spectra(values, message):
    with pytest.raises(ValueError, match=message):
        participation_ratio(values)


def test_invalid_operators(gru_operators):
    K, P = gru_operators
    with pytest.raises(ValueError, match=r"must be a self-adjoint PSD .*got P\["):
        effective_rank(P)
    with pytest.raises(ValueError, match="axis must be one of 'trials', 'time'"):
        effective_rank(K, axis="neurons")
    with pytest.raises(ValueError, match="num_matvecs must be an integer >= 1; got 0"):
        effective_rank(K, num_matvecs=0)
