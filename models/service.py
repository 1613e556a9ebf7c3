"""The live predictor: readings in, forecasts out, as a message handler (the runner connects
it to a broker or to the memory bus; the centre builds no MQTT client itself).

It subscribes to the loops' readings and to the simulator's clock. Readings are parsed and
kept in a short window per device; when the clock says a period has ended, it builds the
features of every device in one batch, predicts every target and horizon, and publishes one
forecast message per device on ``{root}/forecast/{intersection}/{device}`` with the model
version. Each reading is parsed once, at the edge, into an :class:`Observation` named by its
topic; one it cannot use (broken, an unknown device, another device's name, a time ahead of
the clock, a sequence jump, older than the window) is counted by reason and skipped.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from trafficsim.models.features import WINDOW, PanelFeatures, feature_names, with_horizon
from trafficsim.models.persistence import ModelBundle, ModelError
from trafficsim.sensors.mqtt.messages import (
    Clock,
    DeviceType,
    Forecast,
    HorizonForecast,
    Observation,
    PayloadError,
    Plausibility,
    RoundDone,
)
from trafficsim.sensors.mqtt.topics import TopicKind, Topics

log = logging.getLogger("trafficsim.predictor")

CONGESTED_SPEED_KMH = 10.0
"""A forecast is flagged congested below 10 km/h: the speed threshold of the HCMC DOT's
congestion proposal (HCMC_FACTS row 7c)."""


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
        self._acc: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        self.latest_t: float | None = None
        self.oldest_row: int | None = None
        """Periods before this row are past every window (set by the clock)."""

    def series_of(self, obs: Observation) -> str:
        """The model's device whose series ``obs`` feeds (a camera feeds its loop's)."""
        if obs.device_type is DeviceType.CAMERA and obs.device_id.startswith("cam-"):
            return "loop-" + obs.device_id[4:]
        return obs.device_id

    def add(self, obs: Observation) -> None:
        """One loop or camera reading; ValueError for one it cannot use.

        A camera ``cam-X`` watches the lane group of loop ``loop-X`` (the deployment names
        them so); its queue becomes that loop's ``queue`` series."""
        device = self.series_of(obs)
        camera = obs.device_type is DeviceType.CAMERA
        if device not in self.index:
            raise ValueError(f"unknown device {obs.device_id[:40]!r}")
        # A reading belongs to the model period it ends in; readings shorter than the
        # period (a closed loop reports every control step) are pooled over it: counts add
        # up to a flow, the other series are averaged weighted by their periods.
        t = obs.sim_time_s
        row = math.ceil(t / self.step_s - 1e-9) - 1
        if self.oldest_row is not None and row < self.oldest_row:
            raise ValueError("older than the model's window")
        n = len(self.devices)
        slot = self.rows.setdefault(row, {s: np.full(n, np.nan) for s in self.slots})
        acc = self._acc.setdefault(row, {s: (np.zeros(n), np.zeros(n)) for s in self.slots})
        k = self.index[device]
        period = obs.period_s
        values: dict[str, float | None] = (
            {"queue": obs.queue_veh}
            if camera
            else {"speed": obs.speed_kmh, "occupancy": obs.occupancy, "flow": obs.intensity}
        )
        for name, v in values.items():
            if name in slot and v is not None:
                total, weight = acc[name]
                total[k] += v if name == "flow" else v * period
                weight[k] += period
                scale = 3600.0 if name == "flow" else 1.0
                slot[name][k] = total[k] * scale / weight[k]
        if obs.intersection is not None:
            self.place[device] = obs.intersection
        self.latest_t = max(self.latest_t or 0.0, t)

    def forget_before(self, t_s: float) -> None:
        """The clock says ``t_s``: drop the periods too old for any window from now on. (By
        the clock, not by the newest reading: one reading from the far future must not wipe
        every device's history.)"""
        self.oldest_row = math.floor(t_s / self.step_s + 1e-9) - 2 * WINDOW
        for old in [r for r in self.rows if r < self.oldest_row]:
            del self.rows[old]
            self._acc.pop(old, None)

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


