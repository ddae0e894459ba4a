"""Tests of toolkit.ingest.gpu: nvidia-smi CSV / captures, DCGM and nvidia_gpu_exporter."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from toolkit.errors import (
    FormatError,
    LoadReport,
    ParameterError,
    SkippedRecordsWarning,
    UnsupportedFormatError,
)
from toolkit.ingest.gpu import (
    DCGM_DEFAULT_UNITS,
    gpu_from_metrics,
    load_gpu,
    read_dcgm_counters,
    read_nvidia_smi_csv,
)
from toolkit.ingest.prometheus import parse_exposition
from toolkit.schema import GPU, validate

MIB = 1024 * 1024
UTC = dt.UTC
CAPTURES = [
    "linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt",
    "linux-x86_64__nvidia-h100-mig__590.48.01.txt",
    "linux-x86_64__nvidia-h200__590.48.01.txt",
]
EXPORTER = [
    "linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__idle.metrics",
    "linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__load.metrics",
    "linux-x86_64__nvidia-h100-mig__590.48.01__load.metrics",
]
DCGM_SCRAPE = "dcgm_exporter/lke-ai-conformance_README_L404-478_dcgm_metrics.prom"
SCRAPE_TIME = dt.datetime(2026, 7, 14, 8, 12, 53, tzinfo=UTC)
CANONICAL = ["util_pct", "mem_used_bytes", "mem_total_bytes", "power_w", "temp_c", "sm_clock_hz"]


def write(tmp_path: Path, text: str, name: str = "gpu.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# Independent re-reading of the real files (csv module, regular expressions)
# --------------------------------------------------------------------------------------


def capture_blocks(path: Path) -> list[dict[str, str]]:
    """Each --query-gpu data row of a capture as {header cell: value}, with csv."""
    lines = path.read_text(encoding="utf-8").split("\n")
    rows: list[dict[str, str]] = []
    for i, line in enumerate(lines):
        if line.startswith("# $ nvidia-smi --query-gpu="):
            assert set(lines[i + 1]) == {"#"}
            block = []
            for data in lines[i + 2 :]:
                if not data.strip():
                    break
                block.append(data)
            reader = csv.reader(block, delimiter=",", skipinitialspace=True)
            header = next(reader)
            rows.extend(dict(zip(header, row, strict=True)) for row in reader)
    return rows


def number(value: str, unit: str | None = None) -> float:
    if unit is not None:
        assert value.endswith(" " + unit), value
        value = value[: -len(unit) - 1]
    return float(value)


def scrape_values(path: Path) -> dict[str, tuple[dict[str, str], float]]:
    """name -> (labels, value) for every single-series metric of a scrape, by regex."""
    out: dict[str, tuple[dict[str, str], float]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$", line)
        if m is None or line.startswith("#"):
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[m.group(1)] = (labels, float(m.group(3)))
    return out


# --------------------------------------------------------------------------------------
# nvidia-smi captures (real)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CAPTURES)
def test_every_capture_loads_with_values_recomputed(real_data: Path, name: str) -> None:
    path = real_data / "nvidia_smi_captures" / name
    df = read_nvidia_smi_csv(path, tz="UTC")
    validate(df, GPU)
    expected = capture_blocks(path)
    assert len(expected) == 2  # idle, then under load; one GPU each
    assert df.height == 2
    assert df.columns[:11] == GPU.names
    # 212 queried fields: 11 become canonical columns, the other 201 nvsmi.<cell> columns
    assert len(expected[0]) == 212
    assert sum(c.startswith("nvsmi.") for c in df.columns) == 201
    for got, row in zip(df.iter_rows(named=True), expected, strict=True):
        stamp = dt.datetime.strptime(row["timestamp"], "%Y/%m/%d %H:%M:%S.%f")
        assert got["time"] == stamp.replace(tzinfo=UTC)
        assert got["gpu_index"] == int(row["index"])
        assert got["gpu_uuid"] == row["uuid"]
        assert got["gpu_model"] == row["name"]
        assert got["host"] is None  # hostname is [N/A]
        assert row["hostname"] == "[N/A]"
        assert got["mem_used_bytes"] == number(row["memory.used [MiB]"], "MiB") * MIB
        assert got["mem_total_bytes"] == number(row["memory.total [MiB]"], "MiB") * MIB
        assert got["power_w"] == number(row["power.draw [W]"], "W")
        assert got["sm_clock_hz"] == number(row["clocks.current.sm [MHz]"], "MHz") * 1e6
        assert got["temp_c"] == number(row["temperature.gpu"])
        util = row["utilization.gpu [%]"]
        assert got["util_pct"] == (None if util == "[N/A]" else number(util, "%"))
        assert got["nvsmi.memory.free [MiB]"] == number(row["memory.free [MiB]"], "MiB")
        assert got["nvsmi.pstate"] == row["pstate"]
        # unavailable markers are null, not errors
        assert got["nvsmi.fan.speed [%]"] is None
        assert got["nvsmi.display_mode"] is None  # [Requested functionality ... deprecated]
        assert got["nvsmi.fabric.health.summary"] is None  # bare N/A


def test_h100_capture_known_values(real_data: Path) -> None:
    path = real_data / "nvidia_smi_captures" / CAPTURES[0]
    df = read_nvidia_smi_csv(path, tz="UTC")
    idle, load = df.select(GPU.names).rows(named=True)
    assert idle["time"] == dt.datetime(2026, 7, 14, 8, 12, 38, 696000, tzinfo=UTC)
    assert load["time"] == dt.datetime(2026, 7, 14, 8, 12, 53, 353000, tzinfo=UTC)
    assert (idle["util_pct"], load["util_pct"]) == (0.0, 100.0)
    assert load["mem_used_bytes"] == 19818 * 1048576 == 20_780_679_168
    assert load["mem_total_bytes"] == 81559 * 1048576 == 85_520_809_984
    assert (idle["power_w"], load["power_w"]) == (69.85, 631.95)
    assert (idle["sm_clock_hz"], load["sm_clock_hz"]) == (345e6, 1980e6)
    assert (idle["temp_c"], load["temp_c"]) == (41.0, 59.0)
    assert load["gpu_uuid"] == "GPU-00000000-0000-0000-0000-000000000000"
    assert load["gpu_model"] == "NVIDIA H100 80GB HBM3"


def test_mig_capture_has_no_gpu_utilisation(real_data: Path) -> None:
    df = read_nvidia_smi_csv(real_data / "nvidia_smi_captures" / CAPTURES[1], tz="UTC")
    assert df["util_pct"].to_list() == [None, None]  # [N/A] with MIG enabled
    assert df["nvsmi.mig.mode.current"].to_list() == ["Enabled", "Enabled"]
    assert df["mem_used_bytes"].to_list() == [59 * MIB, 11125 * MIB]
    assert df["power_w"].to_list() == [71.15, 433.78]


def test_capture_needs_tz_and_converts_it(real_data: Path) -> None:
    path = real_data / "nvidia_smi_captures" / CAPTURES[2]
    with pytest.raises(ParameterError, match=r"The 'tz' parameter of read_nvidia_smi_csv") as e:
        read_nvidia_smi_csv(path)
    assert CAPTURES[2] in str(e.value)
    berlin = read_nvidia_smi_csv(path, tz="Europe/Berlin", extra_fields=False)
    assert berlin.columns == GPU.names
    # 2026-07-03 22:10:46.109 in Berlin (CEST, UTC+2) is 20:10:46.109 UTC
    assert berlin["time"][0] == dt.datetime(2026, 7, 3, 20, 10, 46, 109000, tzinfo=UTC)


# --------------------------------------------------------------------------------------
# nvidia_gpu_exporter and DCGM scrapes (real)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPORTER)
def test_nvidia_gpu_exporter_scrapes(real_data: Path, name: str) -> None:
    path = real_data / "nvidia_gpu_exporter_metrics" / name
    report = LoadReport()
    df = load_gpu(path, time=SCRAPE_TIME, report=report)
    validate(df, GPU)
    assert report.formats == {str(path): "nvidia_gpu_exporter"}
    assert df.height == 1
    raw = scrape_values(path)
    got = df.row(0, named=True)
    labels, _ = raw["nvidia_smi_gpu_info"]
    assert got["gpu_uuid"] == "GPU-" + labels["uuid"]
    assert not labels["uuid"].startswith("GPU-")
    assert got["gpu_model"] == labels["name"]
    assert got["label.driver_version"] == labels["driver_version"] == "590.48.01"
    assert got["gpu_index"] == int(raw["nvidia_smi_index"][1])
    assert got["time"] == SCRAPE_TIME
    assert got["mem_used_bytes"] == raw["nvidia_smi_memory_used_bytes"][1]
    assert got["mem_total_bytes"] == raw["nvidia_smi_memory_total_bytes"][1]
    assert got["power_w"] == raw["nvidia_smi_power_draw_watts"][1]
    assert got["temp_c"] == raw["nvidia_smi_temperature_gpu"][1]
    assert got["sm_clock_hz"] == raw["nvidia_smi_clocks_current_sm_clock_hz"][1]
    if "nvidia_smi_utilization_gpu_ratio" in raw:
        assert got["util_pct"] == raw["nvidia_smi_utilization_gpu_ratio"][1] * 100
    else:  # MIG: nvidia-smi said [N/A], the exporter left the metric out
        assert "mig" in name
        assert got["util_pct"] is None


@pytest.mark.parametrize(
    ("capture", "scrape", "row"),
    [(CAPTURES[0], EXPORTER[1], 1), (CAPTURES[0], EXPORTER[0], 0), (CAPTURES[1], EXPORTER[2], 1)],
)
def test_same_gpu_same_numbers_from_nvidia_smi_and_exporter(
    real_data: Path, capture: str, scrape: str, row: int
) -> None:
    """SOURCES.md: the exporter's golden scrapes were produced from these very captures."""
    smi = read_nvidia_smi_csv(real_data / "nvidia_smi_captures" / capture, tz="UTC")
    exp = load_gpu(real_data / "nvidia_gpu_exporter_metrics" / scrape, time=SCRAPE_TIME)
    columns = ["gpu_index", "gpu_uuid", "gpu_model", *CANONICAL]
    assert smi.select(columns).row(row) == exp.select(columns).row(0)
    if row == 1 and "mig" not in capture:
        assert exp.select(CANONICAL).row(0) == (
            100.0,
            20_780_679_168.0,
            85_520_809_984.0,
            631.95,
            59.0,
            1.98e9,
        )


