"""Derive the project's emission tables from Eclipse SUMO's HBEFA4 implementation.

Usage (needs the ``eclipse-sumo`` package: ``pip install '.[dev]'``):

    python scripts/derive_emission_tables.py [--out sim/data]

For each vehicle class of ``sim.emissions.CLASSES`` this runs SUMO's ``emissionsDrivingCycle``
once on a grid of instantaneous (speed, acceleration) pairs, flat road, and stores the
emission rates (mg/s) of CO2, fuel, NOx, PMx, CO and HC as a table the simulation
interpolates; SUMO is never called at simulation time. It then checks itself: the table,
integrated over a test cycle, must give SUMO's own ``--sum-output`` totals for that cycle.
Writes ``hbefa4_tables.npz`` and ``hbefa4_provenance.json`` (SUMO version, command, grid,
class names, date, self-check).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from trafficsim.sim.emissions import ACCEL_GRID_MPS2, CLASSES, POLLUTANTS, SPEED_GRID_MPS

# Column order of emissionsDrivingCycle's per-second output after time;speed;accel;slope,
# established by matching its --sum-output (g/km) for the same cycle, and re-checked below.
SUMO_COLUMNS = ("CO", "CO2", "HC", "PMx", "NOx", "fuel", "electricity")
OURS = {"co2": "CO2", "fuel": "fuel", "nox": "NOx", "pm": "PMx", "co": "CO", "hc": "HC"}
SUM_COLUMNS = {"co2": "CO2", "fuel": "FC", "nox": "NOx", "pm": "PM", "co": "CO", "hc": "HC"}

# Vietnamese real-driving factors (g/km): motorcycles in Hanoi, IVE model with local GPS
# activity and a fleet survey 2021-23 (Tran et al., IOP Conf. Ser. Earth Environ. Sci., 2024;
# HCMC_FACTS row 10). They describe the real fleet, old and new bikes together, so the same
# factors correct both motorcycle classes. No Vietnamese source was found for HC, or for cars,
# buses and trucks: those stay at HBEFA4 (factor 1).
VN_MOTORCYCLE_G_PER_KM = {
    "motorcycle": {"co2": 72.55, "nox": 0.13, "pm": 0.053, "co": 4.8},
    "motorcycle_old": {"co2": 72.55, "nox": 0.13, "pm": 0.053, "co": 4.8},
}
VN_SOURCES = [
    "Tran et al. (2024), Emission characterisation of motorcycles in Hanoi, IOP Conf. Ser. "
    "Earth Environ. Sci. (IVE model, local activity data): running CO2 72.55, CO 4.8, NOx "
    "0.13, PM 0.053 g/km",
]


def sumo_binary(name: str) -> Path:
    import sumo

    path = Path(sumo.SUMO_HOME) / "bin" / name
    if not path.exists():
        raise SystemExit(f"{path} not found: install eclipse-sumo")
    return path


def run_cycle(
    reference: str, rows: list[tuple[float, float, float]], work: Path, *, compute_a: bool = False
) -> tuple[np.ndarray, dict[str, float]]:
    """Per-second output (n x 7, mg/s) and the g/km sums of one cycle."""
    trace = work / "cycle.txt"
    with trace.open("w") as f:
        for t, v, a in rows:
            f.write(f"{t:g};{v:.6f}" + ("" if compute_a else f";{a:.6f}") + "\n")
    out, sums = work / "out.txt", work / "sum.csv"
    cmd = [
        str(sumo_binary("emissionsDrivingCycle")),
        "-t",
        str(trace),
        "-e",
        reference,
        "-o",
        str(out),
        "--sum-output",
        str(sums),
    ]
    if compute_a:
        cmd.append("--compute-a")
    subprocess.run(cmd, check=True, capture_output=True)
    data = np.loadtxt(out, delimiter=";", ndmin=2)[:, 4:11]
    with sums.open() as f:
        row = next(csv.DictReader(f))
    return data, {k: float(row[v]) for k, v in SUM_COLUMNS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "sim" / "data"
    )
    args = parser.parse_args()
    version = subprocess.run(
        [str(sumo_binary("emissionsDrivingCycle")), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[0]
    vv, aa = np.meshgrid(SPEED_GRID_MPS, ACCEL_GRID_MPS2, indexing="ij")
    grid_rows = [
        (float(k), float(v), float(a))
        for k, (v, a) in enumerate(zip(vv.ravel(), aa.ravel(), strict=True))
    ]
    tables = np.zeros(
        (len(CLASSES), len(POLLUTANTS), len(SPEED_GRID_MPS), len(ACCEL_GRID_MPS2)), dtype=np.float32
    )
    checks = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for ci, cls in enumerate(CLASSES):
            data, _ = run_cycle(cls.reference, grid_rows, work)
            for pi, p in enumerate(POLLUTANTS):
                col = SUMO_COLUMNS.index(OURS[p])
                tables[ci, pi] = data[:, col].reshape(vv.shape)
            # Self-check: a stop-and-go cycle through SUMO vs the table sampled the same way.
            t = np.arange(0, 200)
            v = np.clip(
                np.minimum(t * 1.2, 14.0) * (t < 120)
                + np.maximum(0, 14 - (t - 120) * 2) * (t >= 120),
                0,
                None,
            )
            rows = [(float(k), float(x), 0.0) for k, x in enumerate(v)]
            _, sums = run_cycle(cls.reference, rows, work, compute_a=True)
            a = np.diff(v, prepend=v[0])
            dist_km = v.sum() / 1000.0
            check = {}
            for pi, p in enumerate(POLLUTANTS):
                from trafficsim.sim.emissions import interpolate

                mine = float(interpolate(tables[ci, pi], v, a).sum()) / 1000.0 / dist_km
                check[p] = {"sumo_g_per_km": sums[p], "table_g_per_km": round(mine, 6)}
                if sums[p] > 0 and abs(mine / sums[p] - 1) > 0.02:
                    raise SystemExit(
                        f"{cls.name} {p}: table gives {mine:.4f} g/km, SUMO "
                        f"{sums[p]:.4f} g/km: column mapping or grid is wrong"
                    )
            checks[cls.name] = check
    args.out.mkdir(parents=True, exist_ok=True)
    provenance = {
        "what": "instantaneous emission rates (mg/s) on a flat road, hot engine, by class, "
        "pollutant, speed and acceleration",
        "source": version
        + ", HBEFA4 emission model (sumo.dlr.de/docs/Models/Emissions/HBEFA4-based.html)",
        "command": "emissionsDrivingCycle -t GRID -e CLASS -o OUT (one row per grid point)",
        "derived": dt.datetime.now(tz=dt.UTC).date().isoformat(),
        "script": "scripts/derive_emission_tables.py",
        "classes": {c.name: c.reference for c in CLASSES},
        "pollutants": list(POLLUTANTS),
        "speed_grid_mps": [
            float(SPEED_GRID_MPS[0]),
            float(SPEED_GRID_MPS[-1]),
            len(SPEED_GRID_MPS),
        ],
        "accel_grid_mps2": [
            float(ACCEL_GRID_MPS2[0]),
            float(ACCEL_GRID_MPS2[-1]),
            len(ACCEL_GRID_MPS2),
        ],
        "self_check": checks,
        "licence": "Derived with Eclipse SUMO (EPL-2.0). HBEFA is the Handbook Emission Factors "
        "for Road Transport (INFRAS); the rates are SUMO's published fit to it.",
    }
    (args.out / "hbefa4_provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    np.savez_compressed(
        args.out / "hbefa4_tables.npz",
        rates_mg_per_s=tables,
        speed_grid_mps=SPEED_GRID_MPS,
        accel_grid_mps2=ACCEL_GRID_MPS2,
    )
    from trafficsim.sim.emissions import _load, reference_urban_cycle, trace_emissions_g

    _load.cache_clear()
    v = reference_urban_cycle()
    km = v.sum() / 1000.0
    factors: dict[str, dict[str, object]] = {}
    for cls, measured in VN_MOTORCYCLE_G_PER_KM.items():
        model = trace_emissions_g(cls, v)
        factors[cls] = {
            p: {
                "vn_g_per_km": measured[p],
                "hbefa4_g_per_km": round(model[p] / km, 5),
                "factor": round(measured[p] / (model[p] / km), 4),
            }
            for p in measured
        }
    vn = {
        "what": "multiplicative corrections from HBEFA4 (European fleet) to Vietnamese "
        "real-driving emission factors, by class and pollutant; 1 where no source",
        "reference_cycle": "sim.emissions.reference_urban_cycle(): stop-and-go at "
        f"{v.mean() * 3.6:.1f} km/h mean speed (HCMC peak: 18-21 km/h)",
        "sources": VN_SOURCES,
        "factors": factors,
        "fuel_follows": "co2",
    }
    (args.out / "vn_fleet.json").write_text(json.dumps(vn, indent=2) + "\n")
    print(f"wrote {args.out / 'hbefa4_tables.npz'} ({tables.nbytes / 1e6:.1f} MB raw)")


if __name__ == "__main__":
    main()
