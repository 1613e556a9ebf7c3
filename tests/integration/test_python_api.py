"""The Python API: its documented example runs as written, and it is what the command line
does (the same files for the same options)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import trafficsim

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "python-api.md"


def test_the_documented_example_runs_as_written(tmp_path: Path) -> None:
    """Every ``python`` block of docs/python-api.md, in order, fed to one fresh interpreter
    in an empty directory, as a reader types them into a notebook (no script file: the
    page tells script writers to guard the calls for Dask's worker processes)."""
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)
    assert len(blocks) >= 8, "the page lost its example"
    p = subprocess.run(
        [sys.executable, "-c", "\n".join(blocks)], cwd=tmp_path, capture_output=True,
        text=True, timeout=600, check=False,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    out = p.stdout
    assert "refused: built-in scenario 'grid': size:" in out  # names the parameter
    assert "refused: seed: expected a non-negative integer" in out
    assert "refused: controller: unknown controller 'magic'" in out
    assert re.search(r"max-pressure: mean_delay_s [+-]\d", out)
    assert (tmp_path / "out" / "max-pressure" / "control.json").is_file()
    assert (tmp_path / "out" / "compare" / "comparison.json").is_file()


def _files(d: Path) -> dict[str, str]:
    out = {}
    for f in sorted(d.iterdir()):
        if f.suffix == ".png":
            continue
        text = f.read_text(encoding="utf-8")
        if f.name == "summary.json":
            data = json.loads(text)
            data.pop("wall_time_s")
            text = json.dumps(data, sort_keys=True)
        out[f.name] = text
    return out


def test_the_command_line_writes_what_the_api_saves(trafficsim_exe: str, tmp_path: Path) -> None:
    cli = tmp_path / "cli"
    # The command runs in its own process while the API runs here.
    p = subprocess.Popen(
        [trafficsim_exe, "run", "--scenario", "grid", "--set", "size=2", "--duration", "600",
         "--seed", "3", "--controller", "actuated", "--no-mqtt", "--quiet", "--out", str(cli)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        run = trafficsim.simulate(
            trafficsim.load_scenario("grid", {"size": 2}), 3, duration_s=600, controller="actuated"
        )
        api = tmp_path / "api"
        run.save(api)
        _, err = p.communicate(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert _files(cli) == _files(api)
    assert run.control is not None and run.control["controller"] == "actuated"


def test_a_run_over_a_real_broker_simulates_the_same_traffic(mosquitto_url: str) -> None:
    sc = trafficsim.load_scenario("grid", {"size": 2, "duration_s": 600})
    memory = trafficsim.simulate(sc, seed=2)
    live = trafficsim.simulate(sc, seed=2, mqtt=trafficsim.Mqtt(url=mosquitto_url))
    assert live.feed is not None and live.feed["readings_published"] > 0
    assert live.feed["unacknowledged"] == 0
    for key in ("vehicles_completed", "mean_delay_s", "co2_kg"):
        assert live.summary[key] == memory.summary[key]
    loop = trafficsim.simulate(
        sc, seed=2, controller="max-pressure", mqtt=trafficsim.Mqtt(url=mosquitto_url)
    )
    in_memory = trafficsim.simulate(sc, seed=2, controller="max-pressure")
    assert loop.control is not None and loop.control["transport"] == "mqtt"
    assert loop.summary["mean_delay_s"] == in_memory.summary["mean_delay_s"]
