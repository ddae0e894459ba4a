"""Run the curated notebooks on your exports and write self-contained HTML reports.

The notebooks in ``notebooks/`` are the product: each has a cell tagged ``parameters``
(where the exports are, time range, SLO targets ...), calls into :mod:`toolkit`, and
prose that says what to conclude. :func:`run_report` executes them with the parameters
pointing at your data (a cell injected after the ``parameters`` cell, as papermill does),
exports one HTML file per notebook and an ``index.html`` with each notebook's headline
findings, plus ``findings.json``. Each notebook ends "ok", "not applicable" (it skipped
every section it has: the data holds nothing it analyses) or "failed" (with the cell, the
line that raised and the exception's message); skipped sections are listed with what they
need and how to get it. ``genai-sre report --data DIR -p NAME=VALUE --params FILE`` is the
command line of it (:func:`cli_parameters` reads the values).

Inside a notebook:

- :func:`record` records a key number (``record("llm_calls", 2000, headline="...")``); the
  index page and the tests read them back from the executed notebook (:func:`read_records`).
- :func:`show` displays the first rows of a frame as an escaped HTML table, with text
  passed through :mod:`toolkit.redact` first.
- :func:`section` guards a section with what it needs (``catalog.check(...)``): when
  something is missing it shows a "skipped" box and the notebook goes on
  (:func:`read_sections` reads them back).

The package keeps the two apart: the in-kernel helpers (:func:`record`, :func:`section`,
:func:`show`, ...) import no notebook machinery, and the runner (:func:`run_report`) and
the command line (:func:`register_cli`, :func:`lab_command`) are imported only with them.

Reports open offline and leak nothing: figures are embedded as PNG, no script, style or
font is fetched from the network (a Content-Security-Policy forbids it), the pages carry
no script at all, and every plain-text output (prints, errors) is redacted too.
"""

from __future__ import annotations

from toolkit._html import Table, show
from toolkit._time import utc
from toolkit.lab import lab_command  # genai-sre lab lives in toolkit.lab; kept here too
from toolkit.report._cli import (
    cli_parameters,
    register_cli,
)
from toolkit.report._kernel import (
    RECORD_MIMETYPE,
    SECTION_MIMETYPE,
    Record,
    Skipped,
    read_records,
    read_sections,
    record,
    section,
)
from toolkit.report._runner import (
    NotebookReport,
    ReportResult,
    run_report,
)

__all__ = [
    "RECORD_MIMETYPE",
    "SECTION_MIMETYPE",
    "NotebookReport",
    "Record",
    "ReportResult",
    "Skipped",
    "Table",
    "cli_parameters",
    "lab_command",
    "read_records",
    "read_sections",
    "record",
    "register_cli",
    "run_report",
    "section",
    "show",
    "utc",
]
