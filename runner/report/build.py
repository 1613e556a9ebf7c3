"""``build_report``: every run of the report on one Dask cluster, then its files: the
comparison, the figures, the city estimate, ``report.md``, ``report.html`` and
``report_data.json``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trafficsim.runner.compare import write_comparison
from trafficsim.runner.design_flows import counted_design_flows
from trafficsim.runner.report.cases import CONTROLLERS, RETIMED, Case, sensitivity_cases
from trafficsim.runner.report.city import city_savings
from trafficsim.runner.report.config import CityAssumptions, Sensitivity
from trafficsim.runner.report.figures import controller_figures, sensitivity_figure
from trafficsim.runner.report.page import html_page
from trafficsim.runner.report.results import Results
from trafficsim.runner.report.text import markdown
from trafficsim.runner.stats import comparison, paired_reductions, public, summarise
from trafficsim.runner.sweep import Job, run_jobs
from trafficsim.sim import Scenario


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
    jobs, owner = _jobs(scenario, seeds, step_s, predictor_model, cases, sens_seeds)
    on_total(len(jobs))
    rows = run_jobs(jobs, workers=workers, scheduler=scheduler, on_done=on_done)
    main = [r for r, o in zip(rows, owner, strict=True) if o is None]
    cmp = comparison(scenario.name, seeds, main)
    base = [r for r in cmp["runs"] if r["seed"] in sens_seeds]
    results: dict[str, dict[str, Any]] = {}
    for case in cases:
        own = [r for r, o in zip(rows, owner, strict=True) if o is case]
        if case.sensors_only:
            own += [r for r in base if r["controller"] == "fixed"]
        results[case.label] = summarise(case.scenario.name, sens_seeds, own)
    res = Results(
        scenario=scenario,
        seeds=seeds,
        cmp=cmp,
        vs_retimed=paired_reductions(cmp["runs"], seeds, RETIMED),
        details=cmp["_details"],
        cases=cases,
        sens_seeds=sens_seeds,
        as_modelled=summarise(scenario.name, sens_seeds, base),
        sensitivity=results,
    )
    files = write_comparison(cmp, out)
    figs = controller_figures(res, out)
    figs.append(sensitivity_figure(res, out))
    city_rows = city_savings(res, city)
    md = markdown(res, city, city_rows, predictor_model, command)
    (out / "report.md").write_text(md, encoding="utf-8")
    (out / "report.html").write_text(html_page(md, out), encoding="utf-8")
    data = _report_data(res, city_rows, command)
    (out / "report_data.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return [
        *files,
        out / "report.md",
        out / "report.html",
        out / "report_data.json",
        *(out / f for f in figs),
    ]


def _jobs(
    scenario: Scenario,
    seeds: list[int],
    step_s: float,
    predictor_model: Path | None,
    cases: list[Case],
    sens_seeds: list[int],
) -> tuple[list[Job], list[Case | None]]:
    """Every controller on every seed (with the figures per run the report draws), then
    each case's runs on the sensitivity seeds; and which case each job belongs to (None:
    the as-modelled runs)."""
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
                jobs.append(Job(case.scenario, c, s, step_s, model, deployment=case.deployment))
                owner.append(case)
    return jobs, owner


def _report_data(res: Results, city_rows: dict[str, Any], command: str) -> dict[str, Any]:
    """``report_data.json``: what the report shows beyond ``comparison.json``."""

    def summary(cmp: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in public(cmp).items() if k != "runs"}

    return {
        "command": command,
        "reduction_vs_retimed": res.vs_retimed,
        "city": city_rows,
        "sensitivity_seeds": res.sens_seeds,
        "sensitivity_as_modelled": summary(res.as_modelled),
        "sensitivity": {
            c.label: {
                "group": c.group,
                "level": None if math.isnan(c.level) else c.level,
                **summary(res.sensitivity[c.label]),
            }
            for c in res.cases
        },
    }
