"""Tests of toolkit.ingest.workloads: every real workload file, plus hand-written edge cases."""

from __future__ import annotations

import ast
import calendar
import collections
import csv
import gzip
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from toolkit.errors import (
    FormatError,
    LoadReport,
    ParameterError,
    SchemaError,
    SkippedRecordsWarning,
    UnsupportedFormatError,
)
from toolkit.ingest.workloads import (
    load_workload,
    read_servegen,
    servegen_to_workload,
    workload_from_llm_calls,
)
from toolkit.schema import validate

AZURE = "azure_llm_2023/AzureLLMInferenceTrace_conv.csv"
VIDUR = "vidur_processed_traces/splitwise_conv.csv"
MOONCAKE = "mooncake/conversation_trace.jsonl"
ALIBABA = "alibaba_genai_2026/lora_request_trace.csv"
SERVEGEN_DIRS = ("servegen/language_m-large", "servegen/reason_deepseek-r1")


def wall_ns(text: str, offset_hours: int = 0) -> int:
    """'YYYY-MM-DD HH:MM:SS[.fffffff]' read by hand to epoch ns (local time at UTC+offset)."""
    whole, _, frac = text.partition(".")
    seconds = calendar.timegm(datetime.strptime(whole, "%Y-%m-%d %H:%M:%S").timetuple())
    return (seconds - offset_hours * 3600) * 1_000_000_000 + int(frac.ljust(9, "0"))


def ns_of(value: datetime | object) -> int:
    """Epoch nanoseconds of a polars datetime value read back through a 1-row Series."""
    return int(pl.Series([value], dtype=pl.Datetime("ns", "UTC")).dt.epoch("ns")[0])


def times_ns(frame: pl.DataFrame) -> list[int]:
    return frame["arrival_time"].dt.epoch("ns").to_list()


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# --- real data ---------------------------------------------------------------------------


def test_azure_real_file(real_data: Path) -> None:
    path = real_data / AZURE
    rows = csv_rows(path)
    report = LoadReport()
    df = load_workload(path, tz="UTC", report=report)
    validate(df, "workload")
    assert df.height == len(rows) == 19_366
    assert report.formats == {str(path): "azure"}
    assert report.rows == 19_366
    # first/last arrivals, exact to the nanosecond, computed by hand from the text
    assert rows[0]["TIMESTAMP"] == "2023-11-16 18:15:46.6805900"
    assert times_ns(df)[0] == wall_ns("2023-11-16 18:15:46.6805900") == 1_700_158_546_680_590_000
    assert (
        times_ns(df)[-1] == wall_ns(rows[-1]["TIMESTAMP"]) == wall_ns("2023-11-16 19:14:08.4025270")
    )
    assert times_ns(df) == [wall_ns(r["TIMESTAMP"]) for r in rows]
    assert df["input_tokens"].sum() == sum(int(r["ContextTokens"]) for r in rows) == 22_361_870
    assert df["output_tokens"].sum() == sum(int(r["GeneratedTokens"]) for r in rows) == 4_088_665
    assert df["model"].null_count() == df.height
    assert set(df["source"]) == {"azure:AzureLLMInferenceTrace_conv.csv tz=UTC"}
    assert [c for c in df.columns if c.startswith("attributes.")] == []
    # the same wall clock read as US Pacific time (PST, UTC-8 in November)
    pacific = load_workload(path, tz="America/Los_Angeles")
    assert times_ns(pacific)[0] == wall_ns(rows[0]["TIMESTAMP"], offset_hours=-8)


def test_azure_requires_tz(real_data: Path) -> None:
    with pytest.raises(
        ParameterError,
        match=r"The 'tz' parameter of load_workload must name "
        r"the time zone of AzureLLMInferenceTrace_conv\.csv",
    ) as info:
        load_workload(real_data / AZURE)
    assert "does not document their zone" in str(info.value)


def test_vidur_real_file_matches_azure(real_data: Path) -> None:
    rows = csv_rows(real_data / VIDUR)
    azure = load_workload(real_data / AZURE, tz="UTC")
    first = azure["arrival_time"][0]
    df = load_workload(real_data / VIDUR, start=first)
    validate(df, "workload")
    assert df.height == len(rows) == azure.height
    assert df["input_tokens"].to_list() == azure["input_tokens"].to_list()
    assert df["output_tokens"].to_list() == azure["output_tokens"].to_list()
    assert df["input_tokens"].sum() == sum(int(r["num_prefill_tokens"]) for r in rows)
    assert df["output_tokens"].sum() == sum(int(r["num_decode_tokens"]) for r in rows)
    # relative seconds -> start + seconds, from the digits: last line is 3501.721937
    assert rows[-1]["arrived_at"] == "3501.721937"
    assert times_ns(df)[-1] == ns_of(first) + 3_501_721_937_000
    # SOURCES.md: arrived_at == TIMESTAMP - TIMESTAMP[0] within 2.1e-7 s for every row
    diff = np.abs(np.array(times_ns(df)) - np.array(times_ns(azure)))
    assert diff.max() <= 210
    assert df["source"][0] == "vidur:splitwise_conv.csv start=2023-11-16T18:15:46.68059Z"


