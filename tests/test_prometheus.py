"""Tests of the Prometheus text / OpenMetrics reader (toolkit.ingest.prometheus)."""

from __future__ import annotations

import datetime as dt
import gzip
import math
import re
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from toolkit.errors import FormatError, LoadReport, ParameterError, SkippedRecordsWarning
from toolkit.ingest.prometheus import parse_exposition, read_prometheus
from toolkit.schema import METRIC_TYPES, METRICS, validate

T = "2026-11-21T10:00:00Z"
T_NS = int(dt.datetime(2026, 11, 21, 10, tzinfo=dt.UTC).timestamp()) * 10**9
UTC = dt.UTC

VLLM = "vllm_0_25_1/metrics_vllm_0_25_1_loaded.txt"
DCGM = "dcgm_exporter/lke-ai-conformance_README_L404-478_dcgm_metrics.prom"
NVIDIA = "nvidia_gpu_exporter_metrics"

# An independent, deliberately simple reading of an exposition: good enough for the real
# files (no escapes, no timestamps), and written differently from the reader.
_SIMPLE_SAMPLE = re.compile(r"^([^{\s]+)(?:\{(.*)\})?\s+(\S+)$")


def _simple_samples(path: Path) -> list[tuple[str, str, float]]:
    """(name, type from the preceding # TYPE line, value) for every sample line."""
    out: list[tuple[str, str, float]] = []
    current: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith("# TYPE "):
            _, _, fam, typ = line.split(" ")
            current = {"fam": fam, "typ": typ}
            continue
        if not line.strip() or line.startswith("#"):
            continue
        m = _SIMPLE_SAMPLE.match(line)
        assert m is not None, line
        name = m.group(1)
        typ = current["typ"] if name.startswith(current.get("fam", "\x00")) else "unknown"
        out.append((name, typ, float(m.group(3))))
    return out


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------------------
# Real files
# --------------------------------------------------------------------------------------


def _check_against_simple(df: pl.DataFrame, path: Path) -> list[tuple[str, str, float]]:
    expected = _simple_samples(path)
    assert df.height == len(expected)
    assert df["name"].to_list() == [e[0] for e in expected]  # one time: file order kept
    assert df["value"].to_list() == [e[2] for e in expected]
    assert df["type"].to_list() == [e[1] for e in expected]
    return expected


def test_vllm_scrape_matches_an_independent_reading(real_data: Path) -> None:
    path = real_data / VLLM
    df = validate(read_prometheus(path, time=T), METRICS)
    expected = _check_against_simple(df, path)
    assert len(expected) == 435
    assert df["time"].unique().to_list() == [_ts(T)]
    counts = dict(df.group_by("type").len().iter_rows())
    assert counts == {"counter": 34, "gauge": 64, "histogram": 325, "summary": 12}
    assert set(df["type"].unique()) <= set(METRIC_TYPES)
    # Colons in names are kept; every vLLM series carries them.
    text = path.read_text()
    colon_samples = len(re.findall(r"(?m)^vllm:[a-zA-Z0-9_:]+[{ ]", text))
    assert df.filter(pl.col("name").str.starts_with("vllm:")).height == colon_samples == 349
    # A few values read straight from the file.
    for name, labels, value in [
        ("vllm:num_requests_running", {}, 64.0),
        ("vllm:kv_cache_usage_perc", {}, 0.11223878211531546),
        ("vllm:generation_tokens_total", {}, 165293.0),
        ("vllm:request_success_total", {"label.finished_reason": "length"}, 600.0),
        ("http_request_size_bytes_sum", {"label.handler": "/v1/completions"}, 2.022441e06),
        ("process_start_time_seconds", {}, 1.78692899276e09),
    ]:
        line = re.search(rf"(?m)^{re.escape(name)}(?:{{[^\n]*}})? (\S+)$", text)
        assert line is not None
        rows = df.filter(pl.col("name") == name, *(pl.col(k) == v for k, v in labels.items()))
        assert rows["value"].to_list() == [value]
        if not labels:
            assert float(line.group(1)) == value
    # Labels of the vLLM series.
    running = df.filter(pl.col("name") == "vllm:num_requests_running")
    assert running.select("label.model_name", "label.engine").row(0) == ("opt-125m-tp2", "0")
    # _created samples are their own series, typed by their own # TYPE line (gauge here).
    created = df.filter(pl.col("name") == "vllm:prompt_tokens_created")
    assert created.select("type", "value").row(0) == ("gauge", 1.7869290186210754e09)
    assert created["temporality"].to_list() == [None]


