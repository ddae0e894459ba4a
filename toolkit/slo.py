"""Service level objectives: SLIs, error budgets, multiwindow burn-rate alerts and goodput.

The SRE's first questions about an LLM service: are we inside our objectives, how fast are
we burning the error budget, would we have been paged, and how many requests per second
meet every latency objective at once?

Events and counts
-----------------
Every budget and alert function takes ``events`` in one of two shapes:

* **one row per event** (a request, a model call): a Boolean column ``good`` (default
  ``"is_good"``; :func:`good_events` adds it to an ``llm_calls`` table) and a time column
  (default ``"start_time"``). A null in ``good`` marks an event the SLI does not apply to
  (a failed call has no time to first token): it is left out of both counts.
* **pre-aggregated counts** (what metrics give, e.g. :func:`metric_counts`): a numeric
  ``good`` column and a numeric ``total`` column per row, with the row's time. When the
  default ``good="is_good"`` is not a column but ``good`` and ``total`` are, those are
  used, so ``alerts(metric_counts(...), 0.99)`` needs no further argument.

Both become the same series: good and total counts per ``resolution`` bucket (one minute
by default), bucket ``[b, b + resolution)`` holding the events whose time falls in it, on a
gap-free grid from the first to the last event (empty buckets count zero). An SLI window
of length ``w`` evaluated at time ``t`` (always a bucket end) covers the buckets in
``[t - w, t)``; its burn rate is ``(bad / total) / (1 - target)`` (Google SRE Workbook),
null when the window holds no event. Windows are clipped at the first bucket: the
evaluation at the data's start sees what there is, as Prometheus would.

SLO definitions
---------------
:class:`SLO` is a small frozen dataclass (target, SLI, threshold, time window, budgeting
method); :func:`load_slos` reads them from OpenSLO v1 YAML files (``kind: SLO``, with an
inline ``indicator`` or an ``indicatorRef`` to a ``kind: SLI`` document).
``toolkit/data/slo/llm_service.yaml`` is an example for an LLM gateway.

Examples
--------
>>> import polars as pl
>>> from datetime import datetime, timedelta, timezone
>>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
>>> calls = pl.DataFrame({
...     "start_time": [t0 + timedelta(minutes=m) for m in range(120)],
...     "is_error": [40 <= m < 70 for m in range(120)],   # half an hour of failures
... })
>>> slo = SLO("availability", target=0.999, sli="availability")
>>> fired = alerts(good_events(calls, slo), slo)
>>> fired.select("severity", "start", "long_window", "short_window").row(0)
('page', datetime.datetime(2026, 11, 2, 0, 41, tzinfo=zoneinfo.ZoneInfo(key='UTC')), '1h', '5m')
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import polars as pl

from toolkit.errors import FormatError, ParameterError, preview
from toolkit.schema import METRICS, TIME, require_columns, to_pandas, to_polars, validate
from toolkit.schema import check_backend as _check_backend

__all__ = [
    "SLO",
    "WORKBOOK",
    "AlertPolicy",
    "BurnRateRule",
    "Choice",
    "ServiceObjectives",
    "alert_table",
    "alerts",
    "budget_by_slice",
    "budget_table",
    "burn_rates",
    "choose_threshold",
    "compare_sources",
    "error_budget",
    "good_events",
    "good_fraction",
    "goodput",
    "incident_windows",
    "label_windows",
    "latency_table",
    "latest_budget",
    "load_slos",
    "metric_counts",
    "metric_events",
    "objectives",
    "parse_slos",
    "percentiles",
    "pool_column",
    "pooled_burn_rates",
    "service_objectives",
    "slice_table",
    "trace_events",
    "trace_sampling",
    "windows_frame",
]

Backend = Literal["polars", "pandas"]
Op = Literal["lt", "lte", "gt", "gte"]
Budgeting = Literal["Occurrences", "Timeslices"]

_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
}
_FIXED = re.compile(r"^(?:\d+(?:ns|us|ms|s|m|h|d|w))+$")
_PART = re.compile(r"(\d+)(ns|us|ms|s|m|h|d|w)")
_CALENDAR = re.compile(r"^\d+(?:mo|q|y)$")
_OPS: dict[str, str] = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_AVAILABILITY = "availability"
_K = "_bucket"  # bucket index column of the internal series


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------


def _fixed_ns(value: object, parameter: str, function: str) -> int:
    """A fixed duration ('5m', '1h30m', '30d', a timedelta) in nanoseconds, > 0."""
    problem = (
        f"The {parameter!r} parameter of {function} must be a positive fixed duration such "
        "as '5m', '1h', '30d' (units ns, us, ms, s, m, h, d, w) or a datetime.timedelta. "
        f"Got {preview(value)} instead."
    )
    if isinstance(value, dt.timedelta):
        ns = (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    elif isinstance(value, str) and _FIXED.match(value.strip()):
        ns = sum(int(n) * _NS[u] for n, u in _PART.findall(value.strip()))
    else:
        raise ParameterError(problem)
    if ns <= 0:
        raise ParameterError(problem)
    return ns


def _text(ns: int) -> str:
    """A duration in nanoseconds as its shortest exact text ('1h', '90m', '3d')."""
    for unit in ("d", "h", "m", "s", "ms", "us"):
        if ns % _NS[unit] == 0:
            return f"{ns // _NS[unit]}{unit}"
    return f"{ns}ns"


def _every(value: object, parameter: str, function: str) -> tuple[str, int | None]:
    """A polars window duration: fixed (with its ns) or calendar ('1mo', '1q', '1y')."""
    if isinstance(value, str) and _CALENDAR.match(value.strip()):
        return value.strip(), None
    try:
        ns = _fixed_ns(value, parameter, function)
    except ParameterError:
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a positive duration such as "
            "'1h', '1d', '1w' or a calendar one ('1mo', '1q', '1y'), or a datetime.timedelta. "
            f"Got {preview(value)} instead."
        ) from None
    return f"{ns}ns", ns


def _out(frame: pl.DataFrame, backend: Backend) -> Any:
    return to_pandas(frame) if backend == "pandas" else frame


def _check_target(value: object, parameter: str, function: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(float(value))
        or not 0.0 < float(value) < 1.0
    ):
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a number strictly between "
            f"0 and 1 (0.999 for 99.9 %). Got {preview(value)} instead."
        )
    return float(value)


def _columns(frame: pl.DataFrame, names: object, parameter: str, function: str) -> list[str]:
    """``by``-style column names: None, one name or a list; each must be a column."""
    if names is None:
        return []
    listed = [names] if isinstance(names, str) else names
    if not isinstance(listed, Sequence) or not all(isinstance(n, str) for n in listed):
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a column name or a list of "
            f"column names. Got {preview(names)} instead."
        )
    out: list[str] = []
    for name in listed:
        if name not in frame.columns:
            raise ParameterError(
                f"The {parameter!r} parameter of {function} must name columns of the frame "
                f"(available: {preview(', '.join(frame.columns), 300)}). "
                f"Got {preview(name)} instead."
            )
        out.append(name)
    return out


def _time_column(frame: pl.DataFrame, time: object, function: str) -> pl.Expr:
    """The time column as Datetime('ns', 'UTC'); a naive or non-temporal column is refused."""
    if not isinstance(time, str) or time not in frame.columns:
        raise ParameterError(
            f"The 'time' parameter of {function} must name a Datetime column of the frame "
            f"(available: {preview(', '.join(frame.columns), 300)}). Got {preview(time)} instead."
        )
    dtype = frame.schema[time]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise ParameterError(
            f"The 'time' parameter of {function} must name a time-zone aware Datetime column "
            f"(UTC, as the canonical tables have). Got column {time!r} of type {dtype} instead; "
            "a time without its zone is never guessed."
        )
    if frame[time].null_count():
        raise ParameterError(
            f"The 'time' parameter of {function} names column {time!r}, which holds "
            f"{frame[time].null_count()} null times; every event needs its time."
        )
    return pl.col(time).dt.convert_time_zone("UTC").dt.cast_time_unit("ns")


# --------------------------------------------------------------------------------------
# SLO definitions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SLO:
    """One service level objective.

    Parameters
    ----------
    name : str
        Identifier (OpenSLO ``metadata.name``, plus the objective's name when an SLO has
        several objectives).
    target : float
        Objective, strictly between 0 and 1 (0.99: 99 % of events good). The error budget
        is ``1 - target``.
    sli : str, optional
        What is measured: ``"availability"`` (a call is good when ``is_error`` is false), or
        a numeric column of the events (``"ttft_s"``, ``"tpot_s"``, ``"latency_s"``) compared
        with ``threshold``. None when the SLO only carries a target (e.g. from a YAML file
        written for another tool); :func:`good_events` then cannot be used with it.
    threshold : float, optional
        Threshold of a latency SLI, in the unit of the ``sli`` column. Required when ``sli``
        is a column.
    op : {"lte", "lt", "gte", "gt"}, default "lte"
        How a value compares with ``threshold`` to be good (OpenSLO ``op``).
    time_window : str, default "30d"
        Length of the SLO period: a fixed duration ("30d", "4w") for a rolling window, or a
        calendar one ("1mo", "1q", "1y", also "1d", "1w") with ``rolling=False``.
    rolling : bool, default True
        Rolling window (True) or calendar periods aligned in ``time_zone`` (False).
    budgeting_method : {"Occurrences", "Timeslices"}, default "Occurrences"
        Count events, or count time slices (a slice is good when its good ratio reaches
        ``time_slice_target``).
    time_slice_target : float, optional
        Good ratio a slice needs to be good (Timeslices only; required there).
    time_slice_window : str, default None
        Slice length ("1m"; Timeslices only, default "1m").
    metric : str, optional
        Metric family that measures the SLI when only metrics exist
        (``"vllm:time_to_first_token_seconds"``, ``"vllm:request_success_total"``), for
        :func:`metric_counts`.
    time_zone : str, default "UTC"
        Zone of calendar periods.
    service, description : str, optional
        From the OpenSLO document.

    Examples
    --------
    >>> SLO("ttft", target=0.99, sli="ttft_s", threshold=2.0).error_budget
    0.010000000000000009
    >>> SLO("ttft", target=99, sli="ttft_s", threshold=2.0)
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'target' parameter of SLO must be a number strictly ...
    """

    name: str
    target: float
    sli: str | None = None
    threshold: float | None = None
    op: Op = "lte"
    time_window: str = "30d"
    rolling: bool = True
    budgeting_method: Budgeting = "Occurrences"
    time_slice_target: float | None = None
    time_slice_window: str | None = None
    metric: str | None = None
    time_zone: str = "UTC"
    service: str | None = None
    description: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError(
                f"The 'name' parameter of SLO must be a non-empty string. "
                f"Got {preview(self.name)} instead."
            )
        object.__setattr__(self, "target", _check_target(self.target, "target", "SLO"))
        if self.sli is not None and (not isinstance(self.sli, str) or not self.sli):
            raise ParameterError(
                "The 'sli' parameter of SLO must be 'availability' or a column name such as "
                f"'ttft_s'. Got {preview(self.sli)} instead."
            )
        if self.sli not in (None, _AVAILABILITY) and self.threshold is None:
            raise ParameterError(
                f"The 'threshold' parameter of SLO must be a number when sli is a column "
                f"({self.sli!r}). Got None instead."
            )
        if self.threshold is not None:
            if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float):
                raise ParameterError(
                    "The 'threshold' parameter of SLO must be a number. "
                    f"Got {preview(self.threshold)} instead."
                )
            object.__setattr__(self, "threshold", float(self.threshold))
        if self.op not in _OPS:
            raise ParameterError(
                "The 'op' parameter of SLO must be one of 'lte', 'lt', 'gte', 'gt'. "
                f"Got {preview(self.op)} instead."
            )
        if self.rolling:
            _fixed_ns(self.time_window, "time_window", "SLO")
        else:
            _every(self.time_window, "time_window", "SLO")
        if self.budgeting_method not in ("Occurrences", "Timeslices"):
            raise ParameterError(
                "The 'budgeting_method' parameter of SLO must be 'Occurrences' or "
                f"'Timeslices'. Got {preview(self.budgeting_method)} instead."
            )
        if self.budgeting_method == "Timeslices":
            if self.time_slice_target is None:
                raise ParameterError(
                    "The 'time_slice_target' parameter of SLO must be a number between 0 and "
                    "1 with budgeting_method 'Timeslices'. Got None instead."
                )
            if self.time_slice_window is None:
                object.__setattr__(self, "time_slice_window", "1m")
        if self.time_slice_target is not None:
            _check_target_inclusive(self.time_slice_target, "time_slice_target", "SLO")
        if self.time_slice_window is not None:
            _fixed_ns(self.time_slice_window, "time_slice_window", "SLO")

    @property
    def error_budget(self) -> float:
        """The allowed fraction of bad events (or slices), ``1 - target``."""
        return 1.0 - self.target

    def describe(self) -> str:
        """One line: what is good and how often it must be.

        Examples
        --------
        >>> SLO("ttft", 0.99, sli="ttft_s", threshold=2.0).describe()
        '99% of events with ttft_s <= 2 over a rolling 30d'
        """
        what = "events" if self.budgeting_method == "Occurrences" else "time slices"
        if self.sli == _AVAILABILITY:
            good = "succeed"
        elif self.sli is None:
            good = "are good"
        else:
            good = f"with {self.sli} {_OPS[self.op]} {self.threshold:g}"
        window = f"a rolling {self.time_window}" if self.rolling else f"each {self.time_window}"
        return f"{self.target * 100:.6g}% of {what} {good} over {window}"


def _check_target_inclusive(value: object, parameter: str, function: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a number between 0 and 1. "
            f"Got {preview(value)} instead."
        )
    return float(value)


def objectives(slos: Sequence[SLO], *, backend: Backend = "polars") -> Any:
    """One row per SLO: its fields and a sentence saying what it promises.

    Parameters
    ----------
    slos : sequence of SLO
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        ``name``, ``objective`` (the sentence), ``target``, ``error_budget``, then every
        field of :class:`SLO`.

    Examples
    --------
    >>> objectives([SLO("ttft", 0.99, sli="ttft_s", threshold=2.0)])["objective"].to_list()
    ['99% of events with ttft_s <= 2 over a rolling 30d']
    """
    _check_backend(backend, "slo.objectives")
    if isinstance(slos, SLO) or not all(isinstance(s, SLO) for s in slos):
        raise ParameterError(
            "The 'slos' parameter of slo.objectives must be a list of SLO objects. "
            f"Got {preview(slos)} instead."
        )
    names = [f.name for f in fields(SLO)]
    schema: dict[str, pl.DataType] = {
        "name": pl.String(),
        "objective": pl.String(),
        "target": pl.Float64(),
        "error_budget": pl.Float64(),
        "sli": pl.String(),
        "threshold": pl.Float64(),
        "op": pl.String(),
        "time_window": pl.String(),
        "rolling": pl.Boolean(),
        "budgeting_method": pl.String(),
        "time_slice_target": pl.Float64(),
        "time_slice_window": pl.String(),
        "metric": pl.String(),
        "time_zone": pl.String(),
        "service": pl.String(),
        "description": pl.String(),
    }
    rows = [
        {
            "objective": s.describe(),
            "error_budget": s.error_budget,
            **{n: getattr(s, n) for n in names},
        }
        for s in slos
    ]
    return _out(pl.DataFrame(rows, schema=schema), backend)


# ---- OpenSLO v1 ----------------------------------------------------------------------

_OPENSLO_UNITS = {"m": "m", "h": "h", "d": "d", "w": "w", "M": "mo", "Q": "q", "Y": "y"}
_OPENSLO_DURATION = re.compile(r"^(\d+)([mhdwMQY])$")


class _Doc:
    """Field access into one YAML document with errors that say where."""

    def __init__(self, data: object, path: str | None, record: int) -> None:
        self.data = data
        self.path = path
        self.record = record

    def fail(self, column: str, problem: str) -> FormatError:
        return FormatError(problem, path=self.path, record=self.record, column=column)

    def get(self, node: object, key: str, where: str, *, required: bool = True) -> Any:
        column = f"{where}.{key}" if where else key
        if not isinstance(node, Mapping):
            raise self.fail(where or "<document>", f"expected a mapping; got {preview(node)}")
        if key not in node or node[key] is None:
            if required:
                raise self.fail(column, "this field is required and missing")
            return None
        return node[key]

    def text(self, node: object, key: str, where: str, *, required: bool = True) -> str | None:
        value = self.get(node, key, where, required=required)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(f"{where}.{key}", f"expected a non-empty string; got {preview(value)}")
        return value

    def number(self, node: object, key: str, where: str, *, required: bool = True) -> float | None:
        value = self.get(node, key, where, required=required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{where}.{key}", f"expected a number; got {preview(value)}")
        return float(value)


def _opensl_duration(doc: _Doc, value: object, column: str) -> str:
    match = _OPENSLO_DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise doc.fail(
            column,
            "expected an OpenSLO duration such as '30d', '4w', '1M' (units m, h, d, w, M, Q, "
            f"Y); got {preview(value)}",
        )
    return f"{match.group(1)}{_OPENSLO_UNITS[match.group(2)]}"


def _toolkit_source(doc: _Doc, indicator: Any, where: str) -> tuple[str, str | None, str | None]:
    """(kind, sli, metric) of an OpenSLO SLI spec; sli/metric from ``type: toolkit`` sources."""
    spec = doc.get(indicator, "spec", where)
    threshold = doc.get(spec, "thresholdMetric", f"{where}.spec", required=False)
    ratio = doc.get(spec, "ratioMetric", f"{where}.spec", required=False)
    if (threshold is None) == (ratio is None):
        raise doc.fail(
            f"{where}.spec",
            "expected exactly one of 'thresholdMetric' and 'ratioMetric'",
        )
    if threshold is not None:
        kind, sources = "threshold", [(f"{where}.spec.thresholdMetric", threshold)]
    else:
        kind = "ratio"
        sources = [
            (f"{where}.spec.ratioMetric.{role}", ratio[role])
            for role in ("good", "bad", "total")
            if isinstance(ratio, Mapping) and ratio.get(role) is not None
        ]
        if not any(r.endswith((".good", ".bad")) for r, _ in sources) or not any(
            r.endswith(".total") for r, _ in sources
        ):
            raise doc.fail(
                f"{where}.spec.ratioMetric",
                "expected 'total' and one of 'good' or 'bad' metric sources",
            )
    sli: str | None = None
    metric: str | None = None
    for column, source in sources:
        metric_source = doc.get(source, "metricSource", column)
        source_type = doc.text(metric_source, "type", f"{column}.metricSource", required=False)
        if source_type is None or source_type.lower() != "toolkit":
            continue
        source_spec = doc.get(metric_source, "spec", f"{column}.metricSource")
        sli = doc.text(source_spec, "sli", f"{column}.metricSource.spec", required=False) or sli
        metric = (
            doc.text(source_spec, "metric", f"{column}.metricSource.spec", required=False) or metric
        )
    return kind, sli, metric


def parse_slos(text: str, *, path: str | os.PathLike[str] | None = None) -> tuple[SLO, ...]:
    """Read SLOs from OpenSLO v1 YAML text (one or more ``---`` separated documents).

    Documents of ``kind: SLO`` become one :class:`SLO` per objective; ``kind: SLI``
    documents are used by ``indicatorRef``; other kinds (Service, AlertPolicy ...) are
    skipped. The toolkit reads ``spec.objectives[].target`` (or ``targetPercent``),
    ``value`` and ``op`` (threshold indicators), ``timeSliceTarget``/``timeSliceWindow``,
    ``spec.timeWindow[0]`` (``duration``, ``isRolling``, ``calendar.timeZone``) and
    ``spec.budgetingMethod`` (``Occurrences`` or ``Timeslices``). What to measure comes
    from metric sources of ``type: toolkit`` whose ``spec`` names the ``sli``
    (``availability`` or a column such as ``ttft_s``) and optionally the ``metric`` family;
    sources of other types (Prometheus queries ...) are allowed and leave ``sli`` unset.

    Parameters
    ----------
    text : str
        The YAML text. Parsed with PyYAML (``pip install pyyaml``).
    path : str or path-like, optional
        Where it came from, for error messages.

    Returns
    -------
    tuple of SLO

    Raises
    ------
    FormatError
        Naming the file, the document (``record``) and the field, for YAML that is not
        OpenSLO v1 or holds values an SLO cannot have.

    Examples
    --------
    >>> text = '''
    ... apiVersion: openslo/v1
    ... kind: SLO
    ... metadata: {name: ttft}
    ... spec:
    ...   service: llm-gateway
    ...   budgetingMethod: Occurrences
    ...   timeWindow: [{duration: 30d, isRolling: true}]
    ...   indicator:
    ...     metadata: {name: ttft}
    ...     spec:
    ...       thresholdMetric:
    ...         metricSource: {type: toolkit, spec: {sli: ttft_s}}
    ...   objectives: [{op: lte, value: 2.0, target: 0.99}]
    ... '''
    >>> parse_slos(text)[0].describe()
    '99% of events with ttft_s <= 2 over a rolling 30d'
    """
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - pyyaml is a dependency
        raise ParameterError(
            f"Reading OpenSLO YAML needs PyYAML: pip install pyyaml. ({exc})"
        ) from None
    where = None if path is None else os.fspath(path)
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else int(mark.line) + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormatError(f"not valid YAML: {problem}", path=where, line=line) from None
    indicators: dict[str, tuple[int, Any]] = {}
    for number, data in enumerate(documents, start=1):
        doc = _Doc(data, where, number)
        if not isinstance(data, Mapping):
            raise doc.fail("<document>", f"expected an OpenSLO mapping; got {preview(data)}")
        if data.get("apiVersion") != "openslo/v1":
            raise doc.fail(
                "apiVersion", f"expected 'openslo/v1'; got {preview(data.get('apiVersion'))}"
            )
        if data.get("kind") == "SLI":
            name = doc.text(doc.get(data, "metadata", ""), "name", "metadata")
            assert name is not None
            indicators[name] = (number, data)
    slos: list[SLO] = []
    for number, data in enumerate(documents, start=1):
        if data.get("kind") != "SLO":
            continue
        doc = _Doc(data, where, number)
        name = doc.text(doc.get(data, "metadata", ""), "name", "metadata")
        assert name is not None
        spec = doc.get(data, "spec", "")
        inline = doc.get(spec, "indicator", "spec", required=False)
        if inline is not None:
            kind, sli, metric = _toolkit_source(doc, inline, "spec.indicator")
        else:
            ref = doc.text(spec, "indicatorRef", "spec", required=False)
            if ref is None:
                raise doc.fail("spec.indicator", "expected 'indicator' or 'indicatorRef'")
            if ref not in indicators:
                raise doc.fail(
                    "spec.indicatorRef",
                    f"no kind: SLI document named {preview(ref)} (found: "
                    f"{preview(', '.join(indicators) or 'none')})",
                )
            ref_number, ref_data = indicators[ref]
            kind, sli, metric = _toolkit_source(_Doc(ref_data, where, ref_number), ref_data, "")
        windows = doc.get(spec, "timeWindow", "spec")
        if not isinstance(windows, list) or len(windows) != 1:
            raise doc.fail(
                "spec.timeWindow", f"expected a list of one window; got {preview(windows)}"
            )
        window = windows[0]
        duration = _opensl_duration(
            doc, doc.get(window, "duration", "spec.timeWindow[0]"), "spec.timeWindow[0].duration"
        )
        rolling = doc.get(window, "isRolling", "spec.timeWindow[0]", required=False)
        calendar = doc.get(window, "calendar", "spec.timeWindow[0]", required=False)
        if rolling is None:
            rolling = calendar is None
        if not isinstance(rolling, bool):
            raise doc.fail(
                "spec.timeWindow[0].isRolling", f"expected true or false; got {preview(rolling)}"
            )
        time_zone = "UTC"
        if calendar is not None:
            time_zone = (
                doc.text(calendar, "timeZone", "spec.timeWindow[0].calendar", required=False)
                or "UTC"
            )
        budgeting = doc.text(spec, "budgetingMethod", "spec")
        if budgeting not in ("Occurrences", "Timeslices"):
            raise doc.fail(
                "spec.budgetingMethod",
                f"expected 'Occurrences' or 'Timeslices' (RatioTimeslices is not supported); "
                f"got {preview(budgeting)}",
            )
        listed = doc.get(spec, "objectives", "spec")
        if not isinstance(listed, list) or not listed:
            raise doc.fail("spec.objectives", f"expected a non-empty list; got {preview(listed)}")
        for index, objective in enumerate(listed):
            at = f"spec.objectives[{index}]"
            target = doc.number(objective, "target", at, required=False)
            if target is None:
                percent = doc.number(objective, "targetPercent", at, required=False)
                if percent is None:
                    raise doc.fail(f"{at}.target", "expected 'target' or 'targetPercent'")
                target = percent / 100.0
            threshold = doc.number(objective, "value", at, required=kind == "threshold")
            op = doc.text(objective, "op", at, required=kind == "threshold") or "lte"
            label = doc.text(objective, "displayName", at, required=False) or str(index)
            window_text = doc.get(objective, "timeSliceWindow", at, required=False)
            slice_window = (
                None
                if window_text is None
                else _opensl_duration(doc, window_text, f"{at}.timeSliceWindow")
            )
            try:
                slos.append(
                    SLO(
                        name=name if len(listed) == 1 else f"{name}/{label}",
                        target=target,
                        sli=sli,
                        threshold=threshold,
                        op=op,  # type: ignore[arg-type]
                        time_window=duration,
                        rolling=rolling,
                        budgeting_method=budgeting,  # type: ignore[arg-type]
                        time_slice_target=doc.number(
                            objective, "timeSliceTarget", at, required=False
                        ),
                        time_slice_window=slice_window,
                        metric=metric,
                        time_zone=time_zone,
                        service=doc.text(spec, "service", "spec", required=False),
                        description=doc.text(spec, "description", "spec", required=False),
                    )
                )
            except ParameterError as exc:
                raise doc.fail(at, str(exc)) from None
    if not slos:
        raise FormatError("expected at least one 'kind: SLO' document", path=where)
    return tuple(slos)


def load_slos(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> tuple[SLO, ...]:
    """Read SLOs from OpenSLO v1 YAML files (see :func:`parse_slos`).

    Parameters
    ----------
    path : path or list of paths
        YAML files; ``kind: SLI`` documents referenced by ``indicatorRef`` must be in the
        same file.

    Returns
    -------
    tuple of SLO
        In file order.

    Examples
    --------
    >>> from importlib.resources import files
    >>> example = files("toolkit") / "data" / "slo" / "llm_service.yaml"
    >>> [s.name for s in load_slos(str(example))]
    ['availability', 'ttft', 'tpot', 'latency']
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    out: list[SLO] = []
    for one in paths:
        if not isinstance(one, str | os.PathLike):
            raise ParameterError(
                "The 'path' parameter of slo.load_slos must be a path or a list of paths. "
                f"Got {preview(one)} instead."
            )
        file = Path(one)
        if not file.is_file():
            raise ParameterError(
                f"The 'path' parameter of slo.load_slos must name a YAML file. "
                f"Got {preview(os.fspath(one))}, which is not a file."
            )
        out.extend(parse_slos(file.read_text(encoding="utf-8"), path=file))
    return tuple(out)


