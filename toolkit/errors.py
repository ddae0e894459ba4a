"""Typed errors and warnings raised by the toolkit.

Every error is a :class:`ToolkitError` (itself a :class:`ValueError`, so generic
handlers keep working). Messages say *where* (file, line or record, column),
*what was found* and *what was expected*, and never echo unbounded input.

Examples
--------
>>> from toolkit.errors import FormatError
>>> raise FormatError("expected a JSON object", path="spans.jsonl", line=3)
Traceback (most recent call last):
...
toolkit.errors.FormatError: spans.jsonl, line 3: expected a JSON object
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "ColumnNotFoundError",
    "FormatError",
    "InputTooLargeError",
    "LoadReport",
    "MissingTableError",
    "MissingTimeError",
    "ParameterError",
    "RemoteError",
    "SchemaError",
    "SkippedRecord",
    "SkippedRecordsWarning",
    "StaleLockWarning",
    "StoreLockedError",
    "ToolkitError",
    "ToolkitWarning",
    "TypePromotionWarning",
    "UnsupportedFormatError",
    "WrongSignalError",
    "location",
    "preview",
]

_PREVIEW_CHARS = 80


def preview(value: object, limit: int = _PREVIEW_CHARS) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, for messages.

    Parameters
    ----------
    value : object
        Anything taken from user input.
    limit : int, default 80
        Maximum number of characters kept.

    Returns
    -------
    str
        The representation, ending in ``...`` when it was cut.

    Examples
    --------
    >>> preview("x" * 200, limit=10)
    "'xxxxxx..."
    """
    text = repr(value)
    if len(text) > limit:
        return text[: max(limit - 3, 1)] + "..."
    return text


def location(
    path: str | os.PathLike[str] | None = None,
    *,
    line: int | None = None,
    record: int | None = None,
    column: str | None = None,
) -> str:
    """Format where something is, as ``file, line N, column 'c'``.

    Parameters
    ----------
    path : str or path-like, optional
        The file.
    line : int, optional
        1-based line number in the (decompressed) file.
    record : int, optional
        1-based record number when the file has no meaningful lines.
    column : str, optional
        Column or attribute name.

    Returns
    -------
    str
        The parts that are known, joined with commas; ``""`` when none is.

    Examples
    --------
    >>> location("a.jsonl", line=4, column="traceId")
    "a.jsonl, line 4, column 'traceId'"
    """
    parts: list[str] = []
    if path is not None:
        parts.append(os.fspath(path))
    if line is not None:
        parts.append(f"line {line}")
    if record is not None:
        parts.append(f"record {record}")
    if column is not None:
        parts.append(f"column {column!r}")
    return ", ".join(parts)


class ToolkitError(ValueError):
    """Base class of every error the toolkit raises on bad input or parameters."""


class ParameterError(ToolkitError):
    """A function was called with a parameter value it cannot use."""


class SchemaError(ToolkitError):
    """A frame does not have the columns or dtypes a canonical table requires."""


class FormatError(ToolkitError):
    """A file could not be read as the format it claims or was detected as.

    Parameters
    ----------
    problem : str
        What was wrong and what was expected.
    path, line, record, column
        Where, as far as known (see :func:`location`).
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | os.PathLike[str] | None = None,
        line: int | None = None,
        record: int | None = None,
        column: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.record = record
        self.column = column
        where = location(path, line=line, record=record, column=column)
        super().__init__(f"{where}: {problem}" if where else problem)

    def __reduce__(self) -> tuple[object, ...]:  # keep pickling (multiprocessing) working
        return (
            _rebuild_format_error,
            (type(self), self.problem, self.path, self.line, self.record, self.column),
        )


def _rebuild_format_error(
    cls: type[FormatError],
    problem: str,
    path: str | None,
    line: int | None,
    record: int | None,
    column: str | None,
) -> FormatError:
    return cls(problem, path=path, line=line, record=record, column=column)


class UnsupportedFormatError(FormatError):
    """No reader recognises the file's content."""


class InputTooLargeError(FormatError):
    """A file, or one line of it, is larger than a reader holds at once (a gzip bomb, a
    runaway line): the message names the file, the limit and the environment variable
    that raises it."""


class MissingTimeError(FormatError):
    """Records carry no time and none was given (e.g. a Prometheus scrape without
    timestamps and without ``time=``): a parameter must supply it."""


