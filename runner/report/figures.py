"""The report's figures (PNG): delay and queue over time, emissions per controller, maps of
the intersections, and the sensitivity of the reductions to each swept input. Each function
writes its files into the report's directory and returns their names, which the text links.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import MappingProxyType

import numpy as np

from trafficsim.runner.report.details import mean_series, per_node
from trafficsim.runner.report.results import Results
from trafficsim.runner.stats import METRICS, error_bars
from trafficsim.sim import lon_lat
from trafficsim.sim.places import node_name

LABEL = MappingProxyType(dict(METRICS))


def controller_figures(res: Results, out: Path) -> list[str]:
    """Delay and queue over time, emissions per controller, and the two maps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cmp, details, seeds = res.cmp, res.details, res.seeds
    names = list(cmp["controllers"])
    bin_min = details[(names[0], seeds[0])]["bin_s"] / 60.0
    files = []
    for key, ylabel, fname in (
        ("delay_s", "mean delay of vehicles finishing (s)", "delay_over_time.png"),
        ("queue_veh", "vehicles queued at stop lines", "queue_over_time.png"),
    ):
        fig, ax = plt.subplots(figsize=(8, 3.6), constrained_layout=True)
        for n in names:
            y = mean_series(details, n, key, seeds)
            ax.plot(np.arange(len(y)) * bin_min + bin_min / 2, y, label=n)
        ax.set_xlabel("minutes from the start of the peak")
        ax.set_ylabel(ylabel)
        ax.legend()
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
        files.append(fname)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), constrained_layout=True)
    for ax, key in zip(axes, ("co2_kg", "nox_g", "pm_g"), strict=True):
        m, err = error_bars([cmp["controllers"][n][key] for n in names], "mean", "ci95")
        ax.bar(names, m, yerr=err, capsize=4, color="#55a868")
        ax.set_title(LABEL[key])
        ax.tick_params(axis="x", labelrotation=20)
    fig.savefig(out / "emissions.png", dpi=110)
    plt.close(fig)
    files.append("emissions.png")
    return files + _maps(res, out)


def _maps(res: Results, out: Path) -> list[str]:
    """The intersections at their WGS84 positions over the streets, coloured by the mean
    delay under fixed time and by the CO2 reduction of ``predictive``; on a big network the
    six largest values named by their streets, on an OpenStreetMap one its attribution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    details, seeds, scenario = res.details, res.seeds, res.scenario
    nodes = res.fixed_detail("intersections")
    lon = np.array([nodes[n]["lon"] for n in nodes])
    lat = np.array([nodes[n]["lat"] for n in nodes])
    fixed_delay = per_node(details, "fixed", "delay_s", seeds)
    fixed_co2 = per_node(details, "fixed", "co2_kg", seeds)
    best_co2 = per_node(details, "predictive", "co2_kg", seeds)
    red = {
        n: 100.0 * (fixed_co2[n] - best_co2[n]) / fixed_co2[n] if fixed_co2[n] else math.nan
        for n in nodes
    }
    where_m = {n.id: (n.x_m, n.y_m) for n in scenario.nodes}
    where = {k: lon_lat(scenario.origin_lat, scenario.origin_lon, *v) for k, v in where_m.items()}
    files = []
    for values, title, fname, cmap in (
        (fixed_delay, "mean delay under fixed time (s/veh)", "map_delay.png", "Reds"),
        (red, "CO2 reduction, predictive vs fixed (%)", "map_co2_reduction.png", "Greens"),
    ):
        fig, ax = plt.subplots(figsize=(6.5, 5.5), constrained_layout=True)
        for ln in scenario.links:  # the streets along their courses, for orientation
            pts = ln.shape_m or (
                (where_m[ln.from_node][0], where_m[ln.from_node][1]),
                (where_m[ln.to_node][0], where_m[ln.to_node][1]),
            )
            xy = [lon_lat(scenario.origin_lat, scenario.origin_lon, x, y) for x, y in pts]
            ax.plot([p[0] for p in xy], [p[1] for p in xy], color="#bbbbbb", lw=0.6, zorder=0)
        many = len(nodes) > 60
        sc = ax.scatter(
            lon,
            lat,
            c=[values[n] for n in nodes],
            s=25 if many else 120,
            cmap=cmap,
            edgecolors="black",
            linewidths=0.3 if many else 1.0,
        )
        ranked = sorted(nodes, key=lambda n: -abs(values[n]) if math.isfinite(values[n]) else 0)
        for n in ranked[: 6 if many else len(nodes)]:  # the largest values, by street names
            x, y = where[n]
            ax.annotate(node_name(scenario, n), (x, y), fontsize=6, xytext=(4, 4),
                        textcoords="offset points")  # fmt: skip
        if any(ln.road_class for ln in scenario.links):
            ax.text(0.99, 0.01, "map data © OpenStreetMap contributors (ODbL)",
                    transform=ax.transAxes, ha="right", va="bottom", fontsize=6)  # fmt: skip
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


def sensitivity_figure(res: Results, out: Path) -> str:
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
    base = res.as_modelled["reduction_vs_fixed"]["predictive"]
    for ax, (group, xlabel) in zip(axes, axes_of, strict=True):
        pts = [(1.0, base)] + [
            (c.level, res.sensitivity[c.label]["reduction_vs_fixed"]["predictive"])
            for c in res.cases
            if c.group == group
        ]
        pts.sort(key=lambda p: p[0])
        x = [p[0] for p in pts]
        for key, label, color in (
            ("mean_delay_s", "mean delay", "#c44e52"),
            ("co2_kg", "CO2", "#55a868"),
        ):
            y, err = error_bars([p[1][key] for p in pts])
            ax.errorbar(x, y, yerr=err, marker="o", capsize=3, color=color, label=label)
        ax.axvline(1.0, color="#888888", lw=0.8, ls=":")
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set_xlabel(xlabel)
    axes[0].set_ylabel("reduction vs fixed time (%)")
    axes[0].legend()
    fig.suptitle(
        f"predictive vs fixed time, seeds {res.sens_seeds}; dotted: as modelled; "
        "bars: 95 % CI paired by seed",
        fontsize=10,
    )
    fig.savefig(out / "sensitivity.png", dpi=110)
    plt.close(fig)
    return "sensitivity.png"
