"""Features for forecasting a sensor panel (time x sensor) some steps ahead.

For each sensor and each forecast origin ``t`` (the window is rows ``t - window .. t - 1``):
recent values, their changes and window statistics, the departure from the sensor's typical
profile, the same for its neighbours (adjacency-weighted means, one and two hops), the time
of day and whether it is a weekend, and the typical profile now and at the target time.

The typical profile is learned from training rows only, by (weekday or weekend, time of day).
For a training row it leaves the row's own day out, so a feature never contains its target;
with a handful of training days an in-sample profile would be nearly the answer and teach
the model to trust it far more than it deserves on new days.

Missing values (NaN: dropped, stuck-and-removed or offline readings) are never turned into
zeros: each is replaced by the last value seen in the window, else by the profile, and
the share of the window that was missing is a feature of its own.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

WINDOW = 12


@dataclass(frozen=True, slots=True)
class Calendar:
    """Where each row of a panel falls in the week."""

    steps_per_day: int
    start_weekday: int  # weekday of the day row 0 falls in (0 = Monday)
    offset_steps: int = 0  # steps from that midnight to row 0

    def time_of_day(self, rows: np.ndarray) -> np.ndarray:
        return (rows + self.offset_steps) % self.steps_per_day

    def day(self, rows: np.ndarray) -> np.ndarray:
        return (rows + self.offset_steps) // self.steps_per_day

    def weekend(self, rows: np.ndarray) -> np.ndarray:
        return ((self.day(rows) + self.start_weekday) % 7) >= 5


@dataclass(frozen=True, slots=True)
class ProfileTable:
    """Typical value by (weekday or weekend, time of day, sensor), from training rows: what
    the live service keeps of the training data to build the same features."""

    total: np.ndarray  # (2, steps_per_day, N)
    count: np.ndarray
    fallback: np.ndarray  # (N,): a sensor's mean, for a time it was never seen at

    @classmethod
    def fit(cls, values: np.ndarray, cal: Calendar) -> ProfileTable:
        T, N = values.shape
        rows = np.arange(T)
        tod, wk = cal.time_of_day(rows), cal.weekend(rows).astype(int)
        ok = np.isfinite(values)
        total = np.zeros((2, cal.steps_per_day, N))
        count = np.zeros((2, cal.steps_per_day, N))
        np.add.at(total, (wk, tod), np.where(ok, values, 0.0))
        np.add.at(count, (wk, tod), ok)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a sensor never seen
            fallback = np.nanmean(np.where(ok, values, np.nan), axis=0)
        fallback = np.where(
            np.isfinite(fallback), fallback, 0.0 if not ok.any() else float(np.nanmean(values))
        )
        return cls(total, count, fallback)

    def expected(self, rows: np.ndarray, cal: Calendar) -> np.ndarray:
        return self._expected(rows, cal, 0.0, 0.0)

    def _expected(
        self,
        rows: np.ndarray,
        cal: Calendar,
        minus_sum: np.ndarray | float,
        minus_count: np.ndarray | float,
    ) -> np.ndarray:
        """Same day type and time of day; every day type when there is none; the sensor's
        mean when there is nothing at all. ``minus_*`` take a row's own day out."""
        tod, wk = cal.time_of_day(rows), cal.weekend(rows).astype(int)
        s, c = self.total[wk, tod] - minus_sum, self.count[wk, tod] - minus_count
        s_all = self.total.sum(0)[tod] - minus_sum
        c_all = self.count.sum(0)[tod] - minus_count
        s, c = np.where(c > 0, s, s_all), np.where(c > 0, c, c_all)
        with np.errstate(invalid="ignore", divide="ignore"):
            out: np.ndarray = np.where(c > 0, s / c, self.fallback[None, :])
        return out


def typical_profile(values: np.ndarray, n_train: int, cal: Calendar) -> np.ndarray:
    """Expected value of every row (T x N) from training rows of the same day type and time
    of day; leave-one-day-out for training rows (see module docstring). NaNs are skipped."""
    T, N = values.shape
    rows = np.arange(T)
    table = ProfileTable.fit(values[:n_train], cal)
    out = table.expected(rows, cal)
    tr = rows[:n_train]
    tod, day = cal.time_of_day(tr), cal.day(tr)
    ok = np.isfinite(values[:n_train])
    by_day = np.zeros((int(day.max()) + 1, cal.steps_per_day, N))
    by_day_n = np.zeros_like(by_day)
    np.add.at(by_day, (day, tod), np.where(ok, values[:n_train], 0.0))
    np.add.at(by_day_n, (day, tod), ok)
    out[:n_train] = table._expected(tr, cal, by_day[day, tod], by_day_n[day, tod])
    return out


def _normalised(adjacency: np.ndarray) -> np.ndarray:
    w = np.array(adjacency, dtype=float)
    np.fill_diagonal(w, 0.0)
    out: np.ndarray = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    return out


