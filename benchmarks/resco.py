"""trafficsim beside Eclipse SUMO on the RESCO benchmark networks (Ault & Sharon, NeurIPS 2021).

Usage (SUMO and sumolib from the ``import`` extra: ``pip install '.[import]'``):

    python benchmarks/resco.py --data ../shared/data/resco [--networks cologne1 grid4x4]
                               [--seed 0] [--json results.json] [--approaches 5]

For each network folder of ``--data`` (a ``.sumocfg`` naming the net, the route files and
the window): SUMO 1.x runs the original files with their fixed-time programs
(``--time-to-teleport -1``, tripinfo with unfinished vehicles), and trafficsim imports them
(``trafficsim import sumo``, over the same window) and runs the scenario with its stored
plans. Each side runs as its own process and its wall time is the whole process's: for
trafficsim, interpreter start, imports, the scenario and its trips file read and checked,
the simulation and every metric of ``summary.json`` (the import's own time is apart).
Per network it prints vehicles scheduled / inserted / completed, mean delay (SUMO's and
RESCO's definition: time loss plus departure delay per vehicle, vehicles never inserted
counted from their scheduled departure to the end), mean trip time (of completed vehicles,
insertion to arrival), the wall time of each side and the ratios trafficsim / SUMO;
``--approaches N`` adds the N links where the two delays differ most.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "resco"
FIGURES = ("scheduled", "inserted", "completed", "mean_delay_s", "mean_trip_time_s", "wall_s")
HEADERS = {
    "scheduled": "scheduled",
    "inserted": "inserted",
    "completed": "completed",
    "mean_delay_s": "delay s",
    "mean_trip_time_s": "trip s",
    "wall_s": "wall s",
}


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    net: Path
    routes: list[Path]
    begin_s: float
    end_s: float


def cases(data: Path, names: list[str] | None) -> list[Case]:
    """The networks of ``data``: each folder with a ``.sumocfg``."""
    out = []
    for cfg in sorted(data.glob("*/*.sumocfg")):
        if names and cfg.parent.name not in names:
            continue
        root = ET.parse(cfg).getroot()  # noqa: S314 - benchmark data
        value = {el.tag: el.get("value", "") for el in root.iter()}
        out.append(
            Case(
                cfg.parent.name,
                cfg.parent,
                cfg.parent / value["net-file"],
                [cfg.parent / r for r in value["route-files"].split(",")],
                float(value.get("begin", "0") or 0),
                float(value.get("end", "3600") or 3600),
            )
        )
    return out


def scheduled_departures(case: Case) -> dict[str, float]:
    """Vehicle id to departure, for the vehicles the route files send in the window."""
    out = {}
    for r in case.routes:
        for el in ET.parse(r).getroot():  # noqa: S314 - benchmark data
            if el.tag in ("vehicle", "trip") and el.get("depart", "").replace(".", "").isdigit():
                t = float(el.get("depart", "0"))
                if case.begin_s <= t < case.end_s:
                    out[str(el.get("id"))] = t
    return out


def run_sumo(case: Case, seed: int, work: Path) -> dict[str, Any]:
    import sumo

    trip = work / "tripinfo.xml"
    (work / "edges.add.xml").write_text(
        f'<additional><edgeData id="e" file="{work / "edges.xml"}" begin="{case.begin_s:g}" '
        f'end="{case.end_s:g}" excludeEmpty="true"/></additional>',
        encoding="utf-8",
    )
    args = [str(Path(sumo.SUMO_HOME) / "bin" / "sumo"), "-n", str(case.net)]
    args += ["-r", ",".join(map(str, case.routes)), "-b", f"{case.begin_s:g}"]
    args += ["-e", f"{case.end_s:g}", "--time-to-teleport", "-1", "--seed", str(seed)]
    args += ["--tripinfo-output", str(trip), "--tripinfo-output.write-unfinished", "true"]
    args += ["--no-step-log", "true", "--no-warnings", "true", "--duration-log.disable", "true"]
    args += ["-a", str(work / "edges.add.xml")]
    t0 = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    sched = scheduled_departures(case)
    infos = ET.parse(trip).getroot().findall("tripinfo")  # noqa: S314 - SUMO's output
    seen = {str(t.get("id")) for t in infos}
    delay = [float(t.get("timeLoss", 0)) + float(t.get("departDelay", 0)) for t in infos]
    delay += [case.end_s - d for v, d in sched.items() if v not in seen]
    done = [float(t.get("duration", 0)) for t in infos if float(t.get("arrival", -1)) >= 0]
    return {
        "scheduled": len(sched),
        "inserted": len(infos),
        "completed": len(done),
        "mean_delay_s": sum(delay) / len(delay) if delay else None,
        "mean_trip_time_s": sum(done) / len(done) if done else None,
        "wall_s": wall,
        "links": _sumo_links(work / "edges.xml"),
    }


def _sumo_links(path: Path) -> dict[str, tuple[int, float]]:
    """Per edge (as a scenario link id): vehicles that entered it or departed on it, and
    their mean time loss on it (SUMO's edgeData), to compare where the delays differ."""
    from trafficsim.sim.interop.ids import IdMap

    ids = IdMap()
    out = {}
    for el in ET.parse(path).getroot().iter("edge"):  # noqa: S314 - SUMO's output
        n = int(float(el.get("entered", "0")) + float(el.get("departed", "0")))
        if n and not str(el.get("id", "")).startswith(":"):
            out[ids(str(el.get("id")))] = (n, float(el.get("timeLoss", "0")) / n)
    return out


def _our_links(summary: dict[str, Any]) -> dict[str, tuple[int, float]]:
    """Per link: vehicles served at its stop lines and their mean delay (trafficsim)."""
    acc: dict[str, list[float]] = {}
    for a in summary.get("approaches", []):
        n, d = a.get("vehicles_served") or 0, a.get("mean_delay_s")
        if n and d is not None:
            row = acc.setdefault(a["link"], [0.0, 0.0])
            row[0] += n
            row[1] += n * d
    return {k: (int(n), s / n) for k, (n, s) in acc.items()}


def _trafficsim_exe() -> str:
    exe = Path(sys.executable).with_name("trafficsim")
    return str(exe) if exe.exists() else "trafficsim"


def run_trafficsim(case: Case, seed: int, work: Path) -> dict[str, Any]:
    scenario = work / f"{case.name}.toml"
    imp = [_trafficsim_exe(), "import", "sumo", "--net", str(case.net), "--routes"]
    imp += [*map(str, case.routes), "--begin", f"{case.begin_s:g}", "--end", f"{case.end_s:g}"]
    t0 = time.perf_counter()
    p = subprocess.run([*imp, "--out", str(scenario)], capture_output=True, text=True)
    import_s = time.perf_counter() - t0
    if p.returncode != 0:
        return {"error": "import: " + (p.stderr.strip().splitlines() or ["?"])[-1]}
    # trafficsim's whole process: interpreter start, imports, the scenario and its trips
    # file read and checked, the simulation and every metric of summary.json.
    run = [sys.executable, __file__, "--one", str(scenario), "--seed", str(seed)]
    t0 = time.perf_counter()
    p = subprocess.run(run, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        return {"error": "run: " + (p.stderr.strip().splitlines() or ["?"])[-1]}
    s = json.loads(p.stdout.strip().splitlines()[-1])
    head = scenario.read_text(encoding="utf-8").split("[scenario]")[0]
    notes = [ln[4:] for ln in head.splitlines() if "sat_flow" in ln or "skipped" in ln]
    return {
        **sumo_figures(s),
        "wall_s": wall,
        "import_s": import_s,
        "links": _our_links(s),
        "notes": notes,
    }


def sumo_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The figures of a trafficsim summary that SUMO's tripinfo gives (SUMO's delay)."""
    sumo = summary.get("sumo_delay") or {}
    get = lambda *keys: next((x[k] for x in (sumo, summary) for k in keys if k in x), None)  # noqa: E731
    return {
        "scheduled": get("vehicles_scheduled", "vehicles_generated"),
        "inserted": get("vehicles_inserted", "vehicles_entered"),
        "completed": get("vehicles_completed"),
        "mean_delay_s": get("mean_delay_s"),
        "mean_trip_time_s": get("mean_trip_time_s", "mean_travel_time_s"),
    }


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return f"{v:,}"


def _print_approaches(console: Console, name: str, row: dict[str, Any], n: int) -> None:
    """The links where SUMO's time loss per vehicle and trafficsim's delay differ most."""
    theirs, ours = row["sumo"].get("links", {}), row["trafficsim"].get("links", {})
    both = [k for k in theirs if k in ours]
    both.sort(key=lambda k: -abs(theirs[k][1] - ours[k][1]) * theirs[k][0])
    from rich.table import Table

    t = Table(title=f"{name}: links where the delays differ most (vehicle-weighted)")
    for col in ("link", "SUMO vehicles", "SUMO time loss (s)", "ours vehicles", "our delay (s)"):
        t.add_column(col, justify="right" if col != "link" else "left")
    for k in both[:n]:
        t.add_row(
            k, f"{theirs[k][0]:,}", f"{theirs[k][1]:.1f}", f"{ours[k][0]:,}", f"{ours[k][1]:.1f}"
        )
    console.print(t)


def run_one(scenario: str, seed: int) -> None:
    """The child process of trafficsim's side: one run, its summary as a JSON line."""
    from trafficsim.sim import InputError, World, compute, load_scenario

    try:
        world = World(load_scenario(scenario), seed)
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
    world.run()
    print(json.dumps(compute(world).summary, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the RESCO folder")
    parser.add_argument("--networks", nargs="+", help="only these networks (folder names)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--approaches",
        type=int,
        default=0,
        metavar="N",
        help="also print, per network, the N links whose delays differ most between the two",
    )
    parser.add_argument("--one", metavar="SCENARIO", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.seed)
        return
    # The table's imports: not in the child process, whose whole wall time is measured.
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    if not args.data.is_dir():
        raise SystemExit(f"--data: {args.data} is not a folder of RESCO networks")
    todo = cases(args.data, args.networks)
    if not todo:
        raise SystemExit(f"--data: no network folder with a .sumocfg in {args.data}")
    console = Console(width=max(Console().width, 100))
    rows: dict[str, dict[str, Any]] = {}
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[step]}"),
    ]
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("RESCO", total=2 * len(todo), step="")
        for case in todo:
            with tempfile.TemporaryDirectory(prefix=f"resco-{case.name}-") as tmp:
                progress.update(task, step=f"{case.name}: SUMO")
                sumo_row = run_sumo(case, args.seed, Path(tmp))
                progress.advance(task)
                progress.update(task, step=f"{case.name}: trafficsim")
                ours = run_trafficsim(case, args.seed, Path(tmp))
                progress.advance(task)
            rows[case.name] = {"sumo": sumo_row, "trafficsim": ours}
            progress.console.print(f"{case.name}: done")
    table = Table(title="trafficsim beside SUMO on the RESCO networks (fixed time)")
    table.add_column("network", no_wrap=True)
    table.add_column("engine", no_wrap=True)
    for f in FIGURES:
        table.add_column(HEADERS[f], justify="right", no_wrap=True)
    errors = []
    for name, row in rows.items():
        for engine in ("sumo", "trafficsim"):
            r = row[engine]
            if "error" in r:
                errors.append(f"{name}, {engine}: {r['error']}")
            table.add_row(name, engine, *(_cell(r.get(f)) for f in FIGURES))
        ratio = {}
        for f in FIGURES:
            a, b = row["trafficsim"].get(f), row["sumo"].get(f)
            ratio[f] = (
                a / b if isinstance(a, int | float) and isinstance(b, int | float) and b else None
            )
        row["ratio"] = ratio
        table.add_row(name, "ratio", *(_cell(ratio[f]) for f in FIGURES), end_section=True)
    console.print(table)
    for line in errors:
        console.print(f"[red]{escape(line)}[/]", highlight=False, soft_wrap=True)
    for name, row in rows.items():
        for note in row["trafficsim"].get("notes", []):
            console.print(escape(f"{name} import: {note}"), highlight=False, soft_wrap=True)
        if args.approaches and "error" not in row["trafficsim"]:
            _print_approaches(console, name, row, args.approaches)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
