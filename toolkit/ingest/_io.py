"""Files: expanding paths, decompressing, sniffing content, streaming line batches.

Memory bounds
-------------
Every reader decompresses gzip as a stream; none holds more decompressed bytes at once
than stated here, and a file or line past a limit is an
:class:`~toolkit.errors.InputTooLargeError` naming the file and the limit, never a
``MemoryError``:

* line readers (:func:`iter_line_batches`, :func:`iter_line_views`, :func:`read_lines`)
  hold one window of lines (32-64 MiB) plus the longest line, at most
  :func:`max_line_bytes` (1 GiB; ``TOOLKIT_MAX_LINE_BYTES``);
* :func:`read_lines` returns the file's lines as one polars String column, built window
  by window (never a second copy): the text plus 24 bytes a line, at most
  :func:`max_file_bytes` (4 GiB; ``TOOLKIT_MAX_FILE_BYTES``);
* whole-document readers (a JSON document, a protobuf request) read at most
  :func:`max_file_bytes` (4 GiB; ``TOOLKIT_MAX_FILE_BYTES``) decompressed bytes, checked
  while decompressing, so a gzip bomb stops at the limit.
"""

from __future__ import annotations

import glob
import gzip
import io
import mmap
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec
import numpy as np
import polars as pl

from toolkit._progress import Progress
from toolkit._validation import reject
from toolkit.errors import FormatError, InputTooLargeError, ParameterError

__all__ = [
    "PathLike",
    "Sniff",
    "count_lines",
    "expand_paths",
    "iter_line_batches",
    "iter_line_views",
    "open_binary",
    "read_all",
    "read_lines",
    "sniff",
]

PathLike = str | os.PathLike[str]
_GZIP_MAGIC = b"\x1f\x8b"
_GLOB_CHARS = set("*?[")


def expand_paths(path_or_paths: PathLike | Sequence[PathLike], *, function: str) -> list[Path]:
    """Files named by a path, a directory (recursively), a glob, or a list of those.

    Hidden files (``.name``) inside directories are skipped; files are returned in a
    stable, sorted order.

    Raises
    ------
    ParameterError
        If a path does not exist or nothing matches.
    """
    if isinstance(path_or_paths, str | os.PathLike):
        items: list[PathLike] = [path_or_paths]
    else:
        items = list(path_or_paths)
        if not items:
            raise reject("path", "name at least one file", got="an empty list", function=function)
    files: list[Path] = []
    for item in items:
        text = os.fspath(item)
        if any(ch in text for ch in _GLOB_CHARS) and not os.path.exists(text):
            matched = sorted(glob.glob(text, recursive=True))
            found = [Path(m) for m in matched if os.path.isfile(m)]
            if not found:
                raise ParameterError(
                    f"The 'path' parameter of {function}: the pattern {text!r} matched no file."
                )
            files.extend(found)
            continue
        p = Path(text)
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            if not found:
                raise ParameterError(
                    f"The 'path' parameter of {function}: the directory {text!r} holds no file."
                )
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise reject(
                "path",
                "name existing files, directories or glob patterns",
                got=f"{text!r}, which does not exist,",
                function=function,
            )
    return files


def open_binary(path: Path) -> IO[bytes] | gzip.GzipFile:
    """Open ``path`` for reading bytes, transparently decompressing gzip (by content)."""
    raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    head = raw.read(2)
    raw.seek(0)
    if head == _GZIP_MAGIC:
        raw.close()
        return gzip.open(path, "rb")
    return raw