# --------------------------------------------------------------------------------------
# SLIs
# --------------------------------------------------------------------------------------


def good_events(
    calls: Any, slo: SLO, *, column: str = "is_good", backend: Backend = "polars"
) -> Any:
    """The events with a Boolean column saying whether each one is good for ``slo``.

    ``availability``: good when ``is_error`` is false. A latency SLI (a column such as
    ``ttft_s``): good when the value compares with ``slo.threshold`` as ``slo.op`` says;
    null (not counted) when the value is null or, where an ``is_error`` column exists,
    when the call failed (failures belong to the availability SLO).

    Parameters
    ----------
    calls : polars or pandas DataFrame
        Usually the ``llm_calls`` table.
    slo : SLO
        With its ``sli`` set.
    column : str, default "is_good"
        Name of the added column.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        ``calls`` with ``column`` (Boolean) added or replaced.

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"ttft_s": [0.5, 3.0, None], "is_error": [False, False, True]})
    >>> good_events(calls, SLO("ttft", 0.99, sli="ttft_s", threshold=2.0))["is_good"].to_list()
    [True, False, None]
    """
    _check_backend(backend, "slo.good_events")
    frame = to_polars(calls, parameter="calls", function="slo.good_events")
    if not isinstance(slo, SLO) or slo.sli is None:
        raise ParameterError(
            "The 'slo' parameter of slo.good_events must be an SLO with its 'sli' set. "
            f"Got {preview(slo)} instead."
        )
    if slo.sli == _AVAILABILITY:
        if "is_error" not in frame.columns or frame.schema["is_error"] != pl.Boolean:
            raise ParameterError(
                "The 'calls' parameter of slo.good_events must have a Boolean 'is_error' "
                "column for the availability SLI (the llm_calls table has one). "
                f"Available: {preview(', '.join(frame.columns), 300)}."
            )
        good = ~pl.col("is_error")
    else:
        if slo.sli not in frame.columns or not frame.schema[slo.sli].is_numeric():
            raise ParameterError(
                f"The 'calls' parameter of slo.good_events must have a numeric column "
                f"{slo.sli!r} for SLO {slo.name!r} (available: "
                f"{preview(', '.join(frame.columns), 300)})."
            )
        value = pl.col(slo.sli)
        threshold = slo.threshold
        compared = {
            "lt": value < threshold,
            "lte": value <= threshold,
            "gt": value > threshold,
            "gte": value >= threshold,
        }[slo.op]
        failed = (
            pl.col("is_error").fill_null(False)
            if "is_error" in frame.columns and frame.schema["is_error"] == pl.Boolean
            else pl.lit(False)
        )
        good = pl.when(failed | value.is_null() | value.is_nan()).then(None).otherwise(compared)
    return _out(frame.with_columns(good.cast(pl.Boolean).alias(column)), backend)


def _windowed(
    frame: pl.DataFrame,
    time: pl.Expr,
    by: list[str],
    every: object,
    window: object,
    aggs: list[pl.Expr],
    function: str,
) -> pl.DataFrame:
    """``aggs`` overall (every None), per calendar bucket, or per trailing window."""
    if every is None:
        if window is not None:
            raise ParameterError(
                f"The 'window' parameter of {function} needs 'every' (the step at which the "
                f"trailing window is evaluated). Got window={preview(window)}, every=None."
            )
        grouped = frame.group_by(by, maintain_order=True) if by else None
        out = grouped.agg(aggs) if grouped is not None else frame.select(aggs)
        return out.sort(by) if by else out
    step, step_ns = _every(every, "every", function)
    data = frame.with_columns(time.alias("_time")).sort([*by, "_time"])
    if window is None:
        period, offset = step, "0ns"
    else:
        window_ns = _fixed_ns(window, "window", function)
        if step_ns is None:
            raise ParameterError(
                f"The 'every' parameter of {function} must be a fixed duration when 'window' "
                f"is given. Got {preview(every)} instead."
            )
        period, offset = f"{window_ns}ns", f"{step_ns - window_ns}ns"
    out = data.group_by_dynamic(
        "_time",
        every=step,
        period=period,
        offset=offset,
        closed="left",
        label="left",
        include_boundaries=True,
        group_by=by or None,
    ).agg(aggs)
    out = out.rename({"_lower_boundary": "window_start", "_upper_boundary": "window_end"})
    return out.drop("_time").select(
        *by,
        "window_start",
        "window_end",
        *[c for c in out.columns if c not in (*by, "window_start", "window_end", "_time")],
    )


