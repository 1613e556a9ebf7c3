"""The impact report: what AI + IoT signal control would save on the HCMC centre scenario.

``trafficsim report`` runs every controller on the same seeds (as ``compare`` does, with the
figures per run a report needs), a demand sensitivity, and writes ``report.md``,
``report.html``, ``comparison.json`` and the figures (PNG) into one directory. Every number
in the text is formatted from ``comparison.json`` or from the per-run figures, so the same
command and seeds give the same report.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trafficsim.runner.compare import write_comparison
from trafficsim.runner.design_flows import counted_design_flows
from trafficsim.runner.report_config import CityAssumptions, Sensitivity
from trafficsim.runner.stats import METRICS, comparison, mean_ci, paired_reductions, summarise
from trafficsim.runner.sweep import Job, run_jobs
from trafficsim.sim import Scenario, lon_lat

RETIMED = "fixed-retimed"
"""Today's fixed-time plans retimed by Webster's method to the peak hour's counts."""
CONTROLLERS = ["fixed", RETIMED, "actuated", "max-pressure", "predictive"]
ADAPTIVE = CONTROLLERS[2:]
LABEL = dict(METRICS)


def _fmt(x: float | None, nd: int = 1) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:,.{nd}f}"


def _pct(red: dict[str, Any]) -> str:
    lo, hi = red["ci95_pct"]
    return f"{_fmt(red['pct'])} % [{_fmt(lo)}, {_fmt(hi)}]"


@dataclass(frozen=True)
class Case:
    group: str
    """``demand``, ``detectors``, ``faults`` or ``predictor``."""
    label: str
    level: float
    """The case's value on its axis of the sensitivity figure (NaN: no axis)."""
    scenario: Scenario
    predictor_model: Path | None
    sensors_only: bool
    """Only the sensors or the predictor change: fixed-time traffic is the same as modelled
    (sensors draw from a random stream of their own and fixed time reads none), so the
    as-modelled fixed-time runs are the baseline and are not run again."""


def sensitivity_cases(
    scenario: Scenario, plan: Sensitivity, predictor_model: Path | None
) -> list[Case]:
    cases = [
        Case("demand", f"demand {100 * (f - 1):+.0f} %", f, _scale_demand(scenario, f),
             predictor_model, sensors_only=False)
        for f in plan.demand_factors
    ]  # fmt: skip
    cases += [
        Case("detectors", f"detectors at {share:.0%} of the intersections", share,
             instrumented(scenario, share), predictor_model, sensors_only=True)
        for share in plan.instrumented_shares
    ]  # fmt: skip
    cases += [
        Case("faults", f"sensor fault rates x{f:g}", f, more_faults(scenario, f),
             predictor_model, sensors_only=True)
        for f in plan.fault_factors
    ]  # fmt: skip
    if predictor_model is not None:
        cases.append(Case("predictor", "predictor switched off", math.nan, scenario, None, True))
    return cases


