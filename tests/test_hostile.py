"""Hostile input: each case found by mutation fuzzing ends in a named error naming the file
and line, or in a counted skip of exactly the bad records; JSON lines and JSON documents
agree on every value."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import toolkit
from toolkit.errors import FormatError, SkippedRecordsWarning
from toolkit.ingest.detect import detect

TRACE = "5b8efff798038103d269b633813fc60c"


def _span(i: int = 0, **fields: Any) -> dict[str, Any]:
    span = {
        "traceId": TRACE,
        "spanId": f"{i + 1:016x}",
        "name": "chat m",
        "kind": 3,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661500000000",
    }
    span.update(fields)
    return span


def _doc(*spans: dict[str, Any]) -> dict[str, Any]:
    return {"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]}


def _attr(value: Any, key: str = "a") -> list[dict[str, Any]]:
    return [{"key": key, "value": value}]


def _both(tmp_path: Path, doc: dict[str, Any]) -> tuple[Path, Path]:
    """The same export as JSON lines (the fast reader) and as one JSON document."""
    lines, document = tmp_path / "x.jsonl", tmp_path / "x.json"
    lines.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    document.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return lines, document


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"arrayValue": {"values": [{"intValue": "1"}, {"doubleValue": 2.5}]}}, "[1, 2.5]"),
        ({"arrayValue": {"values": [{"intValue": "1"}, {}]}}, "[1, null]"),
        (
            {"arrayValue": {"values": [{"arrayValue": {"values": [{"stringValue": "x"}]}}]}},
            '[["x"]]',
        ),
    ],
)
def test_mixed_arrays_are_json_text_in_lines_and_documents(
    tmp_path: Path, value: dict[str, Any], expected: str
) -> None:
    lines, document = _both(tmp_path, _doc(_span(attributes=_attr(value))))
    fast, general = toolkit.load_spans(lines), toolkit.load_spans(document)
    assert fast["attributes.a"].to_list() == [expected]
    assert fast.equals(general)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": 2**63}, r"kind 9223372036854775808 is out of range \(expected -2147483648"),
        # the fast reader's builder names these before the general reader sees them
        ({"kind": -(2**40)}, "kind (must be 0-5 .SpanKind.; got|-1099511627776 is out of range)"),
        (
            {"startTimeUnixNano": str(2**64)},
            "startTimeUnixNano (is missing, zero or not a "
            "decimal integer|18446744073709551616 is out of range)",
        ),
        ({"startTimeUnixNano": "-5"}, "startTimeUnixNano (is missing|-5 is out of range)"),
        ({"startTimeUnixNano": "١٢٣"}, "startTimeUnixNano (is missing|.* is not a decimal)"),
        ({"attributes": _attr({"kvlistValue": 5})}, "kvlistValue must be an object"),
        ({"attributes": _attr({"arrayValue": 5})}, "arrayValue must be an object"),
        ({"attributes": _attr({"arrayValue": {"values": 7}})}, "arrayValue.values must be an"),
        (
            {"attributes": _attr({"kvlistValue": {"values": [{"value": {}}]}})},
            r"kvlistValue.values\[0\] must be an object with a string 'key'",
        ),
        ({"attributes": [{"value": {"stringValue": "v"}}]}, "with a string 'key'"),
        ({"attributes": _attr({"intValue": "1" * 30})}, "does not fit in 64 bits"),
    ],
)
def test_bad_values_are_named_with_their_line_and_path(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    lines, document = _both(tmp_path, _doc(_span(**fields)))
    with pytest.raises(FormatError, match=message) as fast:
        toolkit.load_spans(lines)
    assert "x.jsonl, line 1: " in str(fast.value)
    with pytest.raises(FormatError, match=message):
        toolkit.load_spans(document)


def test_bad_values_are_skipped_and_counted_exactly(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    good = [_doc(_span(i)) for i in range(5)]
    bad = _doc(_span(9, kind=2**63))
    path.write_text("\n".join(json.dumps(d) for d in [*good[:2], bad, *good[2:]]) + "\n")
    with pytest.warns(SkippedRecordsWarning, match=r"skipped 1 record\(s\).*line 3"):
        spans = toolkit.load_spans(path, on_error="skip")
    assert spans["span_id"].to_list() == [f"{i + 1:016x}" for i in range(5)]


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_json_nested_deeper_than_the_parser_follows_is_a_format_error(
    tmp_path: Path, suffix: str
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    text = json.dumps(_doc(_span(attributes=_attr({"stringValue": "PLACE"}))))
    path = tmp_path / f"x{suffix}"
    path.write_text(text.replace('"PLACE"', deep) + "\n", encoding="utf-8")
    with pytest.raises(FormatError, match="nested too deeply"):
        toolkit.load_spans(path)


@pytest.mark.parametrize("module", ["jaeger", "zipkin", "logs"])
def test_deep_json_in_other_readers(tmp_path: Path, module: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "x.json"
    if module == "jaeger":
        path.write_text('{"data": [{"traceID": "a", "spans": ' + deep + "}]}")
        reader = toolkit.read_jaeger
    elif module == "zipkin":
        path.write_text('[{"traceId": "a", "id": "b", "tags": ' + deep + "}]")
        reader = toolkit.read_zipkin
    else:
        path.write_text('{"time": "2026-01-01T00:00:00Z", "message": "m", "x": ' + deep + "}\n")
        reader = toolkit.read_json_logs
    with pytest.raises(FormatError, match="nested too deeply"):
        reader(path)


def test_a_broken_first_line_of_json_lines_is_one_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    body = "\n".join(json.dumps(_doc(_span(i))) for i in range(1000))
    path.write_text('{"resourceSpans": [broken\n' + body + "\n", encoding="utf-8")
    assert detect(path).format == "otlp-json-lines"
    with pytest.raises(FormatError, match=r"x\.jsonl, line 1: malformed JSON"):
        toolkit.load_spans(path)
    with pytest.warns(SkippedRecordsWarning, match=r"skipped 1 record\(s\).*line 1"):
        spans = toolkit.load_spans(path, on_error="skip")
    assert spans.height == 1000


def test_a_pretty_printed_document_is_still_one_document(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps(_doc(_span(0), _span(1)), indent=2), encoding="utf-8")
    assert detect(path).format == "otlp-json"
    assert toolkit.load_spans(path).height == 2


def test_a_bad_line_at_the_start_of_a_scrape_is_one_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "scrape.prom"
    samples = "".join(
        f'vllm:num_requests_waiting{{model_name="m"}} {i} {1700000000000 + i * 1000}\n'
        for i in range(1000)
    )
    path.write_text(
        "this is garbage {\n# TYPE vllm:num_requests_waiting gauge\n" + samples, encoding="utf-8"
    )
    assert detect(path).format == "prometheus-text"
    with pytest.raises(FormatError, match=r"scrape\.prom, line 1: malformed sample line"):
        toolkit.load_metrics(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics = toolkit.load_metrics(path, on_error="skip")
    assert metrics.height == 1000
    assert metrics["value"].sum() == sum(range(1000))
    assert [str(w.message).count("line 1:") for w in caught] == [1]


def test_text_that_is_mostly_not_a_scrape_is_not_detected_as_one(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("A11 6\n" + "".join(f"word {i} and more words\n" for i in range(50)))
    with pytest.raises(toolkit.errors.UnsupportedFormatError):
        detect(path)


def test_fast_and_general_readers_agree_on_the_sample_shapes(tmp_path: Path) -> None:
    values = [
        {"stringValue": "s"},
        {"intValue": "-9223372036854775808"},
        {"doubleValue": 1},
        {"boolValue": False},
        {"bytesValue": "AAE="},
        {"arrayValue": {"values": []}},
        {"arrayValue": {"values": [{"intValue": "1"}, {"intValue": 2}]}},
        {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}},
    ]
    spans = [_span(i, attributes=_attr(v, key=f"k{i}")) for i, v in enumerate(values)]
    lines, document = _both(tmp_path, _doc(*spans))
    fast, general = toolkit.load_spans(lines), toolkit.load_spans(document)
    assert fast.equals(general)
    assert fast.select(pl.col("attributes.k6")).to_series().to_list()[6] == [1, 2]


def _metrics_doc(metric: dict[str, Any]) -> dict[str, Any]:
    return {"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]}


T = "1700000000000000000"


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (
            {"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": "abc", "asDouble": 1.5}]}},
            "timeUnixNano 'abc' is not a decimal integer",
        ),
        (
            {
                "name": "h",
                "histogram": {
                    "aggregationTemporality": 2,
                    "dataPoints": [
                        {
                            "timeUnixNano": T,
                            "count": "3",
                            "bucketCounts": ["1", "2"],
                            "explicitBounds": None,
                        }
                    ],
                },
            },
            "histogram 'h' has 2 bucketCounts for 0 explicitBounds",
        ),
        (
            {
                "name": "s",
                "sum": {
                    "aggregationTemporality": 7,
                    "isMonotonic": True,
                    "dataPoints": [{"timeUnixNano": T, "asInt": "3"}],
                },
            },
            r"metric 's' has aggregationTemporality 7; expected 0 \(unspecified\)",
        ),
        (
            {
                "name": "h",
                "histogram": {
                    "aggregationTemporality": 2,
                    "dataPoints": [
                        {
                            "timeUnixNano": T,
                            "count": "3",
                            "bucketCounts": ["-1", "4"],
                            "explicitBounds": [1.0],
                        }
                    ],
                },
            },
            r"bucketCounts\[0\] -1 is out of range",
        ),
        (
            {
                "name": "e",
                "exponentialHistogram": {
                    "aggregationTemporality": 2,
                    "dataPoints": [
                        {
                            "timeUnixNano": T,
                            "count": "3",
                            "scale": 0,
                            "positive": {"offset": 2**40, "bucketCounts": ["1", "2"]},
                        }
                    ],
                },
            },
            "(offset 1099511627776 is out of range|beyond the range of a double)",
        ),
        (
            {
                "name": "e",
                "exponentialHistogram": {
                    "aggregationTemporality": 2,
                    "dataPoints": [
                        {
                            "timeUnixNano": T,
                            "count": "3",
                            "scale": -10,
                            "positive": {"offset": 2**30, "bucketCounts": ["1"]},
                        }
                    ],
                },
            },
            "beyond the range of a double",
        ),
    ],
)
def test_bad_metric_points_are_named(tmp_path: Path, metric: dict[str, Any], message: str) -> None:
    lines, document = _both(tmp_path, _metrics_doc(metric))
    for path in (lines, document):
        with pytest.raises(FormatError, match=message):
            toolkit.load_metrics(path)


def test_a_metric_without_data_points_has_no_rows(tmp_path: Path) -> None:
    lines, document = _both(tmp_path, _metrics_doc({"name": "g", "gauge": {}}))
    for path in (lines, document):
        assert toolkit.load_metrics(path).height == 0


@pytest.mark.parametrize("time", ["abc", "-5", str(2**64)])
def test_a_log_time_that_is_not_nanoseconds_is_a_bad_record(tmp_path: Path, time: str) -> None:
    record = {"timeUnixNano": time, "observedTimeUnixNano": T, "body": {"stringValue": "x"}}
    good = {"timeUnixNano": T, "body": {"stringValue": "y"}}
    doc = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
    path = tmp_path / "l.jsonl"
    path.write_text(
        json.dumps(doc)
        + "\n"
        + json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [good]}]}]})
        + "\n"
    )
    with pytest.raises(FormatError, match=r"l\.jsonl, line 1: .*timeUnixNano"):
        toolkit.load_logs(path)
    with pytest.warns(SkippedRecordsWarning, match=r"skipped 1 record"):
        logs = toolkit.load_logs(path, on_error="skip")
    assert logs["body"].to_list() == ["y"]  # never the bad one, under its observed time


def test_a_prometheus_timestamp_beyond_int64_is_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "p.prom"
    path.write_text("# TYPE g gauge\ng 1 99999999999999999999\ng 2 1700000000000\n")
    with pytest.raises(FormatError, match=r"p\.prom, line 2: timestamp '99999999999999999999'"):
        toolkit.load_metrics(path)
    with pytest.warns(SkippedRecordsWarning, match=r"skipped 1 line"):
        metrics = toolkit.load_metrics(path, on_error="skip")
    assert metrics["value"].to_list() == [2.0]


def test_a_non_ascii_digit_in_a_workload_csv_is_a_bad_value(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        "2023-11-16 18:15:46.6805900,3٣4,44\n2023-11-16 18:15:47.6805900,374,44\n",
        encoding="utf-8",
    )
    with pytest.raises(
        FormatError, match=r"w\.csv, line 2, column 'ContextTokens': found '3٣4', expected"
    ):
        toolkit.load_workload(path, tz="UTC")
    with pytest.warns(SkippedRecordsWarning):
        workload = toolkit.load_workload(path, tz="UTC", on_error="skip")
    assert workload["input_tokens"].to_list() == [374]


def test_a_vllm_log_line_number_beyond_int64_is_a_bad_record(
    tmp_path: Path, real_data: Path
) -> None:
    source = real_data / "vllm_0_25_1" / "vllm_serve_no_kv_cache_memory_v0.25.1.log"
    raw = source.read_bytes()  # bytes: the log's \r progress lines must stay as they are
    assert raw.startswith(b"INFO 08-18 02:56:53 [importing.py:88]")
    path = tmp_path / "v.log"  # the first record's line number only
    path.write_bytes(
        raw.replace(b"[importing.py:88]", b"[importing.py:99999999999999999999999]", 1)
    )
    with pytest.raises(FormatError, match=r"v\.log, line 1, column 'lineno': lineno 9999"):
        toolkit.load_logs(path, tz="UTC", year=2025)
    whole = toolkit.load_logs(source, tz="UTC", year=2025)
    with pytest.warns(SkippedRecordsWarning, match=r"skipped 1 record"):
        logs = toolkit.load_logs(path, tz="UTC", year=2025, on_error="skip")
    assert logs.height == whole.height - 1


def test_a_json_log_whose_first_line_is_longer_than_the_sniffed_head(tmp_path: Path) -> None:
    path = tmp_path / "app.jsonl"
    first = {"time": "2026-01-01T00:00:00Z", "message": "x" * 70_000}
    second = {"time": "2026-01-01T00:00:01Z", "message": "y"}
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n", encoding="utf-8")
    assert detect(path).format == "json-logs"
    assert toolkit.load_logs(path)["body"].str.len_chars().to_list() == [70_000, 1]


def test_a_gzip_bomb_is_a_named_error_not_a_memory_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    path = tmp_path / "bomb.json.gz"
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b'{"resourceSpans": [], "pad": "')
        for _ in range(24):
            fh.write(b"0" * (1 << 20))
        fh.write(b'"}')
    assert path.stat().st_size < 1 << 20  # 24 MiB in well under 1 MiB
    # one line of 24 MiB: a JSON-lines file, read line by line
    monkeypatch.setenv("TOOLKIT_MAX_LINE_BYTES", str(8 << 20))
    with pytest.raises(FormatError, match=r"bomb\.json\.gz, line 1: the line is longer than 8,"):
        toolkit.load_spans(path)
    monkeypatch.delenv("TOOLKIT_MAX_LINE_BYTES")
    assert toolkit.load_spans(path).height == 0
    # the same as a pretty-printed document, read whole
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b'{\n"resourceSpans": [],\n"pad": "')
        for _ in range(24):
            fh.write(b"0" * (1 << 20))
        fh.write(b'"\n}')
    monkeypatch.setenv("TOOLKIT_MAX_FILE_BYTES", str(8 << 20))
    with pytest.raises(FormatError, match=r"bomb\.json\.gz: the content is larger than 8,388,608"):
        toolkit.load_spans(path)
    # and uncompressed, memory-mapped (checked when a line outgrows the 64 MiB window)
    plain = tmp_path / "long.jsonl"
    plain.write_bytes(b'{"resourceSpans": [], "pad": "' + b"0" * (80 << 20) + b'"}\n')
    monkeypatch.setenv("TOOLKIT_MAX_LINE_BYTES", str(8 << 20))
    with pytest.raises(FormatError, match=r"long\.jsonl, line 1: the line is longer than"):
        toolkit.load_spans(plain)


def test_zipkin_fragments_of_one_span_are_merged_by_id(tmp_path: Path) -> None:
    trace, root, rpc = "463ac35c9f6413ad48485a3953bb6124", "a2fb4a1d1a96d312", "0020000000000001"
    client = {
        "traceId": trace,
        "id": rpc,
        "parentId": root,
        "kind": "CLIENT",
        "name": "get",
        "timestamp": 1_700_000_000_000_000,
        "duration": 2_000,
        "localEndpoint": {"serviceName": "frontend"},
    }
    server_timed = {
        "traceId": trace,
        "id": rpc,
        "parentId": root,
        "kind": "SERVER",
        "shared": True,
        "name": "get",
        "timestamp": 1_700_000_000_000_500,
        "duration": 1_000,
        "localEndpoint": {"serviceName": "backend"},
    }
    # the server half's second report: annotations and tags, no timestamp
    server_rest = {
        "traceId": trace,
        "id": rpc,
        "shared": True,
        "localEndpoint": {"serviceName": "backend"},
        "annotations": [{"timestamp": 1_700_000_000_001_000, "value": "wr"}],
        "tags": {"http.status_code": "200"},
    }
    top = {
        "traceId": trace,
        "id": root,
        "name": "page",
        "kind": "SERVER",
        "timestamp": 1_699_999_999_999_000,
        "duration": 5_000,
        "localEndpoint": {"serviceName": "frontend"},
    }
    path = tmp_path / "trace.json"
    path.write_text(json.dumps([top, client, server_rest, server_timed]), encoding="utf-8")
    with pytest.warns(toolkit.errors.ToolkitWarning, match="1 Zipkin span fragment"):
        spans = toolkit.read_zipkin(path)
    assert spans.height == 3
    server = spans.filter(pl.col("kind") == "server", pl.col("service_name") == "backend")
    assert server.height == 1
    row = server.row(0, named=True)
    assert row["duration_ms"] == 1.0
    assert row["attributes.http.status_code"] == "200"
    assert [e["name"] for e in row["events"]] == ["wr"]
    # a fragment of another endpoint is another span, not merged
    other = dict(server_rest, localEndpoint={"serviceName": "cache"})
    path.write_text(json.dumps([top, client, other, server_timed]), encoding="utf-8")
    with pytest.raises(FormatError, match="timestamp is missing"):
        toolkit.read_zipkin(path)


def test_a_nul_in_an_attribute_key_is_an_error_naming_the_record(tmp_path: Path) -> None:
    # a column name cannot carry a NUL: Arrow's C interface (to_arrow, Parquet, pandas)
    # panicked on the loaded frame
    doc = _doc(_span(0, attributes=[{"key": "a\x00b", "value": {"stringValue": "v"}}]), _span(1))
    lines, document = tmp_path / "x.jsonl", tmp_path / "x.json"
    lines.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    document.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    for path, where in ((lines, "x.jsonl, line 1"), (document, "x.json")):
        with pytest.raises(
            FormatError,
            match=rf"{where}: .*attributes\[0\]: the attribute key 'a\\x00b' holds a NUL",
        ):
            toolkit.load_spans(path)
    logs = tmp_path / "app.jsonl"
    logs.write_text(
        json.dumps({"time": 1_700_000_000, "msg": "a", "ctx": {"k\x00": 1}})
        + "\n"
        + json.dumps({"time": 1_700_000_001, "msg": "b"})
        + "\n",
        encoding="utf-8",
    )
    with pytest.warns(
        SkippedRecordsWarning, match=r"app\.jsonl, line 1: the attribute key 'ctx\.k\\x00'"
    ):
        frame = toolkit.read_json_logs(logs, on_error="skip")
    assert frame["body"].to_list() == ["b"]
    frame.to_arrow()
    zipkin = tmp_path / "zipkin.json"
    span = {"traceId": TRACE, "id": "a2fb4a1d1a96d312", "timestamp": 1, "tags": {"k\x00": "v"}}
    zipkin.write_text(json.dumps([span]), encoding="utf-8")
    with pytest.raises(FormatError, match=r"zipkin\.json, record 1: the attribute key 'k\\x00'"):
        toolkit.read_zipkin(zipkin)
    jaeger = tmp_path / "jaeger.json"
    trace = {
        "traceID": TRACE,
        "spanID": "a2fb4a1d1a96d312",
        "operationName": "x",
        "startTime": 1,
        "duration": 1,
        "tags": [{"key": "k\x00", "type": "string", "value": "v"}],
    }
    jaeger.write_text(json.dumps([trace]), encoding="utf-8")
    with pytest.raises(FormatError, match=r"jaeger\.json, record 1: the attribute key 'k\\x00'"):
        toolkit.read_jaeger(jaeger)


def test_zipkin_annotations_that_are_not_a_list_are_an_error_not_a_type_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "zipkin.json"
    base = {"traceId": TRACE, "timestamp": 1_700_000_000_000_000, "duration": 5}
    spans = [
        {**base, "id": "0000000000000001", "annotations": 5},
        {**base, "id": "0000000000000002"},
    ]
    path.write_text(json.dumps(spans), encoding="utf-8")
    with pytest.raises(FormatError, match=r"record 1: annotations must be a list"):
        toolkit.read_zipkin(path)
    # two reports of one span, one of them malformed: not merged, the malformed one skipped
    fragment = {"traceId": TRACE, "id": "0000000000000002", "annotations": {"a": 1}}
    path.write_text(json.dumps([*spans[1:], fragment]), encoding="utf-8")
    with pytest.warns(SkippedRecordsWarning, match="1 record"):
        frame = toolkit.read_zipkin(path, on_error="skip")
    assert frame.height == 1