def _gzip_problem(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return (
            "the gzip stream is truncated (it ended before its end-of-stream marker); "
            "the file was probably cut off while being written or copied"
        )
    return f"the gzip stream is corrupt ({exc})"


#: The most decompressed bytes a reader that needs a whole file (a JSON document, a
#: protobuf request, a scrape) holds at once; ``TOOLKIT_MAX_FILE_BYTES`` overrides it.
MAX_FILE_BYTES = 4 << 30


#: The longest line a line reader accepts (the collector writes lines of many MB, one
#: export request each); ``TOOLKIT_MAX_LINE_BYTES`` overrides it.
MAX_LINE_BYTES = 1 << 30


def max_line_bytes() -> int:
    """:data:`MAX_LINE_BYTES`, or the ``TOOLKIT_MAX_LINE_BYTES`` environment variable."""
    text = os.environ.get("TOOLKIT_MAX_LINE_BYTES")
    if text and text.strip().isdigit():
        return int(text)
    return MAX_LINE_BYTES


def _long_line(path: Path, line_no: int, limit: int) -> FormatError:
    return InputTooLargeError(
        f"the line is longer than {limit:,} bytes, more than a line reader holds at once; "
        "raise TOOLKIT_MAX_LINE_BYTES to read it",
        path=path,
        line=line_no,
    )


def max_file_bytes() -> int:
    """:data:`MAX_FILE_BYTES`, or the ``TOOLKIT_MAX_FILE_BYTES`` environment variable."""
    text = os.environ.get("TOOLKIT_MAX_FILE_BYTES")
    if text and text.strip().isdigit():
        return int(text)
    return MAX_FILE_BYTES


def read_all(path: Path, *, limit: int | None = None) -> bytes:
    """The whole (decompressed) content of ``path``, up to ``limit`` bytes.

    Raises
    ------
    FormatError
        For a truncated or corrupt gzip file.
    InputTooLargeError
        For a file that decompresses to more than ``limit`` bytes (default
        :func:`max_file_bytes`): a gzip bomb gets a named error, never a MemoryError.
    """
    cap = max_file_bytes() if limit is None else limit
    parts: list[bytes] = []
    total = 0
    with open_binary(path) as fh:
        try:
            while True:
                block = fh.read(min(64 << 20, cap + 1 - total))
                if not block:
                    break
                total += len(block)
                if total > cap:
                    raise InputTooLargeError(
                        f"the content is larger than {cap:,} bytes (decompressed), more than "
                        "a whole-file reader holds at once; split the file or raise "
                        "TOOLKIT_MAX_FILE_BYTES",
                        path=path,
                    )
                parts.append(block)
        except (EOFError, OSError, zlib.error) as exc:
            raise FormatError(_gzip_problem(exc), path=path) from None
    return b"".join(parts)


@dataclass(frozen=True)
class Sniff:
    """What the first bytes of a file say about it."""

    compressed: bool
    kind: str  # "json-lines" | "json" | "json-array" | "binary" | "text" | "empty"
    head: bytes


def sniff(path: Path, size: int = 65536) -> Sniff:
    """Look at the start of ``path`` (decompressed) to tell its container format.

    ``json-lines``: the first line is a complete JSON object; ``json``: an object spread
    over several lines; ``json-array``: starts with ``[``; ``binary``: not UTF-8 text.
    """
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
    with open_binary(path) as fh:
        try:
            head = fh.read(size)
        except (EOFError, OSError, zlib.error) as exc:
            raise FormatError(_gzip_problem(exc), path=path) from None
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return Sniff(compressed, "empty", head)
    first = stripped[:1]
    if first == b"{":
        return Sniff(compressed, "json-lines" if _first_line_is_json(path) else "json", head)
    if first == b"[":
        return Sniff(compressed, "json-array", head)
    try:
        stripped[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 4090:  # not just a multi-byte character cut at the boundary
            return Sniff(compressed, "binary", head)
    if b"\x00" in stripped[:4096]:
        return Sniff(compressed, "binary", head)
    return Sniff(compressed, "text", head)


def decode_json(data: bytes | str, decoder: msgspec.json.Decoder[Any] | None = None) -> Any:
    """Decode JSON with msgspec; input nested deeper than the interpreter's recursion limit
    raises :class:`msgspec.DecodeError` (as any malformed JSON does), not RecursionError.

    Examples
    --------
    >>> decode_json(b'{"a": [1]}')
    {'a': [1]}
    >>> decode_json(b"[" * 100_000 + b"]" * 100_000)
    Traceback (most recent call last):
    ...
    msgspec.DecodeError: JSON nested too deeply (more levels than this reader follows)
    """
    try:
        return decoder.decode(data) if decoder is not None else msgspec.json.decode(data)
    except RecursionError:
        raise msgspec.DecodeError(
            "JSON nested too deeply (more levels than this reader follows)"
        ) from None


def first_line(path: Path, *, limit: int = 64 << 20) -> bytes:
    """The first non-blank line of a (possibly gzip) file, read whole up to ``limit``
    bytes (a longer one is returned cut there, which no JSON parser accepts)."""
    with open_binary(path) as fh:
        try:
            while True:
                line = fh.readline(limit)
                if not line or line.strip():
                    return line
        except (EOFError, OSError, zlib.error) as exc:
            raise FormatError(_gzip_problem(exc), path=path) from None


def _first_line_is_json(path: Path, *, lines: int = 5, limit: int = 64 << 20) -> bool:
    """Whether the file is JSON Lines: its first non-blank line is a complete JSON value,
    or (a damaged first line) one of the next few lines is an unindented complete JSON
    object, which a pretty-printed document never has at its start. Lines are read whole
    however long they are (the collector writes lines of many megabytes), up to ``limit``
    bytes in all."""
    seen: list[bytes] = []
    read = 0
    with open_binary(path) as fh:
        try:
            while len(seen) < lines and read < limit:
                line = fh.readline()
                if not line:
                    break
                read += len(line)
                if line.strip():
                    seen.append(line)
        except (EOFError, OSError, zlib.error) as exc:
            if not seen:
                raise FormatError(_gzip_problem(exc), path=path) from None
    if not seen:
        return False
    try:
        decode_json(seen[0].lstrip(b"\xef\xbb\xbf"))
    except msgspec.DecodeError:
        pass
    else:
        return True
    for line in seen[1:]:
        if not line.startswith(b"{"):
            continue
        try:
            if isinstance(decode_json(line), dict):
                return True
        except msgspec.DecodeError:
            continue
    return False


def iter_line_batches(
    path: Path, *, batch_bytes: int = 32 << 20, progress: Progress | None = None
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(first_line_number, chunk)`` with chunks cut at line ends.

    Line numbers are 1-based and count every line of the (decompressed) file.

    Raises
    ------
    FormatError
        For a truncated or corrupt gzip file (naming the last complete line).
    """
    line_no = 1
    pending = b""
    limit = max_line_bytes()
    size_before = os.path.getsize(path)
    with open(path, "rb") as raw:
        fh: IO[bytes] | gzip.GzipFile = (
            gzip.GzipFile(fileobj=raw) if raw.read(2) == _GZIP_MAGIC else raw
        )
        raw.seek(0)
        try:
            while True:
                try:
                    block = fh.read(batch_bytes)
                except (EOFError, OSError, zlib.error) as exc:
                    raise FormatError(
                        _gzip_problem(exc) + f"; lines before {line_no} were complete",
                        path=path,
                    ) from None
                if progress is not None:
                    progress.update_to(raw.tell(), size_before)
                if not block:
                    break
                data = pending + block
                cut = data.rfind(b"\n")
                if cut < 0:
                    if len(data) > limit:
                        raise _long_line(path, line_no, limit)
                    pending = data
                    continue
                chunk, pending = data[: cut + 1], data[cut + 1 :]
                if len(pending) > limit:  # a line past the limit, begun in this chunk
                    raise _long_line(path, line_no + chunk.count(b"\n"), limit)
                yield line_no, chunk
                line_no += chunk.count(b"\n")
        finally:
            fh.close()
    if len(pending) > limit:
        raise _long_line(path, line_no, limit)
    if pending.strip():
        yield line_no, pending


#: Bytes a line costs in :func:`read_lines`'s frame besides its text (a 16-byte string
#: view and an 8-byte line number).
_LINE_OVERHEAD = 24


def read_lines(path: Path, *, expected: str = "", batch_bytes: int = 32 << 20) -> pl.DataFrame:
    """Every line of a (possibly gzip) UTF-8 text file: ``line`` (Int64, 1-based) and
    ``text`` (String, without its ``\\n``; a ``\\r`` before it is kept).

    The file is decompressed and decoded one window of ``batch_bytes`` at a time, each
    window split into lines by polars: the process holds the result (the decompressed
    text plus 24 bytes a line, at most :func:`max_file_bytes` in all) and one window,
    never the whole decompressed file as bytes or Python strings. A byte-order mark at
    the start is dropped; a last line without ``\\n`` is kept when it is not blank.

    Parameters
    ----------
    path : Path
        The file.
    expected : str, optional
        What the file should be, appended to the error for text that is not UTF-8
        (e.g. ``"; expected a UTF-8 text log"``).
    batch_bytes : int, optional
        The decompressed bytes read and split at once.

    Raises
    ------
    FormatError
        For bytes that are not UTF-8 (naming the line and the offset) or a corrupt gzip.
    InputTooLargeError
        For a line longer than :func:`max_line_bytes`, or lines that take more than
        :func:`max_file_bytes` (a gzip bomb of short lines).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.log"
    >>> _ = path.write_bytes(b"\\xef\\xbb\\xbfone\\ntwo\\r\\n\\nthree")
    >>> read_lines(path).rows()
    [(1, 'one'), (2, 'two\\r'), (3, ''), (4, 'three')]
    """
    frames: list[pl.DataFrame] = []
    offset = held = 0
    cap = max_file_bytes()
    for first, chunk in iter_line_batches(path, batch_bytes=batch_bytes):
        held += len(chunk) + _LINE_OVERHEAD * (count_lines(chunk) + 1)
        if held > cap:
            raise InputTooLargeError(
                f"the lines from line {first} on take the held text past {cap:,} bytes "
                f"(the text plus {_LINE_OVERHEAD} bytes a line), more than a reader holds at "
                "once; split the file or raise TOOLKIT_MAX_FILE_BYTES",
                path=path,
                line=first,
            )
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(
                f"the file is not UTF-8 text (invalid byte {chunk[exc.start : exc.start + 1]!r} "
                f"at offset {offset + exc.start:,}){expected}",
                path=path,
                line=first + chunk.count(b"\n", 0, exc.start),
            ) from None
        offset += len(chunk)
        ends = chunk.endswith(b"\n")
        del chunk
        if first == 1:
            text = text.removeprefix("\ufeff")
        lines = pl.Series([text], dtype=pl.String).str.split("\n").explode()
        del text
        if ends:
            lines = lines.head(lines.len() - 1)
        frames.append(
            pl.DataFrame(
                {
                    "line": pl.int_range(first, first + lines.len(), dtype=pl.Int64, eager=True),
                    "text": lines,
                }
            )
        )
    if not frames:
        return pl.DataFrame(schema={"line": pl.Int64, "text": pl.String})
    return pl.concat(frames, rechunk=False)


def count_lines(chunk: bytes | memoryview) -> int:
    """Number of newline characters in ``chunk`` (vectorised; no copy)."""
    return int(np.count_nonzero(np.frombuffer(chunk, dtype=np.uint8) == 10))


def iter_line_views(
    path: Path, *, batch_bytes: int = 64 << 20, progress: Progress | None = None
) -> Iterator[tuple[int, bytes | memoryview]]:
    """Like :func:`iter_line_batches`, but zero-copy for uncompressed files.

    Each chunk of an uncompressed file is a ``memoryview`` of its own read-only memory map,
    cut at a line end: nothing is copied into the process, and a chunk's pages leave the
    process's memory when the chunk is no longer referenced. gzip files are decompressed
    into ``bytes`` chunks by :func:`iter_line_batches`.
    """
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        size = os.fstat(raw.fileno()).st_size
        if not compressed:
            pos, line_no = 0, 1
            limit = max_line_bytes()
            grain = mmap.ALLOCATIONGRANULARITY
            while pos < size:
                base = pos - pos % grain  # map offsets must be page-aligned
                want = min(pos + batch_bytes, size)
                while True:
                    mapped = mmap.mmap(
                        raw.fileno(), want - base, access=mmap.ACCESS_READ, offset=base
                    )
                    if want == size:
                        end = size
                        break
                    cut = mapped.rfind(b"\n", pos - base)
                    if cut >= 0:
                        end = base + cut + 1
                        break
                    mapped.close()  # one line longer than the window: widen it
                    if want - pos > limit:
                        raise _long_line(path, line_no, limit)
                    want = min(want + batch_bytes, size)
                chunk = memoryview(mapped)[pos - base : end - base]
                if progress is not None:
                    progress.update_to(end, size)
                yield line_no, chunk
                line_no += count_lines(chunk)
                pos = end
                del chunk, mapped  # the mapping closes when the caller drops the chunk
            return
    yield from iter_line_batches(path, batch_bytes=batch_bytes, progress=progress)


def text_stream(data: bytes) -> io.TextIOWrapper:
    """A text view of bytes, decoding UTF-8 (with or without BOM)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, ``[]`` for None; anything else is the caller's error."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise TypeError(type(value).__name__)