def test_dcgm_scrape(real_data: Path) -> None:
    path = real_data / DCGM_SCRAPE
    report = LoadReport()
    df = load_gpu(path, time=SCRAPE_TIME, report=report)
    validate(df, GPU)
    assert report.formats == {str(path): "dcgm"}
    assert report.rows == df.height == 1
    raw = scrape_values(path)
    labels, _ = raw["DCGM_FI_DEV_FB_USED"]
    got = df.row(0, named=True)
    fb = {k: raw[f"DCGM_FI_DEV_FB_{k}"][1] for k in ("USED", "FREE", "RESERVED")}
    assert got["mem_used_bytes"] == fb["USED"] * MIB == 1 * MIB
    assert got["mem_total_bytes"] == (fb["USED"] + fb["FREE"] + fb["RESERVED"]) * MIB
    assert got["mem_total_bytes"] == 20473 * MIB
    assert got["power_w"] == raw["DCGM_FI_DEV_POWER_USAGE"][1] == 40.979
    assert got["temp_c"] == raw["DCGM_FI_DEV_GPU_TEMP"][1] == 48.0
    assert got["sm_clock_hz"] == raw["DCGM_FI_DEV_SM_CLOCK"][1] * 1e6 == 2.31e9
    assert got["util_pct"] == raw["DCGM_FI_DEV_GPU_UTIL"][1] == 0.0
    assert got["gpu_index"] == int(labels["gpu"]) == 0
    assert got["gpu_uuid"] == labels["UUID"]
    assert got["gpu_model"] == labels["modelName"] == "NVIDIA RTX 4000 Ada Generation"
    assert got["host"] == labels["Hostname"]
    for name in (
        "pod",
        "namespace",
        "container",
        "pci_bus_id",
        "device",
        "DCGM_FI_DRIVER_VERSION",
        "pod_uid",
    ):
        assert got[f"label.{name}"] == labels[name]
    # mapped labels are not repeated; XID-only labels are not GPU-row labels
    for name in ("gpu", "UUID", "modelName", "Hostname", "err_code", "err_msg"):
        assert f"label.{name}" not in df.columns


