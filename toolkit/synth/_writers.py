"""Byte-stable writers for the simulator: OTLP JSON Lines, Prometheus text, nvidia-smi CSV.

Every writer produces the same bytes for the same input: gzip with ``mtime=0`` and no file
name in the header, keys in a fixed order, floats as Python's shortest round-trip ``repr``.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import numpy as np

_ENCODER = msgspec.json.Encoder()

AttrValue = str | bool | int | float | list[str]


@contextmanager
def gzip_writer(path: Path) -> Iterator[BinaryIO]:
    """A gzip stream whose header carries no time and no name (byte-stable output)."""
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
    ):
        buffered = io.BufferedWriter(gz, buffer_size=1 << 20)
        yield buffered
        buffered.flush()


def any_value(value: AttrValue) -> dict[str, Any]:
    """OTLP JSON ``AnyValue`` of a Python value (int64 as decimal strings)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    return {"stringValue": value}


def attributes(pairs: Iterable[tuple[str, AttrValue | None]]) -> list[dict[str, Any]]:
    """OTLP JSON ``KeyValue`` list, leaving out ``None`` values."""
    return [{"key": k, "value": any_value(v)} for k, v in pairs if v is not None]


def encode_line(obj: object) -> bytes:
    """One JSON line (msgspec keeps dict insertion order)."""
    return _ENCODER.encode(obj) + b"\n"


# --- Prometheus text ----------------------------------------------------------------------------


def format_number(values: np.ndarray, integer: bool) -> list[str]:
    """Sample values as text: integers as ``123``, floats as their shortest ``repr``."""
    if integer:
        return [str(v) for v in values.astype(np.int64).tolist()]
    return [repr(v) for v in values.astype(np.float64).tolist()]


class Family:
    """One metric family: ``# HELP``/``# TYPE`` and its series (labels -> values over time)."""

    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.name = name
        self.kind = kind
        self.help = help_text
        self.series: list[tuple[str, str, list[str]]] = []

    def add(self, sample_name: str, labels: Sequence[tuple[str, str]], values: list[str]) -> None:
        text = ",".join(f'{k}="{v}"' for k, v in labels)
        self.series.append((sample_name, text, values))


def write_prometheus(out: BinaryIO, families: Sequence[Family], times_ms: Sequence[int]) -> None:
    """Prometheus text exposition, every sample with its explicit timestamp (ms).

    Each family's samples stay together (as the format requires); within a family the
    samples are written series by series, each series in time order.
    """
    stamps = [str(t) for t in times_ms]
    for fam in families:
        out.write(f"# HELP {fam.name} {fam.help}\n# TYPE {fam.name} {fam.kind}\n".encode())
        for sample_name, labels, values in fam.series:
            head = f"{sample_name}{{{labels}}} "
            out.write(
                "".join(f"{head}{v} {t}\n" for v, t in zip(values, stamps, strict=True)).encode()
            )
