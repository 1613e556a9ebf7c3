"""The report's Markdown: key findings, the reduction tables, the city estimate, the
sensitivity and the monitoring strategy. Every number is formatted from the results and the
city estimate handed in, so each sentence quotes the tables below it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trafficsim.runner.formatting import decimals, interval, reduction
from trafficsim.runner.report.cases import ADAPTIVE, CONTROLLERS, RETIMED
from trafficsim.runner.report.city import city_section
from trafficsim.runner.report.config import CityAssumptions
from trafficsim.runner.report.details import per_node
from trafficsim.runner.report.results import Results
from trafficsim.runner.stats import METRICS, mean_ci
from trafficsim.sim.places import link_name, node_name


def markdown(
    res: Results,
    city: CityAssumptions,
    city_rows: dict[str, Any],
    predictor_model: Path | None,
    command: str,
) -> str:
    """``report.md``; ``command`` is quoted so a reader can reproduce the report."""
    red = res.cmp["reduction_vs_fixed"]
    best = max(ADAPTIVE, key=lambda n: red[n]["mean_delay_s"]["pct"] or -math.inf)
    hotspots = _Hotspots(res)
    lines = _intro(res, predictor_model, command)
    lines += _findings(res, best, city_rows, hotspots)
    lines += _reductions(res)
    lines += city_section(city, city_rows, res.fixed_detail("fleet"))
    lines += _sensitivity(res)
    lines += hotspots.section(res)
    lines += _LIMITS
    return "\n".join(lines)


class _Hotspots:
    """The five intersections with the most CO2 under fixed time, and why."""

    def __init__(self, res: Results) -> None:
        self.co2 = per_node(res.details, "fixed", "co2_kg", res.seeds)
        self.idle = per_node(res.details, "fixed", "idle_share", res.seeds)
        self.sag = per_node(res.details, "fixed", "stop_and_go_share", res.seeds)
        self.qmax = per_node(res.details, "fixed", "max_queue_veh", res.seeds)
        self.top = sorted(self.co2, key=lambda n: -self.co2[n])[:5]
        self._scenario = res.scenario

    def name(self, node: str) -> str:
        """The streets that meet there, and the node's id where they are named."""
        streets = node_name(self._scenario, node)
        return node if streets == node else f"{streets} ({node})"

    def mostly_idling(self, node: str) -> bool:
        return self.idle[node] >= self.sag[node]

    def section(self, res: Results) -> list[str]:
        lines = [
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
        for n in self.top:
            cause = "idling in long queues" if self.mostly_idling(n) else "stop-and-go"
            if self.qmax[n] > 150:
                cause += ", spillback risk"
            lines.append(
                f"| {self.name(n)} | {decimals(self.co2[n])} | {decimals(100 * self.idle[n])} % | "
                f"{decimals(100 * self.sag[n])} % | {decimals(self.qmax[n], 0)} | {cause} |"
            )
        links = res.fixed_detail("links")[:5]
        return [
            *lines,
            "",
            "Links with the most CO2 (seed "
            + str(res.seeds[0])
            + "): "
            + ", ".join(
                f"{link_name(res.scenario, r['link'])} ({decimals(r['co2_kg'])} kg)" for r in links
            )
            + ". These are where roadside monitoring and the first detectors pay most.",
            "",
            "![delay map](map_delay.png)",
            "",
            "![CO2 reduction map](map_co2_reduction.png)",
            "",
        ]


def _intro(res: Results, predictor_model: Path | None, command: str) -> list[str]:
    sc, seeds = res.scenario, res.seeds
    fixed_speed = [res.details[("fixed", s)]["network_speed_kmh"] for s in seeds]
    n_signals = len(res.fixed_detail("intersections"))
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
        f"{decimals(min(fixed_speed))}-{decimals(max(fixed_speed))} km/h. The `predictive` "
        f"controller plans {forecasts}.",
        "",
    ]
    if command:
        lines += [f"Reproduce: `{command}`", ""]
    return lines