def test_vidur_default_start_is_the_epoch_and_says_so(real_data: Path) -> None:
    df = load_workload(real_data / VIDUR)
    assert times_ns(df)[:2] == [0, 4_314_579_000]
    assert df["source"][0] == (
        "vidur:splitwise_conv.csv start=1970-01-01T00:00:00Z "
        "(default: the file has relative times only)"
    )


def test_mooncake_real_file(real_data: Path) -> None:
    path = real_data / MOONCAKE
    with open(path, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    start = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    df = load_workload(path, start=start)
    validate(df, "workload")
    assert df.height == len(records) == 12_031
    assert df.schema["attributes.hash_ids"] == pl.List(pl.Int64)
    start_ns = ns_of(start)
    assert times_ns(df)[0] == start_ns + records[0]["timestamp"] * 1_000_000 == start_ns
    assert records[-1]["timestamp"] == 3_536_999
    assert times_ns(df)[-1] == start_ns + 3_536_999_000_000
    assert df["input_tokens"].sum() == sum(r["input_length"] for r in records) == 144_793_823
    assert df["output_tokens"].sum() == sum(r["output_length"] for r in records) == 4_122_048
    assert df["attributes.hash_ids"][0].to_list() == records[0]["hash_ids"]
    assert df["attributes.hash_ids"][-1].to_list() == records[-1]["hash_ids"]
    # SOURCES.md: one hash per 512-token block
    blocks = df.select(
        (pl.col("attributes.hash_ids").list.len() == (pl.col("input_tokens") + 511) // 512).all()
    ).item()
    assert blocks
    assert df["source"][0] == "mooncake:conversation_trace.jsonl start=2024-06-01T12:00:00Z"


def test_alibaba_genai_real_file(real_data: Path) -> None:
    path = real_data / ALIBABA
    rows = csv_rows(path)
    df = load_workload(path, tz="Asia/Shanghai")
    validate(df, "workload")
    assert df.height == len(rows) == 26_823  # nothing dropped, not even the empty rows
    # UTC+8, no daylight saving
    assert times_ns(df)[0] == wall_ns("2024-11-15 16:57:50", offset_hours=8)
    assert times_ns(df)[-1] == wall_ns(rows[-1]["gmt_create"], offset_hours=8)
    assert rows[-1]["gmt_create"] == "2024-12-08 17:33:57"
    # prompt lengths are characters: not input tokens
    assert df["input_tokens"].null_count() == df.height
    assert df["output_tokens"].null_count() == df.height
    empty = [i for i, r in enumerate(rows) if r["prompt_length"] == ""]
    assert len(empty) == 25
    lengths = df["attributes.prompt_length_chars"]
    assert lengths.null_count() == 25
    assert sorted(np.flatnonzero(lengths.is_null().to_numpy()).tolist()) == empty
    assert set(df["attributes.predict_status"].gather(empty)) == {"PENDING"}
    assert lengths.sum() == sum(int(float(r["prompt_length"])) for r in rows if r["prompt_length"])
    assert (
        df["attributes.negative_prompt_length_chars"].null_count()
        == sum(r["negative_prompt_length"] == "" for r in rows)
        == 6_215
    )
    assert dict(collections.Counter(df["attributes.predict_status"])) == dict(
        collections.Counter(r["predict_status"] for r in rows)
    )
    assert df["attributes.exec_time_seconds"].sum() == pytest.approx(
        math.fsum(float(r["exec_time_seconds"]) for r in rows)
    )
    assert df["model"].null_count() == 25
    assert df["model"][0] == "M0000"
    with pytest.raises(ParameterError, match="undisclosed offset"):
        load_workload(path)


def test_real_files_detected_and_concatenated(real_data: Path) -> None:
    paths = [real_data / AZURE, real_data / VIDUR, real_data / MOONCAKE, real_data / ALIBABA]
    report = LoadReport()
    df = load_workload(paths, tz="UTC", report=report)
    validate(df, "workload")
    assert list(report.formats.values()) == ["azure", "vidur", "mooncake", "alibaba_genai"]
    assert df.height == report.rows == 19_366 * 2 + 12_031 + 26_823
    assert df.schema["attributes.hash_ids"] == pl.List(pl.Int64)
    assert df["attributes.hash_ids"].null_count() == df.height - 12_031


@pytest.mark.parametrize("folder", SERVEGEN_DIRS)
def test_servegen_real_windows(real_data: Path, folder: str) -> None:
    trace_path = real_data / folder / "chunk-1-trace.csv"
    dataset_path = real_data / folder / "chunk-1-dataset.json"
    with open(trace_path, newline="") as fh:
        lines = list(csv.reader(fh))
    dataset = json.loads(dataset_path.read_text())
    windows = read_servegen(trace_path)
    assert windows.height == len(lines)
    assert (
        windows.height
        == {"servegen/language_m-large": 2016, "servegen/reason_deepseek-r1": 144}[folder]
    )
    assert windows["window_start_s"].to_list() == [int(line[0]) for line in lines]
    assert set(windows["window_s"]) == {600}
    assert windows["active"].sum() == sum(line[3] != "" for line in lines)
    assert windows["rate_rps"].sum() == pytest.approx(math.fsum(float(x[1]) for x in lines))
    assert windows.filter(~pl.col("active"))["arrival_dist"].null_count() == (
        windows.height - windows["active"].sum()
    )
    # the distributions: one window recomputed with ast.literal_eval in the test
    key = next(k for k, v in dataset.items() if v["input_tokens"] != "{}")
    expected = ast.literal_eval(dataset[key]["input_tokens"])
    row = windows.filter(pl.col("dataset_window_start_s") == int(key)).row(0, named=True)
    assert [(p["value"], p["probability"]) for p in row["input_tokens_pmf"]] == sorted(
        expected.items()
    )
    if "reason_ratio" in dataset[key]:
        ratio = ast.literal_eval(dataset[key]["reason_ratio"])
        assert len(row["reason_ratio_pmf"]) == len(ratio) == 501
    # every active window has the distributions of its 6-hour window
    active = windows.filter(pl.col("active"))
    assert active["input_tokens_pmf"].null_count() == 0
    assert (active["window_start_s"] - active["dataset_window_start_s"] < 21_600).all()
    # idle 6-hour windows ("{}") are never attached
    idle = {int(k) for k, v in dataset.items() if v["input_tokens"] == "{}"}
    assert idle.isdisjoint(set(windows["dataset_window_start_s"].drop_nulls()))


@pytest.mark.parametrize("folder", SERVEGEN_DIRS)
def test_servegen_synthetic_workload(real_data: Path, folder: str) -> None:
    windows = read_servegen(real_data / folder)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    df = servegen_to_workload(windows, seed=7, start=start, model="m")
    validate(df, "workload")
    again = servegen_to_workload(windows.to_pandas(), seed=7, start=start, model="m")
    assert df.equals(again)
    assert not df.equals(servegen_to_workload(windows, seed=8, start=start, model="m"))
    active = windows.filter(pl.col("active"))
    assert df.height == sum(round(r * 600) for r in active["rate_rps"])
    assert df["arrival_time"].is_sorted()
    offset_ns = np.array(times_ns(df)) - ns_of(start)
    window = df["attributes.servegen_window_start_s"].to_numpy() * 1_000_000_000
    assert ((offset_ns >= window) & (offset_ns < window + 600_000_000_000)).all()
    counts = df.group_by("attributes.servegen_window_start_s").len()
    expected = active.select(
        pl.col("window_start_s"), (pl.col("rate_rps") * 600).round().cast(pl.UInt32).alias("n")
    )
    joined = expected.join(
        counts, left_on="window_start_s", right_on="attributes.servegen_window_start_s", how="left"
    )
    assert joined.filter(pl.col("n") > 0).select(pl.col("n") == pl.col("len")).to_series().all()
    support = {v["value"] for pmf in active["input_tokens_pmf"] for v in pmf}
    assert set(df["input_tokens"]) <= support
    assert set(df["model"]) == {"m"}
    assert df["source"][0].startswith(
        "servegen synthetic sample (seed=7, start=2025-03-01T00:00:00Z) of servegen:"
    )
    has_ratio = folder.endswith("deepseek-r1")
    assert (df["attributes.reason_ratio"].null_count() == 0) is has_ratio


@pytest.mark.parametrize("name", ["chunk-1-trace.csv", "chunk-1-dataset.json"])
def test_load_workload_refuses_servegen(real_data: Path, name: str) -> None:
    path = real_data / SERVEGEN_DIRS[1] / name
    with pytest.raises(FormatError, match="read_servegen") as info:
        load_workload(path)
    assert name in str(info.value)
    assert "servegen_to_workload" in str(info.value)


# --- hand-written edge cases: Azure-like wall-clock CSV ----------------------------------

AZURE_HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens"


def test_azure_keeps_100ns_digit_crlf_blank_lines_no_trailing_newline(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.csv",
        f"{AZURE_HEADER}\r\n2023-11-16 18:15:46.6805901,374,44\r\n"
        "\r\n2023-11-16 18:15:47,1,2\r\n2023-11-16 18:15:47.123456789,3,4",
    )
    df = load_workload(path, tz="UTC")
    assert times_ns(df) == [
        1_700_158_546_680_590_100,
        1_700_158_547_000_000_000,
        1_700_158_547_123_456_789,
    ]
    assert df["input_tokens"].to_list() == [374, 1, 3]


@pytest.mark.parametrize(
    ("line", "column", "found"),
    [
        ("2023-11-16T18:15:46.68,1,2", "TIMESTAMP", "'2023-11-16T18:15:46.68'"),
        ("2023-11-16 18:15:46.1234567891,1,2", "TIMESTAMP", "'2023-11-16 18:15:46.1234567891'"),
        ("2023-02-30 18:15:46,1,2", "TIMESTAMP", "'2023-02-30 18:15:46'"),
        ("2023-11-16 18:15:46,12.5,2", "ContextTokens", "'12.5'"),
        ("2023-11-16 18:15:46,1,-2", "GeneratedTokens", "'-2'"),
        ("2023-11-16 18:15:46,1,", "GeneratedTokens", "''"),
        ("2023-11-16 18:15:46,99999999999999999999,2", "ContextTokens", "'9999999999999"),
    ],
)
def test_azure_broken_values_name_file_line_column(
    tmp_path: Path, line: str, column: str, found: str
) -> None:
    path = write(tmp_path, "bad.csv", f"{AZURE_HEADER}\n2023-11-16 18:15:45,1,1\n{line}\n")
    with pytest.raises(FormatError) as info:
        load_workload(path, tz="UTC")
    message = str(info.value)
    assert message.startswith(f"{path}, line 3, column '{column}': found {found}")
    assert info.value.line == 3
    assert info.value.column == column


def test_wrong_field_count_names_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        f"{AZURE_HEADER}\n2023-11-16 18:15:45,1,1\n\n2023-11-16 18:15:46,1,2,3\n",
    )
    with pytest.raises(
        FormatError,
        match=r"bad\.csv, line 4: found '4 fields', expected 3 "
        r"comma-separated fields",
    ):
        load_workload(path, tz="UTC")


def test_daylight_saving_gap_is_a_broken_record(tmp_path: Path) -> None:
    path = write(
        tmp_path, "dst.csv", f"{AZURE_HEADER}\n2024-03-31 01:59:59,1,1\n2024-03-31 02:30:00,1,1\n"
    )
    with pytest.raises(FormatError, match=r"line 3, column 'TIMESTAMP'.*'Europe/Berlin'"):
        load_workload(path, tz="Europe/Berlin")
    ok = load_workload(path, tz="UTC")
    assert ok.height == 2


def test_skip_reports_every_broken_record(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mixed.csv",
        f"{AZURE_HEADER}\n2023-11-16 18:15:45,1,1\n"
        "yesterday,1,1\n2023-11-16 18:15:46,x,1\n2023-11-16 18:15:47,5,6\n",
    )
    report = LoadReport()
    with pytest.warns(SkippedRecordsWarning, match="skipped 2 broken records") as caught:
        df = load_workload(path, tz="UTC", on_error="skip", report=report)
    assert df["input_tokens"].to_list() == [1, 5]
    skipped = caught[0].message.skipped  # type: ignore[union-attr]
    assert [str(s).split(": ")[0] for s in skipped] == [
        f"{path}, line 3, column 'TIMESTAMP'",
        f"{path}, line 4, column 'ContextTokens'",
    ]
    assert report.skipped == list(skipped)
    assert report.rows == 2


def test_extra_columns_are_kept_as_attributes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens,region\n"
        "2023-11-16 18:15:46,1,2,eu\n2023-11-16 18:15:47,3,4,\n",
    )
    df = load_workload(path, tz="UTC")
    assert df["attributes.region"].to_list() == ["eu", None]


