"""The impact report: what AI + IoT signal control would save on the HCMC centre scenario.

``trafficsim report`` runs every controller on the same seeds (as ``compare`` does, with the
figures per run a report needs), a sensitivity study, and writes ``report.md``,
``report.html``, ``comparison.json`` and the figures (PNG) into one directory. Every number
in the text is formatted from ``comparison.json`` or from the per-run figures, so the same
command and seeds give the same report.

The rooms: ``cases`` (what is run), ``details`` (what a run reports beyond its totals),
``figures``, ``city`` (the city-wide estimate), ``text`` (the Markdown), ``page`` (the HTML
page), ``config`` (the settings) and ``build`` (:func:`build_report`, which composes them).
"""

from trafficsim.runner.report.build import build_report
from trafficsim.runner.report.config import CityAssumptions, Sensitivity

__all__ = ["CityAssumptions", "Sensitivity", "build_report"]
