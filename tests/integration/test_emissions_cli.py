"""``trafficsim emissions``: the calculator as a user runs it."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from trafficsim.sim.emissions import CLASSES, rate_table, read_trace

KEYS = {
    "class",
    "fleet",
    "reference_class",
    "distance_m",
    "duration_s",
    "co2_g",
    "fuel_g",
    "nox_g",
    "pm_g",
    "co_g",
    "hc_g",
    "co2_g_per_km",
    "fuel_l",
}


def _run(exe: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [exe, "emissions", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_list_classes(trafficsim_exe) -> None:
    p = _run(trafficsim_exe, "--list-classes")
    assert p.returncode == 0
    for c in CLASSES:
        assert c.name in p.stdout and c.reference in p.stdout
    assert "HBEFA4/MC_4S_le250cc_Euro-3" in p.stdout


def test_constant_speed_trace_by_hand(trafficsim_exe, tmp_path) -> None:
    """36 km/h (10 m/s, a grid point) for 101 samples: 1010 m, and grams = rate x seconds."""
    f = tmp_path / "t.csv"
    f.write_text("t_s,speed_mps\n" + "".join(f"{t},10\n" for t in range(101)))
    p = _run(trafficsim_exe, "--trace", str(f), "--class", "car")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert set(r) >= KEYS
    assert r["distance_m"] == 1010.0 and r["duration_s"] == 101.0
    co2_rate_mg_s = float(rate_table("car", "co2")[40, 50])  # v = 10 m/s, a = 0
    assert r["co2_g"] == pytest.approx(co2_rate_mg_s * 101 / 1000, rel=1e-6)
    assert r["co2_g_per_km"] == pytest.approx(r["co2_g"] / 1.010, rel=1e-6)
    assert r["fuel_l"] == pytest.approx(r["fuel_g"] / 745.0, rel=1e-4)  # petrol, 0.745 kg/l
    assert r["reference_class"] == "HBEFA4/PC_petrol_Euro-4" and r["fleet"] == "hbefa4"


def test_vn_fleet_raises_motorcycle_factors_only(trafficsim_exe, tmp_path) -> None:
    f = tmp_path / "t.csv"
    f.write_text(
        "t_s,speed_mps\n" + "".join(f"{t},{8 + 4 * np.sin(t / 9):.3f}\n" for t in range(300))
    )
    out = {}
    for cls in ("motorcycle", "car"):
        for fleet in ("hbefa4", "vn"):
            p = _run(trafficsim_exe, "--trace", str(f), "--class", cls, "--fleet", fleet)
            assert p.returncode == 0, p.stderr
            out[cls, fleet] = json.loads(p.stdout)
    assert out["motorcycle", "vn"]["co2_g"] > 1.1 * out["motorcycle", "hbefa4"]["co2_g"]
    assert out["motorcycle", "vn"]["hc_g"] == out["motorcycle", "hbefa4"]["hc_g"]  # no source
    assert out["car", "vn"]["co2_g"] == out["car", "hbefa4"]["co2_g"]


def test_other_sampling_is_resampled_to_one_second(tmp_path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("t_s,speed_mps\n0,0\n2,4\n4,8\n")
    assert read_trace(str(f)).tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,speed\n0,1\n", "line 1: expected the header 't_s,speed_mps'"),
        ("t_s,speed_mps\n0,1\n1,fast\n", "line 3: expected two numbers"),
        ("t_s,speed_mps\n0,1\n1,-2\n", "line 3: speed must be a finite number >= 0"),
        ("t_s,speed_mps\n0,1\n0,2\n", "line 3: times must increase"),
        ("t_s,speed_mps\n0,1\n", "needs at least two samples"),
    ],
)
def test_bad_traces_are_clear_errors(trafficsim_exe, tmp_path, content, message) -> None:
    f = tmp_path / "t.csv"
    f.write_text(content)
    p = _run(trafficsim_exe, "--trace", str(f), "--class", "car")
    assert p.returncode == 2
    assert message in p.stderr and "Traceback" not in p.stderr


def test_unknown_class_and_missing_arguments(trafficsim_exe, tmp_path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("t_s,speed_mps\n0,1\n1,1\n")
    p = _run(trafficsim_exe, "--trace", str(f), "--class", "bike")
    assert p.returncode == 2 and "unknown class 'bike'" in p.stderr
    p = _run(trafficsim_exe, "--trace", str(f))
    assert p.returncode == 2 and "--list-classes" in p.stderr