def test_vllm_histograms(real_data: Path) -> None:
    path = real_data / VLLM
    text = path.read_text()
    df = read_prometheus(path, time=T)
    families = re.findall(r"(?m)^# TYPE (\S+) histogram$", text)
    assert len(families) == 17
    buckets = df.filter(pl.col("le").is_not_null())
    assert buckets.height == len(re.findall(r"(?m)^\S+_bucket\{", text)) == 287
    assert set(buckets["name"].str.strip_suffix("_bucket").unique()) == set(families)
    assert set(buckets["type"].unique()) == {"histogram"}
    assert buckets["temporality"].unique().to_list() == ["cumulative"]
    assert "label.le" not in df.columns
    # Every +Inf bucket equals its series' _count.
    inf = buckets.filter(pl.col("le") == math.inf).with_columns(
        pl.col("name").str.strip_suffix("_bucket").alias("family")
    )
    counts = df.filter(pl.col("name").str.ends_with("_count"), pl.col("type") == "histogram")
    counts = counts.with_columns(pl.col("name").str.strip_suffix("_count").alias("family"))
    keys = ["family", *(c for c in df.columns if c.startswith("label."))]
    joined = inf.join(counts, on=keys, how="full", nulls_equal=True, suffix="_count")
    n_series = len(re.findall(r'(?m)^\S+_bucket\{[^\n]*le="\+Inf"', text))
    assert joined.height == inf.height == counts.height == n_series == 19  # 17 families, 19 series
    assert joined["value"].to_list() == joined["value_count"].to_list()
    assert joined["value"].null_count() == 0
    e2e = inf.filter(pl.col("family") == "vllm:e2e_request_latency_seconds")
    assert e2e["value"].to_list() == [600.0]
    # The bucket bounds of one family, read from the file.
    bounds = re.findall(r'vllm:e2e_request_latency_seconds_bucket\{engine="0",le="([^"]+)"', text)
    got = df.filter(pl.col("name") == "vllm:e2e_request_latency_seconds_bucket")["le"]
    assert got.to_list() == [float(b) for b in bounds]
    assert bounds[-1] == "+Inf"


def test_dcgm_scrape(real_data: Path) -> None:
    path = real_data / DCGM
    df = validate(read_prometheus(path, time=T), METRICS)
    _check_against_simple(df, path)
    assert df.height == 25
    assert dict(df.group_by("type").len().iter_rows()) == {"gauge": 20, "counter": 5}
    # Empty label values stay empty strings; values with spaces are kept whole.
    assert df["label.pod_uid"].unique().to_list() == [""]
    assert df["label.modelName"].unique().to_list() == ["NVIDIA RTX 4000 Ada Generation"]
    assert df["label.UUID"].unique().to_list() == ["GPU-a8394b51-c086-568a-9f1a-c1e1c934c44c"]
    power = df.filter(pl.col("name") == "DCGM_FI_DEV_POWER_USAGE")
    assert power["value"].to_list() == [40.979]
    energy = df.filter(pl.col("name") == "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")
    assert energy.select("type", "value", "temporality").row(0) == (
        "counter",
        455497156.0,
        "cumulative",
    )
    assert df["unit"].null_count() == 25  # units only from # UNIT, never from help text


