"""The canonical tables: column names, dtypes and a validator.

Every reader produces one of these tables and every analysis consumes them
(``../shared/DESIGN.md`` section 2). Timestamps are ``Datetime("ns", "UTC")``;
durations are floats whose unit is in the column name.

Besides its fixed columns, a table may carry *dynamic* columns under a prefix
(``attributes.<key>``, ``resource.<key>``, ``label.<name>`` ...), each typed by its
values: Int64, Float64, Boolean, String, Binary or a List of those.

Examples
--------
>>> import polars as pl
>>> from toolkit.schema import SPANS, validate
>>> validate(pl.DataFrame({"trace_id": ["ab"]}), SPANS)
Traceback (most recent call last):
...
toolkit.errors.SchemaError: The spans table is missing 12 required columns: 'span_id', ...
"""

from __future__ import annotations

import difflib
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from toolkit._validation import BACKEND, frame_in, reject
from toolkit.errors import ParameterError, SchemaError

__all__ = [
    "GPU",
    "LLM_CALLS",
    "LOGS",
    "METRICS",
    "SPANS",
    "TABLES",
    "TIME",
    "WORKLOAD",
    "Column",
    "Table",
    "check_backend",
    "check_choice",
    "require_columns",
    "to_pandas",
    "to_polars",
    "validate",
]

#: The one timestamp dtype of every canonical table.
TIME = pl.Datetime("ns", "UTC")

EVENT = pl.Struct({"time": TIME, "name": pl.String, "attributes": pl.String})
LINK = pl.Struct({"trace_id": pl.String, "span_id": pl.String, "attributes": pl.String})

SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUS_CODES = ("unset", "ok", "error")
#: OpenMetrics families beyond the four of DESIGN.md keep their own type rather than being
#: coerced: an untyped Prometheus sample is "unknown", not silently a gauge.
METRIC_TYPES = (
    "gauge",
    "counter",
    "histogram",
    "summary",
    "unknown",
    "info",
    "stateset",
    "gaugehistogram",
)


@dataclass(frozen=True)
class Column:
    """One fixed column of a canonical table."""

    name: str
    dtype: pl.DataType
    description: str
    required: bool = True


@dataclass(frozen=True)
class Table:
    """A canonical table: its fixed columns and the prefixes of its dynamic ones."""

    name: str
    columns: tuple[Column, ...]
    dynamic_prefixes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """Names of the fixed columns, in canonical order."""
        return [c.name for c in self.columns]

    @property
    def schema(self) -> dict[str, pl.DataType]:
        """Fixed columns as a polars schema mapping."""
        return {c.name: c.dtype for c in self.columns}

    def empty(self) -> pl.DataFrame:
        """An empty frame with the fixed columns.

        Examples
        --------
        >>> from toolkit.schema import WORKLOAD
        >>> WORKLOAD.empty().columns
        ['arrival_time', 'input_tokens', 'output_tokens', 'model', 'source']
        """
        return pl.DataFrame(schema=self.schema)

    def is_dynamic(self, column: str) -> bool:
        """Whether ``column`` is one of the table's prefixed, value-typed columns."""
        return any(column.startswith(p) for p in self.dynamic_prefixes)

    def __repr__(self) -> str:
        return f"Table({self.name!r}, {len(self.columns)} columns)"


def _c(name: str, dtype: pl.DataType, description: str, required: bool = True) -> Column:
    return Column(name, dtype, description, required)


SPANS = Table(
    "spans",
    (
        _c("trace_id", pl.String(), "32 lowercase hex digits"),
        _c("span_id", pl.String(), "16 lowercase hex digits"),
        _c("parent_span_id", pl.String(), "16 lowercase hex digits; null at a root"),
        _c("name", pl.String(), "span name"),
        _c("kind", pl.String(), "|".join(SPAN_KINDS)),
        _c("service_name", pl.String(), "resource attribute service.name"),
        _c("scope_name", pl.String(), "instrumentation scope"),
        _c("start_time", TIME, "span start, UTC"),
        _c("end_time", TIME, "span end, UTC"),
        _c("duration_ms", pl.Float64(), "end_time - start_time in milliseconds"),
        _c("status_code", pl.String(), "|".join(STATUS_CODES)),
        _c("status_message", pl.String(), "status description"),
        _c("events", pl.List(EVENT), "time, name, attributes as a JSON object string"),
        _c("links", pl.List(LINK), "linked trace and span ids, attributes as JSON", False),
    ),
    ("resource.", "attributes."),
)

