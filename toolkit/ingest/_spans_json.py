"""Pieces shared by the JSON trace readers (Jaeger, Zipkin, OTel SDK dumps)."""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import polars as pl

from toolkit._validation import Backend, frame_out
from toolkit.errors import LoadReport
from toolkit.ingest._frames import LoadContext, combine, finish
from toolkit.ingest._io import PathLike, decode_json, expand_paths
from toolkit.schema import SPANS

__all__ = ["BadSpan", "decode_documents", "gc_paused", "read_span_files"]


class BadSpan(Exception):
    """A span that cannot be read; the reader that catches it adds where."""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small objects are built: its full
    collections, triggered again and again as containers pile up, double the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def decode_documents(data: bytes, ctx: LoadContext) -> list[tuple[int | None, Any]]:
    """JSON documents of a file: ``[(None, doc)]``, or ``(line, doc)`` per JSON line.

    A malformed document is reported through ``ctx`` with the line of the error.
    """
    try:
        return [(None, decode_json(data))]
    except msgspec.DecodeError as exc:
        whole_error = exc
    lines = data.split(b"\n")
    non_blank = [i for i, raw in enumerate(lines) if raw.strip()]
    if len(non_blank) > 1:
        try:
            decode_json(lines[non_blank[0]])
            is_lines = True
        except msgspec.DecodeError:
            is_lines = False
        if is_lines:
            docs: list[tuple[int | None, Any]] = []
            for i in non_blank:
                try:
                    docs.append((i + 1, decode_json(lines[i])))
                except msgspec.DecodeError as exc:
                    ctx.problem(f"malformed JSON ({exc}); expected one JSON value", line=i + 1)
            return docs
    match = re.search(r"byte (\d+)", str(whole_error))
    line = data[: int(match.group(1))].count(b"\n") + 1 if match else None
    ctx.problem(f"malformed JSON ({whole_error})", line=line)
    return []


FramesFromFile = Callable[[Path, LoadContext], list[pl.DataFrame]]


def read_span_files(
    path: PathLike | Sequence[PathLike],
    function: str,
    on_error: str,
    report: LoadReport | None,
    backend: Backend,
    frames_from_file: FramesFromFile,
) -> Any:
    """The public ``read_<format>`` functions: expand paths, read, combine, report.

    ``on_error`` and ``backend`` are checked by the caller's ``@validate_params``.
    """
    files = expand_paths(path, function=function)
    ctx = LoadContext(function, on_error=on_error)  # type: ignore[arg-type]
    frames = [f for p in files for f in frames_from_file(p, ctx)]
    result = combine(frames, SPANS, ctx)
    finish(ctx, report, result.height)
    return frame_out(result, backend)
