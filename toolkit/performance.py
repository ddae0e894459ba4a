"""Prediction quality of a scoring model over time, from its logged predictions and labels.

A fraud, abuse or triage model logs one row per prediction: when it was made, its score,
and, days later for fraud (a chargeback, an investigation), the label. This module follows
that model's quality window by window:

- :func:`windowed`: precision, recall, false-positive rate, F1, ROC AUC, PR AUC (average
  precision), expected calibration error, the alert volume at the operating threshold and
  the cost of its mistakes, each with a confidence interval, on the labels known at a point
  in time (``as_of``), with the share of labels known (``label_coverage``) so that a window
  is not judged before its labels arrived.
- :func:`reliability`: the reliability curve (mean score against the fraud rate per bin).
- :func:`estimate`: the same metrics *without labels*, by confidence-based performance
  estimation (CBPE, as NannyML does): the scores are calibrated on a labelled reference
  period, and each window's expected confusion matrix is read from the calibrated
  probabilities, with NannyML's sampling-error bounds.
- :func:`thresholds` and :func:`threshold_for_fpr`: precision, recall and cost across
  thresholds, and the threshold that would have met a target false-positive rate.
- :func:`fit_scores`: for a labelled log without the model's scores (a public dataset, a
  rule-based system), a baseline model fitted on the earlier part scores every row.
- :func:`plan`: what a monitoring run of a log uses, chosen from the data (window width,
  threshold, labelled reference period, baseline scores when the log has none).
- :func:`drift`: drift of the features and of the score (:func:`toolkit.drift.windowed`),
  and :func:`degradations`: the windows where a metric changed level for the worse
  (:func:`toolkit.drift.change_points`), for the incident review.

Conventions: a row is an alert (predicted positive) when ``score >= threshold``; labels are
booleans or the integers 0 and 1 (1 = positive, e.g. fraud); a null label is a label not
known yet. Windows are aligned on the epoch (``polars.Expr.dt.truncate``). Every function
accepts polars and pandas frames and returns a polars frame (``backend="pandas"`` for a
pandas one).

Examples
--------
>>> import datetime as dt
>>> import polars as pl
>>> from toolkit import performance
>>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
>>> log = pl.DataFrame({
...     "time": [t0 + dt.timedelta(hours=6 * i) for i in range(8)],
...     "score": [0.9, 0.2, 0.8, 0.1, 0.7, 0.6, 0.3, 0.4],
...     "fraud": [1, 0, 1, 0, 1, 0, 0, None]})
>>> out = performance.windowed(log, "score", "fraud", min_coverage=0.5)
>>> out.select("window_start", "n", "label_coverage", "precision", "recall").rows()
... # doctest: +NORMALIZE_WHITESPACE
[(datetime.datetime(2026, 11, 2, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 4, 1.0, 1.0, 1.0),
 (datetime.datetime(2026, 11, 3, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 4, 0.75, 0.5, 1.0)]
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Column,
    Duration,
    Frame,
    Interval,
    OneOf,
    frame_out,
    polars_duration,
    reject,
    utc_time,
    validate_params,
)
from toolkit.errors import ColumnNotFoundError, SchemaError, preview

__all__ = [
    "CBPE_SIGMAS",
    "Calibration",
    "MonitoringPlan",
    "degradations",
    "drift",
    "estimate",
    "fit_scores",
    "plan",
    "reliability",
    "threshold_for_fpr",
    "thresholds",
    "windowed",
]

#: NannyML's width of a CBPE band: the estimate plus or minus this many sampling errors.
CBPE_SIGMAS = 3.0

_METRICS = ("precision", "recall", "false_positive_rate", "f1", "roc_auc", "pr_auc", "ece", "cost")


# --------------------------------------------------------------------------- checks


#: The declared constraints the public functions share (their words as the messages had).
_NUMBER = Interval(float, None, None)
_SHARE = Interval(float, 0, 1)
_CONFIDENCE = Interval(float, 0.5, 1, closed="left")
_COST = Interval(float, 0, None, description="a number >= 0")
_EVERY = Duration(description="a positive duration such as '1h' or '1d'")


def _count(low: int) -> Interval:
    return Interval(int, low, None, description=f"an integer >= {low}")


def _moment(value: object, name: str) -> dt.datetime:
    return utc_time(value, parameter=name)


def _time_column(data: pl.DataFrame, name: str, parameter: str, function: str) -> None:
    if name not in data.columns:
        where = f"(the {parameter!r} parameter of {function})"
        raise ColumnNotFoundError(name, "frame", data.columns, where=where)
    dtype = data.schema[name]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise SchemaError(
            f"Column {name!r} given to {function} as {parameter!r} is {dtype}; expected a "
            "time-zone-aware Datetime (e.g. Datetime('ns', 'UTC'))."
        )


def _by(by: str | Sequence[str] | None) -> list[str]:
    """The slice columns (checked by the ``by`` constraint)."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _prepare(
    frame: pl.DataFrame,
    score: str,
    label: str | None,
    *,
    time: str,
    label_time: str | None,
    as_of: Any,
    function: str,
    extra: Sequence[str] = (),
) -> pl.DataFrame:
    """The rows as ``_t`` (time), ``_s`` (score), ``_y`` (label known at as_of, else null)."""
    data = frame
    _time_column(data, time, "time", function)
    if not data.schema[score].is_numeric():
        raise SchemaError(
            f"Column {score!r} given to {function} as the score is {data.schema[score]}; "
            "expected a numeric column."
        )
    scores = data[score].cast(pl.Float64)
    bad = scores.is_null() | scores.is_nan() | scores.is_infinite()
    if bad.any():
        first = int(bad.arg_true()[0])
        raise SchemaError(
            f"Column {score!r} given to {function} has {int(bad.sum()):,} null, NaN or "
            f"infinite score(s), the first in row {first}; every prediction needs a score."
        )
    if data[time].null_count():
        first = int(data[time].is_null().arg_true()[0])
        raise SchemaError(
            f"Column {time!r} given to {function} has {data[time].null_count():,} null "
            f"time(s), the first in row {first}; every prediction needs a time."
        )
    out = data.select(
        pl.col(time).dt.convert_time_zone("UTC").dt.cast_time_unit("ns").alias("_t"), *extra
    ).with_columns(scores.alias("_s"))
    if label is None:
        return out.with_columns(pl.lit(None, dtype=pl.Int8).alias("_y"))
    out = out.with_columns(_labels(data, label, function).alias("_y"))
    if label_time is not None:
        _time_column(data, label_time, "label_time", function)
        if as_of is None:
            raise reject("as_of", "be an aware datetime when 'label_time' is given", as_of)
    if as_of is not None:
        moment = _moment(as_of, "as_of")
        if label_time is None:
            raise reject(
                "label_time",
                "be a column of the times the labels became known when 'as_of' is given",
                label_time,
            )
        times = data[label_time].dt.convert_time_zone("UTC")
        known_series = (times <= pl.lit(moment, dtype=times.dtype)).fill_null(False)
        out = out.with_columns(pl.when(known_series).then(pl.col("_y")).otherwise(None).alias("_y"))
    return out


def _labels(data: pl.DataFrame, label: str, function: str) -> pl.Series:
    series = data[label]
    dtype = series.dtype
    if dtype == pl.Boolean:
        return series.cast(pl.Int8)
    if dtype.is_numeric():
        values = series.cast(pl.Float64)
        values = pl.Series(values.to_numpy(), dtype=pl.Float64).fill_nan(None)
        bad = values.is_not_null() & ~values.is_in([0.0, 1.0])
        if bad.any():
            first = int(bad.arg_true()[0])
            raise SchemaError(
                f"Column {label!r} given to {function} as the label has {int(bad.sum()):,} "
                f"value(s) other than 0 and 1, the first {preview(series[first])} in row "
                f"{first}; expected 1 (positive), 0 (negative) or null (not known yet)."
            )
        return values.cast(pl.Int8)
    raise SchemaError(
        f"Column {label!r} given to {function} as the label is {dtype}; expected booleans "
        "or the integers 0 and 1 (null: not known yet)."
    )


