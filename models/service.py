"""The live predictor: readings in, forecasts out, over MQTT.

It subscribes to the loops' readings and to the simulator's clock. Readings are parsed and
kept in a short window per device; when the clock says a period has ended, it builds the
features of every device in one batch, predicts every target and horizon, and publishes one
forecast message per device on ``{root}/forecast/{intersection}/{device}`` with the model
version. A reading it cannot use (broken JSON, an unknown device, a missing field) is logged
with its topic and counted, never fatal.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from models.features import WINDOW, PanelFeatures, feature_names, with_horizon
from models.persistence import ModelBundle, ModelError, load_models
from sensors.mqtt.payloads import PayloadError, decode, encode
from sensors.mqtt.topics import Topics
from sensors.mqtt.transport import BrokerConfig, ClientPool, DeviceClient, Subscriber

log = logging.getLogger("trafficsim.predictor")

CONGESTED_SPEED_KMH = 10.0
"""A forecast is flagged congested below 10 km/h: the speed threshold of the HCMC DOT's
congestion proposal (HCMC_FACTS row 7c)."""

FIELDS = {"speed": "averageVehicleSpeed", "occupancy": "occupancy", "flow": "intensity"}


@dataclass
class ServiceStats:
    readings: int = 0
    rounds: int = 0
    forecasts: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    last_round_ms: float = 0.0


class Predictor:
    """Per-device windows and batch prediction; no MQTT (tested on its own)."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.bundle = bundle
        ex = bundle.extras
        self.devices: tuple[str, ...] = tuple(ex["devices"])
        self.index = {d: k for k, d in enumerate(self.devices)}
        self.calendar = ex["calendar"]
        self.profiles = ex["profiles"]
        self.step_s = bundle.metadata.step_s
        self.targets = bundle.metadata.targets
        self.horizons = bundle.metadata.steps  # minutes
        self.features = PanelFeatures(ex["adjacency"], self.calendar)
        self.series: tuple[str, ...] = tuple(ex.get("series", ()))
        self.slots = tuple(dict.fromkeys([*self.targets, *self.series]))
        if bundle.metadata.feature_names != feature_names(self.series):
            raise ModelError("the model's features do not match this version's; retrain")
        self.place: dict[str, str] = {}
        # Readings by period (row = end time / period - 1), for the last window only.
        self.rows: dict[int, dict[str, np.ndarray]] = {}
        self.latest_t: float | None = None

    def add(self, payload: dict[str, Any]) -> None:
        """One loop or camera reading (keyValues dict); ValueError for an unusable one.

        A camera ``cam-X`` watches the lane group of loop ``loop-X`` (the deployment names
        them so); its queue becomes that loop's ``queue`` series."""
        device = payload.get("deviceId")
        camera = payload.get("deviceType") == "camera"
        if camera and isinstance(device, str) and device.startswith("cam-"):
            device = "loop-" + device[4:]
        if device not in self.index:
            raise ValueError(f"unknown device {payload.get('deviceId')!r}")
        t = payload.get("simTimeSeconds")
        if isinstance(t, bool) or not isinstance(t, int | float):
            raise ValueError("no simTimeSeconds")
        row = round(float(t) / self.step_s) - 1
        n = len(self.devices)
        slot = self.rows.setdefault(row, {s: np.full(n, np.nan) for s in self.slots})
        k = self.index[device]
        period = float(payload.get("periodSeconds") or self.step_s)
        fields = {"queue": "queueLengthVehicles"} if camera else FIELDS
        for name, key in fields.items():
            v = payload.get(key)
            if name in slot and isinstance(v, int | float) and not isinstance(v, bool):
                slot[name][k] = v * 3600.0 / period if name == "flow" else v
        if isinstance(payload.get("intersection"), str):
            self.place[device] = payload["intersection"]
        self.latest_t = max(self.latest_t or 0.0, float(t))
        for old in [r for r in self.rows if r < row - 2 * WINDOW]:
            del self.rows[old]

    def predict(self, t_s: float) -> dict[str, dict[int, np.ndarray]]:
        """Forecasts of every target and horizon for every device, from the window of
        periods ending at ``t_s`` (a period nothing arrived for is missing, not zero)."""
        row = round(t_s / self.step_s) - 1
        max_k = max(max(1, round(h * 60.0 / self.step_s)) for h in self.horizons)
        rows = np.arange(row - WINDOW + 1, row + 1 + max_k)
        n = len(self.devices)
        window = {}
        for name in self.slots:
            w = np.full((len(rows), n), np.nan)
            for i, r in enumerate(rows[:WINDOW]):
                if r in self.rows:
                    w[i] = self.rows[r][name]
            window[name] = w
        extras = {name: window[name] for name in self.series}
        out: dict[str, dict[int, np.ndarray]] = {}
        for target in self.targets:
            prof = self.profiles[target].expected(rows, self.calendar)
            origin = np.array([WINDOW])
            base = self.features.build(window[target], prof, origin, 1, extras)
            out[target] = {}
            # One thread: a thousand rows are too few to pay for OpenMP's start-up per tree.
            with threadpool_limits(1):
                for h in self.horizons:
                    k = max(1, round(h * 60.0 / self.step_s))
                    X = with_horizon(base, prof, origin, k)
                    out[target][h] = self.bundle.models[(target, h)].predict(X)
        return out


