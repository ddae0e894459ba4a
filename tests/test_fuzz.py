"""Fuzzing the readers: any input ends in a frame, a toolkit error or a counted skip.

Two kinds of cases, each with a fixed budget and derandomised (the same cases every run,
so that CI is repeatable; raise TOOLKIT_FUZZ_EXAMPLES to search longer):

- byte-level mutations (truncation, flipped and inserted bytes, deleted and repeated
  ranges) of real files of every format and of the sample;
- structure-aware OTLP spans whose attribute values take every shape JSON allows, written
  as JSON lines (the fast reader) and as one JSON document (the general reader): both must
  give the same frame, or both a toolkit error;
- structure-aware Jaeger traces, Zipkin v2 spans (and v1 spans, refused by name), OTLP
  JSON logs, JSON-lines application logs and vLLM text logs, each field good or hostile:
  no raw exception and no hang (HANG_SECONDS) under either error mode; a document and the
  same records as JSON lines agree (Jaeger, Zipkin, and OTLP logs' fast and general
  readers); and good records with planted bad ones skip exactly the planted ones, by
  record or line number.

What a failure looks like: a raw exception (KeyError, TypeError, a polars or pyo3 panic),
an empty or unbounded message, or the two readers disagreeing.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.errors import FormatError, LoadReport, ToolkitError

EXAMPLES = int(os.environ.get("TOOLKIT_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
#: The structure-aware readers below: half the budget each (every case loads 2-4 files).
FUZZ_READER = settings(FUZZ, max_examples=max(EXAMPLES // 2, 1))
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
MESSAGE_LIMIT = 4000  # no message echoes unbounded input

#: Real files of every format (small ones: each case reads the whole file).
REAL_FILES = [
    "otel_proto_examples/trace.json",
    "otel_proto_examples/logs.json",
    "otel_proto_examples/metrics.json",
    "jaeger/ui_01.json",
    "jaeger/es_01.json",
    "zipkin/yelp.json",
    "any_agent_genai_traces/AGNO_trace.json",
    "nvidia_smi_captures/linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt",
    "dcgm_exporter/lke-ai-conformance_README_L404-478_dcgm_metrics.prom",
    "vllm_0_25_1/metrics_vllm_0_25_1_loaded.txt",
    "vllm_0_25_1/vllm_serve_max_model_len_rejected_v0.25.1.log",
]
OPTIONS = {"tz": "UTC", "year": 2025, "scrape_time": "2025-06-01T00:00:00Z"}


def _sample_head(name: str, lines: int) -> bytes:
    with gzip.open(SAMPLE / name, "rb") as fh:
        return b"".join(fh.readline() for _ in range(lines))


def _check_error(exc: BaseException, where: str) -> None:
    assert isinstance(exc, ToolkitError), f"{where}: raw {type(exc).__name__}: {exc}"
    text = str(exc)
    assert text.strip(), f"{where}: empty message"
    assert len(text) < MESSAGE_LIMIT, f"{where}: a message of {len(text)} characters"
    for leak in ("Traceback", "NoneType", "KeyError"):
        assert leak not in text, f"{where}: {leak} in {text[:200]}"


def _load_every_way(path: Path) -> None:
    """Discover the file and load it under both error modes; only toolkit errors escape."""
    for on_error in ("raise", "skip"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                catalog = toolkit.discover(path, on_error=on_error, cache=False, **OPTIONS)  # type: ignore[arg-type]
                for table in catalog.tables:
                    frame = catalog.table(table)
                    assert isinstance(frame, pl.DataFrame)
                    frame.to_arrow()  # every column can be read (a bad string would panic)
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                _check_error(exc, f"{path.name} ({on_error})")


def _mutate(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    for op, a, b in ops:
        if not out:
            break
        i = a % len(out)
        if op == "truncate":
            del out[i:]
        elif op == "flip":
            out[i] ^= 1 << (b % 8)
        elif op == "insert":
            out[i:i] = bytes([b % 256]) * (1 + b % 3)
        elif op == "delete":
            del out[i : i + 1 + b % 64]
        elif op == "repeat":
            out[i:i] = out[i : i + 1 + b % 256]
    return bytes(out)


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["truncate", "flip", "insert", "delete", "repeat"]),
        st.integers(0, 2**31),
        st.integers(0, 2**16),
    ),
    min_size=1,
    max_size=4,
)
_SPECIAL_BYTES = [b"\xff", b"\x00", b"\xed\xa0\x80", b'"', b"{", b"]", b"\n", b"9" * 25, b"\\u"]


@pytest.fixture(scope="module")
def seeds(real_data: Path) -> dict[str, bytes]:
    found = {name.replace("/", "__"): (real_data / name).read_bytes() for name in REAL_FILES}
    found["sample_traces.jsonl"] = _sample_head("traces.jsonl.gz", 20)
    found["sample_logs.jsonl"] = _sample_head("logs.jsonl.gz", 20)
    found["sample_vllm.prom"] = _sample_head("vllm_metrics.prom.gz", 200)
    found["sample_nvidia_smi.csv"] = _sample_head("nvidia_smi.csv.gz", 40)
    return found


@FUZZ
@given(data=st.data())
def test_byte_mutations_of_real_files(
    seeds: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(seeds)), label="file")
    ops = data.draw(_OPS, label="mutations")
    mutated = _mutate(seeds[name], ops)
    if data.draw(st.booleans(), label="plant special bytes"):
        at = data.draw(st.integers(0, max(len(mutated) - 1, 0)))
        mutated = mutated[:at] + data.draw(st.sampled_from(_SPECIAL_BYTES)) + mutated[at:]
    path = tmp_path_factory.mktemp("mutant") / name
    if data.draw(st.booleans(), label="gzip"):
        compressed = gzip.compress(mutated)
        cut = data.draw(st.integers(0, len(compressed)), label="gzip cut")
        path = path.with_name(path.name + ".gz")
        path.write_bytes(compressed if data.draw(st.booleans()) else compressed[:cut])
    else:
        path.write_bytes(mutated)
    _load_every_way(path)


# --- structure-aware OTLP ----------------------------------------------------------------

_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
)
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _any_value(depth: int = 2) -> st.SearchStrategy[Any]:
    scalar = st.one_of(
        st.builds(lambda s: {"stringValue": s}, st.text(max_size=6)),
        st.builds(lambda b: {"boolValue": b}, st.booleans()),
        st.builds(lambda i: {"intValue": str(i)}, st.integers(-(2**64), 2**64)),
        st.builds(lambda i: {"intValue": i}, st.integers(-(2**63), 2**63 - 1)),
        st.builds(lambda d: {"doubleValue": d}, st.floats(allow_nan=False, allow_infinity=False)),
        st.builds(lambda v: {"stringValue": v}, _JSON),  # wrong types
        st.builds(lambda v: {"intValue": v}, _JSON),
        st.builds(lambda v: {"arrayValue": v}, _JSON),
        st.builds(lambda v: {"kvlistValue": v}, _JSON),
        st.just({}),
    )
    if depth == 0:
        return scalar
    nested = _any_value(depth - 1)
    return st.one_of(
        scalar,
        st.builds(lambda vs: {"arrayValue": {"values": vs}}, st.lists(nested, max_size=3)),
        st.builds(
            lambda kvs: {"kvlistValue": {"values": [{"key": k, "value": v} for k, v in kvs]}},
            st.lists(st.tuples(st.text(max_size=4), nested), max_size=3),
        ),
    )


_KEYS = st.sampled_from(["a", "b", "gen_ai.usage.input_tokens", "x.y"])
_ATTRIBUTE = st.one_of(
    st.builds(lambda k, v: {"key": k, "value": v}, _KEYS, _any_value()),
    st.builds(lambda v: {"value": v}, _any_value(0)),  # no key
    _JSON,
)


@st.composite
def _spans(draw: st.DrawFn) -> list[dict[str, Any]]:
    spans = []
    for i in range(draw(st.integers(1, 3))):
        span: dict[str, Any] = {
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": f"{i + 1:016x}",
            "name": "chat m",
            "kind": draw(st.sampled_from([1, 2, 3, 0, 6, -1, 2**63, "SPAN_KIND_CLIENT", None])),
            "startTimeUnixNano": draw(
                st.sampled_from(["1544712660000000000", "0", "-5", "abc", str(2**64), 1e18])
            ),
            "endTimeUnixNano": "1544712661500000000",
            "attributes": draw(st.lists(_ATTRIBUTE, max_size=4)),
        }
        if draw(st.booleans()):
            span["status"] = draw(st.sampled_from([{"code": 2}, {"code": 9}, {"code": "x"}, 5]))
        spans.append(span)
    return spans


def _outcome(path: Path) -> pl.DataFrame | str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            frame: pl.DataFrame = toolkit.load_spans(path)
            frame.to_arrow()
            return frame
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            _check_error(exc, path.name)
            return "error"


@FUZZ
@given(spans=_spans())
def test_json_lines_and_documents_agree(
    tmp_path_factory: pytest.TempPathFactory, spans: list[dict[str, Any]]
) -> None:
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    folder = tmp_path_factory.mktemp("otlp")
    lines, document = folder / "x.jsonl", folder / "x.json"
    lines.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    document.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    fast, general = _outcome(lines), _outcome(document)
    if isinstance(fast, str) or isinstance(general, str):
        assert isinstance(fast, str), (fast, general)
        assert isinstance(general, str), (fast, general)
    else:
        assert fast.equals(general)


# --- shared by the structure-aware readers below -----------------------------------------

HANG_SECONDS = 60  # one case that takes longer is a hang (cases take well under a second)


class _Hang(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Hang


def _attempt(load: Any, path: Path, on_error: str) -> tuple[pl.DataFrame | str, LoadReport]:
    """``load(path)``: the frame (every column read), or "error" for a toolkit error; any
    other exception, or a case running past HANG_SECONDS, fails the test."""
    report = LoadReport()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(HANG_SECONDS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = load(path, on_error=on_error, report=report)
            frame.to_arrow()  # every column can be read (a bad string would panic)
        return frame, report
    except _Hang:
        pytest.fail(f"{path.name} ({on_error}): no result after {HANG_SECONDS} s")
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        _check_error(exc, f"{path.name} ({on_error})")
        return "error", report
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _agree(a: pl.DataFrame | str, b: pl.DataFrame | str) -> None:
    """Two readings of the same records: both errors, or equal frames."""
    if isinstance(a, str) or isinstance(b, str):
        assert a == b == "error", (a, b)
    else:
        assert a.equals(b), (a, b)


def _where(report: LoadReport) -> list[str]:
    return sorted(s.where.split(": ", 1)[0].split(", ", 1)[1] for s in report.skipped)


def _hostile(good: st.SearchStrategy[Any], *bad: Any) -> st.SearchStrategy[Any]:
    """A good value most of the time, else one of ``bad`` or any JSON value."""
    return st.one_of(good, good, st.sampled_from(bad) if bad else good, _JSON)


_HEX16 = st.integers(1, 2**64 - 1).map(lambda i: f"{i:016x}")
_HEX32 = st.integers(1, 2**128 - 1).map(lambda i: f"{i:032x}")
_MICROS = st.integers(1, 2**52)
_BAD_IDS = ("", "zz", "0" * 16, "0" * 32, "1" * 33, 12, -1, 2**70, None, "ｆｆ", "\x00")
_BAD_MICROS = (-1, 2**63, 2**70, "abc", "1e3", 1.5, None, True)
_TEXT = st.text(max_size=8)


# --- Jaeger JSON ---------------------------------------------------------------------------

_JAEGER_TYPES = {
    "string": _TEXT,
    "bool": st.booleans(),
    "int64": st.integers(-(2**63), 2**63 - 1),
    "float64": st.floats(allow_nan=False, allow_infinity=False),
    "binary": st.binary(max_size=6).map(lambda b: __import__("base64").b64encode(b).decode()),
}


@st.composite
def _jaeger_tag(draw: st.DrawFn, hostile: bool) -> Any:
    kind = draw(st.sampled_from(sorted(_JAEGER_TYPES)))
    tag = {"key": draw(_KEYS), "type": kind, "value": draw(_JAEGER_TYPES[kind])}
    if hostile and draw(st.booleans()):
        field = draw(st.sampled_from(["key", "type", "value"]))
        tag[field] = draw(_hostile(st.just(tag[field]), "int64", "float64", "bogus", None, 2**64))
    return tag


@st.composite
def _jaeger_span(draw: st.DrawFn, trace: str, i: int, hostile: bool) -> dict[str, Any]:
    def pick(good: st.SearchStrategy[Any], *bad: Any) -> Any:
        return draw(_hostile(good, *bad) if hostile else good)

    tags = st.lists(_jaeger_tag(hostile), max_size=3)
    span: dict[str, Any] = {
        "traceID": trace,
        "spanID": pick(st.just(f"{i + 1:016x}"), *_BAD_IDS),
        "operationName": pick(_TEXT, None, 5),
        "references": pick(
            st.just([])
            | st.just([{"refType": "CHILD_OF", "traceID": trace, "spanID": f"{i:016x}"}]),
            [{"refType": "FOLLOWS_FROM", "traceID": trace, "spanID": "zz"}],
            [{"refType": "ELSE"}],
            "CHILD_OF",
        ),
        "startTime": pick(_MICROS, *_BAD_MICROS),
        "duration": pick(st.integers(0, 2**40), *_BAD_MICROS),
        "tags": pick(tags, {"a": 1}, [1, 2]),
        "logs": pick(
            st.lists(
                st.builds(lambda t, f: {"timestamp": t, "fields": f}, _MICROS, tags), max_size=2
            ),
            [{"timestamp": "x", "fields": []}],
            [{"fields": 3}],
        ),
        "processID": pick(st.just("p1"), "p9", None, 7),
    }
    if i == 0 and span["references"] and not hostile:
        span["references"] = []
    return span


@st.composite
def _jaeger_traces(draw: st.DrawFn, hostile: bool = True) -> list[dict[str, Any]]:
    traces = []
    for t in range(draw(st.integers(1, 2))):
        trace = draw(st.sampled_from([f"{t + 1:032x}", f"{t + 1:016x}"]))
        process = {
            "serviceName": draw(_TEXT),
            "tags": draw(st.lists(_jaeger_tag(hostile), max_size=2)),
        }
        processes: Any = {"p1": process}
        if hostile and draw(st.integers(0, 5)) == 0:
            processes = draw(st.sampled_from([[process], "p1", {"p1": 3}, {"p1": {"tags": 5}}]))
        spans = [draw(_jaeger_span(trace, i, hostile)) for i in range(draw(st.integers(1, 3)))]
        traces.append({"traceID": trace, "spans": spans, "processes": processes})
    return traces


@FUZZ_READER
@given(traces=_jaeger_traces())
def test_jaeger_documents_and_json_lines_agree(
    tmp_path_factory: pytest.TempPathFactory, traces: list[dict[str, Any]]
) -> None:
    folder = tmp_path_factory.mktemp("jaeger")
    document, lines = folder / "api.json", folder / "traces.jsonl"
    document.write_text(json.dumps({"data": traces}, indent=1), encoding="utf-8")
    lines.write_text("".join(json.dumps(t) + "\n" for t in traces), encoding="utf-8")
    for on_error in ("raise", "skip"):
        whole, _ = _attempt(toolkit.read_jaeger, document, on_error)
        by_line, _ = _attempt(toolkit.read_jaeger, lines, on_error)
        if on_error == "raise":
            _agree(whole, by_line)


@FUZZ_READER
@given(traces=_jaeger_traces(hostile=False), data=st.data())
def test_jaeger_skips_exactly_the_bad_spans(
    tmp_path_factory: pytest.TempPathFactory, traces: list[dict[str, Any]], data: st.DataObject
) -> None:
    spans = [s for t in traces for s in t["spans"]]
    bad = data.draw(st.sets(st.integers(0, len(spans) - 1)), label="bad spans")
    for k in bad:
        field, value = data.draw(
            st.sampled_from(
                [
                    ("spanID", "zz"),
                    ("spanID", "0" * 16),
                    ("startTime", "abc"),
                    ("startTime", -5),
                    ("duration", 2**70),
                    ("traceID", "xyz"),
                    ("tags", {"a": 1}),
                ]
            ),
            label="damage",
        )
        spans[k][field] = value
    path = tmp_path_factory.mktemp("jaeger") / "api.json"
    path.write_text(json.dumps({"data": traces}), encoding="utf-8")
    frame, report = _attempt(toolkit.read_jaeger, path, "skip")
    assert not isinstance(frame, str)
    assert frame.height == len(spans) - len(bad)
    assert _where(report) == sorted(f"record {k + 1}" for k in bad)


# --- Zipkin JSON (v2 read, v1 refused by name) ---------------------------------------------

_ENDPOINT = st.fixed_dictionaries(
    {"serviceName": _TEXT},
    optional={
        "ipv4": st.sampled_from(["10.0.0.1", "127.0.0.1"]),
        "ipv6": st.sampled_from(["::1", "2001:db8::1"]),
        "port": st.integers(0, 65535),
    },
)


@st.composite
def _zipkin_span(draw: st.DrawFn, i: int, hostile: bool) -> dict[str, Any]:
    def pick(good: st.SearchStrategy[Any], *bad: Any) -> Any:
        return draw(_hostile(good, *bad) if hostile else good)

    span: dict[str, Any] = {
        "traceId": pick(
            st.sampled_from(["463ac35c9f6413ad48485a3953bb6124", "48485a3953bb6124"]), *_BAD_IDS
        ),
        "id": pick(st.just(f"{i + 1:016x}"), *_BAD_IDS),
        "name": pick(_TEXT, None, 5),
        "kind": pick(
            st.sampled_from(["CLIENT", "SERVER", "PRODUCER", "CONSUMER"]), "client", "X", 2
        ),
        "timestamp": pick(_MICROS, *_BAD_MICROS),
        "localEndpoint": pick(_ENDPOINT, {"serviceName": 5}, {"port": "x"}, {"port": 2**70}, "svc"),
        "tags": pick(
            st.dictionaries(_KEYS, _TEXT, max_size=3),
            {"error": 5},
            {"a": None},
            {"a": [1]},
            ["a"],
            "error",
        ),
        "annotations": pick(
            st.lists(
                st.builds(lambda t, v: {"timestamp": t, "value": v}, _MICROS, _TEXT), max_size=2
            ),
            [{"timestamp": "x", "value": "a"}],
            [{"value": 5}],
            5,
            {"a": 1},
            [7],
        ),
    }
    if i:
        span["parentId"] = pick(st.just(f"{i:016x}"), *_BAD_IDS)
    if draw(st.booleans()):
        span["duration"] = pick(st.integers(0, 2**40), *_BAD_MICROS)
    if draw(st.booleans()):
        span["remoteEndpoint"] = pick(_ENDPOINT, [], 3)
    if hostile and draw(st.integers(0, 4)) == 0:
        span["shared"] = draw(st.sampled_from([True, False, "yes", None]))
    return span


@st.composite
def _zipkin_spans(draw: st.DrawFn, hostile: bool = True) -> list[dict[str, Any]]:
    return [draw(_zipkin_span(i, hostile)) for i in range(draw(st.integers(1, 4)))]


@FUZZ_READER
@given(spans=_zipkin_spans())
def test_zipkin_arrays_and_json_lines_agree(
    tmp_path_factory: pytest.TempPathFactory, spans: list[dict[str, Any]]
) -> None:
    folder = tmp_path_factory.mktemp("zipkin")
    document, lines = folder / "trace.json", folder / "spans.jsonl"
    document.write_text(json.dumps(spans, indent=1), encoding="utf-8")
    lines.write_text("".join(json.dumps(s) + "\n" for s in spans), encoding="utf-8")
    for on_error in ("raise", "skip"):
        whole, _ = _attempt(toolkit.read_zipkin, document, on_error)
        by_line, _ = _attempt(toolkit.read_zipkin, lines, on_error)
        if on_error == "raise":
            _agree(whole, by_line)


@FUZZ_READER
@given(spans=_zipkin_spans(hostile=False), data=st.data())
def test_zipkin_skips_exactly_the_bad_spans_v1_included(
    tmp_path_factory: pytest.TempPathFactory, spans: list[dict[str, Any]], data: st.DataObject
) -> None:
    bad = data.draw(st.sets(st.integers(0, len(spans) - 1)), label="bad spans")
    for k in bad:
        damage: dict[str, Any] = data.draw(
            st.sampled_from(
                [
                    {"id": "zz"},
                    {"traceId": "0" * 32},
                    {"timestamp": "abc"},
                    {"timestamp": None},
                    {"duration": -3},
                    {"tags": ["a"]},
                    {"binaryAnnotations": [{"key": "lc", "value": "x"}]},  # Zipkin v1
                    {
                        "annotations": [
                            {"timestamp": 1, "value": "cs", "endpoint": {"serviceName": "a"}}
                        ]
                    },
                ]
            ),
            label="damage",
        )
        spans[k] = {**spans[k], **damage}
    path = tmp_path_factory.mktemp("zipkin") / "trace.json"
    path.write_text(json.dumps(spans), encoding="utf-8")
    frame, report = _attempt(toolkit.read_zipkin, path, "skip")
    assert not isinstance(frame, str)
    assert frame.height == len(spans) - len(bad)
    assert _where(report) == sorted(f"record {k + 1}" for k in bad)
    if bad:
        with pytest.raises(FormatError):
            toolkit.read_zipkin(path)


# --- OTLP JSON logs: the fast (JSON lines) and general (document) readers ------------------

_NANOS = st.sampled_from(
    ["1544712660300000000", "0", "-5", "abc", str(2**64), 1.5e18, 1544712660300000000]
)


@st.composite
def _log_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    records = []
    for _ in range(draw(st.integers(1, 3))):
        record: dict[str, Any] = {
            "timeUnixNano": draw(_NANOS),
            "observedTimeUnixNano": draw(_NANOS),
            "severityNumber": draw(
                st.sampled_from([9, 17, 0, 25, -1, 2**40, "INFO", "SEVERITY_NUMBER_WARN", None])
            ),
            "body": draw(_any_value()),
            "attributes": draw(st.lists(_ATTRIBUTE, max_size=3)),
        }
        if draw(st.booleans()):
            record["severityText"] = draw(_hostile(_TEXT, 5, None))
        if draw(st.booleans()):
            record["traceId"] = draw(_hostile(_HEX32, *_BAD_IDS))
            record["spanId"] = draw(_hostile(_HEX16, *_BAD_IDS))
        if draw(st.booleans()):
            record["eventName"] = draw(_hostile(_TEXT, 5))
        if draw(st.booleans()):
            record["flags"] = draw(st.sampled_from([1, 0, -1, 2**32, "1"]))
        records.append(record)
    return records


@FUZZ_READER
@given(records=_log_records(), resource=st.lists(_ATTRIBUTE, max_size=2))
def test_otlp_logs_json_lines_and_documents_agree(
    tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, Any]], resource: list[Any]
) -> None:
    doc = {
        "resourceLogs": [
            {
                "resource": {"attributes": resource},
                "scopeLogs": [{"scope": {"name": "s"}, "logRecords": records}],
            }
        ]
    }
    folder = tmp_path_factory.mktemp("otlp-logs")
    lines, document = folder / "logs.jsonl", folder / "logs.json"
    lines.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    document.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    for on_error in ("raise", "skip"):
        fast, _ = _attempt(toolkit.load_logs, lines, on_error)
        general, _ = _attempt(toolkit.load_logs, document, on_error)
        if on_error == "raise":
            _agree(fast, general)


# --- JSON-lines application logs -----------------------------------------------------------

_FINITE_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_FINITE_JSON = st.recursive(
    _FINITE_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
#: One file's times, in one style: epoch numbers of mixed units are a reported problem.
_LOG_TIME_STYLES = [
    st.integers(1_500_000_000, 1_900_000_000),  # epoch seconds
    st.integers(1_500_000_000_000, 1_900_000_000_000),  # milliseconds
    st.sampled_from(
        ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.123456789+02:00", "2026-01-01 00:00:00Z"]
    ),
]
_BAD_LOG_TIMES = (
    "nope",
    "2026-13-01T00:00:00Z",
    "2026-01-01T00:00:00",
    -1,
    2**70,
    1e300,
    None,
    [1],
    {"a": 1},
)


@st.composite
def _app_log(draw: st.DrawFn, hostile: bool, times: st.SearchStrategy[Any]) -> dict[str, Any]:
    def pick(good: st.SearchStrategy[Any], *bad: Any) -> Any:
        return draw(_hostile(good, *bad) if hostile else good)

    record: dict[str, Any] = {
        draw(st.sampled_from(["time", "timestamp", "ts", "@timestamp"])): pick(
            times, *_BAD_LOG_TIMES
        ),
        "msg": pick(_TEXT, None, 5, [1, "a"]),
    }
    if draw(st.booleans()):
        record["level"] = pick(
            st.sampled_from(["info", "WARN", "error", 30, 50]), 99, "loud", 2**70, 2.5
        )
    if draw(st.booleans()):
        record["trace_id"] = pick(_HEX32, *_BAD_IDS)
    if draw(st.booleans()):
        record["ctx"] = draw(_JSON if hostile else _FINITE_JSON)  # flattens to attributes
    for key in draw(st.lists(_KEYS, max_size=2)):
        record[key] = draw(_JSON_SCALARS if hostile else _FINITE_SCALARS)
    return record


@FUZZ_READER
@given(data=st.data())
def test_json_logs_never_raise_raw_and_skip_exactly_the_bad_lines(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("app-logs")
    hostile = [
        data.draw(_app_log(True, st.one_of(_LOG_TIME_STYLES)), label="hostile")
        for _ in range(data.draw(st.integers(1, 4)))
    ]
    path = folder / "hostile.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in hostile), encoding="utf-8")
    for on_error in ("raise", "skip"):
        _attempt(toolkit.read_json_logs, path, on_error)
    # good records with planted bad lines: exactly those are skipped
    times = data.draw(st.sampled_from(_LOG_TIME_STYLES), label="time style")
    count = data.draw(st.integers(1, 4), label="good records")
    good = [data.draw(_app_log(False, times), label="good") for _ in range(count)]
    planted = [
        "{not json",
        "[1, 2]",
        '"text"',
        '{"msg": "no time"}',
        '{"time": "nope", "msg": "x"}',
    ]
    lines = [json.dumps(r) for r in good]
    bad_lines: list[int] = []
    for text in data.draw(st.lists(st.sampled_from(planted), max_size=3), label="planted"):
        at = data.draw(st.integers(0, len(lines)), label="at")
        lines.insert(at, text)
        bad_lines = [n + 1 if n >= at + 1 else n for n in bad_lines] + [at + 1]
    path = folder / "planted.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame, report = _attempt(toolkit.read_json_logs, path, "skip")
    assert not isinstance(frame, str)
    assert frame.height == len(good)
    assert [w.split(",")[0] for w in _where(report)] == sorted(f"line {n}" for n in bad_lines)


# --- vLLM text logs ------------------------------------------------------------------------

_VLLM_LEVELS = st.sampled_from(["INFO", "WARNING", "ERROR", "DEBUG", "CRITICAL"])


@st.composite
def _vllm_record(draw: st.DrawFn, kind: str) -> str:
    """One vLLM log record (a header line, maybe continuation lines): "good", "bad" (a
    time that does not exist) or "hostile" (any of the known-bad fields, or none)."""
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    hour, minute, second = (
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )
    stamp = f"{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
    source = draw(st.sampled_from(["api_server.py", "engine.py", "x"]))
    where = f"[{source}:{draw(st.integers(1, 9999))}]"
    if kind == "bad":
        stamp = draw(st.sampled_from(["13-45 02:57:50", "02-30 02:57:50", "00-10 00:00:00"]))
    if kind == "hostile":
        stamp = draw(st.sampled_from([stamp, stamp, "13-45 02:57:50", "02-30 25:61:00"]))
        where = draw(st.sampled_from([where, where, "[x.py:99999999999999999999999]", "[:]"]))
    prefix = draw(st.sampled_from(["", "(APIServer pid=1) ", "(EngineCore_DP0 pid=7) "]))
    text = draw(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=12))
    head = f"{prefix}{draw(_VLLM_LEVELS)} {stamp} {where} {text}"
    more = st.sampled_from(["Traceback (most recent call last):", "  File x", "    ^^^", ""])
    return "\n".join([head, *draw(st.lists(more, max_size=2))])


@FUZZ_READER
@given(data=st.data())
def test_vllm_text_logs_never_raise_raw_and_skip_exactly_the_bad_records(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    load = partial(toolkit.read_text_logs, year=2025, tz="UTC")
    folder = tmp_path_factory.mktemp("vllm")
    count = data.draw(st.integers(1, 4), label="records")
    raw = "\n".join(data.draw(_vllm_record("hostile"), label="hostile") for _ in range(count))
    if data.draw(st.booleans(), label="damage bytes"):
        raw = _mutate(raw.encode(), data.draw(_OPS, label="mutations")).decode("utf-8", "replace")
    path = folder / "hostile.log"
    path.write_text(raw + "\n", encoding="utf-8")
    for on_error in ("raise", "skip"):
        _attempt(load, path, on_error)
    # good records with planted bad ones: exactly the planted ones are skipped, by line
    kinds = data.draw(st.lists(st.sampled_from(["good", "good", "bad"]), min_size=1, max_size=5))
    lines: list[str] = []
    bad_lines = []
    for kind in kinds:
        if kind == "bad":
            bad_lines.append(len(lines) + 1)
        lines.extend(data.draw(_vllm_record(kind), label=kind).split("\n"))
    path = folder / "planted.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame, report = _attempt(load, path, "skip")
    assert not isinstance(frame, str)
    assert frame.height == kinds.count("good")
    assert [w.split(",")[0] for w in _where(report)] == sorted(f"line {n}" for n in bad_lines)