def _quantile_name(q: float) -> str:
    return f"p{q * 100:.6g}"


def percentiles(
    events: Any,
    column: str,
    q: Sequence[float] = (0.5, 0.9, 0.95, 0.99),
    *,
    by: str | Sequence[str] | None = None,
    every: str | dt.timedelta | None = None,
    window: str | dt.timedelta | None = None,
    time: str = "start_time",
    backend: Backend = "polars",
) -> Any:
    """Percentiles of a latency SLI, overall or by dimensions, per window.

    Linear interpolation between order statistics, as ``numpy.quantile``'s default.
    Null and NaN values are left out (a failed call has no time to first token).

    Parameters
    ----------
    events : polars or pandas DataFrame
        E.g. ``llm_calls``.
    column : str
        Numeric column (``"ttft_s"``, ``"tpot_s"``, ``"latency_s"``).
    q : sequence of float, default (0.5, 0.9, 0.95, 0.99)
        Quantiles in [0, 1].
    by : str or list of str, optional
        Dimensions (``"attributes.deployment.pool"``, ``"request_model"`` ...).
    every : str or timedelta, optional
        Calendar buckets of this length (``"1h"``, ``"1d"``, ``"1w"``, ``"1mo"``), aligned to
        UTC midnight / Monday / the first of the month. None: one value over all events.
    window : str or timedelta, optional
        With ``every``: a trailing (rolling) window of this length evaluated at each step
        (``every="1h", window="24h"``: the last 24 hours, every hour).
    time : str, default "start_time"
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        Long format: the ``by`` columns, ``window_start`` and ``window_end`` (with
        ``every``), ``quantile`` (Float64), ``name`` (``"p95"``), ``value`` and ``count`` (the
        values the percentile was computed from).

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"ttft_s": [0.1, 0.2, 0.3, 0.4, None], "pool": list("aabbb")})
    >>> percentiles(calls, "ttft_s", q=[0.5], by="pool").select("pool", "value", "count").rows()
    [('a', 0.15000000000000002, 2), ('b', 0.35, 2)]
    """
    function = "slo.percentiles"
    _check_backend(backend, function)
    frame = to_polars(events, parameter="events", function=function)
    [name] = _columns(frame, column, "column", function)
    if not frame.schema[name].is_numeric():
        raise ParameterError(
            f"The 'column' parameter of {function} must name a numeric column. "
            f"Got {name!r} of type {frame.schema[name]} instead."
        )
    qs = list(q) if isinstance(q, Sequence) else []
    if not qs or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1 for v in qs
    ):
        raise ParameterError(
            f"The 'q' parameter of {function} must be a non-empty list of numbers in [0, 1]. "
            f"Got {preview(q)} instead."
        )
    keys = _columns(frame, by, "by", function)
    time_expr = _time_column(frame, time, function) if every is not None else pl.lit(None)
    value = pl.col(name).cast(pl.Float64)
    value = pl.when(value.is_nan()).then(None).otherwise(value)
    aggs = [value.drop_nulls().count().cast(pl.Int64).alias("count")] + [
        value.quantile(float(v), interpolation="linear").alias(_quantile_name(float(v))) for v in qs
    ]
    wide = _windowed(frame, time_expr, keys, every, window, aggs, function)
    index = [c for c in wide.columns if c not in {_quantile_name(float(v)) for v in qs}]
    long = wide.unpivot(
        index=index,
        on=[_quantile_name(float(v)) for v in dict.fromkeys(qs)],
        variable_name="name",
        value_name="value",
    ).with_columns(pl.col("value").cast(pl.Float64))
    lookup = pl.DataFrame(
        {
            "name": [_quantile_name(float(v)) for v in dict.fromkeys(qs)],
            "quantile": [float(v) for v in dict.fromkeys(qs)],
        }
    )
    long = long.join(lookup, on="name", how="left", maintain_order="left")
    order = [c for c in index if c != "count"]
    return _out(
        long.select(*order, "quantile", "name", "value", "count").sort([*order, "quantile"]),
        backend,
    )


# --------------------------------------------------------------------------------------
# Events and counts: the internal bucket series
# --------------------------------------------------------------------------------------


def _counts(
    events: Any, good: object, total: object, time: object, by: object, function: str
) -> tuple[pl.DataFrame, list[str]]:
    """Rows ``_t`` (ns since epoch, Int64), by..., ``good``, ``total`` (Float64)."""
    frame = to_polars(events, parameter="events", function=function)
    keys = _columns(frame, by, "by", function)
    if not isinstance(good, str):
        raise ParameterError(
            f"The 'good' parameter of {function} must be a column name. "
            f"Got {preview(good)} instead."
        )
    if good not in frame.columns and good == "is_good" and {"good", "total"} <= set(frame.columns):
        good = "good"
    if good not in frame.columns:
        raise ParameterError(
            f"The 'good' parameter of {function} must name a Boolean column (one row per "
            "event, e.g. from slo.good_events) or a numeric count column with a 'total' "
            f"column beside it (available: {preview(', '.join(frame.columns), 300)}). "
            f"Got {preview(good)} instead."
        )
    t = _time_column(frame, time, function).dt.epoch("ns").alias("_t")
    dtype = frame.schema[good]
    if dtype == pl.Boolean:
        rows = frame.filter(pl.col(good).is_not_null()).select(
            t, *keys, pl.col(good).cast(pl.Float64).alias("good"), pl.lit(1.0).alias("total")
        )
    elif dtype.is_numeric():
        if not isinstance(total, str) or total not in frame.columns:
            raise ParameterError(
                f"The 'total' parameter of {function} must name the count column beside the "
                f"numeric good column {good!r} (available: "
                f"{preview(', '.join(frame.columns), 300)}). Got {preview(total)} instead."
            )
        if not frame.schema[total].is_numeric():
            raise ParameterError(
                f"The 'total' parameter of {function} must name a numeric column. "
                f"Got {total!r} of type {frame.schema[total]} instead."
            )
        rows = frame.select(
            t,
            *keys,
            pl.col(good).cast(pl.Float64).alias("good"),
            pl.col(total).cast(pl.Float64).alias("total"),
        )
        bad = rows.filter(
            pl.col("good").is_null()
            | pl.col("total").is_null()
            | (pl.col("good") < 0)
            | (pl.col("good") > pl.col("total"))
            | pl.col("total").is_nan()
            | pl.col("good").is_nan()
        )
        if bad.height:
            row = bad.row(0, named=True)
            raise ParameterError(
                f"The 'events' parameter of {function} must hold counts with "
                f"0 <= {good} <= {total}; {bad.height} rows do not, e.g. "
                f"{good}={row['good']!r}, {total}={row['total']!r}."
            )
    else:
        raise ParameterError(
            f"The 'good' parameter of {function} must name a Boolean or numeric column. "
            f"Got {good!r} of type {dtype} instead."
        )
    return rows, keys


