"""``trafficsim watch``: the live feed as a refreshing table, one row per intersection."""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from trafficsim.sensors.mqtt.messages import Clock, DeviceType, Observation, PayloadError
from trafficsim.sensors.mqtt.messages.cabinet_status import CabinetStatus
from trafficsim.sensors.mqtt.messages.reading import MAX_DEVICES
from trafficsim.sensors.mqtt.payloads import decode
from trafficsim.sensors.mqtt.subscriber import Subscriber
from trafficsim.sensors.mqtt.topics import TopicKind, Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig

MAX_SHOWN_BAD = 5
"""Unreadable messages kept to show (all of them are counted)."""


@dataclass
class FeedView:
    """The latest reading of every device, grouped by intersection, device status, and who
    controls each cabinet (its retained ``signal/{intersection}/status``: the centre, or its
    stored plan after the centre went quiet, the alarm an operator must see).

    Every message is parsed at the edge (readings into :class:`Observation`, named by their
    topic); what cannot be used is counted and the first few kept to show, never fatal.
    The devices kept are bounded (:data:`MAX_DEVICES`), so made-up names cannot grow it."""

    root: str = "hcmc"
    latest: dict[str, dict[str, Observation]] = field(default_factory=lambda: defaultdict(dict))
    status: dict[str, str] = field(default_factory=dict)
    device_place: dict[str, str] = field(default_factory=dict)
    cabinets: dict[str, CabinetStatus] = field(default_factory=dict)
    sim_time_s: float | None = None
    messages: int = 0
    unreadable: int = 0
    bad: list[str] = field(default_factory=list)
    """The first :data:`MAX_SHOWN_BAD` unreadable messages, topic and reason."""

    def update(self, topic: str, payload: bytes) -> None:
        self.messages += 1
        try:
            self._update(topic, payload)
        except PayloadError as exc:
            self._bad(str(exc) if exc.topic else f"{topic[:200]}: {exc.reason}")
        except Exception as exc:  # one message must not end the view
            self._bad(f"{topic[:200]}: {type(exc).__name__}")

    def _bad(self, line: str) -> None:
        self.unreadable += 1
        if len(self.bad) < MAX_SHOWN_BAD:
            self.bad.append(line)

    def _known(self, device: str) -> bool:
        return device in self.device_place or len(self.device_place) < MAX_DEVICES

    def _update(self, topic: str, payload: bytes) -> None:
        parsed = Topics(self.root).parse(topic)
        kind = parsed.kind if parsed else None
        if kind is TopicKind.READING and parsed:
            obs = Observation.on_topic(parsed, decode(topic, payload), topic)
            if not self._known(parsed.name):
                raise PayloadError(topic, f"more than {MAX_DEVICES:,} devices; not shown")
            self.latest[parsed.place][parsed.name] = obs
            self.device_place[parsed.name] = parsed.place
        elif kind is TopicKind.STATUS and parsed:
            if parsed.name in self.status or len(self.status) < MAX_DEVICES:
                self.status[parsed.name] = payload[:16].decode("utf-8", "replace")
        elif kind is TopicKind.DEVICE_META and parsed:
            # Only the device's place is needed here: the rest of its metadata may be
            # whatever a third-party device publishes.
            place = decode(topic, payload).get("intersection")
            if isinstance(place, str) and place and self._known(parsed.name):
                self.device_place[parsed.name] = place[:200]
        elif kind is TopicKind.SIGNAL_STATUS and parsed:
            status = CabinetStatus.from_payload(decode(topic, payload), topic)
            if status.intersection != parsed.place:
                raise PayloadError(
                    topic, f"names intersection {status.intersection[:64]!r}, not the topic's"
                )
            if parsed.place in self.cabinets or len(self.cabinets) < MAX_DEVICES:
                self.cabinets[parsed.place] = status
        elif kind is TopicKind.CLOCK:
            self.sim_time_s = Clock.from_payload(decode(topic, payload), topic).sim_time_s

    def table(self) -> Table:
        t = Table(title=self._title(), expand=False)
        for col in (
            "intersection",
            "flow veh/h",
            "occupancy",
            "speed km/h",
            "queue veh",
            "devices online",
            "signal",
        ):
            t.add_column(col, justify="left" if col == "intersection" else "right")
        places = sorted(set(self.latest) | set(self.device_place.values()) | set(self.cabinets))
        for inter in places:
            devs = self.latest.get(inter, {})
            loops = [o for o in devs.values() if o.device_type is DeviceType.LOOP]
            cams = [o for o in devs.values() if o.device_type is DeviceType.CAMERA]
            flow = sum(o.intensity * 3600.0 / o.period_s for o in loops)
            occ = [o.occupancy for o in loops if o.occupancy is not None]
            spd = [o.speed_kmh for o in loops if o.speed_kmh is not None]
            queue_veh = sum(o.queue_veh or 0 for o in cams)
            known = [d for d, i in self.device_place.items() if i == inter]
            online = sum(self.status.get(d) == "online" for d in known)
            t.add_row(
                escape(inter),
                f"{flow:,.0f}" if loops else "-",
                f"{sum(occ) / len(occ):.2f}" if occ else "-",
                f"{sum(spd) / len(spd):.1f}" if spd else "-",
                str(queue_veh) if cams else "-",
                f"{online}/{len(known)}",
                _signal_cell(self.cabinets.get(inter)),
            )
        return t

    def _title(self) -> str:
        fallen = sum(c.alarm for c in self.cabinets.values())
        alarm = f" · [bold red]{fallen} cabinet(s) on fallback[/]" if fallen else ""
        clock = "" if self.sim_time_s is None else f" · simulated t = {self.sim_time_s:,.0f} s"
        bad = f" · {self.unreadable} unreadable" if self.unreadable else ""
        root = escape(self.root)
        return f"{root} feed · {self.messages} messages{clock}{bad}{alarm}"