def forecasts(
    pred: Predictor, t_s: float, result: dict[str, dict[int, np.ndarray]], version: str
) -> list[Forecast]:
    """One forecast message per device, from :meth:`Predictor.predict`'s result."""
    out = []
    for k, device in enumerate(pred.devices):
        items = []
        for h in pred.horizons:
            speed = float(result["speed"][h][k]) if "speed" in result else None
            items.append(
                HorizonForecast(
                    h,
                    None if speed is None else round(max(speed, 0.0), 2),
                    None if speed is None else speed < CONGESTED_SPEED_KMH,
                    round(float(np.clip(result["occupancy"][h][k], 0, 1)), 4)
                    if "occupancy" in result
                    else None,
                    round(max(float(result["flow"][h][k]), 0.0), 1) if "flow" in result else None,
                )
            )
        out.append(Forecast(device, pred.place.get(device), t_s, version, tuple(items)))
    return out


class PredictorService:
    """The predictor as a message handler (see :mod:`sensors.mqtt.bus`): readings in; on
    each clock tick that closes one of the model's periods, one forecast per device; on
    every tick a ``{root}/control/predictor/done`` marker, so a lock-step closed loop can
    wait for it. A reading it cannot use is counted and skipped."""

    name = "predictor"

    def __init__(self, bundle: ModelBundle, topics: Topics | None = None) -> None:
        self.pred = Predictor(bundle)
        self.topics = topics or Topics()
        self.version = bundle.metadata.version
        self.stats = ServiceStats()
        self._last_row: int | None = None
        self.plausible = Plausibility()
        self._early: list[Observation] | None = []
        """Readings that came before the first clock tick (a run publishes a step's
        readings, then its tick): held until the tick says which times are believable."""

    @property
    def filters(self) -> tuple[str, ...]:
        return (self.topics.clock(), self.topics.readings_filter())

    def on_message(self, topic: str, payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if topic == self.topics.clock():
            return self._tick(Clock.from_payload(payload, topic).sim_time_s)
        parsed = self.topics.parse(topic)
        if parsed is None or parsed.kind is not TopicKind.READING:
            return []
        try:
            obs = Observation.on_topic(parsed, payload, topic)
        except PayloadError as exc:
            self._reject(exc.reason)
            return []
        if self.pred.series_of(obs) not in self.pred.index:
            self._reject("unknown device")  # before anything is kept of it
            return []
        if self._early is not None:
            if len(self._early) >= 2 * WINDOW * len(self.pred.devices):
                self._reject("before the first clock tick, and more than the devices send")
            else:
                self._early.append(obs)
            return []
        self._admit(obs)
        return []

    def _admit(self, obs: Observation) -> None:
        try:
            self.plausible.check(obs)
            self.pred.add(obs)
        except ValueError as exc:  # PayloadError is one
            reason = exc.reason if isinstance(exc, PayloadError) else str(exc)
            self._reject(reason)
            return
        self.stats.readings += 1

    def _reject(self, reason: str) -> None:
        key = reason.split(":")[0][:60]
        if len(self.stats.rejected) < 1_000 or key in self.stats.rejected:
            self.stats.rejected[key] += 1
        else:
            self.stats.rejected["other"] += 1

    def _tick(self, t_s: float) -> list[tuple[str, dict[str, Any]]]:
        self.plausible.tick(t_s)
        self.pred.forget_before(t_s)
        early, self._early = self._early, None
        for obs in early or ():
            self._admit(obs)
        out: list[tuple[str, dict[str, Any]]] = []
        row = math.floor(t_s / self.pred.step_s + 1e-9)
        if self.pred.latest_t is not None and row != self._last_row:
            self._last_row = row
            t0 = time.perf_counter()
            result = self.pred.predict(row * self.pred.step_s)
            for fc in forecasts(self.pred, t_s, result, self.version):
                place = fc.intersection or "unknown"
                out.append((self.topics.forecast(place, fc.device_id), fc.to_payload()))
            self.stats.rounds += 1
            self.stats.forecasts += len(out)
            self.stats.last_round_ms = (time.perf_counter() - t0) * 1000.0
        done = RoundDone(self.name, t_s, len(out), "forecasts")
        return [*out, (self.topics.control_done(self.name), done.to_payload())]
