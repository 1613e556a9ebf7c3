"""``trafficsim watch``: the live feed as a refreshing table, one row per intersection."""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from trafficsim.sensors.mqtt.messages import Clock
from trafficsim.sensors.mqtt.payloads import PayloadError, decode
from trafficsim.sensors.mqtt.topics import TopicKind, Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig, Subscriber


@dataclass
class FeedView:
    """The latest reading of every device, grouped by intersection, and device status."""

    root: str = "hcmc"
    latest: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    status: dict[str, str] = field(default_factory=dict)
    device_place: dict[str, str] = field(default_factory=dict)
    sim_time_s: float | None = None
    messages: int = 0
    bad: list[str] = field(default_factory=list)

    def update(self, topic: str, payload: bytes) -> None:
        self.messages += 1
        parsed = Topics(self.root).parse(topic)
        kind = parsed.kind if parsed else None
        try:
            if kind is TopicKind.READING and parsed:
                p = decode(topic, payload)
                self.latest[parsed.place][parsed.name] = p
                self.device_place[parsed.name] = parsed.place
            elif kind is TopicKind.STATUS and parsed:
                self.status[parsed.name] = payload.decode("utf-8", "replace")
            elif kind is TopicKind.DEVICE_META and parsed:
                # Only the device's place is needed here: the rest of its metadata may be
                # whatever a third-party device publishes.
                place = decode(topic, payload).get("intersection")
                if isinstance(place, str) and place:
                    self.device_place[parsed.name] = place
            elif kind is TopicKind.CLOCK:
                self.sim_time_s = Clock.from_payload(decode(topic, payload), topic).sim_time_s
        except PayloadError as exc:
            self.bad.append(str(exc))  # names the topic already
        except (ValueError, TypeError) as exc:
            self.bad.append(f"{topic}: {exc}")

    def table(self) -> Table:
        t = Table(title=self._title(), expand=False)
        for col in (
            "intersection",
            "flow veh/h",
            "occupancy",
            "speed km/h",
            "queue veh",
            "devices online",
        ):
            t.add_column(col, justify="left" if col == "intersection" else "right")
        places = sorted(set(self.latest) | set(self.device_place.values()))
        for inter in places:
            devs = self.latest.get(inter, {})
            loops = [p for p in devs.values() if p.get("deviceType") == "inductiveLoop"]
            cams = [p for p in devs.values() if p.get("deviceType") == "camera"]
            flow = sum(
                p.get("intensity", 0) * 3600.0 / float(p.get("periodSeconds") or 60.0)
                for p in loops
            )
            occ = [p["occupancy"] for p in loops if "occupancy" in p]
            spd = [p["averageVehicleSpeed"] for p in loops if "averageVehicleSpeed" in p]
            queue_veh = sum(p.get("queueLengthVehicles", 0) for p in cams)
            known = [d for d, i in self.device_place.items() if i == inter]
            online = sum(self.status.get(d) == "online" for d in known)
            t.add_row(
                inter,
                f"{flow:,.0f}" if loops else "-",
                f"{sum(occ) / len(occ):.2f}" if occ else "-",
                f"{sum(spd) / len(spd):.1f}" if spd else "-",
                str(queue_veh) if cams else "-",
                f"{online}/{len(known)}",
            )
        return t

    def _title(self) -> str:
        clock = "" if self.sim_time_s is None else f" · simulated t = {self.sim_time_s:,.0f} s"
        bad = f" · {len(self.bad)} unreadable" if self.bad else ""
        return f"{self.root} feed · {self.messages} messages{clock}{bad}"


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
    for line in view.bad[:5]:
        console.print(f"[yellow]unreadable message[/] {line}", highlight=False)
    return view
