"""``trafficsim watch`` and ``record``: clients of a running feed, the one showing it live,
the other writing it to Parquet."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape

from trafficsim.runner.cli.common import (
    Subparsers,
    UsageError,
    add_broker_args,
    add_stop_after,
    broker_config,
    broker_reachable,
    output_dir,
    require_positive_seconds,
    topics_from_args,
)


def register(sub: Subparsers) -> None:
    """Add ``watch`` and ``record``."""
    wa = sub.add_parser(
        "watch",
        help="show the live MQTT feed as a refreshing table",
        description=(
            "Subscribe to a feed and show, per intersection, the latest loop flow, occupancy "
            "and speed, the camera queues and how many devices are online. Ctrl-C to stop."
        ),
    )
    add_broker_args(wa)
    wa.add_argument(
        "--topic",
        metavar="FILTER",
        help="topic filter (default ROOT/#, e.g. 'hcmc/sensors/r0c0/#')",
    )
    add_stop_after(wa)
    wa.set_defaults(handler=_watch)

    rec = sub.add_parser(
        "record",
        help="record the MQTT feed to Parquet files",
        description=(
            "Subscribe and write every reading to DIR/readings-NNNNNN.parquet, one complete "
            "file every --roll seconds (a killed recorder loses at most that much), counting "
            "lost readings by sequence gaps into DIR/record_stats.json. Unreadable messages "
            "are kept in DIR/rejected.jsonl. Ctrl-C (or SIGTERM) to stop."
        ),
    )
    add_broker_args(rec)
    rec.add_argument("--out", required=True, metavar="DIR")
    rec.add_argument("--topic", metavar="FILTER", help="topic filter (default ROOT/#)")
    rec.add_argument(
        "--roll", type=float, default=5.0, metavar="S", help="seconds per file (default 5)"
    )
    rec.add_argument(
        "--client-id",
        default="recorder",
        metavar="ID",
        help="MQTT client id of the recorder's persistent session (default recorder; give "
        "each recorder of one broker its own)",
    )
    add_stop_after(rec)
    rec.set_defaults(handler=_record)


def _feed_source(args: argparse.Namespace) -> tuple[Any, str]:
    """The broker and the topic filter of a feed client, its ``--duration`` checked."""
    cfg = broker_config(args)
    topic = args.topic or topics_from_args(args).all()
    require_positive_seconds("--duration", args.duration)
    return cfg, topic


def _watch(args: argparse.Namespace) -> int:
    from trafficsim.runner.watch import watch

    cfg, topic = _feed_source(args)
    with broker_reachable():
        watch(cfg, topic, args.topic_root, args.duration, Console())
    return 0


def _record(args: argparse.Namespace) -> int:
    from trafficsim.runner.record import record

    cfg, topic = _feed_source(args)
    require_positive_seconds("--roll", args.roll)
    if not args.client_id.strip():
        raise UsageError("--client-id", "give a client id, e.g. --client-id recorder-2")
    args.out = output_dir(args.out)
    console = Console()

    def ready() -> None:
        console.print(
            escape(f"recording {topic} from {cfg.url} into {args.out} (Ctrl-C to stop)"),
            highlight=False,
        )

    with broker_reachable():
        stats = record(
            cfg,
            topic,
            args.out,
            args.roll,
            args.duration,
            args.topic_root,
            args.client_id,
            on_ready=ready,
        ).as_dict()
    console.print(
        f"recorded {stats['readings']} readings from {stats['devices']} devices in "
        f"{stats['files']} files; lost by sequence gaps: {stats['lost_by_seq']}; "
        f"rejected: {stats['rejected']}",
        highlight=False,
    )
    return 0