class WrongSignalError(FormatError):
    """The file holds another signal than asked for (e.g. logs given to ``load_spans``)."""


class RemoteError(ToolkitError):
    """A live backend (a Prometheus-compatible API, Loki) refused a request or could not be
    reached: the message names the URL (without credentials) and carries the server's own
    ``error`` / ``errorType`` when it sent them.

    Attributes
    ----------
    url : str
        The request's URL, credentials removed.
    status : int or None
        The HTTP status, when a response came.
    error_type : str or None
        The server's ``errorType`` (Prometheus: ``bad_data``, ``timeout``, ...).
    error : str or None
        The server's own message.
    """

    def __init__(
        self,
        problem: str,
        *,
        url: str,
        status: int | None = None,
        error_type: str | None = None,
        error: str | None = None,
    ) -> None:
        self.url = url
        self.status = status
        self.error_type = error_type
        self.error = error
        super().__init__(f"{url}: {problem}")

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_remote_error,
            (self.args[0], self.url, self.status, self.error_type, self.error),
        )


def _rebuild_remote_error(
    message: str, url: str, status: int | None, error_type: str | None, error: str | None
) -> RemoteError:
    problem = message.removeprefix(f"{url}: ")
    return RemoteError(problem, url=url, status=status, error_type=error_type, error=error)


class ToolkitWarning(UserWarning):
    """Base class of the toolkit's warnings."""


class StoreLockedError(ToolkitError):
    """Another ingest holds the store's lock (see :func:`toolkit.scale.ingest`)."""


class StaleLockWarning(ToolkitWarning):
    """A lock left by an ingest that no longer runs was broken."""


class TypePromotionWarning(ToolkitWarning):
    """An attribute's values disagreed in type and were promoted (int+double to float64,
    any other mix to string)."""


@dataclass(frozen=True)
class SkippedRecord:
    """One record left out because the caller asked for ``on_error="skip"``."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" if self.where else self.reason


class SkippedRecordsWarning(ToolkitWarning):
    """Records were skipped on the caller's request; ``.skipped`` lists them all."""

    def __init__(self, message: str, skipped: Sequence[SkippedRecord] = ()) -> None:
        super().__init__(message)
        self.skipped = tuple(skipped)


@dataclass
class LoadReport:
    """What a load did, filled in when passed as ``report=`` to a loader.

    Attributes
    ----------
    files : list of str
        Files read, in order.
    formats : dict of str to str
        Detected format per file.
    rows : int
        Rows in the returned table.
    skipped : list of SkippedRecord
        Records left out under ``on_error="skip"``.
    promoted : dict of str to str
        Attribute columns whose values disagreed in type, with the dtype they got.

    Examples
    --------
    >>> report = LoadReport()
    >>> report.rows
    0
    """

    files: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    skipped: list[SkippedRecord] = field(default_factory=list)
    promoted: dict[str, str] = field(default_factory=dict)


class ColumnNotFoundError(SchemaError, ParameterError):
    """A column a caller named is not in the table: the message names the closest ones.

    Both a :class:`SchemaError` (the table lacks it) and a :class:`ParameterError` (a
    parameter named it), so either handler catches it.

    Examples
    --------
    >>> raise ColumnNotFoundError("attributes.user.locale", "llm_calls",
    ...                           ["attributes.user.tier", "attributes.user.locale_v2"])
    Traceback (most recent call last):
    ...
    toolkit.errors.ColumnNotFoundError: The llm_calls table has no column \
'attributes.user.locale' (the closest: 'attributes.user.locale_v2', 'attributes.user.tier').
    """

    def __init__(
        self, column: str, table: str, available: Sequence[str], *, where: str | None = None
    ) -> None:
        import difflib

        self.column = column
        self.table = table
        close = difflib.get_close_matches(column, list(available), n=3, cutoff=0.5)
        if close:
            hint = "the closest: " + ", ".join(repr(c) for c in close)
        else:
            shown = ", ".join(repr(c) for c in list(available)[:12])
            more = f" and {len(available) - 12} more" if len(available) > 12 else ""
            hint = f"available: {shown or 'none'}{more}"
        context = f" {where}" if where else ""
        super().__init__(f"The {table} table has no column {column!r}{context} ({hint}).")


class MissingTableError(ToolkitError):
    """A catalog holds no table of the name asked for."""