# --------------------------------------------------------------------------- metrics


def _wilson(k: float, n: float, z: float) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion k/n."""
    if n <= 0:
        return None, None
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _roc_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    """ROC AUC as the Mann-Whitney statistic with mid-ranks (ties count one half)."""
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def _hanley(auc: float, n1: int, n0: int, z: float) -> tuple[float, float]:
    """Hanley-McNeil (1982) interval of an AUC."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n0 - 1) * (q2 - auc * auc)) / (n1 * n0)
    half = z * math.sqrt(max(var, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def _average_precision(y: np.ndarray, s: np.ndarray) -> float | None:
    """Average precision as scikit-learn computes it (steps at each distinct score)."""
    n1 = int(y.sum())
    if n1 == 0:
        return None
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(s_sorted))[0], y.size - 1]
    tps = np.cumsum(y_sorted)[last]
    fps = last + 1 - tps
    precision = tps / (tps + fps)
    recall = tps / n1
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _bin_ids(s: np.ndarray, bins: int) -> np.ndarray:
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.searchsorted(edges[1:-1], s)


def _ece(y: np.ndarray, s: np.ndarray, bins: int) -> float | None:
    """Expected calibration error over ``bins`` equal-width bins of [0, 1]."""
    if y.size == 0 or s.min() < 0.0 or s.max() > 1.0:
        return None
    ids = _bin_ids(s, bins)
    total = np.bincount(ids, minlength=bins)
    gap = np.abs(
        np.bincount(ids, weights=y, minlength=bins) - np.bincount(ids, weights=s, minlength=bins)
    )
    return float(gap.sum() / y.size) if total.sum() else None


def _confusion(y: np.ndarray, pred: np.ndarray) -> tuple[int, int, int, int]:
    tp = int(np.sum((y == 1) & pred))
    fp = int(np.sum((y == 0) & pred))
    fn = int(np.sum((y == 1) & ~pred))
    tn = int(np.sum((y == 0) & ~pred))
    return tp, fp, fn, tn


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _f1(tp: float, fp: float, fn: float) -> float | None:
    return _ratio(2.0 * tp, 2.0 * tp + fp + fn)