def test_nvidia_gpu_exporter_scrapes(real_data: Path) -> None:
    folder = real_data / NVIDIA
    files = sorted(folder.glob("*.metrics"))
    assert len(files) == 3
    report = LoadReport()
    df = validate(read_prometheus(files, time=T, report=report), METRICS)
    assert report.files == [str(f) for f in files]
    assert set(report.formats.values()) == {"prometheus-text"}
    total = 0
    for file in files:
        one = read_prometheus(file, time=T)
        expected = _check_against_simple(one, file)
        total += len(expected)
        info = one.filter(pl.col("name") == "nvidia_smi_gpu_info")
        assert info["value"].to_list() == [1.0]
        assert info["label.driver_version"].to_list() == ["590.48.01"]
        assert info["label.driver_model_current"].to_list() == ["[N/A]"]
        assert one.filter(pl.col("type") == "counter")["name"].to_list() == [
            "nvidia_smi_failed_scrapes_total"
        ]
    assert df.height == total == 132 + 138 + 128 == report.rows
    mig = read_prometheus(folder / "linux-x86_64__nvidia-h100-mig__590.48.01__load.metrics", time=T)
    clock = mig.filter(pl.col("name") == "nvidia_smi_clocks_current_memory_clock_hz")
    assert clock["value"].to_list() == [2.619e09] == [2619000000.0]  # Go %g form
    assert mig.filter(pl.col("name") == "nvidia_smi_gpu_info")["label.name"].to_list() == [
        "NVIDIA H100 80GB HBM3"
    ]


# --------------------------------------------------------------------------------------
# Hand-written edge cases
# --------------------------------------------------------------------------------------


def test_label_escapes_empty_values_and_colons() -> None:
    text = (
        'vllm:cache_config_info{path="C:\\\\models\\\\x",quote="say \\"hi\\"",'
        'multi="a\\nb",odd="tab\\there",pod_uid="",brace="}{"} 1\n'
    )
    df = parse_exposition(text, time=T)
    row = df.row(0, named=True)
    assert row["name"] == "vllm:cache_config_info"
    assert row["label.path"] == "C:\\models\\x"
    assert row["label.quote"] == 'say "hi"'
    assert row["label.multi"] == "a\nb"
    assert row["label.odd"] == "tab\\there"  # unknown escapes are kept, as Prometheus does
    assert row["label.pod_uid"] == ""
    assert row["label.brace"] == "}{"
    assert row["type"] == "unknown"


def test_special_values_and_go_floats() -> None:
    text = "a +Inf\nb -Inf\nc NaN\nd 2.619e+09\r\ne -1.5E-3\r\nf 42"  # CRLF, no final newline
    df = parse_exposition(text, time=T)
    values = dict(zip(df["name"], df["value"], strict=True))
    assert values["a"] == math.inf
    assert values["b"] == -math.inf
    assert math.isnan(values["c"])
    assert values["d"] == 2619000000.0
    assert values["e"] == -0.0015
    assert values["f"] == 42.0


def test_types_help_and_families() -> None:
    text = """# HELP up Whether the target is up.
# TYPE up gauge
up 1
# TYPE legacy untyped
legacy 3
no_type_line 4
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.2
rpc_seconds{quantile="0.99"} 0.9
rpc_seconds_sum 17
rpc_seconds_count 40
# TYPE http_requests_total counter
http_requests_total{code="200"} 1027
# TYPE g gauge
g_count 2
"""
    df = validate(parse_exposition(text, time=T), METRICS)
    got = {
        (r["name"], r["label.quantile"]): (r["type"], r["temporality"])
        for r in df.iter_rows(named=True)
    }
    assert got == {
        ("up", None): ("gauge", None),
        ("legacy", None): ("unknown", None),
        ("no_type_line", None): ("unknown", None),
        ("rpc_seconds", "0.5"): ("summary", None),
        ("rpc_seconds", "0.99"): ("summary", None),
        ("rpc_seconds_sum", None): ("summary", "cumulative"),
        ("rpc_seconds_count", None): ("summary", "cumulative"),
        ("http_requests_total", None): ("counter", "cumulative"),
        ("g_count", None): ("unknown", None),  # _count is not a gauge's sample
    }
    assert df["le"].null_count() == df.height