def test_dcgm_default_units_match_the_counters_file(real_data: Path) -> None:
    path = real_data / "dcgm_exporter" / "default-counters.csv"
    counters = read_dcgm_counters(path)
    with path.open(encoding="utf-8") as fh:
        active = [
            r for r in csv.reader(fh) if r and r[0].strip() and not r[0].lstrip().startswith("#")
        ]
    assert list(counters) == [r[0].strip() for r in active]
    assert len(counters) == 26
    assert counters["DCGM_FI_DEV_DEC_UTIL"].unit == "%"  # "DCGM_FI_DEV_DEC_UTIL ," spacing
    assert counters["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"].type == "counter"
    assert counters["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"].unit == "mJ"
    assert counters["DCGM_FI_DRIVER_VERSION"].type == "label"
    assert counters["DCGM_FI_PROF_PCIE_TX_BYTES"].unit is None  # "in bytes per second"
    for field, unit in DCGM_DEFAULT_UNITS.items():
        if field != "DCGM_FI_DEV_FB_TOTAL":  # not in the default file
            assert counters[field].unit == unit


def test_dcgm_with_the_real_counters_file_and_parse_exposition(
    real_data: Path, backend: str
) -> None:
    text = (real_data / DCGM_SCRAPE).read_text(encoding="utf-8")
    metrics = parse_exposition(text, time=SCRAPE_TIME)
    frame = metrics.to_pandas() if backend == "pandas" else metrics
    out = gpu_from_metrics(
        frame, counters=real_data / "dcgm_exporter" / "default-counters.csv", backend=backend
    )
    assert isinstance(out, pd.DataFrame if backend == "pandas" else pl.DataFrame)
    df = validate(out, GPU)
    assert df.select(CANONICAL).row(0) == (0.0, MIB, 20473.0 * MIB, 40.979, 48.0, 2.31e9)