def test_pandas_backend(tmp_path: Path, backend: str) -> None:
    path = write(tmp_path, "a.csv", f"{AZURE_HEADER}\n2023-11-16 18:15:46.6805901,374,44\n")
    df = load_workload(path, tz="UTC", backend=backend)
    if backend == "pandas":
        assert isinstance(df, pd.DataFrame)
        assert str(df["arrival_time"].dtype) == "datetime64[ns, UTC]"
        assert df["arrival_time"].iloc[0].value == 1_700_158_546_680_590_100
        assert str(df["input_tokens"].dtype) == "Int64"  # nullable, never float64
    else:
        assert isinstance(df, pl.DataFrame)
    validate(df, "workload")


# --- relative formats: vidur, BurstGPT, Mooncake -----------------------------------------


def test_vidur_decimal_seconds_read_from_digits(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "v.csv",
        "arrived_at,num_prefill_tokens,num_decode_tokens\n"
        "0.0,1,1\n5.8926549999999995,2,2\n0.0000000015,3,3\n7,4,4\n123456789.987654321,5,5\n",
    )
    df = load_workload(path, start="2024-01-01T00:00:00+01:00")
    base = ns_of(datetime(2023, 12, 31, 23, tzinfo=UTC))
    assert [t - base for t in times_ns(df)] == [
        0,
        5_892_655_000,
        2,
        7_000_000_000,
        123_456_789_987_654_321,
    ]
    assert df["source"][0] == "vidur:v.csv start=2023-12-31T23:00:00Z"


