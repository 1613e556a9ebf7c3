"""The closed loop: sensors -> bus -> optimizer -> plans -> cabinets -> simulated signals.

Lock-step: each control step the simulator shows the cabinets' decisions, simulates the
step, publishes the step's readings and signal states, waits for the broker to acknowledge
them, publishes a clock tick and waits (bounded wall time) for every service in the loop to
answer with its ``done`` marker. Commands reach the cabinets at the start of the next step.
Over MQTT, with services that keep up, this is the same sequence of messages as over the
in-memory bus, so the same seed gives the same results on both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from trafficsim.models.optimizer import Controller, ControlService, make_controller
from trafficsim.runner.session import BrokerSettings, Pacer, Session
from trafficsim.sensors.deployment_spec import DeploymentSpec
from trafficsim.sensors.field import Field
from trafficsim.sensors.meta import scenario_meta
from trafficsim.sensors.mqtt.bus import Handler
from trafficsim.sensors.mqtt.clients import OPTIMIZER, PREDICTOR, SIMULATOR
from trafficsim.sensors.mqtt.feed import reading_topic
from trafficsim.sensors.mqtt.lockstep import LockstepTransport, MemoryLockstep, MqttLockstep
from trafficsim.sensors.mqtt.messages import CabinetMode, Clock, DeviceMeta
from trafficsim.sensors.mqtt.payloads import PayloadBuilder
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.mqtt.transport import STOP_TIMEOUT_S
from trafficsim.sensors.readings import StatusChange
from trafficsim.sensors.signals import CabinetLimits
from trafficsim.sensors.signals.bridge import SignalBridge, bridge_client
from trafficsim.sensors.signals.cabinet import ModeChange
from trafficsim.sim import Scenario, ScenarioError, World


@dataclass(frozen=True, slots=True)
class LoopOptions:
    controller: str = "fixed"
    controller_params: tuple[tuple[str, Any], ...] = ()
    step_s: float = 2.0
    """Control step: how often readings, states and commands are exchanged (s)."""
    transport: Literal["memory", "mqtt"] = "memory"
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    """The broker of the ``mqtt`` transport (no URL: an embedded one), the logins and the
    topic root (which the memory bus uses too)."""
    deadline_s: float = 10.0
    """Wall time the simulator waits for a service's answer to a tick before going on."""
    external_optimizer: bool = False
    """The optimizer runs elsewhere (``trafficsim serve optimizer``): do not start one."""
    predictor_model: Path | None = None
    """Run the predictor with this model in the loop; its forecasts feed the optimizer."""
    external_predictor: bool = False
    """A predictor runs elsewhere (``trafficsim serve predictor``): wait for it each step."""
    limits: CabinetLimits = field(default_factory=CabinetLimits)
    speed: float | None = None  # simulated seconds per wall second; None: as fast as possible
    deployment: DeploymentSpec | None = None
    """The field devices (default: the scenario's ``[sensors]`` table); either way they
    report every control step unless it sets a period (:meth:`DeploymentSpec.for_control`)."""


