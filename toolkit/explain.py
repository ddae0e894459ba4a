"""Why calls breach SLOs, fail or answer badly: surrogate models, SHAP and LIME.

:func:`explain` fits a surrogate model (gradient-boosted trees, LightGBM) that predicts an
outcome an SRE cares about (a TTFT breach, an error, an ungrounded answer, a latency) from
what was known when each call arrived: token counts, model, pool, route, user tier and
locale, hour of day, day of week, calls in flight, queue depth and cache use from the
vLLM metrics, retrieval statistics. It then explains the surrogate:

- **SHAP** (exact TreeSHAP, LightGBM's ``pred_contrib`` in C++ on every core): global
  importance as a tidy frame with its sampling error, interaction strength for the top
  pairs (shap's ``TreeExplainer`` on a subsample), and the difference between an incident
  window and a baseline window (:meth:`Explanation.compare`).
- **LIME**: local explanations of chosen calls, next to their SHAP values, with the
  agreement of the two (:meth:`Explanation.local`).

The surrogate is fitted on the earlier calls and scored on the later ones (a time-aware
holdout); its fidelity (ROC AUC for a yes/no outcome, R² for a number) is reported with
every explanation, and an explanation of a surrogate below the fidelity floor carries a
prominent warning (:class:`LowFidelityWarning`): it explains the model, and the model
does not describe the service well.

Leakage guards: a feature that is the outcome in disguise (latency for a latency breach,
``error_type`` or ``finish_reason`` for an error, another evaluation score for an
evaluation) is refused, with the reason; one that is missing exactly when the outcome
happens (token usage of a rejected call) is refused too.

Large inputs are sampled, stratified by outcome and day, and the sample size and the
standard error of each importance are stated. shap, lime, lightgbm and scikit-learn are
imported inside the functions that use them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import logging
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit._progress import Progress
from toolkit._validation import (
    BACKEND,
    Backend,
    Frame,
    Interval,
    OneOf,
    Strings,
    caller,
    frame_out,
    validate_params,
)
from toolkit.errors import FormatError, ParameterError, ToolkitWarning, preview

__all__ = [
    "DERIVED_FEATURES",
    "BreachObjective",
    "Explanation",
    "LeakageError",
    "LocalExplanation",
    "LowFidelityWarning",
    "SliceExplanation",
    "breach_objective",
    "explain",
    "feature_frame",
    "ranked_incidents",
    "worst_calls",
]

#: Features that :func:`feature_frame` derives (the joined ones only when their input is given).
DERIVED_FEATURES = (
    "hour_of_day",
    "day_of_week",
    "concurrent_calls",
    "vllm.num_requests_running",
    "vllm.num_requests_waiting",
    "vllm.kv_cache_usage_perc",
    "retrieval.documents",
    "retrieval.score_max",
    "retrieval.score_mean",
    "retrieval.query_overlap",
)

#: Default fidelity floors: ROC AUC for a yes/no outcome, R² for a number.
FIDELITY_FLOORS = {"classification": 0.7, "regression": 0.3}

_TIME = "start_time"
_ROW = "_row"
_NULL = "(null)"
#: An explanation of at most this many calls keeps the SHAP values of all of them once
#: computed (:meth:`Explanation.compare` of many windows then costs one pass).
_MEMO_ROWS = 100_000

_LATENCY = (
    "latency_s",
    "ttft_s",
    "tpot_s",
    "duration_ms",
    "end_time",
    "attributes.gen_ai.response.time_to_first_chunk",
    "attributes.gen_ai.latency.*",
    "attributes.gen_ai.server.*",
    "attributes.gen_ai.client.operation.duration",
)
_ERROR = (
    "is_error",
    "error_type",
    "finish_reason",
    "status_code",
    "status_message",
    "attributes.error.type",
    "attributes.http.response.status_code",
    "attributes.gen_ai.response.finish_reasons",
)
_RESPONSE = (
    "output_tokens",
    "reasoning_tokens",
    "response_model",
    "attributes.gen_ai.response.*",
    "attributes.gen_ai.usage.output_tokens",
)
_EVAL = ("eval.*", "attributes.gen_ai.evaluation.*")

#: Outcome families: a target built on a column of a family (its triggers) refuses
#: every feature of the family's refused columns, for the reason given.
_FAMILIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    (
        "latency",
        _LATENCY,
        _LATENCY,
        "measures the call's own duration, which the outcome is made of",
    ),
    (
        "error",
        _ERROR,
        _ERROR + _RESPONSE + _LATENCY,
        "is written only once the call has succeeded or failed (the error itself, the "
        "response, or the duration a timeout ends with)",
    ),
    (
        "evaluation",
        _EVAL,
        _EVAL,
        "is an evaluation of the same answer, scored after the outcome is known",
    ),
)

# Columns never used as features: identifiers, times and free text.
_NEVER = re.compile(
    r"(^|[._])(trace_id|span_id|parent_span_id|id|uuid|request\.id|conversation\.id|"
    r"session\.id|user\.id|messages|documents|prompt|completion|content|body|"
    r"start_time|end_time|time|observed_time|events|links)$"
)

# Preferred order: of two categorical columns that split the calls the same way, the
# earlier is kept (pool before model before server address ...).
_PREFERRED = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "attributes.deployment.pool",
    "request_model",
    "response_model",
    "attributes.app.route",
    "attributes.user.tier",
    "attributes.user.locale",
    "attributes.app.prompt.category",
    "attributes.deployment.replica",
)


class LowFidelityWarning(ToolkitWarning):
    """The surrogate model predicts the outcome poorly on the holdout: its explanation
    describes the model, not the service."""


class LeakageError(ParameterError):
    """A feature asked for is the outcome in disguise."""


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide the import-time and call-time noise of shap, lime and lightgbm (warnings,
    root-logger messages), restoring the global state afterwards."""
    root = logging.getLogger()
    level = root.level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root.setLevel(logging.ERROR)
        try:
            yield
        finally:
            root.setLevel(level)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    for pattern in patterns:
        if pattern.endswith("*"):
            if name.startswith(pattern[:-1]):
                return True
        elif name == pattern:
            return True
    return False


# --------------------------------------------------------------------------- features


def _concurrency(data: pl.DataFrame, group: str | None) -> pl.Series:
    """Calls of the frame in flight when each call arrived (itself excluded)."""
    start = data[_TIME].dt.epoch("ns").to_numpy()
    latency = (
        data["latency_s"].cast(pl.Float64).to_numpy()
        if "latency_s" in data.columns
        else np.full(data.height, np.nan)
    )
    valid = ~np.isnan(latency)
    end = start + np.where(valid, latency * 1e9, 0.0).astype(np.int64)
    keys = data[group].fill_null(_NULL).to_numpy() if group else np.zeros(data.height)
    out = np.zeros(data.height, dtype=np.int64)
    for key in np.unique(keys):
        members = keys == key
        in_group = members & valid
        starts = np.sort(start[in_group])
        ends = np.sort(end[in_group])
        t = start[members]
        out[members] = (
            np.searchsorted(starts, t, side="right")
            - np.searchsorted(ends, t, side="right")
            - valid[members]
        )
    return pl.Series("concurrent_calls", out)


def _metrics_features(data: pl.DataFrame, metrics: pl.DataFrame) -> pl.DataFrame:
    names = {
        "vllm:num_requests_running": "vllm.num_requests_running",
        "vllm:num_requests_waiting": "vllm.num_requests_waiting",
        "vllm:kv_cache_usage_perc": "vllm.kv_cache_usage_perc",
        "vllm:gpu_cache_usage_perc": "vllm.kv_cache_usage_perc",
    }
    for column in ("time", "name", "value"):
        if column not in metrics.columns:
            raise ParameterError(
                f"The 'metrics' parameter of {caller()} must be a metrics table "
                f"(toolkit.load_metrics). Got a frame without {column!r} instead."
            )
    metrics = metrics.filter(pl.col("name").is_in(list(names)))
    if metrics.height == 0:  # no vLLM gauge (e.g. DCGM or other metrics only): nothing to join
        return data
    if "label.pool" in metrics.columns and "attributes.deployment.pool" in data.columns:
        label, key = "label.pool", "attributes.deployment.pool"
    elif "label.model_name" in metrics.columns and "request_model" in data.columns:
        label, key = "label.model_name", "request_model"
    else:
        # no label to match the calls with: the gauges averaged over the series of each
        # scrape (one server, or the fleet's mean), joined by time alone
        metrics = metrics.with_columns(pl.lit("all").alias("_all"))
        data = data.with_columns(pl.lit("all").alias("_all"))
        label, key = "_all", "_all"
    gauges = (
        metrics.with_columns(pl.col("name").replace_strict(names, return_dtype=pl.String))
        .group_by("time", label, "name")
        .agg(pl.col("value").sum() if label == "label.pool" else pl.col("value").mean())
        .pivot(on="name", index=["time", label], values="value")
        .rename({label: "_key"})
        .sort("time")
    )
    present = [n for n in dict.fromkeys(names.values()) if n in gauges.columns]
    if not present:
        return data
    with warnings.catch_warnings():  # sortedness within each pool is not checkable: sorted
        warnings.filterwarnings("ignore", message="Sortedness of columns cannot be checked")
        joined = _asof(data, gauges, key, present)
    return data.drop(present, "_all", strict=False).join(joined, on=_ROW, how="left")