def _bootstrap(
    y: np.ndarray,
    s: np.ndarray,
    threshold: float,
    bins: int,
    costs: tuple[float, float],
    n_boot: int,
    rng: np.random.Generator,
    alpha: float,
) -> dict[str, tuple[float | None, float | None]]:
    """Percentile bootstrap intervals of F1, PR AUC, ECE and cost (labelled rows resampled)."""
    names = ("f1", "pr_auc", "ece", "cost")
    if n_boot == 0 or y.size == 0:
        return dict.fromkeys(names, (None, None))
    values: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(n_boot):
        idx = rng.integers(0, y.size, y.size)
        yb, sb = y[idx], s[idx]
        tp, fp, fn, _tn = _confusion(yb, sb >= threshold)
        for name, value in (
            ("f1", _f1(tp, fp, fn)),
            ("pr_auc", _average_precision(yb, sb)),
            ("ece", _ece(yb, sb, bins)),
            ("cost", fp * costs[0] + fn * costs[1]),
        ):
            if value is not None:
                values[name].append(value)
    out: dict[str, tuple[float | None, float | None]] = {}
    for name in names:
        sample = values[name]
        if len(sample) < max(10, n_boot // 2):
            out[name] = (None, None)
        else:
            lo, hi = np.quantile(sample, [alpha / 2, 1 - alpha / 2])
            out[name] = (float(lo), float(hi))
    return out


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def _windows(
    data: pl.DataFrame, every: str, by: list[str]
) -> list[tuple[tuple[Any, ...], pl.DataFrame]]:
    keyed = data.with_columns(pl.col("_t").dt.truncate(every).alias("window_start"))
    keys = ["window_start", *by]
    groups = keyed.sort(keys, maintain_order=True).partition_by(
        keys, as_dict=True, maintain_order=True
    )
    return sorted(groups.items(), key=lambda kv: tuple((v is None, v) for v in kv[0]))


@validate_params(
    frame=Frame(),
    score=Column("frame"),
    label=Column("frame"),
    time=Column("frame"),
    every=_EVERY,
    threshold=_NUMBER,
    by=[Column("frame", many=True), None],
    label_time=[Column("frame"), None],
    min_coverage=_SHARE,
    min_labelled=_count(1),
    bins=_count(1),
    cost_false_positive=_COST,
    cost_false_negative=_COST,
    confidence=_CONFIDENCE,
    n_boot=_count(0),
    seed=_count(0),
    backend=BACKEND,
)
def windowed(
    frame: Any,
    score: str,
    label: str,
    *,
    time: str = "time",
    every: str = "1d",
    threshold: float = 0.5,
    by: str | Sequence[str] | None = None,
    label_time: str | None = None,
    as_of: Any = None,
    min_coverage: float = 0.9,
    min_labelled: int = 1,
    bins: int = 10,
    cost_false_positive: float = 1.0,
    cost_false_negative: float = 10.0,
    confidence: float = 0.95,
    n_boot: int = 200,
    seed: int = 0,
    backend: Backend = "polars",
) -> Any:
    """Prediction quality per time window (and slice), on the labels known at ``as_of``.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        One row per prediction: a time, a score, a label (null: not known yet).
    score : str
        The model's score column (higher = more likely positive).
    label : str
        The label column: booleans or 0/1 (1 = positive, e.g. fraud); null = unknown.
    time : str, default "time"
        When the prediction was made (time-zone-aware Datetime).
    every : str, default "1d"
        Window width (``"1h"``, ``"1d"``, ``"7d"`` ...), aligned on the epoch.
    threshold : float, default 0.5
        The operating threshold: a row is an alert when ``score >= threshold``.
    by : str or list of str, optional
        Slice columns (model version, merchant category ...): one row per window and slice.
    label_time : str, optional
        When each label became known (Datetime); requires ``as_of``.
    as_of : datetime or ISO-8601 str with a zone, optional
        Use only the labels known at this time (``label_time <= as_of``); requires
        ``label_time``. Without both, every non-null label is used.
    min_coverage : float, default 0.9
        Below this share of known labels a window's metrics are null, with the reason in
        ``reason``: judging a window on its first labels biases it (frauds are often
        confirmed at a different pace than genuine transactions).
    min_labelled : int, default 1
        The fewest labelled rows a window needs for its metrics.
    bins : int, default 10
        Equal-width bins of [0, 1] for the expected calibration error.
    cost_false_positive, cost_false_negative : float, default 1.0 and 10.0
        Cost of one false alert (an analyst's review, a blocked customer) and of one missed
        positive (a fraud paid out); ``cost`` is their sum over the window's labelled rows.
    confidence : float, default 0.95
        Level of the intervals.
    n_boot : int, default 200
        Bootstrap resamples for the intervals of ``f1``, ``pr_auc``, ``ece`` and ``cost``
        (0: no such intervals).
    seed : int, default 0
        Seed of the bootstrap.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per window (and slice), in time order: ``window_start``, the ``by``
        columns, ``n`` (predictions), ``labelled`` (labels known), ``label_coverage``
        (``labelled / n``), ``positives`` (known positives), ``alerts`` (rows with
        ``score >= threshold``, labelled or not) and ``alert_rate``, ``tp``, ``fp``,
        ``fn``, ``tn`` (labelled rows), then ``precision``, ``recall``,
        ``false_positive_rate``, ``f1``, ``roc_auc``, ``pr_auc`` (average precision, as
        ``sklearn.metrics.average_precision_score``), ``ece`` (expected calibration error:
        ``sum_b n_b / n * |fraud rate_b - mean score_b|`` over the bins; null when a score
        lies outside [0, 1]) and ``cost``, each with ``<metric>_lower`` and
        ``<metric>_upper``, then ``reason`` (why the metrics are null, else null).
        Intervals: Wilson score intervals for precision, recall and the false-positive
        rate (and ``alert_rate``); Hanley-McNeil (1982) for ROC AUC; percentile bootstrap
        (``n_boot`` resamples of the labelled rows, seeded) for F1, PR AUC, ECE and cost.

    Raises
    ------
    ParameterError
        If a parameter is not valid or names no column of the frame.
    SchemaError
        If the time column is not time-zone aware, the score not numeric or missing,
        or the label not 0/1.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> log = pl.DataFrame({"time": [t0 + dt.timedelta(hours=i) for i in range(6)],
    ...                     "score": [0.9, 0.8, 0.3, 0.6, 0.2, 0.1],
    ...                     "fraud": [True, False, False, True, False, False]})
    >>> row = windowed(log, "score", "fraud").row(0, named=True)
    >>> row["precision"], row["recall"], row["false_positive_rate"], row["roc_auc"]
    (0.6666666666666666, 1.0, 0.25, 0.875)
    """
    function = "performance.windowed"
    every = polars_duration(every)
    costs = (float(cost_false_positive), float(cost_false_negative))
    slices = _by(by)
    data = _prepare(
        frame,
        score,
        label,
        time=time,
        label_time=label_time,
        as_of=as_of,
        function=function,
        extra=slices,
    )
    z = _z(confidence)
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for key, group in _windows(data, every, slices):
        s_all = group["_s"].to_numpy()
        known = group.filter(pl.col("_y").is_not_null())
        y = known["_y"].to_numpy().astype(np.int64)
        s = known["_s"].to_numpy().astype(np.float64)
        n, labelled = group.height, known.height
        alerts = int(np.sum(s_all >= threshold))
        row: dict[str, Any] = {"window_start": key[0]}
        row.update(dict(zip(slices, key[1:], strict=True)))
        coverage = labelled / n
        alert_lo, alert_hi = _wilson(alerts, n, z)
        row.update(
            n=n,
            labelled=labelled,
            label_coverage=coverage,
            positives=int(y.sum()),
            alerts=alerts,
            alert_rate=alerts / n,
            alert_rate_lower=alert_lo,
            alert_rate_upper=alert_hi,
        )
        tp, fp, fn, tn = _confusion(y, s >= threshold)
        row.update(tp=tp, fp=fp, fn=fn, tn=tn)
        reason = None
        if labelled < min_labelled:
            reason = f"{labelled:,} labelled row(s), fewer than min_labelled={min_labelled}"
        elif coverage < min_coverage:
            reason = (
                f"label coverage {coverage:.1%} is below min_coverage={min_coverage:.0%}: "
                "labels still arriving"
            )
        metrics: dict[str, Any] = {}
        if reason is None:
            metrics["precision"] = (_ratio(tp, tp + fp), *_wilson(tp, tp + fp, z))
            metrics["recall"] = (_ratio(tp, tp + fn), *_wilson(tp, tp + fn, z))
            metrics["false_positive_rate"] = (_ratio(fp, fp + tn), *_wilson(fp, fp + tn, z))
            boot = _bootstrap(y, s, threshold, bins, costs, n_boot, rng, 1 - confidence)
            metrics["f1"] = (_f1(tp, fp, fn), *boot["f1"])
            auc = _roc_auc(y, s)
            n1 = int(y.sum())
            metrics["roc_auc"] = (
                (auc, *_hanley(auc, n1, labelled - n1, z)) if auc is not None else (None,) * 3
            )
            metrics["pr_auc"] = (_average_precision(y, s), *boot["pr_auc"])
            metrics["ece"] = (_ece(y, s, bins), *boot["ece"])
            metrics["cost"] = (fp * costs[0] + fn * costs[1], *boot["cost"])
            if int(y.sum()) == 0:
                reason = "no positive labelled in the window: recall and AUCs undefined"
        for name in _METRICS:
            value, lo, hi = metrics.get(name, (None, None, None))
            if value is None:
                lo = hi = None
            row[name], row[f"{name}_lower"], row[f"{name}_upper"] = value, lo, hi
        row["reason"] = reason
        rows.append(row)
    schema: dict[str, Any] = {"window_start": pl.Datetime("us", "UTC")}
    if data.height:
        schema["window_start"] = data.schema["_t"]
    for name in slices:
        schema[name] = frame.schema[name]
    schema.update(
        n=pl.Int64,
        labelled=pl.Int64,
        label_coverage=pl.Float64,
        positives=pl.Int64,
        alerts=pl.Int64,
        alert_rate=pl.Float64,
        alert_rate_lower=pl.Float64,
        alert_rate_upper=pl.Float64,
        tp=pl.Int64,
        fp=pl.Int64,
        fn=pl.Int64,
        tn=pl.Int64,
    )
    for name in _METRICS:
        for suffix in ("", "_lower", "_upper"):
            schema[name + suffix] = pl.Float64
    schema["reason"] = pl.String
    return frame_out(pl.DataFrame(rows, schema=schema), backend)


# --------------------------------------------------------------------------- reliability


@validate_params(
    frame=Frame(),
    score=Column("frame"),
    label=Column("frame"),
    time=Column("frame"),
    bins=_count(1),
    strategy=OneOf("uniform", "quantile"),
    by=[Column("frame", many=True), None],
    label_time=[Column("frame"), None],
    confidence=_CONFIDENCE,
    backend=BACKEND,
)
def reliability(
    frame: Any,
    score: str,
    label: str,
    *,
    time: str = "time",
    bins: int = 10,
    strategy: Literal["uniform", "quantile"] = "uniform",
    by: str | Sequence[str] | None = None,
    label_time: str | None = None,
    as_of: Any = None,
    confidence: float = 0.95,
    backend: Backend = "polars",
) -> Any:
    """The reliability curve: mean score against the observed positive rate, per score bin.

    Bins as ``sklearn.calibration.calibration_curve``: ``"uniform"`` cuts [0, 1] into
    ``bins`` equal widths, ``"quantile"`` at the scores' quantiles; a score equal to an
    inner edge falls in the lower bin. Only labelled rows (known at ``as_of``) count;
    empty bins are left out. A calibrated model's points lie on the diagonal.

    Parameters
    ----------
    frame, score, label, time, by, label_time, as_of, confidence, backend
        As in :func:`windowed`.
    bins : int, default 10
    strategy : {"uniform", "quantile"}, default "uniform"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per non-empty bin (and slice): the ``by`` columns, ``bin`` (0-based),
        ``bin_lower``, ``bin_upper`` (edges), ``n``, ``mean_score``, ``positive_rate``,
        ``positive_rate_lower``, ``positive_rate_upper`` (Wilson interval).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> log = pl.DataFrame({"time": [t0] * 4, "score": [0.1, 0.2, 0.8, 0.9],
    ...                     "fraud": [0, 0, 1, 0]})
    >>> reliability(log, "score", "fraud", bins=2).select("bin", "n", "positive_rate").rows()
    [(0, 2, 0.0), (1, 2, 0.5)]
    """
    function = "performance.reliability"
    slices = _by(by)
    data = _prepare(
        frame,
        score,
        label,
        time=time,
        label_time=label_time,
        as_of=as_of,
        function=function,
        extra=slices,
    ).filter(pl.col("_y").is_not_null())
    z = _z(confidence)
    rows: list[dict[str, Any]] = []
    groups = (
        sorted(data.partition_by(slices, as_dict=True).items(), key=lambda kv: str(kv[0]))
        if slices
        else [((), data)]
    )
    for key, group in groups:
        s = group["_s"].to_numpy().astype(np.float64)
        y = group["_y"].to_numpy().astype(np.float64)
        if s.size == 0:
            continue
        if strategy == "uniform":
            if s.min() < 0.0 or s.max() > 1.0:
                raise SchemaError(
                    f"Column {score!r} given to {function} has scores outside [0, 1]; "
                    "the 'uniform' strategy bins probabilities (use strategy='quantile')."
                )
            edges = np.linspace(0.0, 1.0, bins + 1)
        else:
            edges = np.percentile(s, np.linspace(0, 1, bins + 1) * 100)
        ids = np.searchsorted(edges[1:-1], s)
        total = np.bincount(ids, minlength=bins)
        sums = np.bincount(ids, weights=s, minlength=bins)
        positives = np.bincount(ids, weights=y, minlength=bins)
        for b in np.nonzero(total)[0]:
            lo, hi = _wilson(float(positives[b]), float(total[b]), z)
            row = dict(zip(slices, key, strict=True))
            row.update(
                bin=int(b),
                bin_lower=float(edges[b]),
                bin_upper=float(edges[b + 1]),
                n=int(total[b]),
                mean_score=float(sums[b] / total[b]),
                positive_rate=float(positives[b] / total[b]),
                positive_rate_lower=lo,
                positive_rate_upper=hi,
            )
            rows.append(row)
    schema: dict[str, Any] = {name: frame.schema[name] for name in slices}
    schema.update(
        bin=pl.Int64,
        bin_lower=pl.Float64,
        bin_upper=pl.Float64,
        n=pl.Int64,
        mean_score=pl.Float64,
        positive_rate=pl.Float64,
        positive_rate_lower=pl.Float64,
        positive_rate_upper=pl.Float64,
    )
    return frame_out(pl.DataFrame(rows, schema=schema), backend)


# --------------------------------------------------------------------------- CBPE


@dataclass(frozen=True)
class Calibration:
    """How :func:`estimate` calibrated the scores on its reference period.

    Attributes
    ----------
    start, end : datetime
        The reference period (end exclusive).
    rows : int
        Labelled reference rows.
    calibrated : bool
        Whether an isotonic calibration was applied (NannyML's rule: only when it lowers
        the cross-validated expected calibration error).
    """

    start: dt.datetime
    end: dt.datetime
    rows: int
    calibrated: bool


def _nannyml_ece(y: np.ndarray, p: np.ndarray, bin_count: int = 10) -> float:
    """NannyML's ECE: equal-count bins of the sorted scores."""
    n = p.size
    if n <= 2 * bin_count:
        bin_count = n // 2
    width = n // bin_count
    edges = np.asarray(range(0, n + 1, width))
    edges[-1] = n
    order = p.argsort()
    p, y = p[order], y[order]
    terms = [
        (right - left) / n * abs(np.mean(p[left:right]) - np.mean(y[left:right]))
        for left, right in itertools.pairwise(edges)
    ]
    return float(np.sum(terms))


def _needs_calibration(y: np.ndarray, p: np.ndarray) -> bool:
    """NannyML's ``needs_calibration``: isotonic calibration lowers the cross-validated ECE."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedShuffleSplit

    if np.unique(y).size == 1 or roc_auc_score(y, p) > 0.999:
        return False
    if y.size < 40:
        return False
    split = StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=42)
    truth, raw, calibrated = [], [], []
    for train, test in split.split(p, y):
        model = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(p[train], y[train])
        truth.append(y[test])
        raw.append(p[test])
        calibrated.append(model.predict(p[test]))
    t, r, c = np.concatenate(truth), np.concatenate(raw), np.concatenate(calibrated)
    return _nannyml_ece(t, r) > _nannyml_ece(t, c)


def _std_components(
    y: np.ndarray, pred: np.ndarray, s: np.ndarray
) -> dict[str, tuple[float, float]]:
    """NannyML's sampling-error components (standard deviation, fraction) on the reference."""
    n = y.size
    tp = (y == 1) & pred
    fp = (y == 0) & pred
    fn = (y == 1) & ~pred
    tn = (y == 0) & ~pred

    def component(ones: np.ndarray, zeros: np.ndarray, fraction: float) -> tuple[float, float]:
        obs = np.r_[np.ones(int(ones.sum())), np.zeros(int(zeros.sum()))]
        return (float(np.std(obs)) if obs.size else math.nan), fraction

    out = {
        "precision": component(tp, fp, float(pred.sum()) / n),
        "recall": component(tp, fn, float(y.sum()) / n),
        "false_positive_rate": component(tn, fp, float((tn | fp).sum()) / n),
    }
    relevant = int((tp | fp | fn).sum())
    if relevant:
        factor = relevant / ((fn.sum() + fp.sum()) * 0.5 + tp.sum())
        obs = np.r_[np.ones(int(tp.sum())), np.zeros(int(fn.sum() + fp.sum()))] * factor
        out["f1"] = (float(np.std(obs)), relevant / n)
    else:
        out["f1"] = (math.nan, 0.0)
    yy, ss = y.astype(np.float64), s.copy()
    if yy.mean() > 0.5:
        yy, ss = 1 - yy, 1 - ss
    order = np.argsort(ss)
    yy = yy[order]
    positive_ranks = yy * np.arange(yy.size)
    indexes = np.unique(positive_ranks)[1:]
    ser = indexes - np.arange(indexes.size)
    n_pos = yy.sum()
    out["roc_auc"] = (float(np.std(ser / (yy.size - n_pos))), float(n_pos / yy.size))
    return out


def _cbpe_roc_auc(calibrated: np.ndarray, raw: np.ndarray) -> float | None:
    """NannyML's ``estimate_roc_auc``: the expected ROC curve from calibrated probabilities."""
    from sklearn.metrics import auc

    order = np.argsort(raw)[::-1]
    p = calibrated[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        tps = np.asarray(np.round(np.r_[0, np.cumsum(p)], 5))
        fps = np.asarray(np.round(np.r_[0, 1 + np.arange(p.size) - np.cumsum(p)], 5))
        if tps[-1] == 0 or fps[-1] == 0:
            return None
        return float(auc(fps / fps[-1], tps / tps[-1]))


def _reference_rows(
    data: pl.DataFrame, reference: Any, function: str
) -> tuple[pl.DataFrame, dt.datetime, dt.datetime]:
    if reference is None:
        first, last = data["_t"].min(), data["_t"].max()
        assert isinstance(first, dt.datetime)
        assert isinstance(last, dt.datetime)
        start, end = first, first + (last - first) / 4
    else:
        if not isinstance(reference, tuple | list) or len(reference) != 2:
            raise reject("reference", "be a (start, end) pair of aware datetimes", reference)
        start = _moment(reference[0], "reference")
        end = _moment(reference[1], "reference")
        if end <= start:
            raise reject("reference", "be a (start, end) pair with start < end", reference)
    dtype = data.schema["_t"]
    rows = data.filter(
        (pl.col("_t") >= pl.lit(start, dtype=dtype))
        & (pl.col("_t") < pl.lit(end, dtype=dtype))
        & pl.col("_y").is_not_null()
    )
    return rows, start, end


@validate_params(
    frame=Frame(),
    score=Column("frame"),
    label=Column("frame"),
    time=Column("frame"),
    every=_EVERY,
    threshold=_NUMBER,
    by=[Column("frame", many=True), None],
    label_time=[Column("frame"), None],
    calibration=OneOf("auto", "isotonic", "none", description="'auto', 'isotonic' or 'none'"),
    min_reference=_count(2),
    backend=BACKEND,
)
def estimate(
    frame: Any,
    score: str,
    *,
    label: str = "label",
    time: str = "time",
    every: str = "1d",
    threshold: float = 0.5,
    reference: tuple[Any, Any] | None = None,
    by: str | Sequence[str] | None = None,
    label_time: str | None = None,
    as_of: Any = None,
    calibration: Literal["auto", "isotonic", "none"] = "auto",
    min_reference: int = 100,
    backend: Backend = "polars",
) -> Any:
    """Label-free performance per window: confidence-based performance estimation (CBPE).

    NannyML's method (0.13): an isotonic regression of the labels on the scores of a
    labelled reference period turns scores into probabilities ``p``; a window's expected
    confusion matrix is then ``TP = sum(p * alert)``, ``FP = sum((1 - p) * alert)``,
    ``FN = sum(p * (1 - alert))``, ``TN = sum((1 - p) * (1 - alert))`` with
    ``alert = score >= threshold``, and the expected ROC curve accumulates ``p`` along the
    scores. The estimate holds as long as the relation between score and outcome does not
    change (covariate shift only); a new fraud pattern the model scores low (concept
    drift) is not seen by it, which is why the realised metrics of :func:`windowed` are
    compared once labels arrive.

    Bounds: NannyML's sampling error, from the reference: the standard deviation of the
    per-row contributions divided by ``sqrt(n * fraction)`` (``n`` the window's rows,
    ``fraction`` the reference share of rows the metric counts), and the band
    ``estimate +- 3 sampling errors`` (:data:`CBPE_SIGMAS`), clipped to [0, 1].

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        One row per prediction.
    score : str
        The score column; for the estimate to mean anything it should order the rows.
    label : str, default "label"
        The label column (0/1 or bool, null = unknown), read in the reference period only.
    time, every, threshold, by, label_time, as_of, backend
        As in :func:`windowed`; ``as_of`` limits the reference to the labels known then.
    reference : (start, end), optional
        The labelled reference period (end exclusive). Default: the first quarter of the
        frame's period.
    calibration : {"auto", "isotonic", "none"}, default "auto"
        ``"auto"``: isotonic calibration when it lowers the cross-validated expected
        calibration error on the reference (NannyML's ``needs_calibration``: 10 stratified
        90/10 splits, seed 42, 10 equal-count bins), else the raw scores.
    min_reference : int, default 100
        The fewest labelled reference rows (with both classes) to estimate from.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per window (and slice): ``window_start``, the ``by`` columns, ``n``,
        ``alerts``, ``reference`` (the window overlaps the reference period), then
        ``precision_est``, ``recall_est``, ``f1_est``, ``false_positive_rate_est``,
        ``roc_auc_est``, each with ``_lower`` and ``_upper``, and ``calibrated`` (whether
        the scores were calibrated).

    Raises
    ------
    ParameterError
        If the reference holds fewer than ``min_reference`` labelled rows or one class.

    Examples
    --------
    >>> import datetime as dt
    >>> import numpy as np
    >>> import polars as pl
    >>> rng = np.random.default_rng(0)
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> p = rng.uniform(size=4000)
    >>> log = pl.DataFrame({"time": [t0 + dt.timedelta(minutes=i) for i in range(4000)],
    ...                     "score": p, "label": (rng.uniform(size=4000) < p).astype(int)})
    >>> out = estimate(log, "score", calibration="none")
    >>> [round(v, 2) for v in out["precision_est"]]
    [0.75, 0.75, 0.75]
    """
    function = "performance.estimate"
    every = polars_duration(every)
    slices = _by(by)
    data = _prepare(
        frame,
        score,
        label,
        time=time,
        label_time=label_time,
        as_of=as_of,
        function=function,
        extra=slices,
    )
    if data.height == 0:
        raise reject("frame", "be a frame with at least one prediction", got="an empty frame")
    ref, start, end = _reference_rows(data, reference, function)
    y_ref = ref["_y"].to_numpy().astype(np.int64)
    s_ref = ref["_s"].to_numpy().astype(np.float64)
    if y_ref.size < min_reference or np.unique(y_ref).size < 2:
        raise reject(
            "reference",
            f"select at least {min_reference} labelled rows of both classes",
            got=f"{y_ref.size:,} labelled row(s) ({int(y_ref.sum()):,} positive) in "
            f"[{start.isoformat()}, {end.isoformat()})",
        )
    model = None
    calibrated = calibration == "isotonic" or (
        calibration == "auto" and _needs_calibration(y_ref, s_ref)
    )
    if calibrated:
        from sklearn.isotonic import IsotonicRegression

        model = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(s_ref, y_ref)
    elif s_ref.min() < 0.0 or s_ref.max() > 1.0:
        raise SchemaError(
            f"Column {score!r} given to {function} has scores outside [0, 1]; without "
            "calibration CBPE reads scores as probabilities (use calibration='isotonic')."
        )
    components = _std_components(y_ref, s_ref >= threshold, s_ref)
    names = ("precision", "recall", "f1", "false_positive_rate", "roc_auc")
    rows: list[dict[str, Any]] = []
    for key, group in _windows(data, every, slices):
        s = group["_s"].to_numpy().astype(np.float64)
        p = model.predict(s) if model is not None else s
        alert = s >= threshold
        tp = float(np.sum(np.where(alert, p, 0.0)))
        fp = float(np.sum(np.where(alert, 1 - p, 0.0)))
        fn = float(np.sum(np.where(~alert, p, 0.0)))
        tn = float(np.sum(np.where(~alert, 1 - p, 0.0)))
        values = {
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "f1": tp / (tp + 0.5 * (fp + fn)) if tp + fp + fn else 0.0,
            "false_positive_rate": 1 - (tn / (tn + fp) if tn + fp else 0.0),
            "roc_auc": _cbpe_roc_auc(p, s),
        }
        row: dict[str, Any] = {"window_start": key[0]}
        row.update(dict(zip(slices, key[1:], strict=True)))
        window_end = pl.Series([key[0]]).dt.offset_by(every)[0]
        row.update(n=s.size, alerts=int(alert.sum()), reference=key[0] < end and window_end > start)
        for name in names:
            value = values[name]
            std, fraction = components[name]
            error = std / math.sqrt(s.size * fraction) if fraction > 0 else math.nan
            ok = value is not None and not math.isnan(error)
            row[f"{name}_est"] = value
            row[f"{name}_est_lower"] = max(0.0, value - CBPE_SIGMAS * error) if ok else None  # type: ignore[operator]
            row[f"{name}_est_upper"] = min(1.0, value + CBPE_SIGMAS * error) if ok else None  # type: ignore[operator]
        row["calibrated"] = calibrated
        rows.append(row)
    schema: dict[str, Any] = {"window_start": data.schema["_t"]}
    for name in slices:
        schema[name] = frame.schema[name]
    schema.update(n=pl.Int64, alerts=pl.Int64, reference=pl.Boolean)
    for name in names:
        for suffix in ("_est", "_est_lower", "_est_upper"):
            schema[name + suffix] = pl.Float64
    schema["calibrated"] = pl.Boolean
    return frame_out(pl.DataFrame(rows, schema=schema), backend)


# --------------------------------------------------------------------------- thresholds


def _grid(grid: object) -> np.ndarray:
    if grid is None:
        return np.round(np.linspace(0.0, 1.0, 101), 10)
    try:
        values = np.asarray(grid, dtype=np.float64)
    except (TypeError, ValueError):
        raise reject("grid", "be a sequence of numbers", grid) from None
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise reject("grid", "be a non-empty sequence of finite numbers", grid)
    return np.unique(values)


@validate_params(
    frame=Frame(),
    score=Column("frame"),
    label=Column("frame"),
    time=Column("frame"),
    every=_EVERY,
    by=[Column("frame", many=True), None],
    label_time=[Column("frame"), None],
    cost_false_positive=_COST,
    cost_false_negative=_COST,
    backend=BACKEND,
)
def thresholds(
    frame: Any,
    score: str,
    label: str,
    *,
    time: str = "time",
    every: str = "1d",
    grid: Sequence[float] | None = None,
    by: str | Sequence[str] | None = None,
    label_time: str | None = None,
    as_of: Any = None,
    cost_false_positive: float = 1.0,
    cost_false_negative: float = 10.0,
    backend: Backend = "polars",
) -> Any:
    """Precision, recall, false-positive rate, alerts and cost across thresholds, per window.

    Parameters
    ----------
    frame, score, label, time, every, by, label_time, as_of, backend
        As in :func:`windowed`.
    grid : sequence of float, optional
        The thresholds (default 0.00, 0.01, ..., 1.00). A row is an alert when
        ``score >= threshold``.
    cost_false_positive, cost_false_negative : float
        As in :func:`windowed`.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per window (and slice) and threshold: ``window_start``, the ``by``
        columns, ``threshold``, ``n``, ``labelled``, ``alerts`` (all rows), ``tp``,
        ``fp``, ``fn``, ``tn`` (labelled rows), ``precision`` (null without an alert),
        ``recall``, ``false_positive_rate``, ``cost``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> log = pl.DataFrame({"time": [t0] * 4, "score": [0.9, 0.6, 0.4, 0.1],
    ...                     "fraud": [1, 0, 1, 0]})
    >>> out = thresholds(log, "score", "fraud", grid=[0.5, 0.3])
    >>> out.select("threshold", "precision", "recall", "cost").rows()
    [(0.3, 0.6666666666666666, 1.0, 1.0), (0.5, 0.5, 0.5, 11.0)]
    """
    function = "performance.thresholds"
    every = polars_duration(every)
    values = _grid(grid)
    costs = (float(cost_false_positive), float(cost_false_negative))
    slices = _by(by)
    data = _prepare(
        frame,
        score,
        label,
        time=time,
        label_time=label_time,
        as_of=as_of,
        function=function,
        extra=slices,
    )
    parts: list[pl.DataFrame] = []
    for key, group in _windows(data, every, slices):
        s_all = np.sort(group["_s"].to_numpy())
        known = group.filter(pl.col("_y").is_not_null())
        y = known["_y"].to_numpy()
        s = known["_s"].to_numpy()
        pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
        alerts = s_all.size - np.searchsorted(s_all, values, side="left")
        tp = pos.size - np.searchsorted(pos, values, side="left")
        fp = neg.size - np.searchsorted(neg, values, side="left")
        fn, tn = pos.size - tp, neg.size - fp
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), np.nan)
        columns: dict[str, Any] = {"window_start": [key[0]] * values.size}
        for name, value in zip(slices, key[1:], strict=True):
            columns[name] = [value] * values.size
        columns.update(
            threshold=values,
            n=np.full(values.size, group.height),
            labelled=np.full(values.size, known.height),
            alerts=alerts,
            tp=tp,
            fp=fp,
            fn=fn,
            tn=tn,
            precision=precision,
            recall=tp / pos.size if pos.size else np.full(values.size, np.nan),
            false_positive_rate=fp / neg.size if neg.size else np.full(values.size, np.nan),
            cost=fp * costs[0] + fn * costs[1],
        )
        part = pl.DataFrame(columns, schema_overrides={"window_start": data.schema["_t"]})
        parts.append(part)
    schema: dict[str, Any] = {"window_start": data.schema["_t"]}
    schema.update({name: frame.schema[name] for name in slices})
    schema.update(
        threshold=pl.Float64,
        n=pl.Int64,
        labelled=pl.Int64,
        alerts=pl.Int64,
        tp=pl.Int64,
        fp=pl.Int64,
        fn=pl.Int64,
        tn=pl.Int64,
        precision=pl.Float64,
        recall=pl.Float64,
        false_positive_rate=pl.Float64,
        cost=pl.Float64,
    )
    if not parts:
        return frame_out(pl.DataFrame(schema=schema), backend)
    out = pl.concat([p.cast(schema) for p in parts])  # type: ignore[arg-type]
    out = out.with_columns(pl.col("precision", "recall", "false_positive_rate").fill_nan(None))
    return frame_out(out, backend)


