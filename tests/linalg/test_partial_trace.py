"""Partial traces over trials, time and units against dense einsums."""

import pytest
import torch

from kpwidgets.linalg import partial_trace

EPS = torch.finfo(torch.float64).eps
# M[a, c] = sum over the other two axes of N[(b, t, h), (b', t', h')].
EINSUMS = {"trials": "bthcth->bc", "time": "bthbsh->ts", "units": "bthbtg->hg"}


def _dense_partial(operator, axis):
    return torch.einsum(EINSUMS[axis], operator.to_dense().reshape(3, 5, 4, 3, 5, 4))


@pytest.mark.parametrize("axis", ["trials", "time", "units"])
@pytest.mark.parametrize("name", ["PKP*", "P"])
def test_exact_matches_dense(gru_operators, axis, name):
    K, P = gru_operators
    operator = {"PKP*": P @ K @ P.T, "P": P}[name]
    result = partial_trace(operator, axis, exact=True)

    expected = _dense_partial(operator, axis)
    scale = float(expected.abs().max())
    torch.testing.assert_close(result.matrix, expected, atol=100 * EPS * scale, rtol=0)
    assert result.exact and result.samples is None and result.num_matvecs == 60
    torch.testing.assert_close(
        torch.trace(result.matrix), torch.trace(operator.to_dense()), rtol=1e-12, atol=0
    )


@pytest.mark.parametrize("axis", ["trials", "time", "units"])
def test_estimate_is_unbiased(gru_operators, axis):
    K, P = gru_operators
    operator = P @ K @ P.T
    result = partial_trace(operator, axis, exact=False, num_matvecs=300 * 5)

    expected = _dense_partial(operator, axis)
    rounds = result.samples.shape[0]
    spread = result.samples.std(dim=0) / rounds**0.5
    # Symmetrising averages two unbiased entries; allow 5 standard errors each.
    assert bool(((result.matrix - expected).abs() <= 5 * spread + 1e-12).all())
    assert not result.exact and result.num_matvecs == rounds * expected.shape[0]


def test_block_diagonal_operator_has_exactly_diagonal_estimate(gru_operators):
    _, P = gru_operators
    result = partial_trace(P @ P.T, "trials", exact=False, num_matvecs=6)

    assert result.num_matvecs == 6 and result.samples.shape == (2, 3, 3)
    off_diagonal = result.matrix - torch.diag(torch.diagonal(result.matrix))
    assert bool((off_diagonal == 0).all())


def test_default_is_exact_only_when_cheap(gru_operators):
    K, _ = gru_operators
    assert not partial_trace(K, "units").exact  # 4 * 4 probes < 60
    assert partial_trace(K, "units", num_matvecs=60).exact


def test_same_generator_same_estimate(gru_operators):
    K, _ = gru_operators
    first = partial_trace(K, "time", generator=torch.Generator().manual_seed(3))
    second = partial_trace(K, "time", generator=torch.Generator().manual_seed(3))
    assert torch.equal(first.matrix, second.matrix)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"axis": "neurons"}, "axis must be one of 'trials', 'time', 'units'; got"),
        (
            {"axis": "time", "exact": False, "num_matvecs": 4},
            "num_matvecs must be at least the size of the kept axis 'time', 5, .*got 4",
        ),
        ({"axis": "time", "num_matvecs": 0}, "num_matvecs must be an integer >= 1"),
    ],
)
def test_invalid_arguments(gru_operators, arguments, message):
    K, _ = gru_operators
    with pytest.raises(ValueError, match=message):
        partial_trace(K, **arguments)