def _asof(data: pl.DataFrame, gauges: pl.DataFrame, key: str, present: list[str]) -> pl.DataFrame:
    return (
        data.select(_ROW, _TIME, pl.col(key).alias("_key"))
        .sort(_TIME)
        .join_asof(
            gauges.select("time", "_key", *present),
            left_on=_TIME,
            right_on="time",
            by="_key",
            strategy="backward",
        )
        .select(_ROW, *present)
    )


_DOC = pl.List(pl.Struct({"id": pl.String, "score": pl.Float64, "content": pl.String}))
_MESSAGES = pl.List(
    pl.Struct(
        {
            "role": pl.String,
            "content": pl.String,
            "parts": pl.List(pl.Struct({"type": pl.String, "content": pl.String})),
        }
    )
)


def _retrieval_features(data: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
    docs_column = "attributes.gen_ai.retrieval.documents"
    if docs_column not in spans.columns or "trace_id" not in data.columns:
        return data
    retrieval = spans.filter(pl.col(docs_column).is_not_null())
    try:
        docs = retrieval.select(
            "trace_id",
            "duration_ms",
            pl.col(docs_column).str.json_decode(_DOC).alias("_docs"),
        )
    except pl.exceptions.PolarsError as exc:
        raise FormatError(
            f"gen_ai.retrieval.documents is not a JSON list of {{id, score, content}} "
            f"objects ({preview(str(exc), 200)})",
            column=docs_column,
        ) from None
    stats = docs.group_by("trace_id").agg(
        pl.col("_docs").list.len().sum().alias("retrieval.documents"),
        pl.col("_docs")
        .list.eval(pl.element().struct.field("score"))
        .explode()
        .max()
        .alias("retrieval.score_max"),
        pl.col("_docs")
        .list.eval(pl.element().struct.field("score"))
        .explode()
        .mean()
        .alias("retrieval.score_mean"),
        pl.col("_docs")
        .list.eval(pl.element().struct.field("content"))
        .explode()
        .str.join(" ")
        .str.to_lowercase()
        .alias("_text"),
    )
    out = data.drop([c for c in DERIVED_FEATURES if c.startswith("retrieval.")], strict=False).join(
        stats, on="trace_id", how="left"
    )
    question_column = "attributes.gen_ai.input.messages"
    if question_column in out.columns:
        words = (
            out.select(
                _ROW,
                "_text",
                pl.col(question_column).str.json_decode(_MESSAGES).alias("_m"),
            )
            .filter(pl.col("_text").is_not_null() & pl.col("_m").is_not_null())
            .explode("_m")
            .filter(pl.col("_m").struct.field("role") == "user")
            .select(
                _ROW,
                "_text",
                pl.concat_str(
                    pl.col("_m").struct.field("content").fill_null(""),
                    pl.col("_m")
                    .struct.field("parts")
                    .list.eval(pl.element().struct.field("content"))
                    .list.join(" ")
                    .fill_null(""),
                    separator=" ",
                )
                .str.to_lowercase()
                .str.extract_all(r"\w{4,}")
                .list.unique()
                .alias("_w"),
            )
            .explode("_w")
            .filter(pl.col("_w").is_not_null())
            .group_by(_ROW)
            .agg(
                pl.col("_text")
                .str.contains(pl.col("_w"), literal=True)
                .mean()
                .alias("retrieval.query_overlap")
            )
        )
        out = out.join(words, on=_ROW, how="left")
    return out.drop("_text")


@validate_params(calls=Frame(), spans=[Frame(), None], metrics=[Frame(), None], backend=BACKEND)
def feature_frame(
    calls: Any,
    *,
    spans: Any = None,
    metrics: Any = None,
    backend: Backend = "polars",
) -> Any:
    """The calls with the features :func:`explain` derives added as columns.

    Added (each only when its inputs are there):

    - ``hour_of_day`` (0-23) and ``day_of_week`` (1 = Monday) of ``start_time``, in UTC;
    - ``concurrent_calls``: calls of the frame in flight when the call arrived, within its
      pool (``attributes.deployment.pool``) when there is one. From sampled traces it
      counts the sampled calls only (a 2 % sample shows a fiftieth);
    - with ``metrics`` (``toolkit.load_metrics`` of vLLM scrapes): the pool's (or
      model's) ``vllm.num_requests_running``, ``vllm.num_requests_waiting`` and
      ``vllm.kv_cache_usage_perc`` at the last scrape at or before the arrival (without a
      ``pool`` or ``model_name`` label matching the calls, their mean over the series of
      each scrape; metrics without these gauges add nothing);
    - with ``spans``: per trace, the retrieval span's ``retrieval.documents`` (count),
      ``retrieval.score_max``, ``retrieval.score_mean`` and ``retrieval.query_overlap``
      (share of the question's words of four letters or more found in the retrieved
      documents: low when retrieval returned documents about something else).

    Parameters
    ----------
    calls : polars.DataFrame or pandas.DataFrame
        ``llm_calls`` (or any frame with ``start_time``).
    spans : polars.DataFrame or pandas.DataFrame, optional
        The spans the calls came from, for retrieval statistics.
    metrics : polars.DataFrame or pandas.DataFrame, optional
        vLLM metrics, for queue depth and KV-cache use at arrival.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The calls, in their order, with the new columns at the end.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    >>> calls = pl.DataFrame({"start_time": [t0, t0 + dt.timedelta(seconds=1),
    ...                                      t0 + dt.timedelta(seconds=5)],
    ...                       "latency_s": [3.0, 1.0, 1.0]}).with_columns(
    ...     pl.col("start_time").dt.cast_time_unit("ns"))
    >>> feature_frame(calls).select("hour_of_day", "day_of_week", "concurrent_calls").rows()
    [(9, 1, 0), (9, 1, 1), (9, 1, 0)]
    """
    data: pl.DataFrame = calls
    out = _derive(
        data,
        spans,
        metrics,
    )
    return frame_out(out, backend)


def _derive(
    data: pl.DataFrame, spans: pl.DataFrame | None, metrics: pl.DataFrame | None
) -> pl.DataFrame:
    if _TIME not in data.columns or not isinstance(data.schema[_TIME], pl.Datetime):
        return data
    dropped = [c for c in ("hour_of_day", "day_of_week", "concurrent_calls") if c in data.columns]
    out = data.drop(dropped).with_row_index(_ROW)
    if getattr(data.schema[_TIME], "time_zone", None) is None:
        raise ParameterError(
            f"The 'frame' parameter of {caller()} must have a time-zone-aware start_time "
            "(toolkit's tables are in UTC); the hour of day is never guessed from local "
            "times. Got a start_time without a time zone instead."
        )
    zoned = pl.col(_TIME).dt.convert_time_zone("UTC")
    out = out.with_columns(
        zoned.dt.hour().cast(pl.Int64).alias("hour_of_day"),
        zoned.dt.weekday().cast(pl.Int64).alias("day_of_week"),
    )
    pool = "attributes.deployment.pool" if "attributes.deployment.pool" in out.columns else None
    out = out.with_columns(_concurrency(out, pool))
    if metrics is not None:
        out = _metrics_features(out, metrics)
    if spans is not None:
        out = _retrieval_features(out, spans)
    return out.sort(_ROW).drop(_ROW)


# --------------------------------------------------------------------------- target and features


def _target(data: pl.DataFrame, target: Any) -> tuple[str, pl.Series, list[str]]:
    if isinstance(target, str):
        if target not in data.columns:
            raise ParameterError(
                f"The 'target' parameter of {caller()} must be a column of the frame or a polars "
                f"expression (available: {preview(', '.join(data.columns), 300)}). "
                f"Got {preview(target)} instead."
            )
        return target, data[target], [target]
    if isinstance(target, pl.Expr):
        name = target.meta.output_name(raise_if_undetermined=False) or "target"
        roots = target.meta.root_names()
        missing = [r for r in roots if r not in data.columns]
        if missing:
            raise ParameterError(
                f"The 'target' parameter of {caller()} must use columns of the frame "
                f"(available: {preview(', '.join(data.columns), 300)}). "
                f"Got an expression on {preview(missing)} instead."
            )
        return name, data.select(target.alias(name)).to_series(), roots
    raise ParameterError(
        f"The 'target' parameter of {caller()} must be a column name or a polars expression "
        f"such as pl.col('ttft_s') > 2. Got {preview(target)} instead."
    )


def _leak(feature: str, target: str, roots: Sequence[str]) -> str | None:
    if feature in roots or feature == target:
        return "is the outcome itself"
    for family, triggers, refused, why in _FAMILIES:
        for root in roots:
            if _matches(root, triggers) and _matches(feature, refused):
                return f"{why} (the target is built on {root!r}, a {family} column)"
    return None


def _missing_leak(column: pl.Series, y: np.ndarray) -> str | None:
    if column.null_count() == 0:
        return None
    null = column.is_null().to_numpy()
    positive = y > 0.5
    if positive.all() or not positive.any():
        return None
    share_pos, share_neg = null[positive].mean(), null[~positive].mean()
    if abs(share_pos - share_neg) >= 0.9:
        return (
            f"is missing in {share_pos:.0%} of the calls with the outcome and "
            f"{share_neg:.0%} of the others: it is recorded only when the outcome does "
            "not happen (or only when it does)"
        )
    return None


@dataclass(frozen=True)
class _Selection:
    features: list[str]
    categorical: dict[str, tuple[str, ...]]
    excluded: list[tuple[str, str]]


def _ordered(columns: Sequence[str]) -> list[str]:
    first = [c for c in _PREFERRED if c in columns]
    return first + [c for c in columns if c not in first]


def _select(
    data: pl.DataFrame,
    target: str,
    roots: Sequence[str],
    y: np.ndarray,
    task: str,
    features: Sequence[str] | None,
    max_categories: int,
) -> _Selection:
    excluded: list[tuple[str, str]] = []
    chosen: list[str] = []
    categorical: dict[str, tuple[str, ...]] = {}
    explicit = features is not None
    if explicit:
        assert features is not None
        unknown = [f for f in features if f not in data.columns]
        if unknown:
            raise ParameterError(
                f"The 'features' parameter of {caller()} must name columns of the frame or "
                f"derived features (available: {preview(', '.join(data.columns), 400)}). "
                f"Got {preview(unknown)} instead."
            )
        leaks = [(f, _leak(f, target, roots)) for f in features]
        if task == "classification":
            leaks = [(f, r or _missing_leak(data[f], y)) for f, r in leaks]
        refused = [(f, r) for f, r in leaks if r is not None]
        if refused:
            detail = "; ".join(f"{f!r} {r}" for f, r in refused)
            raise LeakageError(
                f"The 'features' parameter of {caller()} must not contain the outcome in "
                f"disguise. Got {detail}. Leave these features out."
            )
        candidates = list(dict.fromkeys(features))
    else:
        candidates = _ordered([c for c in data.columns if c not in (target, *roots)])
        excluded += [(r, "is the outcome itself") for r in roots if r in data.columns]
    for name in candidates:
        column = data[name]
        dtype = column.dtype
        if not explicit:
            if _NEVER.search(name):
                excluded.append((name, "an identifier, a time or free text"))
                continue
            if _matches(name, _EVAL) and not any(_matches(r, _EVAL) for r in roots):
                excluded.append((name, "an evaluation scored after the call, not a cause"))
                continue
            reason = _leak(name, target, roots)
            if reason is None and task == "classification":
                reason = _missing_leak(column, y)
            if reason is not None:
                excluded.append((name, reason))
                continue
        numeric = dtype == pl.Boolean or dtype.is_numeric()
        if not numeric and not (dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)):
            if explicit:
                raise ParameterError(
                    f"The 'features' parameter of {caller()} must name numeric, boolean or "
                    f"text columns. Got {name!r} of type {dtype} instead."
                )
            excluded.append((name, f"type {dtype} is not a scalar feature"))
            continue
        values = column if numeric else column.cast(pl.String)
        distinct = values.n_unique()  # null counts as a value
        if distinct < 2 or values.null_count() == values.len():
            if explicit:
                raise ParameterError(
                    f"The 'features' parameter of {caller()} must name columns that vary. "
                    f"Got {name!r}, which is constant or empty, instead."
                )
            excluded.append((name, "constant or empty"))
            continue
        if numeric:
            chosen.append(name)
            continue
        if distinct > max_categories:
            if explicit:
                raise ParameterError(
                    f"The 'features' parameter of {caller()} must name numeric columns or "
                    f"categorical ones with at most max_categories={max_categories} "
                    f"values. Got {name!r} with {distinct:,} distinct values instead."
                )
            excluded.append((name, f"{distinct:,} distinct values: free text or an identifier"))
            continue
        labels = tuple(sorted(values.fill_null(_NULL).unique().to_list()))
        twin = next(
            (
                kept
                for kept in categorical
                if len(categorical[kept]) == len(labels)
                and data.select(pl.struct(kept, name).n_unique()).item() == len(labels)
            ),
            None,
        )
        if twin is not None and not explicit:
            excluded.append((name, f"splits the calls exactly as {twin!r} does"))
            continue
        categorical[name] = labels
        chosen.append(name)
    if not chosen:
        raise ParameterError(
            "explain found no usable feature in the frame: every column is an identifier, "
            "constant, free text or the outcome in disguise "
            f"({preview('; '.join(f'{f}: {r}' for f, r in excluded), 400)})."
        )
    return _Selection(chosen, categorical, excluded)