def test_load_gpu_mixes_sources(real_data: Path) -> None:
    report = LoadReport()
    df = load_gpu(
        [
            real_data / "nvidia_smi_captures" / CAPTURES[0],
            real_data / "nvidia_gpu_exporter_metrics" / EXPORTER[1],
            real_data / DCGM_SCRAPE,
        ],
        tz="UTC",
        time=SCRAPE_TIME,
        report=report,
    )
    validate(df, GPU)
    assert df.height == 4
    assert sorted(report.formats.values()) == ["dcgm", "nvidia-smi", "nvidia_gpu_exporter"]
    assert df["gpu_model"].to_list() == ["NVIDIA H100 80GB HBM3"] * 3 + [
        "NVIDIA RTX 4000 Ada Generation"
    ]
    assert "label.pod" in df.columns
    assert "nvsmi.pstate" in df.columns


# --------------------------------------------------------------------------------------
# nvidia-smi CSV edge cases (hand-written)
# --------------------------------------------------------------------------------------

HEADER = (
    "timestamp, name, index, uuid, utilization.gpu [%], memory.used [MiB], "
    "memory.total [MiB], power.draw [W], temperature.gpu, clocks.current.sm [MHz]"
)


def test_plain_log_with_units_repeated_header_and_markers(tmp_path: Path) -> None:
    text = (
        f"{HEADER}\n"
        "2026/01/10 12:00:00.000, NVIDIA L4, 0, GPU-aa, 37 %, 1024 MiB, 23034 MiB, 30.50 W, "
        "45, 2040 MHz\n"
        f"{HEADER}\n"
        "2026/01/10 12:00:01.500, NVIDIA L4, 1, GPU-bb, [Not Supported], [N/A], 23034 MiB, "
        "[Requested functionality has been deprecated], 46, 2040 MHz\n"
        "\n"
    )
    df = read_nvidia_smi_csv(write(tmp_path, text), tz="Europe/Berlin", host="node-1")
    validate(df, GPU)
    assert df.rows() == [
        (
            dt.datetime(2026, 1, 10, 11, 0, tzinfo=UTC),
            "node-1",
            0,
            "GPU-aa",
            "NVIDIA L4",
            37.0,
            1024.0 * MIB,
            23034.0 * MIB,
            30.5,
            45.0,
            2040e6,
        ),
        (
            dt.datetime(2026, 1, 10, 11, 0, 1, 500000, tzinfo=UTC),
            "node-1",
            1,
            "GPU-bb",
            "NVIDIA L4",
            None,
            None,
            23034.0 * MIB,
            None,
            46.0,
            2040e6,
        ),
    ]


