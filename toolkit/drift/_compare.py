"""The drift tests (KS, Wasserstein, chi-square, Jensen-Shannon, PSI), their choice per
column and the vectorised engine behind them; :func:`compare` of a reference and a
current sample. The tests are described in :mod:`toolkit.drift`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Frame,
    InstanceOf,
    Interval,
    OneOf,
    Strings,
    frame_out,
    reject,
    validate_params,
)
from toolkit.errors import ParameterError, preview

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
    raise reject(
        "columns",
        "name numeric, string, categorical or boolean columns",
        got=f"{column!r} of type {dtype}",
        function=function,
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
    if not _COLUMNS.accepts(columns):
        raise reject("columns", "be a list of column names", columns, function=function)
    for frame in frames:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise reject(
                "columns",
                f"name columns of the frames (available: {preview(', '.join(frame.columns), 300)})",
                missing,
                function=function,
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
            raise reject(
                "tests",
                f"map columns to one of {sorted(TESTS)}",
                got=f"{preview(test)} for {column!r}",
                function=function,
            )
        if kind == "categorical" and test in _NUMERIC_ONLY:
            raise reject(
                "tests",
                "give a categorical column one of chisquare, jensenshannon, psi",
                got=f"{test!r} for {column!r}",
                function=function,
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
        if not _THRESHOLD.accepts(value):
            raise reject(
                "thresholds",
                "map columns to non-negative numbers",
                got=f"{preview(value)} for {column!r}",
                function=function,
            )
        threshold = float(value)
        reason += f"; threshold {threshold:g} set by the caller"
    if test == "psi":
        reason += "; PSI bands: <0.1 none, 0.1-0.25 moderate, >=0.25 major"
    return test, threshold, reason


#: The constraints the drift functions share (:func:`compare`, :func:`windowed`, ...).
_COLUMNS = Strings(description="a list of column names")
_MAPPING = [InstanceOf(Mapping, description="a mapping of column names"), None]
_CORRECTION = OneOf(
    None, "bonferroni", "holm", "fdr_bh", description="None, 'bonferroni', 'holm' or 'fdr_bh'"
)
_BINS = [Interval(int, 2, None), None]
_THRESHOLD = Interval(float, 0, None)
#: ``tests``, ``thresholds``, ``correction``, ``bins`` and ``backend``, as every drift
#: test takes them.
SHARED: dict[str, object] = {
    "tests": _MAPPING,
    "thresholds": _MAPPING,
    "correction": _CORRECTION,
    "bins": _BINS,
    "backend": BACKEND,
}


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
        raise reject("columns", "name at least one column to test", got="none", function=function)
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


@validate_params(reference=Frame(), current=Frame(), columns=[_COLUMNS, None], **SHARED)
def compare(
    reference: Any,
    current: Any,
    columns: Sequence[str] | None = None,
    *,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    correction: Literal["bonferroni", "holm", "fdr_bh"] | None = None,
    bins: int | None = None,
    backend: Backend = "polars",
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
    ref: pl.DataFrame = reference
    cur: pl.DataFrame = current
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
    return frame_out(out, backend)