def _encode(data: pl.DataFrame, selection: _Selection) -> np.ndarray:
    columns = []
    for name in selection.features:
        if name in selection.categorical:
            labels = selection.categorical[name]
            codes = {label: float(i) for i, label in enumerate(labels)}
            column = (
                data[name]
                .cast(pl.String)
                .fill_null(_NULL)
                .replace_strict(codes, default=None, return_dtype=pl.Float64)
            )
        else:
            column = data[name].cast(pl.Float64)
        columns.append(column.fill_null(np.nan).to_numpy())
    return np.column_stack(columns).astype(np.float64, copy=False)


def _stratified(strata: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of a proportional stratified sample of ``size`` rows (sorted)."""
    total = strata.shape[0]
    if size >= total:
        return np.arange(total)
    rng = np.random.default_rng(seed)
    order = rng.permutation(total)
    order = order[np.argsort(strata[order], kind="stable")]
    keys, starts, counts = np.unique(strata[order], return_index=True, return_counts=True)
    quota = np.maximum(np.rint(counts * size / total), 1).astype(np.int64)
    rank = np.arange(total) - np.repeat(starts, counts)
    keep = rank < np.repeat(quota, counts)
    del keys
    return np.sort(order[keep])


def _strata(y: np.ndarray, times: np.ndarray | None, task: str) -> np.ndarray:
    if task == "classification":
        outcome = (y > 0.5).astype(np.int64)
    else:
        edges = np.nanquantile(y, [0.2, 0.4, 0.6, 0.8])
        outcome = np.searchsorted(edges, y).astype(np.int64)
    if times is None:
        return outcome
    day: np.ndarray = (times - times.min()) // (86_400 * 10**9)
    return np.asarray(day * 10 + outcome, dtype=np.int64)


# --------------------------------------------------------------------------- model


def _params(task: str, rows: int, seed: int) -> dict[str, Any]:
    return {
        "objective": "binary" if task == "classification" else "regression",
        "learning_rate": 0.1,
        "num_leaves": 15,
        "max_depth": 5,
        "min_data_in_leaf": int(max(5, min(20, rows // 50))),
        "feature_fraction": 1.0,
        "deterministic": True,
        "seed": seed,
        "verbose": -1,
    }


_MAX_TREES = 300
_MIN_TREES = 50


def _fit(x: np.ndarray, y: np.ndarray, task: str, seed: int, trees: int | None) -> Any:
    """A LightGBM booster. Without ``trees``, the number of trees is chosen by early
    stopping on the last fifth of the rows (in time order for a time holdout), and the
    booster returned is the one fitted on the first four fifths, cut at that number."""
    with _quiet():
        import lightgbm as lgb

        params = _params(task, x.shape[0], seed)
        cut = int(x.shape[0] * 0.8)
        if trees is None and cut >= 50 and x.shape[0] - cut >= 20:
            valid = lgb.Dataset(x[cut:], y[cut:], free_raw_data=True)
            probe = lgb.train(
                params,
                lgb.Dataset(x[:cut], y[:cut], free_raw_data=True),
                num_boost_round=_MAX_TREES,
                valid_sets=[valid],
                callbacks=[lgb.early_stopping(_MIN_TREES, verbose=False)],
            )
            # lightgbm keeps the trees up to the best iteration; fewer than _MIN_TREES give
            # SHAP values too coarse to rank features, so the probe is regrown to that size
            if probe.num_trees() < _MIN_TREES:
                probe = lgb.train(
                    params,
                    lgb.Dataset(x[:cut], y[:cut], free_raw_data=True),
                    num_boost_round=_MIN_TREES,
                )
            return probe
        return lgb.train(
            params, lgb.Dataset(x, y, free_raw_data=True), num_boost_round=trees or 100
        )


def _score(model: Any, x: np.ndarray, y: np.ndarray, task: str) -> float | None:
    from sklearn.metrics import r2_score, roc_auc_score

    if y.shape[0] < 2:
        return None
    predicted = model.predict(x)
    if task == "classification":
        if np.unique(y).shape[0] < 2:
            return None
        return float(roc_auc_score(y, predicted))
    return float(r2_score(y, predicted))


def _contributions(model: Any, x: np.ndarray) -> np.ndarray:
    """Exact TreeSHAP values in the model's raw space; the last column is the base value."""
    with _quiet():
        values: np.ndarray = np.asarray(model.predict(x, pred_contrib=True), dtype=np.float64)
    return values


# --------------------------------------------------------------------------- results


def _fidelity_html(metric: str, fidelity: float | None, floor: float) -> str:
    if fidelity is not None and fidelity >= floor:
        return (
            f'<p style="margin:4px 0">Surrogate fidelity: {metric} {fidelity:.3f} on the '
            f"holdout (floor {floor:g}).</p>"
        )
    shown = "unknown" if fidelity is None else f"{fidelity:.3f}"
    return (
        '<div style="border:2px solid #c0392b;background:#fdecea;padding:6px 10px;'
        'margin:6px 0;font-weight:bold;color:#922b21">'
        f"Low fidelity: the surrogate's {metric} on the holdout is {shown}, below the floor "
        f"{floor:g}. This explains the model, which does not describe the service well: "
        "do not conclude from it alone.</div>"
    )


def _table_html(frame: pl.DataFrame, n: int) -> str:
    from toolkit._html import show

    return show(frame, n=n).html


def _window(value: Any, name: str) -> tuple[dt.datetime, dt.datetime]:
    from toolkit._time import utc

    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(isinstance(v, str | dt.datetime) for v in value)
    ):
        raise ParameterError(
            f"The {name!r} parameter of {caller()} must be a (start, end) pair of "
            f"ISO-8601 times with their zone or aware datetimes. Got {preview(value)} instead."
        )
    start, end = utc(value[0], name=f"{name}[0]"), utc(value[1], name=f"{name}[1]")
    if end <= start:
        raise ParameterError(
            f"The {name!r} parameter of {caller()} must end after it starts. "
            f"Got {preview(value)} instead."
        )
    return start, end


