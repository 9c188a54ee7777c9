"""The model's inputs come from one registry of (name, function): the column order is the registry's, lookups go
by name, so reordering the registry cannot misalign what the booster reads."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from plastinka_forecasting.features import (
    LOG_LEVEL,
    FeatureSpace,
    _future_period_of_year,
    _Origin,
    _Target,
    column,
    default_config,
    item_level,
    registry,
    to_dense,
)


@pytest.fixture(scope="module")
def panel_and_attributes() -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(4)
    rows = []
    for m in range(30):
        for i in range(40):
            lift = 2.0 if m % 12 >= 9 else 1.0
            rows.append((f"i{i:02d}", date(2020 + m // 12, m % 12 + 1, 1), float(rng.poisson((1 + i % 5) * lift))))
    panel = pl.DataFrame(rows, schema={"item_id": pl.Utf8, "period": pl.Date, "y": pl.Float64}, orient="row")
    # Two artists and three styles of different sizes, so the group features differ column by column.
    attributes = pl.DataFrame(
        {
            "item_id": [f"i{i:02d}" for i in range(40)],
            "artist": [f"a{i % 2}" for i in range(40)],
            "style": [["rock", "jazz", "pop"][min(i % 7, 2)] for i in range(40)],
            "price": [float(10 + i) for i in range(40)],
        }
    )
    return panel, attributes


def _rows(space: FeatureSpace) -> np.ndarray:
    x: np.ndarray = space.training_rows(range(space.hist.n_periods - 1), 3, max_rows=10**9, seed=0).x
    return x


def test_columns_follow_the_registry(panel_and_attributes: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    panel, attributes = panel_and_attributes
    config = default_config("M")
    space = FeatureSpace.build(to_dense(panel, "M"), attributes, config)
    names = space.feature_names()
    assert names == [f.name for f in registry(config)] + [LOG_LEVEL]
    assert len(set(names)) == len(names)
    x = _rows(space)
    assert x.shape[1] == len(names)
    # Spot checks by meaning: the horizon column holds 1..3, the lag-1 column (scaled by the level) times the
    # level is the last period's sales, and the artist count is the number of items of that artist (20 each).
    assert set(np.unique(column(x, names, "horizon"))) == {1.0, 2.0, 3.0}
    level = item_level(x, names)
    lag = column(x, names, "lag_1") * level
    assert np.all((lag >= 0) & (np.abs(lag - np.round(lag)) < 1e-3 * np.maximum(1.0, lag)))
    assert set(np.unique(column(x, names, "artist_count"))) == {20.0}
    assert set(np.unique(column(x, names, "style_count"))) == {6.0, 28.0}


def test_a_reordered_registry_gives_the_same_columns_by_name(
    panel_and_attributes: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    panel, attributes = panel_and_attributes
    config = default_config("M")
    hist = to_dense(panel, "M")
    default = FeatureSpace.build(hist, attributes, config)
    shuffled = list(registry(config))
    np.random.default_rng(0).shuffle(shuffled)
    reordered = FeatureSpace.build(hist, attributes, config, features=shuffled)
    names, other = default.feature_names(), reordered.feature_names()
    assert other == [f.name for f in shuffled] + [LOG_LEVEL]
    assert other != names and sorted(other) == sorted(names)
    x, y = _rows(default), _rows(reordered)
    for name in names:
        np.testing.assert_array_equal(column(x, names, name), column(y, other, name), err_msg=name)
    with pytest.raises(KeyError, match="no feature 'nope'"):
        column(x, names, "nope")


def test_rows_equal_a_plain_recomputation(panel_and_attributes: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    """The speed-ups of ``origin_blocks`` (one float32 matrix filled in place, shop values memoised across origins
    and row sets) change no value: every block equals each feature computed afresh on a new space, stacked and
    scaled by the level the plain way."""
    panel, attributes = panel_and_attributes
    config = default_config("M")
    hist = to_dense(panel, "M")
    space = FeatureSpace.build(hist, attributes, config)
    names = [f.name for f in space.features]
    short, long = space.level_windows()
    for t in (5, 14, 27, 14):  # 14 twice: the second pass reads the memoised shop values
        rows = np.flatnonzero(hist.start <= t)
        for h, _, x in space.origin_blocks(t, [1, 2, 3], rows):
            fresh = FeatureSpace.build(hist, attributes, config)
            origin = _Origin(fresh, t, rows)
            positions = _future_period_of_year(hist.periods[t], 3, "M")[1:]
            target = _Target(origin, h, fresh.season_index(t), int(positions[h - 1]))
            plain = np.column_stack([f.compute(target if f.per_target else origin) for f in fresh.features])
            plain = plain.astype(np.float32)
            level = np.nan_to_num(0.5 * (column(plain, names, f"mean_{short}") + column(plain, names, f"mean_{long}")))
            level = np.maximum(level, 0.2 * np.nan_to_num(column(plain, names, "mean_all")))
            level = np.maximum(level, 0.05).astype(np.float32)
            for i, feature in enumerate(fresh.features):
                if feature.level:
                    plain[:, i] /= level
            expected = np.concatenate([plain, np.log(level)[:, None]], axis=1)
            assert x.dtype == np.float32
            np.testing.assert_array_equal(x, expected)


def test_expected_rows_is_what_training_rows_gives(panel_and_attributes: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    panel, attributes = panel_and_attributes
    space = FeatureSpace.build(to_dense(panel, "M"), attributes, default_config("M"))
    origins = range(space.hist.n_periods - 1)
    every = space.expected_rows(origins, 3, max_rows=10**9)
    assert every == len(space.training_rows(origins, 3, max_rows=10**9, seed=0))
    # Over the cap, one horizon per sampled (item, origin) pair: the expectation matches the sampler's output.
    for cap in (every // 2, every // 6):
        got = np.mean([len(space.training_rows(origins, 3, max_rows=cap, seed=s)) for s in range(20)])
        assert abs(got - space.expected_rows(origins, 3, max_rows=cap)) < 0.03 * got
    # So a set just over the cap shrinks to its pairs' count (a third of the rows at horizon 3), while one just
    # under keeps every row: why the hold-out booster's cap is the final set's expected size.
    assert space.expected_rows(origins, 3, max_rows=every - 1) == pytest.approx(every / 3, rel=0.05)
