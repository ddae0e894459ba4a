"""The OTLP data model, derived from the official protobuf descriptors.

Both the JSON normaliser and the Arrow schema of the fast path are generated from the
descriptors of ``opentelemetry-proto``, so they cover every field of the spec and stay
in step with it. The canonical form is OTLP JSON (camelCase keys, 64-bit integers as
decimal strings, enums as integers, ids as hex strings), with attribute values
normalised by :mod:`toolkit.ingest._attributes`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import pyarrow as pa
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from toolkit.ingest._attributes import (
    ANY_VALUE,
    ATTRIBUTES,
    ValueProblem,
    check_key,
    from_python_value,
    normalize_any_value,
)

__all__ = [
    "SIGNALS",
    "Signal",
    "arrow_type",
    "from_proto",
    "normalize",
]

_F = FieldDescriptor
_INT64 = {_F.TYPE_INT64, _F.TYPE_UINT64, _F.TYPE_FIXED64, _F.TYPE_SFIXED64, _F.TYPE_SINT64}
_INT32 = {_F.TYPE_INT32, _F.TYPE_UINT32, _F.TYPE_FIXED32, _F.TYPE_SFIXED32, _F.TYPE_SINT32}
_FLOAT = {_F.TYPE_DOUBLE, _F.TYPE_FLOAT}
_ANY = "opentelemetry.proto.common.v1.AnyValue"
_KEY_VALUE = "opentelemetry.proto.common.v1.KeyValue"
#: bytes fields that OTLP JSON writes as hex (not base64, unlike proto3 JSON).
_HEX_IDS = {"trace_id", "span_id", "parent_span_id"}
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class Signal:
    """One OTLP signal: its request message, top-level key and record message."""

    def __init__(
        self,
        name: str,
        request: type[Message],
        data_key: str,
        record: str,
        path: tuple[str, str, str],
    ) -> None:
        self.name = name
        self.request = request
        self.data_key = data_key  # e.g. "resourceSpans"
        self.record = record  # full name of the message a skip drops, e.g. Span
        # protobuf field names from the request down to a record
        self.data_key_snake, self.scope_key_snake, self.records_key_snake = path

    @property
    def descriptor(self) -> Descriptor:
        return self.request.DESCRIPTOR


def _signals() -> dict[str, Signal]:
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    return {
        "traces": Signal(
            "traces",
            trace_service_pb2.ExportTraceServiceRequest,
            "resourceSpans",
            "opentelemetry.proto.trace.v1.Span",
            ("resource_spans", "scope_spans", "spans"),
        ),
        "logs": Signal(
            "logs",
            logs_service_pb2.ExportLogsServiceRequest,
            "resourceLogs",
            "opentelemetry.proto.logs.v1.LogRecord",
            ("resource_logs", "scope_logs", "log_records"),
        ),
        "metrics": Signal(
            "metrics",
            metrics_service_pb2.ExportMetricsServiceRequest,
            "resourceMetrics",
            "opentelemetry.proto.metrics.v1.Metric",
            ("resource_metrics", "scope_metrics", "metrics"),
        ),
    }


SIGNALS = _signals()


# --- Arrow schema --------------------------------------------------------------------


def _arrow_field_type(field: FieldDescriptor) -> pa.DataType:
    if field.type == _F.TYPE_MESSAGE:
        full = field.message_type.full_name
        if full == _ANY:
            base: pa.DataType = ANY_VALUE
        elif full == _KEY_VALUE and field.is_repeated:
            return ATTRIBUTES
        else:
            base = arrow_type(field.message_type)
    elif field.type in _INT64:
        base = pa.string()
    elif field.type in _INT32 or field.type == _F.TYPE_ENUM:
        base = pa.int64()
    elif field.type in _FLOAT:
        base = pa.float64()
    elif field.type == _F.TYPE_BOOL:
        base = pa.bool_()
    else:  # string, bytes (hex ids or base64)
        base = pa.string()
    return pa.list_(base) if field.is_repeated else base


@cache
def arrow_type(descriptor: Descriptor) -> pa.StructType:
    """Arrow struct type of the canonical JSON form of a message (camelCase fields)."""
    return pa.struct([(f.json_name, _arrow_field_type(f)) for f in descriptor.fields])


# --- JSON normalisation --------------------------------------------------------------


@cache
def _field_map(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    out: dict[str, FieldDescriptor] = {}
    for f in descriptor.fields:
        out[f.json_name] = f
        out[f.name] = f
    return out


_UNSIGNED = {_F.TYPE_UINT64, _F.TYPE_FIXED64, _F.TYPE_UINT32, _F.TYPE_FIXED32}
_INT64_RANGE = (-(2**63), 2**63 - 1)
_INT32_RANGE = (-(2**31), 2**31 - 1)


def _in_range(value: int, field: FieldDescriptor, name: str) -> int:
    """``value`` if it fits the field's integer type (64-bit values: signed int64, as every
    reader stores them), else a named problem."""
    low, high = _INT64_RANGE if field.type in _INT64 else _INT32_RANGE
    if field.type in _UNSIGNED:
        low = 0
        if field.type in _INT32:
            high = 2**32 - 1
    if not low <= value <= high:
        shown = str(value) if len(str(value)) <= 40 else str(value)[:37] + "..."
        raise ValueProblem(f"{name} {shown} is out of range (expected {low} to {high})")
    return value


def _int64_text(raw: Any, name: str, field: FieldDescriptor | None = None) -> str:
    if isinstance(raw, bool):
        raise ValueProblem(f"{name} must be a decimal string or an integer, got {raw!r}")
    if isinstance(raw, int):
        return str(_in_range(raw, field, name) if field is not None else raw)
    if isinstance(raw, str):
        text = raw.strip()
        # isdecimal() alone admits other scripts' digits ('٣'): ASCII digits only
        if text.lstrip("-").isdigit() and text.isascii():
            if field is not None:
                _in_range(int(text), field, name)
            return text
        raise ValueProblem(f"{name} {raw[:40]!r} is not a decimal integer")
    if isinstance(raw, float):
        raise ValueProblem(
            f"{name} must be a decimal string or an integer, got the float {raw!r}, "
            "which cannot carry nanosecond precision"
        )
    raise ValueProblem(f"{name} must be a decimal string or an integer, got {type(raw).__name__}")


def _scalar(field: FieldDescriptor, raw: Any, name: str) -> Any:
    t = field.type
    if t in _INT64:
        return _int64_text(raw, name, field)
    if t == _F.TYPE_ENUM:
        if isinstance(raw, str):
            value = field.enum_type.values_by_name.get(raw)
            if value is None:
                raise ValueProblem(f"{name} {raw[:40]!r} is not a value of {field.enum_type.name}")
            return value.number
        if isinstance(raw, int) and not isinstance(raw, bool):
            return _in_range(raw, field, name)
        raise ValueProblem(f"{name} must be an integer enum value, got {raw!r}"[:120])
    if t in _INT32:
        if isinstance(raw, str) and raw.lstrip("-").isdigit() and raw.isascii():
            return _in_range(int(raw), field, name)
        if isinstance(raw, int) and not isinstance(raw, bool):
            return _in_range(raw, field, name)
        raise ValueProblem(f"{name} must be an integer, got {raw!r}"[:120])
    if t in _FLOAT:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        if isinstance(raw, str) and raw in _SPECIAL:
            return _SPECIAL[raw]
        raise ValueProblem(f"{name} must be a number, got {raw!r}"[:120])
    if t == _F.TYPE_BOOL:
        if isinstance(raw, bool):
            return raw
        raise ValueProblem(f"{name} must be true or false, got {raw!r}"[:120])
    if not isinstance(raw, str):
        raise ValueProblem(f"{name} must be a string, got {type(raw).__name__}")
    return raw


def _keyvalues(raw: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise ValueProblem(f"{name} must be an array of {{key, value}} objects")
    out = []
    for i, kv in enumerate(raw):
        if not isinstance(kv, Mapping) or not isinstance(kv.get("key"), str):
            raise ValueProblem(f"{name}[{i}] must be an object with a string 'key'")
        try:
            value = normalize_any_value(kv.get("value"))
        except ValueProblem as exc:
            raise ValueProblem(f"{name}[{i}] ({kv['key'][:60]!r}): {exc}") from None
        if not name.endswith("scope.attributes"):  # carried nowhere, so never a column
            try:
                check_key(kv["key"])
            except ValueProblem as exc:
                raise ValueProblem(f"{name}[{i}]: {exc}") from None
        out.append({"key": kv["key"], "value": value})
    return out


OnSkip = Callable[[str, str], None]


def normalize(
    descriptor: Descriptor,
    obj: Any,
    path: str,
    *,
    skip_records: str | None = None,
    on_skip: OnSkip | None = None,
) -> dict[str, Any]:
    """OTLP JSON object (camelCase or snake_case keys) to the canonical dict.

    Parameters
    ----------
    descriptor : Descriptor
        The message the object encodes.
    obj : Any
        Decoded JSON.
    path : str
        JSON path of ``obj``, for messages.
    skip_records : str, optional
        Full name of a record message (Span, LogRecord, Metric): an invalid record is
        left out and reported through ``on_skip(path, problem)`` instead of raising.

    Raises
    ------
    ValueProblem
        With the JSON path of the first invalid value.
    """
    if not isinstance(obj, Mapping):
        raise ValueProblem(
            f"{path or 'the document'} must be a JSON object, got {type(obj).__name__}"
        )
    fields = _field_map(descriptor)
    out: dict[str, Any] = {}
    for key, raw in obj.items():
        field = fields.get(key)
        if field is None or raw is None:
            continue  # unknown fields are ignored (OTLP spec)
        name = f"{path}.{field.json_name}" if path else field.json_name
        if field.type == _F.TYPE_MESSAGE:
            full = field.message_type.full_name
            if full == _KEY_VALUE and field.is_repeated:
                out[field.json_name] = _keyvalues(raw, name)
            elif full == _ANY:
                try:
                    out[field.json_name] = normalize_any_value(raw)
                except ValueProblem as exc:
                    raise ValueProblem(f"{name}: {exc}") from None
            elif field.is_repeated:
                if not isinstance(raw, list):
                    raise ValueProblem(f"{name} must be an array, got {type(raw).__name__}")
                items = []
                for i, item in enumerate(raw):
                    item_path = f"{name}[{i}]"
                    if skip_records == full and on_skip is not None:
                        try:
                            items.append(normalize(field.message_type, item, item_path))
                        except ValueProblem as exc:
                            on_skip(item_path, str(exc))
                    else:
                        items.append(
                            normalize(
                                field.message_type,
                                item,
                                item_path,
                                skip_records=skip_records,
                                on_skip=on_skip,
                            )
                        )
                out[field.json_name] = items
            else:
                out[field.json_name] = normalize(
                    field.message_type, raw, name, skip_records=skip_records, on_skip=on_skip
                )
        elif field.is_repeated:
            if not isinstance(raw, list):
                raise ValueProblem(f"{name} must be an array, got {type(raw).__name__}")
            out[field.json_name] = [_scalar(field, v, f"{name}[{i}]") for i, v in enumerate(raw)]
        else:
            out[field.json_name] = _scalar(field, raw, name)
    return out


# --- protobuf ------------------------------------------------------------------------


def _any_from_proto(value: Message) -> dict[str, Any]:
    kind = value.WhichOneof("value")
    if kind is None:
        return {}
    raw = getattr(value, kind)
    if kind == "string_value":
        return {"stringValue": raw}
    if kind == "bool_value":
        return {"boolValue": raw}
    if kind == "int_value":
        return {"intValue": str(raw)}
    if kind == "double_value":
        return {"doubleValue": raw}
    if kind == "bytes_value":
        return {"bytesValue": base64.b64encode(raw).decode("ascii")}
    return from_python_value(_plain_from_proto(value))


def _plain_from_proto(value: Message) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    raw = getattr(value, kind)
    if kind == "array_value":
        return [_plain_from_proto(v) for v in raw.values]
    if kind == "kvlist_value":
        return {kv.key: _plain_from_proto(kv.value) for kv in raw.values}
    if kind == "bytes_value":
        return base64.b64encode(raw).decode("ascii")
    if kind == "double_value" and not math.isfinite(raw):
        return str(raw)
    return raw


def from_proto(message: Message) -> dict[str, Any]:
    """A parsed OTLP protobuf message to the canonical dict (same as :func:`normalize`)."""
    out: dict[str, Any] = {}
    for field, raw in message.ListFields():
        key = field.json_name
        if field.type == _F.TYPE_MESSAGE:
            full = field.message_type.full_name
            if full == _KEY_VALUE and field.is_repeated:
                out[key] = [{"key": kv.key, "value": _any_from_proto(kv.value)} for kv in raw]
            elif full == _ANY:
                out[key] = _any_from_proto(raw)
            elif field.is_repeated:
                out[key] = [from_proto(m) for m in raw]
            else:
                out[key] = from_proto(raw)
        elif field.type == _F.TYPE_BYTES:
            if field.name in _HEX_IDS:
                out[key] = raw.hex()
            else:
                out[key] = base64.b64encode(raw).decode("ascii")
        elif field.type in _INT64:
            out[key] = [str(v) for v in raw] if field.is_repeated else str(raw)
        elif field.is_repeated:
            out[key] = list(raw)
        else:
            out[key] = raw
    return out