LOGS = Table(
    "logs",
    (
        _c("time", TIME, "when the event occurred (falls back to observed_time if unset)"),
        _c("observed_time", TIME, "when the collector saw it"),
        _c("severity_number", pl.Int32(), "OTel severity 1-24; null if unspecified"),
        _c("severity_text", pl.String(), "severity as written by the source"),
        _c("body", pl.String(), "string body; structured bodies as JSON text"),
        _c("trace_id", pl.String(), "32 lowercase hex digits or null"),
        _c("span_id", pl.String(), "16 lowercase hex digits or null"),
        _c("service_name", pl.String(), "resource attribute service.name"),
        _c("scope_name", pl.String(), "instrumentation scope", False),
        _c("event_name", pl.String(), "OTel event name (LogRecord.event_name)", False),
    ),
    ("resource.", "attributes."),
)

METRICS = Table(
    "metrics",
    (
        _c("time", TIME, "sample time"),
        _c("name", pl.String(), "series name; histograms as <name>_bucket/_sum/_count"),
        _c("type", pl.String(), "|".join(METRIC_TYPES)),
        _c("unit", pl.String(), "UCUM unit as exported, e.g. 's', '{token}'"),
        _c("value", pl.Float64(), "sample value (cumulative count for buckets)"),
        _c("le", pl.Float64(), "histogram bucket upper bound (+inf allowed); null otherwise"),
        _c("start_time", TIME, "start of the cumulative or delta interval", False),
        _c("temporality", pl.String(), "cumulative|delta for sums and histograms", False),
        _c("service_name", pl.String(), "resource attribute service.name", False),
        _c("scope_name", pl.String(), "instrumentation scope", False),
    ),
    ("label.", "resource."),
)

LLM_CALLS = Table(
    "llm_calls",
    (
        _c("trace_id", pl.String(), "trace of the call"),
        _c("span_id", pl.String(), "span of the call"),
        _c("start_time", TIME, "call start, UTC"),
        _c("service_name", pl.String(), "service that made or served the call"),
        _c("operation", pl.String(), "gen_ai.operation.name (chat, embeddings, ...)"),
        _c("provider", pl.String(), "gen_ai.provider.name or gen_ai.system"),
        _c("request_model", pl.String(), "model asked for"),
        _c("response_model", pl.String(), "model that answered"),
        _c("input_tokens", pl.Int64(), "prompt tokens"),
        _c("output_tokens", pl.Int64(), "completion tokens"),
        _c("cached_input_tokens", pl.Int64(), "prompt tokens read from cache"),
        _c("reasoning_tokens", pl.Int64(), "reasoning tokens"),
        _c("latency_s", pl.Float64(), "end-to-end duration in seconds"),
        _c("ttft_s", pl.Float64(), "time to first token in seconds"),
        _c("tpot_s", pl.Float64(), "time per output token after the first, seconds"),
        _c("finish_reason", pl.String(), "first finish reason"),
        _c("error_type", pl.String(), "error.type, or status 'error'"),
        _c("is_error", pl.Boolean(), "the call failed"),
        _c("streaming", pl.Boolean(), "response was streamed"),
    ),
    ("eval.", "attributes.", "resource."),
)

WORKLOAD = Table(
    "workload",
    (
        _c("arrival_time", TIME, "request arrival, UTC"),
        _c("input_tokens", pl.Int64(), "prompt tokens"),
        _c("output_tokens", pl.Int64(), "generated tokens"),
        _c("model", pl.String(), "model name when the trace has one", False),
        _c("source", pl.String(), "trace the rows came from", False),
    ),
    ("attributes.",),
)

GPU = Table(
    "gpu",
    (
        _c("time", TIME, "sample time"),
        _c("host", pl.String(), "host name"),
        _c("gpu_index", pl.Int64(), "index on the host"),
        _c("gpu_uuid", pl.String(), "GPU-... UUID"),
        _c("gpu_model", pl.String(), "product name"),
        _c("util_pct", pl.Float64(), "GPU utilisation, percent"),
        _c("mem_used_bytes", pl.Float64(), "framebuffer used, bytes"),
        _c("mem_total_bytes", pl.Float64(), "framebuffer total, bytes"),
        _c("power_w", pl.Float64(), "power draw, watts"),
        _c("temp_c", pl.Float64(), "GPU temperature, degrees Celsius"),
        _c("sm_clock_hz", pl.Float64(), "SM clock, hertz"),
    ),
    ("label.",),
)