def build_report(
    scenario: Scenario,
    seeds: list[int],
    out: Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    step_s: float = 2.0,
    sensitivity: Sensitivity | None = None,
    predictor_model: Path | None = None,
    city: CityAssumptions | None = None,
    command: str = "",
    on_total: Callable[[int], None] = lambda n: None,
    on_done: Callable[[dict[str, Any]], None] = lambda r: None,
) -> list[Path]:
    """Run every job of the report on one Dask cluster and write its files into ``out``.
    ``command`` is quoted in the report so a reader can reproduce it."""
    city = city or CityAssumptions()
    plan = sensitivity or Sensitivity()
    out.mkdir(parents=True, exist_ok=True)
    sens_seeds = seeds[: max(2, min(plan.seeds, len(seeds)))]
    cases = sensitivity_cases(scenario, plan, predictor_model)
    retimed = tuple(counted_design_flows(scenario).items())
    jobs = [
        Job(scenario, c, s, step_s, predictor_model if c == "predictive" else None, detail=True)
        if c != RETIMED
        else Job(scenario, "fixed", s, step_s, None, retimed, detail=True, name=RETIMED)
        for c in CONTROLLERS
        for s in seeds
    ]
    owner: list[Case | None] = [None] * len(jobs)
    for case in cases:
        names = ["predictive"] if case.sensors_only else ["fixed", "predictive"]
        for c in names:
            for s in sens_seeds:
                model = case.predictor_model if c == "predictive" else None
                jobs.append(Job(case.scenario, c, s, step_s, model))
                owner.append(case)
    on_total(len(jobs))
    rows = run_jobs(jobs, workers=workers, scheduler=scheduler, on_done=on_done)
    main = [r for r, o in zip(rows, owner, strict=True) if o is None]
    cmp = comparison(scenario.name, seeds, main)
    vs_retimed = paired_reductions(cmp["runs"], seeds, RETIMED)
    details: dict[tuple[str, int], dict[str, Any]] = cmp["_details"]
    base = [r for r in cmp["runs"] if r["seed"] in sens_seeds]
    as_modelled = summarise(scenario.name, sens_seeds, base)
    results: dict[str, dict[str, Any]] = {}
    for case in cases:
        own = [r for r, o in zip(rows, owner, strict=True) if o is case]
        if case.sensors_only:
            own += [r for r in base if r["controller"] == "fixed"]
        results[case.label] = summarise(case.scenario.name, sens_seeds, own)
    files = write_comparison(cmp, out)
    figs = _figures(cmp, details, seeds, out, scenario)
    figs.append(_sensitivity_figure(cases, results, as_modelled, sens_seeds, out))
    city_rows = _city(cmp, details, seeds, scenario, city)
    md = _markdown(
        scenario, cmp, vs_retimed, details, seeds, cases, results, as_modelled, sens_seeds,
        city, city_rows, predictor_model, command,
    )  # fmt: skip
    (out / "report.md").write_text(md, encoding="utf-8")
    (out / "report.html").write_text(_html(md, out), encoding="utf-8")
    data = {
        "command": command,
        "reduction_vs_retimed": vs_retimed,
        "city": city_rows,
        "sensitivity_seeds": sens_seeds,
        "sensitivity_as_modelled": _public(as_modelled),
        "sensitivity": {
            c.label: {
                "group": c.group,
                "level": None if math.isnan(c.level) else c.level,
                **_public(results[c.label]),
            }
            for c in cases
        },
    }
    (out / "report_data.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return [
        *files,
        out / "report.md",
        out / "report.html",
        out / "report_data.json",
        *(out / f for f in figs),
    ]


def _public(cmp: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cmp.items() if not k.startswith("_") and k != "runs"}


def _scale_demand(sc: Scenario, factor: float) -> Scenario:
    demands = tuple(
        dataclasses.replace(d, profile=tuple((t, q * factor) for t, q in d.profile))
        for d in sc.demands
    )
    return dataclasses.replace(sc, demands=demands)


def instrumented(sc: Scenario, share: float) -> Scenario:
    """Loops and cameras at ``share`` of the signalized intersections, spread evenly over
    their sorted ids (0.5: every other one); the controllers leave the others on their
    stored plans."""
    from trafficsim.sensors.deployment import device_id_for

    if not 0.0 < share <= 1.0:
        raise ValueError(f"instrumented share must be in (0, 1], got {share}")
    signals = sorted(s.node for s in sc.signals)
    k = max(1, round(share * len(signals)))
    keep = {signals[int(i * len(signals) / k)] for i in range(k)}
    to_node = {ln.id: ln.to_node for ln in sc.links}
    groups = sorted(
        {f"{m.from_link}:{m.signal_group}" for m in sc.movements
         if m.signal_group is not None and to_node[m.from_link] in keep}
    )  # fmt: skip
    sensors = {
        **dict(sc.sensors),
        "default_deployment": False,
        "loops": [{"id": device_id_for("loop", g), "lane_group": g} for g in groups],
        "cameras": [{"id": device_id_for("cam", g), "lane_group": g} for g in groups],
    }
    return dataclasses.replace(sc, sensors=sensors)


