"""Span trees, critical paths, self time and bottleneck ranking from the spans table.

Works on any trace format the loaders read (OTLP, Jaeger, Zipkin, SDK dumps): only the
fixed span columns are needed; GenAI attributes, when present, refine the components.

**The tree** (:func:`span_tree`). Each span's parent is the span of the same trace whose
``span_id`` is its ``parent_span_id``. Real traces are rarely clean, so:

- *One root per trace.* The trace's root is its earliest span without a parent id
  (ties: the longest); when every span has one, the earliest span whose parent is not in
  the trace; when even that fails (a cycle of parent ids), the earliest span. Every other
  span without a parent id (``parent_link == "extra_root"``), every span whose parent is
  not in the trace (``"missing_parent"``: a lost span, e.g. the any-agent GOOGLE trace's
  four) and every span caught in a parent cycle or below one (``"cycle"``) is attached
  to the root, so the trace stays one tree. ``tree_parent_span_id`` is the parent used.
- *Repeated span ids.* Children are attached to the first span (earliest start) with the
  id. The Zipkin reader already gives shared client/server halves their own ids.
- *Unknown ends.* A span without ``end_time`` (Zipkin leaves ``duration`` out when the end
  was not recorded) is taken as ending where it starts (zero length).
- *Clock skew.* With ``skew="shift"`` (the default), a server span of another service
  than its client parent that does not fit in it is shifted, with the spans of its own
  service below it, to sit in the middle of the client span, as Zipkin's UI does (its
  clock is assumed wrong, and the network time split evenly); ``skew_shift_ms`` says by
  how much. Then (and with ``skew="clamp"`` only this) each span's interval is clamped to
  its parent's (``clamped``), as Jaeger's critical path does; a span entirely outside
  its parent's interval (asynchronous work that outlives it, e.g. a message consumer) is
  ``detached``: it keeps its self time but is not part of the root's timeline.

**Self time** (``self_ms``): the span's duration minus the union of its children's
intervals, each clipped to the span. When no children overlap, the self times of a
tree add up to the root's duration.

**Critical path** (:func:`critical_path`, ``critical_ms``): the chain of spans that
determines the end-to-end latency, by the standard algorithm (Jaeger's): from the root's
end, take the child that ends last (before the current point), walk into it, then go on
from its start; the time not covered by the chosen children is the parent's own
(``critical_ms``). The sections tile the root's interval, so ``critical_ms`` sums to the
root's duration. Computed for every trace at once with numpy over parent indices, level
by level, with no Python loop per span.

**Components** (``component``), by these rules, first match wins:

1. ``model``: ``gen_ai.operation.name`` is a model operation
   (:data:`toolkit.semconv.MODEL_OPERATIONS`: chat, text_completion, generate_content,
   embeddings, call_llm), OpenInference kind ``LLM`` or ``EMBEDDING``, or a vLLM server
   span (named ``llm_request``). A span carrying vLLM's ``gen_ai.latency.time_in_queue``
   (seconds) is split, in time order, into ``queueing`` (that long), ``prefill``
   (``gen_ai.latency.time_in_model_prefill``, else ``gen_ai.latency.time_to_first_token``
   minus the queue time) and ``decode`` (the rest);
2. ``retrieval``: operation ``retrieval``, OpenInference ``RETRIEVER`` or ``RERANKER``;
3. ``tool``: operation ``execute_tool``, OpenInference ``TOOL``;
4. ``agent``: operations ``invoke_agent``, ``create_agent``, ``invoke_workflow``,
   OpenInference ``AGENT`` or ``CHAIN``;
5. ``gateway``: any other span of the root span's service (the entry point's own time);
6. ``other``: everything else (downstream services of a non-GenAI trace).

**Bottlenecks** (:func:`bottlenecks`): per operation (``service_name`` and ``name`` by
default, or ``component``), the per-trace self time in slow traces against baseline
traces (a trace without the operation counts 0 ms), with the mean difference, its 95%
confidence interval (Welch, normal approximation), and a one-sided Mann-Whitney U test
(scipy), Bonferroni-adjusted over the operations compared.

Examples
--------
>>> import datetime as dt
>>> import polars as pl
>>> from toolkit import traces
>>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
>>> ms = lambda x: t0 + dt.timedelta(milliseconds=x)
>>> spans = pl.DataFrame({
...     "trace_id": ["t"] * 3, "span_id": ["a", "b", "c"], "parent_span_id": [None, "a", "a"],
...     "name": ["GET /", "db", "cache"], "kind": ["server", "client", "client"],
...     "service_name": ["web"] * 3, "start_time": [ms(0), ms(10), ms(60)],
...     "end_time": [ms(100), ms(50), ms(90)],
... })
>>> traces.critical_path(spans, "t").select("name", "critical_ms").rows()
[('GET /', 30.0), ('db', 40.0), ('cache', 30.0)]
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Frame,
    InstanceOf,
    Interval,
    Names,
    OneOf,
    caller,
    frame_out,
    reject,
    validate_params,
)
from toolkit.errors import SchemaError, preview
from toolkit.schema import TIME
from toolkit.semconv import MODEL_OPERATIONS, OPENINFERENCE_SPAN_KIND, OPERATION_NAME

__all__ = [
    "COMPONENTS",
    "bottlenecks",
    "bottlenecks_by_window",
    "critical_path",
    "find_incidents",
    "latency_breakdown",
    "route_column",
    "self_times",
    "slowest_trace",
    "span_tree",
    "trace_summary",
]

#: The components of end-to-end latency, in the order they are reported.
COMPONENTS: tuple[str, ...] = (
    "gateway",
    "retrieval",
    "queueing",
    "prefill",
    "decode",
    "model",
    "tool",
    "agent",
    "other",
)

Skew = Literal["shift", "clamp"]
_SKEW = OneOf("shift", "clamp")

_REQUIRED = {
    "trace_id": pl.String(),
    "span_id": pl.String(),
    "parent_span_id": pl.String(),
    "name": pl.String(),
    "kind": pl.String(),
    "service_name": pl.String(),
    "start_time": TIME,
    "end_time": TIME,
}
_TREE_COLUMNS = [
    "tree_parent_span_id",
    "root_span_id",
    "depth",
    "parent_link",
    "component",
    "skew_shift_ms",
    "clamped",
    "detached",
    "tree_start",
    "tree_end",
    "self_ms",
    "critical_ms",
    "on_critical_path",
]
_SUMMARY = (
    "trace_id",
    "root_span_id",
    "root_service",
    "root_name",
    "start_time",
    "end_time",
    "duration_ms",
    "spans",
    "error_spans",
    "has_error",
    "missing_parents",
    "detached_spans",
    "skewed_spans",
)
_LINKS = ("root", "parent", "extra_root", "missing_parent", "cycle")
_QUEUE = "attributes.gen_ai.latency.time_in_queue"
_TTFT = "attributes.gen_ai.latency.time_to_first_token"
_PREFILL = "attributes.gen_ai.latency.time_in_model_prefill"
_AGENT_OPERATIONS = ("invoke_agent", "create_agent", "invoke_workflow")


# --------------------------------------------------------------------------- checks


def _spans(df: pl.DataFrame) -> pl.DataFrame:
    """The spans table (already polars) checked for the columns the tree needs."""
    function = caller()
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        shown = ", ".join(repr(c) for c in df.columns[:30]) or "none"
        raise SchemaError(
            f"{function} needs the spans table's columns {', '.join(map(repr, missing))}"
            f", which are missing. Available columns: {shown}."
        )
    for column in ("start_time", "end_time"):
        dtype = df.schema[column]
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None and dtype != TIME:
            # another unit or zone: the same instants, exactly, as ns UTC
            df = df.with_columns(pl.col(column).dt.cast_time_unit("ns").dt.convert_time_zone("UTC"))
    wrong = [
        f"{c!r} is {df.schema[c]}, expected {dtype}"
        + (" (a time zone is needed: none is guessed)" if dtype == TIME else "")
        for c, dtype in _REQUIRED.items()
        if df.schema[c] != dtype and df.schema[c] != pl.Null
    ]
    if wrong:
        raise SchemaError(f"{function}: the spans table has {'; '.join(wrong)}.")
    empty = [c for c, dtype in _REQUIRED.items() if df.schema[c] == pl.Null]
    if empty:  # a column of nulls only (every span a root, no kind): its canonical type
        df = df.with_columns(pl.col(c).cast(_REQUIRED[c]) for c in empty)
    for column in ("trace_id", "span_id", "start_time"):
        nulls = df[column].is_null()
        if nulls.any():
            row = int(nulls.arg_max() or 0)
            raise SchemaError(
                f"{function}: row {row + 1} of the spans table has a null {column!r}; "
                "every span needs a trace id, a span id and a start time."
            )
    backwards = df["end_time"] < df["start_time"]
    if backwards.any():
        row = int(backwards.arg_max() or 0)
        raise SchemaError(
            f"{function}: row {row + 1} of the spans table (span "
            f"{preview(df['span_id'][row])}) ends before it starts: start_time "
            f"{df['start_time'][row]}, end_time {df['end_time'][row]}."
        )
    return df


def _check_columns(by: Sequence[str], df: pl.DataFrame, parameter: str, component: bool) -> None:
    missing = [c for c in by if c not in df.columns and not (component and c == "component")]
    if missing:
        also = " (or 'component')" if component else ""
        raise reject(
            parameter,
            f"name columns of the spans table{also} (available: "
            f"{preview(', '.join(df.columns), 300)})",
            missing,
        )


def _check_clash(columns: Sequence[str], parameter: str) -> None:
    clash = [c for c in columns if c in _SUMMARY]
    if clash:
        raise reject(
            parameter,
            f"name span columns other than the trace summary's own ({', '.join(_SUMMARY)})",
            clash,
        )


def _names(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


# --------------------------------------------------------------------------- components


def _attr(df: pl.DataFrame, key: str) -> pl.Expr:
    column = f"attributes.{key}"
    if column in df.columns:
        return pl.col(column).cast(pl.String)
    return pl.lit(None, dtype=pl.String)


def _seconds(df: pl.DataFrame, column: str) -> pl.Expr:
    if column in df.columns and df.schema[column].is_numeric():
        return pl.col(column).cast(pl.Float64)
    return pl.lit(None, dtype=pl.Float64)


def _component_expr(df: pl.DataFrame) -> pl.Expr:
    """The component of each span (rules 1-4 of the module docstring; gateway/other later)."""
    op = _attr(df, OPERATION_NAME)
    oi = _attr(df, OPENINFERENCE_SPAN_KIND).str.to_uppercase()
    return (
        pl.when(
            op.is_in(sorted(MODEL_OPERATIONS))
            | oi.is_in(["LLM", "EMBEDDING"])
            | ((pl.col("name") == "llm_request") & (pl.col("kind") == "server"))
        )
        .then(pl.lit("model"))
        .when((op == "retrieval") | oi.is_in(["RETRIEVER", "RERANKER"]))
        .then(pl.lit("retrieval"))
        .when((op == "execute_tool") | (oi == "TOOL"))
        .then(pl.lit("tool"))
        .when(op.is_in(list(_AGENT_OPERATIONS)) | oi.is_in(["AGENT", "CHAIN"]))
        .then(pl.lit("agent"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


# --------------------------------------------------------------------------- the tree


def _segment_first(codes: np.ndarray) -> np.ndarray:
    """Index of the first row of each run of equal codes (codes sorted)."""
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])


def _depths(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth of every node by pointer jumping; nodes that never reach a root: ``-1``."""
    n = parent.size
    anc = parent.copy()
    dist = (parent >= 0).astype(np.int64)
    for _ in range(max(1, math.ceil(math.log2(n + 1))) + 2):
        up = anc >= 0
        if not up.any():
            break
        a = anc[up]
        dist[up] += dist[a]
        anc[up] = anc[a]
    unresolved = anc >= 0
    return np.where(unresolved, -1, dist), unresolved