@validate_params(
    frame=Frame(),
    score=Column("frame"),
    label=Column("frame"),
    target_fpr=_SHARE,
    time=Column("frame"),
    every=[_EVERY, None],
    by=[Column("frame", many=True), None],
    label_time=[Column("frame"), None],
    backend=BACKEND,
)
def threshold_for_fpr(
    frame: Any,
    score: str,
    label: str,
    target_fpr: float,
    *,
    time: str = "time",
    every: str | None = None,
    by: str | Sequence[str] | None = None,
    label_time: str | None = None,
    as_of: Any = None,
    backend: Backend = "polars",
) -> Any:
    """The lowest threshold whose false-positive rate would have met a target, per window.

    Among the scores observed, the threshold ``t`` chosen is the lowest for which the
    share of labelled negatives with ``score >= t`` is at most ``target_fpr``: the
    threshold that catches the most positives within the false-alarm budget.

    Parameters
    ----------
    frame, score, label, time, by, label_time, as_of, backend
        As in :func:`windowed`.
    target_fpr : float
        The false-positive rate to meet, in [0, 1].
    every : str, optional
        Window width; default one row for the whole frame (``window_start`` its first
        prediction time).

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per window (and slice): ``window_start``, the ``by`` columns,
        ``target_fpr``, ``threshold`` (null without a labelled negative), ``negatives``,
        ``positives``, ``false_positive_rate``, ``recall``, ``precision`` and ``alerts``
        at that threshold.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> log = pl.DataFrame({"time": [t0] * 6, "score": [0.9, 0.8, 0.7, 0.5, 0.3, 0.2],
    ...                     "fraud": [1, 0, 1, 0, 0, 0]})
    >>> threshold_for_fpr(log, "score", "fraud", 0.25).select(
    ...     "threshold", "false_positive_rate", "recall").rows()
    [(0.7, 0.25, 1.0)]
    """
    function = "performance.threshold_for_fpr"
    target = float(target_fpr)
    if every is not None:
        every = polars_duration(every)
    slices = _by(by)
    data = _prepare(
        frame,
        score,
        label,
        time=time,
        label_time=label_time,
        as_of=as_of,
        function=function,
        extra=slices,
    )
    if every is None:
        first = data["_t"].min()
        data_w = data.with_columns(pl.lit(first, dtype=data.schema["_t"]).alias("window_start"))
        keys = ["window_start", *slices]
        groups = sorted(data_w.partition_by(keys, as_dict=True).items(), key=lambda kv: str(kv[0]))
    else:
        groups = _windows(data, every, slices)
    rows: list[dict[str, Any]] = []
    for key, group in groups:
        s_all = group["_s"].to_numpy()
        known = group.filter(pl.col("_y").is_not_null())
        y, s = known["_y"].to_numpy(), known["_s"].to_numpy()
        neg = np.sort(s[y == 0])[::-1]
        pos = s[y == 1]
        row: dict[str, Any] = {"window_start": key[0]}
        row.update(dict(zip(slices, key[1:], strict=True)))
        row.update(target_fpr=target, negatives=neg.size, positives=pos.size)
        if neg.size == 0:
            row.update(
                threshold=None, false_positive_rate=None, recall=None, precision=None, alerts=None
            )
            rows.append(row)
            continue
        k = math.floor(target * neg.size + 1e-12)
        if k >= neg.size:
            t = float(s_all.min())
        else:
            bar = neg[k]
            above = np.unique(s_all[s_all > bar])
            t = float(above[0]) if above.size else float(np.nextafter(bar, math.inf))
        fp = int(np.sum(neg >= t))
        tp = int(np.sum(pos >= t))
        row.update(
            threshold=t,
            false_positive_rate=fp / neg.size,
            recall=tp / pos.size if pos.size else None,
            precision=tp / (tp + fp) if tp + fp else None,
            alerts=int(np.sum(s_all >= t)),
        )
        rows.append(row)
    schema: dict[str, Any] = {"window_start": data.schema["_t"]}
    schema.update({name: frame.schema[name] for name in slices})
    schema.update(
        target_fpr=pl.Float64,
        negatives=pl.Int64,
        positives=pl.Int64,
        threshold=pl.Float64,
        false_positive_rate=pl.Float64,
        recall=pl.Float64,
        precision=pl.Float64,
        alerts=pl.Int64,
    )
    return frame_out(pl.DataFrame(rows, schema=schema), backend)


