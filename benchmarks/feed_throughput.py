"""Feed throughput: the project's publisher against a bare paho client, on a local Mosquitto.

Usage: python benchmarks/feed_throughput.py [--rates 1000 2000 5000 10000] [--seconds 5]
                                            [--devices 400] [--max-messages 60000]

Starts Mosquitto on a free loopback port (the embedded broker's configuration) and a
subscriber in a separate process. For each rate, the project's own publishing code
(``FeedPublisher``: FIWARE payload, JSON, one MQTT client per device, QoS 1) publishes loop
readings of ``--devices`` devices at that rate for ``--seconds``; then both it and a bare paho
client (one client, QoS 1, the same payload bytes prepared in advance) publish
``--max-messages`` as fast as they can. Prints one JSON line per step: messages sent and
delivered, delivered msg/s, lost (by device and ``seq``), p50 and p99 latency (publish call
to arrival at the subscriber, one clock), and a last line with the ratio of the project's
maximum delivered rate to bare paho's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import re
import time
from datetime import datetime, timedelta, timezone
from multiprocessing.connection import Connection

import numpy as np

SEQ = re.compile(rb'"deviceId":"([^"]+)".*"seq":(\d+)')


def subscriber(port: int, topic: str, conn: Connection) -> None:
    """Count arrivals per (device, seq) with their arrival time; report when told to."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    arrivals: dict[tuple[bytes, int], float] = {}
    dup = [0]

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        t = time.time()
        hit = SEQ.search(m.payload)
        if hit:
            key = (hit.group(1), int(hit.group(2)))
            if key in arrivals:
                dup[0] += 1
            else:
                arrivals[key] = t

    ready = []
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-subscriber")
    c.on_message = on_message
    c.on_subscribe = lambda *a: ready.append(1)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.subscribe(topic, qos=1)
    c.loop_start()
    while not ready:
        time.sleep(0.01)
    conn.send("ready")
    while True:
        cmd = conn.recv()
        if cmd == "stop":
            break
        quiet_s = float(cmd)  # report once nothing arrived for quiet_s
        last = -1
        while len(arrivals) != last:
            last = len(arrivals)
            time.sleep(quiet_s)
        conn.send(
            (
                {
                    k.decode() if isinstance(k, bytes) else k: v
                    for k, v in ((f"{d.decode()}#{s}", t) for (d, s), t in arrivals.items())
                },
                dup[0],
            )
        )
        arrivals.clear()
        dup[0] = 0
    c.loop_stop()


def _stats(
    name: str, rate: float | None, sent: dict[str, float], got: dict[str, float], dup: int
) -> dict[str, object]:
    lat = np.array([got[k] - sent[k] for k in sent if k in got]) * 1000.0
    span = (max(got.values()) - min(sent.values())) if got else float("nan")
    return {
        "publisher": name,
        "target_msg_per_s": rate,
        "sent": len(sent),
        "delivered": len(got),
        "lost": len(set(sent) - set(got)),
        "duplicates": dup,
        "delivered_msg_per_s": round(len(got) / span, 1) if got else 0.0,
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 2) if len(lat) else None,
        "latency_ms_p99": round(float(np.percentile(lat, 99)), 2) if len(lat) else None,
    }