def test_nounits_and_extra_fields(tmp_path: Path) -> None:
    text = (
        "index, memory.used [MiB], memory.free [MiB], pstate, clocks.sm [MHz], hostname\n"
        "0, 512, 1024, P0, 1410, gpu-host-7\n"
    )
    df = read_nvidia_smi_csv(write(tmp_path, text))
    assert df["time"].to_list() == [None]  # no timestamp field, no tz needed
    assert df.select("host", "mem_used_bytes", "sm_clock_hz").row(0) == (
        "gpu-host-7",
        512.0 * MIB,
        1410e6,
    )
    assert df["nvsmi.memory.free [MiB]"].to_list() == [1024.0]
    assert df.schema["nvsmi.memory.free [MiB]"] == pl.Float64
    assert df["nvsmi.pstate"].to_list() == ["P0"]
    assert read_nvidia_smi_csv(write(tmp_path, text), extra_fields=False).columns == GPU.names


def test_noheader_with_fields_and_time(tmp_path: Path) -> None:
    path = write(tmp_path, "0, 81559 MiB, 69.85 W, 41\n1, 100 MiB, 70.00 W, 40\n")
    when = dt.datetime(2026, 7, 14, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    df = read_nvidia_smi_csv(path, fields="index,memory.used,power.draw,temperature.gpu", time=when)
    assert df.select("time", "gpu_index", "mem_used_bytes", "power_w", "temp_c").rows() == [
        (dt.datetime(2026, 7, 14, 8, 0, tzinfo=UTC), 0, 81559.0 * MIB, 69.85, 41.0),
        (dt.datetime(2026, 7, 14, 8, 0, tzinfo=UTC), 1, 100.0 * MIB, 70.0, 40.0),
    ]
    with pytest.raises(FormatError, match="pass fields="):
        read_nvidia_smi_csv(path)


def test_capture_with_noheader_nounits_block(tmp_path: Path) -> None:
    banner = "#" * 80
    text = "\n".join(
        [
            banner,
            "# capture",
            banner,
            "collected_at: 2026-07-14T08:12:38Z",
            "",
            "",
            banner,
            "# load :: query-gpu",
            "# $ nvidia-smi --query-gpu=timestamp,uuid,memory.used,"
            "power.draw --format=csv,noheader,nounits",
            banner,
            "2026/07/14 08:12:53.353, GPU-0, 19818, 631.95",
            "",
            "",
            banner,
            "# load :: dmon",
            "# $ nvidia-smi dmon -c 1",
            banner,
            "# gpu    pwr",
            "    0    632",
            "",
        ]
    )
    df = read_nvidia_smi_csv(write(tmp_path, text, "cap.txt"), tz="UTC")
    assert df.select("time", "gpu_uuid", "mem_used_bytes", "power_w").rows() == [
        (dt.datetime(2026, 7, 14, 8, 12, 53, 353000, tzinfo=UTC), "GPU-0", 19818.0 * MIB, 631.95)
    ]


def test_gzip_log(tmp_path: Path) -> None:
    path = tmp_path / "gpu.csv.gz"
    path.write_bytes(gzip.compress(b"index, power.draw [W]\n3, 100.25 W\n"))
    assert load_gpu(path).select("gpu_index", "power_w").row(0) == (3, 100.25)


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("0, 19818 GiB, 1 W", "memory.used [MiB]", "expected a value in MiB"),
        ("0, 19818, 1 W", "memory.used [MiB]", "expected a value in MiB"),
        ("0, abc MiB, 1 W", "memory.used [MiB]", "expected a number"),
        ("0, 1 MiB, [Unknown Error]", "power.draw [W]", "reported an error"),
        ("zero, 1 MiB, 1 W", "index", "expected the GPU index"),
    ],
)
def test_bad_values_name_file_line_column(
    tmp_path: Path, line: str, column: str, message: str
) -> None:
    text = f"index, memory.used [MiB], power.draw [W]\n0, 1 MiB, 2 W\n{line}\n"
    path = write(tmp_path, text)
    with pytest.raises(FormatError, match=re.escape(message)) as e:
        read_nvidia_smi_csv(path)
    assert e.value.line == 3
    assert e.value.column == column
    assert str(e.value).startswith(f"{path}, line 3, column {column!r}: ")