@dataclass
class FallbackEpisode:
    """A cabinet on its stored plan because the centre went quiet: the alarm."""

    intersection: str
    last_command_s: float | None
    """When it last accepted a command."""
    fell_back_at_s: float
    """When the last commanded green ended and the stored plan took over."""
    restored_at_s: float | None = None
    """When the centre had it again (None: still on fallback at the end of the run)."""


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
    alarm: bool = False
    """Some cabinet fell back: the centre went quiet for longer than its backup time."""
    fallback_episodes: list[FallbackEpisode] = field(default_factory=list)
    on_fallback_at_end: list[str] = field(default_factory=list)
    """The cabinets still on their stored plans when the run ended."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
    if opts.transport == "memory" and (opts.external_optimizer or opts.external_predictor):
        raise ValueError("services running elsewhere need the MQTT transport")
    world = World(scenario, seed, external_signals=True)
    spec = DeploymentSpec.of(scenario) if opts.deployment is None else opts.deployment
    field_ = Field(world, spec.for_control(opts.step_s))
    topics = Topics(opts.broker.topic_root)
    bridge = SignalBridge(world, limits=opts.limits, topics=topics)
    stats = LoopStats()
    controller = make_controller(opts.controller, topics.root, **dict(opts.controller_params))
    if not opts.external_optimizer:
        check_refusals(scenario, controller)
    service = ControlService(controller, OPTIMIZER)
    silenced = threading.Event()
    predictor: Any = None
    if opts.predictor_model is not None:
        from trafficsim.models.persistence import load_models
        from trafficsim.models.service import PredictorService

        predictor = PredictorService(load_models(opts.predictor_model), topics)
    optimizer = _Silenceable(service, silenced)
    transport: LockstepTransport | None = None
    with contextlib.ExitStack() as stack:  # everything started is stopped, even on failure
        if opts.transport == "memory":
            handlers: list[Handler] = [optimizer] if predictor is None else [predictor, optimizer]
            transport = MemoryLockstep(handlers, topics)
        else:
            session = stack.enter_context(Session(opts.broker, on_broker=on_broker))
            if not opts.external_optimizer:
                session.serve(OPTIMIZER, optimizer)
            if predictor is not None:
                session.serve(PREDICTOR, predictor)
            waits = [OPTIMIZER]
            if predictor is not None or opts.external_predictor:
                waits.append(PREDICTOR)
            transport = MqttLockstep(
                session.login, loop_clients(field_, bridge), topics, waits, opts.deadline_s
            )
            stack.push(_closer(transport))
        _announce(transport, world, field_, bridge, topics)
        _simulate(world, field_, bridge, transport, opts, stats, silenced, stop_optimizer_at_s,
                  on_progress)  # fmt: skip
    stats.missed_deadlines = transport.missed if transport is not None else 0
    if predictor is not None:
        stats.forecasts = predictor.stats.forecasts
    for node, cab in bridge.cabinets.items():
        _episodes(node, cab.history, stats)
        stats.accepted += cab.stats.accepted
        stats.rejected += cab.stats.rejected
        stats.fallbacks += cab.stats.fallbacks
        for r in cab.stats.reasons:
            key = r.split(":")[0]
            stats.reject_reasons[key] = stats.reject_reasons.get(key, 0) + 1
    stats.alarm = bool(stats.fallback_episodes)
    return world, stats


def check_refusals(scenario: Scenario, controller: Controller) -> None:
    """Refuse, before the run, a controller that would leave an intersection on its
    stored plan (one written in stages, which it cannot retime), naming the plan."""
    for i, spec in enumerate(scenario.signals):
        reason = controller.refusal(spec.node, in_stages=bool(spec.plan.stages))
        if reason is not None:
            raise ScenarioError(
                scenario.source,
                f"signals[{i}].stages",
                f"node {spec.node!r}, --controller {controller.name}: {reason}",
            )


def _closer(transport: LockstepTransport) -> Callable[..., None]:
    """Close the transport on the way out: at the end of a run, waiting for the broker's
    acknowledgements; when stopped (Ctrl-C, SIGTERM) or failing, within 1 s."""

    def close(exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            transport.close()
        else:
            transport.close(STOP_TIMEOUT_S, reconnect=False)

    return close


def _episodes(node: str, history: list[ModeChange], stats: LoopStats) -> None:
    """A cabinet's fallbacks, each with when control came back (if it did)."""
    open_: FallbackEpisode | None = None
    for change in history:
        if change.mode is CabinetMode.FALLBACK and open_ is None:
            open_ = FallbackEpisode(node, change.last_command_s, change.t_s)
            stats.fallback_episodes.append(open_)
            stats.fallback_at_s.setdefault(node, change.t_s)
        elif change.central and open_ is not None:
            open_.restored_at_s = change.t_s
            open_ = None
    if open_ is not None:
        stats.on_fallback_at_end.append(node)


def _announce(
    transport: LockstepTransport, world: World, field_: Field, bridge: SignalBridge, topics: Topics
) -> None:
    """The retained metadata a controller builds its picture from, before the first step;
    retained, so that a controller that (re)starts mid-run finds it on the broker."""
    sc = world.scenario
    pub = transport.publish
    pub(SIMULATOR, topics.scenario_meta(), scenario_meta(world).to_payload(), retain=True)
    for did, info in field_.info.items():
        meta = DeviceMeta.of(info, sc.name)
        pub(did, topics.device_meta(did), meta.to_payload(), retain=True)
    for client, topic, payload in bridge.meta_messages():
        pub(client, topic, payload, retain=True)
    for client, topic, payload in bridge.status_messages():
        pub(client, topic, payload, retain=True)


def _simulate(
    world: World,
    field_: Field,
    bridge: SignalBridge,
    transport: LockstepTransport,
    opts: LoopOptions,
    stats: LoopStats,
    silenced: threading.Event,
    stop_optimizer_at_s: float | None,
    on_progress: Callable[[float], None],
) -> None:
    """The lock-step: commands in, one control step of the world, readings and states out,
    a clock tick, and the services' answers."""
    sc = world.scenario
    builder = PayloadBuilder(sc.name, sc.start_time)
    topics = bridge.topics
    pacer = Pacer(opts.speed)
    commands: list[tuple[str, dict[str, Any]]] = []
    reading_topics: dict[tuple[str, str | None], str] = {}
    t = world.now_s
    end = sc.duration_s
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
                rtopic = reading_topics[ev.device_id, ev.link] = reading_topic(topics, ev)
            transport.publish(ev.device_id, rtopic, builder.reading(ev, period))
            stats.readings += 1
        for client, topic, payload in states:
            transport.publish(client, topic, payload)
        stats.states += len(states)
        for client, topic, payload in bridge.status_messages():
            transport.publish(client, topic, payload, retain=True)
        if stop_optimizer_at_s is not None and t1 >= stop_optimizer_at_s:
            silenced.set()
        commands = transport.round(t1, Clock.at(t1, sc.start_time))
        stats.steps += 1
        t = t1
        on_progress(t)
        pacer.wait(t)


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
    return [SIMULATOR, *field_.info, *(bridge_client(n) for n in bridge.cabinets)]
