"""Attributes: from OTLP ``AnyValue`` (or plain Python values) to typed columns.

Every reader funnels attributes through the same two steps, so the typing rules of
DESIGN.md section 2 hold for every format:

1. a *long* frame, one row per (owner row, key), with one slot per kind of value
   (string, int, double, bool, bytes, JSON for maps and nested arrays, and homogeneous
   arrays of each scalar kind);
2. :func:`pivot` turns it into one column per key, typed by the kinds seen: a single
   kind keeps its dtype, int + double become Float64, any other mix becomes String
   (reported so the loader can warn once, naming the keys).

The Arrow type :data:`ANY_VALUE` is the canonical, normalised shape of an OTLP
``AnyValue`` (camelCase keys, ``intValue`` as a decimal string as in OTLP JSON, complex
values pre-encoded as JSON in the non-OTLP field ``_json``).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ANY_VALUE",
    "ATTRIBUTES",
    "KEY_VALUE",
    "LONG_SCHEMA",
    "attributes_long",
    "from_python_value",
    "json_objects",
    "mapping_to_keyvalues",
    "normalize_any_value",
    "pivot",
    "string_expr",
    "values_long",
]

_ELEMENT = pa.struct(
    [
        ("stringValue", pa.string()),
        ("boolValue", pa.bool_()),
        ("intValue", pa.string()),
        ("doubleValue", pa.float64()),
    ]
)
#: Normalised OTLP AnyValue. ``_json`` is ours: maps, nested or mixed arrays as JSON text.
ANY_VALUE = pa.struct(
    [
        ("stringValue", pa.string()),
        ("boolValue", pa.bool_()),
        ("intValue", pa.string()),
        ("doubleValue", pa.float64()),
        ("bytesValue", pa.string()),
        ("arrayValue", pa.struct([("values", pa.list_(_ELEMENT))])),
        ("_json", pa.string()),
    ]
)
KEY_VALUE = pa.struct([("key", pa.string()), ("value", ANY_VALUE)])
ATTRIBUTES = pa.list_(KEY_VALUE)

#: Slots of the long frame, in the order used to decide a column's dtype.
_SCALAR_SLOTS = {
    "s": pl.String,
    "i": pl.Int64,
    "d": pl.Float64,
    "b": pl.Boolean,
    "y": pl.Binary,
    "j": pl.String,
}
_ARRAY_SLOTS = {"as": pl.String, "ai": pl.Int64, "ad": pl.Float64, "ab": pl.Boolean}
LONG_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "key": pl.String(),
    **{k: v() for k, v in _SCALAR_SLOTS.items()},
    **{k: pl.List(v) for k, v in _ARRAY_SLOTS.items()},
    "ae": pl.Boolean(),  # an empty array: takes the list type of its key
}

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class ValueProblem(ValueError):
    """An AnyValue that cannot be read; the caller adds the location."""


def check_key(key: str) -> str:
    """``key``, or ValueProblem when it holds a NUL character: an attribute key becomes a
    column name, and Arrow, Parquet and pandas cannot carry a NUL in one.

    Examples
    --------
    >>> check_key("gen_ai.system")
    'gen_ai.system'
    >>> check_key("a\\x00b")
    Traceback (most recent call last):
    ...
    toolkit.ingest._attributes.ValueProblem: the attribute key 'a\\x00b' holds a NUL character, ...
    """
    if "\x00" in key:
        shown = repr(key[:60])
        raise ValueProblem(
            f"the attribute key {shown} holds a NUL character, which no column name can carry"
        )
    return key


def _scalar_any(value: Any) -> dict[str, Any] | None:
    """Plain Python scalar to the canonical AnyValue dict, or None if not a scalar."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            return {"stringValue": str(value)}  # wider than int64 (e.g. 128-bit ids): keep exact
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    return None


