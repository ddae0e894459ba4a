"""What a notebook calls inside its kernel: :func:`record` (key numbers for the index),
:func:`section` (guard a section with what it needs; a :class:`Skipped` box when it is
missing), :func:`show` (an escaped, redacted HTML table, from :mod:`toolkit._html`); and
reading them back from an executed notebook (:func:`read_records`, :func:`read_sections`).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from toolkit._validation import InstanceOf, caller, reject, validate_params
from toolkit.errors import preview
from toolkit.redact import Redactor, redact

RECORD_MIMETYPE = "application/vnd.genai-sre.record+json"


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


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
    raise reject(
        "value",
        "be a number, string, bool, None, datetime, or a list or dict of those",
        got=f"{type(value).__name__} {preview(value)}",
        function=caller() or "report.record",
    )


def _in_kernel() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        return shell.get_ipython() is not None
    except AttributeError:  # pragma: no cover - very old IPython
        return False


_IDENTIFIER = "an identifier (letters, digits, _ . -)"


@validate_params(
    name=InstanceOf(str, description=_IDENTIFIER),
    headline=[InstanceOf(str, description="a string"), None],
)
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
    if not _NAME.match(name):
        raise reject("name", "be " + _IDENTIFIER, name)
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


@validate_params(title=InstanceOf(str, description="a non-empty string"))
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
    if not title:
        raise reject("title", "be a non-empty string", title)
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


@validate_params()
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
        raise reject(
            "notebook",
            "be a notebook (dict or NotebookNode) or the path of an .ipynb file",
            got=preview(notebook),
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