@pytest.mark.parametrize("value", ["1e-05", "-1.0", "nan", "", "1,5"])
def test_vidur_rejects_non_decimal_seconds(tmp_path: Path, value: str) -> None:
    path = write(
        tmp_path,
        "v.csv",
        f"arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,1,1\n{value},2,2\n",
    )
    with pytest.raises(FormatError, match=r"v\.csv, line 3"):
        load_workload(path)


BURSTGPT = (
    "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
    "5,ChatGPT,472,18,490,Conversation log\n"
    "45,ChatGPT,1087,0,1087,Conversation log\n"
    "118.5,GPT-4,417,276,693,API log\n"
)


def test_burstgpt_hand_written(tmp_path: Path) -> None:
    path = write(tmp_path, "BurstGPT_1.csv", BURSTGPT)
    start = datetime(2023, 5, 1, tzinfo=timezone(timedelta(hours=8)))
    df = load_workload(path, start=start)
    validate(df, "workload")
    start_ns = ns_of(start)
    assert [t - start_ns for t in times_ns(df)] == [5_000_000_000, 45_000_000_000, 118_500_000_000]
    assert df["model"].to_list() == ["ChatGPT", "ChatGPT", "GPT-4"]
    assert df["input_tokens"].to_list() == [472, 1087, 417]
    assert df["output_tokens"].to_list() == [18, 0, 276]  # a failed request is kept
    assert df["attributes.log_type"].to_list() == ["Conversation log"] * 2 + ["API log"]
    assert df["source"][0] == "burstgpt:BurstGPT_1.csv start=2023-04-30T16:00:00Z"