def ours(port: int, devices: int, rate: float | None, n_or_seconds: float) -> dict[str, float]:
    """Publish with the project's FeedPublisher; return send time per 'device#seq'."""
    from trafficsim.sensors.mqtt.feed import FeedPublisher
    from trafficsim.sensors.mqtt.topics import Topics
    from trafficsim.sensors.mqtt.transport import BrokerConfig
    from trafficsim.sensors.readings import DeviceInfo, DeviceKind, Reading

    infos = [
        DeviceInfo(
            f"loop-bench-{k:04d}",
            DeviceKind.LOOP,
            1.0,
            f"n{k % 100}",
            f"l{k}",
            f"l{k}:g",
            30.0,
            106.7,
            10.77,
        )
        for k in range(devices)
    ]
    start = datetime(2026, 3, 2, 7, tzinfo=timezone(timedelta(hours=7)))
    pub = FeedPublisher(
        BrokerConfig(port=port), infos, scenario="bench", start=start, topics=Topics("bench"), qos=1
    )
    pub.start()
    seq = [0] * devices
    sent: dict[str, float] = {}
    t0 = time.monotonic()
    total = 0
    limit = int(n_or_seconds) if rate is None else int(rate * n_or_seconds)
    while total < limit:
        due = limit if rate is None else min(limit, int(rate * (time.monotonic() - t0)) + 1)
        batch = []
        while total < due:
            k = total % devices
            seq[k] += 1
            info = infos[k]
            t = seq[k]
            batch.append(
                Reading(
                    info.device_id,
                    DeviceKind.LOOP,
                    t,
                    t - 1.0,
                    float(t),
                    info.intersection,
                    info.link,
                    info.lane_group,
                    7,
                    106.7,
                    10.77,
                    30.0,
                    0.2,
                    9.5,
                    2.5,
                )
            )
            total += 1
        now = time.time()
        for r in batch:
            sent[f"{r.device_id}#{r.seq}"] = now
        pub.publish(batch)
        if rate is not None:
            pub.idle(0.002)
    pub.close(60.0)
    return sent


def bare(port: int, n: int, payload_template: bytes) -> dict[str, float]:
    """A bare paho client (its own network thread) publishing prepared payloads."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare")
    c.max_inflight_messages_set(100)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    payloads = [
        payload_template.replace(b'"seq":1,', f'"seq":{i},'.encode()) for i in range(1, n + 1)
    ]
    sent: dict[str, float] = {}
    infos = []
    for i, p in enumerate(payloads, start=1):
        sent[f"bare-0001#{i}"] = time.time()
        infos.append(c.publish("bench/sensors/n0/bare-0001", p, qos=1))
    for info in infos:
        info.wait_for_publish(60)
    c.loop_stop()
    c.disconnect()
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--devices", type=int, default=400)
    parser.add_argument("--max-messages", type=int, default=60000)
    args = parser.parse_args()

    from trafficsim.sensors.mqtt.broker import EmbeddedBroker
    from trafficsim.sensors.mqtt.payloads import encode, reading_payload
    from trafficsim.sensors.readings import DeviceKind, Reading

    with EmbeddedBroker("mosquitto") as broker:
        parent, child = mp.Pipe()
        proc = mp.Process(target=subscriber, args=(broker.port, "bench/sensors/#", child))
        proc.start()
        parent.recv()

        def collect() -> tuple[dict[str, float], int]:
            parent.send("0.5")
            got, dup = parent.recv()
            return got, dup

        for rate in args.rates:
            sent = ours(broker.port, args.devices, rate, args.seconds)
            got, dup = collect()
            print(json.dumps(_stats("trafficsim", rate, sent, got, dup)), flush=True)
        sent = ours(broker.port, args.devices, None, args.max_messages)
        got, dup = collect()
        mine = _stats("trafficsim", None, sent, got, dup)
        print(json.dumps(mine), flush=True)
        start = datetime(2026, 3, 2, 7, tzinfo=timezone(timedelta(hours=7)))
        template = encode(
            reading_payload(
                Reading(
                    "bare-0001",
                    DeviceKind.LOOP,
                    1,
                    0.0,
                    1.0,
                    "n0",
                    "l0",
                    "l0:g",
                    7,
                    106.7,
                    10.77,
                    30.0,
                    0.2,
                    9.5,
                    2.5,
                ),
                scenario="bench",
                start=start,
                period_s=1.0,
            )
        )
        sent = bare(broker.port, args.max_messages, template)
        got, dup = collect()
        theirs = _stats("bare-paho", None, sent, got, dup)
        print(json.dumps(theirs), flush=True)
        parent.send("stop")
        proc.join(10)
    ratio = float(mine["delivered_msg_per_s"]) / float(theirs["delivered_msg_per_s"])  # type: ignore[arg-type]
    print(
        json.dumps({"max_rate_ratio_vs_bare_paho": round(ratio, 3), "payload_bytes": len(template)})
    )


if __name__ == "__main__":
    main()