def _as_rows(rows: Any, height: int) -> np.ndarray:
    if isinstance(rows, pl.Series):
        rows = rows.to_list()
    if isinstance(rows, int | np.integer):
        rows = [rows]
    if (
        not isinstance(rows, Sequence | np.ndarray)
        or isinstance(rows, str)
        or len(rows) == 0
        or not all(isinstance(r, int | np.integer) and 0 <= r < height for r in rows)
    ):
        raise ParameterError(
            f"The 'rows' parameter of {caller()} must be row numbers of "
            f"Explanation.data (0 to {height - 1}). Got {preview(rows)} instead."
        )
    return np.asarray(rows, dtype=np.int64)


@dataclass(frozen=True)
class SliceExplanation:
    """Why an incident window differs from a baseline: the difference of mean SHAP values.

    Attributes
    ----------
    frame : polars.DataFrame
        One row per feature, largest absolute difference first: ``feature``,
        ``incident_mean_shap``, ``baseline_mean_shap``, ``difference`` (their difference,
        in the model's raw space: log-odds for a yes/no outcome), ``incident_value`` and
        ``baseline_value`` (the feature's mean, or its most common category).
        The differences add up to the difference of the mean raw predictions.
    incident, baseline : tuple of datetime
        The windows (UTC); the baseline is everything outside the incident when not given.
    incident_rows, baseline_rows : int
    incident_outcome, baseline_outcome : float
        Mean outcome (share of calls with it, or mean value) in each window.
    fidelity, fidelity_metric, fidelity_floor
        Those of the explanation.
    """

    frame: pl.DataFrame
    incident: tuple[dt.datetime, dt.datetime]
    baseline: tuple[dt.datetime, dt.datetime] | None
    incident_rows: int
    baseline_rows: int
    incident_outcome: float
    baseline_outcome: float
    fidelity: float | None
    fidelity_metric: str
    fidelity_floor: float

    def _repr_html_(self) -> str:
        a, b = self.incident
        head = (
            f"<p><b>Incident {a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} UTC</b> "
            f"({self.incident_rows:,} calls, outcome {self.incident_outcome:.3g}) against "
            f"the baseline ({self.baseline_rows:,} calls, outcome {self.baseline_outcome:.3g})"
            "</p>"
        )
        fid = _fidelity_html(self.fidelity_metric, self.fidelity, self.fidelity_floor)
        return head + fid + _table_html(self.frame, 10)


@dataclass(frozen=True)
class LocalExplanation:
    """LIME and SHAP explanations of chosen calls, and how well they agree.

    Attributes
    ----------
    frame : polars.DataFrame
        One row per call and feature LIME kept: ``row`` (of :attr:`Explanation.data`),
        ``feature``, ``value`` (as text), ``condition`` (LIME's wording),
        ``lime_weight``, ``shap_value``.
    agreement : polars.DataFrame
        One row per call: ``row``, ``outcome``, ``prediction``, ``lime_score`` (R² of
        LIME's local fit), ``sign_agreement`` (share of LIME's features whose weight has
        the sign of their SHAP value, among those whose SHAP value is at least 1 % of
        the call's total absolute SHAP), ``rank_correlation`` (Spearman correlation of the
        absolute LIME weights and absolute SHAP values over those features).
    fidelity, fidelity_metric, fidelity_floor
        Those of the explanation.
    """

    frame: pl.DataFrame
    agreement: pl.DataFrame
    fidelity: float | None
    fidelity_metric: str
    fidelity_floor: float

    def _repr_html_(self) -> str:
        fid = _fidelity_html(self.fidelity_metric, self.fidelity, self.fidelity_floor)
        return (
            fid
            + "<p><b>LIME against SHAP, per call</b></p>"
            + _table_html(self.agreement, 20)
            + _table_html(self.frame, 30)
        )


