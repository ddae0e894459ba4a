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

Reports open offline and leak nothing: figures are embedded as PNG, no script, style or
font is fetched from the network (a Content-Security-Policy forbids it), the pages carry
no script at all, and every plain-text output (prints, errors) is redacted too.
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from toolkit._progress import Progress
from toolkit.errors import ParameterError, ToolkitError, preview
from toolkit.redact import Redactor, redact
from toolkit.schema import to_polars

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

#: The output mimetype under which :func:`record` stores a key number.
RECORD_MIMETYPE = "application/vnd.genai-sre.record+json"

#: Content-Security-Policy of every page written: nothing from the network, no script.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "script-src 'none'; base-uri 'none'; form-action 'none'"
)

#: What became of a notebook (:attr:`NotebookReport.status`).
Status = Literal["ok", "not applicable", "failed"]
_STATUSES: tuple[Status, ...] = ("ok", "not applicable", "failed")

_CELL_TIMEOUT_S = 1800
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Record:
    """A key number recorded by a notebook with :func:`record`.

    Attributes
    ----------
    name : str
        Identifier (``"spans_rows"``).
    value : JSON value
        int, float, str, bool, None, or a list / dict of those.
    headline : str or None
        One sentence for the index page, or None for numbers kept for the tests.
    """

    name: str
    value: Any
    headline: str | None = None


def _jsonable(value: Any, redactor: Redactor | None) -> Any:
    """Plain JSON value of ``value``: numpy/polars scalars unwrapped, text redacted."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return redact(value, redactor=redactor)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):  # keys are telemetry too (a slice value, a group name)
        return {redact(str(k), redactor=redactor): _jsonable(v, redactor) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, redactor) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and type(value).__module__ == "numpy":
        return _jsonable(item(), redactor)
    if isinstance(value, pl.Series):
        return [_jsonable(v, redactor) for v in value.to_list()]
    raise ParameterError(
        "The 'value' parameter of record must be a number, string, bool, None, datetime, "
        f"or a list or dict of those. Got {type(value).__name__} {preview(value)} instead."
    )


def _in_kernel() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        return shell.get_ipython() is not None
    except AttributeError:  # pragma: no cover - very old IPython
        return False


def record(name: str, value: Any, *, headline: str | None = None) -> None:
    """Record a key number of a notebook, for the report's index page and the tests.

    In a notebook the record becomes a display output with the mimetype
    :data:`RECORD_MIMETYPE` (read back by :func:`read_records`), shown to the reader as
    one line; elsewhere the line is printed. Text (values and headline) is redacted;
    NaN and infinities are recorded as null, datetimes as ISO-8601 text.

    Parameters
    ----------
    name : str
        Identifier: letters, digits, ``_``, ``.``, ``-``, starting with a letter or ``_``.
    value : int, float, str, bool, None, datetime, or a list or dict of those
        The number (numpy and polars scalars are accepted).
    headline : str, optional
        A sentence for the index page (``"12 % of rag-qa answers were ungrounded"``).

    Examples
    --------
    >>> record("llm_calls", 2000, headline="2,000 LLM calls")
    llm_calls = 2000  (2,000 LLM calls)
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ParameterError(
            "The 'name' parameter of record must be an identifier (letters, digits, _ . -). "
            f"Got {preview(name)} instead."
        )
    if headline is not None and not isinstance(headline, str):
        raise ParameterError(
            f"The 'headline' parameter of record must be a string. Got {preview(headline)} instead."
        )
    plain_value = _jsonable(value, None)
    shown_headline = None if headline is None else redact(headline)
    payload = {"name": name, "value": plain_value, "headline": shown_headline}
    text = f"{name} = {json.dumps(plain_value, ensure_ascii=False)}"
    if shown_headline:
        text += f"  ({shown_headline})"
    if not _in_kernel():
        print(text)
        return
    from IPython.display import display

    body = html.escape(f"{name} = {json.dumps(plain_value, ensure_ascii=False)}")
    code = f"<code style='color:#666;font-size:85%'>{body}</code>"
    markup = (
        f'<div class="genai-sre-record"><strong>{html.escape(shown_headline)}</strong> {code}</div>'
        if shown_headline
        else f'<div class="genai-sre-record">{code}</div>'
    )
    display({RECORD_MIMETYPE: payload, "text/plain": text, "text/html": markup}, raw=True)


#: The output mimetype under which :func:`section` marks a section that ran or was skipped.
SECTION_MIMETYPE = "application/vnd.genai-sre.section+json"

_SKIP_STYLE = (
    "border:1px solid #d0a000;border-left:6px solid #d0a000;background:#fff8e1;"
    "padding:8px 12px;margin:8px 0;border-radius:4px;font-size:95%"
)


@dataclass(frozen=True)
class Skipped:
    """A notebook section that did not run: what it needs, what was found, how to get it.

    Attributes
    ----------
    section : str
        The section's title.
    needs, found, how : str
        What it needs, what the data holds of that, and how to get what is missing.
    missing : tuple of str
        What is missing.
    """

    section: str
    needs: str
    found: str
    missing: tuple[str, ...] = ()
    how: str = ""


def _skip_html(skip: Skipped) -> str:
    esc = html.escape
    rows = [
        f"<div style='font-weight:bold'>Skipped: {esc(skip.section)}</div>",
        f"<div><b>Needs</b> {esc(skip.needs)}</div>",
        f"<div><b>Found</b> {esc(skip.found)}</div>",
    ]
    if skip.missing:
        rows.append(f"<div><b>Missing</b> {esc(', '.join(skip.missing))}</div>")
    if skip.how:
        rows.append(f"<div><b>How to get it</b> {esc(skip.how)}</div>")
    return f'<div class="genai-sre-skipped" style="{_SKIP_STYLE}">' + "".join(rows) + "</div>"


def _joined(sentences: Sequence[str]) -> str:
    """Sentences after one another: a space after a full stop, else a semicolon."""
    text = ""
    for sentence in sentences:
        text = sentence if not text else text + (" " if text.endswith(".") else "; ") + sentence
    return text


