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
