"""``trafficsim train --scenario``: days of simulated traffic, recorded like a live feed,
and a model scored on the day it never saw."""

from __future__ import annotations

import json

import numpy as np
from tests_support import run_together

from trafficsim.models.feed_panel import panel_from_recording
from trafficsim.models.persistence import load_models
from trafficsim.runner.training_data import daily_shape, multi_day_scenario


def test_multi_day_scenario_has_days_weekends_surges_and_incidents() -> None:
    data, source = multi_day_scenario("isolated", {}, 7, seed=5)
    assert data["scenario"]["duration_s"] == 7 * 86400.0 and "7 training days" in source
    flows = np.array([f for _, f in data["demand"][0]["profile"]])
    per_day = flows.reshape(7, 96)
    assert per_day[:5].mean() > 1.25 * per_day[5:].mean()  # weekends at 70 % of weekdays
    assert daily_shape(np.array([7.5]))[0] > 3 * daily_shape(np.array([3.0]))[0]
    assert data["incidents"] and all(i["end_s"] > i["start_s"] for i in data["incidents"])
    again, _ = multi_day_scenario("isolated", {}, 7, seed=5)
    assert again == data  # the seed decides everything


def test_train_on_simulated_days(trafficsim_exe, tmp_path) -> None:
    out = tmp_path / "model"
    # Two days are too few: refused while the three days are simulated and trained on.
    p, short = run_together(
        [trafficsim_exe, "train", "--scenario", "isolated", "--days", "3", "--out", str(out),
         "--horizons", "5,15", "--max-iter", "40"],
        [trafficsim_exe, "train", "--scenario", "isolated", "--days", "2",
         "--out", str(tmp_path / "m2")],
        timeout_s=600,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "the last simulated day" in " ".join(p.stdout.split())
    report = json.loads((out / "training.json").read_text())
    # The target is 20 % at 15 min on speed and occupancy (met in README's run, see
    # docs/predictor.md); here, on 3 short days, a lower bound that still says it learned.
    for target in ("speed", "occupancy"):
        assert report["holdout"][target]["15"]["improvement"] > 0.15, target
    # What a model directory holds: no pickle, and it loads as the service loads it.
    assert sorted(f.name for f in out.iterdir()) == [
        "arrays.npz",
        "estimators.skops",
        "metadata.json",
        "predictor.json",
        "recording",
        "training.json",
    ]
    bundle = load_models(out)
    assert bundle.metadata.version == report["model_version"] and len(bundle.models) == 6
    panel = panel_from_recording(out / "recording", "occupancy")
    assert panel.values.shape[0] == 3 * 1440 and panel.start_offset_steps == 1
    assert short.returncode == 2 and "at least 3 days" in short.stderr
