"""Forecasters behind one small interface: scikit-learn regressors on the feature matrix.

All follow the scikit-learn contract (``__init__`` stores, ``fit(X, y) -> self``, learned
attributes end in ``_``, ``predict`` checks it was fitted). Each predicts the value ``h``
steps ahead from the features of :mod:`models.features`:

- ``persistence``: the last value (column ``anchor``);
- ``historical-average``: the typical profile at the target time (column ``profile``);
- ``linear`` and ``gbm``: a regressor of the change from the last value (ridge regression,
  and ``HistGradientBoostingRegressor``, the default), added back to the last value.
  Learning the change rather than the level keeps the models honest on sensors whose
  level they have not seen before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data


class ColumnForecaster(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Predicts one feature column as it is (persistence, historical average)."""

    def __init__(self, column: int = 0) -> None:
        self.column = column

    def __sklearn_tags__(self) -> Any:
        # A baseline: it copies one input, so scikit-learn's check that a regressor learns
        # its training data well (score > 0.5) does not apply. Missing inputs pass through.
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: Any, y: Any) -> ColumnForecaster:
        X, y = validate_data(self, X, y, y_numeric=True, ensure_all_finite="allow-nan")
        if not 0 <= self.column < X.shape[1]:
            raise ValueError(f"column must be in [0, {X.shape[1]}), got {self.column}")
        self.column_ = self.column
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "column_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        out: np.ndarray = X[:, self.column_].astype(float)
        return out


class ResidualForecaster(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Fits ``estimator`` to ``y - X[:, anchor]`` and predicts ``X[:, anchor] + estimate``."""

    def __init__(self, estimator: Any = None, anchor: int = 0) -> None:
        self.estimator = estimator
        self.anchor = anchor

    def __sklearn_tags__(self) -> Any:
        # Extra series may be missing (NaN): the boosted trees take them as they are, the
        # linear pipeline imputes them; the anchor column itself is always imputed upstream.
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: Any, y: Any) -> ResidualForecaster:
        X, y = validate_data(self, X, y, y_numeric=True, ensure_all_finite="allow-nan")
        if not 0 <= self.anchor < X.shape[1]:
            raise ValueError(f"anchor must be in [0, {X.shape[1]}), got {self.anchor}")
        base = (
            self.estimator
            if self.estimator is not None
            else make_pipeline(SimpleImputer(strategy="median"), Ridge())
        )
        # A row without a value to start from cannot teach a change from it.
        ok = np.isfinite(X[:, self.anchor])
        self.estimator_ = clone(base).fit(X[ok], (y - X[:, self.anchor])[ok])
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        out: np.ndarray = X[:, self.anchor] + self.estimator_.predict(X)
        return out


MODEL_NAMES = ("persistence", "historical-average", "linear", "gbm")
DEFAULT_MODEL = "gbm"


def make_forecaster(
    name: str,
    feature_names: tuple[str, ...],
    *,
    seed: int = 0,
    max_iter: int = 300,
    learning_rate: float = 0.05,
) -> RegressorMixin:
    """A fresh forecaster; ``seed`` goes to scikit-learn as ``random_state``."""
    anchor = feature_names.index("lag1")
    if name == "persistence":
        return ColumnForecaster(column=anchor)
    if name == "historical-average":
        return ColumnForecaster(column=feature_names.index("profile_target"))
    if name == "linear":
        return ResidualForecaster(
            make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), Ridge(alpha=1.0)),
            anchor,
        )
    if name == "gbm":
        return ResidualForecaster(
            HistGradientBoostingRegressor(
                max_iter=max_iter,
                learning_rate=learning_rate,
                max_leaf_nodes=31,
                min_samples_leaf=50,
                l2_regularization=1.0,
                random_state=seed,
            ),
            anchor,
        )
    raise KeyError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
