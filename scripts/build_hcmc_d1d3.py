"""Rebuild the network of the built-in ``hcmc-d1d3`` from the OpenStreetMap extract.

Usage: python scripts/build_hcmc_d1d3.py --osm ../shared/data/osm/hcmc_2018/d1d3_core_2018_roads.osm
       [--out sim/data/hcmc_d1d3_network.toml]

The project's own OSM importer (``trafficsim import osm``, SUMO's netconvert underneath)
builds the network of the District 1/3 core, leaving out the alleys and service roads
(``--skip-classes``), which carry no signal and no through traffic the model needs; then
the fringe zones of the import's default demand are kept, the trips inside the core get
zones of their own (:func:`~trafficsim.sim.interop.default_demand.interior_zones`), and
the import's demand is dropped: the built-in adds the calibrated one
(``sim/hcmc_d1d3.py``). The same extract and the same SUMO version give the same file, byte
for byte (``tests/validation/test_hcmc_d1d3.py`` rebuilds it when the extract is present).
The file is a database derived from OpenStreetMap and stays under the ODbL.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import tomllib
from pathlib import Path

from trafficsim.sim.errors import InputError
from trafficsim.sim.interop.default_demand import interior_zones
from trafficsim.sim.interop.osm import ATTRIBUTION, LICENCE, import_osm
from trafficsim.sim.interop.scenario_file import write

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "sim" / "data" / "hcmc_d1d3_network.toml"
SKIPPED_CLASSES = ("living_street", "path", "service", "track")
"""Alleys (hẻm, mostly tagged ``service`` in the 2018 map: 4,337 of the 8,264 edges of the
whole import) and the like: no signals, no through routes."""
ETH_AS_D = str.maketrans("Ðð", "Đđ")
"""Some OSM ways spell Đ (U+0110, Vietnamese d with stroke) with the look-alike Ð (U+00D0,
Icelandic eth): "Ðiện Biên Phủ" beside "Điện Biên Phủ". One street gets one name."""
INTERIOR_CELLS = 3
"""The core's own trip ends in a 3 x 3 grid of zones (about 1.3 km squares)."""


def build(osm: Path, out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="hcmc-d1d3-") as tmp:
        raw = Path(tmp) / "hcmc-d1d3.toml"
        done = import_osm(osm, raw, level=200.0, name="hcmc-d1d3", skip_classes=SKIPPED_CLASSES)
        text = raw.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    del data["od"]
    renamed = 0
    for ln in data["links"]:
        if "name" in ln and ln["name"] != (fixed := ln["name"].translate(ETH_AS_D)):
            ln["name"], renamed = fixed, renamed + 1
    data["zones"] += interior_zones(data, INTERIOR_CELLS)
    head = data["scenario"]
    head["description"] = (
        "The District 1 / District 3 core of Ho Chi Minh City from OpenStreetMap (1 January "
        "2018), the network of the built-in hcmc-d1d3 (which adds the demand and the signal "
        f"plans). {LICENCE}"
    )
    notes = [
        ln.removeprefix("#   ")
        for ln in text.splitlines()
        if ln.startswith("#   ") and "demand:" not in ln
    ]
    header = "\n".join(
        [
            f"# python scripts/build_hcmc_d1d3.py --osm {osm.name}",
            f"# {LICENCE}",
            f"# {ATTRIBUTION}. Built by the project's OSM importer; what it chose and skipped:",
            *(f"#   {n}" for n in notes),
            f"#   street names: {renamed} links' Ð (U+00D0) written as Đ (U+0110), "
            "the letter the rest of the map uses",
            f"#   zones: the import's fringe sectors, and {INTERIOR_CELLS} x {INTERIOR_CELLS} "
            "interior zones of the core's own trips (sim/interop/default_demand.py)",
            "#   demand and signal plans: added by the built-in (sim/hcmc_d1d3.py)",
        ]
    )
    write(out, data, header + "\n\n", None)
    print(f"wrote {out}: {done.report.figures}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osm", type=Path, required=True, help="d1d3_core_2018_roads.osm")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    try:
        build(args.osm, args.out)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