def test_burstgpt_total_mismatch_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", BURSTGPT + "200,GPT-4,10,5,16,API log\n")
    with pytest.raises(FormatError) as info:
        load_workload(path)
    assert str(info.value) == (
        f"{path}, line 5, column 'Total tokens': found '16 (Request tokens 10 + Response "
        "tokens 5 = 15)', expected Total tokens = Request tokens + Response tokens"
    )
    with pytest.warns(SkippedRecordsWarning):
        assert load_workload(path, on_error="skip").height == 3


def test_mooncake_hand_written_gzip_and_blank_lines(tmp_path: Path) -> None:
    text = (
        '{"timestamp": 0, "input_length": 600, "output_length": 3, "hash_ids": [0, 1]}\n'
        "\n"
        '{"timestamp": 1500, "input_length": 10, "output_length": 1, "hash_ids": [2]}\n'
    )
    path = tmp_path / "trace.jsonl.gz"
    path.write_bytes(gzip.compress(text.encode()))
    df = load_workload(path, start=datetime(2025, 1, 1, tzinfo=UTC))
    assert [t - times_ns(df)[0] for t in times_ns(df)] == [0, 1_500_000_000]
    assert df["attributes.hash_ids"].to_list() == [[0, 1], [2]]


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        (
            '{"timestamp": -1, "input_length": 1, "output_length": 1}',
            r"line 2, column 'timestamp': Expected `int` >= 0",
        ),
        (
            '{"timestamp": 1, "input_length": "7", "output_length": 1}',
            r"line 2, column 'input_length': Expected `int`, got `str`",
        ),
        ('{"timestamp": 1, "input_length": 7}', r"line 2, column 'output_length'"),
        ('{"timestamp": 1, "input_length": 7, "output_length": 1', r"line 2: not a JSON object"),
    ],
)
def test_mooncake_broken_records(tmp_path: Path, line: str, pattern: str) -> None:
    path = write(
        tmp_path,
        "m.jsonl",
        '{"timestamp": 0, "input_length": 1, "output_length": 1}\n' + line + "\n",
    )
    with pytest.raises(FormatError, match=pattern):
        load_workload(path)