def test_openmetrics_families_units_timestamps_and_exemplars() -> None:
    text = """# TYPE request_seconds histogram
# UNIT request_seconds seconds
# HELP request_seconds How long requests took.
request_seconds_bucket{le="0.5"} 3 1763719200.25 # {trace_id="a"} 0.3 1763719200.1
request_seconds_bucket{le="+Inf"} 5 1763719200.25
request_seconds_count 5 1763719200.25
request_seconds_sum 4.5 1763719200.25
request_seconds_created 1763719000.5 1763719200.25
# TYPE tokens counter
tokens_total 10 1.7637192e9
tokens_created 1763719000 1.7637192e9
# TYPE build info
build_info{version="1.2"} 1 1763719200.000000001
# TYPE state stateset
state{state="ok"} 1 1763719200
# EOF
"""
    df = validate(parse_exposition(text), METRICS)
    rows = {r["name"] + str(r["le"]): r for r in df.iter_rows(named=True)}
    start = dt.datetime(2025, 11, 21, 10, tzinfo=UTC)
    assert int(start.timestamp()) == 1763719200
    quarter = start + dt.timedelta(milliseconds=250)
    assert rows["request_seconds_bucket0.5"]["time"] == quarter  # exemplar ignored
    assert rows["request_seconds_bucket0.5"]["value"] == 3.0
    assert rows["request_seconds_bucketinf"]["value"] == 5.0
    for name in (
        "request_seconds_bucket0.5",
        "request_seconds_sumNone",
        "request_seconds_createdNone",
    ):
        assert rows[name]["type"] == "histogram"
        assert rows[name]["unit"] == "seconds"
    assert rows["request_seconds_createdNone"]["temporality"] is None
    assert rows["tokens_totalNone"]["type"] == "counter"
    assert rows["tokens_totalNone"]["time"] == start  # 1.7637192e9 seconds, exponent form
    assert rows["tokens_createdNone"]["type"] == "counter"
    assert rows["build_infoNone"]["type"] == "info"
    assert rows["stateNone"]["type"] == "stateset"
    # Nanoseconds are kept exactly.
    ns = df.filter(pl.col("name") == "build_info")["time"].cast(pl.Int64).item()
    assert ns == 1763719200 * 10**9 + 1
    # Sorted by time.
    assert df["time"].is_sorted()


def test_prometheus_millisecond_timestamps_and_time_precedence() -> None:
    text = "a 1 1763719200123\nb 2\nc 3 -1000\n"
    df = parse_exposition(text, time="2026-11-21T11:00:00+01:00")
    times = dict(zip(df["name"], df["time"], strict=True))
    assert times["a"] == dt.datetime(2025, 11, 21, 10, 0, 0, 123000, tzinfo=UTC)
    assert times["b"] == dt.datetime(2026, 11, 21, 10, tzinfo=UTC)  # time= in UTC
    assert times["c"] == dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert df["name"].to_list() == ["c", "a", "b"]  # sorted by time