def _signal_cell(status: CabinetStatus | None) -> str:
    """Who runs the cabinet: the centre (its mode), its stored plan, or the fallback alarm."""
    if status is None:
        return "-"
    if status.alarm:
        return f"[bold red]FALLBACK[/] since {status.sim_time_s:,.0f} s"
    if status.central:
        return f"centre ({status.mode.value})"
    return "stored plan"


def watch(
    cfg: BrokerConfig, topic_filter: str, root: str, duration_s: float | None, console: Console
) -> FeedView:
    """Show the feed until Ctrl-C or SIGTERM (or ``duration_s``); returns what it saw."""
    view = FeedView(root=root)
    sub = Subscriber(
        cfg,
        f"trafficsim-watch-{int(time.time() * 1000) % 10**9}",
        topic_filter,
        max_queue=100_000,
    ).start()
    if not console.is_terminal:
        console.print(f"watching {topic_filter} on {cfg.url} (Ctrl-C to stop)", highlight=False)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    stop = threading.Event()
    old = signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def going() -> bool:
        return not stop.is_set() and (deadline is None or time.monotonic() < deadline)

    def pump(until: float) -> None:
        while time.monotonic() < until and not stop.is_set():
            try:
                m = sub.messages.get(timeout=max(0.0, min(0.2, until - time.monotonic())))
            except queue.Empty:
                continue
            view.update(m.topic, m.payload)

    try:
        if console.is_terminal:
            with Live(view.table(), console=console, refresh_per_second=2) as live:
                while going():
                    pump(time.monotonic() + 0.5)
                    live.update(view.table())
        else:
            while going():
                pump(time.monotonic() + 0.5)
            console.print(view.table())
    except KeyboardInterrupt:
        console.print(view.table())
    finally:
        signal.signal(signal.SIGTERM, old)
        sub.stop()
    for line in view.bad:
        console.print(f"[yellow]unreadable message[/] {escape(line)}", highlight=False)
    return view