PREDICTIONS = Table(
    "predictions",
    (
        _c("time", TIME, "when the model scored, UTC"),
        _c("score", pl.Float64(), "the model's score (higher = more likely positive)"),
        _c("label", pl.Boolean(), "the outcome (true = positive, e.g. fraud); null: not known"),
        _c("label_time", TIME, "when the label became known, UTC", False),
        _c("prediction_id", pl.String(), "the prediction's or transaction's id", False),
        _c("model_version", pl.String(), "the model that scored", False),
    ),
    ("feature.",),
)

#: All canonical tables by name.
TABLES: dict[str, Table] = {
    t.name: t for t in (SPANS, LOGS, METRICS, LLM_CALLS, WORKLOAD, GPU, PREDICTIONS)
}

_SCALARS: tuple[type[pl.DataType], ...] = (
    pl.Int64,
    pl.Float64,
    pl.Boolean,
    pl.String,
    pl.Binary,
    pl.Null,
)


def _is_value_dtype(dtype: pl.DataType) -> bool:
    if isinstance(dtype, pl.List):
        inner = dtype.inner
        return inner is not None and isinstance(inner, _SCALARS)
    return isinstance(dtype, _SCALARS)


def check_backend(backend: object, function: str) -> None:
    """Check a ``backend`` parameter: the one wording every public function uses.

    Examples
    --------
    >>> check_backend("arrow", "load_spans")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'backend' parameter of load_spans must be 'polars' or \
'pandas'. Got 'arrow' instead.
    """
    if not BACKEND.accepts(backend):
        raise reject("backend", "be " + BACKEND.words(), backend, function=function)


def check_choice(value: object, name: str, function: str, choices: Sequence[object]) -> None:
    """Check that parameter ``name`` of ``function`` is one of ``choices``.

    Examples
    --------
    >>> check_choice("csv", "format", "load_gpu", ("auto", "nvidia-smi"))
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'format' parameter of load_gpu must be one of 'auto', \
'nvidia-smi'. Got 'csv' instead.
    """
    options = ", ".join(repr(c) for c in choices)
    if value not in choices:
        raise reject(name, f"be one of {options}", value, function=function)


def check_tz(tz: object, function: str) -> str | None:
    """``tz`` if it is None or an IANA time zone name this machine knows, else an error.

    Examples
    --------
    >>> check_tz("Europe/Paris", "load_logs")
    'Europe/Paris'
    >>> check_tz("Mars/Olympus", "load_logs")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'tz' parameter of load_logs must be an IANA time zone \
name such as 'UTC' or 'Europe/Paris'. Got 'Mars/Olympus' instead.
    """
    if tz is None:
        return None
    if isinstance(tz, str) and tz:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return tz
    raise reject(
        "tz", "be an IANA time zone name such as 'UTC' or 'Europe/Paris'", tz, function=function
    )


def to_polars(frame: Any, *, parameter: str = "frame", function: str = "validate") -> pl.DataFrame:
    """Return ``frame`` as a polars DataFrame (pandas and LazyFrames are converted).

    Parameters
    ----------
    frame : polars.DataFrame, polars.LazyFrame or pandas.DataFrame
        The input table.
    parameter, function : str
        Names used in the error message.

    Returns
    -------
    polars.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> to_polars(pd.DataFrame({"a": [1]})).shape
    (1, 1)
    """
    return frame_in(frame, parameter=parameter, function=function)


def to_pandas(frame: pl.DataFrame) -> Any:
    """A polars frame as pandas, without losing types.

    Integer and boolean columns become pandas' nullable ``Int64``/``Int32``/``boolean``
    (a null never turns int64 into float64, which would corrupt values above 2**53);
    list and struct columns (``events``, list attributes) become Arrow-backed columns, so
    their timestamps stay ``timestamp[ns, UTC]``. :func:`to_polars` restores the frame
    exactly.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"ids": [[1, 2], None], "n": [2**53 + 1, None]})
    >>> pdf = to_pandas(df)
    >>> str(pdf["n"].dtype), int(pdf["n"][0])
    ('Int64', 9007199254740993)
    >>> to_polars(pdf).equals(df)
    True
    """
    import pandas as pd

    nested = [c for c, dt in frame.schema.items() if isinstance(dt, pl.List | pl.Struct | pl.Array)]
    out = frame.drop(nested).to_pandas()
    for name, dtype in frame.schema.items():
        column = frame[name]
        if name in nested:
            values: Any = pd.arrays.ArrowExtensionArray(column.to_arrow())
        elif dtype.is_integer():
            values = pd.arrays.IntegerArray(
                column.fill_null(0).to_numpy(), column.is_null().to_numpy()
            )
        elif dtype == pl.Boolean:
            values = pd.arrays.BooleanArray(
                column.fill_null(False).to_numpy(), column.is_null().to_numpy()
            )
        else:
            continue
        out[name] = pd.Series(values, index=out.index)
    return out[frame.columns]