def test_start_must_be_time_zone_aware(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", BURSTGPT)
    with pytest.raises(
        ParameterError,
        match=r"The 'start' parameter of load_workload must be a "
        r"time-zone-aware datetime.*Got datetime\.datetime\(2023, 5, 1, 0, 0\)",
    ):
        load_workload(path, start=datetime(2023, 5, 1))
    with pytest.raises(ParameterError, match="'start' parameter"):
        load_workload(path, start="2023-05-01 00:00")


# --- Alibaba GenTD26 ---------------------------------------------------------------------

ALIBABA_HEADER = (
    "gmt_create,predict_type,predict_status,exec_time_seconds,groupId,"
    "prompt_length,negative_prompt_length,num_images_per_prompt,"
    "num_inference_steps,checkpoint_model_version_id,num_lora"
)


def test_alibaba_optional_empty_fields_become_null(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lora.csv",
        ALIBABA_HEADER + "\n"
        "2024-11-15 16:57:50,TXT_2_IMG,SUCCEED,32.0,G0000,63.0,26.0,1.0,30.0,M0000,0\n"
        "2024-11-26 22:50:35,TXT_2_IMG,PENDING,0.0,G0325,,,,,,0\n",
    )
    df = load_workload(path, tz="UTC")
    validate(df, "workload")
    assert df.height == 2
    assert df["attributes.prompt_length_chars"].to_list() == [63, None]
    assert df["attributes.num_inference_steps"].to_list() == [30, None]
    assert df["model"].to_list() == ["M0000", None]
    assert df["input_tokens"].to_list() == [None, None]
    as_pandas = load_workload(path, tz="UTC", backend="pandas")
    assert str(as_pandas["input_tokens"].dtype) == "Int64"
    assert as_pandas["attributes.prompt_length_chars"].isna().tolist() == [False, True]


@pytest.mark.parametrize(
    ("fields", "column"),
    [
        ("TXT_2_IMG,,32.0,G0000,63.0,26.0,1.0,30.0,M0000,0", "predict_status"),
        ("TXT_2_IMG,SUCCEED,32.0,G0000,63.5,26.0,1.0,30.0,M0000,0", "prompt_length"),
        ("TXT_2_IMG,SUCCEED,,G0000,63.0,26.0,1.0,30.0,M0000,0", "exec_time_seconds"),
        ("TXT_2_IMG,SUCCEED,32.0,G0000,63.0,26.0,1.0,30.0,M0000,", "num_lora"),
    ],
)
def test_alibaba_required_fields(tmp_path: Path, fields: str, column: str) -> None:
    path = write(tmp_path, "lora.csv", f"{ALIBABA_HEADER}\n2024-11-15 16:57:50,{fields}\n")
    with pytest.raises(FormatError, match=rf"lora\.csv, line 2, column '{column}'"):
        load_workload(path, tz="UTC")


# --- detection and parameters ------------------------------------------------------------


def test_unknown_content_lists_supported_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "other.csv", "time,tokens\n1,2\n")
    with pytest.raises(UnsupportedFormatError) as info:
        load_workload(path)
    message = str(info.value)
    assert message.startswith(
        f"{path}: cannot tell the workload format from the content "
        "(a text file whose first line is 'time,tokens')"
    )
    for name in ("azure:", "vidur:", "mooncake:", "burstgpt:", "alibaba_genai:"):
        assert name in message


def test_explicit_format_checks_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", BURSTGPT)
    with pytest.raises(
        FormatError,
        match=r"b\.csv, line 1: the header lacks the azure columns "
        r"'TIMESTAMP', 'ContextTokens', 'GeneratedTokens'; it has 'Timestamp'",
    ):
        load_workload(path, format="azure", tz="UTC")


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"empty\.csv: the file is empty"):
        load_workload(write(tmp_path, "empty.csv", ""))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"format": "csv"},
            r"The 'format' parameter of load_workload must be one of 'auto', "
            r"'azure'.*Got 'csv' instead\.",
        ),
        ({"on_error": "ignore"}, r"The 'on_error' parameter .* Got 'ignore' instead\."),
        ({"backend": "arrow"}, r"The 'backend' parameter"),
        (
            {"tz": "Mars/Olympus"},
            r"The 'tz' parameter of load_workload must be an IANA time "
            r"zone name.*Got 'Mars/Olympus' instead\.",
        ),
    ],
)
def test_parameter_errors(tmp_path: Path, kwargs: dict[str, str], pattern: str) -> None:
    path = write(tmp_path, "b.csv", BURSTGPT)
    with pytest.raises(ParameterError, match=pattern):
        load_workload(path, **kwargs)  # type: ignore[arg-type]


