"""Run directories: summary.json, CSV tables and PNG plots of one run."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from trafficsim.sim import RunMetrics


def _fmt(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return "" if not np.isfinite(v) else f"{float(v):.6g}"
    if isinstance(v, np.integer):
        return int(v)
    return v


def _write_columns(path: Path, table: dict[str, Any]) -> Path:
    """A CSV with one column per entry of ``table`` (equal-length arrays)."""
    cols = list(table)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerows(zip(*(map(_fmt, table[c]) for c in cols), strict=True))
    return path


def write_run(result: RunMetrics, out: Path, *, plot: bool = True) -> list[Path]:
    """Write a run's files into ``out`` (created if needed) and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    p = out / "summary.json"
    p.write_text(json.dumps(result.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(p)

    written.append(_write_columns(out / "vehicles.csv", result.vehicles))

    p = out / "queues.csv"
    q = result.queues
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "approach", "queue_veh"])
        for i, name in enumerate(q["ids"]):
            for t, v in zip(q["t_s"], q["queue_veh"][i], strict=True):
                w.writerow([_fmt(t), name, int(v)])
    written.append(p)

    written.append(_write_columns(out / "network.csv", result.network))

    em = result.emissions
    if em is not None:
        for name, rows in (
            ("emissions_links.csv", em.links),
            ("emissions_intersections.csv", em.intersections),
        ):
            p = out / name
            with p.open("w", newline="", encoding="utf-8") as f:
                if rows:
                    dw = csv.DictWriter(f, fieldnames=list(rows[0]))
                    dw.writeheader()
                    dw.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
            written.append(p)
        written.append(_write_columns(out / "emissions_timeseries.csv", em.series))
    if plot:
        written.append(plot_run(result, out / "queues.png"))
    return written


def plot_run(result: RunMetrics, path: Path) -> Path:
    """Queue lengths of the busiest approaches and vehicles in the network over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q = result.queues
    dt = float(q["t_s"][1] - q["t_s"][0]) if len(q["t_s"]) > 1 else 60.0
    per_bin = max(1, round(60.0 / dt))
    n_bins = len(q["t_s"]) // per_bin
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    if len(q["ids"]) and n_bins:
        # Peak per minute: samples within a cycle swing between red and green, and a
        # per-minute peak shows the trend a traffic engineer looks for.
        qv = q["queue_veh"][:, : n_bins * per_bin].reshape(len(q["ids"]), n_bins, per_bin)
        peak_min = qv.max(axis=2)
        t_min = np.arange(n_bins) * per_bin * dt / 60.0
        top = np.argsort(-peak_min.max(axis=1), kind="stable")[:6]
        for i in top:
            ax1.step(t_min, peak_min[i], where="post", label=str(q["ids"][i]), lw=1.2)
        ax1.legend(fontsize=7, ncol=2, loc="upper left")
    ax1.set_ylabel("peak queue per minute (veh)")
    s = result.summary
    ax1.set_title(
        f"{s['scenario']} · seed {s['seed']} · the six approaches with the longest queues"
    )
    n = result.network
    ax2.plot(n["t_s"] / 60.0, n["vehicles_in_network"], label="in network")
    ax2.plot(n["t_s"] / 60.0, n["vehicles_waiting_to_enter"], label="waiting to enter")
    ax2.set_ylabel("vehicles")
    ax2.set_xlabel("simulated time (min)")
    ax2.legend(fontsize=8, loc="upper left")
    ax1.grid(alpha=0.3)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
