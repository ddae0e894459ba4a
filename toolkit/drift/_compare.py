"""Drift: reference against current distributions, windowed drift, change points, text drift.

:func:`compare` tests each column of a current sample against a reference sample and returns
one row per column. :func:`windowed` does the same for every window (hour, day ...) of a
period against one reference window, in a single vectorised pass per column, and
:func:`detections` turns its rows into the first time each column drifted for good.
:func:`change_points` finds the times a metric series (hallucination-risk rate, p95 latency,
output length ...) changed level. :func:`text_features`, :func:`fit_topics` and
:func:`ngrams` turn free text into columns those functions can test (length, script,
topic cluster, hashed character n-grams) without a language model. :func:`plan` chooses
from the data what a drift analysis compares (window widths, reference window, columns);
:func:`share_shift`, :func:`most_drifted`, :func:`window_series` and
:func:`clean_reference` are the steps between those calls.

The tests (``test`` column):

========================  =============  ================================  =================
test                      column kind    statistic                         drifted when
========================  =============  ================================  =================
``ks``                    numeric        Kolmogorov-Smirnov D; p-value     p <= 0.05
``wasserstein``           numeric        Wasserstein-1 / reference std     statistic >= 0.1
``chisquare``             both           chi-square (2 x k homogeneity);   p <= 0.05
                                         p-value
``jensenshannon``         both           Jensen-Shannon distance (base e)  statistic >= 0.1
``psi``                   both           population stability index        statistic >= 0.1
========================  =============  ================================  =================

**Automatic choice** (Evidently's defaults, stated in the ``reason`` column of each row):
with at most 1,000 non-null reference values, ``ks`` for numeric columns and ``chisquare``
for categorical ones (p-value tests are reliable on small samples); above, ``wasserstein``
(numeric) or ``jensenshannon`` (categorical), because with large samples a p-value test
flags differences too small to matter. ``tests`` overrides the choice per column and
``thresholds`` the threshold per column.

Definitions, and where they differ from Evidently:

- Numeric columns are the integer and float columns; string, categorical, enum and boolean
  columns are categorical. Nulls (and NaN) are left out of both samples; ``n_reference`` and
  ``n_current`` count the values tested and ``nulls_reference`` / ``nulls_current`` the
  values left out.
- ``ks``: the exact two-sample statistic. :func:`compare` takes its p-value from
  ``scipy.stats.ks_2samp`` (exact for samples up to 10,000, else asymptotic);
  :func:`windowed` from Smirnov's asymptotic distribution, as ``ks_2samp(method="asymp")``.
- ``wasserstein``: ``scipy.stats.wasserstein_distance(ref, cur) / np.std(ref)`` (``ddof=0``),
  computed exactly; infinite when the reference is constant and the current sample is not.
- ``chisquare``: the test of homogeneity of the 2 x k table of counts (reference and current
  rows, categories present in either sample), ``scipy.stats.chi2_contingency(table,
  correction=False)``. Evidently uses a goodness-of-fit test against the reference shares
  instead, which is undefined when a category is new (a new locale is the drift one wants).
- ``jensenshannon``: ``scipy.spatial.distance.jensenshannon(p_ref, p_cur)`` (natural log:
  0 to 0.833) of the category shares, or of the shares in ``bins`` bins for numeric columns.
- ``psi``: sum of ``(c - r) * ln(c / r)`` over bins of current and reference shares, a share
  of 0 counted as 0.0001. Bands: < 0.1 no shift, 0.1-0.25 moderate, >= 0.25 major.
- Numeric columns are binned (``psi``, ``jensenshannon``, ``chisquare``) at the reference's
  quantiles, ``bins`` of them (default 10 for ``psi``, 30 for the others; fewer when the
  reference has ties), the first and last bins open-ended. Evidently bins both samples
  together with equal widths, which moves the bins with every current window.
- ``correction`` adjusts the p-values of the columns of one comparison (one window):
  ``"bonferroni"``, ``"holm"`` or ``"fdr_bh"`` (Benjamini-Hochberg); ``p_value_adjusted``
  holds the adjusted value and ``drifted`` is decided on it.

Examples
--------
>>> import polars as pl
>>> from toolkit.drift import compare
>>> ref = pl.DataFrame({"tokens": [10, 12, 11, 13, 12, 11], "locale": ["en"] * 6})
>>> cur = pl.DataFrame({"tokens": [30, 32, 31, 29, 33, 30], "locale": ["en", "hi"] * 3})
>>> compare(ref, cur).select("column", "test", "drifted", "n_reference", "n_current").rows()
[('tokens', 'ks', True, 6, 6), ('locale', 'chisquare', True, 6, 6)]
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit.errors import ParameterError, SchemaError, preview
from toolkit.schema import check_backend as _check_backend
from toolkit.schema import to_pandas, to_polars

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SCRIPTS",
    "TESTS",
    "WIDTHS",
    "DriftPlan",
    "TopicModel",
    "change_points",
    "clean_reference",
    "compare",
    "default_columns",
    "detections",
    "fit_topics",
    "most_drifted",
    "ngrams",
    "plan",
    "share_shift",
    "text_features",
    "window_series",
    "window_width",
    "windowed",
]

#: The tests, and whether their threshold is a p-value (drifted at or below it).
TESTS: dict[str, bool] = {
    "ks": True,
    "wasserstein": False,
    "chisquare": True,
    "jensenshannon": False,
    "psi": False,
}
#: Default threshold of each test.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "ks": 0.05,
    "wasserstein": 0.1,
    "chisquare": 0.05,
    "jensenshannon": 0.1,
    "psi": 0.1,
}
_NUMERIC_ONLY = {"ks", "wasserstein"}
_DEFAULT_BINS = {"psi": 10, "jensenshannon": 30, "chisquare": 30}
_SMALL_REFERENCE = 1000
_PSI_FLOOR = 1e-4
_CORRECTIONS = ("bonferroni", "holm", "fdr_bh")
_EVERY = re.compile(r"^[1-9][0-9]*(ns|us|ms|s|m|h|d|w)$")

_RESULT_SCHEMA: dict[str, pl.DataType] = {
    "column": pl.String(),
    "kind": pl.String(),
    "test": pl.String(),
    "statistic": pl.Float64(),
    "p_value": pl.Float64(),
    "p_value_adjusted": pl.Float64(),
    "threshold": pl.Float64(),
    "drifted": pl.Boolean(),
    "n_reference": pl.Int64(),
    "n_current": pl.Int64(),
    "nulls_reference": pl.Int64(),
    "nulls_current": pl.Int64(),
    "reason": pl.String(),
}


# --------------------------------------------------------------------------- parameters


def _kind(frame: pl.DataFrame, column: str, function: str) -> str:
    dtype = frame.schema[column]
    if dtype.is_numeric():
        return "numeric"
    if dtype in (pl.String, pl.Boolean, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "categorical"
    raise ParameterError(
        f"The 'columns' parameter of {function} must name numeric, string, categorical or "
        f"boolean columns. Got {column!r} of type {dtype} instead."
    )


def _columns(
    frames: Sequence[pl.DataFrame], columns: Sequence[str] | None, function: str, skip: set[str]
) -> list[str]:
    if columns is None:
        first = frames[0]
        return [
            c
            for c in first.columns
            if c not in skip
            and (
                first.schema[c].is_numeric()
                or first.schema[c] in (pl.String, pl.Boolean, pl.Categorical)
                or isinstance(first.schema[c], pl.Enum)
            )
        ]
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise ParameterError(
            f"The 'columns' parameter of {function} must be a list of column names. "
            f"Got {preview(columns)} instead."
        )
    for frame in frames:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ParameterError(
                f"The 'columns' parameter of {function} must name columns of the frames "
                f"(available: {preview(', '.join(frame.columns), 300)}). "
                f"Got {preview(missing)} instead."
            )
    return list(columns)


def _choose(
    column: str,
    kind: str,
    n_reference: int,
    tests: Mapping[str, str] | None,
    thresholds: Mapping[str, float] | None,
    function: str,
) -> tuple[str, float, str]:
    """The test, threshold and the reason for the choice."""
    if tests is not None and column in tests:
        test = tests[column]
        if test not in TESTS:
            raise ParameterError(
                f"The 'tests' parameter of {function} must map columns to one of "
                f"{sorted(TESTS)}. Got {preview(test)} for {column!r} instead."
            )
        if kind == "categorical" and test in _NUMERIC_ONLY:
            raise ParameterError(
                f"The 'tests' parameter of {function} must give a categorical column one of "
                f"chisquare, jensenshannon, psi. Got {test!r} for {column!r} instead."
            )
        reason = f"{kind}; {test} set by the caller"
    else:
        small = n_reference <= _SMALL_REFERENCE
        if kind == "numeric":
            test = "ks" if small else "wasserstein"
        else:
            test = "chisquare" if small else "jensenshannon"
        size = "<=" if small else ">"
        reason = f"{kind}; reference {n_reference:,} {size} {_SMALL_REFERENCE:,} values: " + (
            "p-value test (Evidently default)" if small else "distance (Evidently default)"
        )
    threshold = DEFAULT_THRESHOLDS[test]
    if thresholds is not None and column in thresholds:
        value = thresholds[column]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ParameterError(
                f"The 'thresholds' parameter of {function} must map columns to non-negative "
                f"numbers. Got {preview(value)} for {column!r} instead."
            )
        threshold = float(value)
        reason += f"; threshold {threshold:g} set by the caller"
    if test == "psi":
        reason += "; PSI bands: <0.1 none, 0.1-0.25 moderate, >=0.25 major"
    return test, threshold, reason


def _check_mapping(value: object, name: str, function: str) -> None:
    if value is not None and not isinstance(value, Mapping):
        raise ParameterError(
            f"The {name!r} parameter of {function} must be a mapping of column names. "
            f"Got {preview(value)} instead."
        )


def _check_correction(correction: object, function: str) -> None:
    if correction is not None and correction not in _CORRECTIONS:
        raise ParameterError(
            f"The 'correction' parameter of {function} must be None, 'bonferroni', 'holm' or "
            f"'fdr_bh'. Got {preview(correction)} instead."
        )


def _check_bins(bins: object, function: str) -> None:
    if bins is not None and (isinstance(bins, bool) or not isinstance(bins, int) or bins < 2):
        raise ParameterError(
            f"The 'bins' parameter of {function} must be an integer >= 2. "
            f"Got {preview(bins)} instead."
        )


# --------------------------------------------------------------------------- statistics


def _numeric_values(series: pl.Series) -> np.ndarray:
    values = series.drop_nulls()
    if values.dtype.is_float():
        values = values.filter(values.is_not_nan())
    return np.asarray(values.cast(pl.Float64).to_numpy(), dtype=np.float64)


def _segments(window: np.ndarray, n_windows: int) -> np.ndarray:
    """Start offsets of each window in an array sorted by window (n_windows + 1 entries)."""
    return np.searchsorted(window, np.arange(n_windows + 1), side="left")


def _ks(ref: np.ndarray, window: np.ndarray, values: np.ndarray, n_windows: int) -> np.ndarray:
    """Exact two-sample KS statistic of every window against ``ref`` (sorted).

    ``window``/``values`` are sorted by (window, value). Between two current points the
    current CDF is flat, so the supremum of |F_cur - F_ref| is reached at a current point
    (F_cur - F_ref, right limits) or just before one (F_ref - F_cur, left limits).
    """
    m = ref.size
    starts = _segments(window, n_windows)
    counts = np.diff(starts)
    _, dense = np.unique(values, return_inverse=True)
    key = window.astype(np.int64) * (int(dense.max(initial=0)) + 1) + dense
    start = starts[window]
    n = counts[window].astype(np.float64)
    below_or_at = (np.searchsorted(key, key, side="right") - start) / n
    below = (np.searchsorted(key, key, side="left") - start) / n
    ref_right = np.searchsorted(ref, values, side="right") / m
    ref_left = np.searchsorted(ref, values, side="left") / m
    gap = np.maximum(below_or_at - ref_right, ref_left - below)
    out = np.full(n_windows, np.nan)
    has = counts > 0
    if gap.size:
        out[has] = np.maximum.reduceat(gap, starts[:-1][has])
    return out


def _wasserstein(
    ref: np.ndarray, window: np.ndarray, values: np.ndarray, n_windows: int
) -> np.ndarray:
    """Exact Wasserstein-1 distance of every window to ``ref`` (sorted): integral of |F - c|.

    On [x_i, x_(i+1)) the current CDF is c = i / n; the reference CDF F is below c before
    q = Q_ref(c) and at or above it after, so the integral splits at q. G(t) is the integral
    of F up to t: (k t - S_k) / m with k the reference values <= t and S_k their sum.
    """
    m = ref.size
    prefix = np.concatenate([[0.0], np.cumsum(ref)])

    def integral(t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(ref, t, side="right")
        return np.asarray((k * t - prefix[k]) / m)

    starts = _segments(window, n_windows)
    counts = np.diff(starts)
    out = np.full(n_windows, np.nan)
    if values.size == 0:
        return out
    start = starts[window]
    n = counts[window]
    i = np.arange(values.size) - start + 1  # rank in window, 1..n
    last = i == n
    nxt = np.empty_like(values)
    nxt[:-1] = values[1:]
    nxt[last] = values[last]  # the tail is added below
    a, b = values, nxt
    c = i / n
    kq = (i.astype(np.int64) * m + n - 1) // n  # ceil(c m), 1..m
    q = ref[np.clip(kq, 1, m) - 1]
    p = np.clip(q, a, b)
    g_a, g_b, g_p = integral(a), integral(b), integral(p)
    inner = (g_b - g_a) - c * (b - a) + 2.0 * (c * (p - a) - (g_p - g_a))
    head = np.zeros(values.size)
    first = i == 1
    head[first] = integral(values[first])
    tail = np.zeros(values.size)
    top = np.maximum(ref[-1], values[last])
    tail[last] = (top - values[last]) - (integral(top) - integral(values[last]))
    total = inner + head + tail
    total[last] = head[last] + tail[last]
    has = counts > 0
    out[has] = np.add.reduceat(total, starts[:-1][has])
    return out


def _js(ref_share: np.ndarray, cur_share: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (natural log) of each row of ``cur_share`` to ``ref_share``."""
    mid = (ref_share + cur_share) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_ref = np.where(ref_share > 0, ref_share * np.log(ref_share / mid), 0.0)
        kl_cur = np.where(cur_share > 0, cur_share * np.log(cur_share / mid), 0.0)
    divergence = (kl_ref.sum(axis=-1) + kl_cur.sum(axis=-1)) / 2.0
    return np.asarray(np.sqrt(np.maximum(divergence, 0.0)))


