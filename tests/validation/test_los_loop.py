"""The T-GCN protocol on the real Los-loop data (fast versions; the full run is a benchmark:
``trafficsim evaluate --dataset los-loop``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from trafficsim.models.datasets import DatasetError, load_los_loop
from trafficsim.models.evaluate import evaluate, evaluation_origins, split

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "los_loop"
pytestmark = pytest.mark.skipif(
    not (DATA / "los_speed.csv").exists(), reason=f"Los-loop data not found at {DATA}"
)


@pytest.fixture(scope="module")
def panel():
    return load_los_loop(DATA)


def test_split_and_windows_follow_the_tgcn_code(panel) -> None:
    s = split(panel)
    assert (s.n_train, s.n_test) == (1612, 404)
    assert panel.values.shape == (2016, 207)
    te = evaluation_origins(panel, 3)
    assert len(te) == 404 - 12 - 3 and te[0] == 1612 + 12


def test_persistence_reproduces_the_published_reference(panel) -> None:
    """The data set's README: persistence scores RMSE 5.54 / MAE 3.16 mph at 15 min. If the
    protocol (split, windows, pooling) were off, this would not match."""
    r = evaluate(panel, ["persistence"], horizons=(3,))
    s = r["horizons"]["3"]["persistence"]
    assert s["rmse"] == pytest.approx(5.54, abs=0.01)
    assert s["mae"] == pytest.approx(3.16, abs=0.01)


def test_gbm_beats_persistence_on_a_subset(panel) -> None:
    small = panel.subset(40)
    r = evaluate(small, ["persistence", "linear", "gbm"], horizons=(3, 12), max_iter=60)
    for h in ("3", "12"):
        row = r["horizons"][h]
        assert row["gbm"]["rmse"] < 0.95 * row["persistence"]["rmse"], h
        for m in row.values():
            assert 0 < m["accuracy"] < 1 and m["rmse"] >= m["mae"] > 0
    assert r["horizons"]["12"]["gbm"]["rmse"] > r["horizons"]["3"]["gbm"]["rmse"]


def test_cli_json_and_table(trafficsim_exe) -> None:
    args = [
        trafficsim_exe,
        "evaluate",
        "--dataset",
        "los-loop",
        "--data",
        str(DATA),
        "--sensors",
        "20",
        "--models",
        "persistence,gbm",
        "--max-iter",
        "20",
    ]
    p = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=300, check=False)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["published_data"] is True
    assert r["comparable_with_published"] is False  # 20 of the 207 sensors
    assert set(r["horizons"]) == {"3", "6", "9", "12"}
    assert set(r["horizons"]["3"]["gbm"]) >= {"rmse", "mae", "accuracy", "r2", "rmse_at_h"}
    t = subprocess.run(
        [*args[:-2], "--models", "persistence"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert t.returncode == 0, t.stderr
    assert "T-GCN (Zhao et al. 2019), published" in t.stdout and "5.1264" in t.stdout


def test_only_the_whole_published_panel_on_its_calendar_is_comparable() -> None:
    from trafficsim.models.datasets import load_csv_panel

    panel = load_los_loop(DATA)
    assert panel.published and panel.comparable_with_published
    assert not panel.subset(20).comparable_with_published
    assert panel.subset(panel.values.shape[1]).comparable_with_published
    shifted = load_csv_panel(DATA, start_weekday=0, unit="mph")  # the same files, a Monday
    assert shifted.published and not shifted.comparable_with_published


def test_wrong_data_directory_is_a_clear_error(trafficsim_exe, tmp_path) -> None:
    with pytest.raises(DatasetError, match=r"los_speed\.csv: not found"):
        load_los_loop(tmp_path)
    (tmp_path / "los_speed.csv").write_text("1,2\n3,4\n")
    (tmp_path / "los_adj.csv").write_text("1,0\n0,1\n")
    assert load_los_loop(tmp_path).published is False  # other data: loaded, labelled
    p = subprocess.run(
        [trafficsim_exe, "evaluate", "--data", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert p.returncode == 2 and "--data" in p.stderr and "Traceback" not in p.stderr
    assert np.isfinite(load_los_loop(DATA).values).all()
    assert load_los_loop(DATA).published is True
