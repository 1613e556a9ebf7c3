"""Choose the typical profile without the test part: leave-one-day-out vs in-sample.

Usage: python benchmarks/los_loop_profile_check.py [--data ../shared/data/los_loop]

Splits Los-loop's *training* part (first 1,612 steps) again: the first 1,324 steps train and
the last training day (288 steps) validates; prints the 15-minute RMSE of the default model
with the leave-one-day-out profile (what the project uses) and with an in-sample profile.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import trafficsim.models.evaluate as ev
from trafficsim.models.datasets import DEFAULT_LOS_LOOP_DIR, Panel, load_los_loop
from trafficsim.models.features import Calendar


def in_sample_profile(values: np.ndarray, n_train: int, cal: Calendar) -> np.ndarray:
    T, N = values.shape
    rows = np.arange(T)
    tod, wk = cal.time_of_day(rows), cal.weekend(rows).astype(int)
    s = np.zeros((2, cal.steps_per_day, N))
    c = np.zeros((2, cal.steps_per_day))
    np.add.at(s, (wk[:n_train], tod[:n_train]), values[:n_train])
    np.add.at(c, (wk[:n_train], tod[:n_train]), 1)
    seen = c[wk, tod][:, None] > 0
    out: np.ndarray = np.where(
        seen, s[wk, tod] / np.maximum(c[wk, tod], 1)[:, None], values[:n_train].mean(axis=0)
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_LOS_LOOP_DIR)
    args = parser.parse_args()
    p = load_los_loop(args.data)
    n_train = int(ev.TRAIN_SHARE * len(p.values))
    inner = Panel(
        p.name, p.values[:n_train], p.adjacency, p.sensor_ids, p.step_s, p.start_weekday, p.unit
    )
    ev.TRAIN_SHARE = (n_train - 288) / n_train  # the last training day validates
    lodo = ev.evaluate(inner, ["gbm"], horizons=(3,))["horizons"]["3"]["gbm"]["rmse"]
    ev.typical_profile = in_sample_profile  # type: ignore[assignment]
    ins = ev.evaluate(inner, ["gbm"], horizons=(3,))["horizons"]["3"]["gbm"]["rmse"]
    print(
        json.dumps(
            {
                "validation": "last training day",
                "rmse_15min_leave_one_day_out": round(lodo, 3),
                "rmse_15min_in_sample": round(ins, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