def test_broken_inputs_give_bounded_messages(tmp_path: Path) -> None:
    broken = [
        f"{AZURE_HEADER}\n{'9' * 5000},1,1\n",
        f"{AZURE_HEADER}\n2023-11-16 18:15:46,{'x' * 5000},1\n",
        '{"timestamp": "' + "y" * 5000 + '", "input_length": 1, "output_length": 1}\n',
        BURSTGPT + "1," + "z" * 5000 + ",1,1,3,API log\n",
    ]
    for i, text in enumerate(broken):
        path = write(tmp_path, f"broken{i}.txt", text)
        with pytest.raises(FormatError) as info:
            load_workload(path, tz="UTC")
        message = str(info.value)
        assert str(path) in message
        assert "line" in message
        assert len(message) < 400, message


# --- ServeGen edge cases -----------------------------------------------------------------

GOOD_DATASET = {"0": {"input_tokens": "{10: 0.25, 20: 0.75}", "output_tokens": "{5: 1.0}"}}


def servegen_files(tmp_path: Path, trace: str, dataset: dict[str, dict[str, str]]) -> Path:
    (tmp_path / "chunk-3-dataset.json").write_text(json.dumps(dataset, indent=2))
    return write(tmp_path, "chunk-3-trace.csv", trace)


def test_servegen_hand_written(tmp_path: Path) -> None:
    trace = servegen_files(
        tmp_path,
        "0,0,0,,0,0\n600,0.1,1.5,Weibull,0.6,2.0\n1200,0.05,1.0,Gamma,1.0,20.0\n",
        GOOD_DATASET,
    )
    report = LoadReport()
    windows = read_servegen(tmp_path / "chunk-3-dataset.json", report=report)
    assert report.rows == 3
    assert len(report.files) == 2
    assert windows["client"].to_list() == [3, 3, 3]
    assert windows["source"][0] == f"servegen:{tmp_path.name}/{trace.name}"
    assert windows["cv"].to_list() == [None, 1.5, 1.0]
    assert windows["arrival_scale_s"].to_list() == [None, 2.0, 20.0]
    assert windows["dataset_window_start_s"].to_list() == [0, 0, 0]
    assert windows["reason_ratio_pmf"].null_count() == 3
    df = servegen_to_workload(windows, seed=3)
    assert df.height == 60 + 30
    assert set(df["input_tokens"]) == {10, 20}
    assert set(df["output_tokens"]) == {5}
    assert df["attributes.servegen_client"].unique().to_list() == [3]


@pytest.mark.parametrize(
    ("literal", "problem"),
    [
        ("__import__('os')", "expected a dict literal such as"),
        ("{1: __import__('os').system('true')}", "only literals are read"),
        ("{10: 0.5}", "summing to 0.5, expected 1"),
        ("{'a': 1.0}", "found the key 'a', expected non-negative integer token counts"),
        ("{True: 1.0}", "found the key True"),
        ("{10: -0.5, 20: 1.5}", "found the probability -0.5"),
        ("[10, 20]", "expected a dict literal such as"),
        ("{10: float('nan')}", "only literals are read"),
    ],
)
def test_servegen_literals_are_validated(tmp_path: Path, literal: str, problem: str) -> None:
    dataset = {
        "0": GOOD_DATASET["0"],
        "21600": {"input_tokens": literal, "output_tokens": "{5: 1.0}"},
    }
    servegen_files(tmp_path, "0,0.1,1,Gamma,1,10\n", dataset)
    with pytest.raises(FormatError) as info:
        read_servegen(tmp_path)
    message = str(info.value)
    assert message.startswith(
        f"{tmp_path / 'chunk-3-dataset.json'}, line 7, column 'input_tokens': window 21600: "
    )
    assert problem in message


def test_servegen_skip_leaves_previous_window_in_force(tmp_path: Path) -> None:
    dataset = {
        "0": GOOD_DATASET["0"],
        "600": {"input_tokens": "__import__('os')", "output_tokens": "{5: 1.0}"},
    }
    servegen_files(tmp_path, "0,0.1,1,Gamma,1,10\n600,0.1,1,Gamma,1,10\n", dataset)
    with pytest.warns(SkippedRecordsWarning) as caught:
        windows = read_servegen(tmp_path, on_error="skip")
    assert len(caught[0].message.skipped) == 1  # type: ignore[union-attr]
    assert windows["dataset_window_start_s"].to_list() == [0, 0]


