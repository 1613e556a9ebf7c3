"""The summary table of a run, printed by every kind of ``run`` (plain, live feed, closed
loop) from its ``summary.json`` dict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def print_summary(console: Console, s: dict[str, Any]) -> None:
    """The table every ``run`` prints: totals, then the ten approaches with most delay."""
    t = Table(
        title=f"{escape(s['scenario'])} · seed {s['seed']} · {s['sim_duration_s']:g} s simulated "
        f"in {s['wall_time_s']:.2f} s",
        show_header=False,
    )
    rows = [
        ("vehicles entered / completed", f"{s['vehicles_entered']} / {s['vehicles_completed']}"),
        (
            "in network / waiting to enter at end",
            f"{s['vehicles_in_network']} / {s['vehicles_waiting_to_enter']}",
        ),
        ("mean travel time", _fmt(s["mean_travel_time_s"], "s")),
        ("mean delay", _fmt(s["mean_delay_s"], "s")),
        (
            "mean delay as SUMO counts it (every vehicle)",
            _fmt(s["sumo_delay"]["mean_delay_s"], "s") if "sumo_delay" in s else "-",
        ),
        ("mean stops per vehicle", _fmt(s["mean_stops"], "")),
        ("mean speed", _fmt(s["mean_speed_kmh"], "km/h")),
        ("distance driven", _fmt(s["total_distance_km"], "km")),
        (
            f"CO2 ({s['emissions_fleet']} fleet)",
            f"{_fmt(s['co2_kg'], 'kg')}  ({_fmt(s['co2_g_per_km'], 'g/km')})",
        ),
        ("fuel", _fmt(s["fuel_l"], "l")),
        (
            "NOx / PM / CO",
            f"{_fmt(s['nox_g'], 'g')} / {_fmt(s['pm_g'], 'g')} / {_fmt(s['co_g'], 'g')}",
        ),
    ]
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    apps = sorted(s["approaches"], key=lambda a: -(a["mean_delay_s"] or 0.0))[:10]
    if apps:
        a_t = Table(title=f"approaches (worst {len(apps)} of {len(s['approaches'])} by delay)")
        for col in ("approach", "flow veh/h", "v/c", "delay s", "LOS", "max queue"):
            a_t.add_column(col, justify="right" if col != "approach" else "left")
        for a in apps:
            a_t.add_row(
                a["id"],
                f"{a['arrival_flow_veh_per_h']:.0f}",
                f"{a['v_over_c']:.2f}",
                _fmt(a["mean_delay_s"], ""),
                a["los"] or "-",
                str(a["max_queue_veh"]),
            )
        console.print(a_t)


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    return f"{v:,.2f} {unit}".strip()


def print_feed(console: Console, feed: Mapping[str, Any] | None) -> None:
    """What a run over MQTT published (``feed.json``), in one line."""
    if feed is None:
        return
    k = feed["readings_by_kind"]
    console.print(
        f"published {feed['readings_published']} readings ({k['loop']} loop, "
        f"{k['camera']} camera, {k['probe']} probe) from {feed['devices']} devices "
        f"to {feed['broker']}; unacknowledged: {feed['unacknowledged']}",
        highlight=False,
    )


def print_control(console: Console, control: Mapping[str, Any] | None) -> None:
    """What the closed loop did (``control.json``), in one line."""
    if control is None:
        return
    c = control
    console.print(
        f"{c['controller']}: {c['commands']} commands ({c['rejected']} rejected), "
        f"{c['fallbacks']} fallbacks, {c['missed_deadlines']} missed deadlines, "
        f"{c['forecasts']} forecasts",
        highlight=False,
    )
    episodes = c.get("fallback_episodes") or []
    if c.get("alarm") and episodes:
        first = min(e["fell_back_at_s"] for e in episodes)
        still = c.get("on_fallback_at_end") or []
        console.print(
            f"ALARM: {len({e['intersection'] for e in episodes})} cabinets fell back to their "
            f"stored plans (the centre went quiet; first at {first:g} s), "
            f"{len(still)} still on fallback at the end",
            highlight=False,
        )
