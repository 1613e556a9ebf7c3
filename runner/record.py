"""``trafficsim record``: subscribe to the feed and keep every reading in Parquet files.

Files roll every ``roll_s`` seconds: each is written under a temporary name and renamed when
complete, so a recorder killed at any moment leaves only whole files and loses at most the
last ``roll_s`` seconds of readings. Sequence gaps are counted per device (a gap is a
reading that never arrived), and any message that cannot be parsed is kept verbatim in
``rejected.jsonl`` with the reason: nothing is dropped silently.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from trafficsim.sensors.mqtt.clients import RECORDER
from trafficsim.sensors.mqtt.payloads import PayloadError, decode
from trafficsim.sensors.mqtt.topics import DEFAULT_ROOT, TopicKind, Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig, Subscriber

SCHEMA = pa.schema(
    [
        ("received_at", pa.timestamp("ms", tz="UTC")),
        ("topic", pa.string()),
        ("device_id", pa.string()),
        ("device_type", pa.string()),
        ("intersection", pa.string()),
        ("approach", pa.string()),
        ("lane_group", pa.string()),
        ("seq", pa.int64()),
        ("sim_time_s", pa.float64()),
        ("date_observed_from", pa.string()),
        ("date_observed_to", pa.string()),
        ("period_s", pa.float64()),
        ("intensity", pa.int64()),
        ("occupancy", pa.float64()),
        ("average_speed_kmh", pa.float64()),
        ("queue_veh", pa.int64()),
        ("queue_m", pa.float64()),
        ("travel_time_s", pa.float64()),
        ("congested", pa.bool_()),
        ("payload", pa.string()),
    ]
)

_FIELDS = {
    "device_id": "deviceId",
    "device_type": "deviceType",
    "intersection": "intersection",
    "approach": "approach",
    "lane_group": "laneGroup",
    "seq": "seq",
    "sim_time_s": "simTimeSeconds",
    "date_observed_from": "dateObservedFrom",
    "date_observed_to": "dateObservedTo",
    "period_s": "periodSeconds",
    "intensity": "intensity",
    "occupancy": "occupancy",
    "average_speed_kmh": "averageVehicleSpeed",
    "queue_veh": "queueLengthVehicles",
    "queue_m": "queueLengthMeters",
    "travel_time_s": "travelTimeSeconds",
    "congested": "congested",
}


@dataclass
class RecordStats:
    received: Counter[str] = field(default_factory=Counter)
    gaps: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    last_seq: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    files: int = 0

    def see(self, device: str, seq: int) -> None:
        self.received[device] += 1
        last = self.last_seq.get(device)
        if last is not None:
            if seq > last + 1:
                self.gaps[device] += seq - last - 1
            elif seq <= last:
                self.duplicates[device] += 1
        elif seq > 1:
            self.gaps[device] += seq - 1
        self.last_seq[device] = max(seq, last or 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "devices": len(self.received),
            "readings": sum(self.received.values()),
            "lost_by_seq": sum(self.gaps.values()),
            "duplicates": sum(self.duplicates.values()),
            "rejected": self.rejected,
            "files": self.files,
            "by_device": {
                d: {"received": n, "lost": self.gaps.get(d, 0), "last_seq": self.last_seq[d]}
                for d, n in sorted(self.received.items())
            },
        }


class Recorder:
    def __init__(self, out: Path, roll_s: float = 5.0, root: str = DEFAULT_ROOT) -> None:
        self.out = out
        self.roll_s = roll_s
        self.topics = Topics(root)
        self.rows: list[dict[str, Any]] = []
        self.stats = RecordStats()
        self.meta: dict[str, Any] = {}
        self._meta_dirty = False
        out.mkdir(parents=True, exist_ok=True)
        existing = sorted(out.glob("readings-*.parquet"))
        self._next = (int(existing[-1].stem.split("-")[1]) + 1) if existing else 0

    def add(self, topic: str, payload: bytes, received_s: float) -> None:
        parsed = self.topics.parse(topic)
        kind = parsed.kind if parsed else None
        if kind in (TopicKind.SCENARIO_META, TopicKind.DEVICE_META):
            self._meta(topic, payload)
            return
        if kind not in (TopicKind.READING, TopicKind.PROBE):
            return
        try:
            p = decode(topic, payload)
            row: dict[str, Any] = {k: p.get(v) for k, v in _FIELDS.items()}
            if not isinstance(row["device_id"], str) or not isinstance(row["seq"], int):
                raise PayloadError(topic, "no deviceId or integer seq")
        except PayloadError as exc:
            self._reject(topic, exc.reason, payload.decode("utf-8", "replace"))
            return
        row["received_at"] = datetime.fromtimestamp(received_s, UTC)
        row["topic"] = topic
        row["payload"] = payload.decode("utf-8")
        self.stats.see(row["device_id"], row["seq"])
        self.rows.append(row)

    def _reject(self, topic: str, reason: str, payload: str) -> None:
        """Keep an unusable message, verbatim, with the reason: nothing is dropped silently."""
        self.stats.rejected += 1
        with (self.out / "rejected.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({"topic": topic, "reason": reason, "payload": payload}) + "\n")

    def _meta(self, topic: str, payload: bytes) -> None:
        """Keep the (retained) device and scenario metadata beside the readings, so a
        recording can be used without the broker: ``meta.json``."""
        try:
            p = decode(topic, payload)
        except PayloadError as exc:
            self._reject(topic, exc.reason, payload.decode("utf-8", "replace"))
            return
        if topic == self.topics.scenario_meta():
            self.meta["scenario"] = p
        elif isinstance(p.get("deviceId"), str):
            self.meta.setdefault("devices", {})[p["deviceId"]] = p
        self._meta_dirty = True

    def flush(self) -> Path | None:
        """Write the buffered rows as one complete file (atomic rename) and the stats."""
        path = None
        if self.rows:
            try:
                table = pa.Table.from_pylist(self.rows, schema=SCHEMA)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                # One odd row must not sink the rest: convert row by row, keep the bad ones.
                good = []
                for r in self.rows:
                    try:
                        pa.Table.from_pylist([r], schema=SCHEMA)
                        good.append(r)
                    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                        self._reject(r["topic"], str(exc), r["payload"])
                table = pa.Table.from_pylist(good, schema=SCHEMA)
            path = self.out / f"readings-{self._next:06d}.parquet"
            tmp = path.with_suffix(".parquet.tmp")
            pq.write_table(table, tmp)
            os.replace(tmp, path)
            self._next += 1
            self.stats.files += 1
            self.rows = []
        if self._meta_dirty:
            tmp_meta = self.out / "meta.json.tmp"
            tmp_meta.write_text(json.dumps(self.meta, indent=1) + "\n", encoding="utf-8")
            os.replace(tmp_meta, self.out / "meta.json")
            self._meta_dirty = False
        stats = self.out / "record_stats.json"
        tmp_stats = stats.with_suffix(".json.tmp")
        tmp_stats.write_text(json.dumps(self.stats.as_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp_stats, stats)
        return path


def record(
    cfg: BrokerConfig,
    topic_filter: str,
    out: Path,
    roll_s: float,
    duration_s: float | None,
    root: str = DEFAULT_ROOT,
    client_id: str = RECORDER,
    on_ready: Callable[[], None] = lambda: None,
) -> RecordStats:
    """Record until SIGINT/SIGTERM (or ``duration_s``); returns the statistics.

    The recorder subscribes with a persistent session under a stable ``client_id`` (its
    username on a secured broker): while the broker restarts, the broker keeps its
    subscription and queues its readings, so a restart loses none of them. ``on_ready``
    is called once it is subscribed."""
    rec = Recorder(out, roll_s, root)
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    # A bounded hand-over queue: if writing falls behind, paho stops reading and the broker
    # holds the backlog (it is sized for that), instead of this process growing without limit.
    sub = Subscriber(cfg, client_id, topic_filter, max_queue=100_000, persistent=True).start()
    on_ready()
    deadline = None if duration_s is None else time.monotonic() + duration_s
    next_roll = time.monotonic() + roll_s
    try:
        while not stop and (deadline is None or time.monotonic() < deadline):
            try:
                m = sub.messages.get(timeout=0.2)
                rec.add(m.topic, m.payload, time.time())
            except queue.Empty:
                pass
            if time.monotonic() >= next_roll:
                rec.flush()
                next_roll = time.monotonic() + roll_s
        # Whatever already arrived is kept too.
        while True:
            try:
                m = sub.messages.get_nowait()
            except queue.Empty:
                break
            rec.add(m.topic, m.payload, time.time())
    finally:
        sub.stop()
        rec.flush()
        for s, handler in old.items():
            signal.signal(s, handler)
    return rec.stats