def _build(df: pl.DataFrame, skew: Skew) -> pl.DataFrame:
    """The tree columns for ``df`` (a checked spans table), in ``df``'s row order."""
    n = df.height
    if n == 0:
        return _empty_tree()
    base = (
        df.select(
            pl.col("trace_id"),
            pl.col("span_id"),
            pl.col("parent_span_id"),
            pl.col("kind"),
            pl.col("service_name"),
            pl.col("start_time").dt.epoch("ns").alias("_s"),
            pl.coalesce("end_time", "start_time").dt.epoch("ns").alias("_e"),
            _component_expr(df).alias("_comp"),
        )
        .with_row_index("_row")
        .sort("trace_id", "_s", pl.col("_e"), "_row", descending=[False, False, True, False])
        .with_row_index("_pos")
    )
    ids = base.select("trace_id", "span_id", "_pos").unique(
        ["trace_id", "span_id"], keep="first", maintain_order=True
    )
    base = base.join(
        ids.rename({"span_id": "parent_span_id", "_pos": "_ppos"}),
        on=["trace_id", "parent_span_id"],
        how="left",
    ).sort("_pos")

    trace_code = base["trace_id"].rank("dense").to_numpy().astype(np.int64)
    start = base["_s"].to_numpy()
    end = base["_e"].to_numpy()
    pos = np.arange(n, dtype=np.int64)
    ppos = base["_ppos"].fill_null(-1).to_numpy().astype(np.int64)
    has_parent_id = base["parent_span_id"].is_not_null().to_numpy()
    ppos[ppos == pos] = -1  # a span naming itself as parent is a root
    first = _segment_first(trace_code)
    counts = np.diff(np.r_[first, n])

    # the trace's root: a span without parent id, else one with a missing parent, else any
    priority = np.where(~has_parent_id, 0, np.where(ppos < 0, 1, 2))
    order = np.lexsort((pos, priority, trace_code))
    root_of = np.repeat(order[first], counts)
    link = np.where(ppos >= 0, 1, np.where(has_parent_id, 3, 2)).astype(np.int64)
    parent = np.where(ppos >= 0, ppos, root_of)
    is_root = pos == root_of
    parent[is_root] = -1
    link[is_root] = 0

    depth, unresolved = _depths(parent)
    if unresolved.any():  # parent-id cycles: attach what hangs from them to the root
        parent[unresolved] = root_of[unresolved]
        link[unresolved] = 4
        depth, _ = _depths(parent)

    # spans level by level (parents before children)
    by_level = np.argsort(depth, kind="stable")
    level_bounds = np.r_[0, np.cumsum(np.bincount(depth))]

    service = base["service_name"].rank("dense").fill_null(0).to_numpy().astype(np.int64)
    kind = base["kind"].to_numpy()
    is_server = kind == "server"
    is_client = kind == "client"
    shift = np.zeros(n, dtype=np.int64)
    cst = start.copy()
    cen = end.copy()
    detached = np.zeros(n, dtype=bool)
    clamped = np.zeros(n, dtype=bool)
    for level in range(1, level_bounds.size - 1):
        idx = by_level[level_bounds[level] : level_bounds[level + 1]]
        p = parent[idx]
        if skew == "shift":
            same = (service[idx] == service[p]) & (service[idx] > 0)
            off = np.where(same, shift[p], 0)
            s, e = start[idx] + off, end[idx] + off
            ps, pe = start[p] + shift[p], end[p] + shift[p]
            skewed = (
                is_server[idx]
                & is_client[p]
                & ~same
                & ((s < ps) | (e > pe))
                & ((e - s) <= (pe - ps))
            )
            off = off + np.where(skewed, ps + ((pe - ps) - (e - s)) // 2 - s, 0)
            shift[idx] = off
        s, e = start[idx] + shift[idx], end[idx] + shift[idx]
        ps, pe = cst[p], cen[p]
        outside = detached[p] | (s > pe) | (e < ps)
        detached[idx] = outside
        clamped[idx] = ~outside & ((s < ps) | (e > pe))
        cst[idx] = np.where(outside, s, np.clip(s, ps, pe))
        cen[idx] = np.where(outside, e, np.clip(e, ps, pe))
    if skew == "clamp":
        shift[:] = 0

    own_s, own_e = start + shift, end + shift
    self_ns = (own_e - own_s) - _covered(parent, own_s, own_e)
    critical_ns, on_path = _critical(parent, cst, cen, detached, by_level, level_bounds)

    comp = base["_comp"]
    root_service = service[root_of]
    comp = pl.select(
        pl.when(comp.is_not_null())
        .then(comp)
        .when(pl.Series(service == root_service))
        .then(pl.lit("gateway"))
        .otherwise(pl.lit("other"))
    ).to_series()

    span_id = base["span_id"]
    tree = pl.DataFrame(
        {
            "_row": base["_row"],
            "tree_parent_span_id": span_id.gather(np.maximum(parent, 0)).set(
                pl.Series(parent < 0), None
            ),
            "root_span_id": span_id.gather(root_of),
            "depth": depth.astype(np.int64),
            "parent_link": pl.Series(np.array(_LINKS, dtype=object)[link], dtype=pl.String),
            "component": comp,
            "skew_shift_ms": shift / 1e6,
            "clamped": clamped,
            "detached": detached,
            "tree_start": pl.Series(cst).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
            "tree_end": pl.Series(cen).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
            "self_ms": self_ns / 1e6,
            "critical_ms": critical_ns / 1e6,
            "on_critical_path": on_path,
        }
    )
    return tree.sort("_row").drop("_row")


def _empty_tree() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "tree_parent_span_id": pl.String,
            "root_span_id": pl.String,
            "depth": pl.Int64,
            "parent_link": pl.String,
            "component": pl.String,
            "skew_shift_ms": pl.Float64,
            "clamped": pl.Boolean,
            "detached": pl.Boolean,
            "tree_start": TIME,
            "tree_end": TIME,
            "self_ms": pl.Float64,
            "critical_ms": pl.Float64,
            "on_critical_path": pl.Boolean,
        }
    )