@pytest.mark.parametrize(
    ("trace", "pattern"),
    [
        ("0,0.1,1,Poisson,1,10\n", r"line 1, column 'arrival_dist': found 'Poisson'"),
        ("0,0.1,1,Gamma,1,10\n600,0.1,1,Gamma,1\n", r"line 2: found '5 fields', expected 6"),
        (
            "0,0.1,1,Gamma,1,10\n900,0.1,1,Gamma,1,10\n1200,0.1,1,Gamma,1,10\n",
            r"line 3, column 'window_start_s': found '1200', expected windows in increasing "
            r"order, 900 s apart",
        ),
        (
            "0,0.3,0,,0,0\n",
            r"line 1, column 'rate_rps': found '0.3', expected 0 in a window "
            "without an arrival distribution",
        ),
        ("0,inf,1,Gamma,1,10\n", r"line 1, column 'rate_rps': found 'inf'"),
    ],
)
def test_servegen_broken_trace_lines(tmp_path: Path, trace: str, pattern: str) -> None:
    servegen_files(tmp_path, trace, GOOD_DATASET)
    with pytest.raises(FormatError, match=r"chunk-3-trace\.csv, " + pattern):
        read_servegen(tmp_path / "chunk-3-trace.csv")


def test_servegen_needs_both_files(tmp_path: Path) -> None:
    write(tmp_path, "chunk-2-trace.csv", "0,0,0,,0,0\n")
    with pytest.raises(ParameterError, match=r"chunk-2-dataset\.json; .* does not exist"):
        read_servegen(tmp_path)


def test_servegen_to_workload_parameters(tmp_path: Path) -> None:
    servegen_files(tmp_path, "0,0.1,1,Gamma,1,10\n", GOOD_DATASET)
    windows = read_servegen(tmp_path)
    with pytest.raises(
        ParameterError,
        match=r"The 'seed' parameter of servegen_to_workload "
        r"must be a non-negative integer\. Got None instead\.",
    ):
        servegen_to_workload(windows, seed=None)  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="lacks 'rate_rps'"):
        servegen_to_workload(windows.drop("rate_rps"), seed=1)
    no_pmf = windows.with_columns(
        pl.lit(None, windows.schema["input_tokens_pmf"]).alias("input_tokens_pmf")
    )
    with pytest.raises(
        ParameterError,
        match=r"window starting at 0 s \(client 3\) is active "
        "but has no input_tokens distribution",
    ):
        servegen_to_workload(no_pmf, seed=1)


# --- llm_calls ---------------------------------------------------------------------------


def llm_calls_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "trace_id": ["a" * 32, "b" * 32],
            "span_id": ["1" * 16, "2" * 16],
            "start_time": pl.Series(
                [1_700_000_000_123_456_789, 1_700_000_001_000_000_000],
                dtype=pl.Datetime("ns", "UTC"),
            ),
            "request_model": ["small", None],
            "response_model": ["small-2024", "large-2024"],
            "input_tokens": pl.Series([12, None], dtype=pl.Int64),
            "output_tokens": pl.Series([3, 4], dtype=pl.Int32),
        }
    )


def test_workload_from_llm_calls(backend: str) -> None:
    calls = llm_calls_frame()
    # pandas' default conversion turns an Int64 column with a null into float64: use Arrow
    given = calls.to_pandas(use_pyarrow_extension_array=True) if backend == "pandas" else calls
    df = workload_from_llm_calls(given, backend=backend)
    df = validate(df, "workload")
    assert times_ns(df) == [1_700_000_000_123_456_789, 1_700_000_001_000_000_000]
    assert df["model"].to_list() == ["small", "large-2024"]
    assert df["input_tokens"].to_list() == [12, None]
    assert df["output_tokens"].dtype == pl.Int64
    assert df["output_tokens"].to_list() == [3, 4]
    assert df["attributes.span_id"].to_list() == ["1" * 16, "2" * 16]
    assert set(df["source"]) == {"llm_calls"}


def test_workload_from_llm_calls_refuses_guesses() -> None:
    calls = llm_calls_frame()
    with pytest.raises(SchemaError, match="must be a time-zone-aware datetime"):
        workload_from_llm_calls(calls.with_columns(pl.col("start_time").dt.replace_time_zone(None)))
    with pytest.raises(SchemaError, match=r"'input_tokens' column .* must hold integers"):
        workload_from_llm_calls(calls.with_columns(pl.col("input_tokens").cast(pl.Float64)))
    with pytest.raises(
        SchemaError,
        match=r"missing 'output_tokens'\. Available columns: "
        r"'trace_id'",
    ):
        workload_from_llm_calls(calls.drop("output_tokens"))
    other_zone = calls.with_columns(
        pl.col("start_time").dt.convert_time_zone("Asia/Tokyo").dt.cast_time_unit("us")
    )
    assert times_ns(workload_from_llm_calls(other_zone))[1] == 1_700_000_001_000_000_000
