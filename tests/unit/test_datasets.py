"""Speed panels from CSV files (``evaluate --dataset csv``): what loads, how the published
Los-loop files are told apart, and one clear error per kind of bad file."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from speed_panels import panel_values, ring_adjacency, write_panel

from trafficsim.models.datasets import (
    LOS_LOOP_SHA256,
    DatasetError,
    load_csv_panel,
    load_los_loop,
)
from trafficsim.models.evaluate import check_length, evaluate, min_rows


def test_a_panel_loads_with_its_header_calendar_and_label(tmp_path) -> None:
    write_panel(tmp_path, rows=300, sensors=3)
    p = load_csv_panel(tmp_path, start_weekday=2, start_offset_steps=96, unit="km/h")
    assert p.values.shape == (300, 3) and p.adjacency.shape == (3, 3)
    np.testing.assert_allclose(p.values, panel_values(300, 3), atol=5e-5)  # 4 decimals
    np.testing.assert_array_equal(p.adjacency, ring_adjacency(3))
    assert p.sensor_ids == ("700000", "700001", "700002")
    assert (p.name, p.step_s, p.unit) == ("csv", 300.0, "km/h")
    assert (p.start_weekday, p.start_offset_steps) == (2, 96)
    assert p.source == str(tmp_path / "speeds.csv")
    assert p.published is False


def test_the_los_loop_names_are_accepted_too(tmp_path) -> None:
    write_panel(tmp_path, rows=200, sensors=2, names=("los_speed.csv", "los_adj.csv"))
    assert load_csv_panel(tmp_path).source == str(tmp_path / "los_speed.csv")
    los = load_los_loop(tmp_path)  # not the published files: loaded, and labelled so
    assert los.name == "los-loop" and los.published is False and los.start_weekday == 3


def test_speeds_csv_wins_over_the_los_loop_names(tmp_path) -> None:
    write_panel(tmp_path, rows=200, sensors=2)
    write_panel(tmp_path, rows=150, sensors=5, names=("los_speed.csv", "los_adj.csv"))
    assert load_csv_panel(tmp_path).values.shape == (200, 2)


def test_the_published_label_is_the_sha256_of_both_files(tmp_path, monkeypatch) -> None:
    write_panel(tmp_path, rows=200, sensors=2)
    digests = {
        published: hashlib.sha256((tmp_path / mine).read_bytes()).hexdigest()
        for published, mine in (("los_speed.csv", "speeds.csv"), ("los_adj.csv", "adjacency.csv"))
    }
    monkeypatch.setitem(LOS_LOOP_SHA256, "los_speed.csv", digests["los_speed.csv"])
    assert load_csv_panel(tmp_path).published is False  # the adjacency still differs
    monkeypatch.setitem(LOS_LOOP_SHA256, "los_adj.csv", digests["los_adj.csv"])
    panel = load_csv_panel(tmp_path)
    assert panel.published is True and panel.subset(1).published is True


def test_the_result_carries_the_label(tmp_path) -> None:
    write_panel(tmp_path, rows=min_rows(), sensors=2)
    r = evaluate(load_csv_panel(tmp_path), ["persistence"], horizons=(3, 12))
    assert r["published_data"] is False and r["dataset"] == "csv"
    assert set(r["horizons"]) == {"3", "12"}


def test_min_rows_is_what_the_protocol_needs(tmp_path) -> None:
    """Both parts hold a 12-step window and the 12-step horizon: 121 rows (96 + 25)."""
    assert min_rows() == 121
    write_panel(tmp_path, rows=120, sensors=2)
    with pytest.raises(
        DatasetError, match=r"speeds\.csv: 120 rows; the protocol needs at least 121"
    ):
        check_length(load_csv_panel(tmp_path))
    write_panel(tmp_path, rows=121, sensors=2)
    check_length(load_csv_panel(tmp_path))
    evaluate(load_csv_panel(tmp_path), ["persistence"])  # one window per horizon, enough


def _with(tmp_path, name: str, text: str):
    write_panel(tmp_path, rows=150, sensors=3)
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("speeds.csv", "", r"speeds\.csv: empty; expected a CSV file of numbers"),
        ("speeds.csv", "a,b,c\n", r"speeds\.csv: no rows of numbers below the header"),
        (
            "speeds.csv",
            "a,b,c\n1,2,3\n4,x,6\n",
            r"speeds\.csv: line 3, column 2: 'x' is not a number",
        ),
        ("speeds.csv", "a,b,c\n1,2,3\n4,,6\n", r"speeds\.csv: line 3, column 2: empty"),
        ("speeds.csv", "a,b,c\n1,2,3\n4,5\n", r"speeds\.csv: line 3 has 2 values, the first row 3"),
        (
            "speeds.csv",
            "a,b,c\n1,2\n4,5\n",
            r"speeds\.csv: the header names 3 sensors, the rows have 2",
        ),
        (
            "speeds.csv",
            "a,b,c\n1,2,3\n4,nan,6\n",
            r"speeds\.csv: line 3, column 2: nan is not a finite",
        ),
        (
            "adjacency.csv",
            "1,0\n0,1\n",
            r"adjacency\.csv: 2 x 2, but speeds\.csv has 3 sensors; expected 3 x 3",
        ),
        ("adjacency.csv", "1,0,0\n0,1,0\n", r"adjacency\.csv: 2 x 3 values; expected a square"),
        (
            "adjacency.csv",
            "a,b,c\n1,0,0\n0,1,0\n0,0,1\n",
            r"adjacency\.csv: line 1, column 1: 'a' is not a number",
        ),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path, name, text, message) -> None:
    with pytest.raises(DatasetError, match=message):
        load_csv_panel(_with(tmp_path, name, text))


def test_missing_files_name_what_to_give(tmp_path) -> None:
    with pytest.raises(DatasetError, match=r"nope: no such directory"):
        load_csv_panel(tmp_path / "nope")
    with pytest.raises(DatasetError, match=r"speeds\.csv: not found; the directory must hold"):
        load_csv_panel(tmp_path)
    write_panel(tmp_path)
    (tmp_path / "adjacency.csv").unlink()
    with pytest.raises(DatasetError, match=r"adjacency\.csv: not found"):
        load_csv_panel(tmp_path)
    with pytest.raises(DatasetError, match=r"los_speed\.csv: not found"):
        load_los_loop(tmp_path)


def test_a_file_that_is_not_text_is_refused(tmp_path) -> None:
    write_panel(tmp_path)
    (tmp_path / "speeds.csv").write_bytes(b"\xff\xfe\x00a,b")
    with pytest.raises(DatasetError, match=r"speeds\.csv: not UTF-8 text"):
        load_csv_panel(tmp_path)