# --------------------------------------------------------------------------- drift, change points


@validate_params(frame=Frame(), time=Column("frame"), every=_EVERY, backend=BACKEND)
def drift(
    frame: Any,
    *,
    columns: Sequence[str],
    reference: tuple[Any, Any],
    time: str = "time",
    every: str = "1d",
    backend: Backend = "polars",
) -> Any:
    """Drift of the features and of the score per window, by :func:`toolkit.drift.windowed`.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        The prediction log.
    columns : sequence of str
        The feature columns and the score column to test.
    reference : (start, end)
        The reference period (e.g. the launch weeks, or :func:`estimate`'s reference).
    time, every, backend
        As in :func:`windowed`.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The rows of :func:`toolkit.drift.windowed`: one per window and column, with the
        test, statistic, threshold, ``drifted`` and sample sizes.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> log = pl.DataFrame({"time": [t0 + dt.timedelta(hours=i) for i in range(48)],
    ...                     "score": [0.1] * 24 + [0.9] * 24})
    >>> out = drift(log, columns=["score"], reference=(t0, t0 + dt.timedelta(days=1)))
    >>> out["drifted"].to_list()
    [False, True]
    """
    from toolkit import drift as drift_module

    function = "performance.drift"
    data = frame
    _time_column(data, time, "time", function)
    return drift_module.windowed(
        data,
        reference=reference,
        every=polars_duration(every),
        columns=list(columns),
        time=time,
        backend=backend,
    )


