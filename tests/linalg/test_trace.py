"""Hutchinson and Hutch++: seeded unbiasedness, convergence and spread."""

import math

import pytest
import torch

from kpwidgets.linalg import hutchinson_trace, hutchpp_trace

SEEDS = 300
ESTIMATORS = [hutchinson_trace, hutchpp_trace]


def _estimates(estimator, operator, budget, seeds=SEEDS, **options):
    return torch.tensor(
        [
            estimator(
                operator,
                budget,
                generator=torch.Generator().manual_seed(seed),
                **options,
            ).value
            for seed in range(seeds)
        ],
        dtype=torch.float64,
    )


@pytest.fixture(scope="module")
def psd(dense_operator, random_psd):
    return dense_operator(random_psd(rank=30, seed=0))


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("budget", [1, 2, 3, 4, 5, 10])
def test_unbiased_for_every_budget(psd, estimator, budget):
    exact = float(torch.trace(psd.matrix))
    estimates = _estimates(estimator, psd, budget)
    spread = float(estimates.std()) / math.sqrt(SEEDS)
    assert abs(float(estimates.mean()) - exact) <= 4 * spread


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_unbiased_on_the_hidden_state_ntk(gru_operators, estimator):
    K, P = gru_operators
    operator = P @ K @ P.T
    exact = float(torch.trace(operator.to_dense()))
    estimates = _estimates(estimator, operator, 7, seeds=100)
    spread = float(estimates.std()) / math.sqrt(100)
    assert abs(float(estimates.mean()) - exact) <= 4 * spread


def test_gaussian_probes_are_unbiased(psd):
    exact = float(torch.trace(psd.matrix))
    estimates = _estimates(hutchinson_trace, psd, 3, distribution="gaussian")
    assert abs(float(estimates.mean()) - exact) <= 4 * float(
        estimates.std()
    ) / math.sqrt(SEEDS)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_error_shrinks_with_budget(psd, estimator):
    exact = float(torch.trace(psd.matrix))
    small = (_estimates(estimator, psd, 6, seeds=50) - exact).square().mean()
    large = (_estimates(estimator, psd, 48, seeds=50) - exact).square().mean()
    assert large < small / 4


def test_hutchpp_is_exact_once_the_sketch_spans_the_range(dense_operator, random_psd):
    operator = dense_operator(random_psd(rank=8, seed=1))
    estimate = hutchpp_trace(operator, 27)  # a sketch of 9 > rank 8 probes
    exact = float(torch.trace(operator.matrix))
    assert estimate.value == pytest.approx(exact, rel=1e-10)
    assert estimate.standard_error < 1e-10 * exact


def test_hutchpp_beats_hutchinson_on_a_decaying_spectrum(dense_operator):
    # Rotated, so that Rademacher probes are not exact as on a diagonal.
    values = torch.logspace(0, -8, 60, dtype=torch.float64)
    generator = torch.Generator().manual_seed(2)
    rotation, _ = torch.linalg.qr(
        torch.randn(60, 60, generator=generator, dtype=torch.float64)
    )
    matrix = rotation @ torch.diag(values) @ rotation.T
    operator = dense_operator((matrix + matrix.T) / 2)
    exact = float(values.sum())
    plain = (_estimates(hutchinson_trace, operator, 30, seeds=50) - exact).abs().mean()
    deflated = (_estimates(hutchpp_trace, operator, 30, seeds=50) - exact).abs().mean()
    assert deflated < plain / 4


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_standard_error_matches_the_spread_over_seeds(psd, estimator):
    results = [
        estimator(psd, 12, generator=torch.Generator().manual_seed(seed))
        for seed in range(100)
    ]
    observed = torch.tensor([result.value for result in results]).std()
    reported = torch.tensor([result.standard_error for result in results]).mean()
    assert 0.6 < float(reported / observed) < 1.5
    assert all(result.num_matvecs == 12 and not result.exact for result in results)


def test_one_probe_has_no_spread(psd):
    assert math.isnan(hutchinson_trace(psd, 1).standard_error)
    assert math.isnan(hutchpp_trace(psd, 3).standard_error)  # s = 1, g = 1


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"num_matvecs": 0}, "num_matvecs must be an integer >= 1; got 0"),
        ({"num_matvecs": 2.5}, "num_matvecs must be an integer >= 1; got 2.5"),
        (
            {"num_matvecs": 3, "distribution": "uniform"},
            "distribution must be one of 'rademacher', 'gaussian'; got 'uniform'",
        ),
        (
            {"num_matvecs": 3, "generator": "seed"},
            "generator must be a torch.Generator; got str",
        ),
    ],
)
def test_invalid_arguments(psd, estimator, arguments, message):
    with pytest.raises(ValueError, match=message):
        estimator(psd, **arguments)


def test_rejects_a_tensor(psd):
    with pytest.raises(ValueError, match="operator must be a TrajectoryOperator"):
        hutchinson_trace(psd.matrix, 3)
