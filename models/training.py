"""Training forecasters on a recorded feed, and the trained predictor in memory.

``train_panels`` fits one model per target (speed, occupancy, flow) and horizon on the first
80 % of the periods and scores it against persistence on the last 20 % (periods it never saw),
so every trained model comes with an honest figure. The typical profile it learns is saved
with the model: the live service needs it to build the same features. Live models default to
100 boosting iterations at a learning rate of 0.1 (rather than the evaluation's 300 at 0.05):
a prediction round for 1,000 devices then stays under 100 ms
(``python benchmarks/predictor_round.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trafficsim.models.datasets import DatasetError, Panel
from trafficsim.models.features import (
    WINDOW,
    Calendar,
    PanelFeatures,
    ProfileTable,
    feature_names,
    typical_profile,
)
from trafficsim.models.forecasters import make_forecaster
from trafficsim.models.persistence import ModelMetadata, data_hash

HORIZONS_MIN = (5, 15, 30, 60)
HOLDOUT_SHARE = 0.2


@dataclass
class TrainedPredictor:
    estimators: dict[tuple[str, int], Any]
    profiles: dict[str, ProfileTable]
    devices: tuple[str, ...]
    adjacency: np.ndarray
    calendar: Calendar
    step_s: float
    metadata: ModelMetadata
    holdout: dict[str, dict[str, dict[str, float]]]
    series: tuple[str, ...] = ()

    def extras(self) -> dict[str, Any]:
        return {
            "profiles": self.profiles,
            "devices": self.devices,
            "adjacency": self.adjacency,
            "calendar": self.calendar,
            "holdout": self.holdout,
            "series": self.series,
        }


def horizon_steps(step_s: float, horizons_min: Sequence[int]) -> dict[int, int]:
    return {h: max(1, round(h * 60.0 / step_s)) for h in horizons_min}


def train_panels(
    panels: dict[str, Panel],
    *,
    horizons_min: Sequence[int] = HORIZONS_MIN,
    model: str = "gbm",
    seed: int = 0,
    max_iter: int = 100,
    learning_rate: float = 0.1,
    holdout_periods: int | None = None,
    extra_panels: dict[str, Panel] | None = None,
    on_fit: Callable[[str, int], None] = lambda target, h: None,
) -> TrainedPredictor:
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter: expected at least 1 boosting iteration, got {max_iter!r}")
    if not (isinstance(learning_rate, int | float) and math.isfinite(learning_rate)):
        raise ValueError(f"learning_rate: expected a finite number, got {learning_rate!r}")
    if learning_rate <= 0:
        raise ValueError(f"learning_rate: expected a number greater than 0, got {learning_rate!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"seed: expected an integer from 0 to 2**32 - 1, got {seed!r}")
    if not panels:
        raise ValueError("panels: expected at least one target's panel")
    first = next(iter(panels.values()))
    T, _N = first.values.shape
    step_s = first.step_s
    cal = Calendar(round(86400.0 / step_s), first.start_weekday, first.start_offset_steps)
    steps = horizon_steps(step_s, horizons_min)
    n_fit = T - holdout_periods if holdout_periods else int((1 - HOLDOUT_SHARE) * T)
    longest = max(steps.values())
    if n_fit - WINDOW - longest < 10 or T - n_fit - WINDOW - longest < 1:
        raise DatasetError(
            f"{first.name}: {T} periods of {step_s:g} s are too few for a "
            f"{max(horizons_min)}-min horizon with a {WINDOW}-period window and a "
            f"{HOLDOUT_SHARE:.0%} holdout; record longer or ask for shorter horizons"
        )
    feats = PanelFeatures(first.adjacency, cal)
    # Every model sees every series of the same sensor (the targets, and the camera queue):
    # speed is easier to forecast knowing occupancy and the queue behind the loop.
    series = {
        **{k: p.values for k, p in panels.items()},
        **{k: p.values for k, p in (extra_panels or {}).items()},
    }
    order = tuple(sorted(series))
    extras = {k: series[k] for k in order}
    names = feature_names(order)
    estimators: dict[tuple[str, int], Any] = {}
    profiles: dict[str, ProfileTable] = {}
    holdout: dict[str, dict[str, dict[str, float]]] = {}
    hashes = []
    for target, panel in panels.items():
        values = panel.values
        hashes.append(data_hash(np.nan_to_num(values, nan=-1.0)))
        prof = typical_profile(values, n_fit, cal)
        profiles[target] = ProfileTable.fit(values[:n_fit], cal)
        holdout[target] = {}
        for h, k in steps.items():
            on_fit(target, h)
            tr = np.arange(WINDOW, n_fit - k + 1)
            X, y = feats.build(values, prof, tr, k, extras), values[tr + k - 1].reshape(-1)
            ok = np.isfinite(y)
            est = make_forecaster(
                model, names, seed=seed, max_iter=max_iter, learning_rate=learning_rate
            )
            estimators[(target, h)] = est.fit(X[ok], y[ok])
            te = np.arange(n_fit + WINDOW, T - k + 1)
            Xt, yt = feats.build(values, prof, te, k, extras), values[te + k - 1].reshape(-1)
            okt = np.isfinite(yt)
            pred = estimators[(target, h)].predict(Xt[okt])
            last = Xt[okt, names.index("lag1")]
            rmse = float(np.sqrt(np.mean((pred - yt[okt]) ** 2)))
            rmse_p = float(np.sqrt(np.mean((last - yt[okt]) ** 2)))
            holdout[target][str(h)] = {
                "rmse": rmse,
                "rmse_persistence": rmse_p,
                "improvement": 1.0 - rmse / rmse_p if rmse_p > 0 else 0.0,
            }
    meta = ModelMetadata(
        model=model,
        targets=tuple(panels),
        steps=tuple(horizons_min),
        step_s=step_s,
        feature_names=names,
        training_data_sha256=data_hash(*hashes),
        seed=seed,
    )
    return TrainedPredictor(
        estimators, profiles, first.sensor_ids, first.adjacency, cal, step_s, meta, holdout, order
    )
