"""Controllers compared on common random numbers, on Dask.

Every controller runs on the same seeds (the same demand and sensor noise per seed), so the
difference to ``fixed`` is paired by seed: the confidence interval of a reduction is that of
the mean of per-seed differences (Student t, n - 1 degrees of freedom), which is far
narrower than comparing two independent means.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop
from trafficsim.sim import Scenario, compute

METRICS: tuple[tuple[str, str], ...] = (
    ("mean_delay_s", "mean delay (s/veh)"),
    ("mean_travel_time_s", "mean travel time (s)"),
    ("mean_stops", "stops per vehicle"),
    ("mean_queue_veh", "mean queued vehicles (network)"),
    ("throughput_veh_per_h", "vehicles completed per hour"),
    ("co2_kg", "CO2 (kg)"),
    ("nox_g", "NOx (g)"),
    ("pm_g", "PM (g)"),
)
HIGHER_IS_BETTER = {"throughput_veh_per_h"}


@dataclass(frozen=True, slots=True)
class Job:
    scenario: Scenario
    controller: str
    seed: int
    step_s: float = 2.0
    predictor_model: Path | None = None
    params: tuple[tuple[str, Any], ...] = ()
    detail: bool = False
    """Also return series, per-intersection figures and the other fleet's totals (report)."""
    name: str | None = None
    """The run's name in the results (default: the controller), e.g. ``fixed-retimed``."""


def run_job(job: Job) -> dict[str, Any]:
    """One closed-loop run in memory; returns the figures the comparison needs."""
    opts = LoopOptions(
        controller=job.controller,
        controller_params=job.params,
        step_s=job.step_s,
        predictor_model=job.predictor_model,
    )
    world, stats = run_closed_loop(job.scenario, job.seed, opts)
    result = compute(world)
    s = result.summary
    out = {k: s[k] for k, _ in METRICS if k in s}
    out["mean_queue_veh"] = round(sum(a["mean_queue_veh"] for a in s["approaches"]), 3)
    out["throughput_veh_per_h"] = round(
        s["vehicles_completed"] * 3600.0 / job.scenario.duration_s, 2
    )
    out["controller"] = job.name or job.controller
    out["seed"] = job.seed
    out["rejected_commands"] = stats.rejected
    out["fallbacks"] = stats.fallbacks
    if job.detail:
        from trafficsim.runner.report_data import run_detail

        out["detail"] = run_detail(world, result)
    return out


def t_quantile_975(df: int) -> float:
    """Two-sided 95 % Student t quantile (exact table to 30 degrees of freedom)."""
    table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
             2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
             2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]  # fmt: skip
    if df < 1:
        return math.nan
    return table[df - 1] if df <= 30 else 1.96 + 2.4 / df


def mean_ci(xs: Sequence[float]) -> tuple[float, tuple[float, float]]:
    a = np.asarray(xs, dtype=float)
    m = float(a.mean())
    if len(a) < 2:
        return m, (math.nan, math.nan)
    half = t_quantile_975(len(a) - 1) * float(a.std(ddof=1)) / math.sqrt(len(a))
    return m, (m - half, m + half)


