"""Days of simulated traffic for training the predictor, recorded as the recorder does.

The base scenario's demand becomes a daily pattern repeated over ``days`` days from a Monday
midnight (local time): a morning and an evening peak on weekdays, a flatter weekend at 70 %,
random demand surges (a 15-minute piece at 1.5 times its flow, 2 % of pieces) and random
incidents (a link at half capacity for 15 to 45 minutes, one a day on average). None of these
shapes is sourced for HCMC: they are assumptions whose job is to give the predictor the
variety real days have, and they are parameters of :func:`multi_day_scenario`.

The devices' readings go through the same payload code and the same recorder as a live
feed (``readings-*.parquet`` and ``meta.json``), only without a broker in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from trafficsim.runner.record import Recorder
from trafficsim.sensors.field import Field
from trafficsim.sensors.meta import scenario_meta
from trafficsim.sensors.mqtt.messages import Clock, DeviceMeta
from trafficsim.sensors.mqtt.payloads import PayloadBuilder, encode
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.readings import DeviceKind, Reading
from trafficsim.sim import World
from trafficsim.sim.catalog import scenario_data
from trafficsim.sim.scenario_io import scenario_from_dict
from trafficsim.sim.streams import Stream, generator

PIECE_S = 900.0
WEEKEND_FACTOR = 0.7
SURGE_PROBABILITY = 0.02
SURGE_FACTOR = 1.5
INCIDENTS_PER_DAY = 1.0
INCIDENT_CAPACITY = 0.5


def daily_shape(hour: np.ndarray) -> np.ndarray:
    """Demand relative to the peak hour, by hour of day: night 0.3, peaks 07:30 and 17:30."""
    peaks = np.exp(-(((hour - 7.5) / 1.5) ** 2)) + np.exp(-(((hour - 17.5) / 1.5) ** 2))
    midday = 0.3 * np.exp(-(((hour - 12.5) / 2.5) ** 2))
    out: np.ndarray = np.clip(0.3 + 0.7 * peaks + midday, 0.0, 1.2)
    return out


def multi_day_scenario(
    base: str, overrides: dict[str, Any], days: int, seed: int
) -> tuple[dict[str, Any], str]:
    data, source = scenario_data(base, overrides)
    rng = generator(seed, Stream.TRAINING_DAYS)
    data["scenario"]["duration_s"] = days * 86400.0
    data["scenario"]["start_time"] = "2026-03-02T00:00:00+07:00"  # a Monday
    starts = np.arange(0.0, days * 86400.0, PIECE_S)
    hours = (starts % 86400.0) / 3600.0
    weekend = ((starts // 86400.0) % 7) >= 5
    for d in data["demand"]:
        peak = (
            float(d.pop("flow_veh_per_h"))
            if "flow_veh_per_h" in d
            else max(f for _, f in d.pop("profile"))
        )
        factor = daily_shape(hours) * np.where(weekend, WEEKEND_FACTOR, 1.0)
        factor = factor * np.where(rng.random(len(starts)) < SURGE_PROBABILITY, SURGE_FACTOR, 1.0)
        d["profile"] = [
            [float(s), round(float(peak * f), 3)] for s, f in zip(starts, factor, strict=True)
        ]
    nodes = {n["id"]: n["kind"] for n in data["nodes"]}
    candidates = [ln["id"] for ln in data["links"] if nodes[ln["to"]] != "boundary"]
    incidents = []
    for _ in range(int(rng.poisson(INCIDENTS_PER_DAY * days))):
        start = float(rng.uniform(0, days * 86400.0 - 3600.0))
        incidents.append(
            {
                "link": str(rng.choice(candidates)),
                "start_s": round(start, 1),
                "end_s": round(start + float(rng.uniform(900.0, 2700.0)), 1),
                "capacity_factor": INCIDENT_CAPACITY,
            }
        )
    data["incidents"] = incidents
    data["parameters"] = {**data.get("parameters", {}), "training_days": days}
    return data, f"{source}, {days} training days"


def record_simulated_days(
    base: str,
    overrides: dict[str, Any],
    days: int,
    seed: int,
    out: Path,
    *,
    on_progress: Callable[[float, float], None] = lambda t, end: None,
) -> Path:
    """Simulate the days and write their feed into ``out`` as ``trafficsim record`` would."""
    data, source = multi_day_scenario(base, overrides, days, seed)
    world = World(scenario_from_dict(data, source), seed)
    field = Field(world)
    sc = world.scenario
    topics = Topics()
    rec = Recorder(out, roll_s=3600.0)
    rec.add(topics.scenario_meta(), encode(scenario_meta(world).to_payload()), time.time())
    for did, info in field.info.items():
        rec.add(
            topics.device_meta(did),
            encode(DeviceMeta.of(info, sc.name).to_payload()),
            time.time(),
        )
    build = PayloadBuilder(sc.name, sc.start_time)
    end = sc.duration_s
    next_flush = 6 * 3600.0
    t = 0.0
    while t < end:
        t = min(field.next_due_s(), end)
        world.step_to(t)
        for ev in field.poll(t):
            if not isinstance(ev, Reading):
                continue
            topic = (
                topics.probe(ev.link)
                if ev.kind is DeviceKind.PROBE and ev.link
                else topics.reading(ev.intersection or "none", ev.device_id)
            )
            rec.add(
                topic, encode(build.reading(ev, field.info[ev.device_id].period_s)), time.time()
            )
        # The clock tick after the step's readings, as the live feed sends it: the recorder
        # judges reading times against it.
        rec.add(topics.clock(), encode(Clock.at(t, sc.start_time).to_payload()), time.time())
        if t >= next_flush:
            rec.flush()
            next_flush += 6 * 3600.0
            on_progress(t, end)
    rec.flush(final=True)
    on_progress(end, end)
    return out
