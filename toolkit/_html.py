"""Frames as escaped, redacted HTML tables (:func:`show`, :class:`Table`).

A neutral module: result objects of the analyses render their tables with it in
notebooks (``_repr_html_``), and :mod:`toolkit.report` re-exports it for notebook cells.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from toolkit.errors import ParameterError, preview
from toolkit.redact import Redactor, redact
from toolkit.schema import to_polars


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
