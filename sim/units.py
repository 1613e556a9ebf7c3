"""Unit conversions used at the edges (scenario files, payloads, reports).

Code works in SI (m, s, m/s, veh/s); files and reports speak km/h and veh/h because
traffic engineers do. Convert with these constants, never an inline ``/ 3.6``.
"""

from __future__ import annotations

KMH_PER_MPS = 3.6
"""1 m/s = 3.6 km/h (exact)."""

S_PER_H = 3600.0
"""Seconds per hour."""

M_PER_KM = 1000.0


def kmh_to_mps(speed_kmh: float) -> float:
    return speed_kmh / KMH_PER_MPS


def mps_to_kmh(speed_mps: float) -> float:
    return speed_mps * KMH_PER_MPS


def per_h_to_per_s(rate_per_h: float) -> float:
    return rate_per_h / S_PER_H


def per_s_to_per_h(rate_per_s: float) -> float:
    return rate_per_s * S_PER_H