def test_wrong_cell_count_and_skip(tmp_path: Path) -> None:
    text = "index, power.draw [W]\n0, 1 W\n1, 2 W, extra\n2, x W\n3, 4 W\n"
    path = write(tmp_path, text)
    with pytest.raises(FormatError, match=r"line 3: expected 2 cells separated by ', '"):
        read_nvidia_smi_csv(path)
    report = LoadReport()
    with pytest.warns(SkippedRecordsWarning, match="skipped 2 records") as w:
        df = read_nvidia_smi_csv(path, on_error="skip", report=report)
    assert df["gpu_index"].to_list() == [0, 3]
    assert len(w[0].message.skipped) == 2  # type: ignore[union-attr]
    assert [str(s).split(":")[0] for s in report.skipped] == [
        f"{path}, line 3",
        f"{path}, line 4, column 'power.draw [W]'",
    ]
    assert report.rows == 2


def test_timestamps_ambiguous_or_malformed(tmp_path: Path) -> None:
    # 02:30 happens twice in Berlin on 2026-10-25 (CEST -> CET)
    path = write(
        tmp_path, "timestamp, index\n2026/10/25 01:30:00.000, 0\n2026/10/25 02:30:00.000, 0\n"
    )
    with pytest.raises(FormatError, match="ambiguous or does not exist") as e:
        read_nvidia_smi_csv(path, tz="Europe/Berlin")
    assert (e.value.line, e.value.column) == (3, "timestamp")
    assert read_nvidia_smi_csv(path, tz="UTC")["time"][1] == dt.datetime(
        2026, 10, 25, 2, 30, tzinfo=UTC
    )
    bad = write(tmp_path, "timestamp, index\n14.07.2026 08:00, 0\n", "bad.csv")
    with pytest.raises(FormatError, match="expected a timestamp like"):
        read_nvidia_smi_csv(bad, tz="UTC")


def test_parameter_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "index, power.draw [W]\n0, 1 W\n")
    with pytest.raises(ParameterError, match="The 'tz' parameter of read_nvidia_smi_csv must"):
        read_nvidia_smi_csv(path, tz="Mars/Olympus")
    with pytest.raises(ParameterError, match="The 'time' parameter of load_gpu must be"):
        load_gpu(path, time=dt.datetime(2026, 1, 1))  # naive
    with pytest.raises(ParameterError, match="The 'on_error' parameter of load_gpu"):
        load_gpu(path, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="The 'fields' parameter"):
        read_nvidia_smi_csv(path, fields=["memory used!"])


def test_unsupported_file(tmp_path: Path) -> None:
    path = write(tmp_path, "hello world\n", "x.txt")
    with pytest.raises(UnsupportedFormatError, match="not recognised as GPU telemetry") as e:
        load_gpu(path)
    assert e.value.path == str(path)


# --------------------------------------------------------------------------------------
# Exporter edge cases (hand-written)
# --------------------------------------------------------------------------------------

LABELS = 'gpu="{g}",UUID="GPU-{g}",modelName="NVIDIA H100 80GB HBM3",Hostname="n1"'


def dcgm_text(*extra: str, reserved: bool = True) -> str:
    lines = []
    for g in ("0", "1"):
        lab = LABELS.format(g=g)
        lines += [
            f"DCGM_FI_DEV_FB_USED{{{lab}}} {10 + int(g)}",
            f"DCGM_FI_DEV_FB_FREE{{{lab}}} 100",
        ]
        if reserved:
            lines.append(f"DCGM_FI_DEV_FB_RESERVED{{{lab}}} 5")
    return "\n".join([*lines, *extra]) + "\n"


def test_dcgm_memory_total_variants() -> None:
    with_reserved = gpu_from_metrics(parse_exposition(dcgm_text(), time=SCRAPE_TIME))
    assert with_reserved["mem_total_bytes"].to_list() == [115.0 * MIB, 116.0 * MIB]
    without = gpu_from_metrics(parse_exposition(dcgm_text(reserved=False), time=SCRAPE_TIME))
    assert without["mem_total_bytes"].to_list() == [110.0 * MIB, 111.0 * MIB]
    total = dcgm_text(f"DCGM_FI_DEV_FB_TOTAL{{{LABELS.format(g='0')}}} 200")
    assert gpu_from_metrics(parse_exposition(total, time=SCRAPE_TIME))[
        "mem_total_bytes"
    ].to_list() == [200.0 * MIB, None]


