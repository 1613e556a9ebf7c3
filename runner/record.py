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
import re
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
from trafficsim.sensors.mqtt.messages import (
    Clock,
    DeviceMeta,
    Observation,
    PayloadError,
    Plausibility,
    ScenarioMeta,
)
from trafficsim.sensors.mqtt.messages.reading import MAX_DEVICES, named_by_topic
from trafficsim.sensors.mqtt.payloads import decode
from trafficsim.sensors.mqtt.subscriber import Subscriber
from trafficsim.sensors.mqtt.topics import DEFAULT_ROOT, ParsedTopic, TopicKind, Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig

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


MAX_HELD = 100_000
"""Readings held before the first clock tick; past it they are judged without a clock."""


class Recorder:
    def __init__(self, out: Path, roll_s: float = 5.0, root: str = DEFAULT_ROOT) -> None:
        self.out = out
        self.roll_s = roll_s
        self.topics = Topics(root)
        self.rows: list[dict[str, Any]] = []
        self.stats = RecordStats()
        self.plausible = Plausibility()
        self._held: list[tuple[str, Observation, bytes, float]] = []
        self.meta: dict[str, Any] = {}
        self._meta_dirty = False
        out.mkdir(parents=True, exist_ok=True)
        # Numbering goes on after the files already there; a stray file that does not
        # follow the pattern (readings-copy.parquet) is not one of ours.
        numbers = [
            int(m.group(1))
            for f in out.glob("readings-*.parquet")
            if (m := re.fullmatch(r"readings-(\d+)\.parquet", f.name))
        ]
        self._next = max(numbers) + 1 if numbers else 0

    def add(self, topic: str, payload: bytes, received_s: float) -> None:
        """One received message. A reading is parsed at the edge, named by its topic, and
        believed only when its time and sequence are plausible; anything else is kept in
        ``rejected.jsonl`` with the reason."""
        parsed = self.topics.parse(topic)
        kind = parsed.kind if parsed else None
        try:
            if kind is TopicKind.CLOCK:
                self.plausible.tick(Clock.from_payload(decode(topic, payload), topic).sim_time_s)
                self._judge_held()
                return
            if parsed is None or kind not in (TopicKind.READING, TopicKind.PROBE):
                if kind in (TopicKind.SCENARIO_META, TopicKind.DEVICE_META) and parsed:
                    self._meta(parsed, decode(topic, payload))
                return
            obs = Observation.on_topic(parsed, decode(topic, payload), topic)
        except PayloadError as exc:
            self._reject(topic, exc.reason, payload.decode("utf-8", "replace"))
            return
        if self.plausible.clock_s is None and len(self._held) < MAX_HELD:
            # No clock yet to say which times are believable: hold (the simulator's first
            # tick follows its first readings).
            self._held.append((topic, obs, payload, received_s))
            return
        self._keep(topic, obs, payload, received_s)

    def _judge_held(self) -> None:
        held, self._held = self._held, []
        for item in held:
            self._keep(*item)

    def _keep(self, topic: str, obs: Observation, payload: bytes, received_s: float) -> None:
        try:
            self.plausible.check(obs, topic)
        except PayloadError as exc:
            self._reject(topic, exc.reason, payload.decode("utf-8", "replace"))
            return
        self.stats.see(obs.device_id, obs.seq)
        self.rows.append(
            {
                "received_at": datetime.fromtimestamp(received_s, UTC),
                "topic": topic,
                "device_id": obs.device_id,
                "device_type": obs.device_type.value,
                "intersection": obs.intersection,
                "approach": obs.approach,
                "lane_group": obs.lane_group,
                "seq": obs.seq,
                "sim_time_s": obs.sim_time_s,
                "date_observed_from": obs.date_from,
                "date_observed_to": obs.date_to,
                "period_s": obs.period_s,
                "intensity": obs.intensity,
                "occupancy": obs.occupancy,
                "average_speed_kmh": obs.speed_kmh,
                "queue_veh": obs.queue_veh,
                "queue_m": obs.queue_m,
                "travel_time_s": obs.travel_time_s,
                "congested": obs.congested,
                "payload": payload.decode("utf-8"),
            }
        )

    def _reject(self, topic: str, reason: str, payload: str) -> None:
        """Keep an unusable message, verbatim, with the reason: nothing is dropped silently."""
        self.stats.rejected += 1
        with (self.out / "rejected.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({"topic": topic, "reason": reason, "payload": payload}) + "\n")

    def _meta(self, parsed: ParsedTopic, p: dict[str, Any]) -> None:
        """Keep the (retained) device and scenario metadata beside the readings, so a
        recording can be used without the broker: ``meta.json``. A device's metadata is
        filed under its topic's name, and must not name another device."""
        if parsed.kind is TopicKind.SCENARIO_META:
            ScenarioMeta.from_payload(p)  # checked, kept as it came
            self.meta["scenario"] = p
        else:
            named_by_topic(DeviceMeta.from_payload(p).device_id, parsed.name, "deviceId", "")
            devices = self.meta.setdefault("devices", {})
            if parsed.name not in devices and len(devices) >= MAX_DEVICES:
                raise PayloadError("", f"more than {MAX_DEVICES:,} devices; not kept")
            devices[parsed.name] = p
        self._meta_dirty = True

    def flush(self, *, final: bool = False) -> Path | None:
        """Write the buffered rows as one complete file (atomic rename) and the stats. The
        last flush also keeps readings still held for want of a clock (judged without one:
        a feed without clock ticks, or a filter without the clock topic)."""
        if final:
            self._judge_held()
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
        rec.flush(final=True)
        for s, handler in old.items():
            signal.signal(s, handler)
    return rec.stats