def more_faults(sc: Scenario, factor: float) -> Scenario:
    """Every device's lost-reading, stuck and offline rates ``factor`` times the defaults
    (noise and bias unchanged)."""
    from trafficsim.sensors.deployment import FaultSpec

    base = FaultSpec()
    faults = {
        "drop": min(1.0, base.drop * factor),
        "stuck": min(1.0, base.stuck * factor),
        "offline": min(1.0, base.offline * factor),
    }
    return dataclasses.replace(sc, sensors={**dict(sc.sensors), "faults": faults})


def _mean_series(
    details: dict[tuple[str, int], dict[str, Any]], name: str, key: str, seeds: list[int]
) -> np.ndarray:
    rows = [np.array(details[(name, s)][key], dtype=float) for s in seeds]
    mean: np.ndarray = np.nanmean(np.vstack(rows), axis=0)
    return mean


def _per_node(
    details: dict[tuple[str, int], dict[str, Any]], name: str, key: str, seeds: list[int]
) -> dict[str, float]:
    nodes = details[(name, seeds[0])]["intersections"]
    out = {}
    for node in nodes:
        vals = [details[(name, s)]["intersections"][node][key] for s in seeds]
        vals = [v for v in vals if v is not None]
        out[node] = float(np.mean(vals)) if vals else math.nan
    return out


def _figures(
    cmp: dict[str, Any],
    details: dict[tuple[str, int], dict[str, Any]],
    seeds: list[int],
    out: Path,
    scenario: Scenario,
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(cmp["controllers"])
    bin_min = details[(names[0], seeds[0])]["bin_s"] / 60.0
    files = []
    for key, ylabel, fname in (
        ("delay_s", "mean delay of vehicles finishing (s)", "delay_over_time.png"),
        ("queue_veh", "vehicles queued at stop lines", "queue_over_time.png"),
    ):
        fig, ax = plt.subplots(figsize=(8, 3.6), constrained_layout=True)
        for n in names:
            y = _mean_series(details, n, key, seeds)
            ax.plot(np.arange(len(y)) * bin_min + bin_min / 2, y, label=n)
        ax.set_xlabel("minutes from the start of the peak")
        ax.set_ylabel(ylabel)
        ax.legend()
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
        files.append(fname)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), constrained_layout=True)
    for ax, key in zip(axes, ("co2_kg", "nox_g", "pm_g"), strict=True):
        m = [cmp["controllers"][n][key]["mean"] for n in names]
        lo = [cmp["controllers"][n][key]["ci95"][0] for n in names]
        hi = [cmp["controllers"][n][key]["ci95"][1] for n in names]
        err = [
            [a - b for a, b in zip(m, lo, strict=True)],
            [b - a for a, b in zip(m, hi, strict=True)],
        ]
        ax.bar(names, m, yerr=err, capsize=4, color="#55a868")
        ax.set_title(LABEL[key])
        ax.tick_params(axis="x", labelrotation=20)
    fig.savefig(out / "emissions.png", dpi=110)
    plt.close(fig)
    files.append("emissions.png")
    nodes = details[(names[0], seeds[0])]["intersections"]
    lon = np.array([nodes[n]["lon"] for n in nodes])
    lat = np.array([nodes[n]["lat"] for n in nodes])
    fixed_delay = _per_node(details, "fixed", "delay_s", seeds)
    fixed_co2 = _per_node(details, "fixed", "co2_kg", seeds)
    best_co2 = _per_node(details, "predictive", "co2_kg", seeds)
    red = {
        n: 100.0 * (fixed_co2[n] - best_co2[n]) / fixed_co2[n] if fixed_co2[n] else math.nan
        for n in nodes
    }
    for values, title, fname, cmap in (
        (fixed_delay, "mean delay under fixed time (s/veh)", "map_delay.png", "Reds"),
        (red, "CO2 reduction, predictive vs fixed (%)", "map_co2_reduction.png", "Greens"),
    ):
        fig, ax = plt.subplots(figsize=(6.5, 5.5), constrained_layout=True)
        where = {
            n.id: lon_lat(scenario.origin_lat, scenario.origin_lon, n.x_m, n.y_m)
            for n in scenario.nodes
        }
        for ln in scenario.links:  # the streets, for orientation
            (x0, y0), (x1, y1) = where[ln.from_node], where[ln.to_node]
            ax.plot([x0, x1], [y0, y1], color="#bbbbbb", lw=0.8, zorder=0)
        sc = ax.scatter(
            lon, lat, c=[values[n] for n in nodes], s=120, cmap=cmap, edgecolors="black"
        )
        for n, x, y in zip(nodes, lon, lat, strict=True):
            ax.annotate(n, (x, y), fontsize=6, xytext=(4, 4), textcoords="offset points")
        fig.colorbar(sc, ax=ax, label=title)
        ax.ticklabel_format(useOffset=False)
        ax.locator_params(axis="x", nbins=4)
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        ax.set_aspect(1.0 / math.cos(math.radians(float(lat.mean()))))
        ax.set_title(title)
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
        files.append(fname)
    return files


