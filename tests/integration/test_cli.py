"""The installed ``trafficsim`` command, run as a separate process as a user runs it."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

SUMMARY_KEYS = {
    "scenario",
    "seed",
    "sim_duration_s",
    "wall_time_s",
    "vehicles_entered",
    "vehicles_completed",
    "mean_travel_time_s",
    "mean_delay_s",
    "mean_stops",
    "total_distance_km",
    "approaches",
}
APPROACH_KEYS = {
    "id",
    "intersection",
    "arrival_flow_veh_per_h",
    "saturation_flow_veh_per_h",
    "cycle_s",
    "effective_green_s",
    "v_over_c",
    "mean_delay_s",
    "los",
    "max_queue_veh",
}


def _run(exe: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300, check=False)


def test_run_grid_writes_summary_tables_and_plot(trafficsim_exe, tmp_path: Path) -> None:
    out = tmp_path / "out"
    p = _run(trafficsim_exe, "run", "--scenario", "grid", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "mean delay" in p.stdout
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(s) >= SUMMARY_KEYS
    assert s["scenario"] == "grid" and s["seed"] == 0 and s["sim_duration_s"] == 3600.0
    # 4 x 4 grid: 16 entries at 600 veh/h for an hour, 64 signalized approaches.
    assert 9000 < s["vehicles_entered"] < 10200
    assert len(s["approaches"]) == 64
    for a in s["approaches"]:
        assert set(a) >= APPROACH_KEYS
        assert a["cycle_s"] == 60.0 and a["effective_green_s"] == 27.0
        assert a["los"] in {"A", "B", "C", "D", "E", "F"}
    with (out / "vehicles.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == s["vehicles_generated"]
    done = [r for r in rows if r["t_exit_s"]]
    assert len(done) == s["vehicles_completed"]
    assert {r["class"] for r in rows} == {"motorcycle", "car", "bus", "truck"}
    assert (out / "queues.csv").stat().st_size > 0
    assert (out / "queues.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_gives_byte_identical_outputs(trafficsim_exe, tmp_path: Path) -> None:
    outs = []
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        d = tmp_path / name
        p = _run(
            trafficsim_exe,
            "run",
            "--scenario",
            "isolated",
            "--seed",
            seed,
            "--duration",
            "900",
            "--out",
            str(d),
            "--no-plot",
            "--quiet",
        )
        assert p.returncode == 0, p.stderr
        summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        summary.pop("wall_time_s")
        outs.append(
            (
                json.dumps(summary),
                (d / "vehicles.csv").read_bytes(),
                (d / "queues.csv").read_bytes(),
            )
        )
    assert outs[0] == outs[1]
    assert outs[0][0] != outs[2][0] and outs[0][1] != outs[2][1]


def test_set_and_duration_reach_the_scenario(trafficsim_exe, tmp_path: Path) -> None:
    p = _run(
        trafficsim_exe,
        "run",
        "--scenario",
        "grid",
        "--set",
        "size=2",
        "--set",
        "cross_flow_ratio=0.5",
        "--duration",
        "600",
        "--out",
        str(tmp_path),
        "--quiet",
        "--no-plot",
        "--no-mqtt",
    )
    assert p.returncode == 0, p.stderr
    assert "MQTT" not in p.stdout
    assert not (tmp_path / "feed.json").exists()
    s = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert s["parameters"]["size"] == 2
    assert s["sim_duration_s"] == 600.0
    assert len(s["approaches"]) == 4 * 2 * 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "grid", "--set", "colour=red"], "colour: unknown parameter"),
        (["--scenario", "grid", "--set", "size=-1"], "size: expected at least 1"),
        (["--scenario", "nowhere.toml"], "no such built-in scenario or file"),
        (["--scenario", "grid", "--duration", "-5"], "--duration: expected a positive number"),
        (
            [
                "--scenario",
                "isolated",
                "--controller",
                "actuated",
                "--no-mqtt",
                "--external-optimizer",
            ],
            "--external-optimizer: services running elsewhere talk over MQTT",
        ),
        (
            ["--scenario", "isolated", "--controller", "predictive", "--predictor", "nope/"],
            "--predictor: nope/metadata.json: not found",
        ),
        (
            ["--scenario", "isolated", "--controller", "actuated", "--design-flows", "f.toml"],
            "--design-flows: design flows time the fixed controller",
        ),
        (
            ["--scenario", "isolated", "--controller", "fixed", "--design-flows", "no.toml"],
            "no.toml: file not found",
        ),
        (
            ["--scenario", "isolated", "--controller", "fixed", "--broker", "bogus://x"],
            "--broker: broker URL 'bogus://x': scheme must be mqtt:// or mqtts://",
        ),
        (["--scenario", "isolated", "--topic-root", "a/+"], "--topic-root: topic root part '+'"),
        (
            ["--scenario", "isolated", "--controller", "max-pressure", "--topic-root", "x/#"],
            "--topic-root: topic root part '#'",
        ),
        (
            ["--scenario", "isolated", "--no-mqtt", "--predictor", "m/"],
            "--predictor: the predictor reads the live feed: drop --no-mqtt",
        ),
    ],
)
def test_bad_input_is_one_clear_line(trafficsim_exe, tmp_path, args, message) -> None:
    p = _run(trafficsim_exe, "run", *args, "--out", str(tmp_path))
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault-factors", "2,x"], "'2,x' is not a comma-separated list of numbers"),
        (["--demand-factors", "-0.8"], "give one or more numbers >= 0"),
        (["--instrumented-shares", "0.5,1.5"], "--instrumented-shares: each share must be in"),
        (["--sensitivity-seeds", "1"], "--sensitivity-seeds: a confidence interval needs"),
    ],
)
def test_bad_report_options_are_one_clear_line(trafficsim_exe, tmp_path, args, message) -> None:
    p = _run(trafficsim_exe, "report", "--seeds", "2", *args, "--out", str(tmp_path / "r"))
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "r").exists()


def test_malformed_file_error_names_file_and_field(trafficsim_exe, corridor, tmp_path) -> None:
    path = corridor(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace("lanes = 1", "lanes = 0", 1), encoding="utf-8"
    )
    p = _run(trafficsim_exe, "run", "--scenario", str(path), "--out", str(tmp_path / "o"))
    assert p.returncode == 2
    assert f"{path}: links[0].lanes: expected a positive integer, got int 0" in " ".join(
        p.stderr.split()
    )
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_scenarios_lists_builtins_and_show_round_trips(trafficsim_exe, tmp_path) -> None:
    p = _run(trafficsim_exe, "scenarios")
    assert p.returncode == 0
    for word in ("isolated", "grid", "entry_flow_veh_per_h", "cross_flow_ratio"):
        assert word in p.stdout
    shown = _run(trafficsim_exe, "scenarios", "--show", "grid", "--set", "size=2")
    assert shown.returncode == 0, shown.stderr
    f = tmp_path / "grid2.toml"
    f.write_text(shown.stdout, encoding="utf-8")
    summaries = []
    for scenario, extra in ((str(f), []), ("grid", ["--set", "size=2"])):
        d = tmp_path / f"o{len(summaries)}"
        r = _run(
            trafficsim_exe,
            "run",
            "--scenario",
            scenario,
            *extra,
            "--duration",
            "600",
            "--out",
            str(d),
            "--quiet",
            "--no-plot",
        )
        assert r.returncode == 0, r.stderr
        s = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        summaries.append({k: v for k, v in s.items() if k not in ("wall_time_s", "source")})
    assert summaries[0] == summaries[1]  # the printed file is the built-in, exactly


def test_help_texts(trafficsim_exe) -> None:
    top = _run(trafficsim_exe, "--help")
    assert top.returncode == 0 and "run" in top.stdout and "scenarios" in top.stdout
    run = _run(trafficsim_exe, "run", "--help")
    for flag in ("--scenario", "--seed", "--duration", "--out", "--set"):
        assert flag in run.stdout


def test_counted_design_flows_feed_the_fixed_controller(trafficsim_exe, tmp_path) -> None:
    """``scenarios --design-flows`` writes the file ``run --design-flows`` reads: the report's
    retimed baseline, reproducible by hand."""
    from trafficsim.runner.design_flows import counted_design_flows, load_design_flows
    from trafficsim.sim import load_scenario

    p = _run(trafficsim_exe, "scenarios", "--show", "isolated", "--design-flows")
    assert p.returncode == 0, p.stderr
    flows = tmp_path / "flows.toml"
    flows.write_text(p.stdout, encoding="utf-8")
    assert load_design_flows(flows) == counted_design_flows(load_scenario("isolated"))
    out = tmp_path / "o"
    run = _run(trafficsim_exe, "run", "--scenario", "isolated", "--duration", "600",
               "--controller", "fixed", "--design-flows", str(flows), "--no-mqtt",
               "--out", str(out))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads((out / "summary.json").read_text())["vehicles_completed"] > 0
    bare = _run(trafficsim_exe, "scenarios", "--design-flows")
    assert bare.returncode == 2 and "--design-flows: name the scenario with --show" in bare.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "optimizer", "--duration", "1"],
        ["serve", "predictor", "--model", "m/", "--duration", "1"],
        ["watch", "--duration", "1"],
        ["record", "--out", "rec", "--duration", "1"],
    ],
)
def test_a_bad_topic_root_is_one_clear_line(trafficsim_exe, tmp_path, command) -> None:
    p = subprocess.run(
        [trafficsim_exe, *command, "--topic-root", "hcmc/#"], capture_output=True, text=True,
        timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert p.returncode == 2, p.stderr
    assert "--topic-root: topic root part '#'" in p.stderr and "Traceback" not in p.stderr


def test_version_is_the_installed_package_s(trafficsim_exe) -> None:
    from importlib.metadata import version

    p = subprocess.run([trafficsim_exe, "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout == f"trafficsim {version('trafficsim')}\n"
    import trafficsim

    assert trafficsim.__version__ == version("trafficsim")