def forecast_payloads(
    pred: Predictor, t_s: float, result: dict[str, dict[int, np.ndarray]], version: str
) -> list[tuple[str, dict[str, Any]]]:
    msgs = []
    for k, device in enumerate(pred.devices):
        items = []
        for h in pred.horizons:
            item: dict[str, Any] = {"horizonMinutes": h}
            if "speed" in result:
                speed = float(result["speed"][h][k])
                item["averageVehicleSpeed"] = round(max(speed, 0.0), 2)
                item["congested"] = speed < CONGESTED_SPEED_KMH
            if "occupancy" in result:
                item["occupancy"] = round(float(np.clip(result["occupancy"][h][k], 0, 1)), 4)
            if "flow" in result:
                item["flowVehPerHour"] = round(max(float(result["flow"][h][k]), 0.0), 1)
            items.append(item)
        msgs.append(
            (
                device,
                {
                    "deviceId": device,
                    "intersection": pred.place.get(device),
                    "simTimeSeconds": t_s,
                    "modelVersion": version,
                    "forecasts": items,
                },
            )
        )
    return msgs


def serve(
    cfg: BrokerConfig,
    model_dir: Path,
    *,
    topics: Topics | None = None,
    duration_s: float | None = None,
    client_id: str = "predictor",
    stop: threading.Event | None = None,
) -> ServiceStats:
    """Run the service until ``stop`` is set or ``duration_s`` passed."""
    topics = topics or Topics()
    bundle = load_models(model_dir)
    pred = Predictor(bundle)
    stats = ServiceStats()
    sub = Subscriber(cfg, f"{client_id}-in", f"{topics.root}/#", max_queue=100_000).start()
    out = DeviceClient(cfg, client_id, topics.status(client_id))
    pool = ClientPool([out])
    pool.connect_all(30.0)
    version = bundle.metadata.version
    deadline = None if duration_s is None else time.monotonic() + duration_s
    stop = stop or threading.Event()
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            pool.pump(0.0)
            try:
                m = sub.messages.get(timeout=0.1)
            except queue.Empty:
                continue
            parts = m.topic.split("/")
            try:
                if m.topic == topics.clock():
                    t_s = float(decode(m.topic, m.payload)["simTimeSeconds"])
                    if pred.latest_t is None:
                        continue  # nothing read yet
                    t0 = time.perf_counter()
                    result = pred.predict(t_s)
                    for device, payload in forecast_payloads(pred, t_s, result, version):
                        place = payload["intersection"] or "unknown"
                        pool.publish(out, topics.forecast(place, device), encode(payload), qos=1)
                        stats.forecasts += 1
                    stats.rounds += 1
                    stats.last_round_ms = (time.perf_counter() - t0) * 1000.0
                elif len(parts) >= 4 and parts[-3] == "sensors":
                    p = decode(m.topic, m.payload)
                    if p.get("deviceType") not in ("inductiveLoop", "camera"):
                        continue
                    pred.add(p)
                    stats.readings += 1
            except (PayloadError, ValueError, KeyError, TypeError) as exc:
                reason = str(exc)
                stats.rejected[reason.split(":")[0][:60]] += 1
                log.warning("ignored message on %s: %s", m.topic, reason)
    finally:
        sub.stop()
        pool.close(10.0)
    return stats
