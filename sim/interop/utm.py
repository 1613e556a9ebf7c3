"""Inverse Universal Transverse Mercator: the longitude and latitude of a SUMO network's
coordinates, without a projection library.

SUMO networks built from real maps (TAPASCologne, InTAS, OpenStreetMap through netconvert)
are in UTM on WGS84, written as ``projParameter="+proj=utm +zone=32 ..."`` with the offset
that moved the network near the origin (``netOffset``). A scenario places its origin
(``origin_lat``, ``origin_lon``) at the network's centre, so its device locations and maps
are where the streets are. Formulas: Snyder, *Map Projections: A Working Manual*, USGS
Professional Paper 1395 (1987), pp. 60-64 (eqs. 8-12 to 8-25), accurate to well under a
metre within a zone.
"""

from __future__ import annotations

import math
import re

WGS84_A_M = 6_378_137.0
"""WGS84 semi-major axis (NIMA TR8350.2)."""
WGS84_F = 1.0 / 298.257223563
"""WGS84 flattening (same source)."""
UTM_K0 = 0.9996
"""UTM central scale factor (Snyder 1987, p. 57)."""
UTM_FALSE_EASTING_M = 500_000.0
UTM_FALSE_NORTHING_SOUTH_M = 10_000_000.0

_ZONE = re.compile(r"\+zone=(\d+)")


def utm_zone(proj: str) -> tuple[int, bool] | None:
    """(zone, south) of a proj string for UTM on WGS84, None for any other projection."""
    if "+proj=utm" not in proj:
        return None
    m = _ZONE.search(proj)
    if m is None or not 1 <= int(m.group(1)) <= 60:
        return None
    return int(m.group(1)), "+south" in proj


def utm_to_lon_lat(
    easting_m: float, northing_m: float, zone: int, south: bool
) -> tuple[float, float]:
    """(longitude, latitude) in degrees of a UTM point."""
    a, f, k0 = WGS84_A_M, WGS84_F, UTM_K0
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    x = easting_m - UTM_FALSE_EASTING_M
    y = northing_m - (UTM_FALSE_NORTHING_SOUTH_M if south else 0.0)
    mu = (y / k0) / (a * (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256))
    e1 = (1 - math.sqrt(1 - e2)) / (1 + math.sqrt(1 - e2))
    phi1 = (
        mu
        + (3 * e1 / 2 - 27 * e1**3 / 32) * math.sin(2 * mu)
        + (21 * e1**2 / 16 - 55 * e1**4 / 32) * math.sin(4 * mu)
        + (151 * e1**3 / 96) * math.sin(6 * mu)
        + (1097 * e1**4 / 512) * math.sin(8 * mu)
    )
    sin1, cos1, tan1 = math.sin(phi1), math.cos(phi1), math.tan(phi1)
    c1 = ep2 * cos1**2
    t1 = tan1**2
    n1 = a / math.sqrt(1 - e2 * sin1**2)
    r1 = a * (1 - e2) / (1 - e2 * sin1**2) ** 1.5
    d = x / (n1 * k0)
    phi = phi1 - (n1 * tan1 / r1) * (
        d**2 / 2
        - (5 + 3 * t1 + 10 * c1 - 4 * c1**2 - 9 * ep2) * d**4 / 24
        + (61 + 90 * t1 + 298 * c1 + 45 * t1**2 - 252 * ep2 - 3 * c1**2) * d**6 / 720
    )
    lam = (
        d
        - (1 + 2 * t1 + c1) * d**3 / 6
        + (5 - 2 * c1 + 28 * t1 - 3 * c1**2 + 8 * ep2 + 24 * t1**2) * d**5 / 120
    ) / cos1
    lon0 = (zone - 1) * 6 - 180 + 3
    return lon0 + math.degrees(lam), math.degrees(phi)