def _timeslices(
    rows: pl.DataFrame, keys: list[str], slice_ns: int, slice_target: float
) -> pl.DataFrame:
    """One row per slice with events: good 1.0 when its good ratio reaches the target."""
    return (
        rows.with_columns((pl.col("_t") // slice_ns * slice_ns).alias("_t"))
        .group_by([*keys, "_t"])
        .agg(pl.col("good").sum(), pl.col("total").sum())
        .filter(pl.col("total") > 0)
        .select(
            "_t",
            *keys,
            (pl.col("good") / pl.col("total") >= slice_target).cast(pl.Float64).alias("good"),
            pl.lit(1.0).alias("total"),
        )
    )


def _grid(rows: pl.DataFrame, keys: list[str], res_ns: int) -> pl.DataFrame:
    """Counts per bucket on a gap-free grid (same for every group), sorted by group, bucket.

    Columns: by..., ``_bucket`` (Int64 index, bucket start = index * res), good, total, bad.
    """
    binned = (
        rows.with_columns((pl.col("_t") // res_ns).alias(_K))
        .group_by([*keys, _K])
        .agg(pl.col("good").sum(), pl.col("total").sum())
    )
    if binned.height == 0:
        return pl.DataFrame(
            schema={
                **{k: rows.schema[k] for k in keys},
                _K: pl.Int64,
                "good": pl.Float64,
                "total": pl.Float64,
                "bad": pl.Float64,
            }
        )
    first, last = binned[_K].min(), binned[_K].max()
    assert isinstance(first, int)
    assert isinstance(last, int)
    ks = pl.DataFrame({_K: pl.int_range(first, last + 1, eager=True, dtype=pl.Int64)})
    full = binned.select(keys).unique().join(ks, how="cross") if keys else ks
    return (
        full.join(binned, on=[*keys, _K], how="left")
        .with_columns(pl.col("good").fill_null(0.0), pl.col("total").fill_null(0.0))
        .with_columns((pl.col("total") - pl.col("good")).alias("bad"))
        .sort([*keys, _K])
    )


def _window_sum(column: str, n: int, keys: list[str]) -> pl.Expr:
    """Sum of ``column`` over the last ``n`` buckets (this one included), per group."""
    cum = pl.col(column).cum_sum()
    lagged = cum.shift(n).fill_null(0.0)
    expr = cum - lagged
    return expr.over(keys) if keys else expr


def _burn(n: int, keys: list[str], error_budget: float) -> pl.Expr:
    bad = _window_sum("bad", n, keys)
    total = _window_sum("total", n, keys)
    return pl.when(total > 0).then(bad / total / error_budget).otherwise(None)


def _to_time(ns: pl.Expr) -> pl.Expr:
    return ns.cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")


# --------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BurnRateRule:
    """Fire when the burn rate exceeds ``burn_rate`` over both windows.

    Parameters
    ----------
    severity : str
        ``"page"``, ``"ticket"`` ...
    long_window, short_window : str
        Durations ("1h", "5m"); the short one confirms the burn is still going on.
    burn_rate : float
        Threshold, > 0 (14.4: the budget of a 30-day window spent in about 2 days).
    """

    severity: str
    long_window: str
    short_window: str
    burn_rate: float

    def __post_init__(self) -> None:
        long_ns = _fixed_ns(self.long_window, "long_window", "BurnRateRule")
        short_ns = _fixed_ns(self.short_window, "short_window", "BurnRateRule")
        if short_ns > long_ns:
            raise ParameterError(
                "The 'short_window' parameter of BurnRateRule must not be longer than "
                f"long_window ({self.long_window}). Got {preview(self.short_window)} instead."
            )
        if (
            isinstance(self.burn_rate, bool)
            or not isinstance(self.burn_rate, int | float)
            or not math.isfinite(self.burn_rate)
            or self.burn_rate <= 0
        ):
            raise ParameterError(
                "The 'burn_rate' parameter of BurnRateRule must be a positive number. "
                f"Got {preview(self.burn_rate)} instead."
            )
        if not isinstance(self.severity, str) or not self.severity:
            raise ParameterError(
                "The 'severity' parameter of BurnRateRule must be a non-empty string. "
                f"Got {preview(self.severity)} instead."
            )


@dataclass(frozen=True)
class AlertPolicy:
    """Multiwindow, multi-burn-rate alerting rules for an SLO period.

    Parameters
    ----------
    rules : tuple of BurnRateRule
    period : str, default "30d"
        The SLO period the burn rates refer to (used for the budget consumed).

    Examples
    --------
    >>> [(r.severity, r.long_window, r.short_window, r.burn_rate) for r in WORKBOOK.rules]
    [('page', '1h', '5m', 14.4), ('page', '6h', '30m', 6.0), ('ticket', '3d', '6h', 1.0)]
    >>> AlertPolicy.workbook("28d").rules[0].burn_rate
    13.44
    """

    rules: tuple[BurnRateRule, ...]
    period: str = "30d"

    def __post_init__(self) -> None:
        if (
            not isinstance(self.rules, tuple)
            or not self.rules
            or not all(isinstance(r, BurnRateRule) for r in self.rules)
        ):
            raise ParameterError(
                "The 'rules' parameter of AlertPolicy must be a non-empty tuple of "
                f"BurnRateRule. Got {preview(self.rules)} instead."
            )
        _fixed_ns(self.period, "period", "AlertPolicy")

    @classmethod
    def workbook(cls, period: str = "30d") -> AlertPolicy:
        """The Google SRE Workbook policy, scaled to ``period``.

        Page when 2 % of the period's budget is spent in 1 h (confirmed over 5 min) or 5 %
        in 6 h (30 min); ticket when 10 % is spent in 3 days (6 h). The burn-rate
        thresholds are ``fraction * period / long_window``: 14.4, 6 and 1 for 30 days.
        """
        period_ns = _fixed_ns(period, "period", "AlertPolicy.workbook")
        spec = (
            ("page", "1h", "5m", 0.02),
            ("page", "6h", "30m", 0.05),
            ("ticket", "3d", "6h", 0.10),
        )
        return cls(
            tuple(
                BurnRateRule(
                    severity,
                    long,
                    short,
                    round(spent * period_ns / _fixed_ns(long, "long_window", "workbook"), 9),
                )
                for severity, long, short, spent in spec
            ),
            period=period,
        )


#: The SRE Workbook defaults for a 30-day SLO: page 14.4 (1h/5m), page 6 (6h/30m), ticket 1 (3d/6h).
WORKBOOK = AlertPolicy.workbook("30d")


@dataclass(frozen=True)
class _Objective:
    target: float
    period: str
    rolling: bool
    time_zone: str
    slices: tuple[int, float] | None  # (slice ns, slice target) for Timeslices


def _objective(target: object, function: str, period: object = None) -> _Objective:
    if isinstance(target, SLO):
        slices = None
        if target.budgeting_method == "Timeslices":
            assert target.time_slice_window is not None
            assert target.time_slice_target is not None
            slices = (
                _fixed_ns(target.time_slice_window, "time_slice_window", function),
                target.time_slice_target,
            )
        return _Objective(
            target.target,
            str(period) if period is not None else target.time_window,
            target.rolling,
            target.time_zone,
            slices,
        )
    value = _check_target(target, "target", function)
    return _Objective(value, "30d" if period is None else str(period), True, "UTC", None)


def _series(
    events: Any,
    objective: _Objective,
    good: object,
    total: object,
    time: object,
    by: object,
    res_ns: int,
    function: str,
) -> tuple[pl.DataFrame, list[str], int]:
    rows, keys = _counts(events, good, total, time, by, function)
    if objective.slices is not None:
        slice_ns, slice_target = objective.slices
        rows = _timeslices(rows, keys, slice_ns, slice_target)
        res_ns = max(res_ns, slice_ns)
        if res_ns % slice_ns:
            raise ParameterError(
                f"The 'resolution' parameter of {function} must be a multiple of the SLO's "
                f"time slice ({_text(slice_ns)}). Got {_text(res_ns)} instead."
            )
    return _grid(rows, keys, res_ns), keys, res_ns


def _windows_in(ns: int, res_ns: int, parameter: str, function: str) -> int:
    if ns % res_ns:
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a multiple of the resolution "
            f"({_text(res_ns)}). Got {_text(ns)} instead."
        )
    return ns // res_ns


# --------------------------------------------------------------------------------------
# Burn rates, alerts, budgets
# --------------------------------------------------------------------------------------


def burn_rates(
    events: Any,
    target: float | SLO,
    *,
    windows: Sequence[str] = ("5m", "30m", "1h", "6h", "3d"),
    good: str = "is_good",
    time: str = "start_time",
    total: str = "total",
    by: str | Sequence[str] | None = None,
    resolution: str = "1m",
    backend: Backend = "polars",
) -> Any:
    """Burn rate over trailing windows, at every bucket end.

    Parameters
    ----------
    events : polars or pandas DataFrame
        One row per event with a Boolean ``good`` column, or counts with numeric ``good``
        and ``total`` columns (see the module docstring).
    target : float or SLO
        The objective (0.99), or an SLO (its target and budgeting method are used).
    windows : sequence of str, default ("5m", "30m", "1h", "6h", "3d")
        Window lengths, multiples of ``resolution``.
    good, time, total : str
        Column names.
    by : str or list of str, optional
        Evaluate each group (pool, route ...) on its own.
    resolution : str, default "1m"
        Bucket length.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        Long format, one row per evaluation time, group and window: ``time`` (the window's
        end), the ``by`` columns, ``window``, ``bad``, ``total``, ``error_ratio`` and
        ``burn_rate`` (null when the window holds no event).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t0 + timedelta(minutes=m) for m in range(4)],
    ...                    "is_good": [True, False, True, True]})
    >>> burn_rates(ev, 0.9, windows=["2m"])["burn_rate"].to_list()
    [0.0, 5.000000000000001, 5.000000000000001, 0.0]
    """
    function = "slo.burn_rates"
    _check_backend(backend, function)
    objective = _objective(target, function)
    res_ns = _fixed_ns(resolution, "resolution", function)
    if isinstance(windows, str) or not isinstance(windows, Sequence) or not windows:
        raise ParameterError(
            f"The 'windows' parameter of {function} must be a non-empty list of durations. "
            f"Got {preview(windows)} instead."
        )
    grid, keys, res_ns = _series(events, objective, good, total, time, by, res_ns, function)
    budget = 1.0 - objective.target
    parts = []
    for w in windows:
        n = _windows_in(_fixed_ns(w, "windows", function), res_ns, "windows", function)
        bad = _window_sum("bad", n, keys)
        tot = _window_sum("total", n, keys)
        parts.append(
            grid.select(
                _to_time((pl.col(_K) + 1) * res_ns).alias("time"),
                *keys,
                pl.lit(_text(n * res_ns)).alias("window"),
                bad.alias("bad"),
                tot.alias("total"),
            )
            .with_columns(
                pl.when(pl.col("total") > 0)
                .then(pl.col("bad") / pl.col("total"))
                .otherwise(None)
                .alias("error_ratio")
            )
            .with_columns((pl.col("error_ratio") / budget).alias("burn_rate"))
        )
    out = pl.concat(parts) if parts else pl.DataFrame()
    return _out(out.sort([*keys, "time"], maintain_order=True), backend)


_ALERT_SCHEMA: dict[str, pl.DataType] = {
    "severity": pl.String(),
    "start": TIME,
    "end": TIME,
    "long_window": pl.String(),
    "short_window": pl.String(),
    "threshold": pl.Float64(),
    "burn_rate": pl.Float64(),
    "short_burn_rate": pl.Float64(),
    "budget_consumed": pl.Float64(),
    "resolved": pl.Boolean(),
}


def alerts(
    events: Any,
    target: float | SLO,
    good: str = "is_good",
    time: str = "start_time",
    policy: AlertPolicy | None = None,
    *,
    total: str = "total",
    by: str | Sequence[str] | None = None,
    resolution: str = "1m",
    merge_gap: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """The multiwindow, multi-burn-rate alerts that would have fired.

    At every bucket end ``t`` each rule of ``policy`` is evaluated: it fires when the burn
    rate over ``[t - long_window, t)`` and the one over ``[t - short_window, t)`` both
    *exceed* its threshold (``>``, as the Workbook's Prometheus rules). A run of firing
    evaluations is one alert.

    Parameters
    ----------
    events : polars or pandas DataFrame
        One row per event with a Boolean ``good`` column, or pre-aggregated counts with
        numeric ``good`` and ``total`` columns (e.g. :func:`metric_counts`); see the module
        docstring.
    target : float or SLO
        The objective (0.999), or an SLO (its target and, for Timeslices budgeting, its
        slices are used).
    good : str, default "is_good"
        Boolean column, or numeric count column. When ``"is_good"`` is not a column but
        ``good`` and ``total`` are, those are used.
    time : str, default "start_time"
        Time-zone aware Datetime column (event time, or the start of a count interval).
    policy : AlertPolicy, optional
        None: :data:`WORKBOOK`, the SRE Workbook defaults for a 30-day SLO.
    total : str, default "total"
        Count column of pre-aggregated frames.
    by : str or list of str, optional
        Evaluate each group (pool, route ...) on its own.
    resolution : str, default "1m"
        Bucket length; every window must be a multiple of it.
    merge_gap : str, optional
        Count a rule that stops firing and fires again within this time ("15m") as one
        alert, as a pager that keeps an incident open would. None: every run of firing
        evaluations is an alert of its own.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        One row per alert, ordered by ``start``: the ``by`` columns, ``severity``,
        ``start`` (first evaluation that fired), ``end`` (first evaluation that no longer
        fired; the last evaluation when still firing), ``long_window``, ``short_window``,
        ``threshold`` (the rule's burn rate), ``burn_rate`` and ``short_burn_rate`` (the
        peaks over the long and short windows while firing), ``budget_consumed`` (bad
        events from ``start - long_window`` to ``end`` as a fraction of the error budget of
        one policy period at the group's observed traffic rate) and ``resolved``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> counts = pl.DataFrame({
    ...     "start_time": [t0 + timedelta(minutes=m) for m in range(180)],
    ...     "good": [50.0 if 60 <= m < 90 else 100.0 for m in range(180)],
    ...     "total": 100.0,
    ... })
    >>> fired = alerts(counts, 0.999)   # half the requests fail from 01:00 to 01:30
    >>> fired.select("severity", "long_window", pl.col("start", "end").dt.strftime("%H:%M"),
    ...              pl.col("burn_rate").round(1)).rows()  # doctest: +NORMALIZE_WHITESPACE
    [('page', '6h', '01:01', '02:00', 166.7), ('ticket', '3d', '01:01', '03:00', 166.7),
     ('page', '1h', '01:02', '01:35', 250.0)]
    """
    function = "slo.alerts"
    _check_backend(backend, function)
    if policy is None:
        policy = WORKBOOK
    if not isinstance(policy, AlertPolicy):
        raise ParameterError(
            f"The 'policy' parameter of {function} must be an AlertPolicy or None. "
            f"Got {preview(policy)} instead."
        )
    objective = _objective(target, function, period=policy.period)
    res_ns = _fixed_ns(resolution, "resolution", function)
    grid, keys, res_ns = _series(events, objective, good, total, time, by, res_ns, function)
    key_schema = {k: grid.schema[k] for k in keys}
    empty = pl.DataFrame(schema={**key_schema, **_ALERT_SCHEMA})
    if grid.height == 0:
        return _out(empty, backend)
    gap_n = 0
    if merge_gap is not None:
        gap_n = _windows_in(
            _fixed_ns(merge_gap, "merge_gap", function), res_ns, "merge_gap", function
        )
    budget = 1.0 - objective.target
    period_ns = _fixed_ns(policy.period, "period", function)
    last_k = grid[_K].max()
    span = (grid[_K].max() - grid[_K].min() + 1) * res_ns  # type: ignore[operator]
    cum_bad = pl.col("bad").cum_sum()
    if keys:
        cum_bad = cum_bad.over(keys)
    base = grid.with_columns(
        cum_bad.alias("_cum_bad"),
        (pl.col("total").sum().over(keys) if keys else pl.col("total").sum()).alias("_all"),
    )
    found = []
    for rule in policy.rules:
        n_long = _windows_in(
            _fixed_ns(rule.long_window, "long_window", function), res_ns, "policy", function
        )
        n_short = _windows_in(
            _fixed_ns(rule.short_window, "short_window", function), res_ns, "policy", function
        )
        lag = pl.col("_cum_bad").shift(n_long).fill_null(0.0)
        frame = base.with_columns(
            _burn(n_long, keys, budget).alias("_long"),
            _burn(n_short, keys, budget).alias("_short"),
            (lag.over(keys) if keys else lag).alias("_before"),
        ).with_columns(
            ((pl.col("_long") > rule.burn_rate) & (pl.col("_short") > rule.burn_rate))
            .fill_null(False)
            .alias("_fire")
        )
        if gap_n:
            at = pl.when(pl.col("_fire")).then(pl.col(_K))
            before, after = at.forward_fill(), at.backward_fill()
            if keys:
                before, after = before.over(keys), after.over(keys)
            frame = frame.with_columns(
                (pl.col("_fire") | ((after - before - 1) <= gap_n).fill_null(False)).alias("_fire")
            )
        change = pl.col("_fire") != pl.col("_fire").shift(1).fill_null(False)
        run = change.cum_sum()
        frame = frame.with_columns((run.over(keys) if keys else run).alias("_run"))
        fired = (
            frame.filter(pl.col("_fire"))
            .group_by([*keys, "_run"])
            .agg(
                pl.col(_K).min().alias("_first"),
                pl.col(_K).max().alias("_last"),
                pl.col("_long").max().alias("burn_rate"),
                pl.col("_short").max().alias("short_burn_rate"),
                pl.col("_before").first().alias("_before"),
                pl.col("_cum_bad").last().alias("_after"),
                pl.col("_all").first().alias("_all"),
            )
        )
        allowed = budget * pl.col("_all") * (period_ns / span)
        found.append(
            fired.select(
                *keys,
                pl.lit(rule.severity).alias("severity"),
                _to_time((pl.col("_first") + 1) * res_ns).alias("start"),
                _to_time(
                    pl.when(pl.col("_last") == last_k)
                    .then(pl.col("_last") + 1)
                    .otherwise(pl.col("_last") + 2)
                    * res_ns
                ).alias("end"),
                pl.lit(rule.long_window).alias("long_window"),
                pl.lit(rule.short_window).alias("short_window"),
                pl.lit(float(rule.burn_rate)).alias("threshold"),
                "burn_rate",
                "short_burn_rate",
                ((pl.col("_after") - pl.col("_before")) / allowed).alias("budget_consumed"),
                (pl.col("_last") != last_k).alias("resolved"),
            )
        )
    out = pl.concat([empty, *found], how="vertical_relaxed") if found else empty
    return _out(out.sort(["start", "severity", *keys, "long_window"]), backend)


def error_budget(
    events: Any,
    target: float | SLO,
    *,
    period: str | None = None,
    calendar: bool | None = None,
    every: str = "1h",
    good: str = "is_good",
    time: str = "start_time",
    total: str = "total",
    by: str | Sequence[str] | None = None,
    time_zone: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """The error budget over time: SLI, burn rate, budget consumed and remaining.

    At the end ``t`` of every step the SLO window is a rolling ``[t - period, t)`` or, for
    calendar periods, from the start of the current period (a calendar day, week, month ...
    in ``time_zone``) to ``t``. The budget of one period is ``1 - target`` of the period's
    events; when the data covers only part of the window (``coverage`` < 1), the period's
    events are estimated from the observed rate, so ``budget_consumed`` is the window's burn
    rate times its coverage: burning at 1x for 7 days of a 30-day period spends 23 %.

    Parameters
    ----------
    events : polars or pandas DataFrame
        Events or counts (see the module docstring).
    target : float or SLO
        The objective, or an SLO (its target, window, calendar/rolling, time zone and
        budgeting method are used).
    period : str, optional
        SLO window ("30d"; "1mo", "1w" with calendar periods). Default: the SLO's, or "30d".
    calendar : bool, optional
        Calendar periods instead of a rolling window. Default: the SLO's, or False.
    every : str, default "1h"
        Step of the evaluation (a fixed duration dividing a rolling ``period``).
    good, time, total, by
        As in :func:`alerts`.
    time_zone : str, optional
        Zone of calendar periods (default the SLO's, or UTC).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        One row per step and group: ``time`` (end of the step), the ``by`` columns,
        ``window_start``, ``good``, ``total`` (in the window), ``sli`` (good / total),
        ``burn_rate``, ``coverage``, ``budget_consumed`` and ``budget_remaining``
        (``1 - budget_consumed``; negative once the budget is exhausted).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t0 + timedelta(hours=h) for h in range(48)],
    ...                    "good": 99.0, "total": 100.0})   # 1 % bad for two days
    >>> b = error_budget(ev, 0.99, period="30d", every="1d")
    >>> b.select("burn_rate", "coverage", pl.col("budget_consumed").round(4)).rows()
    [(1.0, 0.03333333333333333, 0.0333), (1.0, 0.06666666666666667, 0.0667)]
    """
    function = "slo.error_budget"
    _check_backend(backend, function)
    objective = _objective(target, function, period=period)
    is_calendar = (not objective.rolling) if calendar is None else bool(calendar)
    zone = time_zone or objective.time_zone
    _, step_ns = _every(every, "every", function)
    if step_ns is None:
        raise ParameterError(
            f"The 'every' parameter of {function} must be a fixed duration ('1h', '1d'). "
            f"Got {preview(every)} instead."
        )
    grid, keys, res_ns = _series(events, objective, good, total, time, by, step_ns, function)
    if res_ns != step_ns:
        raise ParameterError(
            f"The 'every' parameter of {function} must be a multiple of the SLO's time slice. "
            f"Got {preview(every)} instead."
        )
    budget = 1.0 - objective.target
    schema_out = {
        "time": TIME,
        **{k: grid.schema[k] for k in keys},
        "window_start": TIME,
        "good": pl.Float64(),
        "total": pl.Float64(),
        "sli": pl.Float64(),
        "burn_rate": pl.Float64(),
        "coverage": pl.Float64(),
        "budget_consumed": pl.Float64(),
        "budget_remaining": pl.Float64(),
    }
    if grid.height == 0:
        return _out(pl.DataFrame(schema=schema_out), backend)
    first_k = grid[_K].min()
    assert isinstance(first_k, int)
    data_start = first_k * res_ns
    end = (pl.col(_K) + 1) * res_ns
    if not is_calendar:
        period_ns = _fixed_ns(objective.period, "period", function)
        n = _windows_in(period_ns, res_ns, "period", function)
        covered = pl.min_horizontal(end - data_start, pl.lit(period_ns))
        frame = grid.with_columns(
            _window_sum("good", n, keys).alias("_good"),
            _window_sum("total", n, keys).alias("_total"),
            _to_time(end - covered).alias("window_start"),
            (covered / period_ns).alias("coverage"),
        )
    else:
        cal, _ = _every(objective.period, "period", function)
        local = _to_time(pl.col(_K) * res_ns).dt.convert_time_zone(zone)
        frame = grid.with_columns(local.dt.truncate(cal).alias("_p0")).with_columns(
            pl.col("_p0").dt.offset_by(cal).alias("_p1")
        )
        p0 = pl.col("_p0").dt.convert_time_zone("UTC").dt.epoch("ns")
        p1 = pl.col("_p1").dt.convert_time_zone("UTC").dt.epoch("ns")
        start = pl.max_horizontal(p0, pl.lit(data_start))
        group = [*keys, "_p0"]
        frame = frame.with_columns(
            pl.col("good").cum_sum().over(group).alias("_good"),
            pl.col("total").cum_sum().over(group).alias("_total"),
            _to_time(start).alias("window_start"),
            ((end - start) / (p1 - p0)).alias("coverage"),
        )
    sli = pl.when(pl.col("_total") > 0).then(pl.col("_good") / pl.col("_total"))
    out = (
        frame.select(
            _to_time(end).alias("time"),
            *keys,
            "window_start",
            pl.col("_good").alias("good"),
            pl.col("_total").alias("total"),
            sli.alias("sli"),
            ((1.0 - sli) / budget).alias("burn_rate"),
            "coverage",
        )
        .with_columns(
            (pl.col("burn_rate").fill_null(0.0) * pl.col("coverage")).alias("budget_consumed")
        )
        .with_columns((1.0 - pl.col("budget_consumed")).alias("budget_remaining"))
    )
    return _out(out.sort([*keys, "time"]), backend)


def budget_by_slice(
    events: Any,
    target: float | SLO,
    by: str | Sequence[str],
    *,
    good: str = "is_good",
    time: str = "start_time",
    total: str = "total",
    backend: Backend = "polars",
) -> Any:
    """Which slices (route, tier, locale, pool ...) burned the error budget.

    Parameters
    ----------
    events : polars or pandas DataFrame
        Events or counts (see the module docstring).
    target : float or SLO
    by : str or list of str
        The dimensions that define a slice.
    good, time, total : str
        Column names, as in :func:`alerts`.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        One row per slice, most bad events first: the ``by`` columns, ``good``, ``total``,
        ``bad``, ``error_ratio``, ``burn_rate`` (the slice's own), ``share_of_bad`` (its
        share of all bad events) and ``burn_contribution`` (its bad events over the
        budget of all events: the contributions add up to the overall burn rate).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t] * 4, "route": ["a", "a", "b", "b"],
    ...                    "is_good": [False, False, True, False]})
    >>> budget_by_slice(ev, 0.5, "route").select("route", "bad", "burn_contribution").rows()
    [('a', 2.0, 1.0), ('b', 1.0, 0.5)]
    """
    function = "slo.budget_by_slice"
    _check_backend(backend, function)
    objective = _objective(target, function)
    if by is None:
        raise ParameterError(
            f"The 'by' parameter of {function} must name columns. Got None instead."
        )
    rows, keys = _counts(events, good, total, time, by, function)
    budget = 1.0 - objective.target
    all_total = float(rows["total"].sum())
    all_bad = all_total - float(rows["good"].sum())
    out = (
        rows.group_by(keys)
        .agg(pl.col("good").sum(), pl.col("total").sum())
        .with_columns((pl.col("total") - pl.col("good")).alias("bad"))
        .with_columns(
            pl.when(pl.col("total") > 0).then(pl.col("bad") / pl.col("total")).alias("error_ratio")
        )
        .with_columns(
            (pl.col("error_ratio") / budget).alias("burn_rate"),
            (pl.col("bad") / all_bad if all_bad else pl.lit(0.0)).alias("share_of_bad"),
            (pl.col("bad") / (budget * all_total) if all_total else pl.lit(None, pl.Float64)).alias(
                "burn_contribution"
            ),
        )
        .sort(["bad", *keys], descending=[True, *([False] * len(keys))], nulls_last=True)
    )
    return _out(out, backend)


def good_fraction(
    events: Any,
    good: str = "is_good",
    *,
    by: str | Sequence[str] | None = None,
    every: str | dt.timedelta | None = None,
    window: str | dt.timedelta | None = None,
    time: str = "start_time",
    total: str = "total",
    backend: Backend = "polars",
) -> Any:
    """The SLI as a fraction of good events, overall or by dimensions, per window.

    Parameters
    ----------
    events : polars or pandas DataFrame
        Events with a Boolean ``good`` column (nulls are not counted) or counts with numeric
        ``good`` and ``total`` columns.
    good : str, default "is_good"
    by : str or list of str, optional
    every : str or timedelta, optional
        Calendar buckets ("1h", "1d", "1mo"); None: over all events.
    window : str or timedelta, optional
        With ``every``: trailing windows of this length evaluated every step.
    time, total : str
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        The ``by`` columns, ``window_start``/``window_end`` (with ``every``), ``good``,
        ``total`` (Float64 counts) and ``fraction`` (null for an empty window).

    Examples
    --------
    >>> import polars as pl
    >>> ev = pl.DataFrame({"is_good": [True, True, False, None], "pool": list("aabb")})
    >>> good_fraction(ev, by="pool").rows()
    [('a', 2.0, 2.0, 1.0), ('b', 0.0, 1.0, 0.0)]
    """
    function = "slo.good_fraction"
    _check_backend(backend, function)
    frame = to_polars(events, parameter="events", function=function)
    if every is None:  # the time does not matter: stand in a constant one
        time = "_no_time"
        frame = frame.with_columns(pl.lit(0).cast(TIME).alias(time))
    rows, keys = _counts(frame, good, total, time, by, function)
    aggs = [pl.col("good").sum(), pl.col("total").sum()]
    out = _windowed(rows, _to_time(pl.col("_t")), keys, every, window, aggs, function)
    out = out.with_columns(
        pl.when(pl.col("total") > 0).then(pl.col("good") / pl.col("total")).alias("fraction")
    )
    return _out(out, backend)


# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------


def _label_column(frame: pl.DataFrame, name: str, parameter: str, function: str) -> str:
    labels = [c for c in frame.columns if c.startswith("label.")]
    for candidate in (name, f"label.{name}"):
        if candidate in frame.columns:
            return candidate
    raise ParameterError(
        f"The {parameter!r} parameter of {function} must name label columns of the metrics "
        f"(available: {preview(', '.join(labels), 300)}). "
        f"Got {preview(name)} instead."
    )


def _increases(rows: pl.DataFrame, first: str) -> pl.DataFrame:
    """Per-interval increase of each cumulative series (resets handled), at interval start."""
    keys = [
        c
        for c in rows.columns
        if (
            c.startswith(("label.", "resource."))
            or c in ("name", "le", "service_name", "scope_name")
        )
        and rows[c].null_count() < rows.height
    ]
    data = rows.sort([*keys, "time"], nulls_last=True)
    prev = pl.col("value").shift(1).over(keys)
    prev_time = pl.col("time").shift(1).over(keys)
    inc = (
        pl.when(prev.is_null())
        .then(pl.col("value") if first == "count" else None)
        .when(pl.col("value") >= prev)
        .then(pl.col("value") - prev)
        .otherwise(pl.col("value"))
    )
    start = (
        pl.when(prev_time.is_null())
        .then(pl.col("start_time") if "start_time" in rows.columns else None)
        .otherwise(prev_time)
    )
    start = pl.when(start.is_null()).then(pl.col("time")).otherwise(start)
    return data.with_columns(inc.alias("_inc"), start.alias("_start")).filter(
        pl.col("_inc").is_not_null()
    )


def metric_counts(
    metrics: Any,
    name: str,
    *,
    threshold: float | None = None,
    bad: Mapping[str, Sequence[str]] | None = None,
    by: str | Sequence[str] | None = None,
    first: Literal["skip", "count"] = "skip",
    backend: Backend = "polars",
) -> Any:
    """Good and total event counts per scrape interval, from a histogram or a counter.

    * A **histogram** family (``vllm:time_to_first_token_seconds``,
      ``vllm:e2e_request_latency_seconds``, ``gen_ai.server.time_to_first_token``): events
      are good when they fall in the bucket ``le == threshold``; ``threshold`` must be one
      of the bucket bounds (a value between bounds would be a guess).
    * A **counter** (``vllm:request_success_total``): every increase counts; increases of
      the series whose label takes one of the ``bad`` values are bad
      (``bad={"finished_reason": ["abort", "error"]}``).

    Increases are taken between consecutive samples of each series; a decrease is a counter
    reset (the new value counts from zero). A row covers one scrape interval and is
    labelled by its start, so per-minute scrapes give per-minute counts that
    :func:`alerts`, :func:`error_budget` and :func:`good_fraction` take directly.

    Parameters
    ----------
    metrics : polars or pandas DataFrame
        The canonical metrics table (Prometheus or OTLP).
    name : str
        The histogram family (without ``_bucket``) or the counter's name.
    threshold : float, optional
        Bucket bound for a histogram.
    bad : mapping of label name to values, optional
        For a counter: which series count bad events.
    by : str or list of str, optional
        Label columns to keep (``"pool"`` or ``"label.pool"``); the others are summed.
    first : {"skip", "count"}, default "skip"
        The first sample of a series has no previous one: "skip" leaves it out; "count"
        counts its whole value (right when the series starts with the process, such as a
        single scrape of a freshly started server), labelled by its ``start_time`` if set,
        else its own time.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        ``start_time`` (interval start, UTC), the ``by`` columns, ``good``, ``total``
        (Float64), sorted by group and time.

    Examples
    --------
    >>> from toolkit.ingest.prometheus import parse_exposition
    >>> text = "\\n".join([
    ...     "# TYPE ttft histogram",
    ...     'ttft_bucket{le="1.0"} 10 1763719200000', 'ttft_bucket{le="+Inf"} 12 1763719200000',
    ...     'ttft_bucket{le="1.0"} 40 1763719260000', 'ttft_bucket{le="+Inf"} 50 1763719260000',
    ... ])
    >>> metric_counts(parse_exposition(text), "ttft", threshold=1.0).select("good", "total").row(0)
    (30.0, 38.0)
    """
    function = "slo.metric_counts"
    _check_backend(backend, function)
    frame = to_polars(metrics, parameter="metrics", function=function)
    validate(frame, METRICS)
    if first not in ("skip", "count"):
        raise ParameterError(
            f"The 'first' parameter of {function} must be 'skip' or 'count'. "
            f"Got {preview(first)} instead."
        )
    if not isinstance(name, str) or not name:
        raise ParameterError(
            f"The 'name' parameter of {function} must be a metric name. "
            f"Got {preview(name)} instead."
        )
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    keys = [_label_column(frame, k, "by", function) for k in keys]
    buckets = frame.filter(pl.col("name") == f"{name}_bucket")
    if buckets.height:
        if (
            threshold is None
            or isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
        ):
            raise ParameterError(
                f"The 'threshold' parameter of {function} must be one of the bucket bounds of "
                f"histogram {name!r}: {sorted(set(buckets['le'].drop_nulls().to_list()))}. "
                f"Got {preview(threshold)} instead."
            )
        bounds = set(buckets["le"].drop_nulls().to_list())
        if float(threshold) not in bounds or math.isinf(threshold):
            raise ParameterError(
                f"The 'threshold' parameter of {function} must be one of the bucket bounds of "
                f"histogram {name!r}: {sorted(b for b in bounds if not math.isinf(b))} "
                f"(a value between bounds would need a guess). Got {threshold!r} instead."
            )
        rows = _increases(buckets.filter(pl.col("le").is_in([float(threshold), math.inf])), first)
        good_expr = pl.when(pl.col("le") == float(threshold)).then(pl.col("_inc")).otherwise(0.0)
        total_expr = pl.when(pl.col("le") == math.inf).then(pl.col("_inc")).otherwise(0.0)
    else:
        rows = frame.filter(pl.col("name") == name)
        if rows.height == 0:
            known = sorted({n.removesuffix("_bucket") for n in frame["name"].unique().to_list()})
            raise ParameterError(
                f"The 'name' parameter of {function} must name a histogram family or a counter "
                f"of the metrics (available: {preview(', '.join(known), 400)}). "
                f"Got {preview(name)} instead."
            )
        if bad is None or not isinstance(bad, Mapping) or not bad:
            raise ParameterError(
                f"The 'bad' parameter of {function} must map a label to the values that mark "
                f"bad events for counter {name!r} (e.g. {{'finished_reason': ['abort']}}). "
                f"Got {preview(bad)} instead."
            )
        condition = pl.lit(False)
        for label, values in bad.items():
            column = _label_column(rows, label, "bad", function)
            listed = [values] if isinstance(values, str) else list(values)
            condition = condition | pl.col(column).is_in(listed).fill_null(False)
        rows = _increases(rows, first)
        total_expr = pl.col("_inc")
        good_expr = pl.when(condition).then(0.0).otherwise(pl.col("_inc"))
    out = (
        rows.group_by(["_start", *keys])
        .agg(good_expr.sum().alias("good"), total_expr.sum().alias("total"))
        .rename({"_start": "start_time"})
        .select("start_time", *keys, "good", "total")
        .sort([*keys, "start_time"])
    )
    return _out(out, backend)


# --------------------------------------------------------------------------------------
# Goodput
# --------------------------------------------------------------------------------------


def goodput(
    calls: Any,
    thresholds: Mapping[str, float],
    *,
    by: str | Sequence[str] | None = None,
    every: str | dt.timedelta | None = None,
    time: str = "start_time",
    sampling: float = 1.0,
    backend: Backend = "polars",
) -> Any:
    """Requests per second that meet every latency objective at once (DistServe's goodput).

    A call counts when it did not fail (``is_error`` false, where the column exists) and
    every column of ``thresholds`` is at most its threshold (a null value fails).

    Parameters
    ----------
    calls : polars or pandas DataFrame
        Usually ``llm_calls``.
    thresholds : mapping of column to float
        E.g. ``{"ttft_s": 2.0, "tpot_s": 0.05}``.
    by : str or list of str, optional
        E.g. ``"attributes.deployment.pool"``.
    every : str or timedelta, optional
        Per calendar bucket; None: over the whole span of ``calls`` (first to last call,
        for every group alike).
    time : str, default "start_time"
    sampling : float, default 1.0
        Fraction of requests that were traced (0.02 for 2 % head sampling): rates are
        divided by it to estimate the service's requests per second.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        The ``by`` columns, ``window_start``/``window_end``, ``calls``, ``good_calls``
        (Int64, as counted), ``good_fraction``, ``throughput_rps`` and ``goodput_rps``
        (estimated for all requests).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> calls = pl.DataFrame({"start_time": [t0 + timedelta(seconds=s) for s in (0, 30, 60, 90)],
    ...     "ttft_s": [0.5, 3.0, 0.4, 0.2], "tpot_s": [0.02, 0.02, 0.09, 0.03],
    ...     "is_error": [False, False, False, False]})
    >>> goodput(calls, {"ttft_s": 1.0, "tpot_s": 0.05}, every="1m").select(
    ...     "good_calls", pl.col("goodput_rps").round(6)).rows()
    [(1, 0.016667), (1, 0.016667)]
    """
    function = "slo.goodput"
    _check_backend(backend, function)
    frame = to_polars(calls, parameter="calls", function=function)
    if not isinstance(thresholds, Mapping) or not thresholds:
        raise ParameterError(
            f"The 'thresholds' parameter of {function} must map columns to their maximum "
            f"(e.g. {{'ttft_s': 2.0, 'tpot_s': 0.05}}). Got {preview(thresholds)} instead."
        )
    if isinstance(sampling, bool) or not isinstance(sampling, int | float) or not 0 < sampling <= 1:
        raise ParameterError(
            f"The 'sampling' parameter of {function} must be a number in (0, 1]. "
            f"Got {preview(sampling)} instead."
        )
    ok = pl.lit(True)
    for column, limit in thresholds.items():
        [checked] = _columns(frame, column, "thresholds", function)
        if (
            not frame.schema[checked].is_numeric()
            or isinstance(limit, bool)
            or not isinstance(limit, int | float)
        ):
            raise ParameterError(
                f"The 'thresholds' parameter of {function} must map numeric columns to numbers. "
                f"Got {column!r} ({frame.schema[checked]}) -> {preview(limit)} instead."
            )
        ok = ok & (pl.col(checked) <= limit).fill_null(False)
    if "is_error" in frame.columns and frame.schema["is_error"] == pl.Boolean:
        ok = ok & ~pl.col("is_error").fill_null(True)
    keys = _columns(frame, by, "by", function)
    t = _time_column(frame, time, function)
    aggs = [pl.len().cast(pl.Int64).alias("calls"), ok.sum().cast(pl.Int64).alias("good_calls")]
    if every is None:
        times = frame.select(t.alias("_t"))["_t"]
        lo, hi = times.min(), times.max()
        out = _windowed(frame, t, keys, None, None, aggs, function).with_columns(
            pl.lit(lo, TIME).alias("window_start"), pl.lit(hi, TIME).alias("window_end")
        )
        out = out.select(*keys, "window_start", "window_end", "calls", "good_calls")
    else:
        out = _windowed(frame, t, keys, every, None, aggs, function)
    seconds = (pl.col("window_end") - pl.col("window_start")).dt.total_nanoseconds() / 1e9
    out = out.with_columns(
        pl.when(pl.col("calls") > 0)
        .then(pl.col("good_calls") / pl.col("calls"))
        .alias("good_fraction"),
        pl.when(seconds > 0).then(pl.col("calls") / sampling / seconds).alias("throughput_rps"),
        pl.when(seconds > 0).then(pl.col("good_calls") / sampling / seconds).alias("goodput_rps"),
    )
    return _out(out, backend)


# --------------------------------------------------------------------------------------
# Incident windows
# --------------------------------------------------------------------------------------

_WINDOW_SCHEMA: dict[str, pl.DataType] = {
    "incident": pl.String(),
    "start": TIME,
    "end": TIME,
    "source": pl.String(),
    "burn_rate": pl.Float64(),
}


def _label(value: object) -> str:
    return "null" if value is None else str(value)


def _merge_intervals(fired: pl.DataFrame, keys: list[str], gap_ns: int) -> pl.DataFrame:
    """Overlapping intervals (or ones less than ``gap_ns`` apart) of a group merged."""
    ordered = fired.sort([*keys, "start"])
    reach = pl.col("end").cum_max().shift(1)
    if keys:
        reach = reach.over(keys)
    new = (pl.col("start") > reach + pl.duration(nanoseconds=gap_ns)).fill_null(True)
    group = new.cum_sum()
    if keys:
        group = group.over(keys)
    return (
        ordered.with_columns(group.alias("_window"))
        .group_by([*keys, "_window"], maintain_order=True)
        .agg(
            pl.col("start").min(),
            pl.col("end").max(),
            pl.col("burn_rate").max(),
        )
        .drop("_window")
    )


def _worst_period(
    grid: pl.DataFrame, keys: list[str], res_ns: int, n: int, budget: float, min_events: object
) -> pl.DataFrame:
    """The window of ``n`` buckets with the highest bad ratio among those with enough events."""
    first = grid[_K].min()
    last = grid[_K].max()
    assert isinstance(first, int)
    assert isinstance(last, int)
    n = min(n, last - first + 1)  # data shorter than the width: the whole period
    scored = grid.with_columns(
        _window_sum("bad", n, keys).alias("_bad"), _window_sum("total", n, keys).alias("_total")
    ).filter((pl.col(_K) - first + 1 >= n) & (pl.col("_total") > 0))
    if scored.height == 0:
        return scored
    if min_events is None:
        median = scored["_total"].median()
        assert isinstance(median, float)
        floor = max(30.0, median / 4)
    else:
        floor = float(min_events)  # type: ignore[arg-type]
    enough = scored.filter(pl.col("_total") >= floor)
    if enough.height == 0:  # too little traffic anywhere: the window with the most events
        enough = scored.filter(pl.col("_total") == pl.col("_total").max())
    best = (
        enough.with_columns((pl.col("_bad") / pl.col("_total")).alias("_ratio"))
        .sort(["_ratio", "_total", _K], descending=[True, True, False])
        .head(1)
    )
    return best.select(
        *keys,
        _to_time((pl.col(_K) + 1 - n) * res_ns).alias("start"),
        _to_time((pl.col(_K) + 1) * res_ns).alias("end"),
        (pl.col("_ratio") / budget).alias("burn_rate"),
    )


def incident_windows(
    events: Any,
    objective: float | SLO,
    *,
    by: str | Sequence[str] | None = None,
    merge_gap: str | None = "30m",
    worst: str = "6h",
    time: str = "start_time",
    good: str = "is_good",
    total: str = "total",
    policy: AlertPolicy | None = None,
    resolution: str = "1m",
    min_events: float | None = None,
    name: str | None = None,
) -> pl.DataFrame:
    """The incident windows of the data: pages merged, else tickets, else the worst period.

    Runs :func:`alerts` on ``events`` and merges the pages of every rule that overlap (or
    are less than ``merge_gap`` apart) into one window per group; when nothing pages, the
    tickets are merged the same way. When nothing fires at all, the single window of width
    ``worst`` with the highest bad ratio (among windows with enough events) is returned, so
    a caller always gets windows from the data to compare with the rest of the period.

    Parameters
    ----------
    events : polars or pandas DataFrame
        One row per event with a Boolean ``good`` column (what :func:`good_events`
        returns), or counts with numeric ``good`` and ``total`` columns
        (:func:`metric_counts`).
    objective : float or SLO
        The target (0.99) or the SLO; an SLO's name names the incidents.
    by : str or list of str, optional
        Evaluate each group (pool, deployment) on its own; the columns are kept.
    merge_gap : str or None, default "30m"
        Alerts less than this apart are one window (also passed to :func:`alerts`).
    worst : str, default "6h"
        Width of the worst period returned when nothing fires (the whole data when it is
        shorter); a multiple of ``resolution``.
    time, good, total : str
        Column names, as for :func:`alerts`.
    policy : AlertPolicy, optional
        None: :data:`WORKBOOK`.
    resolution : str, default "1m"
        Bucket length.
    min_events : float, optional
        Events a candidate worst period needs; None: the larger of 30 and a quarter of the
        median window's events (a window with the most events when none has enough).
    name : str, optional
        What the incidents are named after; None: the SLO's name ("slo" for a bare target).

    Returns
    -------
    polars.DataFrame
        One row per window, ordered by ``start``: ``incident`` (a readable name, e.g.
        ``"ttft on h100-pool"``; the start time is appended where a name repeats),
        ``start``, ``end`` (Datetime ns UTC, ``end`` exclusive), ``source`` ("page",
        "ticket" or "worst period"), ``burn_rate`` (peak long-window burn rate of the
        alerts, or the worst period's burn rate), then the ``by`` columns. Empty when
        ``events`` holds no event.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> counts = pl.DataFrame({
    ...     "start_time": [t0 + timedelta(minutes=m) for m in range(180)],
    ...     "good": [50.0 if 60 <= m < 90 else 100.0 for m in range(180)],
    ...     "total": 100.0,
    ... })
    >>> w = incident_windows(counts, SLO("ttft", 0.999))
    >>> w.select("incident", pl.col("start", "end").dt.strftime("%H:%M"), "source").row(0)
    ('ttft', '01:01', '02:00', 'page')
    >>> quiet = counts.with_columns(good=pl.when(pl.col("good") < 100).then(99.0).otherwise(100.0))
    >>> w = incident_windows(quiet, 0.99, worst="30m", name="errors")
    >>> w.select("incident", pl.col("start", "end").dt.strftime("%H:%M"), "source").row(0)
    ('errors', '01:00', '01:30', 'worst period')
    """
    function = "slo.incident_windows"
    if name is not None and (not isinstance(name, str) or not name):
        raise ParameterError(
            f"The 'name' parameter of {function} must be a non-empty string or None. "
            f"Got {preview(name)} instead."
        )
    label = name if name is not None else objective.name if isinstance(objective, SLO) else "slo"
    fired = alerts(
        events,
        objective,
        good,
        time,
        policy,
        total=total,
        by=by,
        resolution=resolution,
        merge_gap=merge_gap,
    )
    keys = [c for c in fired.columns if c not in _ALERT_SCHEMA]
    gap_ns = 0 if merge_gap is None else _fixed_ns(merge_gap, "merge_gap", function)
    worst_ns = _fixed_ns(worst, "worst", function)
    found = pl.DataFrame(schema={**_WINDOW_SCHEMA, **{k: fired.schema[k] for k in keys}})
    for severity in ("page", "ticket"):
        chosen = fired.filter(pl.col("severity") == severity)
        if chosen.height:
            found = _merge_intervals(chosen, keys, gap_ns).with_columns(
                pl.lit(severity).alias("source")
            )
            break
    else:
        target = _objective(objective, function, period=policy.period if policy else None)
        res_ns = _fixed_ns(resolution, "resolution", function)
        grid, keys, res_ns = _series(events, target, good, total, time, by, res_ns, function)
        if grid.height:
            n = _windows_in(worst_ns, res_ns, "worst", function)
            worst_row = _worst_period(grid, keys, res_ns, n, 1.0 - target.target, min_events)
            found = worst_row.with_columns(pl.lit("worst period").alias("source"))
    if found.height == 0:
        return pl.DataFrame(schema={**_WINDOW_SCHEMA, **{k: found.schema[k] for k in keys}})
    names = (
        pl.concat_str(
            pl.lit(f"{label} on "),
            pl.concat_str(
                [pl.col(k).map_elements(_label, return_dtype=pl.String) for k in keys],
                separator="/",
            ),
        )
        if keys
        else pl.lit(label)
    )
    out = found.sort("start").with_columns(names.alias("incident"))
    repeated = pl.col("incident").count().over("incident") > 1
    out = out.with_columns(
        pl.when(repeated)
        .then(
            pl.concat_str(
                "incident", pl.lit(" ("), pl.col("start").dt.strftime("%a %d %H:%M"), pl.lit(")")
            )
        )
        .otherwise(pl.col("incident"))
        .alias("incident")
    )
    return out.select(
        "incident",
        pl.col("start").cast(TIME),
        pl.col("end").cast(TIME),
        "source",
        pl.col("burn_rate").cast(pl.Float64),
        *keys,
    )


def _instant(value: object, parameter: str, function: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ParameterError(
                f"The {parameter!r} parameter of {function} must hold ISO-8601 times with "
                f"their zone ('2026-11-04T09:30:00Z'). Got {preview(value)} instead."
            ) from None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must hold time-zone aware datetimes "
            f"or ISO-8601 times with their zone; a time without its zone is never guessed. "
            f"Got {preview(value)} instead."
        )
    return value.astimezone(dt.UTC)


def windows_frame(windows: Any) -> pl.DataFrame:
    """Incident windows given as ``{name: (start, end)}`` as a frame like :func:`incident_windows`.

    Parameters
    ----------
    windows : mapping or polars DataFrame
        ``{name: (start, end)}`` with aware datetimes or ISO-8601 text with its zone (end
        exclusive), or a frame with ``incident``, ``start`` and ``end`` columns (returned
        with those as the first columns).

    Returns
    -------
    polars.DataFrame
        ``incident``, ``start``, ``end`` (Datetime ns UTC) and ``source`` ("given"), in the
        mapping's order.

    Examples
    --------
    >>> windows_frame({"release": ("2026-11-04T09:30:00Z", "2026-11-05T15:00:00+00:00")}).row(0)[0]
    'release'
    """
    function = "slo.windows_frame"
    if isinstance(windows, pl.DataFrame):
        if not {"incident", "start", "end"} <= set(windows.columns):
            raise ParameterError(
                f"The 'windows' parameter of {function} must have columns incident, start "
                f"and end (slo.incident_windows gives them). Got columns "
                f"{preview(', '.join(windows.columns), 300)} instead."
            )
        for column in ("start", "end"):
            dtype = windows.schema[column]
            if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
                raise ParameterError(
                    f"The 'windows' parameter of {function} must have time-zone aware "
                    f"Datetime start and end columns. Got {column} of type {dtype} instead."
                )
        rest = [c for c in windows.columns if c not in ("incident", "start", "end")]
        return windows.select(
            pl.col("incident").cast(pl.String),
            pl.col("start").dt.convert_time_zone("UTC").dt.cast_time_unit("ns"),
            pl.col("end").dt.convert_time_zone("UTC").dt.cast_time_unit("ns"),
            *rest,
        )
    if not isinstance(windows, Mapping):
        raise ParameterError(
            f"The 'windows' parameter of {function} must be a mapping name -> (start, end) "
            f"or a frame from slo.incident_windows. Got {preview(windows)} instead."
        )
    rows: list[tuple[str, dt.datetime, dt.datetime]] = []
    for key, bounds in windows.items():
        if (
            not isinstance(key, str)
            or isinstance(bounds, str)
            or not isinstance(bounds, Sequence)
            or len(bounds) != 2
        ):
            raise ParameterError(
                f"The 'windows' parameter of {function} must map each name (a string) to a "
                f"(start, end) pair. Got {preview(key)}: {preview(bounds)} instead."
            )
        start = _instant(bounds[0], "windows", function)
        end = _instant(bounds[1], "windows", function)
        if end <= start:
            raise ParameterError(
                f"The 'windows' parameter of {function} must have each window's end after "
                f"its start. Got {key!r}: {start.isoformat()} to {end.isoformat()}."
            )
        rows.append((key, start, end))
    return pl.DataFrame(
        rows, schema={"incident": pl.String, "start": TIME, "end": TIME}, orient="row"
    ).with_columns(pl.lit("given").alias("source"))


def label_windows(
    frame: Any,
    windows: Any,
    *,
    time: str = "start_time",
    column: str = "period",
    on: str | Sequence[str] | None = None,
    baseline: str = "baseline",
) -> pl.DataFrame:
    """Each row labelled with the incident window its time falls in, or "baseline".

    Parameters
    ----------
    frame : polars or pandas DataFrame
        Rows with a time-zone aware time column (calls, spans, trace summaries).
    windows : polars DataFrame or mapping
        :func:`incident_windows` output, or ``{name: (start, end)}`` (see
        :func:`windows_frame`). ``end`` is exclusive.
    time : str, default "start_time"
        The time column of ``frame``.
    column : str, default "period"
        Name of the added String column.
    on : str or list of str, optional
        Columns of both ``frame`` and ``windows`` that must match too (a pool's window
        labels only that pool's rows). None: time alone.
    baseline : str, default "baseline"
        The label of rows outside every window.

    Returns
    -------
    polars.DataFrame
        ``frame`` with ``column`` added: the name of the first window (in ``windows``'
        order) holding the row, else ``baseline``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> rows = pl.DataFrame({"start_time": [datetime(2026, 11, 4, h, tzinfo=timezone.utc)
    ...                                     for h in (8, 10, 12)]})
    >>> windows = {"release": ("2026-11-04T09:30:00Z", "2026-11-04T12:00:00Z")}
    >>> label_windows(rows, windows)["period"].to_list()
    ['baseline', 'release', 'baseline']
    """
    function = "slo.label_windows"
    data = to_polars(frame, parameter="frame", function=function)
    spans = windows_frame(windows)
    keys = _columns(data, on, "on", function)
    missing = [k for k in keys if k not in spans.columns]
    if missing:
        raise ParameterError(
            f"The 'on' parameter of {function} must name columns of the windows too "
            f"(windows have {preview(', '.join(spans.columns), 300)}). Got {missing[0]!r}."
        )
    if not isinstance(column, str) or not column:
        raise ParameterError(
            f"The 'column' parameter of {function} must be a column name. "
            f"Got {preview(column)} instead."
        )
    t = _time_column(data, time, function)
    labels: list[pl.Expr] = []
    for row in spans.iter_rows(named=True):
        inside = (t >= row["start"]) & (t < row["end"])
        for k in keys:
            match = pl.col(k).is_null() if row[k] is None else pl.col(k) == row[k]
            inside = inside & match
        labels.append(pl.when(inside).then(pl.lit(row["incident"])))
    label = pl.coalesce([*labels, pl.lit(baseline)]) if labels else pl.lit(baseline)
    return data.with_columns(label.cast(pl.String).alias(column))


# --------------------------------------------------------------------------------------
# Objectives chosen from the data, and the tables of the SLO notebook
# --------------------------------------------------------------------------------------

#: What each SLI of an LLM service is called, its vLLM metric family, and how it is shown.
_SLIS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "availability": ("availability", ("vllm:request_success_total",), ""),
    "ttft_s": ("ttft", ("vllm:time_to_first_token_seconds",), "TTFT"),
    "latency_s": ("latency", ("vllm:e2e_request_latency_seconds",), "end-to-end latency"),
    "tpot_s": (
        "tpot",
        ("vllm:time_per_output_token_seconds", "vllm:inter_token_latency_seconds"),
        "TPOT",
    ),
}
_NICE = (1.0, 2.5, 5.0)
_POOL_WORDS = ("pool", "deployment", "cluster", "model_name", "response_model", "request_model")


@dataclass(frozen=True)
class Choice:
    """A value chosen from the data, and how it was chosen (a sentence for the reader).

    Examples
    --------
    >>> Choice(0.02, "traced calls / requests counted by the metrics").value
    0.02
    """

    value: Any
    how: str


def _filled_numeric(frame: pl.DataFrame | None, column: str) -> bool:
    return (
        frame is not None
        and column in frame.columns
        and frame.schema[column].is_numeric()
        and frame[column].drop_nulls().drop_nans().len() > 0
    )


def _metric_names(metrics: pl.DataFrame | None) -> set[str]:
    if metrics is None or "name" not in metrics.columns or metrics.height == 0:
        return set()
    return set(metrics["name"].unique().drop_nulls().to_list())


def _bounds(metrics: pl.DataFrame, family: str) -> list[float]:
    buckets = metrics.filter(pl.col("name") == f"{family}_bucket")
    return sorted(b for b in set(buckets["le"].drop_nulls().to_list()) if math.isfinite(b))


def _nice_ceiling(value: float) -> float:
    """The smallest number of the 1-2.5-5 series at or above ``value``."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    for k in (exponent, exponent + 1):
        for m in _NICE:
            candidate = float(f"{m * 10.0**k:.6g}")
            if candidate >= value * (1 - 1e-12):
                return candidate
    return float(f"{10.0 ** (exponent + 1):.6g}")  # pragma: no cover


def _seconds_text(value: float) -> str:
    return f"{value:.3g} s"


def choose_threshold(
    *,
    calls: Any = None,
    column: str | None = None,
    metrics: Any = None,
    metric: str | None = None,
    quantile: float = 0.95,
) -> Choice | None:
    """A latency threshold from the data: a histogram bucket bound near the calls' quantile.

    With a histogram (``metric``'s ``_bucket`` series in ``metrics``) the threshold is its
    smallest finite bucket bound at or above the ``quantile`` of the traced calls'
    ``column`` (of the histogram itself, when there are no calls): the metrics can then
    count good events exactly. Without a histogram it is the calls' quantile rounded up
    to the 1-2.5-5 series (0.0274 s gives 0.05 s).

    Parameters
    ----------
    calls : polars or pandas DataFrame, optional
        Usually ``llm_calls``; failed calls are left out (where ``is_error`` exists).
    column : str, optional
        The calls' SLI column (``"ttft_s"``).
    metrics : polars or pandas DataFrame, optional
        The canonical metrics table.
    metric : str, optional
        The histogram family (``"vllm:time_to_first_token_seconds"``).
    quantile : float, default 0.95
        Which share of events the threshold should about cover.

    Returns
    -------
    Choice or None
        The threshold and a sentence saying how it was chosen; None when neither source
        holds a value.

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"ttft_s": [0.1 * i for i in range(1, 101)]})  # p95 9.5 s
    >>> choose_threshold(calls=calls, column="ttft_s").value
    10.0
    """
    function = "slo.choose_threshold"
    q = _check_target(quantile, "quantile", function)
    frame = None if calls is None else to_polars(calls, parameter="calls", function=function)
    table = None if metrics is None else to_polars(metrics, parameter="metrics", function=function)
    observed: float | None = None
    source = ""
    if column is not None and frame is not None and _filled_numeric(frame, column):
        values = frame
        if "is_error" in frame.columns and frame.schema["is_error"] == pl.Boolean:
            values = frame.filter(~pl.col("is_error").fill_null(False))
        series = values[column].drop_nulls().drop_nans()
        if series.len():
            found = series.quantile(q, interpolation="linear")
            observed = float(found) if isinstance(found, int | float) else None
            source = f"the traced calls' p{q * 100:g} ({_seconds_text(observed or 0.0)})"
    bounds: list[float] = []
    if table is not None and metric is not None and f"{metric}_bucket" in _metric_names(table):
        bounds = _bounds(table, metric)
    if bounds:
        assert table is not None
        assert metric is not None
        if observed is None:
            counts = [metric_counts(table, metric, threshold=b) for b in bounds]
            fractions = [
                float(c["good"].sum()) / float(c["total"].sum()) if c["total"].sum() else 0.0
                for c in counts
            ]
            reached = [b for b, f in zip(bounds, fractions, strict=True) if f >= q]
            if not reached and not any(fractions):
                return None
            value = reached[0] if reached else bounds[-1]
            return Choice(
                value,
                f"{value:g} s: the smallest bucket bound of {metric} holding "
                f"{q:.0%} of its requests" + ("" if reached else " (none does: the largest)"),
            )
        above = [b for b in bounds if b >= observed]
        value = above[0] if above else bounds[-1]
        return Choice(
            value,
            f"{value:g} s: the smallest bucket bound of {metric} at or above {source}"
            if above
            else f"{value:g} s: the largest bucket bound of {metric}, below {source}",
        )
    if observed is None:
        return None
    value = _nice_ceiling(observed)
    return Choice(value, f"{value:g} s: {source}, rounded up")


def pool_column(
    frame: Any,
    *,
    columns: Sequence[str] | None = None,
    prefix: str | None = None,
    max_values: int = 12,
) -> str | None:
    """The column that names the deployment (pool, cluster, model) of each row, if any.

    The first column, in the order pool, deployment, cluster, model name, response model,
    request model (by name, case-insensitive), with between 2 and ``max_values`` distinct
    non-null values. Metrics labels (``label.pool``) and span attributes
    (``attributes.deployment.pool``) alike.

    Parameters
    ----------
    frame : polars or pandas DataFrame
        ``llm_calls``, the metrics table, spans ...
    columns : sequence of str, optional
        The candidates; None: every String column of ``frame``.
    prefix : str, optional
        Only columns whose name starts with it (``"label."`` for metrics labels).
    max_values : int, default 12

    Returns
    -------
    str or None
        The column's name; None when no column qualifies (group nothing).

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"attributes.app.route": ["chat", "rag"],
    ...                       "attributes.deployment.pool": ["h100", "l4"]})
    >>> pool_column(calls)
    'attributes.deployment.pool'
    >>> pool_column(calls.with_columns(pl.lit("h100").alias("attributes.deployment.pool")))
    """
    function = "slo.pool_column"
    data = to_polars(frame, parameter="frame", function=function)
    names = (
        [c for c in data.columns if data.schema[c] == pl.String]
        if columns is None
        else _columns(data, columns, "columns", function)
    )
    if prefix is not None:
        names = [n for n in names if n.startswith(prefix)]
    for word in _POOL_WORDS:
        for name in names:
            if word not in name.lower().replace(".", "_").replace("-", "_"):
                continue
            distinct = data[name].drop_nulls().n_unique()
            if 2 <= distinct <= max_values:
                return name
    return None


def _request_counts(metrics: pl.DataFrame) -> pl.DataFrame | None:
    names = _metric_names(metrics)
    for family in ("vllm:e2e_request_latency_seconds", "vllm:time_to_first_token_seconds"):
        if f"{family}_bucket" in names:
            bounds = _bounds(metrics, family)
            if bounds:
                return metric_counts(metrics, family, threshold=bounds[0])  # type: ignore[no-any-return]
    if "vllm:request_success_total" in names and "label.finished_reason" in metrics.columns:
        return metric_counts(  # type: ignore[no-any-return]
            metrics, "vllm:request_success_total", bad={"finished_reason": []}
        )
    return None


def trace_sampling(calls: Any, metrics: Any = None, *, given: float | None = None) -> Choice:
    """The fraction of requests that were traced: traced calls over the requests the metrics count.

    Calls in the period the metrics cover, divided by the requests vLLM's counters saw
    there (``vllm:e2e_request_latency_seconds`` or ``vllm:time_to_first_token_seconds``
    counts, else ``vllm:request_success_total``), rounded to two significant digits as a
    sampler's ratio is set; 1.0 when the ratio reaches 0.95 or there is nothing to
    compare with (with a sentence saying so).

    Parameters
    ----------
    calls : polars or pandas DataFrame
        ``llm_calls``.
    metrics : polars or pandas DataFrame, optional
        The canonical metrics table.
    given : float, optional
        The ratio the user knows (the sampler's setting): returned as is, when in (0, 1].

    Returns
    -------
    Choice

    Examples
    --------
    >>> import polars as pl
    >>> trace_sampling(pl.DataFrame({"start_time": []})).value
    1.0
    >>> trace_sampling(None, given=0.1)
    Choice(value=0.1, how='0.1, as given')
    """
    function = "slo.trace_sampling"
    if given is not None:
        if isinstance(given, bool) or not isinstance(given, int | float) or not 0 < given <= 1:
            raise ParameterError(
                f"The 'given' parameter of {function} must be a fraction in (0, 1] (0.02 for "
                f"2 % of requests traced). Got {preview(given)} instead."
            )
        return Choice(float(given), f"{float(given):g}, as given")
    if calls is None:
        return Choice(1.0, "1.0: no traced calls")
    frame = to_polars(calls, parameter="calls", function=function)
    table = None if metrics is None else to_polars(metrics, parameter="metrics", function=function)
    counts = _request_counts(table) if table is not None else None
    if counts is None or counts.height == 0 or frame.height == 0:
        return Choice(
            1.0,
            "1.0 assumed: no request counter of vLLM to compare the traced calls with; "
            "set trace_sampling if the traces are sampled",
        )
    start = counts["start_time"].min()
    step = counts["start_time"].unique().sort().diff().drop_nulls().min()
    end = counts["start_time"].max()
    assert isinstance(start, dt.datetime)
    assert isinstance(end, dt.datetime)
    if isinstance(step, dt.timedelta):
        end = end + step
    t = _time_column(frame, "start_time", function)
    traced = frame.filter((t >= start) & (t < end)).height
    requests = float(counts["total"].sum())
    if requests <= 0:
        return Choice(1.0, "1.0 assumed: the metrics count no request")
    ratio = traced / requests
    if ratio >= 0.95:
        return Choice(1.0, f"1.0: {traced:,} traced calls for {requests:,.0f} requests counted")
    if ratio == 0:
        return Choice(1.0, "1.0 assumed: no traced call in the period the metrics cover")
    value = float(f"{ratio:.2g}")
    return Choice(
        value,
        f"{value:g}: {traced:,} traced calls for {requests:,.0f} requests counted by vLLM "
        "(rounded to two digits)",
    )


@dataclass(frozen=True)
class ServiceObjectives:
    """The objectives of an LLM service that its data can measure, and how they were set.

    Attributes
    ----------
    slos : dict of str to SLO
        Keyed by SLI (``"availability"``, ``"ttft_s"``, ``"latency_s"``, ``"tpot_s"``).
    notes : tuple of str
        One sentence per choice made from the data (thresholds) or objective left out.
    """

    slos: dict[str, SLO]
    notes: tuple[str, ...] = ()


def service_objectives(
    *,
    calls: Any = None,
    metrics: Any = None,
    slo_file: str | os.PathLike[str] | None = None,
    period: str = "30d",
    availability_target: float = 0.995,
    ttft_threshold_s: float | None = None,
    ttft_target: float = 0.99,
    latency_threshold_s: float | None = None,
    latency_target: float = 0.99,
    tpot_threshold_s: float | None = None,
    tpot_target: float = 0.99,
    quantile: float = 0.95,
) -> ServiceObjectives:
    """Availability, TTFT, latency and TPOT objectives for what ``calls``/``metrics`` hold.

    An objective is kept when the traced calls carry its SLI (``is_error``, ``ttft_s``,
    ``latency_s``, ``tpot_s``) or vLLM's metrics hold its family; each gets the vLLM
    metric that measures it when the metrics have one. A threshold left None is chosen
    from the data by :func:`choose_threshold` (a bucket bound near the calls'
    ``quantile``). A threshold given that is not a bucket bound of the metric measures the
    SLI from traces only. With ``slo_file`` the OpenSLO file's objectives replace these
    (keyed by their SLI).

    Parameters
    ----------
    calls, metrics : polars or pandas DataFrame, optional
        ``llm_calls`` and the metrics table (either may be None).
    slo_file : path, optional
        OpenSLO v1 YAML (:func:`load_slos`).
    period : str, default "30d"
        The rolling SLO window.
    availability_target, ttft_target, latency_target, tpot_target : float
        Targets (domain defaults: 99.5 % of calls succeed, 99 % within each threshold).
    ttft_threshold_s, latency_threshold_s, tpot_threshold_s : float, optional
        Thresholds in seconds; None: chosen from the data.
    quantile : float, default 0.95
        The quantile a chosen threshold sits near.

    Returns
    -------
    ServiceObjectives

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"is_error": [False, True], "ttft_s": [0.4, None]})
    >>> found = service_objectives(calls=calls, ttft_threshold_s=2.0)
    >>> [s.describe() for s in found.slos.values()]  # doctest: +NORMALIZE_WHITESPACE
    ['99.5% of events succeed over a rolling 30d',
     '99% of events with ttft_s <= 2 over a rolling 30d']
    """
    function = "slo.service_objectives"
    frame = None if calls is None else to_polars(calls, parameter="calls", function=function)
    table = None if metrics is None else to_polars(metrics, parameter="metrics", function=function)
    names = _metric_names(table)
    notes: list[str] = []
    if slo_file is not None:
        loaded = load_slos(slo_file)
        keyed = {s.sli: s for s in loaded if s.sli is not None}
        return ServiceObjectives(keyed, (f"objectives from {slo_file}",))
    targets = {
        "availability": availability_target,
        "ttft_s": ttft_target,
        "latency_s": latency_target,
        "tpot_s": tpot_target,
    }
    given = {
        "ttft_s": ttft_threshold_s,
        "latency_s": latency_threshold_s,
        "tpot_s": tpot_threshold_s,
    }
    slos: dict[str, SLO] = {}
    for sli, (name, families, words) in _SLIS.items():
        found = [f for f in families if f in names or f"{f}_bucket" in names]
        metric = found[0] if found else None
        if sli == "availability":
            traced = (
                frame is not None
                and "is_error" in frame.columns
                and frame.schema["is_error"] == pl.Boolean
                and frame.height > 0
            )
            if not traced and metric is None:
                continue
            slos[sli] = SLO(name, targets[sli], sli=sli, time_window=period, metric=metric)
            continue
        traced = _filled_numeric(frame, sli)
        if metric is not None and f"{metric}_bucket" not in names:
            metric = None
        if not traced and metric is None:
            notes.append(
                f"No {words} objective: neither the traced calls nor the metrics measure it."
            )
            continue
        threshold = given[sli]
        if threshold is None:
            choice = choose_threshold(
                calls=frame if traced else None,
                column=sli,
                metrics=table,
                metric=metric,
                quantile=quantile,
            )
            if choice is None:
                notes.append(f"No {words} objective: no value to choose a threshold from.")
                continue
            threshold = choice.value
            notes.append(f"{words[0].upper()}{words[1:]} threshold {choice.how}.")
        elif metric is not None and float(threshold) not in _bounds(table, metric):  # type: ignore[arg-type]
            notes.append(
                f"{words[0].upper()}{words[1:]} threshold {threshold:g} s is not a bucket "
                f"bound of {metric} "
                f"({', '.join(f'{b:g}' for b in _bounds(table, metric))}): "  # type: ignore[arg-type]
                "measured from the traced calls only."
            )
            metric = None
            if not traced:
                continue
        slos[sli] = SLO(
            name, targets[sli], sli=sli, threshold=threshold, time_window=period, metric=metric
        )
    return ServiceObjectives(slos, tuple(notes))


def metric_events(
    metrics: Any, objectives: ServiceObjectives | Mapping[str, SLO], *, by: str | None = None
) -> dict[str, pl.DataFrame]:
    """Good and total counts per SLI from vLLM's metrics, for each objective with a metric.

    Availability counts ``vllm:request_success_total`` increases, bad where
    ``finished_reason`` is ``abort`` or ``error``; a latency SLI counts its histogram at the
    objective's threshold (:func:`metric_counts`).

    Parameters
    ----------
    metrics : polars or pandas DataFrame, optional
        The metrics table; None gives no counts.
    objectives : ServiceObjectives or mapping of SLI to SLO
    by : str, optional
        The label to keep (``"label.pool"``).

    Returns
    -------
    dict of str to polars.DataFrame
        Keyed by SLI, only those the metrics measure.

    Examples
    --------
    >>> metric_events(None, {"availability": SLO("availability", 0.99, sli="availability")})
    {}
    """
    function = "slo.metric_events"
    if metrics is None:
        return {}
    table = to_polars(metrics, parameter="metrics", function=function)
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    names = _metric_names(table)
    out: dict[str, pl.DataFrame] = {}
    for sli, s in slos.items():
        if s.metric is None or not {s.metric, f"{s.metric}_bucket"} & names:
            continue
        if f"{s.metric}_bucket" in names:
            if s.threshold is None or s.threshold not in _bounds(table, s.metric):
                continue
            out[sli] = metric_counts(table, s.metric, threshold=s.threshold, by=by)
        elif "label.finished_reason" in table.columns:
            out[sli] = metric_counts(
                table, s.metric, bad={"finished_reason": ["abort", "error"]}, by=by
            )
    return out


def trace_events(
    calls: Any, objectives: ServiceObjectives | Mapping[str, SLO]
) -> dict[str, pl.DataFrame]:
    """:func:`good_events` of the calls for every objective whose SLI the calls carry.

    Parameters
    ----------
    calls : polars or pandas DataFrame, optional
        ``llm_calls``; None gives no events.
    objectives : ServiceObjectives or mapping of SLI to SLO

    Returns
    -------
    dict of str to polars.DataFrame
        Keyed by SLI.

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"is_error": [False, True]})
    >>> slos = {"availability": SLO("availability", 0.99, sli="availability"),
    ...         "ttft_s": SLO("ttft", 0.99, sli="ttft_s", threshold=1.0)}
    >>> list(trace_events(calls, slos))
    ['availability']
    """
    if calls is None:
        return {}
    frame = to_polars(calls, parameter="calls", function="slo.trace_events")
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    out: dict[str, pl.DataFrame] = {}
    for sli, s in slos.items():
        if s.sli == _AVAILABILITY:
            if "is_error" in frame.columns and frame.schema["is_error"] == pl.Boolean:
                out[sli] = good_events(frame, s)
        elif s.sli is not None and _filled_numeric(frame, s.sli):
            out[sli] = good_events(frame, s)
    return out


def compare_sources(
    objectives: ServiceObjectives | Mapping[str, SLO],
    from_metrics: Mapping[str, Any],
    from_traces: Mapping[str, Any],
) -> pl.DataFrame:
    """Each SLI as the metrics and as the traced calls measure it, side by side.

    Parameters
    ----------
    objectives : ServiceObjectives or mapping of SLI to SLO
    from_metrics : mapping of SLI to counts
        :func:`metric_events`.
    from_traces : mapping of SLI to events
        :func:`trace_events`.

    Returns
    -------
    polars.DataFrame
        One row per objective: ``slo``, ``sli``, ``target``, ``metrics_good`` and
        ``metrics_events`` (null without metrics), ``traces_good`` and ``traced_events``
        (null without traces), ``gap`` (metrics minus traces).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> slos = {"availability": SLO("availability", 0.99, sli="availability")}
    >>> counts = pl.DataFrame({"start_time": [t], "good": [99.0], "total": [100.0]})
    >>> calls = pl.DataFrame({"start_time": [t] * 4, "is_good": [True, True, True, False]})
    >>> compare_sources(slos, {"availability": counts}, {"availability": calls}).select(
    ...     "metrics_good", "traces_good", "gap").row(0)
    (0.99, 0.75, 0.24)
    """
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    rows = []
    for sli, s in slos.items():
        row: dict[str, Any] = {"slo": s.name, "sli": sli, "target": s.target}
        for prefix, events, count in (
            ("metrics", from_metrics, "metrics_events"),
            ("traces", from_traces, "traced_events"),
        ):
            fraction = good_fraction(events[sli]) if sli in events else None
            row[f"{prefix}_good"] = None if fraction is None else fraction["fraction"].item()
            row[count] = None if fraction is None else fraction["total"].item()
        rows.append(row)
    schema = {
        "slo": pl.String,
        "sli": pl.String,
        "target": pl.Float64,
        "metrics_good": pl.Float64,
        "metrics_events": pl.Float64,
        "traces_good": pl.Float64,
        "traced_events": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(
        (pl.col("metrics_good") - pl.col("traces_good")).alias("gap")
    )


def _pooled(frame: pl.DataFrame, pool: str | None, name: str) -> pl.DataFrame:
    if pool is None:
        return frame.with_columns(pl.lit("all").alias("pool"), pl.lit(name).alias("slo"))
    return frame.rename({pool: "pool"}).with_columns(
        pl.col("pool").cast(pl.String).fill_null("(none)"), pl.lit(name).alias("slo")
    )


def budget_table(
    objectives: ServiceObjectives | Mapping[str, SLO],
    from_metrics: Mapping[str, Any],
    from_traces: Mapping[str, Any],
    *,
    metrics_pool: str | None = None,
    traces_pool: str | None = None,
    every: str = "1h",
) -> pl.DataFrame:
    """The error budget of every objective per step and pool, from metrics where they measure it.

    The SLIs the metrics measure come from them (every request); the others from the
    traced calls, their ``slo`` suffixed " (traces)".

    Parameters
    ----------
    objectives : ServiceObjectives or mapping of SLI to SLO
    from_metrics, from_traces : mapping of SLI to events
        :func:`metric_events` and :func:`trace_events`.
    metrics_pool, traces_pool : str, optional
        The pool column of each source (``"label.pool"``, ``"attributes.deployment.pool"``);
        None: one series per SLO, pool "all".
    every : str, default "1h"

    Returns
    -------
    polars.DataFrame
        :func:`error_budget`'s columns with ``pool`` (String) for the pool column, plus
        ``slo`` and ``series`` ("slo / pool").

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t0 + timedelta(hours=h) for h in range(4)],
    ...                    "is_good": [True, True, True, False]})
    >>> slos = {"availability": SLO("availability", 0.5, sli="availability", time_window="4h")}
    >>> table = budget_table(slos, {}, {"availability": ev}, every="4h")
    >>> table.select("slo", "pool", "budget_consumed").row(-1)
    ('availability (traces)', 'all', 0.5)
    """
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    parts = [
        _pooled(
            error_budget(counts, slos[sli], by=metrics_pool, every=every),
            metrics_pool,
            slos[sli].name,
        )
        for sli, counts in from_metrics.items()
        if sli in slos
    ] + [
        _pooled(
            error_budget(events, slos[sli], by=traces_pool, every=every),
            traces_pool,
            slos[sli].name + " (traces)",
        )
        for sli, events in from_traces.items()
        if sli in slos and sli not in from_metrics
    ]
    if not parts:
        return pl.DataFrame(
            schema={"time": TIME, "pool": pl.String, "slo": pl.String, "series": pl.String}
        )
    return pl.concat(parts, how="diagonal_relaxed").with_columns(
        pl.concat_str("slo", pl.lit(" / "), "pool").alias("series")
    )


def latest_budget(budgets: pl.DataFrame) -> pl.DataFrame:
    """The last row of each SLO and pool of :func:`budget_table`: the budget at the period's end.

    Examples
    --------
    >>> import polars as pl
    >>> b = pl.DataFrame({"time": [2, 1, 1], "slo": ["a", "a", "b"], "pool": "all",
    ...                   "budget_consumed": [0.5, 0.1, 0.2]})
    >>> latest_budget(b)["budget_consumed"].to_list()
    [0.5, 0.2]
    """
    require_columns(budgets, ["time", "slo", "pool"], table="budgets", where="slo.latest_budget")
    return (
        budgets.sort("time").group_by("slo", "pool", maintain_order=True).last().sort("slo", "pool")
    )


def alert_table(
    objectives: ServiceObjectives | Mapping[str, SLO],
    events: Mapping[str, Any],
    *,
    pool: str | None = None,
    merge_gap: str | None = "30m",
    policy: AlertPolicy | None = None,
) -> pl.DataFrame:
    """The burn-rate alerts of every objective (:func:`alerts`), with ``slo`` and ``pool``.

    Parameters
    ----------
    objectives : ServiceObjectives or mapping of SLI to SLO
    events : mapping of SLI to events or counts
        :func:`metric_events` or :func:`trace_events`.
    pool : str, optional
        The pool column of ``events``; None: pool "all".
    merge_gap : str or None, default "30m"
    policy : AlertPolicy, optional

    Returns
    -------
    polars.DataFrame
        ``slo``, ``pool``, then :func:`alerts`' columns, ordered by ``start``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> counts = pl.DataFrame({"start_time": [t0 + timedelta(minutes=m) for m in range(180)],
    ...     "good": [50.0 if 60 <= m < 90 else 100.0 for m in range(180)], "total": 100.0})
    >>> slos = {"ttft_s": SLO("ttft", 0.999, sli="ttft_s", threshold=1.0)}
    >>> alert_table(slos, {"ttft_s": counts}).select("slo", "pool", "severity").rows()
    [('ttft', 'all', 'page'), ('ttft', 'all', 'ticket'), ('ttft', 'all', 'page')]
    """
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    parts = [
        _pooled(
            alerts(frame, slos[sli], policy=policy, by=pool, merge_gap=merge_gap),
            pool,
            slos[sli].name,
        )
        for sli, frame in events.items()
        if sli in slos
    ]
    empty = pl.DataFrame(schema={"slo": pl.String, "pool": pl.String, **_ALERT_SCHEMA})
    out = pl.concat([empty, *[p.select(empty.columns) for p in parts]], how="vertical_relaxed")
    return out.sort("start", "slo", "pool", maintain_order=True)


def slice_table(
    objectives: ServiceObjectives | Mapping[str, SLO],
    from_traces: Mapping[str, Any],
    dimensions: Sequence[str],
    *,
    pool: str | None = None,
) -> pl.DataFrame:
    """Which slices burned each objective's budget (:func:`budget_by_slice` per dimension).

    Parameters
    ----------
    objectives : ServiceObjectives or mapping of SLI to SLO
    from_traces : mapping of SLI to events
        :func:`trace_events`.
    dimensions : sequence of str
        Columns of the events (``toolkit.dimensions(calls)``); those absent are skipped,
        and so is ``pool`` itself.
    pool : str, optional
        Slice within each pool (``"attributes.deployment.pool"``); None: pool "all".

    Returns
    -------
    polars.DataFrame
        ``slo``, ``dimension`` (the column without its ``attributes.`` prefix), ``pool``,
        ``slice`` (the value, as text), ``bad``, ``total``, ``burn_rate`` and
        ``burn_contribution``, the largest contribution first.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t] * 4, "attributes.route": ["a", "a", "b", "b"],
    ...                    "is_good": [False, False, True, False]})
    >>> slos = {"availability": SLO("availability", 0.5, sli="availability")}
    >>> slice_table(slos, {"availability": ev}, ["attributes.route"]).select(
    ...     "dimension", "slice", "burn_contribution").rows()
    [('route', 'a', 1.0), ('route', 'b', 0.5)]
    """
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    columns = [
        "slo",
        "dimension",
        "pool",
        "slice",
        "bad",
        "total",
        "burn_rate",
        "burn_contribution",
    ]
    parts = []
    for sli, events in from_traces.items():
        if sli not in slos:
            continue
        frame = to_polars(events, parameter="from_traces", function="slo.slice_table")
        for dimension in dimensions:
            if dimension not in frame.columns or dimension == pool:
                continue
            if pool is not None and frame.group_by(pool).agg(pl.col(dimension).n_unique())[
                dimension
            ].max() in (0, 1):
                continue  # one value per pool (the pool's server, say): not a slice of it
            keys = [pool, dimension] if pool is not None else [dimension]
            table = budget_by_slice(frame, slos[sli], keys).rename({dimension: "slice"})
            table = _pooled(table, pool, slos[sli].name).with_columns(
                pl.col("slice").cast(pl.String),
                pl.lit(dimension.removeprefix("attributes.")).alias("dimension"),
            )
            parts.append(table.select(columns))
    empty = pl.DataFrame(
        schema={
            "slo": pl.String,
            "dimension": pl.String,
            "pool": pl.String,
            "slice": pl.String,
            "bad": pl.Float64,
            "total": pl.Float64,
            "burn_rate": pl.Float64,
            "burn_contribution": pl.Float64,
        }
    )
    out = pl.concat([empty, *parts], how="vertical_relaxed")
    return out.sort("burn_contribution", descending=True, nulls_last=True, maintain_order=True)


def latency_table(
    calls: Any,
    columns: Sequence[str] = ("ttft_s", "tpot_s", "latency_s"),
    q: Sequence[float] = (0.5, 0.95, 0.99),
    *,
    by: str | None = None,
) -> pl.DataFrame:
    """Percentiles of each latency SLI the calls carry, one row per SLI (and pool).

    Parameters
    ----------
    calls : polars or pandas DataFrame
    columns : sequence of str, default ("ttft_s", "tpot_s", "latency_s")
        Those without a value are skipped.
    q : sequence of float, default (0.5, 0.95, 0.99)
    by : str, optional
        A pool column.

    Returns
    -------
    polars.DataFrame
        ``sli``, the ``by`` column, then one column per percentile (``p50`` ...).

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"ttft_s": [1.0, 2.0, 3.0], "tpot_s": [None, None, None]})
    >>> latency_table(calls, q=[0.5]).rows()
    [('ttft_s', 2.0)]
    """
    frame = to_polars(calls, parameter="calls", function="slo.latency_table")
    parts = [
        percentiles(frame, column, q, by=by).with_columns(pl.lit(column).alias("sli"))
        for column in columns
        if _filled_numeric(frame, column)
    ]
    index = ["sli", by] if by is not None else ["sli"]
    if not parts:
        return pl.DataFrame(schema={"sli": pl.String})
    out: pl.DataFrame = pl.concat(parts, how="vertical_relaxed").pivot(
        on="name", index=index, values="value"
    )
    return out


def pooled_burn_rates(
    objective: SLO,
    events: Any,
    *,
    pool: str | None = None,
    windows: Sequence[str] = ("1h", "6h", "3d"),
) -> pl.DataFrame:
    """:func:`burn_rates` of one objective with its pool column named ``pool`` ("all" without).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t0 + timedelta(minutes=m) for m in range(4)],
    ...                    "is_good": [True, False, True, True]})
    >>> pooled_burn_rates(SLO("a", 0.9), ev, windows=["2m"])["pool"].unique().to_list()
    ['all']
    """
    return _pooled(burn_rates(events, objective, windows=windows, by=pool), pool, objective.name)