def section(title: str, *checks: Any) -> bool:
    """Whether a notebook section can run; when it cannot, show why in a "skipped" box.

    Each check is a :class:`toolkit.Support` (from ``catalog.check(...)`` or
    ``catalog.supports[...]``). When all are met the section runs (True is returned and
    the section is marked as run); otherwise a clearly styled box says what the section
    needs, what was found and how to get it, the skip is recorded for the report's index
    page, and False is returned so that the notebook goes on with its next section. A
    notebook whose sections were all skipped is reported as "not applicable".

    Parameters
    ----------
    title : str
        The section's title, as the reader sees it.
    *checks : Support
        What the section needs.

    Returns
    -------
    bool
        True when the section can run.

    Examples
    --------
    >>> from toolkit import Support
    >>> section("Burn-rate alerts", Support("alerts", "vLLM metrics", "no metrics table",
    ...                                     ("metrics",), "scrape vLLM's /metrics"))
    Skipped: Burn-rate alerts. Needs vLLM metrics; found no metrics table; missing metrics. \
How to get it: scrape vLLM's /metrics
    False
    """
    if not isinstance(title, str) or not title:
        raise ParameterError(
            f"The 'title' parameter of section must be a non-empty string. Got {preview(title)} "
            "instead."
        )
    unmet = [c for c in checks if not getattr(c, "ok", False)]
    if not unmet:
        payload: dict[str, Any] = {"section": title, "ran": True}
        if _in_kernel():
            from IPython.display import display

            display({SECTION_MIMETYPE: payload, "text/plain": ""}, raw=True)
        return True

    # Redacted before it is escaped into the box, written to the index page or printed.
    # Several checks often share their words: each is said once.
    def once(texts: Any) -> list[str]:
        return list(dict.fromkeys(str(t) for t in texts if t))

    skip = Skipped(
        redact(title),
        redact("; ".join(once(c.needs for c in unmet))),
        redact("; ".join(once(c.found for c in unmet))),
        tuple(redact(m) for m in once(m for c in unmet for m in c.missing)),
        redact(_joined(once(c.how for c in unmet))),
    )
    text = f"Skipped: {skip.section}. Needs {skip.needs}; found {skip.found}"
    if skip.missing:
        text += f"; missing {', '.join(skip.missing)}"
    if skip.how:
        text += f". How to get it: {skip.how}"
    if not _in_kernel():
        print(text)
        return False
    from IPython.display import display

    payload = {
        "section": skip.section,
        "ran": False,
        "needs": skip.needs,
        "found": skip.found,
        "missing": list(skip.missing),
        "how": skip.how,
    }
    display(
        {SECTION_MIMETYPE: payload, "text/plain": text, "text/html": _skip_html(skip)}, raw=True
    )
    return False


def _texts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else (str(value),)


def read_sections(notebook: Any) -> tuple[tuple[str, Skipped | None], ...]:
    """The sections an executed notebook marked with :func:`section`, in order.

    Parameters
    ----------
    notebook : nbformat.NotebookNode, dict, or path of an ``.ipynb`` file

    Returns
    -------
    tuple of (title, Skipped or None)
        None for a section that ran.

    Examples
    --------
    >>> ran = {SECTION_MIMETYPE: {"section": "Latency", "ran": True}}
    >>> skip = {SECTION_MIMETYPE: {"section": "GPU", "ran": False, "needs": "GPU telemetry",
    ...                            "found": "no gpu table", "missing": ["gpu"]}}
    >>> nb = {"cells": [{"cell_type": "code", "outputs": [
    ...     {"output_type": "display_data", "data": ran},
    ...     {"output_type": "display_data", "data": skip}]}]}
    >>> read_sections(nb)  # doctest: +NORMALIZE_WHITESPACE
    (('Latency', None),
     ('GPU', Skipped(section='GPU', needs='GPU telemetry', found='no gpu table',
                     missing=('gpu',), how='')))
    """
    if isinstance(notebook, str | os.PathLike):
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    out: list[tuple[str, Skipped | None]] = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = (output.get("data") or {}).get(SECTION_MIMETYPE)
            if not isinstance(data, Mapping):
                continue
            title = str(data.get("section", ""))
            if data.get("ran"):
                out.append((title, None))
            else:
                out.append(
                    (
                        title,
                        Skipped(
                            title,
                            str(data.get("needs", "")),
                            str(data.get("found", "")),
                            _texts(data.get("missing")),
                            str(data.get("how", "")),
                        ),
                    )
                )
    return tuple(out)


def read_records(notebook: Any) -> tuple[Record, ...]:
    """The records of an executed notebook, in the order they were made.

    Parameters
    ----------
    notebook : nbformat.NotebookNode, dict, or path of an ``.ipynb`` file

    Returns
    -------
    tuple of Record

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "display_data",
    ...       "data": {RECORD_MIMETYPE: {"name": "rows", "value": 3, "headline": None}}}]}]}
    >>> read_records(nb)
    (Record(name='rows', value=3, headline=None),)
    """
    if isinstance(notebook, str | os.PathLike):
        with open(notebook, encoding="utf-8") as handle:
            notebook = json.load(handle)
    if not isinstance(notebook, Mapping) or "cells" not in notebook:
        raise ParameterError(
            "The 'notebook' parameter of read_records must be a notebook (dict or "
            f"NotebookNode) or the path of an .ipynb file. Got {preview(notebook)} instead."
        )
    found: list[Record] = []
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(RECORD_MIMETYPE)
            if isinstance(payload, Mapping) and isinstance(payload.get("name"), str):
                found.append(Record(payload["name"], payload.get("value"), payload.get("headline")))
    return tuple(found)


# --------------------------------------------------------------------------- parameters


def utc(value: str | dt.datetime, *, name: str = "time") -> dt.datetime:
    """A notebook parameter's point in time as an aware UTC datetime; the zone is required.

    Parameters
    ----------
    value : str or datetime
        ISO-8601 text with its zone (``"2026-11-02T00:00:00Z"``, ``"...+01:00"``) or an
        aware datetime. A time without a zone is refused, never guessed.
    name : str, default "time"
        The parameter's name, for the error message.

    Returns
    -------
    datetime.datetime
        In UTC.

    Examples
    --------
    >>> utc("2026-11-02T01:00:00+01:00", name="start")
    datetime.datetime(2026, 11, 2, 0, 0, tzinfo=datetime.timezone.utc)
    >>> utc("2026-11-02T01:00:00", name="start")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'start' parameter must be an ISO-8601 time ...
    """
    problem = (
        f"The {name!r} parameter must be an ISO-8601 time with its zone (Z or +hh:mm). "
        f"Got {preview(value)} instead."
    )
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ParameterError(problem) from None
    else:
        raise ParameterError(problem)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ParameterError(problem)
    return moment.astimezone(dt.UTC)


# --------------------------------------------------------------------------- show


