"""Tests of toolkit.ingest.logs: JSON-lines application logs and plain-text (vLLM) logs."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from toolkit.errors import (
    FormatError,
    LoadReport,
    ParameterError,
    SkippedRecordsWarning,
    TypePromotionWarning,
)
from toolkit.ingest.logs import read_json_logs, read_text_logs
from toolkit.schema import LOGS, validate

VLLM_DIR = "vllm_0_25_1"
MAX_LEN_LOG = "vllm_serve_max_model_len_rejected_v0.25.1.log"
KV_LOG = "vllm_serve_no_kv_cache_memory_v0.25.1.log"

# Independent of the reader: vLLM's header, after the optional "(Name pid=N) " tag.
HEADER = re.compile(
    r"^(?:\((?P<tag>[^()]*pid=\d+[^()]*)\) )?"
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d \[[^\]]+\]"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _raw_lines(path: Path) -> list[str]:
    lines = path.read_bytes().decode("utf-8").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def _record_starts(lines: list[str]) -> list[int]:
    """Indexes of lines that start a record, by hand.

    A header line starts a record unless the line before it ends in CR and carries the
    same header (vLLM's NewLineFormatter repeating the prefix on each line of one message).
    """
    starts = []
    for i, line in enumerate(lines):
        m = HEADER.match(line)
        if not m:
            continue
        if i > 0 and lines[i - 1].endswith("\r"):
            prev = HEADER.match(lines[i - 1])
            if prev and prev.group(0) == m.group(0):
                continue
        starts.append(i)
    return starts


# --- real vLLM logs ---------------------------------------------------------------------


@pytest.mark.real_data
@pytest.mark.parametrize(
    ("name", "records", "first_time", "levels"),
    [
        (MAX_LEN_LOG, 5, datetime(2025, 8, 18, 2, 57, 50, tzinfo=UTC), {"INFO": 5}),
        (
            KV_LOG,
            28,
            datetime(2025, 8, 18, 2, 56, 53, tzinfo=UTC),
            {"INFO": 22, "WARNING": 4, "ERROR": 2},
        ),
    ],
)
def test_real_vllm_logs_records_times_levels(
    real_data: Path, name: str, records: int, first_time: datetime, levels: dict[str, int]
) -> None:
    path = real_data / VLLM_DIR / name
    lines = _raw_lines(path)
    starts = _record_starts(lines)
    assert len(starts) == records  # the hand count agrees with the known number
    hand_levels = Counter(HEADER.match(lines[i])["level"] for i in starts)  # type: ignore[index]
    assert dict(hand_levels) == levels

    logs = read_text_logs(path, year=2025, tz="UTC")
    validate(logs, LOGS)
    assert logs.height == records
    assert logs["time"][0] == first_time
    assert dict(Counter(logs["severity_text"].to_list())) == levels
    expected_numbers = {"INFO": 9, "WARNING": 13, "ERROR": 17}
    assert logs["severity_number"].to_list() == [
        expected_numbers[t] for t in logs["severity_text"].to_list()
    ]
    assert logs["observed_time"].null_count() == records
    # No line is lost: every line's text is in some body (bodies hold the messages, the
    # continuation lines without their process tag).
    total_pieces = sum(body.count("\n") + 1 for body in logs["body"].to_list())
    assert total_pieces == len(lines)
    # The first record: untagged, importing.py:88.
    first = logs.row(0, named=True)
    assert first["attributes.code.file.path"] == "importing.py"
    assert first["attributes.code.line.number"] == 88
    assert first["attributes.vllm.process"] is None
    assert first["body"].startswith("Triton not installed or not compatible")
    second = logs.row(1, named=True)
    assert (second["attributes.vllm.process"], second["attributes.process.pid"]) == (
        "APIServer",
        1,
    )
    assert second["attributes.code.file.path"] == "api_utils.py"
    assert second["attributes.code.line.number"] == 339
    assert logs["attributes.log.file.name"].unique().to_list() == [name]


@pytest.mark.real_data
def test_real_vllm_banner_is_one_record(real_data: Path) -> None:
    path = real_data / VLLM_DIR / KV_LOG
    banner_lines = [
        line for line in _raw_lines(path) if "INFO 08-18 02:56:55 [api_utils.py:339]" in line
    ]
    assert len(banner_lines) == 6
    logs = read_text_logs(path, year=2025, tz="UTC")
    banner = logs.filter(pl.col("attributes.code.line.number") == 339)
    assert banner.height == 1
    body = banner["body"][0]
    assert body.count("\n") == 5
    assert "version 0.25.1" in body
    assert "model   facebook/opt-125m" in body
    assert banner["event_name"][0] == "vllm.server.start"


@pytest.mark.real_data
def test_real_vllm_error_record_holds_its_traceback(real_data: Path) -> None:
    path = real_data / VLLM_DIR / KV_LOG
    lines = _raw_lines(path)
    error_lines = [line for line in lines if "ERROR 08-18 02:57:12 [core.py:1231]" in line]
    assert len(error_lines) == 24  # one message, written as 24 CR-joined lines
    logs = read_text_logs(path, year=2025, tz="UTC")
    errors = logs.filter(pl.col("severity_text") == "ERROR")
    assert errors.height == 2
    record = errors.filter(pl.col("attributes.code.line.number") == 1231).row(0, named=True)
    body_lines = record["body"].split("\n")
    assert len(body_lines) == 24
    assert body_lines[0] == "EngineCore failed to start."
    assert body_lines[1] == "Traceback (most recent call last):"
    assert body_lines[-1].startswith("ValueError: No available memory for the cache blocks.")
    prefix = "(EngineCore pid=25) ERROR 08-18 02:57:12 [core.py:1231] "
    assert body_lines == [line.removeprefix(prefix).removesuffix("\r") for line in error_lines]
    assert record["event_name"] == "vllm.error.kv_cache_memory"
    # Tracebacks never become records of their own.
    firsts = [b.split("\n", 1)[0] for b in logs["body"].to_list()]
    assert not any(f.startswith(("Traceback", "  File ", "ValueError")) for f in firsts)


@pytest.mark.real_data
def test_real_vllm_untagged_traceback_joins_its_process(real_data: Path) -> None:
    path = real_data / VLLM_DIR / KV_LOG
    lines = _raw_lines(path)
    tb_start = "(APIServer pid=1) Traceback (most recent call last):"
    assert sum(line == tb_start for line in lines) == 1
    logs = read_text_logs(path, year=2025, tz="UTC")
    # The APIServer's traceback is printed after EngineCore lines; it joins the latest
    # APIServer record (compilation.py:312), not the EngineCore record before it.
    api = logs.filter(pl.col("attributes.code.file.path") == "compilation.py").row(0, named=True)
    assert api["attributes.vllm.process"] == "APIServer"
    assert "RuntimeError: Engine core initialization failed." in api["body"]
    assert api["event_name"] == "vllm.engine.start_failed"
    engine = logs.filter(pl.col("attributes.code.line.number") == 426).row(0, named=True)
    assert engine["body"].split("\n")[1] == "Process EngineCore:"
    assert "RuntimeError" not in engine["body"]


@pytest.mark.real_data
@pytest.mark.parametrize(
    ("name", "events"),
    [
        (MAX_LEN_LOG, {"vllm.server.start": 1, "vllm.error.max_model_len": 1}),
        (
            KV_LOG,
            {
                "vllm.server.start": 1,
                "vllm.engine.start": 1,
                "vllm.engine.start_failed": 1,
                "vllm.error.kv_cache_memory": 2,
            },
        ),
    ],
)
def test_real_vllm_event_names(real_data: Path, name: str, events: dict[str, int]) -> None:
    logs = read_text_logs(real_data / VLLM_DIR / name, year=2025, tz="UTC")
    found = Counter(e for e in logs["event_name"].to_list() if e is not None)
    assert dict(found) == events


@pytest.mark.real_data
def test_real_vllm_max_model_len_traceback(real_data: Path) -> None:
    path = real_data / VLLM_DIR / MAX_LEN_LOG
    lines = _raw_lines(path)
    upcasting = next(i for i, line in enumerate(lines) if "Upcasting torch.float16" in line)
    after = len(lines) - upcasting - 1  # the uncaught traceback printed after it
    logs = read_text_logs(path, year=2025, tz="UTC")
    last = logs.row(-1, named=True)
    assert last["body"].startswith("Upcasting torch.float16 to torch.float32.\nTraceback")
    assert last["body"].count("\n") == after
    assert "is greater than the derived max_model_len" in last["body"]
    assert last["event_name"] == "vllm.error.max_model_len"


@pytest.mark.real_data
def test_real_vllm_pandas_backend_and_report(real_data: Path) -> None:
    path = real_data / VLLM_DIR / MAX_LEN_LOG
    report = LoadReport()
    frame = read_text_logs(path, year=2025, tz="UTC", backend="pandas", report=report)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 5
    assert report.rows == 5
    assert report.formats == {str(path): "text logs (vllm)"}
    validate(frame, LOGS)


@pytest.mark.real_data
def test_real_vllm_requires_year_and_tz(real_data: Path) -> None:
    path = real_data / VLLM_DIR / MAX_LEN_LOG
    with pytest.raises(ParameterError, match=r"The 'year' parameter of read_text_logs must be"):
        read_text_logs(path, tz="UTC")
    with pytest.raises(ParameterError, match=r"current year is never assumed\. Got None"):
        read_text_logs(path, tz="UTC")
    with pytest.raises(ParameterError, match=r"The 'tz' parameter of read_text_logs must"):
        read_text_logs(path, year=2025)


# --- hand-written text logs -------------------------------------------------------------

STATS_V1 = (
    "(APIServer pid=7) INFO 08-18 03:00:05 [loggers.py:123] Engine 000: Avg prompt throughput: "
    "0.0 tokens/s, Avg generation throughput: 12.3 tokens/s, Running: 1 reqs, Waiting: 0 reqs, "
    "GPU KV cache usage: 0.5%, Prefix cache hit rate: 0.0%\n"
)
STATS_V0 = (
    "INFO 08-18 03:00:15 metrics.py:351] Avg prompt throughput: 512.4 tokens/s, Avg generation "
    "throughput: 33.1 tokens/s, Running: 4 reqs, Swapped: 0 reqs, Pending: 3 reqs, GPU KV cache "
    "usage: 41.7%, CPU KV cache usage: 0.0%.\n"
)


def test_vllm_throughput_line_parsed(tmp_path: Path) -> None:
    path = _write(tmp_path, "serve.log", STATS_V1 + STATS_V0)
    logs = read_text_logs(path, year=2025, tz="UTC")
    validate(logs, LOGS)
    assert logs["event_name"].to_list() == ["vllm.stats.throughput"] * 2
    v1, v0 = logs.rows(named=True)
    assert v1["attributes.vllm.engine_index"] == 0
    assert v1["attributes.vllm.avg_prompt_throughput_tokens_per_s"] == 0.0
    assert v1["attributes.vllm.avg_generation_throughput_tokens_per_s"] == 12.3
    assert v1["attributes.vllm.num_requests_running"] == 1
    assert v1["attributes.vllm.num_requests_waiting"] == 0
    assert v1["attributes.vllm.gpu_kv_cache_usage_pct"] == 0.5
    assert v1["attributes.vllm.prefix_cache_hit_rate_pct"] == 0.0
    assert v1["attributes.vllm.num_requests_swapped"] is None
    assert v1["attributes.process.pid"] == 7
    assert v1["attributes.code.file.path"] == "loggers.py"
    # v0: "file.py:line]" without the opening bracket; "Pending" is the waiting queue.
    assert v0["attributes.vllm.engine_index"] is None
    assert v0["attributes.vllm.avg_prompt_throughput_tokens_per_s"] == 512.4
    assert v0["attributes.vllm.avg_generation_throughput_tokens_per_s"] == 33.1
    assert v0["attributes.vllm.num_requests_running"] == 4
    assert v0["attributes.vllm.num_requests_waiting"] == 3
    assert v0["attributes.vllm.num_requests_swapped"] == 0
    assert v0["attributes.vllm.gpu_kv_cache_usage_pct"] == 41.7
    assert v0["attributes.vllm.cpu_kv_cache_usage_pct"] == 0.0
    assert v0["attributes.code.line.number"] == 351
    assert logs.schema["attributes.vllm.num_requests_running"] == pl.Int64
    assert logs.schema["attributes.vllm.gpu_kv_cache_usage_pct"] == pl.Float64
    assert logs["time"].to_list() == [
        datetime(2025, 8, 18, 3, 0, 5, tzinfo=UTC),
        datetime(2025, 8, 18, 3, 0, 15, tzinfo=UTC),
    ]


def test_vllm_cr_continuation_versus_repeated_lines(tmp_path: Path) -> None:
    text = (
        "(APIServer pid=1) INFO 08-18 03:00:00 [serve.py:10] first line\r\n"
        "(APIServer pid=1) INFO 08-18 03:00:00 [serve.py:10]   second line\n"
        # Same header without CR: two log calls, two records.
        "(APIServer pid=1) INFO 08-18 03:00:00 [serve.py:10] another call\n"
        "(APIServer pid=1) INFO 08-18 03:00:00 [serve.py:10] and another\n"
    )
    logs = read_text_logs(_write(tmp_path, "a.log", text), year=2025, tz="UTC")
    assert logs["body"].to_list() == ["first line\n  second line", "another call", "and another"]


def test_vllm_interleaved_processes(tmp_path: Path) -> None:
    text = (
        "(EngineCore pid=25) ERROR 08-18 03:00:00 [core.py:1] engine failed\n"
        "(APIServer pid=1) INFO 08-18 03:00:00 [api.py:2] waiting\n"
        "(EngineCore pid=25) Traceback (most recent call last):\n"
        "(EngineCore pid=25) ValueError: bad\n"
        "plain stderr line\n"
    )
    logs = read_text_logs(_write(tmp_path, "a.log", text), year=2025, tz="UTC")
    assert logs["body"].to_list() == [
        "engine failed\nTraceback (most recent call last):\nValueError: bad\nplain stderr line",
        "waiting",
    ]
    assert logs["attributes.vllm.process"].to_list() == ["EngineCore", "APIServer"]


def test_vllm_year_rollover_and_time_zone(tmp_path: Path) -> None:
    text = (
        "INFO 12-31 23:59:59 [a.py:1] last of the year\n"
        "INFO 01-01 00:00:01 [a.py:1] first of the next\n"
    )
    path = _write(tmp_path, "a.log", text)
    logs = read_text_logs(path, year=2025, tz="UTC")
    assert logs["time"].to_list() == [
        datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC),
    ]
    paris = read_text_logs(path, year=2025, tz="Europe/Paris")
    assert paris["time"][0] == datetime(2025, 12, 31, 22, 59, 59, tzinfo=UTC)


def test_vllm_bad_date_names_file_and_line(tmp_path: Path) -> None:
    text = "INFO 08-18 03:00:00 [a.py:1] ok\nINFO 02-30 03:00:00 [a.py:1] no such day\n"
    path = _write(tmp_path, "bad.log", text)
    with pytest.raises(FormatError) as info:
        read_text_logs(path, year=2025, tz="UTC")
    message = str(info.value)
    assert message.startswith(f"{path}, line 2, column 'time': expected a time like")
    assert "'02-30 03:00:00'" in message
    assert info.value.line == 2


def test_text_before_first_record_raise_and_skip(tmp_path: Path) -> None:
    text = "some banner\nmore banner\nINFO 08-18 03:00:00 [a.py:1] ok\n"
    path = _write(tmp_path, "a.log", text)
    with pytest.raises(FormatError, match=r"a\.log, line 1: text before the first record: 2 line"):
        read_text_logs(path, year=2025, tz="UTC")
    report = LoadReport()
    with pytest.warns(SkippedRecordsWarning) as record:
        logs = read_text_logs(path, year=2025, tz="UTC", on_error="skip", report=report)
    assert logs["body"].to_list() == ["ok"]
    assert len(record) == 1
    assert len(record[0].message.skipped) == 1  # type: ignore[union-attr]
    assert len(report.skipped) == 1
    assert "line 1" in report.skipped[0].where


def test_custom_pattern_with_trace_ids(tmp_path: Path) -> None:
    pattern = (
        r"^(?P<time>\S+) (?P<level>[A-Z]+) trace=(?P<trace_id>\w*) (?P<code__lineno>\d+) "
        r"(?P<message>.*)$"
    )
    text = (
        "2025-08-18T02:56:55.250+02:00 INFO trace=4BF92F3577B34DA6A3CE929D0E0E4736 12 hello\n"
        "  continued\n"
        "2025-08-18T01:00:00Z ERROR trace=0 13 no trace here\n"
    )
    logs = read_text_logs(_write(tmp_path, "c.log", text), pattern=pattern)
    validate(logs, LOGS)
    assert logs["time"].to_list() == [
        datetime(2025, 8, 18, 0, 56, 55, 250000, tzinfo=UTC),
        datetime(2025, 8, 18, 1, 0, 0, tzinfo=UTC),
    ]
    assert logs["trace_id"].to_list() == ["4bf92f3577b34da6a3ce929d0e0e4736", None]
    assert logs["body"].to_list() == ["hello\n  continued", "no trace here"]
    assert logs["severity_number"].to_list() == [9, 17]
    assert logs["attributes.code.lineno"].to_list() == ["12", "13"]  # regex groups are text


def test_custom_pattern_parameter_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.log", "x\n")
    with pytest.raises(ParameterError, match=r"named groups 'time' and 'message'"):
        read_text_logs(path, pattern="nginx")
    with pytest.raises(ParameterError, match=r"Rust regex syntax"):
        read_text_logs(path, pattern=r"(?<=x)(?P<time>\d+) (?P<message>.*)")
    with pytest.raises(ParameterError, match=r"The 'year' parameter of read_text_logs is only"):
        read_text_logs(path, pattern=r"(?P<time>\S+) (?P<message>.*)", year=2025)
    with pytest.raises(ParameterError, match=r"The 'on_error' parameter of read_text_logs must"):
        read_text_logs(path, year=2025, tz="UTC", on_error="ignore")  # type: ignore[arg-type]


def test_unknown_text_level_raises(tmp_path: Path) -> None:
    pattern = r"^(?P<time>\S+) (?P<level>\w+) (?P<message>.*)$"
    path = _write(tmp_path, "c.log", "2025-08-18T00:00:00Z info ok\n2025-08-18T00:00:01Z LOUD hi\n")
    with pytest.raises(FormatError, match=r"c\.log, line 2, column 'level': unknown level 'LOUD'"):
        read_text_logs(path, pattern=pattern)
    logs = read_text_logs(path, pattern=pattern, levels={"loud": 14})
    assert logs["severity_number"].to_list() == [9, 14]


# --- JSON lines -------------------------------------------------------------------------


def test_json_auto_detects_common_loggers(tmp_path: Path) -> None:
    lines = [
        # structlog
        '{"event": "user signed in", "level": "info", "timestamp": "2025-08-18T02:56:55.123456Z",'
        ' "logger": "auth", "user_id": 42}',
        # python-json-logger with OpenTelemetry logging instrumentation (naive asctime)
        '{"asctime": "2025-08-18 04:56:56,250", "levelname": "WARNING", "message": "slow",'
        ' "otelTraceID": "4BF92F3577B34DA6A3CE929D0E0E4736", "otelSpanID": "00F067AA0BA902B7",'
        ' "otelServiceName": "gateway", "user_id": 7}',
        # ECS, nested
        '{"@timestamp": "2025-08-18T02:56:57+00:00", "log": {"level": "error"},'
        ' "message": "boom", "trace": {"id": "a3ce929d0e0e4736"}, "service": {"name": "rag"},'
        ' "http": {"status": 500}}',
    ]
    path = _write(tmp_path, "app.jsonl", "\n".join(lines) + "\n")
    logs = read_json_logs(path, tz="Europe/Paris")
    validate(logs, LOGS)
    assert logs["time"].to_list() == [
        datetime(2025, 8, 18, 2, 56, 55, 123456, tzinfo=UTC),
        datetime(2025, 8, 18, 2, 56, 56, 250000, tzinfo=UTC),  # Paris is UTC+2 in August
        datetime(2025, 8, 18, 2, 56, 57, tzinfo=UTC),
    ]
    assert logs["severity_number"].to_list() == [9, 13, 17]
    assert logs["severity_text"].to_list() == ["info", "WARNING", "error"]
    assert logs["body"].to_list() == ["user signed in", "slow", "boom"]
    assert logs["trace_id"].to_list() == [
        None,
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "0000000000000000a3ce929d0e0e4736",  # 16 hex digits: zero-padded
    ]
    assert logs["span_id"].to_list() == [None, "00f067aa0ba902b7", None]
    assert logs["service_name"].to_list() == [None, "gateway", "rag"]
    assert logs["scope_name"].to_list() == ["auth", None, None]
    assert logs["attributes.user_id"].to_list() == [42, 7, None]
    assert logs["attributes.http.status"].to_list() == [None, None, 500]
    assert "attributes.otelTraceID" not in logs.columns
    assert logs["attributes.log.file.name"].to_list() == ["app.jsonl"] * 3


def test_json_pino_and_zap_epochs(tmp_path: Path) -> None:
    pino = _write(
        tmp_path,
        "pino.jsonl",
        '{"level":30,"time":1755478615123,"pid":1,"hostname":"h","msg":"ok"}\n'
        '{"level":50,"time":1755478616000,"pid":1,"hostname":"h","msg":"bad","err":{"type":"E"}}\n',
    )
    logs = read_json_logs(pino)
    expected = datetime.fromtimestamp(1755478615, tz=UTC).replace(microsecond=123000)
    assert logs["time"][0] == expected
    assert logs["severity_number"].to_list() == [9, 17]
    assert logs["severity_text"].to_list() == ["30", "50"]
    assert logs["attributes.err.type"].to_list() == [None, "E"]
    zap = _write(
        tmp_path,
        "zap.jsonl",
        '{"level":"info","ts":1755478615.123456,"caller":"main.go:12","msg":"hi"}\n'
        '{"level":"dpanic","ts":1755478615,"caller":"main.go:13","msg":"odd"}\n',
    )
    logs = read_json_logs(zap)
    # Exact to the microsecond: the float is read through its decimal form, not * 1e9.
    assert logs["time"].dt.epoch("ns").to_list() == [1755478615123456000, 1755478615000000000]
    assert logs["severity_number"].to_list() == [9, 18]


def test_json_epoch_units_must_be_unambiguous(tmp_path: Path) -> None:
    small = _write(tmp_path, "small.jsonl", '{"time": 1, "msg": "a"}\n{"time": 12345}\n')
    with pytest.raises(FormatError) as info:
        read_json_logs(small)
    assert str(info.value).startswith(f"{small}, line 1, column 'time': the epoch number 1 is not")
    assert "pass time_unit=" in str(info.value)
    logs = read_json_logs(small, time_unit="s")
    assert logs["time"].dt.epoch("ns").to_list() == [1_000_000_000, 12345_000_000_000]
    assert logs["body"].to_list() == ["a", None]
    mixed = _write(
        tmp_path, "mixed.jsonl", '{"time": 1755478615, "msg": "s"}\n{"time": 1755478615000}\n'
    )
    with pytest.raises(FormatError, match=r"line 2, column 'time': .* looks like ms but the"):
        read_json_logs(mixed)
    assert read_json_logs(mixed, time_unit="ms")["time"][1] == datetime.fromtimestamp(
        1755478615, tz=UTC
    )


def test_json_naive_time_needs_tz(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.jsonl", '{"time": "2025-08-18T02:56:55", "msg": "a"}\n')
    with pytest.raises(FormatError, match=r"a\.jsonl, line 1, column 'time': naive timestamp"):
        read_json_logs(path)
    assert read_json_logs(path, tz="UTC")["time"][0] == datetime(2025, 8, 18, 2, 56, 55, tzinfo=UTC)
    bad = _write(tmp_path, "b.jsonl", '{"time": "18/08/2025 02:56", "msg": "a"}\n')
    with pytest.raises(FormatError, match=r"line 1, column 'time': expected an ISO-8601"):
        read_json_logs(bad)
    missing = _write(tmp_path, "c.jsonl", '{"when": "2025-08-18T02:56:55Z", "msg": "a"}\n')
    with pytest.raises(FormatError, match=r"line 1: no time field \(looked for 'time', "):
        read_json_logs(missing)
    logs = read_json_logs(missing, time_field="when", message_field="msg")
    assert logs["body"].to_list() == ["a"]
    assert "attributes.when" not in logs.columns


def test_json_malformed_line_raise_and_skip(tmp_path: Path) -> None:
    text = (
        '{"time": "2025-08-18T02:56:55Z", "msg": "a"}\n'
        '{"time": "2025-08-18T02:56:56Z", "msg": \n'
        "\n"
        '["not", "an", "object"]\n'
        '{"time": "2025-08-18T02:56:57Z", "msg": "c"}\n'
    )
    path = _write(tmp_path, "app.jsonl", text)
    with pytest.raises(FormatError) as info:
        read_json_logs(path)
    assert str(info.value).startswith(f"{path}, line 2: malformed JSON")
    assert info.value.line == 2
    report = LoadReport()
    with pytest.warns(SkippedRecordsWarning, match=r"skipped 2 record\(s\)") as record:
        logs = read_json_logs(path, on_error="skip", report=report)
    assert logs["body"].to_list() == ["a", "c"]
    assert report.rows == 2
    assert [s.where for s in report.skipped] == [f"{path}, line 2", f"{path}, line 4"]
    assert len(record[0].message.skipped) == 2  # type: ignore[union-attr]


def test_json_trace_id_errors_name_the_line(tmp_path: Path) -> None:
    text = (
        '{"time": "2025-08-18T02:56:55Z", "traceId": "4bf92f3577b34da6a3ce929d0e0e4736"}\n'
        '{"time": "2025-08-18T02:56:56Z", "traceId": "4bf92f3577b34da6a3ce"}\n'
    )
    path = _write(tmp_path, "t.jsonl", text)
    with pytest.raises(FormatError) as info:
        read_json_logs(path)
    assert str(info.value) == (
        f"{path}, line 2, column 'traceId': the trace id must be 32 hex digits (W3C trace "
        "context) or 16 (zero-padded); got '4bf92f3577b34da6a3ce' (20 characters)"
    )
    span = _write(
        tmp_path, "s.jsonl", '{"time": "2025-08-18T02:56:55Z", "span_id": "xyz0123456789abc"}\n'
    )
    with pytest.raises(FormatError, match=r"line 1, column 'span_id': the span id must be 16 hex"):
        read_json_logs(span)
    zero = _write(
        tmp_path,
        "z.jsonl",
        '{"time": "2025-08-18T02:56:55Z", "otelTraceID": "0", "otelSpanID": "0"}\n'
        '{"time": "2025-08-18T02:56:56Z", "trace_id": 255}\n',
    )
    logs = read_json_logs(zero)
    assert logs["trace_id"].to_list() == [None, "000000000000000000000000000000ff"]
    assert logs["span_id"].to_list() == [None, None]


def test_json_levels(tmp_path: Path) -> None:
    text = (
        '{"time": "2025-08-18T02:56:55Z", "level": "TRACE"}\n'
        '{"time": "2025-08-18T02:56:55Z", "level": "debug"}\n'
        '{"time": "2025-08-18T02:56:55Z", "level": "Warn"}\n'
        '{"time": "2025-08-18T02:56:55Z", "level": "INFO3"}\n'
        '{"time": "2025-08-18T02:56:55Z", "level": "CRITICAL"}\n'
        '{"time": "2025-08-18T02:56:55Z", "level": 60}\n'
        '{"time": "2025-08-18T02:56:55Z"}\n'
    )
    logs = read_json_logs(_write(tmp_path, "l.jsonl", text))
    assert logs["severity_number"].to_list() == [1, 5, 13, 11, 21, 21, None]
    bad = _write(tmp_path, "b.jsonl", '{"time": "2025-08-18T02:56:55Z", "level": "verbose"}\n')
    with pytest.raises(FormatError, match=r"b\.jsonl, line 1, column 'level': unknown level"):
        read_json_logs(bad)
    assert read_json_logs(bad, levels={"VERBOSE": 6})["severity_number"].to_list() == [6]
    with pytest.raises(ParameterError, match=r"The 'levels' parameter of read_json_logs must map"):
        read_json_logs(bad, levels={"verbose": 99})
    numeric = _write(tmp_path, "n.jsonl", '{"time": "2025-08-18T02:56:55Z", "level": 35}\n')
    with pytest.raises(FormatError, match=r"unknown numeric level 35"):
        read_json_logs(numeric)


def test_json_type_promotion_warns_once(tmp_path: Path) -> None:
    text = (
        '{"time": "2025-08-18T02:56:55Z", "code": 200, "ratio": 1}\n'
        '{"time": "2025-08-18T02:56:56Z", "code": "E42", "ratio": 0.5}\n'
    )
    report = LoadReport()
    with pytest.warns(TypePromotionWarning) as record:
        logs = read_json_logs(_write(tmp_path, "p.jsonl", text), report=report)
    assert len(record) == 1
    assert "'attributes.code' -> String" in str(record[0].message)
    assert "'attributes.ratio' -> Float64" in str(record[0].message)
    assert logs["attributes.code"].to_list() == ["200", "E42"]
    assert logs["attributes.ratio"].to_list() == [1.0, 0.5]
    assert report.promoted == {"attributes.code": "String", "attributes.ratio": "Float64"}


def test_json_parameter_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.jsonl", '{"time": "2025-08-18T02:56:55Z"}\n')
    with pytest.raises(ParameterError, match=r"The 'tz' parameter of read_json_logs must be an"):
        read_json_logs(path, tz="Mars/Olympus")
    with pytest.raises(ParameterError, match=r"The 'time_unit' parameter of read_json_logs must"):
        read_json_logs(path, time_unit="minutes")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"The 'time_field' parameter of read_json_logs"):
        read_json_logs(path, time_field="")
    with pytest.raises(ParameterError, match=r"The 'backend' parameter of read_json_logs must"):
        read_json_logs(path, backend="arrow")  # type: ignore[call-overload]


def test_json_pandas_backend(tmp_path: Path, backend: str) -> None:
    # A level on every row: pandas' numpy-backed integers cannot hold nulls.
    path = _write(
        tmp_path, "a.jsonl", '{"time": "2025-08-18T02:56:55Z", "level": "info", "msg": "x"}\n'
    )
    frame = read_json_logs(path, backend=backend)  # type: ignore[call-overload]
    expected = pd.DataFrame if backend == "pandas" else pl.DataFrame
    assert isinstance(frame, expected)
    assert validate(frame, LOGS)["body"].to_list() == ["x"]


def test_logs_join_spans_on_trace_id(tmp_path: Path) -> None:
    spans = pl.DataFrame(
        {
            "trace_id": ["4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"],
            "span_id": ["00f067aa0ba902b7", "b7ad6b7169203331"],
            "name": ["chat gpt-4o", "retrieve"],
        }
    )
    text = (
        '{"time": "2025-08-18T02:56:55Z", "msg": "a",'
        ' "trace_id": "4BF92F3577B34DA6A3CE929D0E0E4736", "span_id": "00F067AA0BA902B7"}\n'
        '{"time": "2025-08-18T02:56:56Z", "msg": "b",'
        ' "trace_id": "0af7651916cd43dd8448eb211c80319c"}\n'
        '{"time": "2025-08-18T02:56:57Z", "msg": "c"}\n'
        '{"time": "2025-08-18T02:56:58Z", "msg": "d",'
        ' "trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331"}\n'
    )
    logs = read_json_logs(_write(tmp_path, "app.jsonl", text))
    by_trace = logs.join(spans.select("trace_id", "name"), on="trace_id", how="inner")
    assert sorted(by_trace.select("body", "name").rows()) == [
        ("a", "chat gpt-4o"),
        ("b", "retrieve"),
        ("d", "retrieve"),
    ]
    by_span = logs.join(spans, on=["trace_id", "span_id"], how="inner")
    assert sorted(by_span["body"].to_list()) == ["a", "d"]


def test_several_files_and_gzip(tmp_path: Path) -> None:
    import gzip

    first = _write(tmp_path, "a.jsonl", '{"time": "2025-08-18T02:56:55Z", "msg": "one"}\n')
    second = tmp_path / "b.jsonl.gz"
    second.write_bytes(gzip.compress(b'{"time": "2025-08-18T02:56:56Z", "msg": "two"}\n'))
    report = LoadReport()
    logs = read_json_logs([first, second], report=report)
    assert logs["body"].to_list() == ["one", "two"]
    assert logs["attributes.log.file.name"].to_list() == ["a.jsonl", "b.jsonl.gz"]
    assert report.files == [str(first), str(second)]


def test_json_utc_offset_forms(tmp_path: Path) -> None:
    stamps = [
        "2025-01-01T00:00:00-0530",
        "2025-01-01T00:00:00+05:30",
        "2025-01-01 00:00:00 UTC",
        "2025-01-01T00:00:00+01",
        "2025-01-01T00:00:00.000000001z",
    ]
    text = "".join(f'{{"time": "{s}"}}\n' for s in stamps)
    logs = read_json_logs(_write(tmp_path, "o.jsonl", text))
    midnight = 1735689600 * 10**9  # 2025-01-01T00:00:00Z
    hour = 3600 * 10**9
    assert logs["time"].dt.epoch("ns").to_list() == [
        midnight + 5 * hour + hour // 2,
        midnight - 5 * hour - hour // 2,
        midnight,
        midnight - hour,
        midnight + 1,
    ]


def test_empty_files_give_an_empty_logs_table(tmp_path: Path) -> None:
    empty_json = read_json_logs(_write(tmp_path, "e.jsonl", "\n\n"))
    empty_text = read_text_logs(_write(tmp_path, "e.log", ""), year=2025, tz="UTC")
    for frame in (empty_json, empty_text):
        assert frame.height == 0
        assert frame.columns == LOGS.names
        validate(frame, LOGS, strict=True)