def summarise(scenario: str, seeds: list[int], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``comparison.json``: means with 95 % CIs, and paired reductions vs ``fixed``."""
    by: dict[str, dict[int, dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["controller"], {})[r["seed"]] = r
    out: dict[str, Any] = {
        "scenario": scenario,
        "metrics": dict(METRICS),
        "seeds": seeds,
        "controllers": {},
        "reduction_vs_fixed": {},
        "runs": sorted(rows, key=lambda r: (r["controller"], r["seed"])),
    }
    for name, runs in by.items():
        out["controllers"][name] = {}
        for key, _ in METRICS:
            m, (lo, hi) = mean_ci([runs[s][key] for s in seeds])
            out["controllers"][name][key] = {"mean": _r(m), "ci95": [_r(lo), _r(hi)]}
    out["reduction_vs_fixed"] = paired_reductions(rows, seeds, "fixed")
    return out


def paired_reductions(
    rows: list[dict[str, Any]], seeds: list[int], baseline: str
) -> dict[str, dict[str, Any]]:
    """Every other run's reduction against ``baseline`` in % of the baseline's mean, with
    the 95 % CI of the per-seed differences (positive = better than the baseline)."""
    by: dict[str, dict[int, dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["controller"], {})[r["seed"]] = r
    base = by.get(baseline)
    out: dict[str, dict[str, Any]] = {}
    if base is None:
        return out
    for name, runs in by.items():
        if name == baseline:
            continue
        red: dict[str, Any] = {}
        for key, _ in METRICS:
            b = np.array([base[s][key] for s in seeds], dtype=float)
            x = np.array([runs[s][key] for s in seeds], dtype=float)
            sign = -1.0 if key in HIGHER_IS_BETTER else 1.0
            diff = sign * (b - x) / b.mean() * 100.0 if b.mean() else np.zeros_like(b)
            m, (lo, hi) = mean_ci(diff.tolist())
            red[key] = {"pct": _r(m), "ci95_pct": [_r(lo), _r(hi)]}
        out[name] = red
    return out


def _r(x: float) -> float | None:
    return None if not math.isfinite(x) else round(x, 4)


def markdown_table(cmp: dict[str, Any]) -> str:
    names = list(cmp["controllers"])
    lines = [
        f"# Controllers on `{cmp['scenario']}`, seeds {cmp['seeds']}",
        "",
        "Mean over seeds [95 % confidence interval]; reduction vs `fixed` paired by seed "
        "(positive = better than fixed).",
        "",
        "| metric | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for key, label in METRICS:
        cells = []
        for n in names:
            v = cmp["controllers"][n][key]
            cell = f"{_fmt(v['mean'])} [{_fmt(v['ci95'][0])}, {_fmt(v['ci95'][1])}]"
            red = cmp["reduction_vs_fixed"].get(n, {}).get(key)
            if red is not None:
                lo, hi = red["ci95_pct"]
                cell += f"<br>{_fmt(red['pct'])} % [{_fmt(lo)}, {_fmt(hi)}]"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def run_comparison(
    scenario: Scenario,
    controllers: list[str],
    seeds: list[int],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    step_s: float = 2.0,
    predictor_model: Path | None = None,
    fixed_params: dict[str, Any] | None = None,
    detail: bool = False,
    on_done: Callable[[dict[str, Any]], None] = lambda r: None,
) -> dict[str, Any]:
    """Run every (controller, seed) on Dask and summarise. ``scheduler``: address of a
    ``dask.distributed`` scheduler; otherwise a local cluster of ``workers`` processes.
    ``predictor_model``: the predictor runs in the loop of the ``predictive`` runs (the
    path must be readable by the workers)."""
    fixed = tuple((fixed_params or {}).items())
    jobs = [
        Job(
            scenario,
            c,
            s,
            step_s,
            predictor_model if c == "predictive" else None,
            fixed if c == "fixed" else (),
            detail,
        )
        for c in controllers
        for s in seeds
    ]
    rows = run_jobs(jobs, workers=workers, scheduler=scheduler, on_done=on_done)
    return comparison(scenario.name, seeds, rows)


def comparison(scenario: str, seeds: list[int], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`summarise`, with the runs' report details (if any) under ``_details``."""
    details = {(r["controller"], r["seed"]): r.pop("detail") for r in rows if "detail" in r}
    cmp = summarise(scenario, seeds, rows)
    if details:
        cmp["_details"] = details  # for the report; never written to comparison.json
    return cmp


def run_jobs(
    jobs: Sequence[Job],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    on_done: Callable[[dict[str, Any]], None] = lambda r: None,
) -> list[dict[str, Any]]:
    """Every job on Dask, results in the jobs' order. One cluster for all of them, so the
    workers stay busy until the last run whatever the runs' lengths."""
    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    rows: list[dict[str, Any] | None] = [None] * len(jobs)
    try:
        futures = client.map(run_job, list(jobs), pure=False)
        where = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            row = fut.result()
            rows[where[fut.key]] = row
            on_done(row)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return [r for r in rows if r is not None]


def plot_reductions(cmp: dict[str, Any], path: Path) -> None:
    """Bars of the reduction vs fixed (delay, travel time, CO2) with their paired 95 % CIs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(cmp["reduction_vs_fixed"])
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), constrained_layout=True)
    keys = (
        ("mean_delay_s", "mean delay"),
        ("mean_travel_time_s", "travel time"),
        ("co2_kg", "CO2"),
    )
    for ax, (key, label) in zip(axes, keys, strict=True):
        red = [cmp["reduction_vs_fixed"][n][key] for n in names]
        pct = [r["pct"] or 0.0 for r in red]
        lo = [
            p - (r["ci95_pct"][0] if r["ci95_pct"][0] is not None else p)
            for p, r in zip(pct, red, strict=True)
        ]
        hi = [
            (r["ci95_pct"][1] if r["ci95_pct"][1] is not None else p) - p
            for p, r in zip(pct, red, strict=True)
        ]
        ax.bar(names, pct, yerr=[lo, hi], capsize=4, color="#4c72b0")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(f"{label}: reduction vs fixed (%)")
        ax.tick_params(axis="x", labelrotation=20)
    fig.supxlabel(
        f"{cmp['scenario']}, seeds {cmp['seeds'][0]}..{cmp['seeds'][-1]}; "
        "error bars: 95 % confidence interval of the difference, paired by seed",
        fontsize=9,
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_comparison(cmp: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    j, m = out / "comparison.json", out / "comparison.md"
    public = {k: v for k, v in cmp.items() if not k.startswith("_")}
    j.write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")
    m.write_text(markdown_table(cmp), encoding="utf-8")
    files = [j, m]
    if cmp["reduction_vs_fixed"]:
        files.append(out / "comparison.png")
        plot_reductions(cmp, files[-1])
    return files
