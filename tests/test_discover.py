"""toolkit.discover: a folder of exports, found by content, loaded once, de-duplicated."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import toolkit
from toolkit.errors import ColumnNotFoundError, FormatError, MissingTableError, ParameterError
from toolkit.ingest.discover import default_cache_dir

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
T0 = 1_700_000_000_000_000_000


def _span(i: int, *, parent: str | None = None, model: str = "small") -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": f"{i // 2 + 1:032x}",
        "spanId": f"{i + 1:016x}",
        "name": f"chat {model}",
        "kind": 3,
        "startTimeUnixNano": str(T0 + i * 1_000_000_000),
        "endTimeUnixNano": str(T0 + i * 1_000_000_000 + 250_000_000),
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": model}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(10 + i)}},
        ],
    }
    if parent is not None:
        span["parentSpanId"] = parent
    return span


def _doc(spans: list[dict[str, Any]], service: str = "gateway") -> dict[str, Any]:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


def _write_pb(doc: dict[str, Any], path: Path) -> None:
    import base64

    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    def b64(value: str) -> str:  # the protobuf JSON mapping writes bytes in base64, OTLP hex
        return base64.b64encode(bytes.fromhex(value)).decode()

    text = json.dumps(doc)
    for resource in doc["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        text = text.replace(f'"{span[key]}"', f'"{b64(span[key])}"')
    request = json_format.Parse(text, trace_service_pb2.ExportTraceServiceRequest())
    path.write_bytes(request.SerializeToString())


@pytest.fixture(autouse=True)
def _own_cache(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test its own cache, except the sample's, which shares the session's."""
    if "sample" not in request.node.name:
        monkeypatch.setenv("TOOLKIT_CACHE_DIR", str(tmp_path / "cache"))


