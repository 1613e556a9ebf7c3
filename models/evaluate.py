"""The T-GCN evaluation protocol on a speed panel (Los-loop), and its metrics.

Protocol (as the T-GCN code does it, see the data set's README): the first
``int(0.8 * T)`` rows train, the rest test; a 12-step input window; for a forecast length
``H`` in 3, 6, 9, 12 steps the windows of each part start at ``range(len(part) - 12 - H)``;
metrics pool every output step 1..H over every sensor (and are also given at step H alone),
in the data's unit: RMSE, MAE, accuracy ``1 - ||Y - Yhat||_F / ||Y||_F``, R² and explained
variance. Nothing is tuned on the test part: each model is fitted once per output step on
training windows (every window whose target lies in the training part) and scored once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trafficsim.models.datasets import DatasetError, Panel
from trafficsim.models.features import WINDOW, Calendar, PanelFeatures, typical_profile
from trafficsim.models.forecasters import make_forecaster

HORIZONS = (3, 6, 9, 12)
TRAIN_SHARE = 0.8
PUBLISHED = {
    "T-GCN (Zhao et al. 2019)": {
        3: {"rmse": 5.1264, "mae": 3.1802, "accuracy": 0.9127, "r2": 0.8634}
    }
}
"""T-GCN at 15 min on this split, re-scored from the authors' committed predictions (the
data set's README)."""


def metrics(y: np.ndarray, yhat: np.ndarray) -> dict[str, float]:
    err = yhat - y
    sse = float(np.sum(err**2))
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "accuracy": float(1.0 - np.linalg.norm(err) / np.linalg.norm(y)),
        "r2": float(1.0 - sse / np.sum((y - y.mean()) ** 2)),
        "var": float(1.0 - np.var(y - yhat) / np.var(y)),
    }


@dataclass(frozen=True, slots=True)
class Split:
    n_train: int
    n_test: int


def split(panel: Panel) -> Split:
    n_train = int(TRAIN_SHARE * panel.values.shape[0])
    return Split(n_train, panel.values.shape[0] - n_train)


def evaluation_origins(panel: Panel, horizon: int) -> np.ndarray:
    """Forecast origins (first row after the input window) of the test windows for H."""
    s = split(panel)
    return s.n_train + np.arange(s.n_test - WINDOW - horizon) + WINDOW


def min_rows(horizons: Sequence[int] = HORIZONS) -> int:
    """The fewest rows the protocol can score: both parts must hold an input window and the
    longest horizon after it (one window each, at the least)."""
    need = WINDOW + max(horizons) + 1
    rows = need
    while int(TRAIN_SHARE * rows) < need or rows - int(TRAIN_SHARE * rows) < need:
        rows += 1
    return rows


def check_length(panel: Panel, horizons: Sequence[int] = HORIZONS) -> None:
    """Refuse a panel too short for the protocol, naming its file."""
    need = min_rows(horizons)
    have = panel.values.shape[0]
    if have < need:
        minutes = panel.step_s / 60.0
        raise DatasetError(
            f"{panel.source or panel.name}: {have} rows; the protocol needs at least {need} "
            f"({minutes:g}-minute steps, {TRAIN_SHARE:.0%} to train and the rest to test, each "
            f"part a {WINDOW}-step input window and a {max(horizons)}-step horizon long at the "
            "least): give a longer period"
        )


def fitting_origins(panel: Panel, step: int) -> np.ndarray:
    """Training origins whose target ``step`` rows ahead is still a training row."""
    s = split(panel)
    return np.arange(s.n_train - WINDOW - step) + WINDOW


def evaluate(
    panel: Panel,
    model_names: Sequence[str],
    *,
    horizons: Sequence[int] = HORIZONS,
    seed: int = 0,
    max_iter: int = 300,
    on_step: Callable[[str, int], None] = lambda name, step: None,
) -> dict[str, Any]:
    """Scores of every model at every horizon: ``{"horizons": {"3": {"gbm": {...}}}}``,
    whether the data are the published Los-loop files (``published_data``) and whether
    the scores are comparable with the published figure (``comparable_with_published``: also
    every sensor, Los-loop's calendar and unit)."""
    check_length(panel, horizons)
    s = split(panel)
    steps_per_day = round(86400.0 / panel.step_s)
    cal = Calendar(steps_per_day, panel.start_weekday, panel.start_offset_steps)
    prof = typical_profile(panel.values, s.n_train, cal)
    feats = PanelFeatures(panel.adjacency, cal)
    names = feats.names
    values = panel.values
    max_h = max(horizons)
    # Predictions per step for each horizon's test origins (they differ with H).
    preds: dict[str, dict[int, dict[int, np.ndarray]]] = {m: {} for m in model_names}
    truth: dict[int, dict[int, np.ndarray]] = {}
    for step in range(1, max_h + 1):
        tr = fitting_origins(panel, step)
        X_tr = feats.build(values, prof, tr, step)
        y_tr = values[tr + step - 1].reshape(-1)
        fitted = {}
        for m in model_names:
            on_step(m, step)
            fitted[m] = make_forecaster(m, names, seed=seed, max_iter=max_iter).fit(X_tr, y_tr)
        for H in horizons:
            if step > H:
                continue
            te = evaluation_origins(panel, H)
            X_te = feats.build(values, prof, te, step)
            truth.setdefault(H, {})[step] = values[te + step - 1].reshape(-1)
            for m in model_names:
                preds[m].setdefault(H, {})[step] = fitted[m].predict(X_te)
    result: dict[str, Any] = {
        "dataset": panel.name,
        "published_data": panel.published,
        "comparable_with_published": panel.comparable_with_published,
        "unit": panel.unit,
        "sensors": values.shape[1],
        "train_rows": s.n_train,
        "test_rows": s.n_test,
        "horizons": {},
    }
    for H in horizons:
        y_all = np.concatenate([truth[H][k] for k in range(1, H + 1)])
        row: dict[str, Any] = {}
        for m in model_names:
            p_all = np.concatenate([preds[m][H][k] for k in range(1, H + 1)])
            pooled = metrics(y_all, p_all)
            at_h = metrics(truth[H][H], preds[m][H][H])
            row[m] = {**pooled, "rmse_at_h": at_h["rmse"], "mae_at_h": at_h["mae"]}
        result["horizons"][str(H)] = row
    return result
