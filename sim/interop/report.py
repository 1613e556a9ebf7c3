"""What an import did: the defaults it chose and where they came from, and what it skipped.

Nothing an importer leaves out of a scenario is silent. A default the model needs and the
source lacks (a saturation flow, the vehicle classes, a signal plan netconvert guessed) is a
*note*, written into the scenario file as a comment above the data and printed at the end.
An element the model cannot use (a pedestrian edge, a vehicle over a missing edge, a person)
is *skipped*, counted by kind with the first example, so a user can judge whether the
scenario still stands for the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Skipped:
    """Elements of one kind left out, and why, with the first one as an example."""

    why: str
    count: int = 0
    example: str = ""


@dataclass
class ImportReport:
    """The notes and counts of one import, in the order they were made."""

    source: str
    notes: list[str] = field(default_factory=list)
    skipped: dict[tuple[str, str], Skipped] = field(default_factory=dict)
    figures: dict[str, object] = field(default_factory=dict)
    """What was imported: links, nodes, signals, trips... for the summary line."""

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def skip(self, kind: str, why: str, example: str) -> None:
        """Count one element of ``kind`` left out; ``why`` says what was done and why."""
        s = self.skipped.setdefault((kind, why), Skipped(why))
        s.count += 1
        if not s.example:
            s.example = example

    def lines(self) -> list[str]:
        """The report as lines of text: figures, notes, then what was skipped."""
        out = []
        if self.figures:
            out.append(", ".join(f"{k}: {_fmt(v)}" for k, v in self.figures.items()))
        out.extend(f"default: {n}" for n in self.notes)
        for (kind, _), s in self.skipped.items():
            eg = f" (first: {s.example})" if s.example else ""
            out.append(f"skipped {s.count:,} {kind}: {s.why}{eg}")
        return out


def _fmt(v: object) -> str:
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
