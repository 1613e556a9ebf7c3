"""Scenario coordinates (metres from an origin) to WGS84 longitude and latitude.

A local equirectangular projection: exact enough (well under a metre) over the few
kilometres a city-centre scenario spans, and free of a projection library.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), m."""


def lon_lat(origin_lat: float, origin_lon: float, x_m: float, y_m: float) -> tuple[float, float]:
    """(longitude, latitude) in degrees of a point ``x_m`` east and ``y_m`` north of the origin."""
    lat = origin_lat + math.degrees(y_m / EARTH_RADIUS_M)
    lon = origin_lon + math.degrees(x_m / (EARTH_RADIUS_M * math.cos(math.radians(origin_lat))))
    return lon, lat
