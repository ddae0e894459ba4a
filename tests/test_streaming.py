"""Streaming decompression: line readers read gzip window by window and agree with a
whole-file split; every reader stops a gzip bomb with InputTooLargeError naming the file
and the limit (issue 16)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import toolkit
from toolkit.errors import FormatError, InputTooLargeError
from toolkit.ingest._io import read_lines

LIMIT = 1 << 20  # TOOLKIT_MAX_FILE_BYTES in these tests


def _gzip(path: Path, *parts: bytes, repeat: bytes = b"", times: int = 0) -> Path:
    with gzip.open(path, "wb", compresslevel=9) as fh:
        for part in parts:
            fh.write(part)
        for _ in range(times):
            fh.write(repeat)
    return path


@pytest.mark.parametrize("compressed", [False, True])
def test_read_lines_agrees_with_a_whole_file_split_across_windows(
    tmp_path: Path, compressed: bool
) -> None:
    lines = [
        "\ufefffirst",
        "",
        "zwei ü",
        "drei\r",
        *(f"line {i} " + "x" * (i % 37) for i in range(500)),
    ]
    data = "\n".join(lines).encode("utf-8")  # no newline at the end: the last line is kept
    path = tmp_path / ("a.txt.gz" if compressed else "a.txt")
    if compressed:
        _gzip(path, data)
    else:
        path.write_bytes(data)
    for batch in (7, 64, 1000, 1 << 20):
        frame = read_lines(path, batch_bytes=batch)
        assert frame.schema == pl.Schema({"line": pl.Int64, "text": pl.String})
        assert frame["text"].to_list() == [lines[0].removeprefix("\ufeff"), *lines[1:]]
        assert frame["line"].to_list() == list(range(1, len(lines) + 1))


def test_read_lines_names_the_line_and_offset_of_a_bad_byte_in_a_later_window(
    tmp_path: Path,
) -> None:
    good = b"".join(b"ok %d\n" % i for i in range(1000))
    path = _gzip(tmp_path / "bad.log.gz", good, b"still ok\nbad \xff here\n")
    with pytest.raises(FormatError) as info:
        read_lines(path, batch_bytes=100, expected="; expected a log")
    assert info.value.line == 1002
    assert info.value.problem == (
        f"the file is not UTF-8 text (invalid byte b'\\xff' at offset {len(good) + 13:,}); "
        "expected a log"
    )


def test_read_lines_of_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert read_lines(path).height == 0


#: reader -> (file name, header line, a good line, load)
LINE_READERS: dict[str, tuple[str, bytes, bytes, Callable[[Path], Any]]] = {
    "prometheus": (
        "m.prom.gz",
        b"# TYPE up gauge\nup 1 1763719200000\n",
        b"\n",  # blank lines after one sample
        toolkit.read_prometheus,
    ),
    "nvidia-smi": (
        "smi.csv.gz",
        b"index, memory.used [MiB]\n",
        b"0, 1 MiB\n",
        toolkit.read_nvidia_smi_csv,
    ),
    "vllm-log": (
        "vllm.log.gz",
        b"",
        b"INFO 08-18 02:57:50 [x.py:1] ok\n",
        partial(toolkit.read_text_logs, year=2025, tz="UTC"),
    ),
    "workload": (
        "AzureLLMInferenceTrace_conv.csv.gz",
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n",
        b"2023-11-16 18:15:46.6805900,374,44\n",
        partial(toolkit.load_workload, tz="UTC"),
    ),
}


@pytest.mark.parametrize("reader", sorted(LINE_READERS))
def test_a_bomb_of_short_lines_is_a_named_error_at_the_file_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    name, header, line, load = LINE_READERS[reader]
    path = _gzip(tmp_path / name, header, repeat=line * (4096 // len(line)), times=512)
    assert path.stat().st_size < 64 << 10
    assert load(path).height > 0  # good lines, up to the default limit
    monkeypatch.setenv("TOOLKIT_MAX_FILE_BYTES", str(LIMIT))
    with pytest.raises(InputTooLargeError) as info:
        load(path)
    assert info.value.path == str(path)
    assert info.value.line == 1
    assert f"past {LIMIT:,} bytes" in info.value.problem
    assert "TOOLKIT_MAX_FILE_BYTES" in info.value.problem


@pytest.mark.parametrize("reader", sorted(LINE_READERS))
def test_a_bomb_of_one_long_line_is_a_named_error_at_the_line_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    name, header, line, load = LINE_READERS[reader]
    path = _gzip(tmp_path / name, header, line, repeat=b"7" * (1 << 20), times=4)
    monkeypatch.setenv("TOOLKIT_MAX_LINE_BYTES", str(LIMIT))
    at = (header + line).count(b"\n") + 1
    with pytest.raises(InputTooLargeError, match=rf"line {at}: the line is longer than 1,048,576"):
        load(path)


DOCUMENT_READERS: dict[str, tuple[str, bytes, Callable[[Path], Any]]] = {
    "jaeger": ("jaeger.json.gz", b'{"data": [', toolkit.read_jaeger),
    "zipkin": ("zipkin.json.gz", b"[", toolkit.read_zipkin),
    "sdk-dump": ("spans.json.gz", b'{"name": "x",\n', toolkit.read_sdk_dump),
    "otlp-json": ("traces.json.gz", b'{\n"resourceSpans": [\n', toolkit.load_spans),
}


@pytest.mark.parametrize("reader", sorted(DOCUMENT_READERS))
def test_a_json_document_bomb_is_a_named_error_at_the_file_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    name, head, load = DOCUMENT_READERS[reader]
    path = _gzip(tmp_path / name, head, repeat=b" " * 4096, times=512)  # 2 MiB of blanks
    monkeypatch.setenv("TOOLKIT_MAX_FILE_BYTES", str(LIMIT))
    with pytest.raises(InputTooLargeError) as info:
        load(path)
    assert info.value.path == str(path)
    assert info.value.problem.startswith(f"the content is larger than {LIMIT:,} bytes")


def test_a_gzip_scrape_reads_as_its_plain_text(tmp_path: Path) -> None:
    text = "".join(
        f'# TYPE m{i} counter\nm{i}_total{{pod="p{i}"}} {i} {1763719200000 + i}\n'
        for i in range(300)
    )
    plain = tmp_path / "a.prom"
    plain.write_text(text, encoding="utf-8")
    packed = _gzip(tmp_path / "b.prom.gz", text.encode())
    a, b = toolkit.read_prometheus(plain), toolkit.read_prometheus(packed)
    assert a.height == 300
    assert a.equals(b)
    assert json.dumps(sorted(a["name"].unique().to_list())[:2]) == '["m0_total", "m100_total"]'
