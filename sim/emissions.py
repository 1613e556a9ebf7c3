"""Vehicle emissions: HBEFA4 rates by speed and acceleration, tabulated from Eclipse SUMO.

The rates (CO2, fuel, NOx, PM, CO, HC; flat road, hot engine) come from SUMO's
implementation of the HBEFA4 model, evaluated once on a grid of speeds and accelerations by
``scripts/derive_emission_tables.py`` and stored in ``sim/data/hbefa4_tables.npz`` with their
provenance (``hbefa4_provenance.json``); SUMO is never called at run time. Between grid
points rates are interpolated bilinearly.

As in HBEFA4: a vehicle emits nothing while the model's rate is negative (coasting, most
decelerations); PM is as HBEFA4 reports it (PMx, which SUMO documents as including
non-exhaust dust for HBEFA4); fuel is a mass, converted to litres with the fuel's density.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

import numpy as np

POLLUTANTS: tuple[str, ...] = ("co2", "fuel", "nox", "pm", "co", "hc")
"""Pollutants in table order; rates in mg/s, totals in g."""

SPEED_GRID_MPS = np.round(np.arange(0.0, 33.0 + 1e-9, 0.25), 6)
"""0 to 33 m/s (119 km/h) in 0.25 m/s steps."""
ACCEL_GRID_MPS2 = np.round(np.arange(-5.0, 5.0 + 1e-9, 0.1), 6)
"""-5 to 5 m/s² in 0.1 m/s² steps."""

PETROL_KG_PER_L = 0.745
"""Petrol density, midpoint of EN 228's 720-775 kg/m³."""
DIESEL_KG_PER_L = 0.8325
"""Diesel density, midpoint of EN 590's 820-845 kg/m³."""


@dataclass(frozen=True, slots=True)
class EmissionClass:
    """A vehicle class of the HCMC fleet and the HBEFA4 class that stands for it.

    The Euro level of each class is an assumption (HCMC_FACTS: Vietnam's emission standards
    by vehicle type and year were not sourced): motorcycles sold since 2017 at Euro 3, older
    ones pre-Euro, cars at Euro 4, buses and trucks at Euro III.
    """

    name: str
    reference: str
    fuel: str  # "petrol" or "diesel"
    description: str

    @property
    def fuel_kg_per_l(self) -> float:
        return PETROL_KG_PER_L if self.fuel == "petrol" else DIESEL_KG_PER_L


CLASSES: tuple[EmissionClass, ...] = (
    EmissionClass(
        "motorcycle",
        "HBEFA4/MC_4S_le250cc_Euro-3",
        "petrol",
        "4-stroke motorcycle <= 250 cc (the 110-125 cc scooter), Euro 3",
    ),
    EmissionClass(
        "motorcycle_old",
        "HBEFA4/MC_4S_le250cc_preEuro",
        "petrol",
        "4-stroke motorcycle <= 250 cc, pre-Euro",
    ),
    EmissionClass("car", "HBEFA4/PC_petrol_Euro-4", "petrol", "petrol passenger car, Euro 4"),
    EmissionClass(
        "bus",
        "HBEFA4/UBus_Std_gt15-18t_Euro-III",
        "diesel",
        "standard diesel city bus 15-18 t, Euro III",
    ),
    EmissionClass(
        "truck", "HBEFA4/RT_gt7_5-12t_Euro-III", "diesel", "rigid diesel truck 7.5-12 t, Euro III"
    ),
)
CLASS_BY_NAME = {c.name: c for c in CLASSES}