def from_python_value(value: Any) -> dict[str, Any]:
    """Canonical AnyValue dict for a plain Python value (Jaeger tags, SDK dumps, ...).

    Lists of one scalar kind stay arrays; dicts and mixed or nested lists become JSON text.

    Examples
    --------
    >>> from_python_value(3)
    {'intValue': '3'}
    >>> from_python_value(["stop"])
    {'arrayValue': {'values': [{'stringValue': 'stop'}]}}
    >>> from_python_value({"a": 1})
    {'_json': '{"a": 1}'}
    """
    scalar = _scalar_any(value)
    if scalar is not None:
        return scalar
    if isinstance(value, list | tuple):
        elements = [_scalar_any(v) for v in value]
        kinds = {next(iter(e)) for e in elements if e}
        if all(e for e in elements) and len(kinds) <= 1 and "bytesValue" not in kinds:
            return {"arrayValue": {"values": elements}}
        return {"_json": json.dumps(_jsonable(list(value)), ensure_ascii=False)}
    if isinstance(value, Mapping):
        return {"_json": json.dumps(_jsonable(dict(value)), ensure_ascii=False)}
    raise ValueProblem(f"unsupported attribute value of type {type(value).__name__}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def mapping_to_keyvalues(attributes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Flat ``{key: python value}`` to normalised OTLP KeyValue dicts.

    Examples
    --------
    >>> mapping_to_keyvalues({"n": 1.5})
    [{'key': 'n', 'value': {'doubleValue': 1.5}}]
    """
    if not attributes:
        return []
    return [
        {"key": check_key(str(k)), "value": from_python_value(v)} for k, v in attributes.items()
    ]


# --- OTLP JSON AnyValue -----------------------------------------------------------------

_ANY_KEYS = {
    "stringValue": "stringValue",
    "string_value": "stringValue",
    "boolValue": "boolValue",
    "bool_value": "boolValue",
    "intValue": "intValue",
    "int_value": "intValue",
    "doubleValue": "doubleValue",
    "double_value": "doubleValue",
    "bytesValue": "bytesValue",
    "bytes_value": "bytesValue",
    "arrayValue": "arrayValue",
    "array_value": "arrayValue",
    "kvlistValue": "kvlistValue",
    "kvlist_value": "kvlistValue",
}
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _otlp_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueProblem(f"intValue must be a decimal string or an integer, got {raw!r}")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        try:
            value = int(raw, 10)
        except ValueError:
            raise ValueProblem(f"intValue {raw[:40]!r} is not a decimal integer") from None
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    else:
        raise ValueProblem(f"intValue must be a decimal string or an integer, got {raw!r}"[:120])
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueProblem(f"intValue {value} does not fit in 64 bits")
    return value


def _otlp_double(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueProblem(f"doubleValue must be a number, got {raw!r}")
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str) and raw in _SPECIAL_DOUBLES:
        return _SPECIAL_DOUBLES[raw]
    raise ValueProblem(f"doubleValue must be a number, got {raw!r}"[:120])


def _plain(value: Mapping[str, Any] | None) -> Any:
    """OTLP JSON AnyValue to a plain Python value (for JSON text of complex values)."""
    if not value:
        return None
    for raw_key, raw in value.items():
        key = _ANY_KEYS.get(raw_key)
        if key == "stringValue":
            return raw
        if key == "boolValue":
            return bool(raw)
        if key == "intValue":
            return _otlp_int(raw)
        if key == "doubleValue":
            d = _otlp_double(raw)
            return d if math.isfinite(d) else str(d)
        if key == "bytesValue":
            return raw
        if key == "arrayValue":
            return [_plain(v) for v in _values(raw, "arrayValue")]
        if key == "kvlistValue":
            return {kv["key"]: _plain(kv.get("value")) for kv in _keyed(raw)}
    return None


def _values(raw: Any, name: str) -> list[Any]:
    """The ``values`` list of an ``arrayValue`` or ``kvlistValue`` object, checked."""
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise ValueProblem(f"{name} must be an object with 'values', got {type(raw).__name__}")
    values = raw.get("values")
    if values is None:
        return []
    if not isinstance(values, list):
        raise ValueProblem(f"{name}.values must be an array, got {type(values).__name__}")
    return values


def _keyed(raw: Any) -> list[Mapping[str, Any]]:
    """The key/value objects of a ``kvlistValue``, each checked for a string key."""
    values = _values(raw, "kvlistValue")
    for i, kv in enumerate(values):
        if not isinstance(kv, Mapping) or not isinstance(kv.get("key"), str):
            raise ValueProblem(f"kvlistValue.values[{i}] must be an object with a string 'key'")
    return values


def normalize_any_value(value: Any) -> dict[str, Any]:
    """OTLP JSON (camelCase or snake_case) AnyValue to the canonical dict of ANY_VALUE.

    Integers become decimal strings, special doubles are decoded, maps and nested or
    mixed arrays become JSON text in ``_json``.

    Raises
    ------
    ValueProblem
        When the value is not a valid AnyValue (the caller adds where).

    Examples
    --------
    >>> normalize_any_value({"int_value": 7})
    {'intValue': '7'}
    >>> kv = {"key": "a", "value": {"boolValue": True}}
    >>> normalize_any_value({"kvlistValue": {"values": [kv]}})
    {'_json': '{"a": true}'}
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueProblem(f"an AnyValue must be an object, got {type(value).__name__}")
    out: dict[str, Any] = {}
    for raw_key, raw in value.items():
        key = _ANY_KEYS.get(raw_key)
        if key is None or raw is None:
            continue  # unknown fields are ignored, as the OTLP spec requires
        if key == "stringValue":
            if not isinstance(raw, str):
                raise ValueProblem(f"stringValue must be a string, got {type(raw).__name__}")
            out = {"stringValue": raw}
        elif key == "boolValue":
            if not isinstance(raw, bool):
                raise ValueProblem(f"boolValue must be true or false, got {raw!r}"[:120])
            out = {"boolValue": raw}
        elif key == "intValue":
            out = {"intValue": str(_otlp_int(raw))}
        elif key == "doubleValue":
            out = {"doubleValue": _otlp_double(raw)}
        elif key == "bytesValue":
            try:
                base64.b64decode(raw, validate=True)
            except (ValueError, TypeError):
                raise ValueProblem(f"bytesValue {str(raw)[:40]!r} is not valid base64") from None
            out = {"bytesValue": raw}
        elif key == "arrayValue":
            elements = [normalize_any_value(v) for v in _values(raw, "arrayValue")]
            kinds = {next(iter(e)) for e in elements if e}
            simple = (
                all(e for e in elements)
                and len(kinds) <= 1
                and kinds <= {"stringValue", "boolValue", "intValue", "doubleValue"}
            )
            if simple:
                out = {"arrayValue": {"values": elements}}
            else:
                out = {"_json": json.dumps(_plain(value), ensure_ascii=False)}
        elif key == "kvlistValue":
            for kv in _keyed(raw):
                normalize_any_value(kv.get("value"))  # checks each value as an AnyValue
            out = {"_json": json.dumps(_plain(value), ensure_ascii=False)}
    return out


def normalize_attributes(attributes: Any) -> list[dict[str, Any]]:
    """OTLP JSON ``attributes`` array to normalised KeyValue dicts."""
    if attributes is None:
        return []
    if not isinstance(attributes, list):
        raise ValueProblem(f"attributes must be an array, got {type(attributes).__name__}")
    out = []
    for kv in attributes:
        if not isinstance(kv, Mapping) or not isinstance(kv.get("key"), str):
            raise ValueProblem("each attribute must be an object with a string 'key'")
        out.append({"key": check_key(kv["key"]), "value": normalize_any_value(kv.get("value"))})
    return out


# --- long frame -------------------------------------------------------------------------


def _field(arr: pa.Array, name: str) -> pa.Array:
    return pc.struct_field(arr, name)


def attributes_long(attributes: pa.Array, parent: np.ndarray | None = None) -> pl.DataFrame:
    """Long frame (``LONG_SCHEMA``) from a ``list<KEY_VALUE>`` Arrow array.

    Parameters
    ----------
    attributes : pyarrow.Array
        One list of key/values per owner row.
    parent : numpy.ndarray, optional
        Owner row of each list; defaults to the list's position.
    """
    if isinstance(attributes, pa.ChunkedArray):
        attributes = attributes.combine_chunks()
    owners = pc.list_parent_indices(attributes).to_numpy()
    if parent is not None:
        owners = parent[owners]
    kv = pc.list_flatten(attributes)
    return _slots(_field(kv, "value"), owners, _field(kv, "key"))


def _slots(
    value: pa.Array, owners: np.ndarray, keys: pa.Array, *, check_keys: bool = True
) -> pl.DataFrame:
    arr_values = _field(_field(value, "arrayValue"), "values")
    base = pl.from_arrow(
        pa.table(
            {
                "row": pa.array(owners, pa.int64()),
                "key": keys,
                "s": _field(value, "stringValue"),
                "i": _field(value, "intValue"),
                "d": _field(value, "doubleValue"),
                "b": _field(value, "boolValue"),
                "y": _field(value, "bytesValue"),
                "j": _field(value, "_json"),
                "arr": arr_values,
            }
        )
    )
    assert isinstance(base, pl.DataFrame)
    elem = pl.element().struct
    arr = pl.col("arr")
    n = arr.list.len()
    fields = {"as": "stringValue", "ai": "intValue", "ad": "doubleValue", "ab": "boolValue"}
    if check_keys and base["key"].null_count():
        raise ValueProblem("an attribute has no 'key'")
    if check_keys and base["key"].str.contains("\x00", literal=True).any():
        raise ValueProblem("an attribute key holds a NUL character")
    if base["arr"].null_count() < base.height:
        exprs = [
            pl.when((n > 0) & (arr.list.eval(elem.field(fname).is_not_null()).list.sum() == n))
            .then(arr.list.eval(elem.field(fname)))
            .alias(slot)
            for slot, fname in fields.items()
        ]
        long = base.with_columns(exprs).with_columns(
            pl.col("ai").list.eval(pl.element().cast(pl.Int64, strict=False)),
            (n == 0).alias("ae"),
        )
        typed = pl.any_horizontal(pl.col(slot).is_not_null() for slot in fields)
        if long.select((pl.col("arr").list.len() > 0) & ~typed).to_series().any():
            # mixed kinds, null or nested elements: the general reader writes them as JSON
            raise ValueProblem("an arrayValue mixes value types or holds nulls or arrays")
        bad_ints = long.select(
            pl.col("ai").list.eval(pl.element().is_null()).list.any().fill_null(False)
        ).to_series()
        if bad_ints.any():
            raise ValueProblem("an arrayValue holds an intValue that is not a 64-bit integer")
    else:
        long = base.with_columns(
            *(pl.lit(None, dtype=pl.List(dt)).alias(k) for k, dt in _ARRAY_SLOTS.items()),
            pl.lit(None, dtype=pl.Boolean).alias("ae"),
        )
    ints = long["i"].cast(pl.Int64, strict=False)
    if ints.null_count() != long["i"].null_count():
        bad = long.filter(ints.is_null() & long["i"].is_not_null())["i"][0]
        raise ValueProblem(f"intValue {bad[:40]!r} is not a 64-bit decimal integer")
    try:
        raw_bytes = long["y"].str.decode("base64", strict=True)
    except pl.exceptions.ComputeError:
        raise ValueProblem("bytesValue is not valid base64") from None
    long = long.with_columns(ints.alias("i"), raw_bytes.alias("y")).drop("arr")
    return long.select(list(LONG_SCHEMA)).cast(pl.Schema(LONG_SCHEMA))


def values_long(values: pa.Array) -> pl.Series:
    """One AnyValue per row (a log body) as String: strings as they are, anything else
    rendered by :func:`string_expr` (maps and mixed arrays are JSON text already)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n = len(values)
    long = _slots(values, np.arange(n), pa.nulls(n, pa.string()), check_keys=False)
    out = pl.Series("body", [None] * n, dtype=pl.String)
    for slot in (*_SCALAR_SLOTS, *_ARRAY_SLOTS, "ae"):
        out = out.fill_null(_slot_as_string(long, slot))
    return out


# --- pivot ------------------------------------------------------------------------------


def _to_json_text(series: pl.Series) -> pl.Series:
    """List values as JSON text (rare path: only for keys of mixed kinds)."""
    return pl.Series(
        series.name,
        [
            None if v is None else json.dumps(_jsonable(v), ensure_ascii=False)
            for v in series.to_list()
        ],
        dtype=pl.String,
    )


def string_expr(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Expression rendering a column of ``dtype`` as String, the one rule for mixed types.

    Numbers as polars writes them, booleans ``true``/``false``, bytes as base64, lists as
    JSON text.
    """
    if dtype == pl.String:
        return expr
    if dtype == pl.Binary:
        return expr.bin.encode("base64")
    if dtype == pl.Boolean:
        return expr.cast(pl.String).str.to_lowercase()
    if isinstance(dtype, pl.List):
        return expr.map_batches(_to_json_text, return_dtype=pl.String)
    return expr.cast(pl.String)


def _slot_as_string(long: pl.DataFrame, slot: str) -> pl.Series:
    if slot == "ae":
        return long.select(
            pl.when(pl.col("ae")).then(pl.lit("[]")).otherwise(pl.lit(None, pl.String))
        ).to_series()
    return long.select(string_expr(pl.col(slot), long.schema[slot])).to_series()


def _with_empty_lists(group: pl.DataFrame, values: pl.Series, empty: pl.Series) -> pl.Series:
    is_empty = group["ae"].fill_null(False)
    return pl.select(pl.when(is_empty).then(empty.first()).otherwise(values)).to_series()


def _typed_values(group: pl.DataFrame, kinds: list[str]) -> tuple[pl.Series, bool]:
    """One Series of values for a key's rows, and whether a promotion happened."""
    kset = set(kinds)
    if not kset:  # present but always empty: no type yet (unified with other batches)
        return pl.Series("v", [None] * group.height, dtype=pl.Null), False
    if len(kset) == 1 and kset <= set(_SCALAR_SLOTS):
        return group[kinds[0]], False
    if kset == {"i", "d"}:
        return group["d"].fill_null(group["i"].cast(pl.Float64)), True
    array_kinds = kset - {"ae"}
    if kset <= {*_ARRAY_SLOTS, "ae"} and len(array_kinds) <= 1:
        slot = next(iter(array_kinds)) if array_kinds else "as"
        inner = _ARRAY_SLOTS[slot]
        empty = pl.Series([[]], dtype=pl.List(inner))
        values = group[slot]
        if "ae" in kset:
            values = _with_empty_lists(group, values, empty)
        return values, False
    if kset <= {"ai", "ad", "ae"}:
        values = group["ad"].fill_null(group["ai"].cast(pl.List(pl.Float64)))
        if "ae" in kset:
            values = _with_empty_lists(group, values, pl.Series([[]], dtype=pl.List(pl.Float64)))
        return values, True
    out = pl.Series("v", [None] * group.height, dtype=pl.String)
    for slot in kinds:
        out = out.fill_null(_slot_as_string(group, slot))
    return out, True


def pivot(
    long: pl.DataFrame, n_rows: int, prefix: str
) -> tuple[dict[str, pl.Series], dict[str, str], int]:
    """One typed column per key of a long attribute frame.

    Parameters
    ----------
    long : polars.DataFrame
        Frame of ``LONG_SCHEMA``; ``row`` in ``[0, n_rows)``.
    n_rows : int
        Height of the owning table.
    prefix : str
        Column name prefix, e.g. ``"attributes."``.

    Returns
    -------
    columns : dict of str to polars.Series
        ``prefix + key`` to a Series of length ``n_rows`` (null where the key is absent),
        in order of first appearance.
    promoted : dict of str to str
        Columns whose values disagreed in type, with the dtype they got.
    duplicates : int
        (row, key) pairs given more than once; the last value was kept.
    """
    columns: dict[str, pl.Series] = {}
    promoted: dict[str, str] = {}
    duplicates = 0
    if long.height == 0:
        return columns, promoted, duplicates
    encoded = pc.dictionary_encode(long["key"].to_arrow())
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    names = encoded.dictionary.to_pylist()
    order = np.argsort(codes, kind="stable")  # groups keys, keeps row order within a key
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    all_rows = long["row"].to_numpy()
    slots = [*_SCALAR_SLOTS, *_ARRAY_SLOTS]
    present = {slot: long[slot].is_not_null().to_numpy() for slot in slots}
    present["ae"] = long["ae"].fill_null(False).to_numpy()
    for code, key in enumerate(names):
        idx = order[bounds[code] : bounds[code + 1]]
        if idx.size == 0:
            continue
        rows = all_rows[idx]
        if rows.size > 1:
            dup = np.diff(rows) == 0  # rows ascend within a key (stable sort of codes)
            duplicates += int(dup.sum())
        kinds = [slot for slot in (*slots, "ae") if present[slot][idx].any()]
        # one kind (the usual case): gather just that slot; a mix needs them all
        needed = kinds if len(kinds) == 1 and kinds[0] != "ae" else [*slots, "ae"]
        group = long.select(needed)[idx]
        values, was_promoted = _typed_values(group, kinds)
        name = f"{prefix}{key}"
        if was_promoted:
            promoted[name] = str(values.dtype)
        positions = np.full(n_rows, -1, dtype=np.int64)
        positions[rows] = np.arange(rows.size)  # last write wins for duplicated keys
        taken = values.to_arrow().take(pa.array(positions, mask=positions < 0))
        series = pl.Series(name, taken)
        columns[name] = series.cast(values.dtype) if series.dtype != values.dtype else series
    return columns, promoted, duplicates


def json_objects(long: pl.DataFrame, n_rows: int) -> pl.Series:
    """One JSON object string per owner row (``"{}"`` when it has no attributes).

    Used for event and link attributes, whose keys vary from one event to the next.
    """
    if long.height == 0:
        return pl.Series("attributes", ["{}"] * n_rows, dtype=pl.String)

    def encoded(expr: pl.Expr) -> pl.Expr:
        # polars escapes JSON strings correctly inside struct.json_encode: '{"v":<json>}'
        return pl.struct(expr.alias("v")).struct.json_encode().str.slice(5).str.head(-1)

    value_json = pl.coalesce(
        pl.when(pl.col("s").is_not_null()).then(encoded(pl.col("s"))),
        pl.when(pl.col("i").is_not_null()).then(pl.col("i").cast(pl.String)),
        pl.when(pl.col("d").is_not_null() & pl.col("d").is_finite()).then(encoded(pl.col("d"))),
        pl.when(pl.col("d").is_not_null()).then(encoded(pl.col("d").cast(pl.String))),
        pl.when(pl.col("b").is_not_null()).then(encoded(pl.col("b"))),
        pl.when(pl.col("y").is_not_null()).then(encoded(pl.col("y").bin.encode("base64"))),
        pl.col("j"),
        *(pl.when(pl.col(s).is_not_null()).then(encoded(pl.col(s))) for s in _ARRAY_SLOTS),
        pl.when(pl.col("ae").fill_null(False)).then(pl.lit("[]")),
        pl.lit("null"),
    )
    fragments = long.select("row", (encoded(pl.col("key")) + pl.lit(":") + value_json).alias("kv"))
    joined = fragments.group_by("row", maintain_order=True).agg(
        (pl.lit("{") + pl.col("kv").str.join(",") + pl.lit("}")).alias("json")
    )
    positions = np.full(n_rows, -1, dtype=np.int64)
    positions[joined["row"].to_numpy()] = np.arange(joined.height)
    taken = joined["json"].to_arrow().take(pa.array(positions, mask=positions < 0))
    return pl.Series("attributes", taken).fill_null("{}")


def keyvalue_lists(rows: Iterable[list[dict[str, Any]]]) -> pa.Array:
    """Arrow ``list<KEY_VALUE>`` from normalised KeyValue dict lists."""
    return pa.array(list(rows), type=ATTRIBUTES)