def _city(
    cmp: dict[str, Any],
    details: dict[tuple[str, int], dict[str, Any]],
    seeds: list[int],
    sc: Scenario,
    city: CityAssumptions,
) -> dict[str, Any]:
    """Annual savings city-wide, from per-intersection savings per peak (paired by seed)."""
    n_signals = len(details[("fixed", seeds[0])]["intersections"])
    scale = (
        city.signalized_intersections
        * city.share_like_modelled
        / n_signals
        * city.peaks_per_day
        * city.working_days_per_year
    )
    runs = {(r["controller"], r["seed"]): r for r in cmp["runs"]}
    out: dict[str, Any] = {"peaks_per_year_per_modelled_network": scale}
    for name in CONTROLLERS[1:]:
        rows = {}
        for key, unit, conv in (
            ("co2_kg", "t CO2", 1e-3),
            ("nox_g", "t NOx", 1e-6),
            ("pm_g", "t PM", 1e-6),
        ):
            diff = [(runs[("fixed", s)][key] - runs[(name, s)][key]) * conv * scale for s in seeds]
            m, (lo, hi) = mean_ci(diff)
            rows[unit] = {"mean": m, "ci95": [lo, hi]}
        hours = []
        for s in seeds:
            f, c = runs[("fixed", s)], runs[(name, s)]
            veh = f["throughput_veh_per_h"] * sc.duration_s / 3600.0
            hours.append((f["mean_delay_s"] - c["mean_delay_s"]) * veh / 3600.0 * scale)
        m, (lo, hi) = mean_ci(hours)
        rows["vehicle-hours of delay"] = {"mean": m, "ci95": [lo, hi]}
        out[name] = rows
    return out