@validate_params(
    windows=Frame(),
    metric=Column("windows", table="windows"),
    weight=[OneOf("auto"), Column("windows", table="windows"), None],
    time=Column("windows", table="windows"),
    backend=BACKEND,
)
def degradations(
    windows: Any,
    *,
    metric: str = "precision",
    weight: str | None = "auto",
    time: str = "window_start",
    penalty: float | None = None,
    min_size: int = 2,
    backend: Backend = "polars",
) -> Any:
    """The windows where a metric changed level for the worse, for the incident review.

    The per-window metric of :func:`windowed` (``precision``, ``recall``, ``roc_auc`` ...)
    or :func:`estimate` (``precision_est`` ...) is cut into segments of constant level by
    :func:`toolkit.drift.change_points` (PELT, weighted by the rows behind each window);
    each fall is one degradation, lasting until the next change.

    Parameters
    ----------
    windows : polars.DataFrame or pandas.DataFrame
        One row per window, from :func:`windowed` or :func:`estimate` (one slice).
    metric : str, default "precision"
        The column followed.
    weight : str or None, default "auto"
        The column weighting each window; ``"auto"``: the rows behind the metric, for
        :func:`windowed` the alerts labelled (``tp + fp``) for precision, the positives for
        recall, the negatives for the false-positive rate, else ``labelled``; for
        :func:`estimate` ``n``. None: equal weights.
    time : str, default "window_start"
    penalty, min_size
        As in :func:`toolkit.drift.change_points`.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per fall: ``start`` (first window of the lower level), ``end`` (the next
        change, or null if the level lasts to the last window), ``metric``, ``before``,
        ``after``, ``shift`` (negative), ``windows_before``, ``windows_after``.

    Examples
    --------
    >>> import polars as pl
    >>> w = pl.DataFrame({"window_start": list(range(10)),
    ...                   "precision": [0.8, 0.82, 0.79, 0.81, 0.8, 0.5, 0.52, 0.49, 0.5, 0.51]})
    >>> degradations(w, weight=None).select("start", "end", "before", "after").rows()
    [(5, None, 0.804, 0.504)]
    """
    from toolkit import drift as drift_module

    data = windows
    if weight == "auto":
        base = metric.removesuffix("_est")
        counts = {
            "precision": pl.col("tp") + pl.col("fp"),
            "recall": pl.col("positives"),
            "false_positive_rate": pl.col("labelled") - pl.col("positives"),
        }
        if metric.endswith("_est") and "n" in data.columns:
            expr: pl.Expr | None = pl.col("n")
        elif base in counts and {"tp", "fp", "positives", "labelled"} <= set(data.columns):
            expr = counts[base]
        elif "labelled" in data.columns:
            expr = pl.col("labelled")
        else:
            expr = None
        if expr is not None:
            data = data.with_columns(expr.cast(pl.Float64).alias("_weight"))
        weight_column = "_weight" if expr is not None else None
    elif weight is not None:
        weight_column = weight
    else:
        weight_column = None
    changes = drift_module.change_points(
        data,
        value_column=metric,
        time=time,
        penalty=penalty,
        min_size=min_size,
        weight_column=weight_column,
    )
    times = changes["time"].to_list()
    rows: list[dict[str, Any]] = []
    for i, change in enumerate(changes.iter_rows(named=True)):
        if change["shift"] >= 0:
            continue
        rows.append(
            {
                "start": change["time"],
                "end": times[i + 1] if i + 1 < len(times) else None,
                "metric": metric,
                "before": change["mean_before"],
                "after": change["mean_after"],
                "shift": change["shift"],
                "windows_before": change["points_before"],
                "windows_after": change["points_after"],
            }
        )
    schema: dict[str, Any] = {
        "start": data.schema[time],
        "end": data.schema[time],
        "metric": pl.String,
        "before": pl.Float64,
        "after": pl.Float64,
        "shift": pl.Float64,
        "windows_before": pl.Int64,
        "windows_after": pl.Int64,
    }
    return frame_out(pl.DataFrame(rows, schema=schema), backend)