FEATURE_NAMES: tuple[str, ...] = (
    *(f"lag{k}" for k in range(6, 0, -1)),
    "diff1",
    "diff3",
    "diff_window",
    "mean",
    "std",
    "min",
    "anom3",
    "anom2",
    "anom1",
    "anom_mean",
    "nb_lag3",
    "nb_lag2",
    "nb_lag1",
    "nb_diff3",
    "nb_anom2",
    "nb_anom1",
    "nb2_lag1",
    "time_of_day",
    "weekend",
    "profile_now",
    "profile_target",
    "profile_change",
    "sensor",
    "missing_share",
)
"""Column names of :meth:`PanelFeatures.build` without extra series, in order."""

EXTRA_STATS = ("lag1", "mean")


def feature_names(extras: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Column names with extra series (other measurements of the same sensor: occupancy and
    flow beside speed, a camera's queue): their last value and window mean each."""
    return FEATURE_NAMES + tuple(f"{x}_{s}" for x in extras for s in EXTRA_STATS)


@dataclass(frozen=True, slots=True)
class PanelFeatures:
    """Builds the feature matrix; rows are (origin, sensor) pairs, origin-major."""

    adjacency: np.ndarray
    calendar: Calendar
    window: int = WINDOW
    one_hop: np.ndarray = field(init=False, repr=False)
    two_hop: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Normalised once: for 1,000 sensors the two-hop product alone is a billion
        # multiply-adds, far too much to redo for every prediction round.
        w1 = _normalised(self.adjacency)
        object.__setattr__(self, "one_hop", w1)
        object.__setattr__(self, "two_hop", _normalised(w1 @ w1))

    @property
    def names(self) -> tuple[str, ...]:
        return FEATURE_NAMES

    def build(
        self,
        values: np.ndarray,
        profile: np.ndarray,
        origins: np.ndarray,
        horizon: int,
        extras: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Features of ``values`` (T x N); ``extras`` are other T x N series of the same
        sensors, in the order their names were given to :func:`feature_names`. An extra
        value the window never saw stays NaN (the boosted trees handle it; the linear
        model's pipeline imputes it), and the target's own gaps are imputed and flagged."""
        T, N = values.shape
        w1, w2 = self.one_hop, self.two_hop
        L = self.window
        idx = origins[:, None] + np.arange(-L, 0)[None, :]  # (n_origins, L)
        raw = values[idx]  # (n, L, N)
        prof_win = profile[idx]
        missing = ~np.isfinite(raw)
        win = _impute(raw, prof_win)
        anom = win - prof_win
        nb = win @ w1.T  # (n, L, N)
        nb_anom = anom @ w1.T
        nb2 = win[:, -1] @ w2.T
        target_rows = np.minimum(origins + horizon - 1, T - 1)
        cols = [
            *(win[:, -k] for k in range(6, 0, -1)),
            win[:, -1] - win[:, -2],
            win[:, -1] - win[:, -4],
            win[:, -1] - win[:, 0],
            win.mean(axis=1),
            win.std(axis=1),
            win.min(axis=1),
            anom[:, -3],
            anom[:, -2],
            anom[:, -1],
            anom.mean(axis=1),
            nb[:, -3],
            nb[:, -2],
            nb[:, -1],
            nb[:, -1] - nb[:, -4],
            nb_anom[:, -2],
            nb_anom[:, -1],
            nb2,
            np.broadcast_to(self.calendar.time_of_day(origins)[:, None], (len(origins), N)),
            np.broadcast_to(self.calendar.weekend(origins)[:, None], (len(origins), N)),
            profile[origins - 1],
            profile[target_rows],
            profile[target_rows] - profile[origins - 1],
            np.broadcast_to(np.arange(N)[None, :], (len(origins), N)),
            missing.mean(axis=1),
        ]
        for series in (extras or {}).values():
            xw = _carry_forward(series[idx])
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing window
                cols += [xw[:, -1], np.nanmean(series[idx], axis=1)]
        return np.stack([np.asarray(c, dtype=float).reshape(-1) for c in cols], axis=1)


def with_horizon(
    X: np.ndarray, profile: np.ndarray, origins: np.ndarray, horizon: int
) -> np.ndarray:
    """``X`` (built for any horizon) with its horizon-dependent columns set for ``horizon``:
    the live service builds the features once per target and reuses them for every horizon."""
    T = profile.shape[0]
    target_rows = np.minimum(origins + horizon - 1, T - 1)
    out = X.copy()
    out[:, FEATURE_NAMES.index("profile_target")] = profile[target_rows].reshape(-1)
    out[:, FEATURE_NAMES.index("profile_change")] = (
        profile[target_rows] - profile[origins - 1]
    ).reshape(-1)
    return out


def _carry_forward(raw: np.ndarray) -> np.ndarray:
    out = raw.copy()
    for k in range(1, out.shape[1]):
        out[:, k] = np.where(np.isfinite(out[:, k]), out[:, k], out[:, k - 1])
    return out


def _impute(raw: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """Carry the last seen value forward inside each window; the profile before any."""
    out = raw.copy()
    for k in range(out.shape[1]):
        gap = ~np.isfinite(out[:, k])
        if k == 0:
            out[:, 0] = np.where(gap, profile[:, 0], out[:, 0])
        else:
            out[:, k] = np.where(gap, out[:, k - 1], out[:, k])
    return out