def _sensitivity_figure(
    cases: list[Case],
    results: dict[str, dict[str, Any]],
    as_modelled: dict[str, Any],
    sens_seeds: list[int],
    out: Path,
) -> str:
    """Delay and CO2 reduction against each swept input, the as-modelled point included."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes_of = (
        ("demand", "demand (x the calibrated peak)"),
        ("detectors", "share of intersections with detectors"),
        ("faults", "sensor fault rates (x the defaults)"),
    )
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), constrained_layout=True, sharey=True)
    base = as_modelled["reduction_vs_fixed"]["predictive"]
    for ax, (group, xlabel) in zip(axes, axes_of, strict=True):
        pts = [(1.0, base)] + [
            (c.level, results[c.label]["reduction_vs_fixed"]["predictive"])
            for c in cases
            if c.group == group
        ]
        pts.sort(key=lambda p: p[0])
        x = [p[0] for p in pts]
        for key, label, color in (
            ("mean_delay_s", "mean delay", "#c44e52"),
            ("co2_kg", "CO2", "#55a868"),
        ):
            y = [p[1][key]["pct"] for p in pts]
            lo = [_or(p[1][key]["ci95_pct"][0], v) for p, v in zip(pts, y, strict=True)]
            hi = [_or(p[1][key]["ci95_pct"][1], v) for p, v in zip(pts, y, strict=True)]
            err = [[v - a for v, a in zip(y, lo, strict=True)],
                   [b - v for v, b in zip(y, hi, strict=True)]]  # fmt: skip
            ax.errorbar(x, y, yerr=err, marker="o", capsize=3, color=color, label=label)
        ax.axvline(1.0, color="#888888", lw=0.8, ls=":")
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set_xlabel(xlabel)
    axes[0].set_ylabel("reduction vs fixed time (%)")
    axes[0].legend()
    fig.suptitle(
        f"predictive vs fixed time, seeds {sens_seeds}; dotted: as modelled; "
        "bars: 95 % CI paired by seed",
        fontsize=10,
    )
    fig.savefig(out / "sensitivity.png", dpi=110)
    plt.close(fig)
    return "sensitivity.png"


def _or(x: float | None, default: float) -> float:
    return default if x is None else x


def _markdown(
    sc: Scenario,
    cmp: dict[str, Any],
    vs_retimed: dict[str, Any],
    details: dict[tuple[str, int], dict[str, Any]],
    seeds: list[int],
    cases: list[Case],
    results: dict[str, dict[str, Any]],
    as_modelled: dict[str, Any],
    sens_seeds: list[int],
    city: CityAssumptions,
    city_rows: dict[str, Any],
    predictor_model: Path | None,
    command: str,
) -> str:
    red = cmp["reduction_vs_fixed"]
    ctl = cmp["controllers"]
    fixed_speed = [details[("fixed", s)]["network_speed_kmh"] for s in seeds]
    n_signals = len(details[("fixed", seeds[0])]["intersections"])
    co2 = _per_node(details, "fixed", "co2_kg", seeds)
    idle = _per_node(details, "fixed", "idle_share", seeds)
    sag = _per_node(details, "fixed", "stop_and_go_share", seeds)
    qmax = _per_node(details, "fixed", "max_queue_veh", seeds)
    top = sorted(co2, key=lambda n: -co2[n])[:5]
    best = max(ADAPTIVE, key=lambda n: red[n]["mean_delay_s"]["pct"] or -math.inf)
    forecasts = (
        "with the congestion predictor's forecasts in the loop"
        if predictor_model is not None
        else "on measured flows (no predictor model given: `--predictor`)"
    )
    lines = [
        f"# What AI + IoT signal control would save: `{sc.name}`",
        "",
        f"Scenario: {sc.name}, {sc.duration_s / 3600:.1f} h from {sc.start_time.isoformat()}, "
        f"{n_signals} signalized intersections; seeds {seeds}; every controller on the same "
        "seeds (common random numbers). Fixed-time baseline network speed: "
        f"{_fmt(min(fixed_speed))}-{_fmt(max(fixed_speed))} km/h. The `predictive` controller "
        f"plans {forecasts}.",
        "",
    ]
    if command:
        lines += [f"Reproduce: `{command}`", ""]
    # Key findings, each sentence formatted from the tables below.
    city_best = city_rows[best]
    by_share = [c for c in cases if c.group == "detectors"]
    lines += [
        "## Key findings",
        "",
        "- Under today's fixed-time plans a vehicle loses "
        f"{_fmt(ctl['fixed']['mean_delay_s']['mean'])} s on average at the modelled signals; "
        "the peak emits "
        f"{_fmt(ctl['fixed']['co2_kg']['mean'] / 1000.0)} t CO2.",
        f"- `{best}` control cuts the mean delay by {_pct(red[best]['mean_delay_s'])} and CO2 by "
        f"{_pct(red[best]['co2_kg'])} on the same demand (95 % confidence intervals); "
        + ", ".join(
            f"`{n}` {_fmt(red[n]['mean_delay_s']['pct'])} % / {_fmt(red[n]['co2_kg']['pct'])} %"
            for n in ADAPTIVE
            if n != best
        )
        + " (delay / CO2).",
        "- Retiming today's plans to the peak hour's counts (Webster's method, every approach "
        f"counted) alone cuts the mean delay by {_pct(red[RETIMED]['mean_delay_s'])} and CO2 "
        f"by {_pct(red[RETIMED]['co2_kg'])}. Against those retimed plans `{best}` control "
        f"cuts the mean delay by {_pct(vs_retimed[best]['mean_delay_s'])} and CO2 by "
        f"{_pct(vs_retimed[best]['co2_kg'])}: that is what the sensors and the adaptive "
        "plans add to a textbook retiming.",
        f"- Extrapolated to the city (assumptions below), `{best}` control would avoid about "
        f"{_fmt(city_best['t CO2']['mean'], 0)} t CO2 and "
        f"{_fmt(city_best['vehicle-hours of delay']['mean'] / 1e6, 1)} million vehicle-hours "
        "of delay a year against today's plans; retiming alone about "
        f"{_fmt(city_rows[RETIMED]['t CO2']['mean'], 0)} t CO2 and "
        f"{_fmt(city_rows[RETIMED]['vehicle-hours of delay']['mean'] / 1e6, 1)} million "
        "vehicle-hours.",
    ]
    if "predictor switched off" in results:
        off = results["predictor switched off"]["reduction_vs_fixed"]["predictive"]
        on = as_modelled["reduction_vs_fixed"]["predictive"]
        lines.append(
            "- The congestion predictor's forecasts: with them predictive control cuts the "
            f"mean delay by {_pct(on['mean_delay_s'])}, without them by "
            f"{_pct(off['mean_delay_s'])} (seeds {sens_seeds})."
        )
    if by_share:
        low = min(by_share, key=lambda c: c.level)
        r_low = results[low.label]["reduction_vs_fixed"]["predictive"]["mean_delay_s"]
        r_all = as_modelled["reduction_vs_fixed"]["predictive"]["mean_delay_s"]
        lines.append(
            f"- With detectors at {low.level:.0%} of the intersections instead of all, "
            f"predictive control cuts the mean delay by {_fmt(r_low['pct'])} % instead of "
            f"{_fmt(r_all['pct'])} % (seeds {sens_seeds}; sensitivity below)."
        )
    lines += [
        f"- CO2 concentrates at {', '.join(top[:3])}, mostly "
        + ("from idling in long queues." if idle[top[0]] >= sag[top[0]] else "in stop-and-go."),
        "",
        "## Reductions against today's fixed-time signals",
        "",
        "Mean over seeds, 95 % confidence interval of the difference paired by seed "
        "(positive = better than fixed time).",
        "",
        *_reduction_table(ctl, red, "fixed", "fixed time", CONTROLLERS[1:]),
        "",
        "`fixed-retimed` is today's plans retimed by Webster's method to the counts of the "
        "busiest hour at every approach (the scenario's own demand: perfect counts, one plan "
        "for the whole peak): the textbook retiming a city can do without sensors. Webster's "
        "cycle is not always the best fixed cycle in this model, so a cycle search on the same "
        "counts could do better still (docs/controllers.md).",
        "",
        "## Against fixed-time plans retimed to the counts",
        "",
        "The same runs, paired by seed against `fixed-retimed` (positive = better than the "
        "retimed plans).",
        "",
        *_reduction_table(ctl, vs_retimed, RETIMED, RETIMED, ADAPTIVE),
        "",
        "![reductions per controller](comparison.png)",
        "",
        "![delay over time](delay_over_time.png)",
        "",
        "![queue over time](queue_over_time.png)",
        "",
        "![emissions per controller](emissions.png)",
        "",
    ]
    # City-wide extrapolation.
    lines += [
        "## From the centre to the city (extrapolation, clearly an estimate)",
        "",
        f"Assumptions: {city.signalized_intersections} signalized intersections in HCMC "
        "(HCMC DOT, Jan 2025); "
        f"{city.share_like_modelled:.0%} of them with traffic like the modelled centre "
        f"(assumption); {city.peaks_per_day:g} peaks a day like this one (assumption); "
        f"{city.working_days_per_year} working days a year (assumption); savings per "
        "intersection as in the model; emissions with the "
        f"`{details[('fixed', seeds[0])]['fleet']}` fleet.",
        "",
        "| controller | t CO2 / year | t NOx / year | t PM / year "
        "| vehicle-hours of delay / year |",
        "|---|---|---|---|---|",
    ]
    for name in CONTROLLERS[1:]:
        r = city_rows[name]
        cells = []
        for unit, nd in (("t CO2", 0), ("t NOx", 1), ("t PM", 2), ("vehicle-hours of delay", 0)):
            v = r[unit]
            cells.append(
                f"{_fmt(v['mean'], nd)} [{_fmt(v['ci95'][0], nd)}, {_fmt(v['ci95'][1], nd)}]"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += _sensitivity_md(details, seeds, cases, results, as_modelled, sens_seeds)
    lines += [
        "## Where emissions concentrate (monitoring strategy)",
        "",
        "The five intersections with the most CO2 under fixed time, and why: the share of "
        "their CO2 emitted idling in queues, in stop-and-go, and the longest queue "
        "(a long queue that reaches back to the previous crossing means spillback).",
        "",
        "| intersection | CO2 (kg per peak) | idling | stop-and-go "
        "| longest queue (veh) | main cause |",
        "|---|---|---|---|---|---|",
    ]
    for n in top:
        cause = "idling in long queues" if idle[n] >= sag[n] else "stop-and-go"
        if qmax[n] > 150:
            cause += ", spillback risk"
        lines.append(
            f"| {n} | {_fmt(co2[n])} | {_fmt(100 * idle[n])} % | {_fmt(100 * sag[n])} % | "
            f"{_fmt(qmax[n], 0)} | {cause} |"
        )
    links = details[("fixed", seeds[0])]["links"][:5]
    lines += [
        "",
        "Links with the most CO2 (seed "
        + str(seeds[0])
        + "): "
        + ", ".join(f"{r['link']} ({_fmt(r['co2_kg'])} kg)" for r in links)
        + ". These are where roadside monitoring and the first detectors pay most.",
        "",
    ]
    lines += ["![delay map](map_delay.png)", "", "![CO2 reduction map](map_co2_reduction.png)", ""]
    lines += [
        "## Assumptions and limits",
        "",
        "Geometry idealised, timing plans and turning shares assumed; calibrated to the speeds "
        "HCMC DOT reports for the centre (docs/hcmc-center.md). Controllers, cabinets and their "
        "parameters: docs/controllers.md. Emission factors and their limits: docs/emissions.md.",
        "",
        "Two fixed-time baselines bracket today's practice: the stored plans (assumed, as no "
        "HCMC timing plans were found) and the same plans retimed to perfect counts of the "
        "peak hour (`fixed-retimed`, docs/report.md). Real plans lie between them; what the "
        "adaptive controllers add lies between their two reductions.",
        "",
    ]
    return "\n".join(lines)


def _reduction_table(
    ctl: dict[str, Any],
    reductions: dict[str, Any],
    baseline: str,
    heading: str,
    names: list[str],
) -> list[str]:
    """Metric rows: the baseline's mean, then each controller's paired reduction."""
    rows = [
        f"| metric | {heading} | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for key, label in METRICS:
        cells = [_fmt(ctl[baseline][key]["mean"], 2)]
        cells += [_pct(reductions[n][key]) for n in names]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return rows


def _sensitivity_md(
    details: dict[tuple[str, int], dict[str, Any]],
    seeds: list[int],
    cases: list[Case],
    results: dict[str, dict[str, Any]],
    as_modelled: dict[str, Any],
    sens_seeds: list[int],
) -> list[str]:
    base = as_modelled["reduction_vs_fixed"]["predictive"]
    lines = [
        "",
        f"## Sensitivity (predictive vs fixed, seeds {sens_seeds})",
        "",
        "Each case changes one input of the as-modelled runs and compares `predictive` with "
        "today's stored plans. Intersections without detectors keep their stored plans. "
        "Sensor and predictor cases keep the as-modelled fixed-time runs as their baseline "
        "(fixed time reads no sensor, and sensors draw from a random stream of their own, so "
        "its traffic is the same).",
        "",
        "| case | mean delay | CO2 |",
        "|---|---|---|",
        f"| as modelled | {_pct(base['mean_delay_s'])} | {_pct(base['co2_kg'])} |",
    ]
    for c in cases:
        r = results[c.label]["reduction_vs_fixed"]["predictive"]
        lines.append(f"| {c.label} | {_pct(r['mean_delay_s'])} | {_pct(r['co2_kg'])} |")
    other = details[("fixed", seeds[0])]["other_fleet"]["fleet"]
    diff = []
    for s in seeds:
        f = details[("fixed", s)]["other_fleet"]["co2_kg"]
        p = details[("predictive", s)]["other_fleet"]["co2_kg"]
        diff.append(100.0 * (f - p) / f)
    m, (lo, hi) = mean_ci(diff)
    lines += [
        f"| `{other}` emission factors (seeds {seeds}) | (same traffic) | "
        f"{_fmt(m)} % [{_fmt(lo)}, {_fmt(hi)}] |",
        "",
        "![sensitivity](sensitivity.png)",
        "",
    ]
    demand = [c for c in cases if c.group == "demand"]
    if demand:
        hi_case = max(demand, key=lambda c: c.level)
        top_run = results[hi_case.label]
        lines += [
            f"At {hi_case.label} the fixed-time plans' mean delay is "
            f"{_fmt(top_run['controllers']['fixed']['mean_delay_s']['mean'])} s/veh (as modelled "
            f"{_fmt(as_modelled['controllers']['fixed']['mean_delay_s']['mean'])}) and "
            "predictive control cuts CO2 by "
            f"{_fmt(top_run['reduction_vs_fixed']['predictive']['co2_kg']['pct'])} % (as modelled "
            f"{_fmt(base['co2_kg']['pct'])} %)"
            + (
                ": where fixed time jams, vehicles idle in queues that adaptive plans do not "
                "let form, so the CO2 saving grows with the jam."
                if (top_run["reduction_vs_fixed"]["predictive"]["co2_kg"]["pct"] or 0.0)
                > (base["co2_kg"]["pct"] or 0.0) + 5.0
                else "."
            ),
            "",
        ]
    return lines


def _html(md: str, out: Path) -> str:
    """``md`` as one self-contained HTML page (figures embedded), to be mailed as a file."""
    import base64
    import html as html_lib
    import re

    import markdown as md_lib

    conv = md_lib.Markdown(extensions=["tables", "toc"])
    body = conv.convert(md)

    def embed(m: re.Match[str]) -> str:
        data = base64.b64encode((out / m.group(1)).read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}" data-file="{m.group(1)}"'

    body = re.sub(r'src="([A-Za-z0-9_.-]+\.png)"', embed, body)
    title = html_lib.escape(md.splitlines()[0].lstrip("# ").replace("`", ""))
    toc = getattr(conv, "toc", "")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        f"<nav>{toc}</nav><main>{body}</main></body></html>\n"
    )


_CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;"
    "line-height:1.45;margin:0;display:flex}"
    "nav{position:sticky;top:0;align-self:flex-start;width:16em;padding:1em;font-size:.85em;"
    "max-height:100vh;overflow:auto;background:#f6f7f9;border-right:1px solid #ddd}"
    "nav ul{padding-left:1em}main{max-width:62em;padding:1em 2em}"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:1em 0;font-size:.92em}"
    "td,th{border:1px solid #ccc;padding:3px 8px}th{background:#eef1f5}"
    "tr:nth-child(even) td{background:#fafbfc}td:not(:first-child){text-align:right}"
    "img{max-width:100%;border:1px solid #eee}code{background:#f2f2f2;padding:0 .2em}"
    "@media (max-width:50em){body{display:block}nav{position:static;width:auto}}"
    "@media print{nav{display:none}}"
)