def test_time_parameter_accepts_aware_datetimes_only() -> None:
    aware = dt.datetime(2026, 11, 21, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    df = parse_exposition("x 1\n", time=aware)
    assert df["time"].cast(pl.Int64).item() == T_NS
    ts = pd.Timestamp("2026-11-21T10:00:00.000000007Z")
    assert parse_exposition("x 1\n", time=ts)["time"].cast(pl.Int64).item() == T_NS + 7
    with pytest.raises(ParameterError, match="naive datetime '2026-11-21T10:00:00'"):
        parse_exposition("x 1\n", time=dt.datetime(2026, 11, 21, 10))
    with pytest.raises(ParameterError, match="has no time zone"):
        parse_exposition("x 1\n", time="2026-11-21T10:00:00")
    with pytest.raises(ParameterError, match="'time' parameter of parse_exposition"):
        parse_exposition("x 1\n", time="yesterday")


def test_missing_time_names_file_line_and_remedy(tmp_path: Path) -> None:
    with pytest.raises(FormatError) as info:
        parse_exposition("# TYPE x gauge\nx 1\n", path="scrape.prom")
    message = str(info.value)
    assert message.startswith("scrape.prom, line 2: the sample 'x' has no timestamp")
    assert "pass time=" in message
    file = tmp_path / "scrape.prom"
    file.write_text("x 1\n")
    with pytest.raises(FormatError) as info:
        read_prometheus(file)
    message = str(info.value)
    assert message.startswith(f"{file}, line 1:")
    assert "name the file with its scrape time" in message
    naive = tmp_path / "scrape-2026-11-21T10:00:00.prom"
    naive.write_text("x 1\n")
    with pytest.raises(FormatError, match="without a time zone"):
        read_prometheus(naive)


def test_directory_of_timestamped_scrapes(tmp_path: Path) -> None:
    names_and_times = {
        # name order differs from time order on purpose
        "a-2026-11-21T10:03:00Z.prom": dt.datetime(2026, 11, 21, 10, 3, tzinfo=UTC),
        "b-2026-11-21T10-01-00Z.prom": dt.datetime(2026, 11, 21, 10, 1, tzinfo=UTC),
        "c-20261121T100000Z.prom": dt.datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        "d-2026-11-21T11:02:00+01:00.txt": dt.datetime(2026, 11, 21, 10, 2, tzinfo=UTC),
        f"e-{int(dt.datetime(2026, 11, 21, 10, 4, tzinfo=UTC).timestamp())}.prom.gz": dt.datetime(
            2026, 11, 21, 10, 4, tzinfo=UTC
        ),
        "f-1763719500.5.prom": dt.datetime(2025, 11, 21, 10, 5, 0, 500000, tzinfo=UTC),
        "g.1763719560.prom": dt.datetime(2025, 11, 21, 10, 6, tzinfo=UTC),
    }
    for i, name in enumerate(names_and_times):
        body = f'# TYPE reqs counter\nreqs_total{{pod="p"}} {i}\n'.encode()
        (tmp_path / name).write_bytes(gzip.compress(body) if name.endswith(".gz") else body)
    report = LoadReport()
    df = validate(read_prometheus(tmp_path, report=report), METRICS)
    assert df.height == 7
    assert df["time"].to_list() == sorted(names_and_times.values())
    by_time = dict(zip(df["time"], df["value"], strict=True))
    for i, when in enumerate(names_and_times.values()):
        assert by_time[when] == float(i)
    assert len(report.files) == 7
    assert report.rows == 7
    # time= wins over the names.
    fixed = read_prometheus(tmp_path, time=T)
    assert fixed["time"].unique().to_list() == [_ts(T)]


def test_file_name_with_two_timestamps_is_an_error(tmp_path: Path) -> None:
    file = tmp_path / "2026-11-21T10:00:00Z-1763719200.prom"
    file.write_text("x 1\n")
    with pytest.raises(FormatError, match=r"line 1: .*several different timestamps"):
        read_prometheus(file)
    # Only an error when a sample needs the name's time.
    file.write_text("x 1 1763719200000\n")
    assert read_prometheus(file)["time"].cast(pl.Int64).to_list() == [1763719200 * 10**9]
    bad_date = tmp_path / "2026-13-40T10:00:00Z.prom"
    bad_date.write_text("x 1\n")
    with pytest.raises(FormatError, match="not a valid time"):
        read_prometheus(bad_date)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("ok 1\nok2 2\nfoo{a=1} 2\n", 3, "malformed labels {a=1}"),
        ("x 1\ny\n", 2, "malformed sample line"),
        ("x one\n", 1, "sample value 'one' is not a number"),
        ("x 1 1763719200.5\n", 1, "must end with a '# EOF' line"),
        ("# TYPE x blah\nx 1\n", 1, "malformed '# TYPE' line"),
        ("# TYPE x gauge\n# TYPE x counter\nx 1\n", 2, "second '# TYPE' line for 'x'"),
        ('x{a="1",a="2"} 1\n', 1, "label 'a' appears more than once"),
        ('x_bucket{le="big"} 1\n', 1, "the 'le' label"),
        ('x{a="1"} 1\nx{a="1"} 2\n', 2, "duplicate sample"),
        ("x 1\n# EOF\ny 2\n", 3, "content after the '# EOF' line"),
        ("x 1 1e99\n# EOF\n", 1, "outside the range"),
        ('{"x.y"} 1\n', 1, "malformed sample line"),
    ],
)
def test_malformed_lines_name_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(FormatError) as info:
        parse_exposition(text, time=T, path="bad.prom")
    assert str(info.value).startswith(f"bad.prom, line {line}: ")
    assert fragment in str(info.value)
    assert info.value.line == line
    assert len(str(info.value)) < 400