def _psi(ref_share: np.ndarray, cur_share: np.ndarray) -> np.ndarray:
    r = np.where(ref_share == 0, _PSI_FLOOR, ref_share)
    c = np.where(cur_share == 0, _PSI_FLOOR, cur_share)
    return np.asarray(((c - r) * np.log(c / r)).sum(axis=-1))


def _chisquare(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chi-square test of homogeneity of (reference, window) for every window row."""
    from scipy.stats import chi2

    present = (ref_counts > 0) | (cur_counts > 0)
    n_ref = ref_counts.sum()
    n_cur = cur_counts.sum(axis=-1, keepdims=True)
    total = n_ref + n_cur
    col = ref_counts + cur_counts
    with np.errstate(divide="ignore", invalid="ignore"):
        e_ref = col * n_ref / total
        e_cur = col * n_cur / total
        terms = np.where(
            present, (ref_counts - e_ref) ** 2 / e_ref + (cur_counts - e_cur) ** 2 / e_cur, 0.0
        )
    stat = terms.sum(axis=-1)
    dof = present.sum(axis=-1) - 1
    p = np.where(dof > 0, chi2.sf(stat, np.maximum(dof, 1)), 1.0)
    stat = np.where(dof > 0, stat, 0.0)
    return stat, p


def _smirnov_p(d: np.ndarray, n_ref: int, n_cur: np.ndarray) -> np.ndarray:
    from scipy.stats import kstwo

    big = np.maximum(float(n_ref), n_cur.astype(np.float64))
    small = np.minimum(float(n_ref), n_cur.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        en = np.round(big * small / (big + small))
        p = kstwo.sf(d, np.maximum(en, 1.0))
    return np.asarray(np.clip(p, 0.0, 1.0))


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values of one family (NaN entries are left out)."""
    out = np.full(p.size, np.nan)
    ok = ~np.isnan(p)
    values = p[ok]
    k = values.size
    if k == 0:
        return out
    if method == "bonferroni":
        adjusted = np.minimum(values * k, 1.0)
    elif method == "holm":
        order = np.argsort(values)
        stepped = np.maximum.accumulate(values[order] * (k - np.arange(k)))
        adjusted = np.empty(k)
        adjusted[order] = np.minimum(stepped, 1.0)
    else:  # fdr_bh
        order = np.argsort(values)[::-1]
        ranked = values[order] * k / (k - np.arange(k))
        stepped = np.minimum.accumulate(ranked)
        adjusted = np.empty(k)
        adjusted[order] = np.minimum(stepped, 1.0)
    out[ok] = adjusted
    return out


# --------------------------------------------------------------------------- engine


def _column_windows(
    reference: pl.Series,
    current: pl.Series,
    window: np.ndarray,
    n_windows: int,
    kind: str,
    test: str,
    bins: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Statistic, p-value (NaN when not defined) and current size of every window."""
    if kind == "numeric":
        ref = np.sort(_numeric_values(reference))
        cur_valid = current.is_not_null()
        if current.dtype.is_float():
            cur_valid = cur_valid & current.is_not_nan()
        mask = cur_valid.to_numpy()
        values = np.asarray(current.cast(pl.Float64).to_numpy(), dtype=np.float64)[mask]
        win = window[mask]
        order = np.lexsort((values, win))
        values, win = values[order], win[order]
        n_cur = np.bincount(win, minlength=n_windows)
        m = ref.size
        if test == "ks":
            d = _ks(ref, win, values, n_windows)
            return d, _smirnov_p(d, m, n_cur), n_cur, m
        if test == "wasserstein":
            w = _wasserstein(ref, win, values, n_windows)
            std = float(ref.std())
            w = w / std if std > 0 else np.where(w > 0, np.inf, w)
            return w, np.full(n_windows, np.nan), n_cur, m
        n_bins = bins if bins is not None else _DEFAULT_BINS[test]
        edges = np.unique(np.quantile(ref, np.arange(1, n_bins) / n_bins))
        ref_codes = np.searchsorted(edges, ref, side="right")
        cur_codes = np.searchsorted(edges, values, side="right")
        width = edges.size + 1
    else:
        ref_values = reference.drop_nulls().cast(pl.String)
        cur_all = current.cast(pl.String)
        mask = cur_all.is_not_null().to_numpy()
        categories = pl.concat([ref_values, cur_all.drop_nulls()]).unique(maintain_order=True)
        lookup = pl.DataFrame({"v": categories, "code": pl.int_range(categories.len(), eager=True)})
        ref_codes = (
            pl.DataFrame({"v": ref_values})
            .join(lookup, on="v", how="left", maintain_order="left")["code"]
            .to_numpy()
        )
        cur_codes = (
            pl.DataFrame({"v": cur_all.filter(pl.Series(mask))})
            .join(lookup, on="v", how="left", maintain_order="left")["code"]
            .to_numpy()
        )
        win = window[mask]
        width = max(categories.len(), 1)
        m = ref_values.len()
    ref_counts = np.bincount(ref_codes, minlength=width).astype(np.float64)
    cur_counts = (
        np.bincount(win.astype(np.int64) * width + cur_codes, minlength=n_windows * width)
        .reshape(n_windows, width)
        .astype(np.float64)
    )
    stat, p, n_cur = _count_statistics(ref_counts, cur_counts, test)
    return stat, p, n_cur, m


def _count_statistics(
    ref_counts: np.ndarray, cur_counts: np.ndarray, test: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Statistic, p-value and size of every window from counts per bin or category.

    ``ref_counts`` (k,) and ``cur_counts`` (windows, k), float64, the same bins or
    categories in the same order; ``test`` is psi, jensenshannon or chisquare. Shared by
    :func:`windowed` and ``toolkit.scale.drift`` (counts merged from a store's parts), so
    both give the same numbers. Statistic and p-value are NaN for an empty window.
    """
    n_windows = cur_counts.shape[0]
    m = int(ref_counts.sum())
    n_cur = cur_counts.sum(axis=1).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref_share = ref_counts / max(m, 1)
        cur_share = cur_counts / n_cur[:, None]
    if test == "chisquare":
        stat, p = _chisquare(ref_counts, cur_counts)
    elif test == "jensenshannon":
        stat, p = _js(ref_share, cur_share), np.full(n_windows, np.nan)
    else:
        stat, p = _psi(ref_share, cur_share), np.full(n_windows, np.nan)
    empty = n_cur == 0
    stat = np.where(empty, np.nan, stat)
    p = np.where(empty, np.nan, p)
    return stat, p, n_cur


def _drift_table(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    window: np.ndarray,
    n_windows: int,
    columns: list[str],
    tests: Mapping[str, str] | None,
    thresholds: Mapping[str, float] | None,
    correction: str | None,
    bins: int | None,
    function: str,
) -> pl.DataFrame:
    """Long frame (``_window``, result columns) of every column and window."""
    parts: list[pl.DataFrame] = []
    for column in columns:
        kind = _kind(reference, column, function)
        if _kind(current, column, function) != kind:
            raise ParameterError(
                f"The column {column!r} of {function} is {kind} in the reference but "
                f"{current.schema[column]} in the current data."
            )
        ref = reference[column]
        ref_valid = (
            ref.drop_nulls().drop_nans() if ref.dtype.is_float() else ref.drop_nulls()
        ).len()
        if ref_valid == 0:
            raise ParameterError(
                f"The reference of {function} has no value in column {column!r} "
                f"({reference.height:,} rows, all null): nothing to compare against."
            )
        test, threshold, reason = _choose(column, kind, ref_valid, tests, thresholds, function)
        stat, p, n_cur, m = _column_windows(
            ref, current[column], window, n_windows, kind, test, bins
        )
        cur_col = current[column]
        missing = cur_col.is_null()
        if cur_col.dtype.is_float():
            missing = missing | cur_col.is_nan().fill_null(False)
        nulls_cur = np.bincount(window[missing.to_numpy()], minlength=n_windows)
        parts.append(
            _result_rows(
                column,
                kind,
                (test, threshold, reason),
                (stat, p, n_cur),
                m,
                reference.height - m,
                nulls_cur,
            )
        )
    if not parts:
        raise ParameterError(
            f"The 'columns' parameter of {function} must name at least one column to test. "
            "Got none instead."
        )
    return _finish_table(parts, correction)


def _result_rows(
    column: str,
    kind: str,
    choice: tuple[str, float, str],
    result: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_reference: int,
    nulls_reference: int,
    nulls_current: np.ndarray,
) -> pl.DataFrame:
    """One column's rows (``_window``, result columns but ``drifted``/``p_value_adjusted``).

    ``choice`` is :func:`_choose`'s (test, threshold, reason); ``result`` the statistics,
    p-values and current sizes of every window.
    """
    test, threshold, reason = choice
    stat, p, n_cur = result
    n_windows = stat.size
    return pl.DataFrame(
        {
            "_window": np.arange(n_windows),
            "column": [column] * n_windows,
            "kind": [kind] * n_windows,
            "test": [test] * n_windows,
            "statistic": stat,
            "p_value": p,
            "threshold": [threshold] * n_windows,
            "n_reference": [n_reference] * n_windows,
            "n_current": n_cur.astype(np.int64),
            "nulls_reference": [nulls_reference] * n_windows,
            "nulls_current": nulls_current.astype(np.int64),
            "reason": [reason] * n_windows,
        },
        nan_to_null=True,
    )


def _finish_table(parts: Sequence[pl.DataFrame], correction: str | None) -> pl.DataFrame:
    """The columns' rows with the p-values adjusted per window and ``drifted`` decided."""
    table = pl.concat(parts)
    if correction is not None:
        adjusted = np.empty(table.height)
        win_ids = table["_window"].to_numpy()
        p_all = table["p_value"].fill_null(np.nan).to_numpy()
        for w in np.unique(win_ids):
            idx = np.flatnonzero(win_ids == w)
            adjusted[idx] = _adjust(p_all[idx], correction)
        table = table.with_columns(pl.Series("p_value_adjusted", adjusted).fill_nan(None))
    else:
        table = table.with_columns(pl.col("p_value").alias("p_value_adjusted"))
    is_p = pl.col("test").is_in([t for t, p in TESTS.items() if p])
    drifted = (
        pl.when(pl.col("statistic").is_null())
        .then(None)
        .when(is_p)
        .then(pl.col("p_value_adjusted") <= pl.col("threshold"))
        .otherwise(pl.col("statistic") >= pl.col("threshold"))
    )
    if correction is not None:
        table = table.with_columns(
            pl.col("reason")
            + pl.when(is_p).then(pl.lit(f"; p adjusted ({correction})")).otherwise(pl.lit(""))
        )
    return table.with_columns(drifted.alias("drifted")).select("_window", *_RESULT_SCHEMA)


# --------------------------------------------------------------------------- compare


def compare(
    reference: Any,
    current: Any,
    columns: Sequence[str] | None = None,
    *,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    correction: Literal["bonferroni", "holm", "fdr_bh"] | None = None,
    bins: int | None = None,
    backend: Literal["polars", "pandas"] = "polars",
) -> Any:
    """Test whether each column of ``current`` drifted from ``reference``.

    Parameters
    ----------
    reference, current : polars.DataFrame or pandas.DataFrame
        The two samples (e.g. llm_calls of last week and of today).
    columns : list of str, optional
        Columns to test; by default every numeric, string, categorical and boolean column
        of ``reference``.
    tests : mapping of column to test name, optional
        Overrides the automatic choice (see :data:`TESTS`).
    thresholds : mapping of column to float, optional
        Overrides :data:`DEFAULT_THRESHOLDS`.
    correction : {"bonferroni", "holm", "fdr_bh"}, optional
        Multiple-testing correction of the p-values across the tested columns.
    bins : int, optional
        Bins of numeric columns for psi / jensenshannon / chisquare (default 10 for psi,
        30 otherwise).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per column, in order: ``column``, ``test``, ``statistic``, ``p_value``
        (null for distances), ``threshold``, ``drifted``, ``n_reference``, ``n_current``
        (non-null values tested), then ``kind``, ``p_value_adjusted``, ``nulls_reference``,
        ``nulls_current`` and ``reason`` (which test and why). ``drifted`` is null when the
        current sample has no value.

    Raises
    ------
    ParameterError
        If a column is missing, of a type that cannot be tested, all null in the reference,
        or a test, threshold, correction or backend is not valid.

    Examples
    --------
    >>> import polars as pl
    >>> ref = pl.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    >>> cur = pl.DataFrame({"x": [2.0, 3.0, 4.0, 5.0]})
    >>> row = compare(ref, cur, tests={"x": "wasserstein"}).row(0, named=True)
    >>> row["test"], round(row["statistic"], 4), row["drifted"]
    ('wasserstein', 0.8944, True)
    """
    function = "drift.compare"
    _check_backend(backend, function)
    _check_mapping(tests, "tests", function)
    _check_mapping(thresholds, "thresholds", function)
    _check_correction(correction, function)
    _check_bins(bins, function)
    ref = to_polars(reference, parameter="reference", function=function)
    cur = to_polars(current, parameter="current", function=function)
    names = _columns([ref, cur], columns, function, set())
    window = np.zeros(cur.height, dtype=np.int64)
    table = _drift_table(ref, cur, window, 1, names, tests, thresholds, None, bins, function)
    # KS p-values as scipy's default (exact up to 10,000 values) in the one-sample case
    ks_rows = [i for i, t in enumerate(table["test"].to_list()) if t == "ks"]
    if ks_rows:
        from scipy.stats import ks_2samp

        p_values = table["p_value"].to_list()
        for i in ks_rows:
            column = names[i]
            a, b = _numeric_values(ref[column]), _numeric_values(cur[column])
            if b.size:
                p_values[i] = float(ks_2samp(a, b).pvalue)
        table = table.with_columns(
            pl.Series("p_value", p_values, dtype=pl.Float64),
            pl.Series("p_value_adjusted", p_values, dtype=pl.Float64),
        ).with_columns(
            pl.when(pl.col("test") == "ks")
            .then(pl.col("p_value") <= pl.col("threshold"))
            .otherwise(pl.col("drifted"))
            .alias("drifted")
        )
    if correction is not None:
        adjusted = _adjust(table["p_value"].fill_null(np.nan).to_numpy(), correction)
        is_p = pl.col("test").is_in([t for t, p in TESTS.items() if p])
        table = table.with_columns(
            pl.Series("p_value_adjusted", adjusted).fill_nan(None)
        ).with_columns(
            pl.when(is_p & pl.col("statistic").is_not_null())
            .then(pl.col("p_value_adjusted") <= pl.col("threshold"))
            .otherwise(pl.col("drifted"))
            .alias("drifted"),
            (
                pl.col("reason")
                + pl.when(is_p).then(pl.lit(f"; p adjusted ({correction})")).otherwise(pl.lit(""))
            ),
        )
    first = ["column", "test", "statistic", "p_value", "threshold", "drifted"]
    out = table.select(
        *first,
        "n_reference",
        "n_current",
        *[c for c in _RESULT_SCHEMA if c not in (*first, "n_reference", "n_current")],
    )
    return to_pandas(out) if backend == "pandas" else out


# --------------------------------------------------------------------------- windowed


def _moment(value: object, name: str, function: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(dt.UTC)
    elif isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    raise ParameterError(
        f"The {name!r} parameter of {function} must be an aware datetime or ISO-8601 text "
        f"with its zone ('2026-11-02T00:00:00Z'). Got {preview(value)} instead."
    )


def _check_every(every: object, function: str) -> str:
    if not isinstance(every, str) or not _EVERY.match(every):
        raise ParameterError(
            f"The 'every' parameter of {function} must be a positive duration such as '1h', "
            f"'15m' or '1d'. Got {preview(every)} instead."
        )
    return every


def _time_column(frame: pl.DataFrame, column: str, function: str) -> None:
    if column not in frame.columns:
        raise ParameterError(
            f"The 'time_column' parameter of {function} must be a column of the frame "
            f"(available: {preview(', '.join(frame.columns), 300)}). Got {column!r} instead."
        )
    dtype = frame.schema[column]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise SchemaError(
            f"Column {column!r} of the frame given to {function} is {dtype}; expected a "
            "time-zone-aware Datetime (such as Datetime('ns', 'UTC'))."
        )


def windowed(
    frame: Any,
    *,
    reference: tuple[Any, Any],
    every: str = "1h",
    columns: Sequence[str] | None = None,
    time_column: str = "start_time",
    start: Any = None,
    end: Any = None,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    correction: Literal["bonferroni", "holm", "fdr_bh"] | None = None,
    bins: int | None = None,
    backend: Literal["polars", "pandas"] = "polars",
) -> Any:
    """Drift of every window of a period against a reference window, per column.

    The rows of ``frame`` with ``reference[0] <= time < reference[1]`` are the reference;
    every window of width ``every`` (aligned on the epoch, as ``polars.Expr.dt.truncate``)
    from ``start`` to ``end`` is a current sample, compared as :func:`compare` does (same
    tests, thresholds and automatic choice, decided once on the reference size). Windows
    inside the reference are listed too: they show the noise level. Each column is
    computed in one vectorised pass over all windows: sorting, binary searches and counts,
    no loop over windows.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        One row per event (e.g. llm_calls) with a time column.
    reference : (start, end)
        The reference window: aware datetimes or ISO-8601 text with a zone; end exclusive.
    every : str, default "1h"
        Window width (``"15m"``, ``"1h"``, ``"1d"`` ...).
    columns : list of str, optional
        Columns to test (default: every testable column except ``time_column``).
    time_column : str, default "start_time"
    start, end : datetime or str, optional
        The period (end exclusive); default from the first to the last row. Empty windows
        are listed with ``n_current`` = 0 and null statistics.
    tests, thresholds, correction, bins
        As in :func:`compare`; the correction is applied per window, across columns.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per window and column, sorted by window then column order:
        ``window_start``, then the columns of :func:`compare` (``column``, ``kind``,
        ``test``, ``statistic``, ``p_value``, ``p_value_adjusted``, ``threshold``,
        ``drifted``, ``n_reference``, ``n_current``, ``nulls_reference``,
        ``nulls_current``, ``reason``). KS p-values are asymptotic
        (``scipy.stats.ks_2samp(method="asymp")``).

    Raises
    ------
    ParameterError
        If a parameter is not valid or the reference window holds no value of a column.
    SchemaError
        If ``time_column`` is not a time-zone-aware Datetime column.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> f = pl.DataFrame({
    ...     "start_time": [t0 + dt.timedelta(minutes=10 * i) for i in range(36)],
    ...     "locale": ["en"] * 24 + ["hi"] * 12})
    >>> out = windowed(f, reference=(t0, t0 + dt.timedelta(hours=2)), every="2h")
    >>> out.select("window_start", "test", "drifted").rows()  # doctest: +NORMALIZE_WHITESPACE
    [(datetime.datetime(2026, 11, 2, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
      'chisquare', False),
     (datetime.datetime(2026, 11, 2, 2, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
      'chisquare', False),
     (datetime.datetime(2026, 11, 2, 4, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
      'chisquare', True)]
    """
    function = "drift.windowed"
    _check_backend(backend, function)
    _check_mapping(tests, "tests", function)
    _check_mapping(thresholds, "thresholds", function)
    _check_correction(correction, function)
    _check_bins(bins, function)
    every = _check_every(every, function)
    ref_start, ref_end = _reference_window(reference, function)
    data = to_polars(frame, parameter="frame", function=function)
    _time_column(data, time_column, function)
    dtype = data.schema[time_column]
    names = _columns([data], columns, function, {time_column})
    times = pl.col(time_column)
    in_ref = (times >= pl.lit(ref_start, dtype=dtype)) & (times < pl.lit(ref_end, dtype=dtype))
    ref = data.filter(in_ref)
    lo = _moment(start, "start", function) if start is not None else data[time_column].min()
    hi = _moment(end, "end", function) if end is not None else None
    period = data.filter(times.is_not_null())
    if start is not None:
        period = period.filter(times >= pl.lit(lo, dtype=dtype))
    if hi is not None:
        period = period.filter(times < pl.lit(hi, dtype=dtype))
    if lo is None or (period.height == 0 and hi is None):
        empty = pl.DataFrame(schema={"window_start": dtype, **_RESULT_SCHEMA})
        return to_pandas(empty) if backend == "pandas" else empty
    last = hi if hi is not None else period[time_column].max()
    grid = _window_grid(lo, last, every, dtype, last_included=hi is None)
    period = period.with_columns(times.dt.truncate(every).alias("window_start")).join(
        grid, on="window_start", how="left", maintain_order="left"
    )
    window = period["_window"].to_numpy().astype(np.int64)
    table = _drift_table(
        ref, period, window, grid.height, names, tests, thresholds, correction, bins, function
    )
    out = _with_window_start(table, grid)
    return to_pandas(out) if backend == "pandas" else out


def _reference_window(reference: object, function: str) -> tuple[dt.datetime, dt.datetime]:
    """The (start, end) of a reference window, as aware UTC datetimes, end after start."""
    if not isinstance(reference, tuple | list) or len(reference) != 2:
        raise ParameterError(
            f"The 'reference' parameter of {function} must be a (start, end) pair. "
            f"Got {preview(reference)} instead."
        )
    ref_start = _moment(reference[0], "reference", function)
    ref_end = _moment(reference[1], "reference", function)
    if ref_end <= ref_start:
        raise ParameterError(
            f"The 'reference' parameter of {function} must end after it starts. "
            f"Got {ref_start.isoformat()} .. {ref_end.isoformat()} instead."
        )
    return ref_start, ref_end


def _window_grid(
    lo: Any, last: Any, every: str, dtype: pl.DataType, *, last_included: bool
) -> pl.DataFrame:
    """``window_start`` (from ``lo`` truncated to ``every`` up to ``last``) and ``_window``."""
    return pl.select(
        pl.datetime_range(
            pl.lit(lo, dtype=dtype).dt.truncate(every),
            pl.lit(last, dtype=dtype),
            every,
            closed="both" if last_included else "left",
        ).alias("window_start")
    ).with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_window"))


def _with_window_start(table: pl.DataFrame, grid: pl.DataFrame) -> pl.DataFrame:
    """:func:`_drift_table`'s rows with their ``window_start``, in window order."""
    return (
        table.join(grid, on="_window", how="left")
        .sort("_window", maintain_order=True)
        .select("window_start", *_RESULT_SCHEMA)
    )


def detections(
    windows: Any,
    *,
    consecutive: int = 1,
    after: Any = None,
    backend: Literal["polars", "pandas"] = "polars",
) -> Any:
    """When each column drifted: the first run of ``consecutive`` drifted windows.

    Parameters
    ----------
    windows : polars.DataFrame or pandas.DataFrame
        The output of :func:`windowed`.
    consecutive : int, default 1
        Windows in a row that must be drifted (empty windows break a run): 2 or 3 keeps an
        isolated false alarm (at the rate of the test's threshold) from counting.
    after : datetime or str, optional
        Only windows starting at or after this time (e.g. the reference's end).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per column, in the order of ``windows``: ``column``, ``test``,
        ``detected_at`` (start of the run's first window; null when never detected; the
        alarm is raised at the end of the run's last window), ``windows_drifted`` and
        ``windows`` (windows with data after ``after``), ``max_statistic``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, h, tzinfo=dt.UTC) for h in range(5)]
    >>> w = pl.DataFrame({"window_start": t, "column": ["x"] * 5, "test": ["psi"] * 5,
    ...                   "statistic": [0.0, 0.3, 0.0, 0.3, 0.4], "n_current": [9] * 5,
    ...                   "drifted": [False, True, False, True, True]})
    >>> detections(w, consecutive=2).select("column", "detected_at").row(0)
    ('x', datetime.datetime(2026, 11, 2, 3, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')))
    """
    function = "drift.detections"
    _check_backend(backend, function)
    if isinstance(consecutive, bool) or not isinstance(consecutive, int) or consecutive < 1:
        raise ParameterError(
            f"The 'consecutive' parameter of {function} must be a positive integer. "
            f"Got {preview(consecutive)} instead."
        )
    data = to_polars(windows, parameter="windows", function=function)
    needed = ["window_start", "column", "test", "statistic", "drifted", "n_current"]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise SchemaError(
            f"The windows frame given to {function} lacks {missing} (available: "
            f"{preview(', '.join(data.columns), 300)}); expected the output of drift.windowed."
        )
    if after is not None:
        moment = _moment(after, "after", function)
        data = data.filter(pl.col("window_start") >= pl.lit(moment, dtype=pl.Datetime("ns", "UTC")))
    flag = pl.col("drifted").fill_null(False).cast(pl.Int64)
    run = data.sort("column", "window_start", maintain_order=True).with_columns(
        flag.rolling_sum(consecutive).over("column").alias("_run"),
        pl.col("window_start").shift(consecutive - 1).over("column").alias("_run_start"),
    )
    order = data.select("column").unique(maintain_order=True)
    out = order.join(
        run.group_by("column").agg(
            pl.col("test").first(),
            pl.col("_run_start").filter(pl.col("_run") == consecutive).first().alias("detected_at"),
            pl.col("drifted").fill_null(False).sum().cast(pl.Int64).alias("windows_drifted"),
            (pl.col("n_current") > 0).sum().cast(pl.Int64).alias("windows"),
            pl.col("statistic").max().alias("max_statistic"),
        ),
        on="column",
        how="left",
        maintain_order="left",
    )
    return to_pandas(out) if backend == "pandas" else out


# --------------------------------------------------------------------------- change points


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


def change_points(
    series: Any,
    *,
    value_column: str,
    time_column: str = "window_start",
    method: Literal["pelt", "binseg"] = "pelt",
    penalty: float | None = None,
    min_size: int = 2,
    weight_column: str | None = None,
    backend: Literal["polars", "pandas"] = "polars",
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
    time_column : str, default "window_start"
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
    >>> change_points(s, value_column="rate", time_column="t").select("time", "shift").rows()
    [(6, 0.85), (9, -0.86)]
    """
    function = "drift.change_points"
    _check_backend(backend, function)
    if method not in ("pelt", "binseg"):
        raise ParameterError(
            f"The 'method' parameter of {function} must be 'pelt' or 'binseg'. "
            f"Got {preview(method)} instead."
        )
    if isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 1:
        raise ParameterError(
            f"The 'min_size' parameter of {function} must be a positive integer. "
            f"Got {preview(min_size)} instead."
        )
    if penalty is not None and (
        isinstance(penalty, bool) or not isinstance(penalty, int | float) or penalty < 0
    ):
        raise ParameterError(
            f"The 'penalty' parameter of {function} must be a non-negative number. "
            f"Got {preview(penalty)} instead."
        )
    data = to_polars(series, parameter="series", function=function)
    for name, column in (("value_column", value_column), ("time_column", time_column)):
        if column not in data.columns:
            raise ParameterError(
                f"The {name!r} parameter of {function} must be a column of the series "
                f"(available: {preview(', '.join(data.columns), 300)}). "
                f"Got {preview(column)} instead."
            )
    if not data.schema[value_column].is_numeric():
        raise SchemaError(
            f"Column {value_column!r} given to {function} is {data.schema[value_column]}; "
            "expected a numeric column."
        )
    if weight_column is not None and (
        weight_column not in data.columns or not data.schema[weight_column].is_numeric()
    ):
        raise ParameterError(
            f"The 'weight_column' parameter of {function} must name a numeric column of the "
            f"series (available: {preview(', '.join(data.columns), 300)}). "
            f"Got {preview(weight_column)} instead."
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
    return to_pandas(out) if backend == "pandas" else out


# --------------------------------------------------------------------------- text

#: Unicode scripts counted by :func:`text_features` (regex script classes).
SCRIPTS: tuple[str, ...] = (
    "Latin",
    "Cyrillic",
    "Greek",
    "Arabic",
    "Hebrew",
    "Devanagari",
    "Bengali",
    "Tamil",
    "Thai",
    "Han",
    "Hiragana",
    "Katakana",
    "Hangul",
)


def _texts(frame: Any, column: str, function: str) -> tuple[pl.DataFrame, pl.Series]:
    data = to_polars(frame, parameter="frame", function=function)
    if column not in data.columns:
        raise ParameterError(
            f"The 'column' parameter of {function} must be a column of the frame "
            f"(available: {preview(', '.join(data.columns), 300)}). Got {column!r} instead."
        )
    if data.schema[column] != pl.String:
        raise SchemaError(
            f"Column {column!r} given to {function} is {data.schema[column]}; expected text "
            "(String)."
        )
    return data, data[column]


@dataclass(frozen=True)
class TopicModel:
    """Topic clusters fitted on reference texts: TF-IDF vectors, k-means centroids.

    Attributes
    ----------
    k : int
        Number of clusters.
    terms : tuple of tuple of str
        The top terms of each cluster (highest centroid weights), to name them.
    reference_shares : tuple of float
        Share of the reference texts in each cluster.
    """

    k: int
    terms: tuple[tuple[str, ...], ...]
    reference_shares: tuple[float, ...]
    _vectorizer: Any = field(repr=False, compare=False)
    _kmeans: Any = field(repr=False, compare=False)

    def assign(self, texts: Any) -> pl.Series:
        """The nearest cluster of each text (``"topic <i>"``); null text stays null.

        Parameters
        ----------
        texts : polars.Series or sequence of str or None

        Returns
        -------
        polars.Series
            String.
        """
        series = texts if isinstance(texts, pl.Series) else pl.Series(list(texts))
        series = series.cast(pl.String)
        present = series.is_not_null()
        labels = np.full(series.len(), -1)
        if present.any():
            matrix = self._vectorizer.transform(series.filter(present).to_list())
            labels[present.to_numpy()] = self._kmeans.predict(matrix)
        return pl.Series(
            "topic", [f"topic {i}" if i >= 0 else None for i in labels], dtype=pl.String
        )

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>topic {i}</td><td>{share:.1%}</td><td>{html.escape(', '.join(t))}</td></tr>"
            for i, (t, share) in enumerate(zip(self.terms, self.reference_shares, strict=True))
        )
        return (
            "<table><thead><tr><th>topic</th><th>reference share</th><th>top terms</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )


def fit_topics(texts: Any, *, k: int = 8, seed: int = 0, max_features: int = 5000) -> TopicModel:
    """Fit topic clusters on reference texts (TF-IDF of words, k-means; scikit-learn).

    Assign current texts with :meth:`TopicModel.assign`, then test the ``topic`` column
    like any categorical column (a new kind of request shows as a shift of the shares, or
    as a cluster absorbing it). Texts are redacted by nothing here: top terms may quote
    the data.

    Parameters
    ----------
    texts : polars.Series or sequence of str
        The reference texts (nulls left out).
    k : int, default 8
        Clusters (fewer when there are fewer distinct texts).
    seed : int, default 0
        k-means seed: the fit is deterministic for a seed.
    max_features : int, default 5000
        Vocabulary size of the TF-IDF model.

    Returns
    -------
    TopicModel

    Examples
    --------
    >>> model = fit_topics(["reset my password", "password reset link", "GPU price",
    ...                     "price of a GPU"], k=2)
    >>> model.assign(["forgot password", None]).to_list()[1] is None
    True
    """
    function = "drift.fit_topics"
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ParameterError(
            f"The 'k' parameter of {function} must be a positive integer. Got {preview(k)} instead."
        )
    series = texts if isinstance(texts, pl.Series) else pl.Series(list(texts))
    docs = series.cast(pl.String).drop_nulls().to_list()
    if not docs:
        raise ParameterError(
            f"The 'texts' parameter of {function} must hold at least one text. Got none instead."
        )
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(max_features=max_features, sublinear_tf=True)
    matrix = vectorizer.fit_transform(docs)
    clusters = max(1, min(k, len(set(docs))))
    kmeans = KMeans(n_clusters=clusters, n_init=4, random_state=seed).fit(matrix)
    vocab = np.asarray(vectorizer.get_feature_names_out())
    terms = tuple(
        tuple(str(t) for t in vocab[np.argsort(center)[::-1][:5]])
        for center in kmeans.cluster_centers_
    )
    counts = np.bincount(kmeans.labels_, minlength=clusters)
    shares = tuple(float(c) / len(docs) for c in counts)
    return TopicModel(clusters, terms, shares, vectorizer, kmeans)


def text_features(
    frame: Any,
    column: str,
    *,
    topics: TopicModel | None = None,
    backend: Literal["polars", "pandas"] = "polars",
) -> Any:
    """Columns describing a text column, to test with :func:`compare` or :func:`windowed`.

    Adds ``<column>.chars`` (characters), ``<column>.words`` (runs of letters or digits: a
    script written without spaces counts a whole run as one word),
    ``<column>.script`` (the Unicode script of most of the text's letters, from
    :data:`SCRIPTS`, ``"Other"`` for letters of another script, null without letters),
    ``<column>.share.<Script>`` for every script found in the column (share of its letters)
    and, with ``topics``, ``<column>.topic`` (the nearest reference topic cluster).

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    column : str
        A text column (e.g. ``question`` / ``answer`` of :func:`toolkit.quality.signals`).
    topics : TopicModel, optional
        From :func:`fit_topics` on the reference texts.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``frame`` with the new columns.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"q": ["What is the price?", "कीमत क्या है?", None]})
    >>> text_features(f, "q").select("q.words", "q.script").rows()
    [(4, 'Latin'), (3, 'Devanagari'), (None, None)]
    """
    function = "drift.text_features"
    _check_backend(backend, function)
    data, texts = _texts(frame, column, function)
    letters = texts.str.count_matches(r"\p{L}").cast(pl.Int64)
    counts = {s: texts.str.count_matches(rf"[\p{{{s}}}&&\p{{L}}]").cast(pl.Int64) for s in SCRIPTS}
    known = pl.sum_horizontal(*counts.values()) if counts else pl.lit(0)
    counts_frame = pl.DataFrame(counts).with_columns(
        (letters - pl.select(known).to_series()).alias("Other")
    )
    names = [*SCRIPTS, "Other"]
    matrix = counts_frame.select(names).fill_null(0).to_numpy()
    dominant = np.argmax(matrix, axis=1) if matrix.size else np.zeros(0, dtype=np.int64)
    has_letters = (letters.fill_null(0) > 0).to_numpy()
    script = pl.Series(
        f"{column}.script",
        [names[d] if ok else None for d, ok in zip(dominant, has_letters, strict=True)],
        dtype=pl.String,
    )
    found = [s for s in names if counts_frame[s].fill_null(0).sum() > 0]
    shares = [
        pl.Series(
            f"{column}.share.{s}",
            (counts_frame[s] / letters.cast(pl.Float64)).fill_nan(None),
        )
        for s in found
    ]
    added = [
        texts.str.len_chars().cast(pl.Int64).alias(f"{column}.chars"),
        texts.str.count_matches(r"[\p{L}\p{M}\p{N}]+").cast(pl.Int64).alias(f"{column}.words"),
        script,
        *shares,
    ]
    if topics is not None:
        added.append(topics.assign(texts).alias(f"{column}.topic"))
    out = data.with_columns(added)
    return to_pandas(out) if backend == "pandas" else out


def ngrams(
    frame: Any,
    column: str,
    *,
    n: int = 3,
    buckets: int = 4096,
    keep: Sequence[str] = ("start_time",),
    backend: Literal["polars", "pandas"] = "polars",
) -> Any:
    """One row per hashed character n-gram of a text column (the vocabulary distribution).

    Texts are lowercased and their whitespace collapsed; every character n-gram is hashed
    into one of ``buckets`` buckets (polars' hash, seeded: stable across runs). Testing
    the ``<column>.ngram`` column of the result with ``jensenshannon`` or ``psi`` (in
    :func:`compare` or :func:`windowed`) measures how far the vocabulary moved, without a
    model or a fixed dictionary: new words, another language or script, answers without
    their usual citations all move it. The rows are not independent samples, so do not use
    the p-value tests (``chisquare``) on them.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    column : str
        Text column.
    n : int, default 3
        Characters per n-gram.
    buckets : int, default 4096
        Hash buckets (collisions merge n-grams; more buckets, fewer collisions).
    keep : sequence of str, default ("start_time",)
        Columns of ``frame`` repeated on every row (the time column for :func:`windowed`).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The ``keep`` columns and ``<column>.ngram`` (String bucket id), one row per n-gram.

    Examples
    --------
    >>> import polars as pl
    >>> ngrams(pl.DataFrame({"t": ["abcd", None]}), "t", keep=[]).height
    2
    """
    function = "drift.ngrams"
    _check_backend(backend, function)
    for name, value, low in (("n", n, 1), ("buckets", buckets, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ParameterError(
                f"The {name!r} parameter of {function} must be an integer >= {low}. "
                f"Got {preview(value)} instead."
            )
    data, _ = _texts(frame, column, function)
    keep_list = list(keep)
    missing = [c for c in keep_list if c not in data.columns]
    if missing:
        raise ParameterError(
            f"The 'keep' parameter of {function} must name columns of the frame "
            f"(available: {preview(', '.join(data.columns), 300)}). Got {missing} instead."
        )
    clean = pl.col(column).str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
    name = f"{column}.ngram"
    exploded = (
        data.select(*keep_list, clean.alias("_t"))
        .filter(pl.col("_t").is_not_null() & (pl.col("_t").str.len_chars() >= n))
        .with_columns(
            pl.int_ranges(0, pl.col("_t").str.len_chars() - n + 1, dtype=pl.Int64).alias("_i")
        )
        .explode("_i")
    )
    out = exploded.select(
        *keep_list,
        (pl.col("_t").str.slice(pl.col("_i"), n).hash(seed=20261102) % buckets)
        .cast(pl.String)
        .alias(name),
    )
    return to_pandas(out) if backend == "pandas" else out


# --------------------------------------------------------------------------- planning from the data

#: Window widths :func:`window_width` chooses from, widest first.
WIDTHS: tuple[str, ...] = ("1w", "1d", "1h", "15m", "5m", "1m", "1s")
_WIDTH_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def _seconds(every: str) -> int:
    return int(every[:-1]) * _WIDTH_SECONDS[every[-1]]


def window_width(start: Any, end: Any, *, min_windows: int = 6) -> str:
    """The widest of :data:`WIDTHS` that cuts ``[start, end)`` into ``min_windows`` or more.

    A week gives ``"1d"`` (7 daily windows) with the default 6, a day ``"1h"``; with
    ``min_windows=24`` a week gives ``"1h"``. Periods too short for any width get ``"1s"``.

    Parameters
    ----------
    start, end : datetime or str
        The period: aware datetimes or ISO-8601 text with a zone.
    min_windows : int, default 6
        The fewest windows the period must hold.

    Returns
    -------
    str
        A polars duration (``"1d"``, ``"1h"`` ...).

    Examples
    --------
    >>> window_width("2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z")
    '1d'
    >>> window_width("2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z", min_windows=24)
    '1h'
    >>> window_width("2026-11-02T00:00:00Z", "2026-11-02T23:59:00Z")
    '1h'
    """
    function = "drift.window_width"
    if isinstance(min_windows, bool) or not isinstance(min_windows, int) or min_windows < 1:
        raise ParameterError(
            f"The 'min_windows' parameter of {function} must be a positive integer. "
            f"Got {preview(min_windows)} instead."
        )
    lo = _moment(start, "start", function)
    hi = _moment(end, "end", function)
    span = max((hi - lo).total_seconds(), 0.0)
    for every in WIDTHS:
        if span / _seconds(every) >= min_windows - 1:
            # a period of n windows' width touches n + 1 windows: 6 days are 7 daily ones
            return every
    return WIDTHS[-1]


def default_columns(frame: Any) -> list[str]:
    """The columns the drift of an llm_calls table is tested on when none are named.

    The slice dimensions found in the data (:func:`toolkit.dimensions`: attributes with a
    few values and enough calls each) and the canonical token counts (``input_tokens``,
    ``output_tokens``, ``cached_input_tokens``, ``reasoning_tokens``: every numeric column
    whose name ends in ``_tokens`` outside the ``attributes.`` / ``resource.`` columns) that
    hold at least one value.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        Usually ``llm_calls``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"attributes.user.tier": ["free", "pro"] * 30,
    ...                       "input_tokens": list(range(60)), "reasoning_tokens": [None] * 60,
    ...                       "latency_s": [1.0] * 60})
    >>> default_columns(calls)
    ['attributes.user.tier', 'input_tokens']
    """
    from toolkit.ingest.discover import dimensions

    data = to_polars(frame, parameter="frame", function="drift.default_columns")
    tokens = [
        c
        for c, dtype in data.schema.items()
        if c.endswith("_tokens")
        and not c.startswith(("attributes.", "resource."))
        and dtype.is_numeric()
        and data[c].null_count() < data.height
    ]
    return [*dimensions(data), *tokens]


@dataclass(frozen=True)
class DriftPlan:
    """What a drift analysis of a table compares, chosen from the data unless given.

    Made by :func:`plan`.

    Attributes
    ----------
    every : str
        Width of the windows tested against the reference.
    series_every : str
        Width of the buckets of the series searched for change points.
    reference : (datetime, datetime) or None
        The reference window (UTC, end exclusive); None when the table is empty.
    reference_how : str
        How the reference was chosen, in words.
    columns : tuple of str
        The columns to test (those with a value in the reference).
    support : toolkit.Support
        Whether the table supports the windowed drift tests, and what is missing if not.
    share_support : toolkit.Support
        ``support``, and a categorical column among ``columns`` (for :func:`share_shift`).
    series_support : toolkit.Support
        ``support``, and a series to search for change points: a categorical column or the
        prompt length (``input_tokens``) among ``columns``.
    """

    every: str
    series_every: str
    reference: tuple[dt.datetime, dt.datetime] | None
    reference_how: str
    columns: tuple[str, ...]
    support: Any
    share_support: Any
    series_support: Any


def plan(
    frame: Any,
    *,
    every: str | None = None,
    series_every: str | None = None,
    reference: tuple[Any, Any] = (None, None),
    columns: Sequence[str] | None = None,
    time_column: str = "start_time",
    fraction: float = 1 / 3,
    min_rows: int = 100,
) -> DriftPlan:
    """Choose the windows, the reference and the columns of a drift analysis from the data.

    - ``every`` (None): :func:`window_width` of the period (daily windows for a week,
      hourly for a day); ``series_every`` (None): the same with at least 24 buckets
      (hourly for a week).
    - ``reference`` (None, None): the first ``fraction`` of the period, in whole windows
      of ``every`` from the first window (at least one). A period that starts with a
      change is better served by a reference the user names.
    - ``columns`` (None): :func:`default_columns`; columns without a value in the
      reference are left out (they cannot be tested).
    - ``support`` is met when the table has ``min_rows`` rows, the reference holds rows,
      some window after it holds rows, and a column is left to test.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        Usually ``llm_calls`` (may be empty: the plan then says what is missing).
    every, series_every : str, optional
        Window widths (``"1d"``, ``"1h"`` ...).
    reference : (start, end)
        Either end may be None (chosen as above); aware datetimes or ISO-8601 text.
    columns : list of str, optional
    time_column : str, default "start_time"
    fraction : float, default 1/3
        Share of the period the reference takes by default, in (0, 1).
    min_rows : int, default 100

    Returns
    -------
    DriftPlan

    Raises
    ------
    ColumnNotFoundError
        If a named column or ``time_column`` is not in the table.
    ParameterError
        If a width, the reference or ``fraction`` is not valid.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> calls = pl.DataFrame({"start_time": [t0 + dt.timedelta(hours=i) for i in range(168)],
    ...                       "input_tokens": list(range(168))})
    >>> p = plan(calls)
    >>> p.every, p.series_every, p.columns, p.support.ok
    ('1d', '1h', ('input_tokens',), True)
    >>> [t.day for t in p.reference]
    [2, 4]
    """
    from toolkit.ingest.discover import Support
    from toolkit.schema import require_columns

    function = "drift.plan"
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction < 1:
        raise ParameterError(
            f"The 'fraction' parameter of {function} must be a number in (0, 1). "
            f"Got {preview(fraction)} instead."
        )
    if not isinstance(reference, tuple | list) or len(reference) != 2:
        raise ParameterError(
            f"The 'reference' parameter of {function} must be a (start, end) pair, either "
            f"of them None. Got {preview(reference)} instead."
        )
    for name, value in (("every", every), ("series_every", series_every)):
        if value is not None and (not isinstance(value, str) or not _EVERY.match(value)):
            raise ParameterError(
                f"The {name!r} parameter of {function} must be a positive duration such as "
                f"'1h', '15m' or '1d'. Got {preview(value)} instead."
            )
    data = to_polars(frame, parameter="frame", function=function)
    require_columns(
        data, [time_column], table="llm_calls", where=f"(the time column of {function})"
    )
    if columns is not None:
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
            raise ParameterError(
                f"The 'columns' parameter of {function} must be a list of column names. "
                f"Got {preview(columns)} instead."
            )
        require_columns(
            data, list(columns), table="llm_calls", where=f"(the columns of {function})"
        )
    needs = (
        f"llm_calls ({min_rows:,} calls or more) over a reference window and at least one "
        "window after it"
    )
    how = "export the model-call spans (gen_ai.*) of a longer period"
    times = data[time_column].drop_nulls()
    if times.len() == 0:
        none = Support("drift", needs, "no llm_calls", ("llm_calls",), how)
        return DriftPlan(
            every or "1d", series_every or "1h", None, "no calls", (), none, none, none
        )
    first: Any = times.min()
    last: Any = times.max()
    every = every or window_width(first, last)
    series_every = series_every or window_width(first, last, min_windows=24)
    start = pl.select(pl.lit(first).dt.truncate(every)).item()
    given_start = reference[0] is not None
    given_end = reference[1] is not None
    ref_start = _moment(reference[0], "reference", function) if given_start else start
    if given_end:
        ref_end = _moment(reference[1], "reference", function)
    else:
        windows = max(1, int((last - ref_start).total_seconds() * fraction // _seconds(every)))
        ref_end = ref_start + dt.timedelta(seconds=windows * _seconds(every))
    if ref_end <= ref_start:
        raise ParameterError(
            f"The 'reference' parameter of {function} must end after it starts. "
            f"Got {ref_start.isoformat()} .. {ref_end.isoformat()} instead."
        )
    if given_start and given_end:
        how_text = "given"
    elif given_start or given_end:
        how_text = f"{'end' if given_start else 'start'} chosen from the data: " + (
            f"the first {fraction:.0%} of the period in whole {every} windows"
            if given_start
            else "the start of the first window"
        )
    else:
        how_text = f"the first {fraction:.0%} of the period, in whole {every} windows"
    col = pl.col(time_column)
    in_ref = data.filter((col >= ref_start) & (col < ref_end))
    after = data.filter(col >= ref_end).height
    chosen = default_columns(data) if columns is None else list(columns)
    testable = [
        c
        for c in chosen
        if in_ref[c].null_count() < in_ref.height
        and (in_ref.schema[c].is_numeric() or in_ref.schema[c] in (pl.String, pl.Boolean))
    ]
    missing: list[str] = []
    if data.height < min_rows:
        missing.append(f"at least {min_rows:,} calls")
    if in_ref.height == 0:
        missing.append("calls in the reference window")
    if after == 0:
        missing.append("calls after the reference window")
    if not testable:
        missing.append(
            "a column with values in the reference (an attribute with a few values or token counts)"
        )
    found = (
        f"{data.height:,} calls from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC; "
        f"{in_ref.height:,} in the reference, {after:,} after it"
    )
    support = Support("drift", needs, found, tuple(missing), how if missing else "")
    categorical = [c for c in testable if not in_ref.schema[c].is_numeric()]
    how_dims = (
        "set request attributes with a few values (user tier, route, locale) on the model-call "
        "spans, or name the columns in drift_columns"
    )
    columns_found = "; columns tested: " + (", ".join(testable) or "none")

    def extended(name: str, also: str, lacking: str | None) -> Any:
        more = () if lacking is None else (lacking,)
        both = (*missing, *more)
        hows = [h for h in (how if missing else "", how_dims if more else "") if h]
        return Support(name, f"{needs}, with {also}", found + columns_found, both, "; ".join(hows))

    share_support = extended(
        "category shares",
        "a categorical column with values in the reference",
        None if categorical else "a categorical column",
    )
    series_support = extended(
        "change points",
        "a categorical column or the prompt length (input_tokens) with values in the reference",
        None
        if categorical or "input_tokens" in testable
        else "a categorical column or input_tokens",
    )
    return DriftPlan(
        every,
        series_every,
        (ref_start, ref_end),
        how_text,
        tuple(testable),
        support,
        share_support,
        series_support,
    )


def most_drifted(
    table: Any, *, kind: Literal["categorical", "numeric"] = "categorical"
) -> str | None:
    """The column of a :func:`compare` table that drifted most, among those of a kind.

    Drifted columns come first, then the larger statistic (as :func:`compare` ranks the
    distances of one test: compare columns of one test with each other).

    Parameters
    ----------
    table : polars.DataFrame or pandas.DataFrame
        The output of :func:`compare`.
    kind : {"categorical", "numeric"}, default "categorical"

    Returns
    -------
    str or None
        None when no column of that kind was tested.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"column": ["a", "b", "n"], "kind": ["categorical"] * 2 + ["numeric"],
    ...                   "statistic": [0.3, 0.2, 9.0], "drifted": [False, True, True]})
    >>> most_drifted(t)
    'b'
    """
    function = "drift.most_drifted"
    data = to_polars(table, parameter="table", function=function)
    _needs(data, ["column", "kind", "statistic", "drifted"], function, "drift.compare")
    rows = data.filter(pl.col("kind") == kind).sort(
        pl.col("drifted").fill_null(False),
        pl.col("statistic").fill_null(-np.inf),
        descending=True,
    )
    return None if rows.height == 0 else str(rows["column"][0])


def _needs(data: pl.DataFrame, columns: Sequence[str], function: str, source: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise SchemaError(
            f"The frame given to {function} lacks {missing} (available: "
            f"{preview(', '.join(data.columns), 300)}); expected the output of {source}."
        )


def share_shift(reference: Any, current: Any, column: str) -> pl.DataFrame:
    """How the share of each value of a categorical column moved from reference to current.

    Parameters
    ----------
    reference, current : polars.DataFrame or pandas.DataFrame
        The two samples (e.g. calls of the reference window and calls after it).
    column : str
        A categorical column of both (nulls count as a value of their own).

    Returns
    -------
    polars.DataFrame
        One row per value: ``value`` (as text), ``reference`` and ``current`` (share of the
        rows; 0 where absent), ``change`` (current - reference), ``reference_rows``,
        ``current_rows``; the value that grew most first.

    Raises
    ------
    ColumnNotFoundError
        If ``column`` is not in both frames.

    Examples
    --------
    >>> import polars as pl
    >>> ref = pl.DataFrame({"locale": ["en", "en", "en", "de"]})
    >>> cur = pl.DataFrame({"locale": ["en", "hi", "hi", "de"]})
    >>> share_shift(ref, cur, "locale").select("value", "reference", "current", "change").rows()
    [('hi', 0.0, 0.5, 0.5), ('de', 0.25, 0.25, 0.0), ('en', 0.75, 0.25, -0.5)]
    """
    from toolkit.schema import require_columns

    function = "drift.share_shift"
    ref = to_polars(reference, parameter="reference", function=function)
    cur = to_polars(current, parameter="current", function=function)
    for frame, name in ((ref, "reference"), (cur, "current")):
        require_columns(
            frame, [column], table=name, where=f"(the 'column' parameter of {function})"
        )

    def counts(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return (
            frame.select(pl.col(column).cast(pl.String).alias("value"))
            .group_by("value")
            .len(name=f"{name}_rows")
            .with_columns(pl.col(f"{name}_rows").cast(pl.Int64))
        )

    joined = (
        counts(ref, "reference")
        .join(counts(cur, "current"), on="value", how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("reference_rows", "current_rows").fill_null(0))
    )
    return (
        joined.with_columns(
            (pl.col("reference_rows") / max(ref.height, 1)).alias("reference"),
            (pl.col("current_rows") / max(cur.height, 1)).alias("current"),
        )
        .with_columns((pl.col("current") - pl.col("reference")).alias("change"))
        .select("value", "reference", "current", "change", "reference_rows", "current_rows")
        .sort(["change", "value"], descending=[True, False], nulls_last=True)
    )


def window_series(
    frame: Any,
    *,
    every: str = "1h",
    share: tuple[str, Any] | None = None,
    log_mean: str | None = None,
    time_column: str = "start_time",
) -> pl.DataFrame:
    """Per-window series to search for change points: calls, a value's share, a log mean.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        One row per event (e.g. llm_calls).
    every : str, default "1h"
        Window width.
    share : (column, value), optional
        Adds ``share``: the share of the window's rows whose ``column`` equals ``value``.
    log_mean : str, optional
        A positive numeric column (``input_tokens``): adds ``mean_log``, the mean of its
        natural log over the window's rows with a positive value (prompt length drifts
        multiplicatively, and the log keeps a few huge prompts from dominating).
    time_column : str, default "start_time"

    Returns
    -------
    polars.DataFrame
        One row per window with rows, sorted: ``window_start``, ``calls`` and the columns
        asked for.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, h, tzinfo=dt.UTC) for h in (0, 0, 1, 1)]
    >>> f = pl.DataFrame({"start_time": t, "locale": ["en", "hi", "hi", "hi"],
    ...                   "input_tokens": [1, 1, 1, 0]})
    >>> window_series(f, share=("locale", "hi"), log_mean="input_tokens").rows()[1][1:]
    (2, 1.0, 0.0)
    """
    from toolkit.schema import require_columns

    function = "drift.window_series"
    every = _check_every(every, function)
    data = to_polars(frame, parameter="frame", function=function)
    _time_column(data, time_column, function)
    if share is not None and (not isinstance(share, tuple | list) or len(share) != 2):
        raise ParameterError(
            f"The 'share' parameter of {function} must be a (column, value) pair. "
            f"Got {preview(share)} instead."
        )
    named = [share[0] if share is not None else None, log_mean]
    require_columns(data, named, table="frame", where=f"(a parameter of {function})")
    aggs = [pl.len().cast(pl.Int64).alias("calls")]
    if share is not None:
        aggs.append((pl.col(share[0]) == share[1]).fill_null(False).mean().alias("share"))
    if log_mean is not None:
        if not data.schema[log_mean].is_numeric():
            raise SchemaError(
                f"Column {log_mean!r} given to {function} is {data.schema[log_mean]}; "
                "expected a numeric column."
            )
        value = pl.col(log_mean).cast(pl.Float64)
        aggs.append(value.filter(value > 0).log().mean().alias("mean_log"))
    return (
        data.drop_nulls(time_column)
        .group_by(pl.col(time_column).dt.truncate(every).alias("window_start"))
        .agg(aggs)
        .sort("window_start")
    )


def clean_reference(
    reference: tuple[Any, Any], windows: Any, *, start: str = "start", end: str = "end"
) -> tuple[dt.datetime, dt.datetime]:
    """The longest part of a reference window that overlaps none of some incident windows.

    A reference that holds an incident (a stale index, an outage) makes every normal window
    look drifted; this keeps the longest stretch of it clear of them.

    Parameters
    ----------
    reference : (start, end)
        Aware datetimes or ISO-8601 text; end exclusive.
    windows : polars.DataFrame or pandas.DataFrame
        One row per window to avoid, with ``start`` and ``end`` columns (end exclusive; a
        null end runs to the end of the reference).
    start, end : str
        The column names.

    Returns
    -------
    (datetime, datetime)
        The reference itself when no window overlaps it; when windows cover all of it, the
        reference too (nothing better is left).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = lambda h: dt.datetime(2026, 11, 2, tzinfo=dt.UTC) + dt.timedelta(hours=h)
    >>> w = pl.DataFrame({"start": [t(32)], "end": [t(38)]})
    >>> [x.isoformat() for x in clean_reference((t(0), t(48)), w)]
    ['2026-11-02T00:00:00+00:00', '2026-11-03T08:00:00+00:00']
    """
    from toolkit.schema import require_columns

    function = "drift.clean_reference"
    lo, hi = _reference_window(reference, function)
    data = to_polars(windows, parameter="windows", function=function)
    require_columns(data, [start, end], table="windows", where=f"(the windows of {function})")
    cuts = sorted(
        (max(lo, s.astimezone(dt.UTC)), min(hi, e.astimezone(dt.UTC) if e is not None else hi))
        for s, e in data.select(start, end).drop_nulls(start).iter_rows()
        if s < hi and (e is None or e > lo)
    )
    parts: list[tuple[dt.datetime, dt.datetime]] = []
    cursor = lo
    for s, e in cuts:
        if s > cursor:
            parts.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < hi:
        parts.append((cursor, hi))
    if not parts:
        return lo, hi
    return max(parts, key=lambda p: (p[1] - p[0], -p[0].timestamp()))