# --------------------------------------------------------------------------- baseline scores


@validate_params(
    frame=Frame(),
    label=Column("frame"),
    features=[Column("frame", many=True), None],
    time=Column("frame"),
    backend=BACKEND,
)
def fit_scores(
    frame: Any,
    label: str = "label",
    *,
    features: Sequence[str] | None = None,
    time: str = "time",
    train_end: Any = None,
    score: str = "score",
    backend: Backend = "polars",
) -> Any:
    """Score a labelled log that carries no model score, with a model fitted on its start.

    A standardised logistic regression (scikit-learn, ``max_iter=1000``) is fitted on the
    rows before ``train_end`` whose label is known, and scores every row. Monitor the rows
    from ``train_end`` on (``in_training`` false): the earlier rows are the training set.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        The log: a time, a label, numeric feature columns.
    label : str, default "label"
    features : sequence of str, optional
        Default: the numeric ``feature.*`` columns (every numeric column but the time,
        label and score when there are none).
    time : str, default "time"
    train_end : datetime or ISO-8601 str with a zone, optional
        Default: the middle of the period.
    score : str, default "score"
        The column written (replaced if present).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The frame with ``score`` (the model's probability of a positive) and
        ``in_training`` (the row was before ``train_end``).

    Raises
    ------
    ParameterError
        If there is no feature, or the training rows lack a class.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> log = pl.DataFrame({"time": [t0 + dt.timedelta(hours=i) for i in range(8)],
    ...                     "feature.x": [0.0, 1.0, 0.1, 0.9, 0.2, 0.8, 0.0, 1.0],
    ...                     "label": [0, 1, 0, 1, 0, 1, 0, 1]})
    >>> out = fit_scores(log)
    >>> out["in_training"].to_list()
    [True, True, True, True, False, False, False, False]
    >>> [s > 0.5 for s in out["score"]][4:]
    [False, True, False, True]
    """
    function = "performance.fit_scores"
    data = frame
    _time_column(data, time, "time", function)
    if features is None:
        numeric = [c for c, t in data.schema.items() if t.is_numeric()]
        names = [c for c in numeric if c.startswith("feature.")] or [
            c for c in numeric if c not in (label, score)
        ]
    else:
        names = list(features)
    if not names:
        raise reject("features", "be numeric columns of the frame", features)
    y_all = _labels(data, label, function)
    if train_end is None:
        first, last = data[time].min(), data[time].max()
        assert isinstance(first, dt.datetime)
        assert isinstance(last, dt.datetime)
        cut = first + (last - first) / 2
    else:
        cut = _moment(train_end, "train_end")
    times = data[time]
    before = data.select((pl.col(time) < pl.lit(cut, dtype=times.dtype)).alias("b"))["b"]
    x = data.select(pl.col(names).cast(pl.Float64)).to_numpy()
    if np.isnan(x).any():
        raise SchemaError(
            f"The features given to {function} hold null or NaN values "
            f"({int(np.isnan(x).any(axis=1).sum()):,} rows); fill or drop them first."
        )
    train = (before & y_all.is_not_null()).to_numpy()
    y_train = y_all.to_numpy()[train]
    if y_train.size == 0 or np.unique(y_train).size < 2:
        raise reject(
            "train_end",
            "leave labelled rows of both classes before it",
            got=f"{cut.isoformat()} ({y_train.size:,} labelled rows before it)",
        )
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(x[train], y_train.astype(np.int64))
    out = data.with_columns(
        pl.Series(score, model.predict_proba(x)[:, 1], dtype=pl.Float64),
        before.alias("in_training"),
    )
    return frame_out(out, backend)


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class MonitoringPlan:
    """What a monitoring run of a prediction log uses, chosen from the data unless given.

    Made by :func:`plan`.

    Attributes
    ----------
    frame : polars.DataFrame
        The rows to monitor, with a ``score`` (fitted by :func:`fit_scores` when the log
        had none: then only the rows after the training period).
    fitted : bool
        Whether the scores were fitted (the log carried none).
    scored_how : str
        Where the scores come from, in words.
    every : str
        Window width.
    threshold : float
        The operating threshold.
    reference : (datetime, datetime) or None
        The labelled reference period (CBPE calibration, drift, the launch FPR).
    reference_how : str
        How it was chosen, in words.
    features : tuple of str
        Feature columns to test for drift (``feature.*``).
    metrics_support, estimate_support, drift_support : toolkit.Support
        Whether the frame supports realised metrics (labels of both classes), the CBPE
        estimate (a reference of 100 labelled rows of both classes) and drift (windows
        after the reference), and what is missing if not.
    """

    frame: pl.DataFrame
    fitted: bool
    scored_how: str
    every: str
    threshold: float
    reference: tuple[dt.datetime, dt.datetime] | None
    reference_how: str
    features: tuple[str, ...]
    metrics_support: Any
    estimate_support: Any
    drift_support: Any


