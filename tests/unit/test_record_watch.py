"""The recorder and the watch table on real files and real payload bytes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pyarrow.parquet as pq

from trafficsim.runner.record import Recorder, RecordStats
from trafficsim.runner.watch import FeedView
from trafficsim.sensors.mqtt.payloads import encode, reading_payload
from trafficsim.sensors.readings import DeviceKind, Reading

START = datetime(2026, 3, 2, 7, tzinfo=timezone(timedelta(hours=7)))


def _payload(n: int, device: str = "loop-a", **kw: object) -> bytes:
    r = Reading(
        device,
        DeviceKind.LOOP,
        n,
        60.0 * (n - 1),
        60.0 * n,
        "C",
        "N_in",
        "N_in:NS",
        12,
        106.7,
        10.77,
        30.0,
        0.3,
        8.0,
        2.4,
    )
    p = reading_payload(r, scenario="t", start=START, period_s=60.0)
    p.update(kw)
    return encode(p)


def test_sequence_gaps_and_duplicates() -> None:
    s = RecordStats()
    for seq in (1, 2, 5, 5, 6, 9):
        s.see("d", seq)
    s.see("late", 4)  # a recorder that starts late counts 1..3 as lost
    assert s.gaps["d"] == 2 + 2 and s.duplicates["d"] == 1
    assert s.gaps["late"] == 3


def test_recorder_keeps_good_rows_and_the_broken_ones_aside(tmp_path) -> None:
    rec = Recorder(tmp_path, roll_s=1.0)
    rec.add("hcmc/clock", encode({"simTimeSeconds": 0.0, "dateObserved": "x"}), 1_789_999_999.0)
    rec.add("hcmc/sensors/C/loop-a", _payload(1), 1_790_000_000.0)
    rec.add("hcmc/sensors/C/loop-a", b"{not json", 1_790_000_001.0)
    rec.add("hcmc/sensors/C/loop-a", _payload(3), 1_790_000_002.0)
    rec.add("hcmc/sensors/C/loop-a", _payload(4, seq="four"), 1_790_000_003.0)
    rec.add("hcmc/status/loop-a", b"online", 1_790_000_004.0)  # not a reading: ignored
    path = rec.flush()
    assert path is not None and path.name == "readings-000000.parquet"
    table = pq.read_table(path)
    assert table.column("seq").to_pylist() == [1, 3]
    assert table.column("average_speed_kmh").to_pylist() == [28.8, 28.8]
    rejected = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rejected] == [
        "payload is not JSON (Expecting property name enclosed in double quotes at char 1)",
        "seq: expected an integer, got 'four'",
    ]
    assert rejected[0]["payload"] == "{not json"
    stats = json.loads((tmp_path / "record_stats.json").read_text())
    assert stats["readings"] == 2 and stats["lost_by_seq"] == 1 and stats["rejected"] == 2
    # A new recorder in the same directory continues the numbering: nothing is overwritten.
    again = Recorder(tmp_path)
    again.add("hcmc/sensors/C/loop-a", _payload(5), 1_790_000_005.0)
    assert again.flush() is None  # held: no clock yet says which times are believable
    assert again.flush(final=True).name == "readings-000001.parquet"  # judged without one


def test_watch_view_aggregates_per_intersection_and_counts_bad_messages() -> None:
    v = FeedView()
    v.update("hcmc/meta/devices/loop-b", encode({"deviceId": "loop-b", "intersection": "C"}))
    v.update("hcmc/sensors/C/loop-a", _payload(1))
    v.update("hcmc/sensors/C/loop-b", _payload(1, device="loop-b", intensity=18))
    v.update("hcmc/status/loop-a", b"online")
    v.update("hcmc/status/loop-b", b"offline")
    v.update("hcmc/sensors/C/loop-c", b"\xff")
    v.update("hcmc/clock", encode({"simTimeSeconds": 120.0, "dateObserved": "x"}))
    assert len(v.bad) == 1 and "hcmc/sensors/C/loop-c" in v.bad[0]
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(v.table())
    text = console.export_text()
    assert "1,800" in text  # (12 + 18) vehicles per 60 s = 1,800 veh/h
    assert "1/2" in text  # one of the two devices online
    assert "t = 120 s" in text and "1 unreadable" in text


def test_watch_view_shows_who_controls_each_cabinet_and_the_fallback_alarm() -> None:
    from rich.console import Console

    from trafficsim.sensors.mqtt.messages import CabinetMode
    from trafficsim.sensors.mqtt.messages.cabinet_status import CabinetStatus

    def status(node: str, mode: CabinetMode, t_s: float) -> bytes:
        return encode(CabinetStatus(node, t_s, mode, 100.0, 30.0).to_payload())

    v = FeedView()
    v.update("hcmc/signal/C/status", status("C", CabinetMode.CYCLE, 10.0))
    v.update("hcmc/signal/D/status", status("D", CabinetMode.FALLBACK, 130.0))
    v.update("hcmc/signal/E/status", status("C", CabinetMode.FALLBACK, 130.0))  # not E's
    v.update("hcmc/signal/F/status", b'{"mode": "<b>x</b>"}')
    console = Console(width=160, record=True)
    console.print(v.table())
    text = console.export_text()
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}
    assert "centre (cycle)" in rows["C"]
    assert "FALLBACK since 130 s" in rows["D"]
    assert "E" not in rows and "F" not in rows
    assert "1 cabinet(s) on fallback" in text and "2 unreadable" in text
    assert "names intersection 'C', not the topic's" in v.bad[0]
