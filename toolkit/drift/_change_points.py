"""Change points of a metric series: the times its level changed (PELT or binary
segmentation on a weighted Gaussian cost, :func:`change_points`).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Column,
    Frame,
    Interval,
    OneOf,
    frame_out,
    reject,
    validate_params,
)
from toolkit.errors import SchemaError, preview


def _segment_cost(
    sums: tuple[np.ndarray, np.ndarray, np.ndarray], i: int, j: np.ndarray
) -> np.ndarray:
    """Weighted sum of squared deviations from the weighted mean of y[j:i], for each j.

    ``sums`` are the prefix sums of w, w y and w y**2 (each with a leading 0).
    """
    pw, py, pyy = sums
    w = pw[i] - pw[j]
    s = py[i] - py[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = pyy[i] - pyy[j] - np.where(w > 0, s * s / w, 0.0)
    return np.asarray(np.maximum(cost, 0.0))


def _prefix_sums(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    zero = np.zeros(1)
    return (
        np.concatenate([zero, np.cumsum(w)]),
        np.concatenate([zero, np.cumsum(w * y)]),
        np.concatenate([zero, np.cumsum(w * y * y)]),
    )


def _pelt(y: np.ndarray, w: np.ndarray, penalty: float, min_size: int) -> list[int]:
    """Optimal partition under the L2 (mean-shift) cost plus ``penalty`` per change (PELT)."""
    n = y.size
    sums = _prefix_sums(y, w)
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    last = np.zeros(n + 1, dtype=np.int64)
    candidates = np.array([0], dtype=np.int64)
    for i in range(min_size, n + 1):
        usable = candidates[i - candidates >= min_size]
        if usable.size:
            total = best[usable] + _segment_cost(sums, i, usable) + penalty
            k = int(np.argmin(total))
            best[i], last[i] = total[k], usable[k]
            keep = best[candidates] + _segment_cost(sums, i, candidates) <= best[i]
            candidates = candidates[keep | (i - candidates < min_size)]
        candidates = np.append(candidates, i - min_size + 1) if i - min_size + 1 > 0 else candidates
        candidates = np.unique(candidates[candidates <= i])
    changes: list[int] = []
    i = n
    while i > 0:
        j = int(last[i])
        if j > 0:
            changes.append(j)
        i = j
    return sorted(changes)


def _binseg(y: np.ndarray, w: np.ndarray, penalty: float, min_size: int) -> list[int]:
    """Binary segmentation: split where the L2 cost drops most, while it drops > penalty."""
    sums = _prefix_sums(y, w)

    def cost(a: int, b: int) -> float:
        return float(_segment_cost(sums, b, np.array([a]))[0])

    changes: list[int] = []
    stack = [(0, y.size)]
    while stack:
        a, b = stack.pop()
        if b - a < 2 * min_size:
            continue
        splits = np.arange(a + min_size, b - min_size + 1)
        whole = cost(a, b)
        left = np.array([cost(a, int(s)) for s in splits])
        right = np.array([cost(int(s), b) for s in splits])
        gain = whole - (left + right)
        k = int(np.argmax(gain))
        if gain[k] > penalty:
            s = int(splits[k])
            changes.append(s)
            stack.extend([(a, s), (s, b)])
    return sorted(changes)


@validate_params(
    series=Frame(),
    value_column=Column("series", table="series"),
    time=Column("series", table="series"),
    method=OneOf("pelt", "binseg"),
    penalty=[Interval(float, 0, None), None],
    min_size=Interval(int, 1, None, closed="left"),
    weight_column=[Column("series", table="series"), None],
    backend=BACKEND,
)
def change_points(
    series: Any,
    *,
    value_column: str,
    time: str = "window_start",
    method: Literal["pelt", "binseg"] = "pelt",
    penalty: float | None = None,
    min_size: int = 2,
    weight_column: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """Times at which the level of a metric series changes (mean shifts).

    The series is cut into segments of constant mean, minimising the sum of squared
    deviations from each segment's mean plus ``penalty`` per change: exactly with PELT
    (Killick et al. 2012, optimal partitioning with pruning) or greedily with binary
    segmentation. Rows with a null or NaN value (e.g. windows without calls) are left out.

    Parameters
    ----------
    series : polars.DataFrame or pandas.DataFrame
        One row per point, e.g. :func:`toolkit.quality.risk_rate` or per-window metrics.
    value_column : str
        The metric (hallucination-risk rate, p95 latency, mean output tokens ...).
    time : str, default "window_start"
    method : {"pelt", "binseg"}, default "pelt"
    penalty : float, optional
        Cost of one change. Default: ``2 * sigma**2 * ln(n)`` (the BIC penalty of a mean
        shift, two parameters per change) with ``sigma`` the noise level estimated robustly
        from the first differences, ``1.4826 * MAD(diff) / sqrt(2)``, which level shifts
        hardly move. Raise it to keep only larger shifts.
    min_size : int, default 2
        Fewest points in a segment.
    weight_column : str, optional
        Weight of each point, e.g. the calls behind a rate (``assessed`` of
        :func:`toolkit.quality.risk_rate`): the cost becomes the weighted sum of squares
        around each segment's weighted mean, so a rate over 3 calls counts less than one
        over 300, and the noise level is estimated from the weighted differences
        ``(y[i+1] - y[i]) / sqrt(1/w[i] + 1/w[i+1])``. Points with weight 0 are left out.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per change, in time order: ``time`` (first point of the new segment),
        ``mean_before``, ``mean_after`` (of the segments on either side), ``shift``
        (after - before), ``points_before``, ``points_after``, ``penalty``.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"t": list(range(12)), "rate": [0.05] * 6 + [0.9] * 3 + [0.04] * 3})
    >>> change_points(s, value_column="rate", time="t").select("time", "shift").rows()
    [(6, 0.85), (9, -0.86)]
    """
    time_column = time
    function = "drift.change_points"
    data: pl.DataFrame = series
    if not data.schema[value_column].is_numeric():
        raise SchemaError(
            f"Column {value_column!r} given to {function} is {data.schema[value_column]}; "
            "expected a numeric column."
        )
    if weight_column is not None and not data.schema[weight_column].is_numeric():
        raise reject(
            "weight_column",
            "name a numeric column of the series",
            weight_column,
            got=f"{preview(weight_column)} ({data.schema[weight_column]})",
        )
    values = pl.col(value_column).cast(pl.Float64)
    weights = pl.col(weight_column).cast(pl.Float64) if weight_column else pl.lit(1.0)
    points = (
        data.select(time_column, values.alias("_y"), weights.alias("_w"))
        .filter(
            pl.col("_y").is_not_null()
            & pl.col("_y").is_not_nan()
            & pl.col("_w").is_not_null()
            & (pl.col("_w") > 0)
        )
        .sort(time_column)
    )
    y = points["_y"].to_numpy().astype(np.float64)
    wt = points["_w"].to_numpy().astype(np.float64)
    n = y.size
    if penalty is None:
        if n >= 3:
            diff = np.diff(y) / np.sqrt(1.0 / wt[:-1] + 1.0 / wt[1:]) * math.sqrt(2.0)
            mad = float(np.median(np.abs(diff - np.median(diff))))
            sigma = 1.4826 * mad / math.sqrt(2.0)
            if sigma == 0.0:
                sigma = float(np.std(diff)) / math.sqrt(2.0)
        else:
            sigma = 0.0
        penalty_value = 2.0 * sigma * sigma * math.log(max(n, 2))
        if penalty_value == 0.0:
            penalty_value = 1e-12
    else:
        penalty_value = float(penalty)
    cuts = (
        []
        if n < 2 * min_size
        else (
            _pelt(y, wt, penalty_value, min_size)
            if method == "pelt"
            else _binseg(y, wt, penalty_value, min_size)
        )
    )
    bounds = [0, *cuts, n]
    rows: list[dict[str, Any]] = []
    times = points[time_column]
    for k, cut in enumerate(cuts):
        before = slice(bounds[k], cut)
        after = slice(cut, bounds[k + 2])
        mean_before = float(np.average(y[before], weights=wt[before]))
        mean_after = float(np.average(y[after], weights=wt[after]))
        rows.append(
            {
                "time": times[cut],
                "mean_before": mean_before,
                "mean_after": mean_after,
                "shift": round(mean_after - mean_before, 12),
                "points_before": cut - bounds[k],
                "points_after": bounds[k + 2] - cut,
                "penalty": penalty_value,
            }
        )
    schema: dict[str, Any] = {
        "time": data.schema[time_column],
        "mean_before": pl.Float64,
        "mean_after": pl.Float64,
        "shift": pl.Float64,
        "points_before": pl.Int64,
        "points_after": pl.Int64,
        "penalty": pl.Float64,
    }
    out = pl.DataFrame(rows, schema=schema)
    return frame_out(out, backend)
