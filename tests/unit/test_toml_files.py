"""One TOML reader for every file the project reads, with one error contract.

Each way a file can be unusable is an InputError naming the file, the field (empty for the
file as a whole) and what is expected; the scenario, design-flow and credentials readers all
report through it. Real files in tmp_path, as a user would hand them over.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trafficsim.runner.credentials_file import load_credentials
from trafficsim.runner.design_flows import load_design_flows
from trafficsim.sim import FieldReader, InputError, ScenarioError, load_scenario, read_toml_file

LATIN1 = '[clients]\n# café\noptimizer = "x"\n'.encode("latin-1")


def _file(tmp_path: Path, content: bytes, name: str = "in.toml") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_valid_file_gives_its_data(tmp_path: Path) -> None:
    path = _file(tmp_path, 'a = 1\n[b]\nc = "é"\n'.encode())
    assert read_toml_file(path) == {"a": 1, "b": {"c": "é"}}


def test_missing_file_names_it_and_gives_the_hint(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(InputError) as err:
        read_toml_file(path, not_found="make one with X")
    assert (err.value.source, err.value.field) == (str(path), "")
    assert str(err.value) == f"{path}: file not found; make one with X"


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory; expected a TOML file") as err:
        read_toml_file(tmp_path)
    assert err.value.source == str(tmp_path)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever the mode"
)
def test_an_unreadable_file_says_why(tmp_path: Path) -> None:
    path = _file(tmp_path, b"a = 1\n")
    path.chmod(0)
    try:
        with pytest.raises(InputError, match="cannot read the file: Permission denied") as err:
            read_toml_file(path)
    finally:
        path.chmod(0o600)
    assert err.value.source == str(path)


def test_a_read_refused_by_the_system_says_why(tmp_path: Path, monkeypatch) -> None:
    """The same message as above where chmod cannot stop a read (running as root)."""
    path = _file(tmp_path, b"a = 1\n")

    def refuse(self: Path, *args: object, **kwargs: object) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(InputError) as err:
        read_toml_file(path)
    assert str(err.value) == f"{path}: cannot read the file: Permission denied"


def test_not_utf8_gives_the_place_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = _file(tmp_path, LATIN1)
    with pytest.raises(InputError) as err:
        read_toml_file(path)
    assert str(err.value) == (
        f"{path}: not UTF-8 text (byte 0xe9 at line 2, column 6); save the file as UTF-8"
    )


def test_invalid_toml_gives_line_and_column(tmp_path: Path) -> None:
    path = _file(tmp_path, b'a = 1\nb = "open\n')
    with pytest.raises(InputError, match=r"in.toml: not valid TOML: .*\(at line 2, column \d+\)"):
        read_toml_file(path)


def test_the_error_type_is_the_callers(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError):
        read_toml_file(tmp_path / "nope.toml", error=ScenarioError)


def _signal_phases(r: FieldReader, data: dict) -> None:
    for p, row in r.rows(data, "signals", {"node", "phases"}, required=True):
        list(r.rows(row, "phases", {"green_s"}, required=True, path=p))


def test_field_reader_names_dotted_paths() -> None:
    r = FieldReader("f.toml")
    data = {"signals": [{"node": "J", "phases": [{"green_s": 10, "gren_s": 3}]}]}
    with pytest.raises(InputError) as err:
        _signal_phases(r, data)
    assert err.value.field == "signals[0].phases[0].gren_s"
    with pytest.raises(InputError) as err:
        _signal_phases(r, {"signals": [{"node": "J"}]})
    assert err.value.field == "signals[0].phases"
    assert "missing; add at least one [[signals.phases]] table" in str(err.value)
    with pytest.raises(InputError, match=r"sensors\.faults: expected a table"):
        r.check_keys(3, "sensors.faults", {"drop"})
    with pytest.raises(InputError, match=r"a\.b: expected a number from 0 to 1, got 2"):
        r.number_in({"b": 2}, "b", "a", 0.5, (0.0, 1.0))
    assert r.number_in({}, "b", "a", 0.5, (0.0, 1.0)) == 0.5
    with pytest.raises(InputError, match=r"a\.on: expected true or false, got 'yes'"):
        r.boolean({"on": "yes"}, "on", "a", True)


@pytest.mark.parametrize(
    ("content", "field", "problem"),
    [
        (LATIN1, "", "not UTF-8 text"),
        (b"[clients\n", "", "not valid TOML"),
        (b'[other]\na = "x"\n', "clients", "expected a [clients] table"),
        (b"[clients]\noptimizer = 1234\n", "clients.optimizer", "got a value of type int"),
    ],
)
def test_bad_credentials_files_name_file_and_field(
    tmp_path: Path, content: bytes, field: str, problem: str
) -> None:
    path = _file(tmp_path, content, "clients.toml")
    with pytest.raises(InputError) as err:
        load_credentials(path)
    assert (err.value.source, err.value.field) == (str(path), field)
    assert problem in str(err.value)
    assert "1234" not in str(err.value)  # a password is never echoed


def test_credentials_file_gives_the_passwords(tmp_path: Path) -> None:
    path = _file(tmp_path, b'[clients]\noptimizer = "s3cret"\n', "clients.toml")
    assert load_credentials(path) == {"optimizer": "s3cret"}
    with pytest.raises(InputError, match="file not found; create it with 'trafficsim credentials'"):
        load_credentials(tmp_path / "none.toml")


@pytest.mark.parametrize(
    "make",
    [
        lambda d: _file(d, b'[flows."*"]\n# caf\xe9\nNS = 1\n'),
        lambda d: d,
        lambda d: _file(d, b'[flows."*"\nNS = 1\n'),
        lambda d: d / "absent.toml",
    ],
    ids=["latin-1", "directory", "invalid", "missing"],
)
def test_design_flow_and_scenario_files_share_the_contract(tmp_path: Path, make) -> None:
    path = make(tmp_path)
    for load in (load_design_flows, lambda p: load_scenario(str(p))):
        with pytest.raises(ScenarioError) as err:
            load(path)
        assert err.value.source == str(path)


def test_a_file_that_never_ends_is_refused_by_its_size(tmp_path: Path) -> None:
    """/dev/zero reads for ever; the reader stops at its bound and says so."""
    with pytest.raises(InputError) as err:
        read_toml_file("/dev/zero")
    assert "larger than 64 MB" in str(err.value)


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    path = _file(tmp_path, b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n")
    with pytest.raises(InputError) as err:
        read_toml_file(path)
    assert "nested too deeply" in str(err.value)
