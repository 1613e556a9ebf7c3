"""A run that publishes its field devices' readings over MQTT while it simulates."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafficsim.sensors.field import Field
from trafficsim.sensors.mqtt.broker import EmbeddedBroker
from trafficsim.sensors.mqtt.feed import Credentials, FeedPublisher, FeedStats
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig
from trafficsim.sensors.readings import DeviceKind
from trafficsim.sim import World, lon_lat


@dataclass(frozen=True, slots=True)
class LiveOptions:
    broker_url: str | None = None  # None: start an embedded broker
    broker_kind: str = "auto"
    topic_root: str = "hcmc"
    qos: int = 1
    speed: float | None = None  # simulated seconds per wall second; None: as fast as possible
    ca_certs: str | None = None
    passwords: dict[str, str] | None = None  # client id -> password
    predictor_model: Path | None = None  # run the predictor service beside the simulation


def scenario_meta(world: World) -> dict[str, Any]:
    """Retained description of the running scenario: what a subscriber needs to draw it."""
    sc = world.scenario
    return {
        "scenario": sc.name,
        "seed": world.seed,
        "startTime": sc.start_time.isoformat(),
        "durationSeconds": sc.duration_s,
        "nodes": [
            {
                "id": n.id,
                "kind": n.kind.value,
                "location": {
                    "type": "Point",
                    "coordinates": [
                        round(c, 7) for c in lon_lat(sc.origin_lat, sc.origin_lon, n.x_m, n.y_m)
                    ],
                },
            }
            for n in sc.nodes
        ],
        "links": [
            {
                "id": ln.id,
                "from": ln.from_node,
                "to": ln.to_node,
                "lengthMeters": ln.length_m,
                "lanes": ln.lanes,
            }
            for ln in sc.links
        ],
    }


def run_live(
    world: World,
    field: Field,
    opts: LiveOptions,
    *,
    on_broker: Callable[[str, str], None] = lambda url, kind: None,
    on_progress: Callable[[float], None] = lambda t: None,
) -> dict[str, Any]:
    """Simulate to the end of the scenario, publishing every reading; returns feed figures."""
    broker: EmbeddedBroker | None = None
    if opts.broker_url is None:
        kind = opts.broker_kind
        broker = EmbeddedBroker(kind).start()  # type: ignore[arg-type]
        cfg = broker.config
        on_broker(cfg.url, f"embedded {broker.kind}")
    else:
        cfg = BrokerConfig.from_url(opts.broker_url, ca_certs=opts.ca_certs)
        on_broker(cfg.url, "external")
    service: threading.Thread | None = None
    stop = threading.Event()
    service_stats: list[Any] = []
    try:
        model_dir = opts.predictor_model
        if model_dir is not None:
            from trafficsim.models.persistence import load_models
            from trafficsim.models.service import serve

            load_models(model_dir)  # refuse a bad model before anything runs
            user_cfg = (
                cfg.with_credentials("predictor", (opts.passwords or {}).get("predictor"))
                if opts.passwords
                else cfg
            )
            service = threading.Thread(
                target=lambda: service_stats.append(
                    serve(user_cfg, model_dir, topics=Topics(opts.topic_root), stop=stop)
                ),
                name="predictor",
                daemon=True,
            )
            service.start()
            time.sleep(1.0)  # let it subscribe before the first reading
        sc = world.scenario
        publisher = FeedPublisher(
            cfg,
            field.info.values(),
            scenario=sc.name,
            start=sc.start_time,
            scenario_meta=scenario_meta(world),
            topics=Topics(opts.topic_root),
            qos=opts.qos,
            credentials=_credentials(opts.passwords),
        )
        publisher.start()
        end = sc.duration_s
        wall0 = time.monotonic()
        t = world.now_s
        try:
            while t < end:
                t = min(field.next_due_s(), end)
                world.step_to(t)
                publisher.publish(field.poll(t))
                publisher.clock(t)
                on_progress(t)
                if opts.speed:
                    lag = wall0 + t / opts.speed - time.monotonic()
                    if lag > 0:
                        publisher.idle(lag)
        finally:
            stats = publisher.close()
        if service is not None:
            time.sleep(2.0)  # the last period's readings and clock tick reach the service
    finally:
        stop.set()
        if service is not None:
            service.join(timeout=30)
        if broker is not None:
            broker.drain()
            broker.stop()
    summary = _feed_summary(cfg, broker, field, stats)
    if service_stats:
        s = service_stats[0]
        summary["predictor"] = {
            "readings": s.readings,
            "rounds": s.rounds,
            "forecasts": s.forecasts,
            "rejected": sum(s.rejected.values()),
            "last_round_ms": round(s.last_round_ms, 2),
        }
    return summary


def _credentials(passwords: dict[str, str] | None) -> Credentials | None:
    """Each client logs in as itself (username = client id) when passwords are given."""
    if passwords is None:
        return None
    table = dict(passwords)
    return lambda cid: (cid, table.get(cid))


def _feed_summary(
    cfg: BrokerConfig, broker: EmbeddedBroker | None, field: Field, stats: FeedStats
) -> dict[str, Any]:
    by_kind: dict[str, int] = {k.value: 0 for k in DeviceKind}
    for did, n in stats.readings.items():
        by_kind[field.info[did].kind.value] += n
    return {
        "broker": cfg.url,
        "broker_kind": f"embedded {broker.kind}" if broker else "external",
        "devices": len(field.devices),
        "readings_published": stats.total,
        "readings_by_kind": by_kind,
        "readings_by_device": dict(sorted(stats.readings.items())),
        "status_changes": stats.status_changes,
        "unacknowledged": stats.unacknowledged,
    }
