"""``trafficsim evaluate --dataset csv``: the T-GCN protocol on a panel of one's own, run as
the installed command on real files; bad files end in one line and exit status 2."""

from __future__ import annotations

import json
import subprocess

import pytest
from speed_panels import write_panel

pytestmark = pytest.mark.integration

LOS_LOOP_KEYS = {"dataset", "unit", "sensors", "train_rows", "test_rows", "horizons"}
"""The keys of ``evaluate --dataset los-loop --json`` before the published-data label."""
SCORE_KEYS = {"rmse", "mae", "accuracy", "r2", "var", "rmse_at_h", "mae_at_h"}


def _evaluate(exe: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [exe, "evaluate", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_a_csv_panel_gives_the_los_loop_json_and_its_label(trafficsim_exe, tmp_path) -> None:
    data = write_panel(tmp_path / "panel", rows=3 * 288, sensors=4)
    p = _evaluate(trafficsim_exe, "--dataset", "csv", "--data", str(data),
                  "--models", "persistence,linear", "--start", "2024-05-06T06:00",
                  "--unit", "km/h", "--json")  # fmt: skip
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert set(r) == LOS_LOOP_KEYS | {"published_data", "comparable_with_published"}
    assert r["published_data"] is False and r["comparable_with_published"] is False
    assert (r["dataset"], r["unit"], r["sensors"]) == ("csv", "km/h", 4)
    assert (r["train_rows"], r["test_rows"]) == (691, 173)  # int(0.8 * 864) and the rest
    assert set(r["horizons"]) == {"3", "6", "9", "12"}
    for row in r["horizons"].values():
        assert set(row) == {"persistence", "linear"}
        for scores in row.values():
            assert set(scores) == SCORE_KEYS and scores["rmse"] >= scores["mae"] > 0
    assert r["horizons"]["12"]["linear"]["rmse"] < r["horizons"]["12"]["persistence"]["rmse"]


def test_the_table_says_the_data_are_not_the_published_files(trafficsim_exe, tmp_path) -> None:
    data = write_panel(tmp_path / "panel", rows=200, sensors=2)
    p = _evaluate(trafficsim_exe, "--dataset", "csv", "--data", str(data), "--models",
                  "persistence")  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "not the published Los-loop files" in p.stdout
    assert "T-GCN" not in p.stdout  # no published figure beside other data
    assert "RMSE / MAE in mph" in p.stdout


def _bad(tmp_path, name: str, text: str):
    data = write_panel(tmp_path / "panel", rows=200, sensors=3)
    (data / name).write_text(text, encoding="utf-8")
    return data


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda d: d / "nope", [], "nope: no such directory"),
        (
            lambda d: _bad(d, "speeds.csv", "a,b,c\n1,2,x\n"),
            [],
            "line 2, column 3: 'x' is not a number",
        ),
        (
            lambda d: _bad(d, "adjacency.csv", "1,0\n0,1\n"),
            [],
            "but speeds.csv has 3 sensors; expected 3 x 3",
        ),
        (lambda d: _bad(d, "adjacency.csv", "1,0,0\n"), [], "1 x 3 values; expected a square"),
        (
            lambda d: write_panel(d / "short", rows=100, sensors=2),
            [],
            "100 rows; the protocol needs at least 121",
        ),
        (
            lambda d: write_panel(d / "p"),
            ["--start", "2024-05-06T06:02"],
            "--start: expected a date and time on a 5-minute",
        ),
        (lambda d: write_panel(d / "p"), ["--sensors", "9"], "--sensors: expected 1..4"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(trafficsim_exe, tmp_path, make, extra, message) -> None:
    p = _evaluate(trafficsim_exe, "--dataset", "csv", "--data", str(make(tmp_path)), *extra)
    assert p.returncode == 2, p.stdout + p.stderr
    assert message in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_csv_needs_a_directory_and_los_loop_takes_no_calendar(trafficsim_exe, tmp_path) -> None:
    p = _evaluate(trafficsim_exe, "--dataset", "csv")
    assert p.returncode == 2 and "--data: --dataset csv needs --data DIR" in p.stderr
    p = _evaluate(trafficsim_exe, "--data", str(write_panel(tmp_path)), "--unit", "km/h")
    assert p.returncode == 2 and "--unit: goes with --dataset csv" in p.stderr
