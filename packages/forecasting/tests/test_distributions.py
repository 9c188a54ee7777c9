"""numpy-only Poisson and negative-binomial quantiles against scipy.stats (used here as the reference only)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from plastinka_forecasting.distributions import nbinom_quantiles, poisson_quantiles

LEVELS = np.array([0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])
SMALL_MEANS = np.linspace(0.0, 20.0, 201)
LARGE_MEANS = np.concatenate([np.linspace(20.0, 500.0, 97), np.geomspace(500.0, 20_000.0, 40)])
DISPERSIONS = np.array([1.01, 1.5, 2.0, 5.0, 10.0, 50.0])


def _nb_parameters(means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The baselines' NB1 parameterisation: variance = dispersion x mean."""
    mean, phi = (a.ravel() for a in np.meshgrid(means[means > 0], DISPERSIONS, indexing="ij"))
    return mean / (phi - 1.0), 1.0 / phi


def _mismatches_are_ties(ours: np.ndarray, ref: np.ndarray, cdf_at: np.ndarray) -> bool:
    """Where the two differ, the level equals cdf(min of the two) up to rounding: a tie either side may round."""
    return bool(np.all(np.abs(cdf_at[ours != ref] - np.broadcast_to(LEVELS, ours.shape)[ours != ref]) < 1e-9))


def test_poisson_equals_scipy_exactly_for_small_means() -> None:
    ours = poisson_quantiles(SMALL_MEANS, LEVELS)
    np.testing.assert_array_equal(ours, stats.poisson.ppf(LEVELS[None, :], SMALL_MEANS[:, None]))


def test_poisson_matches_scipy_up_to_ties_for_large_means() -> None:
    ours = poisson_quantiles(LARGE_MEANS, LEVELS)
    ref = stats.poisson.ppf(LEVELS[None, :], LARGE_MEANS[:, None])
    assert np.abs(ours - ref).max() <= 1
    assert _mismatches_are_ties(ours, ref, stats.poisson.cdf(np.minimum(ours, ref), LARGE_MEANS[:, None]))


def test_negative_binomial_matches_scipy_on_a_grid_of_means_and_dispersions() -> None:
    # Exact but for ties: NB(n, 1/2) with whole n has cdf(n - 1) = 1/2 exactly, which either side may round.
    for means in (SMALL_MEANS, LARGE_MEANS):
        size, p = _nb_parameters(means)
        ours = nbinom_quantiles(size, p, LEVELS)
        ref = stats.nbinom.ppf(LEVELS[None, :], size[:, None], p[:, None])
        assert np.abs(ours - ref).max() <= 1
        cdf = stats.nbinom.cdf(np.minimum(ours, ref), size[:, None], p[:, None])
        assert _mismatches_are_ties(ours, ref, cdf)


def test_a_tie_resolves_to_the_smallest_count_with_cdf_at_least_the_level() -> None:
    # NB(8, 1/2): P(X <= 7) = P(Binomial(15, 1/2) >= 8) = 1/2 exactly, so the median is 7.
    assert nbinom_quantiles([8.0], [0.5], [0.5])[0, 0] == 7.0


def test_shapes_follow_the_parameters_and_levels_in_any_order() -> None:
    means = np.array([[0.5, 3.0], [40.0, 900.0]])
    out = poisson_quantiles(means, [0.9, 0.1, 0.5])
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[..., [1, 2, 0]], poisson_quantiles(means, [0.1, 0.5, 0.9]))
    assert nbinom_quantiles(np.array([2.0, 5.0]), 0.25, LEVELS).shape == (2, LEVELS.size)
    assert poisson_quantiles(np.array([]), LEVELS).shape == (0, LEVELS.size)


def test_point_masses_and_invalid_input() -> None:
    np.testing.assert_array_equal(poisson_quantiles([0.0], LEVELS), np.zeros((1, LEVELS.size)))
    np.testing.assert_array_equal(nbinom_quantiles([3.0], [1.0], LEVELS), np.zeros((1, LEVELS.size)))
    with pytest.raises(ValueError):
        poisson_quantiles([-1.0], LEVELS)
    with pytest.raises(ValueError):
        poisson_quantiles([1.0], [0.0, 0.5])
    with pytest.raises(ValueError):
        nbinom_quantiles([0.0], [0.5], LEVELS)


@settings(max_examples=60, deadline=None)
@given(
    mean=st.floats(0.0, 20_000.0),
    dispersion=st.floats(1.001, 100.0),
    levels=st.lists(st.floats(0.001, 0.999), min_size=1, max_size=8),
)
def test_never_negative_and_monotone_in_level(mean: float, dispersion: float, levels: list[float]) -> None:
    grid = np.sort(np.asarray(levels))
    outs = [poisson_quantiles([mean], grid)[0]]
    size = mean / (dispersion - 1.0)
    if size > 0:  # not `mean > 0`: a subnormal mean divides down to a size of exactly 0, which is refused
        outs.append(nbinom_quantiles([size], [1.0 / dispersion], grid)[0])
    for out in outs:
        assert np.all(out >= 0)
        assert np.all(np.diff(out) >= 0)
        assert np.all(out == np.round(out))