def interpolate(table: np.ndarray, speed_mps: np.ndarray, accel_mps2: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a (speed x acceleration) rate table; clipped to the grid."""
    v = np.clip(np.asarray(speed_mps, dtype=float), SPEED_GRID_MPS[0], SPEED_GRID_MPS[-1])
    a = np.clip(np.asarray(accel_mps2, dtype=float), ACCEL_GRID_MPS2[0], ACCEL_GRID_MPS2[-1])
    fv = (v - SPEED_GRID_MPS[0]) / (SPEED_GRID_MPS[1] - SPEED_GRID_MPS[0])
    fa = (a - ACCEL_GRID_MPS2[0]) / (ACCEL_GRID_MPS2[1] - ACCEL_GRID_MPS2[0])
    i = np.minimum(np.floor(fv).astype(int), len(SPEED_GRID_MPS) - 2)
    j = np.minimum(np.floor(fa).astype(int), len(ACCEL_GRID_MPS2) - 2)
    wv, wa = fv - i, fa - j
    t = table.astype(float)
    out: np.ndarray = (
        (1 - wv) * (1 - wa) * t[i, j]
        + wv * (1 - wa) * t[i + 1, j]
        + (1 - wv) * wa * t[i, j + 1]
        + wv * wa * t[i + 1, j + 1]
    )
    return out


@cache
def _load() -> tuple[np.ndarray, dict[str, object]]:
    base = resources.files("trafficsim.sim") / "data"
    with (base / "hbefa4_tables.npz").open("rb") as f:
        data = np.load(f)
        rates = np.array(data["rates_mg_per_s"])
        if not (
            np.allclose(data["speed_grid_mps"], SPEED_GRID_MPS)
            and np.allclose(data["accel_grid_mps2"], ACCEL_GRID_MPS2)
        ):
            raise RuntimeError(
                "sim/data/hbefa4_tables.npz was made on another grid; "
                "run scripts/derive_emission_tables.py again"
            )
    provenance = json.loads((base / "hbefa4_provenance.json").read_text(encoding="utf-8"))
    return rates, provenance


def provenance() -> dict[str, object]:
    return _load()[1]


def rate_table(cls: str, pollutant: str) -> np.ndarray:
    """The (speed x acceleration) table of one class and pollutant, mg/s."""
    if cls not in CLASS_BY_NAME:
        raise KeyError(f"unknown emission class {cls!r}; known: {', '.join(CLASS_BY_NAME)}")
    rates, _ = _load()
    table: np.ndarray = rates[[c.name for c in CLASSES].index(cls), POLLUTANTS.index(pollutant)]
    return table


def trace_emissions_g(cls: str, speed_mps: np.ndarray) -> dict[str, float]:
    """Grams of each pollutant over a 1 Hz speed trace (accelerations from successive
    speeds, as SUMO's ``emissionsDrivingCycle --compute-a`` takes them)."""
    v = np.asarray(speed_mps, dtype=float)
    a = np.diff(v, prepend=v[:1]) if len(v) else v
    return {p: float(np.sum(interpolate(rate_table(cls, p), v, a))) / 1000.0 for p in POLLUTANTS}


def reference_urban_cycle() -> np.ndarray:
    """A 1 Hz stop-and-go urban cycle, about 19 km/h on average (HCMC's reported peak-hour
    speeds, HCMC_FACTS row 7): the cycle on which the Vietnamese corrections are computed.
    Eight blocks of: accelerate at 1 m/s² to 40 km/h, cruise 40 s, brake at 1.5 m/s², idle
    35 s. A stand-in, not a measured cycle (the Hanoi driving cycle, Tong et al. 2011, was
    not available as data)."""
    top = 40.0 / 3.6
    block: list[float] = [0.0] * 35
    block += list(np.arange(1.0, top, 1.0)) + [top] * 40
    block += [*np.arange(top - 1.5, 0.0, -1.5), 0.0]
    return np.array(block * 8)


class Fleet(StrEnum):
    """Whose emission factors: HBEFA4's (the European fleet, as SUMO has them) or HBEFA4
    corrected to Vietnamese measurements of motorcycles (docs/emissions.md)."""

    HBEFA4 = "hbefa4"
    VN = "vn"


FLEETS: tuple[str, ...] = tuple(f.value for f in Fleet)


@cache
def _vn_factors() -> dict[str, dict[str, float]]:
    base = resources.files("trafficsim.sim") / "data"
    data = json.loads((base / "vn_fleet.json").read_text(encoding="utf-8"))
    out: dict[str, dict[str, float]] = {}
    for cls, per in data["factors"].items():
        out[cls] = {p: float(v["factor"]) for p, v in per.items()}
        if "co2" in out[cls]:
            out[cls]["fuel"] = out[cls]["co2"]  # fuel burnt follows CO2 (carbon balance)
    return out


def fleet_factor(cls: str, pollutant: str, fleet: str) -> float:
    """Multiplier from HBEFA4 rates to the chosen fleet's (1 for ``hbefa4``)."""
    if fleet not in FLEETS:
        raise KeyError(f"unknown fleet {fleet!r}; choose one of {', '.join(FLEETS)}")
    if fleet == Fleet.HBEFA4:
        return 1.0
    return _vn_factors().get(cls, {}).get(pollutant, 1.0)


MAX_TRACE_S = 7 * 86400.0
"""Longest speed trace ``trafficsim emissions`` resamples to 1 s: a trace at 10^12 s asked
for 7 TiB."""


MAX_TRACE_BYTES = 64 * 2**20
"""Largest trace file read (a week at 1 s is about 10 MB of CSV)."""


class TraceError(ValueError):
    """A speed trace that cannot be used, with the file, the line and the fix."""


def read_trace(path: str) -> np.ndarray:
    """A CSV speed trace (header ``t_s,speed_mps``) resampled to 1 Hz, m/s."""
    import csv

    try:
        with open(path, "rb") as fb:
            raw = fb.read(MAX_TRACE_BYTES + 1)  # bounded: /dev/zero is a "file" too
        if len(raw) > MAX_TRACE_BYTES:
            raise TraceError(f"{path}: larger than {MAX_TRACE_BYTES // 2**20} MB")
        rows = list(csv.reader(raw.decode("utf-8").splitlines()))
    except FileNotFoundError:
        raise TraceError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise TraceError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise TraceError(f"{path}: cannot be read ({exc.strerror})") from None
    if not rows or [c.strip() for c in rows[0]] != ["t_s", "speed_mps"]:
        raise TraceError(
            f"{path}: line 1: expected the header 't_s,speed_mps' (time in seconds, speed in m/s)"
        )
    t: list[float] = []
    v: list[float] = []
    for k, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        try:
            ts, vs = float(row[0]), float(row[1])
        except (ValueError, IndexError):
            raise TraceError(
                f"{path}: line {k}: expected two numbers, got {','.join(row)!r}"
            ) from None
        if not (np.isfinite(ts) and np.isfinite(vs)) or vs < 0:
            raise TraceError(
                f"{path}: line {k}: speed must be a finite number >= 0 m/s, got {vs!r}"
            )
        if t and ts <= t[-1]:
            raise TraceError(f"{path}: line {k}: times must increase ({ts:g} after {t[-1]:g})")
        t.append(ts)
        v.append(vs)
    if len(t) < 2:
        raise TraceError(f"{path}: needs at least two samples")
    if t[-1] - t[0] > MAX_TRACE_S:
        raise TraceError(
            f"{path}: the trace spans {t[-1] - t[0]:g} s; one vehicle's trace may span at "
            f"most {MAX_TRACE_S:g} s (a week at 1 s per sample)"
        )
    grid = np.arange(t[0], t[-1] + 1e-9, 1.0)
    return np.asarray(np.interp(grid, np.array(t), np.array(v)), dtype=float)


def trace_report(cls: str, speed_mps: np.ndarray, fleet: str) -> dict[str, object]:
    """What ``trafficsim emissions`` prints: totals (g) and per-km values of one trace."""
    c = CLASS_BY_NAME.get(cls)
    if c is None:
        raise KeyError(
            f"unknown class {cls!r}; known: {', '.join(CLASS_BY_NAME)} "
            "(trafficsim emissions --list-classes)"
        )
    g = trace_emissions_g(cls, speed_mps)
    g = {p: g[p] * fleet_factor(cls, p, fleet) for p in POLLUTANTS}
    distance_m = float(np.sum(speed_mps))  # 1 s samples
    out: dict[str, object] = {
        "class": cls,
        "fleet": fleet,
        "reference_class": c.reference,
        "distance_m": round(distance_m, 3),
        "duration_s": float(len(speed_mps)),
    }
    for p in POLLUTANTS:
        out[f"{p}_g"] = round(g[p], 6)
    out["fuel_l"] = round(g["fuel"] / 1000.0 / c.fuel_kg_per_l, 6)
    km = distance_m / 1000.0
    for p in POLLUTANTS:
        out[f"{p}_g_per_km"] = round(g[p] / km, 6) if km > 0 else None
    return out


# -- emissions of simulated traffic: modal trajectories ------------------------------------
MODES: tuple[str, ...] = ("cruise", "idle", "stop_and_go")


@dataclass(frozen=True, slots=True)
class ModalClass:
    """Precomputed integrals of one class's rates for constant-rate speed changes."""

    cruise: np.ndarray  # (n_pollutants, n_speeds): mg/s at a = 0
    idle: np.ndarray  # (n_pollutants,): mg/s at standstill
    up: np.ndarray  # (n_pollutants, n_speeds): mg to accelerate from 0 to that speed
    down: np.ndarray  # (n_pollutants, n_speeds): mg to brake from that speed to 0


@cache
def modal_class(cls: str, accel_mps2: float, decel_mps2: float) -> ModalClass:
    v = SPEED_GRID_MPS
    cruise = np.stack([interpolate(rate_table(cls, p), v, np.zeros_like(v)) for p in POLLUTANTS])
    idle = cruise[:, 0].copy()
    up, down = [], []
    for p in POLLUTANTS:
        t = rate_table(cls, p)
        # At constant acceleration a, dt = dv / a: the integral over speed, divided by a.
        e_up = interpolate(t, v, np.full_like(v, accel_mps2))
        e_down = interpolate(t, v, np.full_like(v, -decel_mps2))
        up.append(
            np.concatenate([[0.0], np.cumsum((e_up[1:] + e_up[:-1]) / 2 * np.diff(v))]) / accel_mps2
        )
        down.append(
            np.concatenate([[0.0], np.cumsum((e_down[1:] + e_down[:-1]) / 2 * np.diff(v))])
            / decel_mps2
        )
    return ModalClass(cruise, idle, np.stack(up), np.stack(down))


def _weights(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index and weight of linear interpolation on the speed grid (clipped to it)."""
    step = SPEED_GRID_MPS[1] - SPEED_GRID_MPS[0]
    f = np.clip(x / step, 0.0, len(SPEED_GRID_MPS) - 1 - 1e-9)
    k = f.astype(np.intp)
    return k, f - k


def modal_grams(
    m: ModalClass,
    length_m: np.ndarray,
    speed_mps: np.ndarray,
    delay_s: np.ndarray,
    accel_mps2: float,
    decel_mps2: float,
) -> np.ndarray:
    """Grams by pollutant and mode (n_pollutants x n_modes x n) of driving links.

    Each traversal is a modal trajectory at the link's speed v: cruise, and for a delay d at
    the stop line either a full stop (brake to 0, idle, accelerate back; when d is at least
    the time a full stop loses, v/2a + v/2b) or a slowdown to the speed u whose loss equals d,
    u = v - sqrt(2 v d / (1/a + 1/b)). Brake and acceleration use the class's constant rates.
    """
    v = np.maximum(speed_mps, 1e-9)
    inv = 1.0 / accel_mps2 + 1.0 / decel_mps2
    full_loss = v * inv / 2.0
    stopped = delay_s >= full_loss
    u = np.where(
        stopped, 0.0, np.clip(v - np.sqrt(2.0 * v * np.maximum(delay_s, 0.0) / inv), 0, None)
    )
    u = np.where(delay_s > 0, u, v)
    idle_s = np.where(stopped, delay_s - full_loss, 0.0)
    transient_m = (v**2 - u**2) * inv / 2.0
    cruise_m = np.maximum(length_m - transient_m, 0.0)
    out = np.empty((len(POLLUTANTS), len(MODES), len(v)))
    iv, wv = _weights(v)
    iu, wu = _weights(u)
    out[:, 0] = cruise_m / v * _at(m.cruise, iv, wv)
    out[:, 1] = idle_s * m.idle[:, None]
    out[:, 2] = _at(m.up, iv, wv) - _at(m.up, iu, wu) + _at(m.down, iv, wv) - _at(m.down, iu, wu)
    return out / 1000.0


def _at(table: np.ndarray, k: np.ndarray, w: np.ndarray) -> np.ndarray:
    res: np.ndarray = table[:, k] * (1.0 - w) + table[:, k + 1] * w
    return res


def along_speed(table: np.ndarray, speed_mps: np.ndarray) -> np.ndarray:
    """A (pollutant x speed-grid) table at the given speeds, linearly interpolated."""
    return _at(table, *_weights(np.asarray(speed_mps, dtype=float)))