def test_same_spans_as_json_lines_and_protobuf_are_counted_once(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    (folder / "collector" / "2026").mkdir(parents=True)
    spans = [_span(i) for i in range(6)]
    # the JSON lines file holds spans 0-5; the protobuf file 3-7: 3 of them twice
    lines = folder / "collector" / "2026" / "otel-000.json"
    lines.write_text(
        "\n".join(json.dumps(_doc(spans[k : k + 2])) for k in (0, 2, 4)) + "\n", encoding="utf-8"
    )
    _write_pb(_doc([*spans[3:], _span(6), _span(7)]), folder / "batch.pb")
    catalog = toolkit.discover(folder)
    files = catalog.files.select("path", "table", "format", "rows", "duplicates", "status")
    assert files.rows() == [
        ("batch.pb", "spans", "otlp-protobuf", 5, 0, "loaded"),
        ("collector/2026/otel-000.json", "spans", "otlp-json-lines", 6, 3, "loaded"),
    ]
    table = catalog.table("spans")
    assert table.height == 8
    assert table.select(pl.col("span_id").n_unique()).item() == 8
    assert catalog.notes == (
        "3 spans (same trace id, span id and start time) were also held by an earlier file "
        "and are counted once: collector/2026/otel-000.json (3)",
    )
    assert catalog.table("llm_calls").height == 8
    assert catalog.table("llm_calls")["input_tokens"].sort().to_list() == list(range(10, 18))


def test_a_span_kept_once_keeps_its_attributes_whichever_file_came_first(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps(_doc([_span(0)])) + "\n", encoding="utf-8")
    _write_pb(_doc([_span(0)]), tmp_path / "b.pb")
    spans = toolkit.discover(tmp_path).table("spans")
    direct = toolkit.load_spans(tmp_path / "a.jsonl")
    assert spans.equals(direct)


def test_duplicates_within_one_file_are_not_removed(tmp_path: Path) -> None:
    # a file that holds a span twice is the exporter's business: discovery only merges files
    (tmp_path / "a.jsonl").write_text((json.dumps(_doc([_span(0)])) + "\n") * 2, encoding="utf-8")
    catalog = toolkit.discover(tmp_path)
    assert catalog.table("spans").height == 2
    assert catalog.notes == ()


def test_unrecognised_files_are_listed_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# my exports\n", encoding="utf-8")
    (tmp_path / "x.jsonl").write_text(json.dumps(_doc([_span(0)])) + "\n", encoding="utf-8")
    (tmp_path / ".hidden").write_text("ignored", encoding="utf-8")
    catalog = toolkit.discover(tmp_path)
    assert catalog.files.select("path", "status").rows() == [
        ("README.md", "unrecognised"),
        ("x.jsonl", "loaded"),
    ]
    assert catalog.notes == ("1 file(s) unrecognised, left out: README.md",)
    assert catalog.tables == ("spans", "llm_calls")


def test_a_damaged_file_raises_or_is_listed_as_failed(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(_doc([_span(0)])) + "\n", encoding="utf-8")
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(gzip.compress(b'{"resourceSpans": [')[:-6])
    with pytest.raises(FormatError, match=r"bad\.jsonl\.gz"):
        toolkit.discover(tmp_path)
    catalog = toolkit.discover(tmp_path, on_error="skip")
    row = catalog.files.filter(pl.col("path") == "bad.jsonl.gz").row(0, named=True)
    assert row["status"] == "failed"
    assert "gzip" in row["note"]
    assert catalog.table("spans").height == 1


def test_files_that_need_a_parameter_say_which(tmp_path: Path) -> None:
    shutil.copy(SAMPLE / "nvidia_smi.csv.gz", tmp_path / "gpu-log.csv.gz")
    catalog = toolkit.discover(tmp_path)
    row = catalog.files.row(0, named=True)
    assert (row["table"], row["format"], row["status"]) == (
        "gpu",
        "nvidia-smi",
        "needs a parameter",
    )
    assert "'tz' parameter" in row["note"]
    assert not catalog.has("gpu")
    assert catalog.supports["gpu"].missing == ("gpu",)
    loaded = toolkit.discover(tmp_path, tz="UTC", host="h1")
    assert loaded.table("gpu").height == 40324
    assert loaded.table("gpu")["host"].unique().to_list() == ["h1"]


def test_a_scrape_without_timestamps_needs_scrape_time(tmp_path: Path) -> None:
    (tmp_path / "metrics.txt").write_text(
        '# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name="m"} 3\n',
        encoding="utf-8",
    )
    catalog = toolkit.discover(tmp_path)
    assert catalog.files["status"].to_list() == ["needs a parameter"]
    assert "scrape_time" in catalog.files["note"].item()
    metrics = toolkit.discover(tmp_path, scrape_time="2026-01-02T03:04:05Z").table("metrics")
    assert metrics.select("name", "value").rows() == [("vllm:num_requests_waiting", 3.0)]
    assert str(metrics["time"].item()) == "2026-01-02 03:04:05+00:00"


def test_start_and_end_keep_records_in_the_window(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text(
        json.dumps(_doc([_span(i) for i in range(10)])) + "\n", encoding="utf-8"
    )
    catalog = toolkit.discover(tmp_path, start="2023-11-14T22:13:22Z", end="2023-11-14T22:13:25Z")
    # spans start at T0 + i s, T0 = 2023-11-14T22:13:20Z: i = 2, 3, 4 are in [start, end)
    assert catalog.table("spans")["span_id"].to_list() == [f"{i + 1:016x}" for i in (2, 3, 4)]
    assert catalog.files["rows"].to_list() == [3]


def test_missing_tables_and_columns_say_what_there_is(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text(json.dumps(_doc([_span(0)])) + "\n", encoding="utf-8")
    catalog = toolkit.discover(tmp_path)
    with pytest.raises(
        MissingTableError,
        match=r"holds no metrics table \(it holds spans, "
        r"llm_calls\). To get one: scrape vLLM's /metrics",
    ):
        catalog.table("metrics")
    with pytest.raises(ParameterError, match="must be one of"):
        catalog.table("metric")
    with pytest.raises(
        ColumnNotFoundError,
        match=r"no column 'attributes.user.tier' "
        r"\(the closest: 'attributes.user.tier_v2'\)",
    ):
        toolkit.schema.require_columns(
            pl.DataFrame({"attributes.user.tier_v2": ["a"]}),
            ["attributes.user.tier"],
            table="llm_calls",
        )


def test_supports_says_what_is_missing_and_how_to_get_it(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text(
        json.dumps(_doc([_span(i) for i in range(4)])) + "\n", encoding="utf-8"
    )
    supports = toolkit.discover(tmp_path).supports
    assert supports["overview"].ok
    assert supports["slo"].ok  # from the calls' latency
    assert not supports["traces"].ok
    assert supports["traces"].missing == ("child spans",)
    assert "propagate the trace context" in supports["traces"].how
    assert supports["explain"].missing == ("at least 200 rows",)
    assert supports["gpu"].missing == ("gpu",)
    assert "dcgm-exporter" in supports["gpu"].how
    assert not supports["fairness"].ok
    # with a parent link the span trees are there
    linked = [_span(0), _span(1, parent=f"{1:016x}")]
    (tmp_path / "x.jsonl").write_text(json.dumps(_doc(linked)) + "\n", encoding="utf-8")
    assert toolkit.discover(tmp_path, cache=False).supports["traces"].ok


def test_check_names_series_columns_and_rows(tmp_path: Path) -> None:
    (tmp_path / "m.prom").write_text(
        "# TYPE vllm:num_requests_waiting gauge\n"
        'vllm:num_requests_waiting{model_name="m"} 3 1700000000000\n',
        encoding="utf-8",
    )
    catalog = toolkit.discover(tmp_path)
    ok = catalog.check("metrics", series=["vllm:num_requests_waiting", "vllm:x"])
    assert ok.ok
    assert ok.found == "metrics with 1 rows (vllm:num_requests_waiting)"
    bad = catalog.check("metrics", series=["vllm:e2e_request_latency_seconds"], min_rows=5)
    assert bad.missing == ("vllm:e2e_request_latency_seconds", "at least 5 rows")
    none = catalog.check("llm_calls", columns=["ttft_s"])
    assert none.missing == ("llm_calls",)
    assert none.found == "no llm_calls table (the folder holds metrics)"


def test_dimensions_are_attributes_with_few_values_and_enough_rows() -> None:
    n = 300
    calls = pl.DataFrame(
        {
            "attributes.user.tier": ["free", "pro", "enterprise"] * (n // 3),
            "attributes.user.locale": ["en"] * (n - 20) + ["tr"] * 20,  # tr: too few calls
            "attributes.request.id": [str(i) for i in range(n)],  # an identifier
            "attributes.flag": [True] * n,  # one value
            "attributes.route": ["chat"] * 150 + ["rag"] * 150,
            "latency_s": [1.0] * n,  # not an attribute
        }
    )
    assert toolkit.dimensions(calls) == ["attributes.user.tier", "attributes.route"]
    assert toolkit.dimensions(calls, min_rows=10) == [
        "attributes.user.tier",
        "attributes.route",
        "attributes.user.locale",
    ]
    assert toolkit.dimensions(calls.to_pandas(), exclude=["attributes.route"]) == [
        "attributes.user.tier"
    ]


def test_the_cache_gives_equal_tables_and_follows_the_content(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.jsonl").write_text(json.dumps(_doc([_span(0)])) + "\n", encoding="utf-8")
    first = toolkit.discover(data, cache=cache)
    assert first.table("llm_calls").height == 1
    assert len(list(cache.glob("*.parquet"))) == 2  # the file and its llm_calls
    again = toolkit.discover(data, cache=cache)
    assert again.table("spans").equals(first.table("spans"))
    assert again.table("llm_calls").equals(first.table("llm_calls"))
    (data / "x.jsonl").write_text(json.dumps(_doc([_span(0), _span(1)])) + "\n", encoding="utf-8")
    assert toolkit.discover(data, cache=cache).table("spans").height == 2
    for entry in cache.glob("*.parquet"):  # a damaged entry is read again from the file
        entry.write_bytes(b"not parquet")
    assert toolkit.discover(data, cache=cache).table("spans").height == 2
    off = tmp_path / "off"
    toolkit.discover(data, cache=False)
    assert not off.exists()
    assert default_cache_dir() == tmp_path / "cache"  # the fixture's TOOLKIT_CACHE_DIR
    with pytest.raises(ParameterError, match="'cache' parameter of discover"):
        toolkit.discover(data, cache=3)  # type: ignore[arg-type]


def test_loads_that_warn_are_not_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    doc = _doc([_span(0)])
    text = json.dumps(doc) + "\n" + '{"resourceSpans": [{"scopeSpans": [{"spans": [{"x": 1}]}]}]}\n'
    (tmp_path / "x.jsonl").write_text(text, encoding="utf-8")
    data = tmp_path
    for _ in range(2):
        with pytest.warns(toolkit.errors.SkippedRecordsWarning):
            catalog = toolkit.discover(data / "x.jsonl", on_error="skip", cache=cache)
        assert catalog.table("spans").height == 1
    assert not list(cache.glob("*.parquet")) or all(
        "x.jsonl" not in p.name for p in cache.glob("*.parquet")
    )


def test_the_sample_renamed_and_nested_gives_the_same_tables(tmp_path: Path) -> None:
    names = {
        "traces.jsonl.gz": "a/b/otel-traces-0001",
        "logs.jsonl.gz": "a/logs.data",
        "vllm_metrics.prom.gz": "scrapes/engine.txt.gz",
        "dcgm_metrics.prom.gz": "scrapes/gpus/dump",
        "nvidia_smi.csv.gz": "gpu.log.gz",
        "predictions.csv.gz": "warehouse/scored.csv.gz",
    }
    for source, target in names.items():
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(SAMPLE / source, tmp_path / target)
    catalog = toolkit.discover(tmp_path, tz="UTC")
    formats = dict(catalog.files.select("path", "format").rows())
    assert formats == {
        "a/b/otel-traces-0001": "otlp-json-lines",
        "a/logs.data": "otlp-json-lines",
        "gpu.log.gz": "nvidia-smi",
        "scrapes/engine.txt.gz": "prometheus-text",
        "scrapes/gpus/dump": "dcgm",
        "warehouse/scored.csv.gz": "prediction-log",
    }
    assert catalog.tables == ("spans", "llm_calls", "logs", "metrics", "gpu", "predictions")
    assert catalog.table("spans").equals(toolkit.load_spans(SAMPLE / "traces.jsonl.gz"))
    assert catalog.table("gpu").height == 80648 + 40324
    assert all(s.ok for s in catalog.supports.values())
    period = catalog.period
    assert (str(period[0]), str(period[1])) == (
        "2026-11-02 00:00:00+00:00",
        "2026-11-09 00:00:00+00:00",
    )


@pytest.mark.filterwarnings("ignore:load_spans.*repeat a span id:toolkit.errors.ToolkitWarning")
@pytest.mark.parametrize(
    ("folder", "options", "expected"),
    [
        ("any_agent_genai_traces", {}, {"spans": 37}),
        ("jaeger", {}, {"spans": 8}),
        ("zipkin", {}, {"spans": 224}),
        ("otel_proto_examples", {}, {"spans": 1, "logs": 2, "metrics": 16}),
        (
            "vllm_0_25_1",
            {"tz": "UTC", "year": 2025, "scrape_time": "2025-06-01T00:00:00Z"},
            {"metrics": 435, "logs": 33},
        ),
        ("nvidia_smi_captures", {"tz": "UTC"}, {"gpu": 6}),
        ("nvidia_gpu_exporter_metrics", {"scrape_time": "2025-06-01T00:00:00Z"}, {"gpu": 3}),
        ("azure_llm_2023", {"tz": "UTC"}, {"workload": 19366}),
    ],
)
def test_real_folders(
    real_data: Path, folder: str, options: dict[str, Any], expected: dict[str, int]
) -> None:
    catalog = toolkit.discover(real_data / folder, **options)
    held = {t: catalog.table(t).height for t in catalog.tables if t != "llm_calls"}
    assert held == expected
    loaded = catalog.files.filter(pl.col("status") == "loaded")
    assert loaded["rows"].sum() == sum(expected.values())
    assert loaded["duplicates"].sum() == 0
