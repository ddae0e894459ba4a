"""Fuzzing the readers: any input ends in a frame, a toolkit error or a counted skip.

Two kinds of cases, each with a fixed budget and derandomised (the same cases every run,
so that CI is repeatable; raise TOOLKIT_FUZZ_EXAMPLES to search longer):

- byte-level mutations (truncation, flipped and inserted bytes, deleted and repeated
  ranges) of real files of every format and of the sample;
- structure-aware OTLP spans whose attribute values take every shape JSON allows, written
  as JSON lines (the fast reader) and as one JSON document (the general reader): both must
  give the same frame, or both a toolkit error.

What a failure looks like: a raw exception (KeyError, TypeError, a polars or pyo3 panic),
an empty or unbounded message, or the two readers disagreeing.
"""

from __future__ import annotations

import gzip
import json
import os
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.errors import ToolkitError

EXAMPLES = int(os.environ.get("TOOLKIT_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
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
            frame = toolkit.load_spans(path)
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
