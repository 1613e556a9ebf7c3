"""A malformed scenario gives one clear error: the file, the field and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from trafficsim.sim import ScenarioError, load_scenario
from trafficsim.sim.scenario_io import load_scenario_file


def _break(corridor, tmp_path: Path, old: str, new: str) -> Path:
    path = corridor(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert old in text, "the test's edit must apply"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_valid_corridor_loads(corridor, tmp_path: Path) -> None:
    sc = load_scenario(str(corridor(tmp_path)))
    assert [ln.id for ln in sc.links] == ["A-J1", "J1-J2", "J2-B"]
    assert sc.links[0].free_speed_mps == pytest.approx(50 / 3.6)


@pytest.mark.parametrize(
    ("old", "new", "field", "hint"),
    [
        (
            "length_m = 300\nlanes = 1",
            "length_m = -300\nlanes = 1",
            "links[0].length_m",
            "greater than 0",
        ),
        (
            "length_m = 300\nlanes = 1",
            'length_m = "long"\nlanes = 1',
            "links[0].length_m",
            "expected a number (metres)",
        ),
        ("lanes = 1\n[[links]]", "lanes = 1.5\n[[links]]", "links[0].lanes", "positive integer"),
        ('to = "J1"\nlength_m', 'to = "J9"\nlength_m', "links[0].to", "unknown node 'J9'"),
        ('kind = "signal"', 'kind = "roundabout"', "nodes[1].kind", "expected one of"),
        (
            'share = 1.0\ngroup = "main"\n[[movements]]',
            'share = 0.7\ngroup = "main"\n[[movements]]',
            "movements[0].share",
            "sum to 0.7",
        ),
        (
            'groups = ["main"]\ngreen_s = 40',
            'groups = ["mian"]\ngreen_s = 40',
            "signals[0].phases[0].groups",
            "no movement at node 'J1' is in group 'mian'",
        ),
        ("green_s = 40", "gren_s = 40", "signals[0].phases[0].gren_s", "unknown field"),
        ('mix = "cars"', 'mix = "bicycles"', "demand[0].mix", "unknown mix 'bicycles'"),
        (
            "flow_veh_per_h = 900.0",
            "profile = [[60, 900]]",
            "demand[0].profile[0]",
            "must start at 0",
        ),
        ("[scenario]\nname", "[scenario]\nnmae", "scenario.nmae", "unknown field"),
        (
            f"length_m = {60.0}",
            "length_m = 3",
            "links[1].length_m",
            "less than one vehicle",
        ),
    ],
)
def test_mistakes_name_file_field_and_fix(corridor, tmp_path, old, new, field, hint) -> None:
    path = _break(corridor, tmp_path, old, new)
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(path))
    msg = str(err.value)
    assert str(path) in msg
    assert err.value.field == field, msg
    assert hint in msg


def test_missing_required_table(corridor, tmp_path) -> None:
    path = corridor(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[[demand]]")], encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"demand: missing; add at least one \[\[demand\]\]"):
        load_scenario(str(path))


def test_invalid_toml_reports_line(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[scenario]\nname = "x"\nduration_s = = 3\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad.toml: not valid TOML: .*line 3"):
        load_scenario_file(path)


def test_missing_file_and_unknown_builtin(tmp_path) -> None:
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario_file(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="no such built-in scenario or file; built-ins: grid"):
        load_scenario("gird")


def test_signal_node_without_plan(corridor, tmp_path) -> None:
    path = corridor(tmp_path)
    text = path.read_text(encoding="utf-8")
    start = text.index('[[signals]]\nnode = "J2"')
    end = text.index("[[demand]]")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(ScenarioError, match="signal node 'J2' has no plan"):
        load_scenario(str(path))
