"""Forecast features: no look-ahead, a profile that never contains its own target, missing
data imputed and flagged (never zeros), and estimators that obey scikit-learn's contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from trafficsim.models.features import Calendar, PanelFeatures, typical_profile
from trafficsim.models.forecasters import ColumnForecaster, ResidualForecaster, make_forecaster

CAL = Calendar(steps_per_day=24, start_weekday=0)


def _panel(seed: int = 0, days: int = 10, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(days * 24)
    base = 50 + 10 * np.sin(2 * np.pi * (t % 24) / 24)
    values = base[:, None] + rng.normal(0, 2, size=(len(t), n))
    adj = np.ones((n, n))
    return values, adj


def test_features_use_only_the_window_before_the_origin() -> None:
    values, adj = _panel()
    prof = typical_profile(values, 150, CAL)
    f = PanelFeatures(adj, CAL)
    origins = np.array([100, 120])
    before = f.build(values, prof, origins, 3)
    later = values.copy()
    later[100:] += 100.0  # change everything from the first origin on
    after = f.build(later, prof, np.array([100]), 3)
    assert np.allclose(before[: values.shape[1]], after, rtol=1e-12, atol=1e-9)
    assert before.shape == (2 * values.shape[1], len(f.names))


def test_training_profile_leaves_its_own_day_out() -> None:
    values, _ = _panel()
    prof = typical_profile(values, 200, CAL)
    changed = values.copy()
    changed[24:48] += 30.0  # day 1, a training day
    prof2 = typical_profile(changed, 200, CAL)
    assert np.allclose(prof[24:48], prof2[24:48])  # its own rows do not see it
    assert not np.allclose(prof[48:72], prof2[48:72])  # other days' profiles do
    assert not np.allclose(prof[200:], prof2[200:])  # and so do test rows


def test_missing_values_are_imputed_and_flagged_not_zeroed() -> None:
    values, adj = _panel()
    values[95:99, 1] = np.nan  # a dropped stretch just before the origin 100
    values[88:100, 2] = np.nan  # a device offline for the whole window
    prof = typical_profile(values, 150, CAL)
    f = PanelFeatures(adj, CAL)
    x = f.build(values, prof, np.array([100]), 1)
    names = f.names
    assert np.all(np.isfinite(x))
    lag1 = x[:, names.index("lag1")]
    assert lag1[1] == values[99, 1]
    assert lag1[2] == pytest.approx(prof[88, 2])  # nothing seen: the profile, not zero
    share = x[:, names.index("missing_share")]
    assert share[0] == 0.0 and share[1] == pytest.approx(4 / 12) and share[2] == 1.0


def test_models_fit_and_beat_persistence_on_a_predictable_panel() -> None:
    values, adj = _panel(days=12)
    prof = typical_profile(values, 240, CAL)
    f = PanelFeatures(adj, CAL)
    tr, te = np.arange(12, 200), np.arange(212, 270)
    h = 6
    Xtr, ytr = f.build(values, prof, tr, h), values[tr + h - 1].reshape(-1)
    Xte, yte = f.build(values, prof, te, h), values[te + h - 1].reshape(-1)
    rmse = {}
    for name in ("persistence", "historical-average", "linear", "gbm"):
        m = make_forecaster(name, f.names, max_iter=50).fit(Xtr, ytr)
        rmse[name] = float(np.sqrt(np.mean((m.predict(Xte) - yte) ** 2)))
    assert rmse["gbm"] < 0.8 * rmse["persistence"]
    assert rmse["linear"] < 0.8 * rmse["persistence"]
    with pytest.raises(KeyError, match="unknown model 'lstm'"):
        make_forecaster("lstm", f.names)


@parametrize_with_checks([ColumnForecaster(), ResidualForecaster()])
def test_sklearn_contract(estimator, check) -> None:
    check(estimator)


def test_features_for_another_horizon_match_a_fresh_build() -> None:
    from trafficsim.models.features import with_horizon

    values, adj = _panel()
    prof = typical_profile(values, 150, CAL)
    f = PanelFeatures(adj, CAL)
    origins = np.array([60, 100])
    base = f.build(values, prof, origins, 1)
    for h in (2, 5, 9):
        assert np.allclose(with_horizon(base, prof, origins, h), f.build(values, prof, origins, h))