@dataclass(frozen=True, eq=False)
class Explanation:
    """A surrogate model of an outcome and its SHAP explanation (from :func:`explain`).

    Attributes
    ----------
    target : str
        The outcome's name.
    task : {"classification", "regression"}
    fidelity : float or None
        The surrogate's score on the holdout: ROC AUC (classification) or R²; None when
        it cannot be computed (a holdout with one class only).
    fidelity_metric : {"roc_auc", "r2"}
    fidelity_floor : float
        Below it, explanations carry a prominent warning.
    importance : polars.DataFrame
        ``feature``, ``mean_abs_shap`` (mean absolute SHAP value, raw model space),
        ``stderr`` (its standard error over the explained sample, finite-population
        corrected), ``mean_shap``, ``share`` (of the total), most important first.
    excluded : polars.DataFrame
        ``feature``, ``reason``: columns not used, and why (leakage guards included).
    data : polars.DataFrame
        The labelled calls: ``row`` (0..n-1, as :meth:`local` takes), ``start_time``,
        the ids when present, the target and the features as given.
    features : tuple of str
    categorical : dict of str to tuple of str
        Categories of each categorical feature; the model sees their index.
    rows, unlabelled_rows : int
        Calls with the outcome known, and calls left out because it is null.
    train_rows, holdout_rows : int
        Of the rows the fidelity was measured with (stratified sample when ``max_rows``
        was exceeded).
    holdout_start : datetime or None
        The holdout holds the calls from then on (time holdout).
    holdout_by : {"time", "random"}
    explained_rows : int
        Size of the stratified sample the global SHAP values were computed on.
    trees : int
    base_value : float
        Mean raw prediction (expected value of the SHAP decomposition).
    model : lightgbm.Booster
        The surrogate, refitted on all rows after its holdout score was taken.
    """

    target: str
    task: str
    fidelity: float | None
    fidelity_metric: str
    fidelity_floor: float
    importance: pl.DataFrame
    excluded: pl.DataFrame
    data: pl.DataFrame
    features: tuple[str, ...]
    categorical: dict[str, tuple[str, ...]]
    rows: int
    unlabelled_rows: int
    train_rows: int
    holdout_rows: int
    holdout_start: dt.datetime | None
    explained_rows: int
    trees: int
    base_value: float
    holdout_by: str
    model: Any = field(repr=False)
    seed: int = field(repr=False, default=0)
    _x: np.ndarray = field(repr=False, default_factory=lambda: np.empty((0, 0)))
    _y: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    _sample: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0, np.int64))
    _shap: np.ndarray = field(repr=False, default_factory=lambda: np.empty((0, 0)))
    _memo: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def low_fidelity(self) -> bool:
        """Whether the fidelity is unknown or below the floor."""
        return self.fidelity is None or self.fidelity < self.fidelity_floor

    @validate_params(backend=BACKEND)
    def shap_values(self, rows: Any = None, *, backend: Backend = "polars") -> Any:
        """SHAP values of calls, wide: ``row``, ``base_value``, ``prediction`` (raw
        model output: log-odds or value), then one column per feature.

        For each row the features' values add up to ``prediction - base_value``.

        Parameters
        ----------
        rows : sequence of int, optional
            Rows of :attr:`data`; the explained sample when not given.
        backend : {"polars", "pandas"}, default "polars"

        Returns
        -------
        polars.DataFrame or pandas.DataFrame
        """
        if rows is None:
            index, values = self._sample, self._shap
        else:
            index = _as_rows(rows, self.rows)
            values = _contributions(self.model, self._x[index])
        out = pl.DataFrame(
            {
                "row": index.astype(np.int64),
                "base_value": values[:, -1],
                "prediction": values.sum(axis=1),
                **{name: values[:, i] for i, name in enumerate(self.features)},
            }
        )
        return frame_out(out, backend)

    @validate_params(backend=BACKEND)
    def contributions(self, *, backend: Backend = "polars") -> Any:
        """The explained sample's SHAP values, long: one row per call and feature.

        Columns ``row``, ``feature``, ``value`` (the number the model saw: the value, or
        the category's index), ``label`` (the value as text), ``shap``. The beeswarm and
        dependence figures draw from it.

        Returns
        -------
        polars.DataFrame or pandas.DataFrame
        """
        n, p = self._sample.shape[0], len(self.features)
        x = self._x[self._sample]
        labels = []
        for i, name in enumerate(self.features):
            if name in self.categorical:
                cats = np.asarray(self.categorical[name], dtype=object)
                labels.append(cats[x[:, i].astype(np.int64)])
            else:
                labels.append(np.asarray([None if math.isnan(v) else f"{v:g}" for v in x[:, i]]))
        out = pl.DataFrame(
            {
                "row": np.tile(self._sample.astype(np.int64), p),
                "feature": np.repeat(np.asarray(self.features, dtype=object), n),
                "value": x.T.reshape(-1),
                "label": np.concatenate(labels).astype(object),
                "shap": self._shap[:, :p].T.reshape(-1),
            },
            schema={
                "row": pl.Int64,
                "feature": pl.String,
                "value": pl.Float64,
                "label": pl.String,
                "shap": pl.Float64,
            },
        ).with_columns(pl.col("value").fill_nan(None))
        return frame_out(out, backend)

    @validate_params(backend=BACKEND)
    def interactions(
        self,
        top: int = 10,
        *,
        rows: int = 1000,
        backend: Backend = "polars",
    ) -> Any:
        """Interaction strength of the strongest feature pairs (SHAP interaction values).

        shap's ``TreeExplainer.shap_interaction_values`` on a stratified subsample of the
        explained calls (its cost grows with the square of the features).

        Parameters
        ----------
        top : int, default 10
            Pairs returned.
        rows : int, default 1000
            Calls in the subsample.
        backend : {"polars", "pandas"}, default "polars"

        Returns
        -------
        polars.DataFrame or pandas.DataFrame
            ``feature_a``, ``feature_b``, ``mean_abs_interaction`` (mean over the
            subsample of ``|phi_ab| + |phi_ba|``, raw model space), ``rows``; strongest
            first.
        """
        for name, value, least in (("top", top, 1), ("rows", rows, 10)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ParameterError(
                    f"The {name!r} parameter of {caller()} must be an integer "
                    f"of at least {least}. Got {preview(value)} instead."
                )
        picked = self._sample[
            _stratified(_strata(self._y[self._sample], None, self.task), rows, self.seed + 1)
        ]
        with _quiet():
            import shap

            values = np.asarray(
                shap.TreeExplainer(self.model).shap_interaction_values(self._x[picked])
            )
        strength = np.abs(values).mean(axis=0)
        p = len(self.features)
        a, b = np.triu_indices(p, k=1)
        out = (
            pl.DataFrame(
                {
                    "feature_a": [self.features[i] for i in a],
                    "feature_b": [self.features[j] for j in b],
                    "mean_abs_interaction": strength[a, b] + strength[b, a],
                }
            )
            .with_columns(pl.lit(picked.shape[0], dtype=pl.Int64).alias("rows"))
            .sort("mean_abs_interaction", descending=True)
            .head(top)
        )
        return frame_out(out, backend)

    @validate_params()
    def compare(
        self,
        incident: tuple[Any, Any],
        baseline: tuple[Any, Any] | None = None,
        *,
        max_rows: int = 50_000,
    ) -> SliceExplanation:
        """Explain an incident window against a baseline: difference of mean SHAP values.

        Parameters
        ----------
        incident : (start, end)
            ISO-8601 times with their zone, or aware datetimes; end exclusive.
        baseline : (start, end), optional
            Every call outside the incident window when not given.
        max_rows : int, default 50_000
            Calls of each window explained at most (a random sample beyond).

        Returns
        -------
        SliceExplanation
        """
        if "start_time" not in self.data.columns:
            raise ParameterError(
                "Explanation.compare needs the calls' start_time; the frame explained has none."
            )
        start, end = _window(incident, "incident")
        times = self.data["start_time"]
        inside = ((times >= start) & (times < end)).to_numpy()
        if baseline is None:
            base_mask, base_window = ~inside, None
        else:
            b0, b1 = _window(baseline, "baseline")
            base_mask, base_window = ((times >= b0) & (times < b1)).to_numpy(), (b0, b1)
        rng = np.random.default_rng(self.seed)
        parts = []
        for mask, name in ((inside, "incident"), (base_mask, "baseline")):
            index = np.flatnonzero(mask)
            if index.shape[0] == 0:
                raise ParameterError(
                    f"The {name!r} parameter of {caller()} must cover explained "
                    f"calls. Got a window with none instead."
                )
            if index.shape[0] > max_rows:
                index = np.sort(rng.choice(index, max_rows, replace=False))
            parts.append(index)
        shap_in = self._contributions_of(parts[0])
        shap_base = self._contributions_of(parts[1])
        p = len(self.features)
        typical_in: list[str] = []
        typical_base: list[str] = []
        for i, name in enumerate(self.features):
            for index, sink in ((parts[0], typical_in), (parts[1], typical_base)):
                column = self._x[index, i]
                if name in self.categorical:
                    codes = column.astype(np.int64)
                    sink.append(self.categorical[name][int(np.bincount(codes).argmax())])
                else:
                    sink.append("null" if np.isnan(column).all() else f"{np.nanmean(column):.4g}")
        mean_in = shap_in[:, :p].mean(axis=0)
        mean_base = shap_base[:, :p].mean(axis=0)
        frame = pl.DataFrame(
            {
                "feature": list(self.features),
                "incident_mean_shap": mean_in,
                "baseline_mean_shap": mean_base,
                "difference": mean_in - mean_base,
                "incident_value": typical_in,
                "baseline_value": typical_base,
            }
        ).sort(pl.col("difference").abs(), descending=True)
        return SliceExplanation(
            frame=frame,
            incident=(start, end),
            baseline=base_window,
            incident_rows=int(parts[0].shape[0]),
            baseline_rows=int(parts[1].shape[0]),
            incident_outcome=float(self._y[parts[0]].mean()),
            baseline_outcome=float(self._y[parts[1]].mean()),
            fidelity=self.fidelity,
            fidelity_metric=self.fidelity_metric,
            fidelity_floor=self.fidelity_floor,
        )

    def _contributions_of(self, index: np.ndarray) -> np.ndarray:
        """SHAP values of the rows ``index``; those of every row are computed once and kept
        when there are at most ``_MEMO_ROWS`` (comparing many windows costs one pass)."""
        if self._x.shape[0] > _MEMO_ROWS:
            return _contributions(self.model, self._x[index])
        if "all" not in self._memo:
            self._memo["all"] = _contributions(self.model, self._x)
        rows: np.ndarray = self._memo["all"][index]
        return rows

    def _predict_fn(self) -> Any:
        model, task = self.model, self.task

        def predict(x: np.ndarray) -> np.ndarray:
            out = np.asarray(model.predict(np.asarray(x, dtype=np.float64)), dtype=np.float64)
            return np.column_stack([1.0 - out, out]) if task == "classification" else out

        return predict

    @validate_params()
    def local(
        self,
        rows: Any,
        *,
        top: int = 8,
        num_samples: int = 3000,
        discretize: bool = True,
    ) -> LocalExplanation:
        """LIME explanations of chosen calls, next to their SHAP values.

        LIME (``LimeTabularExplainer``) fits a weighted linear model to the surrogate's
        predictions (the probability of the outcome, or its value) on perturbations of
        the call; categorical features are perturbed among their categories. Only the
        weights are kept: LIME's HTML (a 1.2 MB script per call) is never produced.

        Parameters
        ----------
        rows : sequence of int
            Rows of :attr:`data` (e.g. the slowest calls of an incident).
        top : int, default 8
            Features LIME keeps per call.
        num_samples : int, default 3000
            Perturbations per call.
        discretize : bool, default True
            Explain with quartile conditions (``input_tokens > 4096``: readable, and
            comparable in sign with SHAP values); False gives local slopes on
            standardised features, whose signs are those of a linear model's coefficients.

        Returns
        -------
        LocalExplanation
        """
        index = _as_rows(rows, self.rows)
        for name, value, least in (("top", top, 1), ("num_samples", num_samples, 100)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ParameterError(
                    f"The {name!r} parameter of {caller()} must be an integer of at "
                    f"least {least}. Got {preview(value)} instead."
                )
        from scipy.stats import spearmanr

        cat_index = [i for i, f in enumerate(self.features) if f in self.categorical]
        background = self._x[self._sample[: min(5000, self._sample.shape[0])]].copy()
        medians = np.nanmedian(np.where(np.isnan(background), np.nan, background), axis=0)
        medians = np.where(np.isnan(medians), 0.0, medians)

        def filled(x: np.ndarray) -> np.ndarray:
            return np.where(np.isnan(x), medians, x)

        with _quiet():
            from lime.lime_tabular import LimeTabularExplainer

            explainer = LimeTabularExplainer(
                filled(background),
                mode="classification" if self.task == "classification" else "regression",
                feature_names=list(self.features),
                categorical_features=cat_index,
                categorical_names={i: list(self.categorical[self.features[i]]) for i in cat_index},
                discretize_continuous=discretize,
                random_state=self.seed,
            )
            shap_rows = _contributions(self.model, self._x[index])
            predict = self._predict_fn()
            records: list[dict[str, Any]] = []
            agreement: list[dict[str, Any]] = []
            for k, row in enumerate(index):
                exp = explainer.explain_instance(
                    filled(self._x[row]),
                    predict,
                    num_features=min(top, len(self.features)),
                    num_samples=num_samples,
                    labels=(1,) if self.task == "classification" else None,
                )
                label = 1  # lime keeps regression weights under 1 (0 holds them negated)
                pairs = exp.as_map()[label]
                conditions = [c for c, _ in exp.as_list(label=label)]
                lime_w, shap_v = [], []
                for (feature_i, weight), condition in zip(pairs, conditions, strict=True):
                    name = self.features[feature_i]
                    raw = self._x[row, feature_i]
                    if name in self.categorical:
                        shown = self.categorical[name][int(raw)]
                    else:
                        shown = "null" if math.isnan(raw) else f"{raw:g}"
                    records.append(
                        {
                            "row": int(row),
                            "feature": name,
                            "value": shown,
                            "condition": condition,
                            "lime_weight": float(weight),
                            "shap_value": float(shap_rows[k, feature_i]),
                        }
                    )
                    lime_w.append(float(weight))
                    shap_v.append(float(shap_rows[k, feature_i]))
                lw, sv = np.asarray(lime_w), np.asarray(shap_v)
                # signs compared where SHAP gives one that matters (>= 1 % of the call's total)
                used = np.abs(sv) >= 0.01 * np.abs(shap_rows[k, :-1]).sum()
                signs = (
                    float(np.mean(np.sign(lw[used]) == np.sign(sv[used])))
                    if used.any()
                    else math.nan
                )
                if lw.size >= 3 and np.ptp(np.abs(lw)) > 0 and np.ptp(np.abs(sv)) > 0:
                    rho = float(spearmanr(np.abs(lw), np.abs(sv)).statistic)
                else:
                    rho = math.nan
                prediction = predict(self._x[row : row + 1])
                agreement.append(
                    {
                        "row": int(row),
                        "outcome": float(self._y[row]),
                        "prediction": float(
                            prediction[0, 1] if prediction.ndim == 2 else prediction[0]
                        ),
                        "lime_score": float(exp.score),
                        "sign_agreement": signs,
                        "rank_correlation": rho,
                    }
                )
        return LocalExplanation(
            frame=pl.DataFrame(records),
            agreement=pl.DataFrame(agreement).with_columns(pl.col(pl.Float64).fill_nan(None)),
            fidelity=self.fidelity,
            fidelity_metric=self.fidelity_metric,
            fidelity_floor=self.fidelity_floor,
        )

    def summary(self) -> str:
        """One paragraph: target, data, fidelity, the top features."""
        fid = "unknown" if self.fidelity is None else f"{self.fidelity:.3f}"
        top = ", ".join(self.importance["feature"].head(3).to_list())
        warn = " LOW FIDELITY: do not conclude from this alone." if self.low_fidelity else ""
        return (
            f"{self.target} ({self.task}) over {self.rows:,} calls "
            f"({self.unlabelled_rows:,} without the outcome left out); surrogate of "
            f"{self.trees} trees, {self.fidelity_metric} {fid} on a {self.holdout_by} holdout of "
            f"{self.holdout_rows:,} calls (floor {self.fidelity_floor:g}).{warn} SHAP on "
            f"{self.explained_rows:,} calls; top features: {top}."
        )

    def __repr__(self) -> str:
        return f"Explanation({self.summary()})"

    def _repr_html_(self) -> str:
        esc = html.escape
        fid = _fidelity_html(self.fidelity_metric, self.fidelity, self.fidelity_floor)
        return (
            f"<p><b>Why {esc(self.target)}</b>: {esc(self.summary())}</p>"
            + fid
            + _table_html(self.importance, 12)
        )


# --------------------------------------------------------------------------- explain


def _check_int(function: str, name: str, value: Any, least: int, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        extra = " or None" if allow_none else ""
        raise ParameterError(
            f"The {name!r} parameter of {function} must be an integer of at least "
            f"{least}{extra}. Got {preview(value)} instead."
        )


@validate_params(
    frame=Frame(),
    features=[Strings(description="a list of column names"), None],
    spans=[Frame(), None],
    metrics=[Frame(), None],
    holdout=Interval(float, 0, 1, closed="neither", description="a share between 0 and 1"),
    holdout_by=OneOf("time", "random"),
)
def explain(
    frame: Any,
    target: str | pl.Expr,
    features: Sequence[str] | None = None,
    *,
    spans: Any = None,
    metrics: Any = None,
    holdout: float = 0.25,
    holdout_by: Literal["time", "random"] = "time",
    fidelity_floor: float | None = None,
    max_rows: int | None = 200_000,
    explain_rows: int | None = 20_000,
    max_categories: int = 50,
    trees: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> Explanation:
    """Explain what drives an outcome of LLM calls with a surrogate model and SHAP.

    1. Features: the frame's numeric, boolean and categorical columns (at most
       ``max_categories`` values; a null is a category of its own) plus those
       :func:`feature_frame` derives (hour, weekday, calls in flight, and with ``metrics``
       / ``spans`` the queue depth, KV-cache use and retrieval statistics). Identifiers,
       times, free text, constant columns, categorical twins (two columns that split the
       calls identically: the first of ``deployment.pool``, model, ... is kept) and the
       outcome in disguise are left out and listed in :attr:`Explanation.excluded`.
       Asked for explicitly, a leaking feature raises :class:`LeakageError`.
    2. A LightGBM surrogate (trees of depth <= 5, 15 leaves; the number of trees by early
       stopping on the last fifth of them) is fitted on the earlier ``1 - holdout`` of the
       calls and scored on the later ones (ROC AUC or R²): that is the fidelity. Below the floor,
       :class:`LowFidelityWarning` is issued and every explanation shows a warning.
       The surrogate is then refitted on all calls and explained.
    3. SHAP: exact TreeSHAP values (raw model space: log-odds for a yes/no outcome) on a
       stratified sample of ``explain_rows`` calls (by outcome and day), with the standard
       error of each feature's mean absolute SHAP value.

    Rows whose outcome is null (a call without an evaluation, a failed call without a
    TTFT) are left out and counted in :attr:`Explanation.unlabelled_rows`.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        ``llm_calls`` (or any frame of calls; ``start_time`` for the time holdout).
    target : str or polars.Expr
        The outcome: a boolean or numeric column, or an expression such as
        ``pl.col("ttft_s") > 2`` (boolean: classification; numeric: regression).
    features : list of str, optional
        The features to use (checked for leakage); chosen automatically when not given.
    spans, metrics : frame, optional
        For the joined features (see :func:`feature_frame`).
    holdout : float, default 0.25
        Share of the calls (the latest ones) the fidelity is measured on.
    holdout_by : {"time", "random"}, default "time"
        "random": a stratified random holdout, for frames without time.
    fidelity_floor : float, optional
        0.7 (AUC) or 0.3 (R²) when not given.
    max_rows : int or None, default 200_000
        Calls the surrogate is fitted on at most (a sample stratified by outcome and day).
    explain_rows : int or None, default 20_000
        Calls the global SHAP values are computed on (stratified sample); None: all.
    max_categories : int, default 50
    trees : int, optional
        Fixed number of trees instead of early stopping.
    seed : int, default 0
    progress : bool, optional
        Progress bar (shown after two seconds by default).

    Returns
    -------
    Explanation

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(0)
    >>> calls = pl.DataFrame({"input_tokens": rng.integers(10, 8000, 2000),
    ...                       "pool": rng.choice(["a100", "h100"], 2000),
    ...                       "noise": rng.normal(size=2000)})
    >>> calls = calls.with_columns(
    ...     ttft_s=pl.col("input_tokens") / 4000 * pl.when(pl.col("pool") == "h100")
    ...     .then(3.0).otherwise(1.0) + rng.exponential(0.1, 2000))
    >>> result = explain(calls, pl.col("ttft_s") > 2, holdout_by="random", progress=False)
    >>> sorted(result.importance["feature"].head(2))
    ['input_tokens', 'pool']
    >>> result.fidelity > 0.9
    True
    """
    function = caller() or "explain.explain"
    data: pl.DataFrame = frame
    _check_int(function, "max_rows", max_rows, 100, True)
    _check_int(function, "explain_rows", explain_rows, 10, True)
    _check_int(function, "max_categories", max_categories, 2, False)
    _check_int(function, "trees", trees, 1, True)
    has_time = _TIME in data.columns and isinstance(data.schema[_TIME], pl.Datetime)
    if holdout_by == "time" and not has_time:
        raise ParameterError(
            f"The 'holdout_by' parameter of {caller()} must be 'random' for a frame without a "
            "start_time (Datetime) column. Got 'time' instead."
        )
    with Progress("explain: features", total=4, unit="step", enabled=progress) as bar:
        target_name, values, roots = _target(data, target)
        if values.dtype == pl.Boolean:
            task = "classification"
        elif values.dtype.is_numeric():
            task = "regression"
        else:
            raise ParameterError(
                f"The 'target' parameter of {caller()} must give a boolean or numeric outcome. "
                f"Got {target_name!r} of type {values.dtype} instead "
                "(compare it: pl.col('error_type') == '503')."
            )
        if data.height != values.len():
            raise ParameterError(
                f"The 'target' parameter of {caller()} must give one value per call. "
                f"Got {values.len()} values for {data.height} calls instead."
            )
        derived = _derive(
            data,
            spans,
            metrics,
        )
        mask = values.is_not_null()
        if values.dtype.is_float():
            mask = mask & values.is_not_nan().fill_null(False)
        unlabelled = int(derived.height - mask.sum())
        kept = derived.with_columns(values.alias("__target__")).filter(mask)
        if has_time:
            kept = kept.sort(_TIME, maintain_order=True)
        if kept.height < 20:
            raise ParameterError(
                f"The 'target' parameter of {caller()} must be known for at least 20 calls. "
                f"Got {kept.height} calls with a non-null outcome instead."
            )
        y = kept["__target__"].cast(pl.Float64).to_numpy()
        if task == "classification" and np.unique(y).shape[0] < 2:
            raise ParameterError(
                f"The 'target' parameter of {caller()} must vary: {target_name!r} is "
                f"{bool(y[0])} for every one of the {kept.height:,} calls."
            )
        selection = _select(
            kept.drop("__target__"), target_name, roots, y, task, features, max_categories
        )
        x = _encode(kept, selection)
        times = kept[_TIME].dt.epoch("ns").to_numpy() if has_time else None
        strata = _strata(y, times, task)
        bar.update(1)

        bar.describe("explain: surrogate")
        fit_index = (
            _stratified(strata, max_rows, seed) if max_rows is not None else np.arange(y.shape[0])
        )
        n_fit = fit_index.shape[0]
        if holdout_by == "time":
            cut = round(n_fit * (1 - holdout))
            train, test = fit_index[:cut], fit_index[cut:]
        else:
            rng = np.random.default_rng(seed)
            shuffled = fit_index[rng.permutation(n_fit)]
            order = shuffled[np.argsort(strata[shuffled], kind="stable")]
            test = np.sort(order[:: max(round(1 / holdout), 2)])
            train = np.setdiff1d(fit_index, test)
        if train.shape[0] < 10 or test.shape[0] < 5:
            raise ParameterError(
                f"The 'holdout' parameter of {caller()} leaves {train.shape[0]} calls to fit and "
                f"{test.shape[0]} to score; explain needs at least 10 and 5."
            )
        probe = _fit(x[train], y[train], task, seed, trees)
        n_trees = int(probe.num_trees())
        fidelity = _score(probe, x[test], y[test], task)
        bar.update(1)
        model = _fit(x[fit_index], y[fit_index], task, seed, n_trees)
        bar.update(1)

        bar.describe("explain: SHAP")
        sample = (
            _stratified(strata, explain_rows, seed + 2)
            if explain_rows is not None
            else np.arange(y.shape[0])
        )
        shap = _contributions(model, x[sample])
        bar.update(1)
    p = len(selection.features)
    n_s, n_all = sample.shape[0], y.shape[0]
    magnitude = np.abs(shap[:, :p])
    fpc = math.sqrt(max(0.0, 1 - n_s / n_all)) if n_all > 1 else 0.0
    stderr = magnitude.std(axis=0, ddof=1) / math.sqrt(n_s) * fpc if n_s > 1 else np.zeros(p)
    mean_abs = magnitude.mean(axis=0)
    total = float(mean_abs.sum()) or 1.0
    importance = pl.DataFrame(
        {
            "feature": selection.features,
            "mean_abs_shap": mean_abs,
            "stderr": stderr,
            "mean_shap": shap[:, :p].mean(axis=0),
            "share": mean_abs / total,
        }
    ).sort("mean_abs_shap", descending=True, maintain_order=True)
    floor = FIDELITY_FLOORS[task] if fidelity_floor is None else float(fidelity_floor)
    metric = "roc_auc" if task == "classification" else "r2"
    keep_columns = [c for c in (_TIME, "trace_id", "span_id") if c in kept.columns] + [
        c for c in selection.features if c not in (_TIME, "trace_id", "span_id")
    ]
    result_data = kept.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        *keep_columns,
        pl.col("__target__").alias(target_name),
    )
    holdout_start = None
    if holdout_by == "time" and times is not None and test.shape[0]:
        holdout_start = kept[_TIME][int(test[0])]
    result = Explanation(
        target=target_name,
        task=task,
        fidelity=fidelity,
        fidelity_metric=metric,
        fidelity_floor=floor,
        importance=importance,
        excluded=pl.DataFrame(
            selection.excluded, schema={"feature": pl.String, "reason": pl.String}, orient="row"
        ),
        data=result_data,
        features=tuple(selection.features),
        categorical=dict(selection.categorical),
        rows=n_all,
        unlabelled_rows=unlabelled,
        train_rows=int(train.shape[0]),
        holdout_rows=int(test.shape[0]),
        holdout_start=holdout_start,
        explained_rows=int(n_s),
        trees=int(model.num_trees()),
        base_value=float(shap[:, -1].mean()),
        holdout_by=holdout_by,
        model=model,
        seed=seed,
        _x=x,
        _y=y,
        _sample=sample,
        _shap=shap,
    )
    if result.low_fidelity:
        shown = "unknown" if fidelity is None else f"{fidelity:.3f}"
        warnings.warn(
            LowFidelityWarning(
                f"The surrogate of {target_name!r} scores {metric} {shown} on the holdout of "
                f"{test.shape[0]:,} calls, below the floor {floor:g}: its explanation "
                "describes the model, which does not describe the service well."
            ),
            stacklevel=2,
        )
    return result


# --------------------------------------------------------------------------- windows and calls


@validate_params(events=Frame())
def ranked_incidents(
    events: Any,
    objective: Any,
    *,
    good: str = "is_good",
    time: str = "start_time",
    merge_gap: str = "2h",
    worst: str = "6h",
    name: str | None = None,
) -> pl.DataFrame:
    """The incident windows of an objective, the one holding the most bad events first.

    :func:`toolkit.slo.incident_windows` finds the windows (burn-rate pages merged, else
    tickets, else the worst period); each is then counted: the events it holds and how many
    were bad. The window to explain is usually the first row: the one that cost the most
    error budget (not the one with the highest peak burn rate, which a short burst wins).

    Parameters
    ----------
    events : polars.DataFrame or pandas.DataFrame
        One row per event with a Boolean ``good`` column (null: not counted) and a time
        column, e.g. what :func:`toolkit.slo.good_events` returns.
    objective : float or toolkit.slo.SLO
        The target (0.99) or the SLO.
    good, time : str
        Column names.
    merge_gap : str, default "2h"
        Alerts less than this apart are one window (sampled traces page in bursts).
    worst : str, default "6h"
        Width of the worst period when nothing fires.
    name : str, optional
        What the incidents are named after (default: the SLO's name).

    Returns
    -------
    polars.DataFrame
        ``incident``, ``start``, ``end`` (end exclusive), ``source``, ``burn_rate`` as
        :func:`toolkit.slo.incident_windows` gives them, then ``events``, ``bad_events``
        and ``bad_ratio`` of each window; the most bad events first. Empty when there is
        no event.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> minutes = [m / 4 for m in range(4 * 720)]  # a call every 15 s for 12 hours
    >>> calls = pl.DataFrame({                      # a third bad for 3 h, all for 10 min
    ...     "start_time": [t0 + timedelta(minutes=m) for m in minutes],
    ...     "is_good": [not ((120 <= m < 300 and i % 3 == 0) or 500 <= m < 510)
    ...                 for i, m in enumerate(minutes)],
    ... })
    >>> ranked = ranked_incidents(calls, 0.99)
    >>> ranked.select(pl.col("start", "end").dt.strftime("%H:%M"), "source", "bad_events").rows()
    [('02:26', '05:25', 'page', 205), ('08:22', '08:59', 'page', 32)]
    """
    from toolkit import slo
    from toolkit.schema import require_columns

    data: pl.DataFrame = events
    require_columns(data, [good, time], table="events", where="(ranked_incidents)")
    data = data.filter(pl.col(good).is_not_null())
    windows = slo.incident_windows(
        data, objective, merge_gap=merge_gap, worst=worst, time=time, good=good, name=name
    )
    counted = (
        slo.label_windows(data, windows, time=time, column="_window")
        .group_by("_window")
        .agg(
            pl.len().cast(pl.Int64).alias("events"),
            (~pl.col(good)).sum().cast(pl.Int64).alias("bad_events"),
        )
    )
    return (
        windows.join(counted, left_on="incident", right_on="_window", how="left")
        .with_columns(pl.col("events", "bad_events").fill_null(0))
        .with_columns(
            (pl.col("bad_events") / pl.when(pl.col("events") > 0).then(pl.col("events")))
            .cast(pl.Float64)
            .alias("bad_ratio")
        )
        .sort(["bad_events", "burn_rate"], descending=True, nulls_last=True)
    )


@validate_params(calls=Frame(), n=Interval(int, 1, None, closed="left"))
def worst_calls(
    result: Explanation,
    calls: Any,
    window: tuple[Any, Any],
    *,
    by: str = "ttft_s",
    n: int = 3,
) -> pl.DataFrame:
    """The calls of a window whose outcome is true, the largest ``by`` first.

    The calls to explain one by one (:meth:`Explanation.local`): in an incident window,
    those of the outcome (a breach) with the worst value of ``by`` (the TTFT itself, which
    the explanation may not use as a feature).

    Parameters
    ----------
    result : Explanation
        A yes/no explanation whose :attr:`Explanation.data` has ``span_id``.
    calls : polars.DataFrame or pandas.DataFrame
        The calls explained, with ``span_id`` and ``by``.
    window : (start, end)
        ISO-8601 times with their zone, or aware datetimes; end exclusive.
    by : str, default "ttft_s"
        Column of ``calls`` to rank by.
    n : int, default 3
        Calls returned at most.

    Returns
    -------
    polars.DataFrame
        ``row`` (for :meth:`Explanation.local`), ``span_id``, ``start_time`` and ``by``;
        empty when no call of the window has the outcome.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> rng = np.random.default_rng(0)
    >>> tokens = rng.integers(10, 8000, 1000)
    >>> calls = pl.DataFrame({"span_id": [f"{i:016x}" for i in range(1000)],
    ...                       "start_time": [t0 + timedelta(minutes=i) for i in range(1000)],
    ...                       "input_tokens": tokens, "ttft_s": tokens / 2000})
    >>> result = explain(calls, pl.col("ttft_s") > 2, holdout_by="random", progress=False)
    >>> worst = worst_calls(result, calls, (t0, t0 + timedelta(hours=5)), n=2)
    >>> worst["ttft_s"].to_list() == sorted(calls.head(300)["ttft_s"].to_list())[-2:][::-1]
    True
    """
    from toolkit.schema import require_columns

    data: pl.DataFrame = calls
    require_columns(data, ["span_id", by], table="calls", where="(worst_calls)")
    require_columns(
        result.data, ["span_id", "start_time"], table="explanation data", where="(worst_calls)"
    )
    if result.task != "classification":
        raise ParameterError(
            f"The 'result' parameter of {caller()} must explain a yes/no outcome. "
            f"Got a {result.task} of {result.target!r} instead."
        )
    start, end = _window(window, "window")
    inside = pl.col("start_time").is_between(start, end, closed="left")
    return (
        result.data.filter(inside & pl.col(result.target).cast(pl.Boolean))
        .select("row", "span_id", "start_time")
        .join(data.select("span_id", by).unique("span_id"), on="span_id", how="left")
        .sort(by, "row", descending=[True, False], nulls_last=True)
        .head(n)
    )


_OPPOSITE = {"lte": ">", "lt": ">=", "gte": "<", "gt": "<="}


@dataclass(frozen=True)
class BreachObjective:
    """A yes/no outcome to explain: a value on the wrong side of a threshold.

    Attributes
    ----------
    name : str
        The outcome's name (the target column of the explanation).
    sli : str
        The measured column (``ttft_s``, ``eval.groundedness``).
    threshold : float or None
        The threshold (None when no call carries the column).
    source : str
        Where the threshold comes from, in words ("given", "the calls' 95th percentile").
    slo : toolkit.slo.SLO or None
        The objective (good: the value within the threshold), for burn-rate windows.
    events : polars.DataFrame
        The calls with ``is_good`` (null where the value is null or the call failed).
    rows : int
        Calls with the value.
    breaches : int
        Calls on the wrong side of the threshold.
    min_rows : int
        The fewest calls with the value an explanation needs.
    how : str
        How to get the column when no call carries it.
    """

    name: str
    sli: str
    threshold: float | None
    source: str
    slo: Any
    events: pl.DataFrame
    rows: int
    breaches: int
    min_rows: int
    how: str = ""

    @property
    def target(self) -> pl.Expr:
        """The outcome as an expression for :func:`explain` (True: a breach)."""
        if self.slo is None:
            raise ParameterError(
                f"BreachObjective.target needs a threshold; no call carries {self.sli!r} "
                "(check BreachObjective.support first)."
            )
        value = pl.col(self.sli)
        breach = {
            "lte": value > self.threshold,
            "lt": value >= self.threshold,
            "gte": value < self.threshold,
            "gt": value <= self.threshold,
        }[self.slo.op]
        return breach.alias(self.name)

    @property
    def support(self) -> Any:
        """A :class:`toolkit.Support`: enough calls with the value, some of them breaches."""
        from toolkit.ingest.discover import Support

        needs = f"at least {self.min_rows} calls with {self.sli}, some of them breaches"
        if self.threshold is None:
            return Support(self.name, needs, f"no call with {self.sli}", (self.sli,), self.how)
        op = _OPPOSITE[self.slo.op]
        found = (
            f"{self.rows:,} calls with {self.sli}, {self.breaches:,} with {self.sli} {op} "
            f"{self.threshold:.4g} ({self.source})"
        )
        missing = []
        if self.rows < self.min_rows:
            missing.append(f"at least {self.min_rows} calls with {self.sli}")
        if self.breaches == 0:
            missing.append("a call that breaches: nothing to explain")
        elif self.breaches == self.rows:
            missing.append("a call that does not breach: nothing to tell breaches from")
        how = "" if not missing else "lower the threshold, or widen the time range"
        return Support(self.name, needs, found, tuple(missing), how)


@validate_params(
    calls=Frame(),
    op=OneOf("lte", "lt", "gte", "gt"),
    quantile=Interval(float, 0, 1, closed="neither"),
    threshold=[Interval(float, None, None), None],
    min_rows=Interval(int, 1, None, closed="left"),
)
def breach_objective(
    calls: Any,
    sli: str,
    *,
    threshold: float | None = None,
    quantile: float = 0.95,
    op: Literal["lte", "lt", "gte", "gt"] = "lte",
    target: float = 0.99,
    name: str | None = None,
    min_rows: int = 200,
    how: str = "",
) -> BreachObjective:
    """The breaches of a threshold as an outcome to explain, and the objective they break.

    Parameters
    ----------
    calls : polars.DataFrame or pandas.DataFrame
        ``llm_calls``.
    sli : str
        The measured column (``"ttft_s"``; ``"eval.groundedness"`` with ``op="gte"``).
        A frame without it gives an objective whose support is not met.
    threshold : float, optional
        Good calls have ``sli`` ``op`` ``threshold``; None: the ``quantile`` of the
        calls' values (their 95th percentile: the slowest 5 % breach).
    quantile : float, default 0.95
        Used when ``threshold`` is None.
    op : {"lte", "lt", "gte", "gt"}, default "lte"
        How a good value compares with the threshold.
    target : float, default 0.99
        The objective's target, for its burn-rate windows.
    name : str, optional
        The outcome's name; default ``"<sli>_breach"``.
    min_rows : int, default 200
        The fewest calls with a value for the support to be met.
    how : str, optional
        How to get ``sli`` when the calls lack it, for the support's explanation.

    Returns
    -------
    BreachObjective

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"ttft_s": [float(i) for i in range(1, 401)]})
    >>> breach = breach_objective(calls, "ttft_s")
    >>> breach.threshold, breach.breaches, breach.support.ok
    (380.0, 20, True)
    >>> calls.filter(breach.target).height
    20
    >>> breach_objective(calls, "ttft_s", threshold=500.0).support.missing
    ('a call that breaches: nothing to explain',)
    """
    from toolkit import slo as _slo

    function = caller() or "explain.breach_objective"
    data: pl.DataFrame = calls
    if not isinstance(sli, str) or not sli:
        raise ParameterError(
            f"The 'sli' parameter of {function} must be a column name. Got {preview(sli)} instead."
        )
    label = name or f"{sli.removeprefix('eval.')}_breach"
    present = (
        sli in data.columns and data.schema[sli].is_numeric() and data[sli].is_not_null().any()
    )
    if not present:
        return BreachObjective(label, sli, None, "", None, data, 0, 0, min_rows, how)
    if threshold is None:
        value = data[sli].drop_nans().quantile(quantile, interpolation="nearest")
        threshold = float(value)  # type: ignore[arg-type]
        source = f"the calls' {quantile * 100:g}th percentile"
    else:
        threshold, source = float(threshold), "given"
    objective = _slo.SLO(label, target, sli=sli, threshold=threshold, op=op)
    events = _slo.good_events(data, objective)
    rows = int(events["is_good"].is_not_null().sum())
    breaches = int((~events["is_good"]).sum())
    return BreachObjective(
        label, sli, threshold, source, objective, events, rows, breaches, min_rows, how
    )