def _findings(res: Results, best: str, city_rows: dict[str, Any], hotspots: _Hotspots) -> list[str]:
    """Key findings, each sentence formatted from the tables below."""
    red, ctl, vs_retimed = res.cmp["reduction_vs_fixed"], res.cmp["controllers"], res.vs_retimed
    city_best, city_retimed = city_rows[best], city_rows[RETIMED]
    lines = [
        "## Key findings",
        "",
        "- Under today's fixed-time plans a vehicle loses "
        f"{decimals(ctl['fixed']['mean_delay_s']['mean'])} s on average at the modelled "
        "signals; the peak emits "
        f"{decimals(ctl['fixed']['co2_kg']['mean'] / 1000.0)} t CO2.",
        f"- `{best}` control cuts the mean delay by {reduction(red[best]['mean_delay_s'])} and "
        f"CO2 by {reduction(red[best]['co2_kg'])} on the same demand (95 % confidence "
        "intervals); "
        + ", ".join(
            f"`{n}` {decimals(red[n]['mean_delay_s']['pct'])} % / "
            f"{decimals(red[n]['co2_kg']['pct'])} %"
            for n in ADAPTIVE
            if n != best
        )
        + " (delay / CO2).",
        "- Retiming today's plans to the peak hour's counts (Webster's method, every approach "
        f"counted) alone cuts the mean delay by {reduction(red[RETIMED]['mean_delay_s'])} and "
        f"CO2 by {reduction(red[RETIMED]['co2_kg'])}. Against those retimed plans `{best}` "
        f"control cuts the mean delay by {reduction(vs_retimed[best]['mean_delay_s'])} and CO2 "
        f"by {reduction(vs_retimed[best]['co2_kg'])}: that is what the sensors and the "
        "adaptive plans add to a textbook retiming.",
        f"- Extrapolated to the city (assumptions below), `{best}` control would avoid about "
        f"{decimals(city_best['t CO2']['mean'], 0)} t CO2 and "
        f"{decimals(city_best['vehicle-hours of delay']['mean'] / 1e6, 1)} million "
        "vehicle-hours of delay a year against today's plans; retiming alone about "
        f"{decimals(city_retimed['t CO2']['mean'], 0)} t CO2 and "
        f"{decimals(city_retimed['vehicle-hours of delay']['mean'] / 1e6, 1)} million "
        "vehicle-hours.",
    ]
    on = res.as_modelled["reduction_vs_fixed"]["predictive"]
    if "predictor switched off" in res.sensitivity:
        off = res.sensitivity["predictor switched off"]["reduction_vs_fixed"]["predictive"]
        lines.append(
            "- The congestion predictor's forecasts: with them predictive control cuts the "
            f"mean delay by {reduction(on['mean_delay_s'])}, without them by "
            f"{reduction(off['mean_delay_s'])} (seeds {res.sens_seeds})."
        )
    by_share = [c for c in res.cases if c.group == "detectors"]
    if by_share:
        low = min(by_share, key=lambda c: c.level)
        r_low = res.sensitivity[low.label]["reduction_vs_fixed"]["predictive"]["mean_delay_s"]
        lines.append(
            f"- With detectors at {low.level:.0%} of the intersections instead of all, "
            f"predictive control cuts the mean delay by {decimals(r_low['pct'])} % instead of "
            f"{decimals(on['mean_delay_s']['pct'])} % (seeds {res.sens_seeds}; sensitivity "
            "below)."
        )
    top = hotspots.top
    lines += [
        f"- CO2 concentrates at {', '.join(hotspots.name(n) for n in top[:3])}, mostly "
        + ("from idling in long queues." if hotspots.mostly_idling(top[0]) else "in stop-and-go."),
        "",
    ]
    return lines


def _reductions(res: Results) -> list[str]:
    """The two reduction tables, against today's plans and against the retimed ones."""
    ctl, red = res.cmp["controllers"], res.cmp["reduction_vs_fixed"]
    return [
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
        *_reduction_table(ctl, res.vs_retimed, RETIMED, RETIMED, ADAPTIVE),
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


def _reduction_table(
    ctl: dict[str, Any],
    reductions: dict[str, Any],
    baseline: str,
    heading: str,
    names: Sequence[str],
) -> list[str]:
    """Metric rows: the baseline's mean, then each controller's paired reduction."""
    rows = [
        f"| metric | {heading} | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for key, label in METRICS:
        cells = [decimals(ctl[baseline][key]["mean"], 2)]
        cells += [reduction(reductions[n][key]) for n in names]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return rows


def _sensitivity(res: Results) -> list[str]:
    """Predictive against fixed time in every case, and under the other fleet's factors."""
    base = res.as_modelled["reduction_vs_fixed"]["predictive"]
    lines = [
        "",
        f"## Sensitivity (predictive vs fixed, seeds {res.sens_seeds})",
        "",
        "Each case changes one input of the as-modelled runs and compares `predictive` with "
        "today's stored plans. Intersections without detectors keep their stored plans. "
        "Sensor and predictor cases keep the as-modelled fixed-time runs as their baseline "
        "(fixed time reads no sensor, and sensors draw from a random stream of their own, so "
        "its traffic is the same).",
        "",
        "| case | mean delay | CO2 |",
        "|---|---|---|",
        f"| as modelled | {reduction(base['mean_delay_s'])} | {reduction(base['co2_kg'])} |",
    ]
    for c in res.cases:
        r = res.sensitivity[c.label]["reduction_vs_fixed"]["predictive"]
        lines.append(f"| {c.label} | {reduction(r['mean_delay_s'])} | {reduction(r['co2_kg'])} |")
    other = res.fixed_detail("other_fleet")["fleet"]
    diff = []
    for s in res.seeds:
        f = res.details[("fixed", s)]["other_fleet"]["co2_kg"]
        p = res.details[("predictive", s)]["other_fleet"]["co2_kg"]
        diff.append(100.0 * (f - p) / f)
    m, ci = mean_ci(diff)
    lines += [
        f"| `{other}` emission factors (seeds {res.seeds}) | (same traffic) | "
        f"{interval(m, ci, unit=' %')} |",
        "",
        "![sensitivity](sensitivity.png)",
        "",
    ]
    demand = [c for c in res.cases if c.group == "demand"]
    if demand:
        lines += _demand_finding(res, max(demand, key=lambda c: c.level).label)
    return lines


def _demand_finding(res: Results, label: str) -> list[str]:
    """What the highest demand case does to fixed time and to the CO2 saving."""
    top_run, base = res.sensitivity[label], res.as_modelled
    top_co2 = top_run["reduction_vs_fixed"]["predictive"]["co2_kg"]["pct"]
    base_co2 = base["reduction_vs_fixed"]["predictive"]["co2_kg"]["pct"]
    grows = (top_co2 or 0.0) > (base_co2 or 0.0) + 5.0
    return [
        f"At {label} the fixed-time plans' mean delay is "
        f"{decimals(top_run['controllers']['fixed']['mean_delay_s']['mean'])} s/veh (as "
        f"modelled {decimals(base['controllers']['fixed']['mean_delay_s']['mean'])}) and "
        f"predictive control cuts CO2 by {decimals(top_co2)} % (as modelled "
        f"{decimals(base_co2)} %)"
        + (
            ": where fixed time jams, vehicles idle in queues that adaptive plans do not "
            "let form, so the CO2 saving grows with the jam."
            if grows
            else "."
        ),
        "",
    ]


_LIMITS = [
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
