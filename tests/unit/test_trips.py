"""Trips, routes, zones and OD flows in scenario files: what loads, what routes are taken,
and every refusal naming the file and the field."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from routed_net import trip, two_paths

from trafficsim.sim import ScenarioError, World, compute, load_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "routes_od.toml"

TRIPS = [
    {"id": "a", "depart_s": 0.0, "class": "car", "links": ["O_A", "A_B", "B_D"]},
    {"id": "b", "depart_s": 5.5, "class": "motorcycle", "from": "O_A", "to": "B_D"},
    {"id": "c", "depart_s": 3.0, "class": "bus", "links": ["A_M", "M_B"]},
    {"id": "d", "depart_s": 9.0, "class": "car", "from": "M_B", "to": "M_B"},
]


def _inline(rows: list[dict]) -> str:
    out = []
    for row in rows:
        extra = {
            ("from_" if k == "from" else k): v
            for k, v in row.items()
            if k not in ("depart_s", "class")
        }
        out.append(trip(row["depart_s"], row["class"], **extra))
    return "\n".join(out)


def _vehicle_links(world: World) -> dict[int, list[str]]:
    """The links each vehicle drove, in order (from the pass records)."""
    rec = sorted(world.records().tolist(), key=lambda r: (r[0], r[2], r[3]))
    info = world.lane_group_info
    out: dict[int, list[str]] = {}
    for vid, lg, *_ in rec:
        if info[lg].kind != "entry":
            out.setdefault(vid, []).append(info[lg].link)
    return out


def test_files_and_inline_trips_load_the_same(tmp_path: Path) -> None:
    inline = load_scenario(str(two_paths(tmp_path, _inline(TRIPS), name="inline.toml")))
    with (tmp_path / "trips.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "depart_s", "class", "links", "from", "to"])
        for r in TRIPS:
            w.writerow(
                [
                    r["id"],
                    r["depart_s"],
                    r["class"],
                    " ".join(r.get("links", [])),
                    r.get("from", ""),
                    r.get("to", ""),
                ]
            )
    pq.write_table(
        pa.table(
            {
                "id": [r["id"] for r in TRIPS],
                "depart_s": [r["depart_s"] for r in TRIPS],
                "class": [r["class"] for r in TRIPS],
                "links": [r.get("links") for r in TRIPS],
                "from": [r.get("from") for r in TRIPS],
                "to": [r.get("to") for r in TRIPS],
            }
        ),
        tmp_path / "trips.parquet",
    )
    summaries = []
    for name in ("trips.csv", "trips.parquet"):
        # The path is relative to the scenario file, not to the working directory.
        sub = tmp_path / name.replace(".", "_")
        sub.mkdir()
        (sub / name).write_bytes((tmp_path / name).read_bytes())
        sc = load_scenario(str(two_paths(sub, "", head=f'trips_file = "{name}"')))
        assert sc.trips == inline.trips, name
        world = World(sc, 3)
        world.run()
        summaries.append(compute(world).summary)
    world = World(inline, 3)
    world.run()
    ref = compute(world).summary
    for s in summaries:
        for key in ("sumo_delay", "mean_delay_s", "vehicles_completed", "total_distance_km"):
            assert s[key] == ref[key], key
    assert [t.id for t in inline.trips] == ["a", "c", "b", "d"]  # by departure


def test_routes_are_followed_exactly() -> None:
    sc = load_scenario(str(EXAMPLE))
    world = World(sc, 5)
    world.run()
    drove = _vehicle_links(world)
    trips = {t.id: t for t in sc.trips}
    routed = 0
    for vid, name in enumerate(world.veh_trip):
        t = trips.get(name)
        if t is None or t.links is None or world.veh_t_out[vid] > world.now_s:
            continue
        routed += 1
        assert drove[vid] == list(t.links), name
    assert routed == 4  # three buses and the delivery
    # The buses took the detour's lane group at B (group C), every one of them.
    c_b = next(i.index for i in world.lane_group_info if i.id == "C_B:C")
    rec = world.records()
    bus_vids = [v for v, n in enumerate(world.veh_trip) if n.startswith("bus")]
    assert set(rec["vid"][rec["lane_group"] == c_b].tolist()) >= set(bus_vids)


@pytest.mark.parametrize(
    ("direct_m", "expected"),
    [(500.0, ["O_A", "A_M", "M_B", "B_D"]), (300.0, ["O_A", "A_B", "B_D"])],
)
def test_shortest_free_flow_route_is_chosen(
    tmp_path: Path, direct_m: float, expected: list[str]
) -> None:
    # Detour 400 m against a direct road of 500 m (detour shorter) or 300 m (direct shorter).
    demand = _inline(
        [{"depart_s": 1.0 * k, "class": "car", "from": "O_A", "to": "B_D"} for k in range(5)]
    )
    world = World(load_scenario(str(two_paths(tmp_path, demand, direct_m=direct_m))), 0)
    world.run()
    drove = _vehicle_links(world)
    assert len(drove) == 5
    assert all(links == expected for links in drove.values())


def test_od_trips_take_the_shortest_route_and_draw_zone_links(tmp_path: Path) -> None:
    sc = load_scenario(str(EXAMPLE))
    world = World(sc, 2)
    world.run()
    drove = _vehicle_links(world)
    starts = {"W_in": 0, "N_in": 0}
    for vid, name in enumerate(world.veh_trip):
        if not name.startswith("od0.") or world.veh_t_out[vid] > world.now_s:
            continue
        links = drove[vid]
        starts[links[0]] += 1
        assert links[1:] == ["A_B", "B_E"]  # the direct road, never the detour
    # Weights 3:1 over about 400 trips: N_in's share within 4 standard deviations of 1/4.
    n = sum(starts.values())
    sd = (n * 0.25 * 0.75) ** 0.5
    assert abs(starts["N_in"] - n / 4) < 4 * sd, starts


def test_same_seed_same_result_with_trips_and_od() -> None:
    def run(seed: int) -> str:
        world = World(load_scenario(str(EXAMPLE)), seed)
        world.run()
        return json.dumps(compute(world).summary, sort_keys=True)

    assert run(4) == run(4)
    assert run(4) != run(5)


def test_movement_share_optional_only_where_turn_share_vehicles_cannot_go(
    tmp_path: Path,
) -> None:
    # The two-path network has no shares; routed trips only: loads.
    load_scenario(str(two_paths(tmp_path, trip(0.0, links=["O_A", "A_B", "B_D"]))))
    # A [[demand]] entry on O_A reaches every link: now the shares are required.
    path = two_paths(tmp_path, '[[demand]]\nlink = "O_A"\nflow_veh_per_h = 100\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(path))
    assert err.value.field == "movements[0].share"
    assert "turn-share vehicles" in err.value.problem


def _refusal(tmp_path: Path, demand: str, **kw: object) -> ScenarioError:
    path = two_paths(tmp_path, demand, **kw)  # type: ignore[arg-type]
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(path))
    return err.value


@pytest.mark.parametrize(
    ("demand", "field", "hint"),
    [
        (trip(0, links=["O_A", "X"]), "trips[0].links", "unknown link 'X'"),
        (
            trip(0, links=["O_A", "M_B"]),
            "trips[0].links",
            "links 'O_A' and 'M_B' follow each other but no movement joins them",
        ),
        (trip(0, route="r9"), "trips[0].route", "unknown route 'r9'"),
        (trip(0, "bicycle", links=["O_A"]), "trips[0].class", "unknown vehicle class"),
        (trip(0, from_="B_D", to="O_A"), "trips[0].to", "no sequence of movements leads"),
        (trip(0, from_="O_A"), "trips[0].to", "missing"),
        (trip(0, links=["O_A"], route="r"), "trips[0]", "exactly one of route"),
        (trip(0, links=["O_A"]) + "speed = 3\n", "trips[0].speed", "unknown field"),
        (
            trip(0, id="x", links=["O_A"]) + trip(1, id="x", links=["O_A"]),
            "trips[1].id",
            "defined twice",
        ),
        (
            '[[routes]]\nid = "r"\nlinks = ["O_A", "A_M", "B_D"]\n',
            "routes[0].links",
            "route 'r': links 'A_M' and 'B_D'",
        ),
        (
            '[[zones]]\nid = "z"\nlinks = ["O_A"]\n[[od]]\nfrom = "z"\nto = "q"\n'
            "flow_veh_per_h = 10\n",
            "od[0].to",
            "unknown zone 'q'",
        ),
        ('[[zones]]\nid = "z"\nlinks = ["O_A", "Y"]\n', "zones[0].links", "unknown link 'Y'"),
        (
            '[[zones]]\nid = "z"\nlinks = ["O_A"]\nweights = [0]\n',
            "zones[0].weights",
            "positive numbers",
        ),
        (
            '[[zones]]\nid = "z"\nlinks = ["B_D"]\n[[zones]]\nid = "y"\nlinks = ["O_A"]\n'
            '[[od]]\nfrom = "z"\nto = "y"\nflow_veh_per_h = 10\n',
            "od[0].to",
            "from link 'B_D' of zone 'z' to link 'O_A' of zone 'y'",
        ),
        (
            '[[zones]]\nid = "z"\nlinks = ["O_A"]\n[[od]]\nfrom = "z"\nto = "z"\n'
            'flow_veh_per_h = 10\nmix = "nope"\n',
            "od[0].mix",
            "unknown mix",
        ),
    ],
)
def test_refusals_name_file_and_field(tmp_path: Path, demand: str, field: str, hint: str) -> None:
    err = _refusal(tmp_path, demand)
    assert err.source == str(tmp_path / "two_paths.toml")
    assert err.field == field, str(err)
    assert hint in err.problem, str(err)


def test_refusals_of_trips_files(tmp_path: Path) -> None:
    def refused(name: str, text: str | None) -> ScenarioError:
        if text is not None:
            (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(ScenarioError) as err:
            load_scenario(str(two_paths(tmp_path, "", head=f'trips_file = "{name}"')))
        return err.value

    err = refused("none.csv", None)
    assert (err.source, err.field) == (str(tmp_path / "two_paths.toml"), "scenario.trips_file")
    assert "file not found" in err.problem
    bad = {
        "cols.csv": ("id,depart_s,class,link\n", "columns", "unknown column 'link'"),
        "nodep.csv": ("id,class,links\na,car,O_A\n", "columns", "missing column 'depart_s'"),
        "num.csv": (
            "id,depart_s,class,links\na,soon,car,O_A\n",
            "rows[0].depart_s",
            "expected a number (seconds), got 'soon' (line 2)",
        ),
        "cls.csv": (
            "id,depart_s,class,links\na,1,car,O_A\nb,2,tram,O_A\n",
            "rows[1].class",
            "unknown vehicle class 'tram'",
        ),
        "gap.csv": (
            "id,depart_s,class,links\na,1,car,O_A B_D\n",
            "rows[0].links",
            "no movement joins them",
        ),
        "short.csv": ("id,depart_s,class,links\na,1,car\n", "rows[0]", "3 fields, the header 4"),
        "trips.txt": ("", "", "expected a .csv or .parquet trips file"),
        "broken.parquet": ("not parquet", "", "not a readable Parquet file"),
    }
    for name, (text, field, hint) in bad.items():
        err = refused(name, text)
        assert err.source == str(tmp_path / name), name
        assert err.field == field, str(err)
        assert hint in err.problem, str(err)
    pq.write_table(
        pa.table({"depart_s": ["x"], "class": ["car"], "links": ["O_A"]}),
        tmp_path / "typed.parquet",
    )
    err = refused("typed.parquet", None)
    assert (err.field, err.source) == ("columns.depart_s", str(tmp_path / "typed.parquet"))


def test_routing_option_is_checked(tmp_path: Path) -> None:
    err = _refusal(tmp_path, trip(0, links=["O_A"]), head='routing = "fastest"')
    assert err.field == "scenario.routing"
    err = _refusal(tmp_path, trip(0, links=["O_A"]), head="reroute_period_s = 60")
    assert err.field == "scenario.reroute_period_s"