def _hint(name: str, available: list[str]) -> str:
    close = difflib.get_close_matches(name, available, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def validate(frame: Any, table: Table | str, *, strict: bool = False) -> pl.DataFrame:
    """Check that ``frame`` has the columns and dtypes of a canonical table.

    Parameters
    ----------
    frame : polars.DataFrame, polars.LazyFrame or pandas.DataFrame
        The frame to check; pandas input is converted first.
    table : Table or str
        The canonical table (``SPANS``...) or its name (``"spans"``).
    strict : bool, default False
        Also require the optional fixed columns.

    Returns
    -------
    polars.DataFrame
        The frame (converted to polars), unchanged.

    Raises
    ------
    SchemaError
        Naming every missing column (with the available ones) and every column whose dtype
        differs from the one expected.

    Examples
    --------
    >>> import polars as pl
    >>> from toolkit.schema import WORKLOAD, validate
    >>> df = WORKLOAD.empty().with_columns(pl.col("input_tokens").cast(pl.String))
    >>> validate(df, "workload")
    Traceback (most recent call last):
    ...
    toolkit.errors.SchemaError: The workload table has 1 column of the wrong dtype: \
'input_tokens' is String, expected Int64 (prompt tokens)
    """
    if isinstance(table, str):
        if table not in TABLES:
            raise ParameterError(
                f"The 'table' parameter of validate must be one of {sorted(TABLES)}. "
                f"Got {table!r} instead."
            )
        table = TABLES[table]
    df = to_polars(frame, function="validate")
    schema: Mapping[str, pl.DataType] = df.schema
    available = list(schema)
    missing = [c for c in table.columns if c.name not in schema and (c.required or strict)]
    if missing:
        names = ", ".join(f"{c.name!r}{_hint(c.name, available)}" for c in missing)
        shown = ", ".join(repr(a) for a in available[:30])
        more = f" and {len(available) - 30} more" if len(available) > 30 else ""
        raise SchemaError(
            f"The {table.name} table is missing {len(missing)} required column"
            f"{'s' if len(missing) > 1 else ''}: {names}. "
            f"Available columns: {shown or 'none'}{more}."
        )
    wrong: list[str] = []
    for col in table.columns:
        if col.name in schema and schema[col.name] != col.dtype:
            got = schema[col.name]
            if got == pl.Null:  # an all-null column of unknown type is acceptable
                continue
            wrong.append(f"{col.name!r} is {got}, expected {col.dtype} ({col.description})")
    for name, dtype in schema.items():
        if table.is_dynamic(name) and not _is_value_dtype(dtype):
            wrong.append(
                f"{name!r} is {dtype}, expected Int64, Float64, Boolean, String, Binary "
                "or a List of those"
            )
    if wrong:
        raise SchemaError(
            f"The {table.name} table has {len(wrong)} column"
            f"{'s' if len(wrong) > 1 else ''} of the wrong dtype: " + "; ".join(wrong)
        )
    return df


def require_columns(
    frame: Any, columns: Sequence[str | None], *, table: str, where: str | None = None
) -> None:
    """Check that ``frame`` has every column a caller named (None entries are ignored).

    Parameters
    ----------
    frame : polars.DataFrame, polars.LazyFrame or pandas.DataFrame
        The table.
    columns : sequence of str or None
        The column names the caller gave.
    table : str
        The table's name, for the message (``"llm_calls"``).
    where : str, optional
        What needs the column (``"(the 'by' parameter of slo.alerts)"``).

    Raises
    ------
    ColumnNotFoundError
        Naming the first missing column, the table and the closest available columns.

    Examples
    --------
    >>> import polars as pl
    >>> require_columns(pl.DataFrame({"latency_s": [1.0]}), ["latency"], table="llm_calls")
    Traceback (most recent call last):
    ...
    toolkit.errors.ColumnNotFoundError: The llm_calls table has no column 'latency' \
(the closest: 'latency_s').
    """
    from toolkit.errors import ColumnNotFoundError

    names = (
        list(frame.collect_schema().names())
        if isinstance(frame, pl.LazyFrame)
        else list(frame.columns)
    )
    for column in columns:
        if column is not None and column not in names:
            raise ColumnNotFoundError(column, table, names, where=where)
