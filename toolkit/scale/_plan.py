"""What a store holds and what to ask of it: the sources of its spans, the fleet plan
(:class:`FleetPlan`, :func:`plan`), exact and sketched percentiles side by side, ingest
runs and pages per group.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from toolkit._validation import (
    Interval,
    OneOf,
    UTCTime,
    caller,
    reject,
    utc_time,
    validate_params,
)
from toolkit.errors import (
    FormatError,
    ParameterError,
)
from toolkit.ingest._io import PathLike, expand_paths
from toolkit.scale._store import IngestResult, _is_url, scan

# --- what a store holds: the questions its spans can answer ------------------------------


@validate_params()
def span_sources(data_dir: PathLike, sources: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The exports to ingest: every spans file under ``data_dir``, found by content.

    Parameters
    ----------
    data_dir : str or path-like
        The folder of exports (searched recursively, any names, any nesting).
    sources : str or sequence of str, optional
        Files, directories, globs or fsspec URLs to ingest instead; a relative path is
        taken relative to ``data_dir``, a URL or an absolute path as it is. None: every
        file under ``data_dir`` whose content is a spans export (OTLP JSON lines or
        protobuf, Jaeger, Zipkin, SDK dumps), whatever its name.

    Returns
    -------
    tuple of str
        The sources, sorted; empty when ``data_dir`` holds no spans export.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.txt").write_text("hello")
    >>> span_sources(folder), span_sources(folder, ["s3://bucket/otlp/"])
    ((), ('s3://bucket/otlp/',))
    """
    from toolkit.ingest.detect import detect

    function = caller() or "scale.span_sources"
    if sources is not None:
        items = [sources] if isinstance(sources, str) else list(sources)
        bad = [s for s in items if not isinstance(s, str) or not s]
        if bad or not items:
            raise reject("sources", "be a path, URL or glob, or a list of them", sources)
        base = os.fspath(data_dir)
        return tuple(s if _is_url(s) or os.path.isabs(s) else os.path.join(base, s) for s in items)
    if isinstance(data_dir, str) and _is_url(data_dir):
        return (data_dir,)
    found: list[str] = []
    for file in expand_paths(data_dir, function=function):
        try:
            kind = detect(file)
        except (FormatError, OSError):
            continue
        if kind.table == "spans":
            found.append(str(file))
    return tuple(sorted(found))


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above ``value`` (``value`` > 0)."""
    exponent = math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        nice = step * 10.0**exponent
        if nice >= value * (1 - 1e-12):
            return float(f"{nice:.12g}")
    return 10.0 ** (exponent + 1)  # pragma: no cover


#: Window widths :func:`plan` picks the drift windows from, widest first.
_DRIFT_EVERY: tuple[tuple[str, dt.timedelta], ...] = (
    ("1d", dt.timedelta(days=1)),
    ("6h", dt.timedelta(hours=6)),
    ("1h", dt.timedelta(hours=1)),
    ("15m", dt.timedelta(minutes=15)),
    ("5m", dt.timedelta(minutes=5)),
    ("1m", dt.timedelta(minutes=1)),
)


@dataclass(frozen=True)
class FleetPlan:
    """What a store's spans hold, and so which fleet questions they can answer.

    Made by :func:`plan`; each field is the caller's value when one was given, else found
    from the store.

    Attributes
    ----------
    rows : int
        Spans in the store.
    first, last : datetime or None
        The first and last span start (UTC).
    services : tuple of str
        Every service of the store.
    ttft_column : str or None
        The time-to-first-token attribute column (seconds), model-server spans first.
    server_services : tuple of str
        Services whose spans carry ``ttft_column`` (model-server requests).
    call_services : tuple of str
        Services whose spans are model calls (:func:`toolkit.llm_calls`) with the users'
        dimensions.
    dimensions : tuple of str
        Slice and group columns of the calls (:func:`toolkit.dimensions`), most even first.
    groups : tuple of str
        The dimensions that describe the user (``user.*``, ``enduser.*``: the groups a
        fairness check is about); all ``dimensions`` when none does.
    outcome_column : str or None
        The finish-reason column of the calls.
    every : str
        Drift window width.
    reference : (datetime, datetime) or None
        The drift reference: the first whole windows, about 30 % of the period.
    ttft_threshold_s : float or None
        A request is good when its first token came within this: the caller's, else the
        reference period's 99th percentile rounded up to 1, 2 or 5 x 10^k seconds.
    period : dict
        The ``start``/``end`` filters the plan was made for (empty: the whole store).
    starts : dict
        The first span start of each service.
    """

    rows: int
    first: dt.datetime | None
    last: dt.datetime | None
    services: tuple[str, ...]
    ttft_column: str | None
    server_services: tuple[str, ...]
    call_services: tuple[str, ...]
    dimensions: tuple[str, ...]
    groups: tuple[str, ...]
    outcome_column: str | None
    every: str
    reference: tuple[dt.datetime, dt.datetime] | None
    ttft_threshold_s: float | None
    period: dict[str, dt.datetime] = field(default_factory=dict)
    starts: dict[str, dt.datetime] = field(default_factory=dict)

    @property
    def server_filters(self) -> dict[str, Any]:
        """Filters of the model-server spans in the period (for :func:`alerts` ...)."""
        return {"service_name": list(self.server_services), **self.period}

    @property
    def call_filters(self) -> dict[str, Any]:
        """Filters of the model-call spans in the period (for :func:`drift` ...)."""
        return {"service_name": list(self.call_services), **self.period}

    @property
    def windows(self) -> int:
        """Drift windows of ``every`` in the period."""
        if self.first is None or self.last is None:
            return 0
        width = dict(_DRIFT_EVERY).get(self.every)
        if width is None:
            return 0
        start = pl.Series([self.first]).dt.truncate(self.every)[0]
        return int((self.last - start) // width) + 1

    @property
    def ttft_columns(self) -> tuple[str, ...]:
        """``(ttft_column,)``, or ``()`` when there is none (for a ``select``)."""
        return () if self.ttft_column is None else (self.ttft_column,)

    @property
    def good_ttft(self) -> pl.Expr:
        """A request is good when ``ttft_column <= ttft_threshold_s`` (null: bad)."""
        if self.ttft_column is None or self.ttft_threshold_s is None:
            raise ParameterError(
                "FleetPlan.good_ttft needs a TTFT column and threshold; the store has "
                f"ttft_column={self.ttft_column!r}, ttft_threshold_s={self.ttft_threshold_s!r}."
            )
        return pl.col(self.ttft_column) <= self.ttft_threshold_s

    @property
    def one_day(self) -> dict[str, Any]:
        """Filters selecting one UTC day of one service: the first day of the first model
        server, else of the service whose spans start first."""
        service = next(iter(self.server_services), None)
        if service is None and self.starts:
            service = min(self.starts, key=lambda s: (self.starts[s], s))
        service = service or next(iter(self.services), "")
        first = self.starts.get(service, self.first)
        if first is None:
            return {"service_name": service}
        day = first.replace(hour=0, minute=0, second=0, microsecond=0)
        return {"service_name": service, "start": day, "end": day + dt.timedelta(days=1)}

    @property
    def supports(self) -> dict[str, Any]:
        """Each question of the fleet notebook, and whether the store supports it.

        Keys ``"store"``, ``"slo"`` (TTFT burn rates and sketches), ``"drift"`` and
        ``"fairness"``; values are :class:`toolkit.Support`.
        """
        from toolkit.ingest.discover import HOW_TO_GET, Support

        spans = f"{self.rows:,} spans of {len(self.services)} service(s)"
        store = Support(
            "store",
            "spans in the store",
            spans,
            () if self.rows else ("spans",),
            "" if self.rows else HOW_TO_GET["spans"],
        )
        slo_missing = tuple(
            m
            for m, absent in (
                ("spans", not self.rows),
                ("a time-to-first-token attribute", self.ttft_column is None),
                ("model-server spans", self.ttft_column is not None and not self.server_services),
            )
            if absent
        )
        slo = Support(
            "slo",
            "model-server spans with time to first token (gen_ai.latency.time_to_first_token"
            " or gen_ai.response.time_to_first_chunk)",
            spans
            + (
                f"; TTFT in {self.ttft_column} on {', '.join(self.server_services)}"
                if self.ttft_column and self.server_services
                else "; no TTFT attribute"
            ),
            slo_missing,
            "trace the model server (vLLM's OpenTelemetry tracing writes "
            "gen_ai.latency.time_to_first_token), or stream with an instrumented client"
            if slo_missing
            else "",
        )
        calls = (
            f"model calls in {', '.join(self.call_services)}"
            if self.call_services
            else "no model call"
        )
        dims = f", dimensions {', '.join(self.dimensions)}" if self.dimensions else ""
        how_dims = (
            "set user or request attributes with a few values (tier, locale, route) on the "
            "model-call spans, or name a column"
        )
        drift_missing = tuple(
            m
            for m, absent in (
                ("model calls", not self.call_services),
                ("a dimension", bool(self.call_services) and not self.dimensions),
                (
                    f"windows after the reference (period shorter than two {self.every} windows)",
                    self.reference is None and bool(self.rows),
                ),
            )
            if absent
        )
        drift = Support(
            "drift",
            "model calls with a dimension, over at least two windows",
            calls + dims,
            drift_missing,
            how_dims if drift_missing else "",
        )
        fair_missing = tuple(
            m
            for m, absent in (
                ("model calls", not self.call_services),
                ("a group dimension", bool(self.call_services) and not self.dimensions),
                ("a finish-reason attribute", self.outcome_column is None),
            )
            if absent
        )
        fairness = Support(
            "fairness",
            "model calls with a group dimension and their finish reasons",
            calls + dims + (f", outcomes in {self.outcome_column}" if self.outcome_column else ""),
            fair_missing,
            how_dims + "; record gen_ai.response.finish_reasons" if fair_missing else "",
        )
        return {"store": store, "slo": slo, "drift": drift, "fairness": fairness}


def _names(value: object, parameter: str, function: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Sequence) or not all(isinstance(v, str) and v for v in items):
        raise reject(parameter, "be a string or a list of strings", value, function=function)
    return tuple(items)


#: ``reference_days``: the drift reference's length.
_DAYS = Interval(float, 0, None, closed="right", description="a positive number of days")


@validate_params(
    every=[OneOf(*dict(_DRIFT_EVERY)), None],
    reference_days=[None, _DAYS],
    start=[UTCTime(), None],
    end=[UTCTime(), None],
    sample_rows=Interval(int, 1, None),
)
def plan(
    store: PathLike,
    *,
    ttft_column: str | None = None,
    server_services: str | Sequence[str] | None = None,
    call_services: str | Sequence[str] | None = None,
    dimensions: str | Sequence[str] | None = None,
    outcome_column: str | None = None,
    every: str | None = None,
    reference_days: float | None = None,
    ttft_threshold_s: float | None = None,
    start: dt.datetime | str | None = None,
    end: dt.datetime | str | None = None,
    sample_rows: int = 20_000,
) -> FleetPlan:
    """Find, from a store's spans, what the fleet questions need; the caller's values win.

    The TTFT column is the first time-to-first-token attribute of :data:`toolkit.semconv.
    ALIASES` present (the model server's ``gen_ai.latency.time_to_first_token`` first); the
    server services are those whose spans carry it. The model-call services, dimensions and
    finish-reason column come from :func:`toolkit.llm_calls` and :func:`toolkit.dimensions`
    on a sample of every service's spans (``sample_rows`` each, read on the driver). Drift
    windows are the widest of 1 d, 6 h, 1 h, 15 min, 5 min, 1 min that gives four windows
    or more, and the reference is the first ~30 % of them (at least one, leaving one).

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    ttft_column, outcome_column : str, optional
        Columns to use instead of the ones found (checked to exist).
    server_services, call_services, dimensions : str or list of str, optional
        Services and columns to use instead of the ones found.
    every : str, optional
        Drift window width.
    reference_days : float, optional
        Length of the drift reference, in days, from the first window.
    ttft_threshold_s : float, optional
        The TTFT threshold of a good request.
    start, end : datetime or ISO-8601 str with a zone, optional
        Plan for the spans that start in ``[start, end)`` only (the store may hold more).
    sample_rows : int, default 20000
        Spans per service read to find the calls' services, dimensions and outcomes.

    Returns
    -------
    FleetPlan

    Examples
    --------
    >>> import pathlib, tempfile
    >>> empty = plan(pathlib.Path(tempfile.mkdtemp()))
    >>> empty.rows, empty.ttft_column, empty.supports["store"].ok
    (0, None, False)
    """
    from toolkit import semconv
    from toolkit.fairness import USER_PREFIXES
    from toolkit.ingest.discover import dimensions as find_dimensions
    from toolkit.llm import llm_calls
    from toolkit.schema import require_columns

    function = caller() or "scale.plan"
    period = {
        name: utc_time(value, parameter=name)
        for name, value in (("start", start), ("end", end))
        if value is not None
    }
    lf = scan(store, filters=period)
    schema = lf.collect_schema()
    named = [c for c in (ttft_column, outcome_column) if c is not None]
    dims_given = _names(dimensions, "dimensions", function)
    require_columns(
        pl.DataFrame(schema=schema), [*named, *(dims_given or ())], table="spans", where=function
    )
    stats = (
        lf.select(
            pl.len().alias("rows"),
            pl.col("start_time").min().alias("first"),
            pl.col("start_time").max().alias("last"),
        )
        .collect()
        .row(0, named=True)
    )
    rows, first, last = int(stats["rows"]), stats["first"], stats["last"]
    starts = dict(
        lf.group_by("service_name")
        .agg(pl.col("start_time").min())
        .drop_nulls("service_name")
        .collect()
        .iter_rows()
    )
    services = tuple(sorted(str(s) for s in starts))
    numeric = (pl.Float64, pl.Float32, pl.Int64, pl.Int32)
    if ttft_column is None:
        keys = sorted(semconv.ALIASES["ttft_s"], key=lambda k: k not in semconv.SERVER_TTFT_KEYS)
        present = [semconv.attribute_column(k) for k in keys]
        ttft_column = next((c for c in present if schema.get(c) in numeric), None)
    servers = _names(server_services, "server_services", function)
    if servers is None:
        servers = ()
        if ttft_column is not None and rows:
            servers = tuple(
                sorted(
                    str(s)
                    for s in lf.filter(pl.col(ttft_column).is_not_null())
                    .select(pl.col("service_name").unique())
                    .collect()["service_name"]
                    if s is not None
                )
            )
    callers = _names(call_services, "call_services", function)
    dims = dims_given
    if rows and (callers is None or dims is None):
        sample = pl.concat(
            [
                scan(store, filters={"service_name": s, **period}).head(sample_rows).collect()
                for s in services
            ],
            how="diagonal_relaxed",
        )
        calls = llm_calls(sample)
        if callers is None:
            callers = tuple(sorted(str(s) for s in calls["service_name"].drop_nulls().unique()))
        if dims is None:
            dims = tuple(c for c in find_dimensions(calls) if c in schema)
    callers, dims = callers or (), dims or ()
    if outcome_column is None:
        present = [semconv.attribute_column(k) for k in semconv.ALIASES["finish_reason"]]
        outcome_column = next((c for c in present if c in schema), None)
    if every is None:
        every = "1d"
        if first is not None and last is not None:
            every = next(
                (name for name, width in _DRIFT_EVERY if (last - first) / width >= 4), "1m"
            )
    width = dict(_DRIFT_EVERY)[every]
    reference = None
    if first is not None and last is not None:
        origin: dt.datetime = pl.Series([first]).dt.truncate(every)[0]
        windows = int((last - origin) // width) + 1
        if reference_days is not None:
            length = dt.timedelta(days=reference_days)
        else:
            length = width * max(1, round(0.3 * windows))
        if windows >= 2 and origin + length <= last:
            reference = (origin, origin + length)
    threshold = ttft_threshold_s
    if threshold is None and ttft_column is not None and servers:
        window = scan(store, filters={"service_name": list(servers), **period})
        if reference is not None:
            window = window.filter(pl.col("start_time") < reference[1])
        p99 = window.select(pl.col(ttft_column).quantile(0.99)).collect().item()
        threshold = _nice_ceiling(float(p99)) if p99 is not None and p99 > 0 else None
    return FleetPlan(
        rows=rows,
        first=first,
        last=last,
        services=services,
        ttft_column=ttft_column,
        server_services=servers,
        call_services=callers,
        dimensions=dims,
        groups=tuple(c for c in dims if c.startswith(USER_PREFIXES)) or dims,
        outcome_column=outcome_column,
        every=every,
        reference=reference,
        ttft_threshold_s=threshold,
        period=period,
        starts=starts,
    )


def exact_percentiles(
    store: PathLike,
    quantiles: Sequence[float],
    *,
    column: str,
    by: str = "service_name",
    filters: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """Exact lower quantiles of ``column`` per ``by``, read on the driver (small stores).

    The reference that :func:`latency_percentiles` is within ``alpha`` of.

    Returns
    -------
    polars.DataFrame
        ``by`` and one column ``exact_p50``, ``exact_p99`` ... per quantile.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> exact_percentiles(pathlib.Path(tempfile.mkdtemp()), [0.5], column="duration_ms").columns
    ['service_name', 'exact_p50']
    """
    return (
        scan(store, filters=filters)
        .drop_nulls(column)
        .group_by(by)
        .agg(
            pl.col(column).quantile(q, interpolation="lower").alias(f"exact_p{100 * q:g}")
            for q in quantiles
        )
        .sort(by)
        .collect()
    )


def compare_percentiles(
    sketched: pl.DataFrame, exact: pl.DataFrame, *, by: str = "service_name"
) -> pl.DataFrame:
    """Sketched and exact percentiles side by side, with the worst relative error per row.

    Parameters
    ----------
    sketched : polars.DataFrame
        From :func:`latency_percentiles` (``p50``, ``p99`` ... columns).
    exact : polars.DataFrame
        From :func:`exact_percentiles` (``exact_p50`` ...).
    by : str, default "service_name"

    Returns
    -------
    polars.DataFrame
        The joined rows and ``relative_error``: the largest ``|sketch / exact - 1|`` over
        the quantiles of the row.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"service_name": ["a"], "count": [3], "p50": [1.01]})
    >>> e = pl.DataFrame({"service_name": ["a"], "exact_p50": [1.0]})
    >>> round(compare_percentiles(s, e)["relative_error"][0], 6)
    0.01
    """
    names = [c.removeprefix("exact_") for c in exact.columns if c.startswith("exact_")]
    joined = sketched.join(exact, on=by).sort(by)
    errors = [(pl.col(n) / pl.col(f"exact_{n}") - 1).abs() for n in names]
    return joined.with_columns(pl.max_horizontal(errors).alias("relative_error"))


def sources_support(sources: Sequence[str]) -> Any:
    """Whether there is anything to ingest, as a :class:`toolkit.Support` for a section.

    Examples
    --------
    >>> sources_support([]).missing, sources_support(["a.jsonl"]).ok
    (('spans',), True)
    """
    from toolkit.ingest.discover import HOW_TO_GET, Support

    found = f"{len(sources)} spans source(s)"
    if sources:
        return Support("ingest", "span exports (OTLP, Jaeger, Zipkin ...)", found)
    return Support(
        "ingest", "span exports (OTLP, Jaeger, Zipkin ...)", found, ("spans",), HOW_TO_GET["spans"]
    )


def ingest_runs(*runs: IngestResult) -> pl.DataFrame:
    """Several :func:`ingest` runs side by side: what each read, skipped and wrote.

    Returns
    -------
    polars.DataFrame
        ``run`` (1, 2 ...), ``files_read``, ``already_in_store``, ``failed`` (could not be
        read, under ``on_error="skip"``), ``rows_written``, ``parts_written``, ``seconds``.

    Examples
    --------
    >>> ingest_runs(IngestResult(ingested=["a"], rows=3, parts=1), IngestResult(skipped=["a"]))
    ... # doctest: +NORMALIZE_WHITESPACE
    shape: (2, 7)
    ┌─────┬────────────┬──────────────────┬────────┬──────────────┬───────────────┬─────────┐
    │ run ┆ files_read ┆ already_in_store ┆ failed ┆ rows_written ┆ parts_written ┆ seconds │
    │ --- ┆ ---        ┆ ---              ┆ ---    ┆ ---          ┆ ---           ┆ ---     │
    │ i64 ┆ i64        ┆ i64              ┆ i64    ┆ i64          ┆ i64           ┆ f64     │
    ╞═════╪════════════╪══════════════════╪════════╪══════════════╪═══════════════╪═════════╡
    │ 1   ┆ 1          ┆ 0                ┆ 0      ┆ 3            ┆ 1             ┆ 0.0     │
    │ 2   ┆ 0          ┆ 1                ┆ 0      ┆ 0            ┆ 0             ┆ 0.0     │
    └─────┴────────────┴──────────────────┴────────┴──────────────┴───────────────┴─────────┘
    """
    return pl.DataFrame(
        [
            (i, len(r.ingested), len(r.skipped), len(r.failed), r.rows, r.parts, float(r.seconds))
            for i, r in enumerate(runs, start=1)
        ],
        schema={
            "run": pl.Int64,
            "files_read": pl.Int64,
            "already_in_store": pl.Int64,
            "failed": pl.Int64,
            "rows_written": pl.Int64,
            "parts_written": pl.Int64,
            "seconds": pl.Float64,
        },
        orient="row",
    )


def pages_by(fired: pl.DataFrame, by: str = "service_name") -> pl.DataFrame:
    """The pages of :func:`alerts` per group: how many, the first start and the last end.

    Returns
    -------
    polars.DataFrame
        ``by``, ``pages``, ``start``, ``end``, sorted by ``start``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    >>> fired = pl.DataFrame({"service_name": ["a", "a", "b"],
    ...                       "severity": ["page", "page", "ticket"],
    ...                       "start": [t, t + dt.timedelta(hours=2), t],
    ...                       "end": [t + dt.timedelta(hours=1), t + dt.timedelta(hours=3), t]})
    >>> pages_by(fired).select("service_name", "pages").rows()
    [('a', 2)]
    """
    from toolkit.schema import require_columns

    require_columns(fired, [by, "severity", "start", "end"], table="alerts", where="pages_by")
    return (
        fired.filter(pl.col("severity") == "page")
        .group_by(by)
        .agg(
            pl.len().cast(pl.Int64).alias("pages"),
            pl.col("start").min(),
            pl.col("end").max(),
        )
        .sort("start")
    )
