"""The closed loop: sensors -> bus -> optimizer -> plans -> cabinets -> simulated signals.

Lock-step: each control step the simulator shows the cabinets' decisions, simulates the
step, publishes the step's readings and signal states, waits for the broker to acknowledge
them, publishes a clock tick and waits (bounded wall time) for every service in the loop to
answer with its ``done`` marker. Commands reach the cabinets at the start of the next step.
Over MQTT, with services that keep up, this is the same sequence of messages as over the
in-memory bus, so the same seed gives the same results on both.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from trafficsim.models.optimizer import ControlService, make_controller
from trafficsim.runner.live import scenario_meta
from trafficsim.sensors.field import Field
from trafficsim.sensors.mqtt.broker import EmbeddedBroker
from trafficsim.sensors.mqtt.bus import MemoryBus, serve_handler
from trafficsim.sensors.mqtt.payloads import (
    OFFLINE,
    ONLINE,
    PayloadBuilder,
    clock_payload,
    decode,
    device_meta_payload,
    encode,
)
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig, ClientPool, DeviceClient, Subscriber
from trafficsim.sensors.readings import DeviceKind, Reading, StatusChange
from trafficsim.sensors.signals import CabinetLimits
from trafficsim.sensors.signals.bridge import SignalBridge
from trafficsim.sim import Scenario, World

SIMULATOR = "trafficsim-simulator"
INBOX = "trafficsim-simulator-in"
"""The simulator's subscribing client: commands for its cabinets and lock-step markers."""
OPTIMIZER = "optimizer"


@dataclass(frozen=True, slots=True)
class LoopOptions:
    controller: str = "fixed"
    controller_params: tuple[tuple[str, Any], ...] = ()
    step_s: float = 2.0
    """Control step: how often readings, states and commands are exchanged (s)."""
    transport: Literal["memory", "mqtt"] = "memory"
    broker_url: str | None = None  # mqtt without a URL: an embedded broker
    broker_kind: str = "auto"
    topic_root: str = "hcmc"
    deadline_s: float = 10.0
    """Wall time the simulator waits for a service's answer to a tick before going on."""
    external_optimizer: bool = False
    """The optimizer runs elsewhere (``trafficsim serve optimizer``): do not start one."""
    predictor_model: Path | None = None
    """Run the predictor with this model in the loop; its forecasts feed the optimizer."""
    external_predictor: bool = False
    """A predictor runs elsewhere (``trafficsim serve predictor``): wait for it each step."""
    limits: CabinetLimits = field(default_factory=CabinetLimits)
    passwords: dict[str, str] | None = None
    speed: float | None = None  # simulated seconds per wall second; None: as fast as possible