@dataclass(frozen=True)
class Table:
    """An escaped, redacted HTML rendering of a frame's first rows (from :func:`show`).

    Attributes
    ----------
    html : str
        The ``<table>`` markup; every cell and header is redacted, then escaped.
    text : str
        A plain-text rendering of the same cells.
    shape : tuple of int
        Rows and columns of the whole frame.
    """

    html: str
    text: str
    shape: tuple[int, int]

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def _cell_text(value: Any, dtype: pl.DataType) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return format(value, ".6g")
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, str):
        return value
    if dtype.is_temporal():
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def _dtype_text(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        zone = f", {dtype.time_zone}" if dtype.time_zone else ""
        return f"datetime[{dtype.time_unit!s}{zone}]"
    return str(dtype).lower()


def _cut(text: str, limit: int) -> str:
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def show(
    frame: Any,
    n: int = 5,
    *,
    columns: Sequence[str] | None = None,
    redactor: Redactor | None = None,
    max_chars: int = 60,
) -> Table:
    """The first rows of a frame as an escaped HTML table, text redacted.

    Every cell that is not a number, bool or timestamp is turned into text, passed
    through :func:`toolkit.redact.redact` and HTML-escaped, so telemetry text such as
    ``<script>`` shows as text. Column names are treated the same way.

    Parameters
    ----------
    frame : polars.DataFrame, polars.LazyFrame or pandas.DataFrame
    n : int, default 5
        Rows shown.
    columns : list of str, optional
        Columns shown (all by default).
    redactor : Redactor, optional
        The patterns; the default :class:`toolkit.redact.Redactor` when not given.
    max_chars : int, default 60
        Longer cell texts are cut (after redaction) and end in ``…``.

    Returns
    -------
    Table
        Rendered by Jupyter as the table; ``repr`` gives plain text.

    Examples
    --------
    >>> import polars as pl
    >>> t = show(pl.DataFrame({"body": ["<b>hi</b> from a@b.io"], "n": [1]}))
    >>> "&lt;b&gt;hi&lt;/b&gt; from [EMAIL]" in t.html, t.shape
    (True, (1, 2))
    """
    data = to_polars(frame, function="show")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ParameterError(
            f"The 'n' parameter of show must be a non-negative integer. Got {preview(n)} instead."
        )
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 2:
        raise ParameterError(
            "The 'max_chars' parameter of show must be an integer of at least 2. "
            f"Got {preview(max_chars)} instead."
        )
    if columns is not None:
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
            raise ParameterError(
                "The 'columns' parameter of show must be a list of column names. "
                f"Got {preview(columns)} instead."
            )
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise ParameterError(
                "The 'columns' parameter of show must name columns of the frame "
                f"(available: {preview(', '.join(data.columns), 300)}). "
                f"Got {preview(missing)} instead."
            )
    shape = data.shape
    head = data.select(columns) if columns is not None else data
    head = head.head(n)

    def clean(text: str) -> str:
        return _cut(redact(text, redactor=redactor), max_chars)

    names = [clean(name) for name in head.columns]
    dtypes = [_dtype_text(dtype) for dtype in head.dtypes]
    rows: list[list[str]] = [[] for _ in range(head.height)]
    numeric = []
    for name, dtype in zip(head.columns, head.dtypes, strict=True):
        plain = dtype.is_numeric() or dtype == pl.Boolean or dtype.is_temporal()
        numeric.append(dtype.is_numeric())
        for row, value in zip(rows, head[name].to_list(), strict=True):
            text = _cell_text(value, dtype)
            row.append(_cut(text, max_chars) if plain or value is None else clean(text))
    caption = f"{shape[0]:,} rows × {shape[1]} columns" + (
        f", first {head.height} shown" if head.height < shape[0] else ""
    )
    esc = html.escape
    parts = [
        '<div class="genai-sre-table" style="overflow-x:auto;max-width:100%">',
        f'<table class="dataframe"><caption style="text-align:left">{esc(caption)}</caption>',
        "<thead><tr>",
        *(f'<th style="text-align:left">{esc(name)}</th>' for name in names),
        "</tr><tr>",
        *(f'<td style="color:#777;font-size:85%;text-align:left">{esc(d)}</td>' for d in dtypes),
        "</tr></thead><tbody>",
    ]
    for row in rows:
        parts.append("<tr>")
        parts.extend(
            f'<td style="text-align:{"right" if num else "left"};white-space:pre">{esc(cell)}</td>'
            for cell, num in zip(row, numeric, strict=True)
        )
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    lines = [caption, " | ".join(names), *(" | ".join(row) for row in rows)]
    return Table(html="".join(parts), text="\n".join(lines), shape=(shape[0], shape[1]))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class NotebookReport:
    """What became of one notebook in :func:`run_report`.

    Attributes
    ----------
    name : str
        The notebook's file stem (``"00_tour"``).
    title : str
        Its first Markdown heading.
    source : Path
        The ``.ipynb`` executed.
    html : Path or None
        The HTML written (also for a failed notebook, up to the failing cell).
    records : tuple of Record
        The key numbers it recorded.
    seconds : float
        Execution and export time.
    error : str or None
        For a failed notebook: the cell, the line that raised, the exception's type and
        message (``"20_fail.ipynb, cell 4, line 3 ('boom = 1 / 0'): ZeroDivisionError:
        division by zero"``).
    failed_cell : int or None
        1-based position of the failing cell in the notebook as stored.
    failed_line : int or None
        1-based line of the failing cell that raised, when the traceback names it.
    sections : tuple of (str, Skipped or None)
        The sections the notebook marked with :func:`section`, in order: None for one
        that ran, its :class:`Skipped` for one that did not.
    """

    name: str
    title: str
    source: Path
    html: Path | None
    records: tuple[Record, ...]
    seconds: float
    error: str | None = None
    failed_cell: int | None = None
    failed_line: int | None = None
    sections: tuple[tuple[str, Skipped | None], ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every cell ran (also for a notebook that is "not applicable")."""
        return self.error is None

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        """The sections that did not run: what each needs, what was found, how to get it."""
        return tuple(skip for _, skip in self.sections if skip is not None)

    @property
    def status(self) -> Status:
        """ "ok", "not applicable" or "failed".

        "failed": a cell raised (or the notebook could not start). "not applicable": it
        ran to the end, and it skipped at least one section and ran none, so the data
        held nothing it analyses. "ok" otherwise, also when some sections were skipped
        (:attr:`skipped` lists them) and for a notebook that marks no section at all (it
        ran every cell, and nothing says it had nothing to do).
        """
        if self.error is not None:
            return "failed"
        ran = any(skip is None for _, skip in self.sections)
        if self.skipped and not ran:
            return "not applicable"
        return "ok"

    @property
    def values(self) -> dict[str, Any]:
        """Recorded values by name (the last one wins for a repeated name)."""
        return {r.name: r.value for r in self.records}


@dataclass(frozen=True)
class ReportResult:
    """The outcome of :func:`run_report`: one entry per notebook, and the index page.

    Examples
    --------
    >>> result = ReportResult(out_dir=Path("reports"), index=Path("reports/index.html"))
    >>> result.ok, len(result.failures)
    (True, 0)
    """

    out_dir: Path
    index: Path
    notebooks: tuple[NotebookReport, ...] = ()
    seconds: float = 0.0
    data_dir: Path | None = None
    written: tuple[Path, ...] = field(default=())

    @property
    def failures(self) -> tuple[NotebookReport, ...]:
        """The notebooks that failed."""
        return tuple(nb for nb in self.notebooks if not nb.ok)

    @property
    def ok(self) -> bool:
        """Whether no notebook failed ("not applicable" is not a failure)."""
        return not self.failures

    @property
    def statuses(self) -> dict[str, Status]:
        """Each notebook's status ("ok", "not applicable", "failed"), by name."""
        return {nb.name: nb.status for nb in self.notebooks}

    def __getitem__(self, name: str) -> NotebookReport:
        for nb in self.notebooks:
            if name in (nb.name, nb.source.name):
                return nb
        raise KeyError(f"no notebook {name!r} in this report ({', '.join(self.names)})")

    @property
    def names(self) -> tuple[str, ...]:
        """The notebooks' names, in execution order."""
        return tuple(nb.name for nb in self.notebooks)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for nb in self.notebooks:
            status = nb.status if nb.ok else f"failed: {nb.error}"
            if nb.skipped:
                status += f" ({len(nb.skipped)} section(s) skipped)"
            rows.append(
                f"<tr><td>{esc(nb.name)}</td><td>{esc(status)}</td>"
                f"<td style='text-align:right'>{nb.seconds:.1f} s</td>"
                f"<td>{len(nb.records)}</td><td>{esc(str(nb.html or ''))}</td></tr>"
            )
        return (
            f"<p>Report in <code>{esc(str(self.out_dir))}</code>: "
            f"{esc(_summary_text(self))}, {self.seconds:.1f} s; index "
            f"<code>{esc(str(self.index))}</code></p><table><thead><tr><th>notebook</th>"
            "<th>status</th><th>time</th><th>records</th><th>HTML</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
        )

    def __repr__(self) -> str:
        return (
            f"ReportResult({len(self.notebooks)} notebooks, {len(self.failures)} failed, "
            f"index={str(self.index)!r})"
        )


# --------------------------------------------------------------------------- running


def _default_notebooks_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "notebooks"


def _notebook_title(nb: Any, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return str(line[2:].strip())
    return fallback


def _parameter_names(source: str) -> list[str]:
    names: list[str] = []
    for node in ast.parse(source).body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                names.append(target.id)
    return names


def _declared(path: Path) -> list[str]:
    """The names a notebook's (first) ``parameters`` cell assigns; none when it has none."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "parameters" in _tags(cell):
            try:
                return _parameter_names(cell.source)
            except SyntaxError:
                return []
    return []


def _check_parameter_names(given: Mapping[str, Any], declared: Mapping[str, list[str]]) -> None:
    """Refuse a parameter that no selected notebook declares, listing those they do."""
    known = {name for names in declared.values() for name in names}
    unknown = [name for name in given if name not in known]
    if not unknown:
        return
    import difflib

    listing = "; ".join(
        f"{stem}: {', '.join(names) if names else 'none'}" for stem, names in declared.items()
    )
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(str(name), sorted(known), n=1)
        if close:
            hints.append(f"did you mean {close[0]!r} for {name!r}?")
    got = ", ".join(repr(name) for name in unknown)
    raise ParameterError(
        "The 'parameters' parameter of run_report must name parameters that the selected "
        f"notebooks declare in their parameters cell ({listing}). Got {got} instead"
        + (f"; {' '.join(hints)}" if hints else ".")
    )


def _literal(name: str, value: Any) -> str:
    text = repr(value)
    try:
        same = ast.literal_eval(text) == value
    except (ValueError, SyntaxError):
        same = False
    if not same:
        raise ParameterError(
            f"The 'parameters' parameter of run_report must map names to literals (str, "
            f"int, float, bool, None, list, dict). Got {preview(value)} for {name!r} instead."
        )
    return f"{name} = {text}"


def _select(notebooks: list[Path], only: str | Sequence[str] | None) -> list[Path]:
    if only is None:
        return notebooks
    wanted = [only] if isinstance(only, str) else list(only)
    chosen: list[Path] = []
    for item in wanted:
        if not isinstance(item, str):
            raise ParameterError(
                "The 'only' parameter of run_report must be notebook names. "
                f"Got {preview(item)} instead."
            )
        key = item.removesuffix(".ipynb")
        matches = [p for p in notebooks if p.stem == key or p.stem.split("_", 1)[0] == key]
        if not matches:
            raise ParameterError(
                "The 'only' parameter of run_report must name notebooks of "
                f"{', '.join(p.stem for p in notebooks)}. Got {item!r} instead."
            )
        chosen.extend(p for p in matches if p not in chosen)
    return sorted(chosen)


def _tags(cell: Any) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return _cut(line.strip(), 80)
    return ""


#: "Cell In[7], line 3" in an IPython traceback: the cell's execution count and line.
_CELL_FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")
#: The temporary file IPython compiles a cell as, in a SyntaxError's message.
_CELL_FILE = re.compile(r" \((?:\d+|<[^>]*>|[\w-]+\.py), line \d+\)$")
_MESSAGE_CHARS = 300


def _raising_line(cell: Any) -> int | None:
    """The 1-based line of ``cell`` that raised, from the kernel's traceback of its error.

    The first "Cell In[n], line k" frame whose ``n`` is the cell's execution count is the
    cell's own frame (later ones are cells whose code it called); without an execution
    count, the first such frame. The line is counted in the cell as stored.
    """
    for output in cell.get("outputs", []) or []:
        if output.get("output_type") != "error":
            continue
        text = _ANSI.sub("", "\n".join(str(t) for t in output.get("traceback", []) or []))
        frames = [(int(n), int(k)) for n, k in _CELL_FRAME.findall(text)]
        if not frames:
            return None
        count = cell.get("execution_count")
        own = [k for n, k in frames if n == count]
        # IPython drops a cell's leading blank lines before it numbers the lines.
        lines = str(cell.get("source", "")).splitlines()
        blank = next((i for i, text in enumerate(lines) if text.strip()), 0)
        return (own[0] if own else frames[0][1]) + blank
    return None


def _exception_text(name: str, message: str) -> str:
    """``"Type: message"`` on one line, ANSI codes stripped, cut to a bounded length."""
    name = _ANSI.sub("", name).strip() or "Error"
    message = _ANSI.sub("", message).strip()
    if name in ("SyntaxError", "IndentationError", "TabError"):
        message = _CELL_FILE.sub("", message)
    message = " ".join(message.split())
    return f"{name}: {_cut(message, _MESSAGE_CHARS)}" if message else name


def _kernel_manager(socket_dir: str) -> Any:
    """A kernel manager that runs this very interpreter's ipykernel over local sockets."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    # No kernel directories: the native "python3" spec of the running interpreter
    # (ipykernel's own resources, argv[0] = sys.executable) is used, whatever is installed
    # in the user's Jupyter paths.
    specs = KernelSpecManager(kernel_dirs=[])
    # IPC (Unix sockets in a private directory) rather than unencrypted TCP on localhost.
    transport = "ipc" if os.name == "posix" else "tcp"
    options: dict[str, Any] = {"transport": transport}
    if transport == "ipc":
        options["ip"] = os.path.join(socket_dir, "kernel")
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs, **options)


def _section_ran(output: Any) -> bool:
    marker = (output.get("data") or {}).get(SECTION_MIMETYPE)
    return isinstance(marker, Mapping) and bool(marker.get("ran"))


def _prepare_outputs(nb: Any, title: str) -> None:
    """Redact plain-text outputs (prints, errors, reprs), drop the "section ran" markers,
    give every figure an alt text."""
    figures = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        # The "section ran" marker of `section` is for the index page: nothing to show.
        cell["outputs"] = [o for o in cell.get("outputs", []) if not _section_ran(o)]
        for output in cell["outputs"]:
            kind = output.get("output_type")
            if kind == "stream":
                output["text"] = redact(output["text"])
            elif kind == "error":
                output["evalue"] = redact(output.get("evalue", ""))
                output["traceback"] = [redact(line) for line in output.get("traceback", [])]
            elif kind in ("display_data", "execute_result"):
                data = output.get("data", {})
                if isinstance(data.get("text/plain"), str):
                    data["text/plain"] = redact(data["text/plain"])
                if "image/png" in data:
                    figures += 1
                    meta = output.setdefault("metadata", {}).setdefault("image/png", {})
                    meta.setdefault("alt", f"Figure {figures} of {title}")


_TEMPLATE_NAME = "genai_sre_report.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<meta http-equiv="Content-Security-Policy" content="{{ resources.genai_sre_csp }}">
<style type="text/css">
main { max-width: 1100px; margin: 0 auto; }
.genai-sre-table table { border-collapse: collapse; font-size: 12px; }
.genai-sre-table th, .genai-sre-table td { padding: 2px 8px; border-bottom: 1px solid #ddd; }
</style>
{%- endblock extra_css -%}
{%- block data_javascript scoped -%}
<div class="jp-OutputArea-output {{ extra_class }}">
<pre>[JavaScript output not shown in this report]</pre></div>
{%- endblock data_javascript -%}
{%- block data_widget_view scoped -%}
<div class="jp-OutputArea-output {{ extra_class }}">
<pre>[widget not shown in this report]</pre></div>
{%- endblock data_widget_view -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ output.metadata.get('image/png', {}).get('alt', 'figure') | escape_html }}">
</div>
{%- endblock data_png -%}
{%- block footer -%}
</html>
{%- endblock footer -%}
"""


def _exporter(no_input: bool) -> Any:
    import jinja2
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        exclude_input=no_input,
        exclude_input_prompt=no_input,
        exclude_output_prompt=True,
        embed_images=True,
    )


def _export(nb: Any, path: Path, title: str, exporter: Any) -> None:
    import nbformat

    nb = nbformat.from_dict(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": title}, "genai_sre_csp": CSP}
    )
    # The theme's CSS comments cite web pages: drop comments from the head so that the
    # page names no network address outside the notebook's own content.
    head, marker, rest = body.partition("<body")
    head = re.sub(r"/\*.*?\*/", "", head, flags=re.DOTALL)
    path.write_text(head + marker + rest, encoding="utf-8")


def _run_one(
    path: Path,
    out_dir: Path,
    injected: dict[str, Any],
    exporter: Any,
    bar: Progress,
    env: dict[str, str],
    socket_dir: str,
) -> NotebookReport:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    started = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    title = _notebook_title(nb, path.stem)
    html_path = out_dir / f"{path.stem}.html"
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in _tags(c)]
    problem: str | None = None
    position = tagged[0] if tagged else -1
    if not tagged:
        problem = f"{path.name}: no cell is tagged 'parameters' (JupyterLab: cell inspector)"
    else:
        try:
            defined = _parameter_names(nb.cells[position].source)
        except SyntaxError as exc:
            problem = f"{path.name}, cell {position + 1} (the parameters cell): {exc}"
        else:
            if "data_dir" not in defined:
                problem = f"{path.name}: the parameters cell does not define data_dir"
    if problem is not None:
        seconds = time.perf_counter() - started
        cell_number = position + 1 if tagged else None
        return NotebookReport(path.stem, title, path, None, (), seconds, problem, cell_number)
    lines = ["# Parameters injected by toolkit.report.run_report"]
    lines += [_literal(name, value) for name, value in injected.items() if name in defined]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(position + 1, cell)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    current = {"index": -1, "done": 0}

    def on_start(cell: Any, cell_index: int) -> None:
        current["index"] = cell_index
        bar.describe(f"{path.stem}: cell {cell_index + 1}/{len(nb.cells)}")

    def on_complete(cell: Any, cell_index: int) -> None:
        current["done"] += 1
        bar.update(1)

    km = _kernel_manager(socket_dir)
    client = NotebookClient(
        nb,
        km=km,
        timeout=_CELL_TIMEOUT_S,
        startup_timeout=120,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_start,
        on_cell_complete=on_complete,
    )
    error: str | None = None
    failed: int | None = None
    line: int | None = None
    try:
        client.execute(env=env)
    except Exception as exc:  # any failure is reported, the other notebooks still run
        index = current["index"]
        if isinstance(exc, CellExecutionError):
            why = _exception_text(exc.ename, exc.evalue)
        else:
            why = _exception_text(type(exc).__name__, str(exc))
        if index < 0:
            where = "before the first cell (starting the kernel)"
        elif index == position + 1:
            where = "the injected parameters cell"
        else:
            failed = index + 1 if index <= position else index
            source = nb.cells[index].source
            line = _raising_line(nb.cells[index])
            if line is not None and line <= len(source.splitlines()):
                quoted = _cut(source.splitlines()[line - 1].strip(), 120)
                where = f"cell {failed}, line {line} ({quoted!r})"
            else:
                line = None
                where = f"cell {failed} ({_first_line(source)!r})"
        error = redact(_ANSI.sub("", f"{path.name}, {where}: {why}"))
    finally:
        bar.update(code_cells - current["done"])
        # The client does not own a kernel manager it was given: stop both here.
        if client.kc is not None:
            client.kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=False)
    sections = read_sections(nb)
    _prepare_outputs(nb, title)
    _export(nb, html_path, title, exporter)
    return NotebookReport(
        path.stem,
        title,
        path,
        html_path,
        read_records(nb),
        time.perf_counter() - started,
        error,
        failed,
        line,
        sections,
    )


def run_report(
    data_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    only: str | Sequence[str] | None = None,
    no_input: bool = False,
    notebooks_dir: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    *,
    parameters: Mapping[str, Any] | None = None,
) -> ReportResult:
    """Execute the notebooks on the exports in ``data_dir`` and write HTML reports.

    Each notebook runs in a fresh kernel of this interpreter, with a cell injected after
    its ``parameters`` cell that sets ``data_dir`` (absolute) and any ``parameters``
    given. One self-contained HTML file per notebook and an ``index.html`` with the
    headline findings are written to ``out_dir``, plus ``findings.json`` (every record).
    A failing notebook does not stop the others; its error names the cell, the line that
    raised and the exception's type and message.

    Parameters
    ----------
    data_dir : path
        Directory of the exports (the notebooks' ``data_dir`` parameter).
    out_dir : path
        Where the reports go (created if missing).
    only : str or list of str, optional
        Notebooks to run, by stem (``"00_tour"``) or number prefix (``"00"``).
    no_input : bool, default False
        Hide code cells' input: findings, figures and prose only.
    notebooks_dir : path, optional
        Where the notebooks are; the project's ``notebooks/`` by default.
    progress : bool, optional
        Progress bar per notebook and cell: None shows it after two seconds (unless
        ``TOOLKIT_PROGRESS=0``), True at once, False never.
    parameters : mapping, optional
        More parameter values (literals; dates and times are given to the notebooks as
        ISO-8601 text), each injected into the selected notebooks whose
        parameters cell declares it (``tz`` goes to every notebook that has a ``tz``); a
        name that no selected notebook declares is an error that lists each notebook's
        parameters.

    Returns
    -------
    ReportResult
        Per notebook: HTML path, records, time, status ("ok", "not applicable",
        "failed"), skipped sections, error; ``.failures`` lists the failed ones and
        ``.ok`` is True when none failed.

    Raises
    ------
    ParameterError
        For a missing data or notebooks directory, an unknown notebook or parameter.

    Examples
    --------
    >>> run_report("no/such/dir", "out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'data_dir' parameter of run_report must be ...
    """
    data = Path(data_dir)
    if not data.is_dir():
        raise ParameterError(
            "The 'data_dir' parameter of run_report must be an existing directory. "
            f"Got {str(data)!r} instead."
        )
    source_dir = Path(notebooks_dir) if notebooks_dir is not None else _default_notebooks_dir()
    if not source_dir.is_dir():
        raise ParameterError(
            "The 'notebooks_dir' parameter of run_report must be an existing directory "
            f"(the project's notebooks/ by default). Got {str(source_dir)!r} instead."
        )
    available = sorted(p for p in source_dir.glob("*.ipynb") if not p.name.startswith("."))
    if not available:
        raise ParameterError(
            "The 'notebooks_dir' parameter of run_report must hold .ipynb notebooks. "
            f"Got {str(source_dir)!r} (none found) instead."
        )
    chosen = _select(available, only)
    if not isinstance(no_input, bool):
        raise ParameterError(
            f"The 'no_input' parameter of run_report must be a bool. Got {preview(no_input)} "
            "instead."
        )
    if parameters is not None and (
        not isinstance(parameters, Mapping) or not all(isinstance(k, str) for k in parameters)
    ):
        raise ParameterError(
            "The 'parameters' parameter of run_report must be a mapping of parameter names to "
            f"values. Got {preview(parameters)} instead."
        )
    extra = {name: _plain(value) for name, value in (parameters or {}).items()}
    if "data_dir" in extra:
        raise ParameterError(
            "The 'parameters' parameter of run_report must not set data_dir (use the "
            "data_dir argument). Got {'data_dir': ...} instead."
        )
    import nbformat

    if extra:
        _check_parameter_names(extra, {p.stem: _declared(p) for p in chosen})
        for name, value in extra.items():
            _literal(name, value)
    injected = {"data_dir": str(data.resolve()), **extra}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["TOOLKIT_PROGRESS"] = "0"  # no progress bars inside the reports
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    exporter = _exporter(no_input)
    total = 0
    for path in chosen:
        nb = nbformat.read(path, as_version=4)
        total += sum(c.cell_type == "code" for c in nb.cells) + 1
    started = time.perf_counter()
    reports: list[NotebookReport] = []
    with (
        Progress("report", total=total, unit="cell", enabled=progress) as bar,
        tempfile.TemporaryDirectory(prefix="genai-sre-") as socket_dir,
    ):
        for path in chosen:
            bar.describe(path.stem)
            reports.append(_run_one(path, out, injected, exporter, bar, env, socket_dir))
    written = [nb.html for nb in reports if nb.html is not None]
    result = ReportResult(
        out_dir=out,
        index=out / "index.html",
        notebooks=tuple(reports),
        seconds=time.perf_counter() - started,
        data_dir=data,
        written=(*written, out / "index.html", out / "findings.json"),
    )
    _write_index(result)
    _write_findings(result)
    return result


_INDEX_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 960px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.meta { color: #666; font-size: 0.9em; }
section { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; margin: 1em 0; }
section.failed { border-color: #c62828; background: #fff5f5; }
section.not-applicable { border-color: #bbb; background: #fafafa; }
h2 { font-size: 1.15em; margin: 0.2em 0; }
.status { font-size: 0.85em; padding: 1px 6px; border-radius: 3px; background: #e8f5e9; }
.failed .status { background: #ffcdd2; }
.not-applicable .status { background: #eeeeee; }
pre { white-space: pre-wrap; background: #f7f7f7; padding: 0.5em; }
.skipped { border-left: 4px solid #d0a000; background: #fff8e1; padding: 0.3em 0.8em;
           margin: 0.5em 0; font-size: 0.92em; }
.skipped ul { margin: 0.2em 0; padding-left: 1.2em; }
"""


def _summary_text(result: ReportResult) -> str:
    """ "8 notebook(s): 5 ok, 2 not applicable, 1 failed" (or "..., all ran")."""
    counts = {s: sum(nb.status == s for nb in result.notebooks) for s in _STATUSES}
    failed = counts["failed"]
    text = f"{len(result.notebooks)} notebook(s), " + (f"{failed} failed" if failed else "all ran")
    rest = [f"{counts[s]} {s}" for s in ("ok", "not applicable") if counts[s]]
    return text + (f" ({', '.join(rest)})" if rest else "")


def _skipped_html(skipped: Sequence[Skipped]) -> str:
    """The index page's list of skipped sections of one notebook (text redacted, escaped)."""
    if not skipped:
        return ""
    esc = html.escape

    def clean(text: str) -> str:
        return esc(redact(text))

    items = []
    for skip in skipped:
        parts = [f"<b>{clean(skip.section)}</b>: needs {clean(skip.needs)}"]
        parts.append(f"; found {clean(skip.found)}")
        if skip.missing:
            parts.append(f"; missing {clean(', '.join(skip.missing))}")
        if skip.how:
            parts.append(f". <i>How to get it:</i> {clean(skip.how)}")
        items.append(f"<li>{''.join(parts)}</li>")
    return f"<div class='skipped'>{len(skipped)} section(s) skipped:<ul>{''.join(items)}</ul></div>"


def _write_index(result: ReportResult) -> None:
    esc = html.escape
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = []
    for nb in result.notebooks:
        link = (
            f'<a href="{esc(nb.html.name)}">{esc(nb.title)}</a>'
            if nb.html is not None
            else esc(nb.title)
        )
        status = nb.status
        nothing = (
            "not applicable to this data: every section was skipped (below)"
            if status == "not applicable"
            else "no headline findings recorded"
        )
        findings = [f"<li>{esc(r.headline)}</li>" for r in nb.records if r.headline] or [
            f"<li class='meta'>{nothing}</li>"
        ]
        error = f"<pre>{esc(redact(nb.error))}</pre>" if nb.error else ""
        sections.append(
            f'<section class="{status.replace(" ", "-")}"><h2>{link} '
            f'<span class="status">{status}</span></h2>'
            f'<div class="meta">{esc(nb.source.name)} · {nb.seconds:.1f} s</div>{error}'
            f"<ul>{''.join(findings)}</ul>{_skipped_html(nb.skipped)}</section>"
        )
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>genai-sre report</title><style>{_INDEX_CSS}</style></head><body>"
        "<h1>genai-sre report</h1>"
        f"<p class='meta'>{esc(_summary_text(result))} · generated {esc(generated)}"
        + (f" · data: <code>{esc(str(result.data_dir))}</code>" if result.data_dir else "")
        + "</p>"
        + "".join(sections)
        + "</body></html>\n"
    )
    result.index.write_text(page, encoding="utf-8")


def _skipped_json(skip: Skipped) -> dict[str, Any]:
    return {
        "section": skip.section,
        "needs": skip.needs,
        "found": skip.found,
        "missing": list(skip.missing),
        "how": skip.how,
    }


def _write_findings(result: ReportResult) -> None:
    findings = {
        nb.name: {
            "title": nb.title,
            "ok": nb.ok,
            "status": nb.status,
            "error": nb.error,
            "failed_cell": nb.failed_cell,
            "failed_line": nb.failed_line,
            "seconds": round(nb.seconds, 3),
            "html": nb.html.name if nb.html else None,
            "sections_run": [title for title, skip in nb.sections if skip is None],
            "skipped": [_jsonable(_skipped_json(skip), None) for skip in nb.skipped],
            "records": [
                {"name": r.name, "value": r.value, "headline": r.headline} for r in nb.records
            ],
        }
        for nb in result.notebooks
    }
    (result.out_dir / "findings.json").write_text(
        json.dumps(_escaped(findings), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _escaped(value: Any) -> Any:
    """Every text of findings.json, keys included, redacted and with its markup escaped:
    whatever reads the file next (a dashboard, a chat message) gets no live markup."""
    if isinstance(value, str):
        return html.escape(redact(value), quote=False)
    if isinstance(value, Mapping):
        return {_escaped(str(k)): _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    return value


# --------------------------------------------------------------------------- command line


def lab_command(
    notebooks_dir: str | os.PathLike[str] | None = None, extra: Sequence[str] = ()
) -> list[str]:
    """The command that :func:`register_cli`'s ``lab`` runs: JupyterLab on the notebooks.

    JupyterLab runs on this interpreter, so its ``python3`` kernel is the project's
    environment. Token authentication stays on.

    Parameters
    ----------
    notebooks_dir : path, optional
        The project's ``notebooks/`` by default.
    extra : list of str
        More JupyterLab arguments (``--port=8899``, ``--no-browser`` ...).

    Returns
    -------
    list of str

    Examples
    --------
    >>> lab_command("notebooks", ["--no-browser"])[1:4]
    ['-m', 'jupyterlab', '--ServerApp.root_dir=notebooks']
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else _default_notebooks_dir()
    args = list(extra)
    for option, value in _options(args):
        name = option.lstrip("-").lower()
        last = name.rsplit(".", 1)[-1]
        unquoted = (value or "").strip().strip("'\"").strip()
        disables = (
            (
                last in ("token", "password", "hashed_password")
                and value is not None
                and not unquoted
            )
            or (last in _AUTH_SWITCHES and (value is None or unquoted.lower() in _TRUE))
            or (last in ("allow_origin", "allow_origin_pat") and unquoted in ("*", ".*"))
        )
        if disables:
            shown = option if value is None else f"{option} {value!r}"
            raise ParameterError(
                "The 'extra' parameter of lab_command must leave token authentication on "
                f"(a JupyterLab without it runs code for anyone who reaches its port). Got "
                f"{preview(shown)} instead."
            )
    if not any(o.lstrip("-").lower().rsplit(".", 1)[-1] == "ip" for o, _ in _options(args)):
        args = ["--ServerApp.ip=127.0.0.1", *args]  # never beyond this machine unless asked
    return [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}", *args]


#: JupyterLab switches that turn authentication or request checks off when true.
_AUTH_SWITCHES = frozenset({"disable_check_xsrf", "allow_unauthenticated_access"})
_TRUE = ("true", "1", "yes")


def _options(args: Sequence[str]) -> list[tuple[str, str | None]]:
    """``(--option, value)`` pairs of a Jupyter command line, in either spelling
    (``--x.token=v`` and ``--x.token v``); a bare switch has the value None."""
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            if "=" in arg:
                option, value = arg.split("=", 1)
                out.append((option, value))
            elif i + 1 < len(args) and not args[i + 1].startswith("--"):
                out.append((arg, args[i + 1]))
                i += 1
            else:
                out.append((arg, None))
        i += 1
    return out


def _cli_value(text: str) -> Any:
    """A ``-p`` value as papermill reads it: a Python literal, else the text itself."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text


def _plain(value: Any) -> Any:
    """Dates and times (YAML's, or run_report's) as ISO-8601 text, as notebooks take them."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def cli_parameters(
    assignments: Sequence[str] = (), params_file: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The notebook parameters of ``genai-sre report -p NAME=VALUE ... --params FILE``.

    Each ``-p`` value is read as a Python literal (``2.5``, ``None``, ``["a", "b"]``,
    ``'text'``) and, when it is none, kept as text (``h100-pool``), as papermill does. The
    ``--params`` file is a YAML mapping of names to values (dates and times become ISO-8601
    text); a ``-p`` of the same name wins.

    Parameters
    ----------
    assignments : list of str
        The ``-p`` options, ``"NAME=VALUE"`` each.
    params_file : path, optional
        The ``--params`` YAML file.

    Returns
    -------
    dict
        Names to values, for :func:`run_report`'s ``parameters``.

    Raises
    ------
    ParameterError
        For an assignment without ``=`` or whose name is not an identifier, a file that
        cannot be read or is not a YAML mapping of names, or a ``data_dir`` (set with
        ``--data``).

    Examples
    --------
    >>> cli_parameters(["ttft_slo_s=2.5", "pool=h100-pool", 'slices=["a","b"]', "start=None"])
    {'ttft_slo_s': 2.5, 'pool': 'h100-pool', 'slices': ['a', 'b'], 'start': None}
    """
    values: dict[str, Any] = {}
    if params_file is not None:
        values.update(_params_file(Path(params_file)))
    for item in assignments:
        name, equals, text = str(item).partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise ParameterError(
                "The '-p' option of genai-sre report must be NAME=VALUE, NAME a Python "
                f"identifier (-p ttft_slo_s=2.5). Got {preview(item)} instead."
            )
        values[name] = _cli_value(text)
    if "data_dir" in values:
        raise ParameterError(
            "The '-p' and '--params' options of genai-sre report must not set data_dir (use "
            "--data DIR). Got data_dir instead."
        )
    return values


def _params_file(path: Path) -> dict[str, Any]:
    import yaml

    where = "The '--params' option of genai-sre report must be a YAML file of name: value lines"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(
            f"{where}. Got {str(path)!r}, which cannot be read ({type(exc).__name__}) instead."
        ) from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise ParameterError(f"{where}. Got {str(path)!r} ({problem}{at}) instead.") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping) or not all(
        isinstance(k, str) and k.isidentifier() for k in loaded
    ):
        raise ParameterError(
            f"{where}. Got {str(path)!r}, holding {preview(loaded)}, instead (a mapping of "
            "parameter names to values is expected)."
        )
    return {str(k): _plain(v) for k, v in loaded.items()}


def _report_command(args: Any) -> int:
    progress = None if not args.quiet else False
    try:
        parameters = cli_parameters(args.parameter or (), args.params)
        result = run_report(
            args.data,
            args.out,
            only=args.only or None,
            no_input=args.no_input,
            notebooks_dir=args.notebooks,
            progress=progress,
            parameters=parameters,
        )
    except ToolkitError as exc:
        print(f"genai-sre report: error: {exc}", file=sys.stderr)
        return 2
    for nb in result.notebooks:
        skipped = (
            f"  ({len(nb.skipped)} of {len(nb.sections)} sections skipped)" if nb.skipped else ""
        )
        page = nb.html if nb.html is not None else "(no HTML written)"
        print(f"{nb.name:<28} {nb.status:<14} {nb.seconds:6.1f} s  {page}{skipped}")
    for nb in result.failures:
        print(f"genai-sre report: {nb.error}", file=sys.stderr)
    print(f"{_summary_text(result)}; index: {result.index}")
    return 0 if result.ok else 1


def _lab_command(args: Any) -> int:
    command = lab_command(args.notebooks, args.jupyter_args)
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    if shutil.which("jupyter", path=bin_dir) is None and not _has_jupyterlab():
        print(
            "genai-sre lab: JupyterLab is not installed; "
            "pip install 'genai-sre-toolkit[notebooks]'",
            file=sys.stderr,
        )
        return 2
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        return 130


def _has_jupyterlab() -> bool:
    import importlib.util

    return importlib.util.find_spec("jupyterlab") is not None


def register_cli(subparsers: Any) -> None:
    """Add the ``report`` and ``lab`` subcommands to ``genai-sre``'s parser.

    Each subparser gets ``handler`` (a function of the parsed arguments returning the
    exit code) as a default, so ``main`` runs ``args.handler(args)``.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="genai-sre")
    >>> register_cli(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["report", "--data", "d", "--out", "o", "--no-input"])
    >>> args.data, args.out, args.no_input, args.handler.__name__
    ('d', 'o', True, '_report_command')
    """
    report = subparsers.add_parser(
        "report",
        help="run the notebooks on your exports and write HTML reports",
        description="Execute every notebook with data_dir pointing at your exports and "
        "write one self-contained HTML file per notebook plus index.html.",
    )
    report.add_argument("--data", default="data/sample", help="directory of the exports")
    report.add_argument("--out", default="reports", help="output directory (default reports)")
    report.add_argument(
        "--no-input", action="store_true", help="hide code: findings, figures and prose only"
    )
    report.add_argument(
        "--only", action="append", metavar="NOTEBOOK", help="run only this notebook (repeatable)"
    )
    report.add_argument(
        "-p",
        "--parameter",
        action="append",
        metavar="NAME=VALUE",
        help="set a notebook parameter (repeatable); VALUE is read as a Python literal "
        '(2.5, None, \'["a", "b"]\'), else kept as text; it goes to the notebooks that '
        "declare NAME",
    )
    report.add_argument(
        "--params", metavar="FILE", help="YAML file of parameter: value lines (-p wins)"
    )
    report.add_argument("--notebooks", default=None, help="notebooks directory")
    report.add_argument("--quiet", action="store_true", help="no progress bar")
    report.set_defaults(handler=_report_command)
    lab = subparsers.add_parser(
        "lab",
        help="open JupyterLab on the notebooks with the project's kernel",
        description="Open JupyterLab on notebooks/ with this environment's kernel "
        "(token authentication on). Arguments after -- go to JupyterLab.",
    )
    lab.add_argument("--notebooks", default=None, help="notebooks directory")
    lab.add_argument("jupyter_args", nargs="*", help="arguments for JupyterLab (after --)")
    lab.set_defaults(handler=_lab_command)
