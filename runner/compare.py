"""``trafficsim compare``: controllers on common random numbers, on Dask, summarised in
``comparison.json``, a Markdown table and a figure of the reductions against ``fixed``.

The runs go through :mod:`trafficsim.runner.sweep`; the statistics (paired by seed) are
those of :mod:`trafficsim.runner.stats`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trafficsim.runner.formatting import interval, reduction, significant
from trafficsim.runner.stats import METRICS, comparison, error_bars, public
from trafficsim.runner.sweep import Job, run_jobs
from trafficsim.sensors.deployment_spec import DeploymentSpec
from trafficsim.sim import Scenario


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
    deployment: DeploymentSpec | None = None,
    on_done: Callable[[dict[str, Any]], None] = lambda r: None,
) -> dict[str, Any]:
    """Run every (controller, seed) on Dask and summarise. ``scheduler``: address of a
    ``dask.distributed`` scheduler; otherwise a local cluster of ``workers`` processes.
    ``predictor_model``: the predictor runs in the loop of the ``predictive`` runs (the
    path must be readable by the workers). ``deployment``: the field devices of every run
    (default: the scenario's ``[sensors]`` table)."""
    from trafficsim.models.optimizer import make_controller
    from trafficsim.runner.closed_loop import check_refusals

    fixed = tuple((fixed_params or {}).items())
    for c in dict.fromkeys(controllers):  # refused at once, not in a worker
        check_refusals(scenario, make_controller(c, **dict(fixed if c == "fixed" else ())))
    jobs = [
        Job(
            scenario,
            c,
            s,
            step_s,
            predictor_model if c == "predictive" else None,
            fixed if c == "fixed" else (),
            detail,
            deployment=deployment,
        )
        for c in controllers
        for s in seeds
    ]
    rows = run_jobs(jobs, workers=workers, scheduler=scheduler, on_done=on_done)
    return comparison(scenario.name, seeds, rows)


def markdown_table(cmp: dict[str, Any]) -> str:
    """``comparison.md``: each metric's mean [95 % CI] per controller, and under it the
    reduction vs ``fixed`` paired by seed."""
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
            cell = interval(v["mean"], v["ci95"], significant)
            red = cmp["reduction_vs_fixed"].get(n, {}).get(key)
            if red is not None:
                cell += "<br>" + reduction(red, significant)
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


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
        pct, err = error_bars([cmp["reduction_vs_fixed"][n][key] for n in names])
        ax.bar(names, pct, yerr=err, capsize=4, color="#4c72b0")
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
    """``comparison.json``, ``comparison.md`` and, with a reduction to show,
    ``comparison.png`` into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    j, m = out / "comparison.json", out / "comparison.md"
    j.write_text(json.dumps(public(cmp), indent=2) + "\n", encoding="utf-8")
    m.write_text(markdown_table(cmp), encoding="utf-8")
    files = [j, m]
    if cmp["reduction_vs_fixed"]:
        files.append(out / "comparison.png")
        plot_reductions(cmp, files[-1])
    return files