def test_long_bad_lines_are_previewed() -> None:
    with pytest.raises(FormatError) as info:
        parse_exposition("x " + "9" * 5000 + "z\n", time=T)
    assert len(str(info.value)) < 300


def test_skip_counts_and_reports_bad_lines(tmp_path: Path) -> None:
    file = tmp_path / "scrape.prom"
    file.write_text("good 1\nbad{ 2\nalso_good 3\nworse nan-ish\n")
    report = LoadReport()
    with pytest.warns(SkippedRecordsWarning) as caught:
        df = read_prometheus(file, time=T, on_error="skip", report=report)
    assert df["name"].to_list() == ["good", "also_good"]
    warning = caught[0].message
    assert isinstance(warning, SkippedRecordsWarning)
    assert [s.where for s in warning.skipped] == [f"{file}, line 2", f"{file}, line 4"]
    assert "skipped 2 line(s)" in str(warning)
    assert report.skipped == list(warning.skipped)
    assert report.rows == 2


def test_not_text_is_an_error(tmp_path: Path) -> None:
    file = tmp_path / "scrape.bin"
    file.write_bytes(b"x 1\n\xff\xfe\x00binary")
    with pytest.raises(FormatError, match=r"line 2: the file is not UTF-8 text"):
        read_prometheus(file, time=T)


def test_parameters_are_checked(tmp_path: Path) -> None:
    file = tmp_path / "s.prom"
    file.write_text("x 1\n")
    with pytest.raises(ParameterError, match="'on_error' parameter of read_prometheus"):
        read_prometheus(file, time=T, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="'backend' parameter of read_prometheus"):
        read_prometheus(file, time=T, backend="arrow")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="does not exist"):
        read_prometheus(tmp_path / "missing.prom", time=T)


def test_backends(tmp_path: Path, backend: str) -> None:
    file = tmp_path / "s.prom"
    file.write_text('# TYPE x gauge\nx{a="1"} 1.5\n')
    out = read_prometheus(file, time=T, backend=backend)  # type: ignore[arg-type]
    if backend == "pandas":
        assert isinstance(out, pd.DataFrame)
    else:
        assert isinstance(out, pl.DataFrame)
    df = validate(out, METRICS)
    assert df.select("name", "type", "value", "label.a").row(0) == ("x", "gauge", 1.5, "1")
    assert df.columns[: len(METRICS.names)] == METRICS.names


def test_empty_exposition_gives_an_empty_table() -> None:
    df = parse_exposition("# HELP x nothing yet\n# TYPE x gauge\n\n", time=T)
    assert df.height == 0
    assert df.columns == METRICS.names
    validate(df, METRICS, strict=True)