def test_dcgm_mig_instances_are_rows() -> None:
    base = 'gpu="0",UUID="GPU-0",modelName="NVIDIA H100 80GB HBM3",Hostname="n1"'
    text = (
        "\n".join(
            f'DCGM_FI_DEV_FB_USED{{{base},GPU_I_PROFILE="{p}",GPU_I_ID="{i}"}} {u}'
            for p, i, u in (("3g.40gb", "2", 11091), ("1g.10gb", "9", 9))
        )
        + "\n"
    )
    df = gpu_from_metrics(parse_exposition(text, time=SCRAPE_TIME))
    assert df.select("label.GPU_I_ID", "label.GPU_I_PROFILE", "mem_used_bytes").rows() == [
        ("2", "3g.40gb", 11091.0 * MIB),
        ("9", "1g.10gb", 9.0 * MIB),
    ]


def test_dcgm_counters_units(tmp_path: Path) -> None:
    metrics = parse_exposition(dcgm_text(), time=SCRAPE_TIME)
    gib = write(tmp_path, "DCGM_FI_DEV_FB_USED, gauge, used (in GiB).\n", "c.csv")
    assert gpu_from_metrics(metrics, counters=gib)["mem_used_bytes"][0] == 10.0 * (1 << 30)
    assert (
        gpu_from_metrics(metrics, counters={"DCGM_FI_DEV_FB_USED": "KiB"})["mem_used_bytes"][0]
        == 10.0 * 1024
    )
    mb = write(tmp_path, "DCGM_FI_DEV_FB_USED, gauge, used (in MB).\n", "mb.csv")
    with pytest.raises(FormatError, match=r"the unit 'MB' of DCGM_FI_DEV_FB_USED cannot"):
        gpu_from_metrics(metrics, counters=mb)
    broken = write(tmp_path, "# ok\nDCGM_FI_DEV_FB_USED gauge used\n", "broken.csv")
    with pytest.raises(FormatError, match="expected 'DCGM_FIELD, type, help'") as e:
        read_dcgm_counters(broken)
    assert e.value.line == 2


def test_metrics_frame_errors() -> None:
    one = parse_exposition(f"DCGM_FI_DEV_FB_USED{{{LABELS.format(g='0')}}} 3\n", time=SCRAPE_TIME)
    dup = pl.concat([parse_exposition(dcgm_text(), time=SCRAPE_TIME), one], how="diagonal")
    with pytest.raises(FormatError, match="appears more than once"):
        gpu_from_metrics(dup)
    both = parse_exposition(dcgm_text('nvidia_smi_temperature_gpu{uuid="1"} 40'), time=SCRAPE_TIME)
    with pytest.raises(ParameterError, match="The 'source' parameter of gpu_from_metrics"):
        gpu_from_metrics(both)
    assert gpu_from_metrics(both, source="nvidia_gpu_exporter")["gpu_uuid"].to_list() == ["GPU-1"]
    with pytest.raises(FormatError, match="no GPU metrics found"):
        gpu_from_metrics(parse_exposition("up 1\n", time=SCRAPE_TIME))
    bad_index = parse_exposition('DCGM_FI_DEV_GPU_TEMP{gpu="x"} 1\n', time=SCRAPE_TIME)
    with pytest.raises(FormatError, match="the label 'gpu' must be the GPU index"):
        gpu_from_metrics(bad_index)


def test_scrape_file_needs_time_and_host_override(tmp_path: Path) -> None:
    path = write(tmp_path, dcgm_text(), "scrape.prom")
    with pytest.raises(FormatError):
        load_gpu(path)  # Prometheus text without timestamps: the time must be given
    df = load_gpu(path, time="2026-07-14T10:00:00+02:00", host="override")
    assert df["host"].to_list() == ["override", "override"]
    assert df["time"].to_list() == [SCRAPE_TIME.replace(hour=8, minute=0, second=0)] * 2
    assert df["gpu_index"].to_list() == [0, 1]


def test_pandas_backend(tmp_path: Path, backend: str) -> None:
    path = write(tmp_path, "index, power.draw [W]\n0, 1.5 W\n")
    out = load_gpu(path, backend=backend)  # type: ignore[arg-type]
    assert isinstance(out, pd.DataFrame if backend == "pandas" else pl.DataFrame)
    assert validate(out, GPU)["power_w"].to_list() == [1.5]
