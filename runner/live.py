"""A run that publishes its field devices' readings over MQTT while it simulates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trafficsim.runner.session import BrokerSettings, Pacer, Session
from trafficsim.sensors.field import Field
from trafficsim.sensors.meta import scenario_meta
from trafficsim.sensors.mqtt.clients import PREDICTOR
from trafficsim.sensors.mqtt.feed import FeedPublisher, FeedStats
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.mqtt.transport import STOP_TIMEOUT_S
from trafficsim.sensors.readings import DeviceKind
from trafficsim.sim import World

if TYPE_CHECKING:
    from trafficsim.models.service import PredictorService

LAST_ROUND_TIMEOUT_S = 30.0
"""How long the run waits, after its last reading, for the predictor to answer the last
clock tick (its final forecasts) before it stops the predictor anyway."""


@dataclass(frozen=True, slots=True)
class LiveOptions:
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    """The broker (no URL: an embedded one), the logins and the topic root."""
    qos: int = 1
    speed: float | None = None  # simulated seconds per wall second; None: as fast as possible
    predictor_model: Path | None = None  # run the predictor service beside the simulation


def run_live(
    world: World,
    field: Field,
    opts: LiveOptions,
    *,
    on_broker: Callable[[str, str], None] = lambda url, kind: None,
    on_progress: Callable[[float], None] = lambda t: None,
) -> dict[str, Any]:
    """Simulate to the end of the scenario, publishing every reading; returns feed figures."""
    predictor: PredictorService | None = None
    if opts.predictor_model is not None:
        # scikit-learn is loaded only when a predictor runs; the model is loaded first, so
        # that a bad one is refused before anything starts.
        from trafficsim.models.persistence import load_models
        from trafficsim.models.service import PredictorService

        topics = Topics(opts.broker.topic_root)
        predictor = PredictorService(load_models(opts.predictor_model), topics)
    sc = world.scenario
    with Session(opts.broker, on_broker=on_broker) as session:
        if predictor is not None:
            session.serve(PREDICTOR, predictor)
        publisher = FeedPublisher(
            session.cfg,
            field.info.values(),
            scenario=sc.name,
            start=sc.start_time,
            scenario_meta=scenario_meta(world),
            topics=session.topics,
            qos=opts.qos,
            credentials=session.credentials(),
        )
        end = sc.duration_s
        t = world.now_s
        try:
            publisher.start()  # inside: clients that did connect are closed on failure
            pacer = Pacer(opts.speed)
            while t < end:
                t = min(field.next_due_s(), end)
                world.step_to(t)
                publisher.publish(field.poll(t))
                # The last tick closes the predictor's last round: it must not be lost.
                publisher.clock(t, qos=1 if t >= end else 0)
                on_progress(t)
                pacer.wait(t, publisher.idle)
        except BaseException:
            # Stopped (Ctrl-C, SIGTERM) or failing: the devices say offline and go within
            # a second, without waiting for a broker that is away.
            publisher.close(STOP_TIMEOUT_S, reconnect=False)
            raise
        stats = publisher.close()
        answered = True
        if predictor is not None:
            # Its last forecasts come after the run's last reading and clock tick.
            answered = session.wait_answered(PREDICTOR, t, LAST_ROUND_TIMEOUT_S)
            session.stop_services()
        summary = _feed_summary(session, field, stats)
    if predictor is not None:
        summary["predictor"] = _predictor_summary(predictor, session, answered)
    return summary


def _predictor_summary(
    predictor: PredictorService, session: Session, answered: bool
) -> dict[str, Any]:
    """What the predictor did; a service that failed on messages (``handler_errors``, by
    exception), stopped early or missed the last tick says so (the run itself goes on:
    forecasts are advice, the feed is the product)."""
    s = predictor.stats
    handled = session.service_stats.get(PREDICTOR)
    if handled is not None:
        s.rejected.update(handled.rejected)
    out: dict[str, Any] = {
        "readings": s.readings,
        "rounds": s.rounds,
        "forecasts": s.forecasts,
        "rejected": sum(s.rejected.values()),
        "last_round_ms": round(s.last_round_ms, 2),
    }
    if handled is not None and handled.errors:
        out["handler_errors"] = dict(handled.errors)
    failure = session.failures.get(PREDICTOR)
    if failure is not None:
        out["stopped"] = f"{type(failure).__name__}: {failure}"
    if not answered:
        out["last_round_missed"] = True
    return out


def _feed_summary(session: Session, field: Field, stats: FeedStats) -> dict[str, Any]:
    by_kind: dict[str, int] = {k.value: 0 for k in DeviceKind}
    for did, n in stats.readings.items():
        by_kind[field.info[did].kind.value] += n
    return {
        "broker": session.cfg.url,
        "broker_kind": session.broker_label,
        "devices": len(field.devices),
        "readings_published": stats.total,
        "readings_by_kind": by_kind,
        "readings_by_device": dict(sorted(stats.readings.items())),
        "status_changes": stats.status_changes,
        "unacknowledged": stats.unacknowledged,
    }