def _group_sum(keys: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, keys, values)
    return out


def _covered(parent: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Per span: length of the union of its children's intervals clipped to it (ns)."""
    n = parent.size
    child = np.flatnonzero(parent >= 0)
    if child.size == 0:
        return np.zeros(n, dtype=np.int64)
    p = parent[child]
    s = np.clip(start[child], start[p], end[p])
    e = np.clip(end[child], start[p], end[p])
    order = np.lexsort((s, p))
    p, s, e = p[order], s[order], e[order]
    # running max of the previous ends within each parent: on ranks of the ends, offset
    # per parent so that one cumulative max over everything stays within each group
    values, rank = np.unique(e, return_inverse=True)
    first = _segment_first(p)
    group = np.repeat(np.arange(first.size, dtype=np.int64), np.diff(np.r_[first, p.size]))
    width = np.int64(values.size + 1)
    running = np.maximum.accumulate(group * width + rank)
    prev = np.full(p.size, np.iinfo(np.int64).min, dtype=np.int64)
    inner = np.ones(p.size, dtype=bool)
    inner[first] = False
    prev[inner] = values[(running[:-1] - group[1:] * width)[inner[1:]]]
    piece = np.maximum(0, e - np.maximum(s, prev))
    return _group_sum(p, piece, n)


def _critical(
    parent: np.ndarray,
    cst: np.ndarray,
    cen: np.ndarray,
    detached: np.ndarray,
    by_level: np.ndarray,
    level_bounds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Critical-path contribution (ns) and membership of every span."""
    n = parent.size
    kids = np.flatnonzero((parent >= 0) & ~detached)
    on_chain = np.zeros(n, dtype=bool)
    if kids.size:
        # children of each parent by end (ties: the longest last, so it is picked first)
        order = np.lexsort((-cst[kids], cen[kids], parent[kids]))
        kids = kids[order]
        p = parent[kids]
        m = kids.size
        group_first = _segment_first(p)
        group_size = np.diff(np.r_[group_first, m])
        gstart = np.repeat(group_first, group_size)
        # for child k: how many siblings end at or before its start (ends sorted per group)
        keys_t = np.r_[cen[kids], cst[kids]]
        is_query = np.r_[np.zeros(m, dtype=bool), np.ones(m, dtype=bool)]
        merged = np.lexsort((is_query, keys_t, np.r_[p, p]))
        ends_so_far = np.cumsum(~is_query[merged])
        merged_first = np.r_[0, np.cumsum(2 * group_size)[:-1]]
        ends_before_group = np.r_[0, ends_so_far][merged_first]
        within = ends_so_far - np.repeat(ends_before_group, 2 * group_size)
        query = is_query[merged]
        count = np.empty(m, dtype=np.int64)
        count[merged[query] - m] = within[query]
        local = np.arange(m) - gstart
        nxt = np.minimum(count - 1, local - 1)
        nxt = np.where(nxt >= 0, gstart + nxt, -1)
        cur = group_first + group_size - 1  # each parent's last-ending child
        while cur.size:
            on_chain[kids[cur]] = True
            cur = nxt[cur]
            cur = cur[cur >= 0]
    on_path = np.zeros(n, dtype=bool)
    roots = by_level[level_bounds[0] : level_bounds[1]]
    on_path[roots] = True
    for level in range(1, level_bounds.size - 1):
        idx = by_level[level_bounds[level] : level_bounds[level + 1]]
        on_path[idx] = on_chain[idx] & on_path[parent[idx]]
    length = cen - cst
    chosen = np.flatnonzero(on_path & (parent >= 0))
    critical = np.where(on_path, length, 0) - _group_sum(parent[chosen], length[chosen], n)
    return critical, on_path


# --------------------------------------------------------------------------- public


@validate_params(
    spans=Frame(),
    trace_id=[InstanceOf(str, description="a trace id string"), None],
    skew=_SKEW,
    backend=BACKEND,
)
def span_tree(
    spans: Any,
    trace_id: str | None = None,
    *,
    skew: Skew = "shift",
    backend: Backend = "polars",
) -> Any:
    """The spans with their tree: parent used, depth, component, self time, critical path.

    Parameters
    ----------
    spans : polars.DataFrame or pandas.DataFrame
        A spans table (see :data:`toolkit.schema.SPANS`); several traces at once.
    trace_id : str, optional
        Only this trace.
    skew : {"shift", "clamp"}, default "shift"
        How children that do not fit in their parent are handled (module docstring).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The input rows and columns, in input order, followed by ``tree_parent_span_id``,
        ``root_span_id``, ``depth`` (0 at the root), ``parent_link`` (``root``,
        ``parent``, ``extra_root``, ``missing_parent`` or ``cycle``), ``component``,
        ``skew_shift_ms``, ``clamped``, ``detached``, ``tree_start``/``tree_end`` (the
        interval on the trace's timeline after shift and clamp), ``self_ms``,
        ``critical_ms`` (0 off the path) and ``on_critical_path``.

    Raises
    ------
    SchemaError
        When a needed column is missing or mistyped, or a span has no trace id, span id or
        start time, or ends before it starts (naming the row).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> ms = lambda x: t0 + dt.timedelta(milliseconds=x)
    >>> spans = pl.DataFrame({
    ...     "trace_id": ["t"] * 3, "span_id": ["a", "b", "c"],
    ...     "parent_span_id": [None, "a", "lost"], "name": ["root", "b", "c"],
    ...     "kind": ["server", "internal", "internal"], "service_name": ["s"] * 3,
    ...     "start_time": [ms(0), ms(10), ms(20)], "end_time": [ms(100), ms(30), ms(60)],
    ... })
    >>> span_tree(spans).select("span_id", "parent_link", "self_ms", "critical_ms").rows()
    [('a', 'root', 50.0, 60.0), ('b', 'parent', 20.0, 0.0), ('c', 'missing_parent', 40.0, 40.0)]
    """
    df = _spans(spans)
    if trace_id is not None:
        df = _one_trace(df, trace_id)
    return frame_out(pl.concat([df, _build(df, skew)], how="horizontal"), backend)


def _one_trace(df: pl.DataFrame, trace_id: str) -> pl.DataFrame:
    one = df.filter(pl.col("trace_id") == trace_id)
    if one.height == 0:
        ids = df["trace_id"].unique().sort().head(3).to_list()
        raise reject(
            "trace_id",
            f"be a trace of the spans table ({df['trace_id'].n_unique()} traces, e.g. "
            f"{preview(ids, 120)})",
            trace_id,
        )
    return one


@validate_params(
    spans=Frame(),
    trace_id=InstanceOf(str, description="a trace id string"),
    skew=_SKEW,
    backend=BACKEND,
)
def critical_path(
    spans: Any, trace_id: str, *, skew: Skew = "shift", backend: Backend = "polars"
) -> Any:
    """The spans on one trace's critical path, in order, with their contribution.

    Parameters
    ----------
    spans : polars.DataFrame or pandas.DataFrame
        A spans table (any number of traces).
    trace_id : str
        The trace.
    skew : {"shift", "clamp"}, default "shift"
        Clock-skew handling (see the module docstring).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The critical-path spans with all their columns plus the tree columns of
        :func:`span_tree`, ordered along the path (by ``tree_start``, parents before
        their children). ``critical_ms`` is each span's own share of the end-to-end
        latency; it sums to the root's duration, and every span but the root has its
        ``tree_parent_span_id`` on the path.

    Raises
    ------
    ParameterError
        When ``trace_id`` is not a trace of ``spans``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> ms = lambda x: t0 + dt.timedelta(milliseconds=x)
    >>> spans = pl.DataFrame({
    ...     "trace_id": ["t"] * 3, "span_id": ["a", "b", "c"],
    ...     "parent_span_id": [None, "a", "a"], "name": ["root", "slow", "fast"],
    ...     "kind": ["server", "client", "client"], "service_name": ["s"] * 3,
    ...     "start_time": [ms(0), ms(10), ms(10)], "end_time": [ms(100), ms(90), ms(40)],
    ... })
    >>> critical_path(spans, "t").select("name", "critical_ms").rows()  # parallel calls
    [('root', 20.0), ('slow', 80.0)]
    """
    df = _one_trace(_spans(spans), trace_id)
    tree = pl.concat([df, _build(df, skew)], how="horizontal")
    out = tree.filter(pl.col("on_critical_path")).sort("tree_start", "depth")
    return frame_out(out, backend)


@validate_params(spans=Frame(), skew=_SKEW, backend=BACKEND)
def self_times(spans: Any, *, skew: Skew = "shift", backend: Backend = "polars") -> Any:
    """Self time of every span: its duration minus the union of its children's intervals.

    Parameters
    ----------
    spans : polars.DataFrame or pandas.DataFrame
        A spans table.
    skew : {"shift", "clamp"}, default "shift"
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per span, in input order: ``trace_id``, ``span_id``, ``service_name``,
        ``name``, ``kind``, ``component``, ``depth``, ``duration_ms`` (after skew shift:
        the span's own length; 0 for an unknown end), ``self_ms``, ``critical_ms``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> ms = lambda x: t0 + dt.timedelta(milliseconds=x)
    >>> spans = pl.DataFrame({
    ...     "trace_id": ["t"] * 3, "span_id": ["a", "b", "c"],
    ...     "parent_span_id": [None, "a", "a"], "name": ["root", "b", "c"],
    ...     "kind": ["server", "client", "client"], "service_name": ["s"] * 3,
    ...     "start_time": [ms(0), ms(10), ms(30)], "end_time": [ms(100), ms(50), ms(60)],
    ... })
    >>> self_times(spans)["self_ms"].to_list()  # children overlap from 30 to 50 ms
    [50.0, 40.0, 30.0]
    """
    df = _spans(spans)
    tree = pl.concat([df.select(list(_REQUIRED)), _build(df, skew)], how="horizontal")
    out = tree.select(
        "trace_id",
        "span_id",
        "service_name",
        "name",
        "kind",
        "component",
        "depth",
        (
            (pl.coalesce("end_time", "start_time") - pl.col("start_time")).dt.total_nanoseconds()
            / 1e6
        ).alias("duration_ms"),
        "self_ms",
        "critical_ms",
    )
    return frame_out(out, backend)


def _carry(tree: pl.DataFrame, columns: Sequence[str]) -> list[pl.Expr]:
    """Per trace: the root's value of each column, else the first non-null, shallowest."""
    return [pl.col(c).sort_by("depth").drop_nulls().first().alias(c) for c in columns]


@validate_params(spans=Frame(), columns=[Names(), None], skew=_SKEW, backend=BACKEND)
def trace_summary(
    spans: Any,
    columns: str | Sequence[str] | None = None,
    *,
    skew: Skew = "shift",
    backend: Backend = "polars",
) -> Any:
    """One row per trace: its root, end-to-end latency, size and errors.

    Parameters
    ----------
    spans : polars.DataFrame or pandas.DataFrame
        A spans table.
    columns : str or list of str, optional
        Span columns carried to the trace (e.g. ``"attributes.app.route"``): the root's
        value, else the first non-null value, shallowest span first.
    skew : {"shift", "clamp"}, default "shift"
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``trace_id``, ``root_span_id``, ``root_service``, ``root_name``, ``start_time``,
        ``end_time``, ``duration_ms`` (the root's: the end-to-end latency), ``spans``,
        ``error_spans`` (status ``error``), ``has_error``, ``missing_parents``,
        ``detached_spans``, ``skewed_spans`` (shifted or clamped), then ``columns``;
        sorted by ``start_time``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> ms = lambda x: t0 + dt.timedelta(milliseconds=x)
    >>> spans = pl.DataFrame({
    ...     "trace_id": ["t", "t"], "span_id": ["a", "b"], "parent_span_id": [None, "a"],
    ...     "name": ["GET /", "db"], "kind": ["server", "client"],
    ...     "service_name": ["web", "web"], "start_time": [ms(0), ms(5)],
    ...     "end_time": [ms(80), ms(90)], "status_code": ["ok", "error"],
    ... })
    >>> trace_summary(spans).select("root_name", "duration_ms", "spans", "has_error").rows()
    [('GET /', 80.0, 2, True)]
    """
    df = _spans(spans)
    carry = _names(columns)
    _check_columns(carry, df, "columns", False)
    _check_clash(carry, "columns")
    out = _summary(df, _build(df, skew), carry)
    return frame_out(out, backend)


def _summary(df: pl.DataFrame, tree: pl.DataFrame, carry: Sequence[str]) -> pl.DataFrame:
    status = pl.col("status_code") if "status_code" in df.columns else pl.lit(None, dtype=pl.String)
    extra = list(dict.fromkeys(carry))
    wide = pl.concat(
        [
            df.select(*dict.fromkeys([*_REQUIRED, *extra]), status.alias("_status")),
            tree.select("depth", "parent_link", "detached", "clamped", "skew_shift_ms", "tree_end"),
        ],
        how="horizontal",
    )
    root = pl.col("depth") == 0
    return (
        wide.group_by("trace_id")
        .agg(
            pl.col("span_id").filter(root).first().alias("root_span_id"),
            pl.col("service_name").filter(root).first().alias("root_service"),
            pl.col("name").filter(root).first().alias("root_name"),
            pl.col("start_time").filter(root).first().alias("start_time"),
            pl.col("tree_end").filter(root).first().alias("end_time"),
            pl.len().cast(pl.Int64).alias("spans"),
            (pl.col("_status") == "error").sum().cast(pl.Int64).alias("error_spans"),
            pl.col("parent_link")
            .eq("missing_parent")
            .sum()
            .cast(pl.Int64)
            .alias("missing_parents"),
            pl.col("detached").sum().cast(pl.Int64).alias("detached_spans"),
            (pl.col("clamped") | (pl.col("skew_shift_ms") != 0))
            .sum()
            .cast(pl.Int64)
            .alias("skewed_spans"),
            *_carry(wide, extra),
        )
        .with_columns(
            ((pl.col("end_time") - pl.col("start_time")).dt.total_nanoseconds() / 1e6).alias(
                "duration_ms"
            ),
            (pl.col("error_spans") > 0).alias("has_error"),
        )
        .select(*_SUMMARY, *extra)
        .sort("start_time", "trace_id")
    )


def _phases(df: pl.DataFrame, tree: pl.DataFrame, value: str) -> pl.DataFrame:
    """Long frame (trace_id, span row, component, ms): vLLM spans split into phases."""
    queue_s = _seconds(df, _QUEUE)
    prefill_s = pl.coalesce(_seconds(df, _PREFILL), _seconds(df, _TTFT) - queue_s)
    spans = pl.concat(
        [
            df.select(
                "trace_id",
                "service_name",
                "name",
                (queue_s * 1e3).clip(lower_bound=0).alias("_q"),
                (prefill_s * 1e3).clip(lower_bound=0).alias("_p"),
            ),
            tree.select("component", "depth", pl.col(value).alias("_v")),
        ],
        how="horizontal",
    ).with_row_index("_span")
    split = spans.filter(pl.col("_q").is_not_null() & (pl.col("component") == "model"))
    whole = spans.filter(~(pl.col("_q").is_not_null() & (pl.col("component") == "model")))
    queue = pl.min_horizontal("_q", "_v")
    prefill = pl.min_horizontal(pl.col("_p").fill_null(0.0), pl.col("_v") - queue)
    parts = (
        split.with_columns(
            queue.alias("queueing"),
            prefill.alias("prefill"),
            (pl.col("_v") - queue - prefill).alias("decode"),
        )
        .drop("component", "_v")
        .unpivot(
            index=["_span", "trace_id", "service_name", "name", "depth"],
            on=["queueing", "prefill", "decode"],
            variable_name="component",
            value_name="_v",
        )
    )
    return pl.concat(
        [
            whole.select("_span", "trace_id", "service_name", "name", "depth", "component", "_v"),
            parts.select("_span", "trace_id", "service_name", "name", "depth", "component", "_v"),
        ]
    ).rename({"_v": "ms"})


@validate_params(
    spans=Frame(), by=[Names(), None], per_trace=OneOf(True, False), skew=_SKEW, backend=BACKEND
)
def latency_breakdown(
    spans: Any,
    *,
    by: str | Sequence[str] | None = None,
    per_trace: bool = False,
    skew: Skew = "shift",
    backend: Backend = "polars",
) -> Any:
    """End-to-end latency split by component along each trace's critical path.

    Each trace's critical path tiles its end-to-end latency (the root's duration); each
    span's contribution goes to its component (module docstring), a vLLM server span's
    split into queueing, prefill and decode. So the components of a trace add up to its
    latency, whatever runs in parallel.

    Parameters
    ----------
    spans : polars.DataFrame or pandas.DataFrame
        A spans table.
    by : str or list of str, optional
        Span columns that group the traces (e.g. ``"attributes.app.route"``), carried to
        each trace as in :func:`trace_summary`.
    per_trace : bool, default False
        Return one row per trace and component instead of the summary per group.
    skew : {"shift", "clamp"}, default "shift"
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        By default one row per group (``by``) and component, in :data:`COMPONENTS` order:
        ``traces`` (in the group), ``mean_ms`` (mean over the group's traces, 0 for a
        trace without the component), ``share`` (of the group's total end-to-end
        latency), ``e2e_mean_ms``. With ``per_trace=True``: ``trace_id``,
        ``start_time``, ``duration_ms`` (end to end), the ``by`` columns, ``component``
        and ``critical_ms`` (components absent from a trace have no row).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> ms = lambda x: t0 + dt.timedelta(milliseconds=x)
    >>> spans = pl.DataFrame({
    ...     "trace_id": ["t"] * 3, "span_id": ["a", "b", "c"],
    ...     "parent_span_id": [None, "a", "b"], "name": ["POST /chat", "chat m", "llm_request"],
    ...     "kind": ["server", "client", "server"], "service_name": ["gw", "gw", "vllm"],
    ...     "start_time": [ms(0), ms(10), ms(12)], "end_time": [ms(1000), ms(990), ms(988)],
    ...     "attributes.gen_ai.operation.name": [None, "chat", None],
    ...     "attributes.gen_ai.latency.time_in_queue": [None, None, 0.1],
    ...     "attributes.gen_ai.latency.time_to_first_token": [None, None, 0.3],
    ... })
    >>> latency_breakdown(spans).select("component", "mean_ms").rows()
    [('gateway', 20.0), ('queueing', 100.0), ('prefill', 200.0), ('decode', 676.0), \
('model', 4.0)]
    """
    df = _spans(spans)
    groups = _names(by)
    _check_columns(groups, df, "by", False)
    _check_clash(groups, "by")
    tree = _build(df, skew)
    summary = _summary(df, tree, groups).select("trace_id", "start_time", "duration_ms", *groups)
    keys = groups
    parts = (
        _phases(df, tree, "critical_ms")
        .filter(pl.col("ms") > 0)
        .group_by("trace_id", "component")
        .agg(pl.col("ms").sum().alias("critical_ms"))
    )
    order = pl.col("component").replace_strict(
        {c: i for i, c in enumerate(COMPONENTS)}, return_dtype=pl.Int64
    )
    long = summary.join(parts, on="trace_id", how="inner").sort("start_time", "trace_id", order)
    if per_trace:
        out = long.select(
            "trace_id", "start_time", "duration_ms", *keys, "component", "critical_ms"
        )
        return frame_out(out, backend)
    totals = (
        summary.group_by(keys).agg(
            pl.len().cast(pl.Int64).alias("traces"),
            pl.col("duration_ms").sum().alias("_e2e"),
        )
        if keys
        else summary.select(
            pl.len().cast(pl.Int64).alias("traces"), pl.col("duration_ms").sum().alias("_e2e")
        )
    )
    sums = long.group_by([*keys, "component"]).agg(pl.col("critical_ms").sum().alias("_sum"))
    joined = sums.join(totals, on=keys, how="left") if keys else sums.join(totals, how="cross")
    out = (
        joined.with_columns(
            (pl.col("_sum") / pl.col("traces")).alias("mean_ms"),
            (pl.col("_sum") / pl.col("_e2e")).alias("share"),
            (pl.col("_e2e") / pl.col("traces")).alias("e2e_mean_ms"),
        )
        .sort([*keys, order], nulls_last=True)
        .select(*keys, "component", "traces", "mean_ms", "share", "e2e_mean_ms")
    )
    return frame_out(out, backend)


def _trace_ids(selector: Any, summary: pl.DataFrame, parameter: str) -> pl.Series:
    if isinstance(selector, pl.Expr):
        try:
            chosen = summary.filter(selector)["trace_id"]
        except (pl.exceptions.ColumnNotFoundError, pl.exceptions.InvalidOperationError) as exc:
            raise reject(
                parameter,
                "be a polars expression over the trace summary (columns: "
                f"{preview(', '.join(summary.columns), 300)}) or a list of trace ids",
                got=f"one whose evaluation failed: {preview(str(exc), 200)}",
            ) from exc
        return chosen
    if isinstance(selector, str) or not isinstance(selector, Collection | pl.Series):
        raise reject(
            parameter,
            "be a polars expression over the trace summary or a collection of trace ids",
            selector,
        )
    ids = pl.Series("trace_id", list(selector), dtype=pl.String)
    unknown = ids.filter(~ids.is_in(summary["trace_id"].implode()))
    if unknown.len():
        raise reject(
            parameter,
            "hold trace ids of the spans table",
            got=f"{unknown.len()} unknown, e.g. {preview(unknown.head(3).to_list())}",
        )
    return ids.unique()


@validate_params(
    spans=Frame(),
    by=Names(),
    confidence=Interval(
        float, 0, 1, closed="neither", description="a number between 0 and 1 (exclusive)"
    ),
    skew=_SKEW,
    backend=BACKEND,
)
def bottlenecks(
    spans: Any,
    slow: Any,
    *,
    baseline: Any = None,
    by: str | Sequence[str] = ("service_name", "name"),
    confidence: float = 0.95,
    skew: Skew = "shift",
    backend: Backend = "polars",
) -> Any:
    """Rank the operations whose self time grew most in slow traces against baseline ones.

    Parameters
    ----------
    spans : polars.DataFrame or pandas.DataFrame
        A spans table.
    slow : polars expression or collection of str
        The slow (or failing) traces: an expression over :func:`trace_summary`'s columns
        (e.g. ``pl.col("duration_ms") > 5000`` or ``pl.col("has_error")``; span columns
        it names are carried to the summary), or their trace ids.
    baseline : polars expression or collection of str, optional
        The traces to compare with; by default every trace that is not slow.
    by : str or list of str, default ("service_name", "name")
        What an operation is: span columns, or ``"component"`` (vLLM spans split into
        queueing, prefill and decode).
    confidence : float, default 0.95
        Level of the confidence interval; ``1 - confidence`` is the significance level.
    skew : {"shift", "clamp"}, default "shift"
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per operation, largest growth first: ``rank``, the ``by`` columns,
        ``slow_traces``, ``baseline_traces``, ``slow_with`` and ``baseline_with`` (traces
        that have the operation), ``slow_mean_ms`` and ``baseline_mean_ms`` (mean self
        time per trace, 0 where absent), ``delta_ms``, ``ci_low_ms``/``ci_high_ms``
        (Welch interval of the difference), ``ratio``, ``share_of_delta`` (of the
        difference in total self time), ``slow_median_ms``, ``baseline_median_ms``,
        ``p_value`` (one-sided Mann-Whitney U: larger in slow traces), ``p_adjusted``
        (Bonferroni) and ``significant`` (``p_adjusted < 1 - confidence``).

    Raises
    ------
    ParameterError
        When either group is empty, or the groups share traces.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> rows = []
    >>> for i in range(20):
    ...     db = 200 if i >= 15 else 20  # the last five traces are slow in the database
    ...     t = t0 + dt.timedelta(seconds=i)
    ...     rows += [(f"t{i}", "a", None, "GET /", t, t + dt.timedelta(milliseconds=50 + db)),
    ...              (f"t{i}", "b", "a", "db", t, t + dt.timedelta(milliseconds=db))]
    >>> spans = pl.DataFrame(rows, orient="row", schema=["trace_id", "span_id",
    ...     "parent_span_id", "name", "start_time", "end_time"]).with_columns(
    ...     pl.col("start_time", "end_time").dt.replace_time_zone("UTC"),
    ...     kind=pl.lit("server"), service_name=pl.lit("web"))
    >>> ranked = bottlenecks(spans, pl.col("duration_ms") > 100)
    >>> ranked.select("name", "slow_traces", "delta_ms", "significant").rows()
    [('db', 5, 180.0, True), ('GET /', 5, 0.0, False)]
    """
    keys = _names(by)
    if not keys:
        raise reject("by", "name at least one column", got="an empty list")
    df = _spans(spans)
    _check_columns(keys, df, "by", True)
    tree = _build(df, skew)
    referenced: list[str] = []
    for selector in (slow, baseline):
        if isinstance(selector, pl.Expr):
            referenced += [c for c in selector.meta.root_names() if c in df.columns]
    carried = sorted(set(referenced) - set(_SUMMARY))
    summary = _summary(df, tree, carried)
    slow_ids = _trace_ids(slow, summary, "slow")
    if baseline is None:
        base_ids = summary["trace_id"].filter(~summary["trace_id"].is_in(slow_ids.implode()))
    else:
        base_ids = _trace_ids(baseline, summary, "baseline")
    for name, ids in (("slow", slow_ids), ("baseline", base_ids)):
        if ids.len() == 0:
            raise reject(name, f"select at least one trace (of {summary.height})", got="none")
    overlap = slow_ids.is_in(base_ids.implode()).sum()
    if overlap:
        raise reject("baseline", "not share traces with 'slow'", got=f"{overlap} traces in both")

    if "component" in keys:
        extra = [k for k in keys if k not in ("component", "service_name", "name", "trace_id")]
        long = _phases(df, tree, "self_ms")
        if extra:
            long = long.join(df.select(extra).with_row_index("_span"), on="_span", how="left")
    else:
        long = pl.concat(
            [df.select(*{"trace_id", *keys}), tree.select(pl.col("self_ms").alias("ms"))],
            how="horizontal",
        )
    group = pl.concat(
        [
            pl.DataFrame({"trace_id": slow_ids, "_slow": True}),
            pl.DataFrame({"trace_id": base_ids, "_slow": False}),
        ]
    ).with_columns(pl.int_range(pl.len()).over("_slow").cast(pl.Int64).alias("_k"))
    per_trace = (
        long.join(group, on="trace_id", how="inner")
        .group_by([*keys, "_slow", "_k"])
        .agg(pl.col("ms").sum())
    )
    n_slow, n_base = slow_ids.len(), base_ids.len()
    from scipy import stats  # lazily: import toolkit stays light

    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rows: list[dict[str, Any]] = []
    parts = per_trace.partition_by(keys, as_dict=True, maintain_order=False)
    for key, part in parts.items():
        values = {}
        for flag, size in ((True, n_slow), (False, n_base)):
            sub = part.filter(pl.col("_slow") == flag)
            full = np.zeros(size, dtype=np.float64)
            full[sub["_k"].to_numpy()] = sub["ms"].to_numpy()
            values[flag] = (full, sub.height)
        x, with_x = values[True]
        y, with_y = values[False]
        delta = float(x.mean() - y.mean())
        se = math.sqrt(
            (x.var(ddof=1) / x.size if x.size > 1 else 0.0)
            + (y.var(ddof=1) / y.size if y.size > 1 else 0.0)
        )
        if np.all(x == x[0]) and np.all(y == x[0]):
            p_value = 1.0
        else:
            p_value = float(
                stats.mannwhitneyu(x, y, alternative="greater", method="asymptotic").pvalue
            )
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "slow_traces": n_slow,
                "baseline_traces": n_base,
                "slow_with": with_x,
                "baseline_with": with_y,
                "slow_mean_ms": float(x.mean()),
                "baseline_mean_ms": float(y.mean()),
                "delta_ms": delta,
                "ci_low_ms": delta - z * se,
                "ci_high_ms": delta + z * se,
                "ratio": float(x.mean() / y.mean()) if y.mean() > 0 else None,
                "slow_median_ms": float(np.median(x)),
                "baseline_median_ms": float(np.median(y)),
                "p_value": p_value,
            }
        )
    schema = {k: long.schema[k] for k in keys}
    out = pl.DataFrame(
        rows,
        schema={
            **schema,
            "slow_traces": pl.Int64,
            "baseline_traces": pl.Int64,
            "slow_with": pl.Int64,
            "baseline_with": pl.Int64,
            "slow_mean_ms": pl.Float64,
            "baseline_mean_ms": pl.Float64,
            "delta_ms": pl.Float64,
            "ci_low_ms": pl.Float64,
            "ci_high_ms": pl.Float64,
            "ratio": pl.Float64,
            "slow_median_ms": pl.Float64,
            "baseline_median_ms": pl.Float64,
            "p_value": pl.Float64,
        },
    )
    total = out["delta_ms"].sum()
    tests = max(out.height, 1)
    out = (
        out.with_columns(
            (pl.col("delta_ms") / total if total else pl.lit(None, dtype=pl.Float64)).alias(
                "share_of_delta"
            ),
            (pl.col("p_value") * tests).clip(upper_bound=1.0).alias("p_adjusted"),
        )
        .with_columns((pl.col("p_adjusted") < 1 - confidence).alias("significant"))
        .sort(["delta_ms", *keys], descending=[True] + [False] * len(keys), nulls_last=True)
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
        .select(
            "rank",
            *keys,
            "slow_traces",
            "baseline_traces",
            "slow_with",
            "baseline_with",
            "slow_mean_ms",
            "baseline_mean_ms",
            "delta_ms",
            "ci_low_ms",
            "ci_high_ms",
            "ratio",
            "share_of_delta",
            "slow_median_ms",
            "baseline_median_ms",
            "p_value",
            "p_adjusted",
            "significant",
        )
    )
    return frame_out(out, backend)


# --------------------------------------------------------------------------- windows


@validate_params(spans=Frame(), max_values=Interval(int, 2, None, closed="left"))
def route_column(spans: Any, *, max_values: int = 12) -> str | None:
    """The span column that names each request's route (``attributes.app.route`` ...), if any.

    The first String column whose name contains "route" (then "endpoint") with between 2
    and ``max_values`` distinct non-null values.

    Parameters
    ----------
    spans : polars or pandas DataFrame
    max_values : int, default 12

    Returns
    -------
    str or None

    Examples
    --------
    >>> import polars as pl
    >>> route_column(pl.DataFrame({"attributes.http.route": ["/v1"] * 2,
    ...                            "attributes.app.route": ["chat", "rag"]}))
    'attributes.app.route'
    """
    df: pl.DataFrame = spans
    for word in ("route", "endpoint"):
        for name in df.columns:
            if (
                word in name.lower()
                and df.schema[name] == pl.String
                and 2 <= df[name].drop_nulls().n_unique() <= max_values
            ):
                return name
    return None


@validate_params(
    spans=Frame(),
    calls=[Frame(), None],
    metrics=[Frame(), None],
    pool=[InstanceOf(str), None],
    quantile=Interval(float, 0, 1, closed="neither"),
)
def find_incidents(
    spans: Any,
    *,
    calls: Any = None,
    metrics: Any = None,
    pool: str | None = None,
    incidents: Any = None,
    merge_gap: str | None = "30m",
    worst: str = "6h",
    quantile: float = 0.95,
) -> pl.DataFrame:
    """The incident windows to compare with the rest of the period, from the data.

    ``incidents`` given (``{name: (start, end)}``) are used as they are. Otherwise, with
    model calls that carry a TTFT (else an end-to-end latency), the threshold is chosen
    from the data (:func:`toolkit.slo.service_objectives`: a vLLM bucket bound near the
    calls' ``quantile`` when ``metrics`` has the histogram) and the windows are
    :func:`toolkit.slo.incident_windows` of that objective per ``pool``: the pages, else
    the tickets, else the worst period. Without model calls, the same on the traces'
    end-to-end durations (:func:`trace_summary`).

    Parameters
    ----------
    spans : polars or pandas DataFrame
        The spans table.
    calls : polars or pandas DataFrame, optional
        ``llm_calls`` of the same spans.
    metrics : polars or pandas DataFrame, optional
        vLLM metrics, for a threshold that is a histogram bucket bound.
    pool : str, optional
        A column of ``calls`` naming the pool: windows per pool.
    incidents : mapping or DataFrame, optional
        Windows given by the user (see :func:`toolkit.slo.windows_frame`).
    merge_gap, worst : str
        As for :func:`toolkit.slo.incident_windows`.
    quantile : float, default 0.95

    Returns
    -------
    polars.DataFrame
        ``incident``, ``start``, ``end``, ``source`` ("page", "ticket", "worst period" or
        "given"), ``burn_rate`` (null for given windows), ``slo`` (the objective, e.g. "99%
        of events with ttft_s <= 10 over a rolling 30d"), in time order (given windows in
        their order).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> spans = pl.DataFrame({"trace_id": [f"t{i}" for i in range(60)],
    ...     "span_id": "a", "parent_span_id": None, "name": "GET /", "kind": "server",
    ...     "service_name": "web", "start_time": [t0 + dt.timedelta(minutes=i) for i in range(60)],
    ...     "end_time": [t0 + dt.timedelta(minutes=i, seconds=9 if 40 <= i < 43 else 1)
    ...                  for i in range(60)]})
    >>> found = find_incidents(spans, worst="10m")
    >>> found.select("source", pl.col("start", "end").dt.strftime("%H:%M")).row(0)
    ('page', '00:43', '00:50')
    """
    from toolkit import slo

    if incidents is not None:
        given = slo.windows_frame(incidents)
        return given.select(
            "incident",
            "start",
            "end",
            pl.lit("given").alias("source"),
            pl.lit(None, dtype=pl.Float64).alias("burn_rate"),
            pl.lit(None, dtype=pl.String).alias("slo"),
        )
    frame: pl.DataFrame | None = calls
    events: pl.DataFrame | None = None
    objective: slo.SLO | None = None
    by = None
    if frame is not None and frame.height:
        found = slo.service_objectives(calls=frame, metrics=metrics, quantile=quantile).slos
        for sli in ("ttft_s", "latency_s"):
            if sli in found:
                objective = found[sli]
                events = slo.good_events(frame, objective)
                break
        if pool is not None and pool in frame.columns:
            by = pool
    if objective is None:
        df = _spans(spans)
        summary = _summary(df, _build(df, "shift"), []).with_columns(
            (pl.col("duration_ms") / 1000).alias("latency_s"), pl.col("has_error").alias("is_error")
        )
        choice = slo.choose_threshold(calls=summary, column="latency_s", quantile=quantile)
        if choice is None or summary.height == 0:
            return pl.DataFrame(
                schema={
                    "incident": pl.String,
                    "start": TIME,
                    "end": TIME,
                    "source": pl.String,
                    "burn_rate": pl.Float64,
                    "slo": pl.String,
                }
            )
        objective = slo.SLO("latency", 0.99, sli="latency_s", threshold=choice.value)
        events = slo.good_events(summary, objective)
    assert events is not None
    windows = slo.incident_windows(events, objective, by=by, merge_gap=merge_gap, worst=worst)
    return windows.select(
        "incident", "start", "end", "source", "burn_rate", pl.lit(objective.describe()).alias("slo")
    )


@validate_params(
    spans=Frame(),
    by=Names(),
    confidence=Interval(
        float, 0, 1, closed="neither", description="a number between 0 and 1 (exclusive)"
    ),
    min_traces=Interval(int, 1, None, closed="left"),
    skew=_SKEW,
)
def bottlenecks_by_window(
    spans: Any,
    windows: Any,
    *,
    by: str | Sequence[str] = "component",
    confidence: float = 0.95,
    min_traces: int = 2,
    skew: Skew = "shift",
) -> pl.DataFrame:
    """What grew in each incident window: :func:`bottlenecks` of its traces against the rest.

    Every trace that started in a window (``[start, end)``) is compared with the traces
    outside all the windows (the baseline); a trace in two overlapping windows counts in
    both. A window with fewer than ``min_traces`` traces (or a baseline with fewer) is
    left out.

    Parameters
    ----------
    spans : polars or pandas DataFrame
    windows : polars DataFrame or mapping
        :func:`find_incidents` / :func:`toolkit.slo.incident_windows` output, or
        ``{name: (start, end)}``.
    by : str or list of str, default "component"
        What an operation is (see :func:`bottlenecks`).
    confidence : float, default 0.95
    min_traces : int, default 2
    skew : {"shift", "clamp"}, default "shift"

    Returns
    -------
    polars.DataFrame
        ``incident``, ``start``, ``end``, then :func:`bottlenecks`' columns (``rank`` 1 is
        what grew most), windows in their order. Empty (with those columns) when no window
        can be compared.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> rows = []
    >>> for i in range(20):
    ...     db = 200 if 10 <= i < 15 else 20  # traces 10-14 are slow in the database
    ...     t = t0 + dt.timedelta(minutes=i)
    ...     rows += [(f"t{i}", "a", None, "GET /", t, t + dt.timedelta(milliseconds=50 + db)),
    ...              (f"t{i}", "b", "a", "db", t, t + dt.timedelta(milliseconds=db))]
    >>> spans = pl.DataFrame(rows, orient="row", schema=["trace_id", "span_id",
    ...     "parent_span_id", "name", "start_time", "end_time"]).with_columns(
    ...     pl.col("start_time", "end_time").dt.replace_time_zone("UTC"),
    ...     kind=pl.lit("server"), service_name=pl.lit("web"))
    >>> window = {"db incident": (t0 + dt.timedelta(minutes=10), t0 + dt.timedelta(minutes=15))}
    >>> grew = bottlenecks_by_window(spans, window, by="name")
    >>> grew.filter(pl.col("rank") == 1).select("incident", "name", "delta_ms").rows()
    [('db incident', 'db', 180.0)]
    """
    from toolkit import slo

    keys = _names(by)
    df = _spans(spans)
    _check_columns(keys, df, "by", True)
    frame = slo.windows_frame(windows)
    summary = _summary(df, _build(df, skew), [])
    baseline = slo.label_windows(summary, frame, column="_period", baseline="\x00baseline")
    base_ids = baseline.filter(pl.col("_period") == "\x00baseline")["trace_id"]
    parts = []
    for row in frame.iter_rows(named=True):
        inside = summary.filter(
            (pl.col("start_time") >= row["start"]) & (pl.col("start_time") < row["end"])
        )["trace_id"]
        if inside.len() < min_traces or base_ids.len() < min_traces:
            continue
        ranked = bottlenecks(
            df, inside, baseline=base_ids, by=keys, confidence=confidence, skew=skew
        )
        parts.append(
            ranked.select(
                pl.lit(row["incident"]).alias("incident"),
                pl.lit(row["start"]).cast(TIME).alias("start"),
                pl.lit(row["end"]).cast(TIME).alias("end"),
                pl.all(),
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={
                "incident": pl.String(),
                "start": TIME,
                "end": TIME,
                "rank": pl.Int64(),
                **{k: pl.String() for k in keys},
                "delta_ms": pl.Float64(),
            }
        )
    out: pl.DataFrame = pl.concat(parts, how="vertical_relaxed")
    return out


@validate_params(summary=Frame())
def slowest_trace(summary: Any, *, window: Any = None) -> dict[str, Any] | None:
    """The slowest successful trace of ``summary`` that started in ``window``.

    Falls back to the slowest successful trace of all when the window holds none, and to
    the slowest trace when every trace failed.

    Parameters
    ----------
    summary : polars or pandas DataFrame
        :func:`trace_summary`.
    window : tuple of (datetime, datetime), optional
        ``[start, end)``; None: the whole period.

    Returns
    -------
    dict or None
        The summary's row; None when ``summary`` is empty.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> s = pl.DataFrame({"trace_id": ["a", "b", "c"], "duration_ms": [5.0, 9.0, 7.0],
    ...                   "has_error": [False, True, False],
    ...                   "start_time": [t0, t0, t0 + dt.timedelta(hours=1)]})
    >>> slowest_trace(s)["trace_id"]
    'c'
    >>> slowest_trace(s, window=(t0, t0 + dt.timedelta(minutes=1)))["trace_id"]
    'a'
    """
    frame: pl.DataFrame = summary
    missing = [
        c for c in ("trace_id", "duration_ms", "has_error", "start_time") if c not in frame.columns
    ]
    if missing:
        raise reject(
            "summary",
            "be a trace summary (traces.trace_summary)",
            got=f"a frame without {', '.join(missing)}",
        )
    if frame.height == 0:
        return None
    ok = frame.filter(~pl.col("has_error").fill_null(False))
    candidates = [ok, frame]
    if window is not None:
        start, end = window
        candidates.insert(
            0, ok.filter((pl.col("start_time") >= start) & (pl.col("start_time") < end))
        )
    for candidate in candidates:
        if candidate.height:
            return candidate.sort("duration_ms", descending=True, nulls_last=True).row(
                0, named=True
            )
    return None  # pragma: no cover