@dataclass
class LoopStats:
    steps: int = 0
    readings: int = 0
    commands: int = 0
    accepted: int = 0
    rejected: int = 0
    missed_deadlines: int = 0
    fallbacks: int = 0
    states: int = 0
    forecasts: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    fallback_at_s: dict[str, float] = field(default_factory=dict)
    """When each cabinet that fell back was back on its stored plan (end of the last green
    before the switch)."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def control_scenario(sc: Scenario, step_s: float) -> Scenario:
    """Loops and cameras report every control step unless the scenario says otherwise
    (actuated control needs short periods); probes keep a minute."""
    sensors = {"period_s": step_s, "probe_period_s": 60.0, **dict(sc.sensors)}
    return dataclasses.replace(sc, sensors=sensors)


class _Transport(Protocol):
    def publish(self, client: str, topic: str, payload: dict[str, Any]) -> None: ...
    def status(self, client: str, online: bool) -> None: ...
    def round(self, t_s: float, clock: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]: ...
    def close(self) -> None: ...

    missed: int


class _MemoryTransport:
    def __init__(self, handlers: list[Any], topics: Topics) -> None:
        self.bus = MemoryBus(handlers, inbox_filters=(f"{topics.root}/signal/+/plan",))
        self.topics = topics
        self.missed = 0

    def publish(self, client: str, topic: str, payload: dict[str, Any]) -> None:
        self.bus.publish(topic, payload)

    def status(self, client: str, online: bool) -> None:
        pass  # plain-text status is for people and dashboards; no handler reads it

    def round(self, t_s: float, clock: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        self.bus.publish(self.topics.clock(), clock)
        return self.bus.take()

    def close(self) -> None:
        pass


class _MqttTransport:
    def __init__(
        self,
        cfg: BrokerConfig,
        client_ids: list[str],
        topics: Topics,
        services: list[str],
        deadline_s: float,
        passwords: dict[str, str] | None,
    ) -> None:
        self.topics = topics
        self.services = services
        self.deadline_s = deadline_s
        self.missed = 0
        self._late: dict[str, int] = dict.fromkeys(services, 0)
        pw = passwords or {}

        def login(cid: str) -> BrokerConfig:
            return cfg.with_credentials(cid, pw.get(cid)) if passwords else cfg

        self.clients = {
            cid: DeviceClient(login(cid), cid, topics.status(cid)) for cid in client_ids
        }
        self.pool = ClientPool(list(self.clients.values()))
        self.pool.connect_all(30.0)
        for c in self.clients.values():
            self.pool.publish(c, c.status_topic, ONLINE, qos=1, retain=True)
        root = topics.root
        self.sub = Subscriber(
            login(INBOX),
            INBOX,
            (f"{root}/signal/+/plan", f"{root}/control/+/done"),
            max_queue=1_000_000,
        ).start()

    def publish(self, client: str, topic: str, payload: dict[str, Any]) -> None:
        self.pool.publish(self.clients[client], topic, encode(payload), qos=1)

    def status(self, client: str, online: bool) -> None:
        c = self.clients[client]
        self.pool.publish(c, c.status_topic, ONLINE if online else OFFLINE, qos=1, retain=True)

    def round(self, t_s: float, clock: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        # Every reading and state acknowledged by the broker before the tick leaves: one
        # broker then delivers them to the services before the tick.
        self.pool.flush(self.deadline_s)
        self.pool.publish(self.clients[SIMULATOR], self.topics.clock(), encode(clock), qos=1)
        self.pool.flush(self.deadline_s)
        waiting = {s for s in self.services if self._late[s] < 3}
        got: list[tuple[str, dict[str, Any]]] = []
        deadline = time.monotonic() + self.deadline_s
        while True:
            self.pool.pump(0.0)
            timeout = deadline - time.monotonic() if waiting else 0.0
            try:
                m = self.sub.messages.get(timeout=max(0.0, min(timeout, 0.05)))
            except queue.Empty:
                if not waiting or time.monotonic() >= deadline:
                    break
                continue
            try:
                payload = decode(m.topic, m.payload)
            except ValueError:
                continue
            parts = m.topic.split("/")
            if parts[-1] == "done":
                service = parts[-2]
                if abs(float(payload.get("simTimeSeconds", -1.0)) - t_s) < 1e-6:
                    waiting.discard(service)
                    self._late[service] = 0
                continue
            got.append((m.topic, payload))
        for s in waiting:
            self.missed += 1
            self._late[s] += 1  # after three misses in a row, stop waiting for it
        return got

    def close(self) -> None:
        for c in self.clients.values():
            self.pool.publish(c, c.status_topic, OFFLINE, qos=1, retain=True)
        self.pool.close(10.0)
        self.sub.stop()


def run_closed_loop(
    scenario: Scenario,
    seed: int,
    opts: LoopOptions,
    *,
    on_progress: Callable[[float], None] = lambda t: None,
    on_broker: Callable[[str, str], None] = lambda url, kind: None,
    stop_optimizer_at_s: float | None = None,
) -> tuple[World, LoopStats]:
    """Run ``scenario`` under ``opts.controller`` to the end; returns the world and figures.

    ``stop_optimizer_at_s`` silences the optimizer from that simulated time on (fallback
    drills and tests)."""
    if opts.step_s <= 0:
        raise ValueError(f"step_s must be positive, got {opts.step_s}")
    sc = control_scenario(scenario, opts.step_s)
    world = World(sc, seed, external_signals=True)
    field_ = Field(world)
    topics = Topics(opts.topic_root)
    bridge = SignalBridge(world, limits=opts.limits, topics=topics)
    builder = PayloadBuilder(sc.name, sc.start_time)
    stats = LoopStats()
    controller = make_controller(opts.controller, opts.topic_root, **dict(opts.controller_params))
    service = ControlService(controller, OPTIMIZER)
    silenced = threading.Event()
    predictor: Any = None
    if opts.predictor_model is not None:
        from trafficsim.models.persistence import load_models
        from trafficsim.models.service import PredictorService

        predictor = PredictorService(load_models(opts.predictor_model), topics)

    broker: EmbeddedBroker | None = None
    stop = threading.Event()
    transport: _Transport | None = None
    threads: list[threading.Thread] = []
    try:  # everything started here is stopped in the finally, even if set-up fails
        if opts.transport == "memory":
            if opts.external_optimizer or opts.external_predictor:
                raise ValueError("services running elsewhere need the MQTT transport")
            handlers: list[Any] = [_Silenceable(service, silenced)]
            if predictor is not None:
                handlers.insert(0, predictor)
            transport = _MemoryTransport(handlers, topics)
        else:
            if opts.broker_url is None:
                broker = EmbeddedBroker(opts.broker_kind).start()  # type: ignore[arg-type]
                cfg = broker.config
                on_broker(cfg.url, f"embedded {broker.kind}")
            else:
                cfg = BrokerConfig.from_url(opts.broker_url)
                on_broker(cfg.url, "external")
            local: list[tuple[str, Any]] = []
            if not opts.external_optimizer:
                local.append((OPTIMIZER, _Silenceable(service, silenced)))
            if predictor is not None:
                local.append(("predictor", predictor))
            for name, handler in local:
                ready = threading.Event()
                user = (
                    cfg.with_credentials(name, (opts.passwords or {}).get(name))
                    if opts.passwords
                    else cfg
                )
                th = threading.Thread(
                    target=serve_handler,
                    args=(user, handler, name),
                    kwargs={"topics": topics, "stop": stop, "on_ready": ready.set},
                    name=name,
                    daemon=True,
                )
                th.start()
                threads.append(th)
                if not ready.wait(30.0):
                    raise RuntimeError(f"the {name} service did not connect within 30 s")
            waits = [OPTIMIZER]
            if predictor is not None or opts.external_predictor:
                waits.append("predictor")
            clients = loop_clients(field_, bridge)
            transport = _MqttTransport(cfg, clients, topics, waits, opts.deadline_s, opts.passwords)
        transport.publish(SIMULATOR, topics.scenario_meta(), scenario_meta(world))
        for did, info in field_.info.items():
            transport.publish(
                did, topics.device_meta(did), device_meta_payload(info, scenario=sc.name)
            )
        for client, topic, payload in bridge.meta_messages():
            transport.publish(client, topic, payload)
        commands: list[tuple[str, dict[str, Any]]] = []
        reading_topics: dict[tuple[str, str | None], str] = {}
        t = world.now_s
        end = sc.duration_s
        wall0 = time.monotonic()
        while t < end - 1e-9:
            t1 = min(t + opts.step_s, end)
            for topic, payload in commands:
                stats.commands += 1
                for client, atopic, ack in bridge.handle(topic, payload, t):
                    transport.publish(client, atopic, ack)
            states = bridge.step(t, t1)
            world.step_to(t1)
            for ev in field_.poll(t1):
                if isinstance(ev, StatusChange):
                    transport.status(ev.device_id, ev.online)
                    continue
                period = field_.info[ev.device_id].period_s
                rtopic = reading_topics.get((ev.device_id, ev.link))
                if rtopic is None:
                    rtopic = reading_topics[ev.device_id, ev.link] = _reading_topic(topics, ev)
                transport.publish(ev.device_id, rtopic, builder.reading(ev, period))
                stats.readings += 1
            for client, topic, payload in states:
                transport.publish(client, topic, payload)
            stats.states += len(states)
            if stop_optimizer_at_s is not None and t1 >= stop_optimizer_at_s:
                silenced.set()
            commands = transport.round(t1, clock_payload(t1, sc.start_time))
            stats.steps += 1
            t = t1
            on_progress(t)
            if opts.speed:
                lag = wall0 + t / opts.speed - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
    finally:
        if transport is not None:
            transport.close()
        stop.set()
        for th in threads:
            th.join(timeout=30)
        if broker is not None:
            broker.stop()
    stats.missed_deadlines = transport.missed
    if predictor is not None:
        stats.forecasts = predictor.stats.forecasts
    for node, cab in bridge.cabinets.items():
        back = [t for t, mode in cab.switches if mode == "fallback"]
        if back:
            stats.fallback_at_s[node] = back[0]
        stats.accepted += cab.stats.accepted
        stats.rejected += cab.stats.rejected
        stats.fallbacks += cab.stats.fallbacks
        for r in cab.stats.reasons:
            key = r.split(":")[0]
            stats.reject_reasons[key] = stats.reject_reasons.get(key, 0) + 1
    return world, stats


class _Silenceable:
    """A handler that goes quiet when ``silenced`` is set (a crashed optimizer)."""

    def __init__(self, inner: ControlService, silenced: threading.Event) -> None:
        self.inner = inner
        self.silenced = silenced
        self.filters = inner.filters

    def on_message(self, topic: str, payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if self.silenced.is_set():
            return []
        return self.inner.on_message(topic, payload)


def loop_clients(field_: Field, bridge: SignalBridge) -> list[str]:
    """The MQTT clients of the simulator side of a closed loop."""
    from trafficsim.sensors.signals.bridge import bridge_client

    return [SIMULATOR, *field_.info, *(bridge_client(n) for n in bridge.cabinets)]


def _reading_topic(topics: Topics, r: Reading) -> str:
    if r.kind is DeviceKind.PROBE and r.link is not None:
        return topics.probe(r.link)
    return topics.reading(r.intersection or "unknown", r.device_id)