@validate_params(log=Frame(), every=[_EVERY, None], threshold=[_NUMBER, None], min_coverage=_SHARE)
def plan(
    log: Any,
    *,
    every: str | None = None,
    threshold: float | None = None,
    reference: tuple[Any, Any] = (None, None),
    train_end: Any = None,
    min_coverage: float = 0.9,
) -> MonitoringPlan:
    """Choose, from a ``predictions`` table, what :func:`windowed`, :func:`estimate` and
    :func:`drift` compare.

    - Scores: the log's ``score``; a log with labels but no score (a public dataset) is
      scored by :func:`fit_scores` (fitted before ``train_end``, default the middle of the
      period) and only the later rows are monitored.
    - ``every``: the widest of :data:`toolkit.drift.WIDTHS` giving 6 windows or more.
    - ``threshold``: 0.5 unless given.
    - ``reference``: the first half of the windows (at least one), kept only as far as
      their label coverage is at least ``min_coverage``: the isotonic calibration of CBPE
      needs labelled rows across the range of scores, so the reference is as long as the
      labels allow.

    Parameters
    ----------
    log : polars.DataFrame or pandas.DataFrame
        The ``predictions`` table (:func:`toolkit.discover`).
    every : str, optional
    threshold : float, optional
    reference : (start, end), optional
        Either end None: chosen as above.
    train_end : datetime or str, optional
        For a log without scores.
    min_coverage : float, default 0.9

    Returns
    -------
    MonitoringPlan

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> log = pl.DataFrame({"time": [t0 + dt.timedelta(hours=i) for i in range(24 * 9)],
    ...                     "score": [0.1, 0.9] * 108, "label": [False, True] * 108})
    >>> p = plan(log)
    >>> p.every, p.threshold, p.reference[1] - p.reference[0], p.metrics_support.ok
    ('1d', 0.5, datetime.timedelta(days=4), True)
    """
    from toolkit import drift as drift_module
    from toolkit.ingest.discover import Support

    data = log
    how_get = (
        "export the model's prediction log with its score and label columns (labels empty "
        "until known), as CSV or Parquet"
    )
    fitted = False
    scored_how = "the model's logged scores"
    if data.height and "score" in data.columns and data["score"].null_count() == data.height:
        labelled = data.filter(pl.col("label").is_not_null()) if "label" in data else data
        if labelled.height and labelled["label"].n_unique() == 2:
            scored = fit_scores(data, train_end=train_end)
            first_mon = scored.filter(~pl.col("in_training"))["time"].min()
            data = scored.filter(~pl.col("in_training")).drop("in_training")
            fitted = True
            scored_how = (
                "no score in the log: a logistic regression on the features, fitted on the "
                f"labelled rows before {first_mon:%Y-%m-%d %H:%M} UTC, scores the later rows, "
                "which are monitored"
            )
    has_scores = data.height > 0 and data["score"].null_count() < data.height
    if has_scores:
        data = data.filter(pl.col("score").is_not_null())
    if every is None:
        every = (
            drift_module.window_width(data["time"].min(), data["time"].max(), min_windows=6)
            if data.height
            else "1d"
        )
    every = polars_duration(every)
    cut = 0.5 if threshold is None else float(threshold)
    features = tuple(
        c
        for c, t in data.schema.items()
        if c.startswith("feature.")
        and (t.is_numeric() or t == pl.Boolean or (t == pl.String and data[c].n_unique() <= 50))
    )
    ref: tuple[dt.datetime, dt.datetime] | None = None
    reference_how = "no labelled rows"
    windows = None
    if has_scores and data["label"].is_not_null().any():
        windows = windowed(
            data, "score", "label", every=every, threshold=cut, n_boot=0, min_coverage=0.0
        )
    if reference[0] is not None and reference[1] is not None:
        ref = (
            _moment(reference[0], "reference"),
            _moment(reference[1], "reference"),
        )
        reference_how = "given"
    elif windows is not None and windows.height:
        starts = windows["window_start"].to_list()
        covered = windows["label_coverage"].to_list()
        count = max(1, len(starts) // 2)
        keep = 0
        while keep < count and covered[keep] >= min_coverage:
            keep += 1
        keep = max(keep, 1)
        end = pl.Series([starts[keep - 1]]).dt.offset_by(every)[0]
        ref = (starts[0], end)
        reference_how = (
            f"the first {keep} {every} window(s) of {len(starts)} (half at most, each with "
            f"at least {min_coverage:.0%} of its labels known)"
        )
    positives = int(data["label"].sum() or 0) if has_scores else 0
    negatives = int((~data["label"]).sum() or 0) if has_scores else 0
    found = (
        f"predictions with {data.height:,} scored rows, {positives:,} positive and "
        f"{negatives:,} negative labels"
        if data.height
        else "no prediction log (no predictions table with scores)"
    )
    needs = "a prediction log with scores and labels of both classes"
    metrics_missing = () if positives and negatives else ("labels of both classes",)
    metrics_support = Support(
        "prediction metrics", needs, found, metrics_missing, how_get if metrics_missing else ""
    )
    in_ref = 0
    ref_classes = 0
    if ref is not None and has_scores:
        rows = data.filter(
            pl.col("time").is_between(ref[0], ref[1], closed="left") & pl.col("label").is_not_null()
        )
        in_ref, ref_classes = rows.height, rows["label"].n_unique()
    est_missing = (
        ()
        if in_ref >= 100 and ref_classes == 2
        else ("a reference of 100 labelled rows of both classes",)
    )
    estimate_support = Support(
        "label-free estimate (CBPE)",
        "a labelled reference period of 100 rows or more, both classes",
        f"{in_ref:,} labelled rows in the reference",
        est_missing,
        "a longer log: the reference is the first half of its windows" if est_missing else "",
    )
    later = data.filter(pl.col("time") >= ref[1]).height if ref is not None else 0
    drift_missing = () if ref is not None and later else ("windows after the reference",)
    drift_support = Support(
        "feature and score drift",
        "scored rows in and after a reference period",
        f"{later:,} rows after the reference",
        drift_missing,
        "a longer log" if drift_missing else "",
    )
    return MonitoringPlan(
        data,
        fitted,
        scored_how,
        every,
        float(cut),
        ref,
        reference_how,
        features,
        metrics_support,
        estimate_support,
        drift_support,
    )
