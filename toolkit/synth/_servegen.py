"""A synthetic workload drawn from ServeGen's per-window statistics.

ServeGen (Alibaba Bailian) publishes statistics, not requests:
:func:`toolkit.ingest.workloads.read_servegen` reads them and
:func:`servegen_to_workload` draws requests from them, explicitly and reproducibly.
Generating lives here, apart from the readers in :mod:`toolkit.ingest`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import BACKEND, Backend, Frame, InstanceOf, Interval, validate_params
from toolkit.errors import ParameterError, SchemaError, preview
from toolkit.ingest.workloads import _SERVEGEN_DISTS, _output, _parse_start
from toolkit.schema import TIME

_SERVEGEN_COLUMNS = (
    "window_start_s",
    "window_s",
    "active",
    "rate_rps",
    "arrival_dist",
    "arrival_shape",
    "input_tokens_pmf",
    "output_tokens_pmf",
)


def _sample_pmf(pmf: list[dict[str, Any]], n: int, rng: np.random.Generator) -> np.ndarray:
    values = np.array([p["value"] for p in pmf])
    cdf = np.cumsum([p["probability"] for p in pmf])
    picks = np.searchsorted(cdf / cdf[-1], rng.random(n), side="right")
    return values[np.minimum(picks, len(values) - 1)]


@validate_params(
    windows=Frame(),
    seed=Interval(int, 0, None),
    model=[InstanceOf(str, description="a string"), None],
    backend=BACKEND,
)
def servegen_to_workload(
    windows: Any,
    *,
    seed: int,
    start: datetime | str | None = None,
    model: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """Draw a **synthetic** workload from ServeGen windows (see
    :func:`toolkit.ingest.workloads.read_servegen`).

    ServeGen publishes statistics, not requests, so any request list made from it is a
    sample; this function makes one explicitly and reproducibly, and every row's
    ``source`` says ``servegen synthetic``.

    For each active window with rate ``r`` and length ``w``: ``round(r * w)`` arrivals,
    whose gaps are drawn from the window's fitted inter-arrival distribution (Gamma or
    Weibull with ``arrival_shape``; Exponential) and rescaled so that the gaps fill the
    window exactly (the scale parameter then plays no part), as ServeGen's own generator
    does. Input and output token counts (and ``reason_ratio``, when present) are drawn
    from the window's distributions *independently* of one another: the data holds
    marginal distributions only (ServeGen's generator reuses one uniform draw for all
    fields, which makes them perfectly rank-correlated; this one does not).

    Parameters
    ----------
    windows : polars.DataFrame or pandas.DataFrame
        The frame of :func:`~toolkit.ingest.workloads.read_servegen` (or a subset of its rows).
    seed : int
        Seed of the random generator (:func:`numpy.random.default_rng`); required, so that
        a synthetic workload is always reproducible.
    start : datetime or str, optional
        Time of ``window_start_s == 0`` (midnight of the trace's first day), time-zone
        aware. When omitted, the Unix epoch ``1970-01-01T00:00:00Z``, stated in ``source``.
    model : str, optional
        Written to the ``model`` column (ServeGen names the model by directory only).
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The ``workload`` table sorted by ``arrival_time``, with
        ``attributes.servegen_client``, ``attributes.servegen_window_start_s`` and
        ``attributes.reason_ratio`` (Float64, null without a reason_ratio distribution).

    Raises
    ------
    ParameterError
        A bad parameter, or an active window without token distributions.
    SchemaError
        ``windows`` lacks the columns of :func:`~toolkit.ingest.workloads.read_servegen`.

    Examples
    --------
    >>> import polars as pl
    >>> windows = pl.DataFrame({
    ...     "window_start_s": [0], "window_s": [600], "active": [True], "rate_rps": [0.01],
    ...     "arrival_dist": ["Gamma"], "arrival_shape": [0.5],
    ...     "input_tokens_pmf": [[{"value": 100, "probability": 1.0}]],
    ...     "output_tokens_pmf": [[{"value": 7, "probability": 1.0}]]})
    >>> df = servegen_to_workload(windows, seed=1)
    >>> df.height, df["input_tokens"].unique().to_list(), df["source"][0][:30]
    (6, [100], 'servegen synthetic sample (see')
    """
    function = "servegen_to_workload"
    anchor = _parse_start(start)
    frame: pl.DataFrame = windows
    missing = [c for c in _SERVEGEN_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"The 'windows' frame of {function} lacks {', '.join(repr(m) for m in missing)} "
            f"(columns of read_servegen). Available columns: "
            f"{', '.join(repr(c) for c in frame.columns) or 'none'}."
        )
    rng = np.random.default_rng(seed)
    has_reason = "reason_ratio_pmf" in frame.columns
    columns: dict[str, list[Any]] = {
        k: [] for k in ("ns", "input", "output", "reason", "client", "window", "source")
    }
    for row in frame.iter_rows(named=True):
        rate = row["rate_rps"]
        if not row["active"] or rate is None or rate <= 0:
            continue
        n = round(rate * row["window_s"])
        if n == 0:
            continue
        client = row.get("client")
        where = f"the window starting at {row['window_start_s']} s"
        if client is not None:
            where += f" (client {client})"
        for name in ("input_tokens_pmf", "output_tokens_pmf"):
            if not row[name]:
                raise ParameterError(
                    f"The 'windows' parameter of {function}: {where} is active but has no "
                    f"{name.removesuffix('_pmf')} distribution."
                )
        dist, shape = row["arrival_dist"], row["arrival_shape"]
        if dist == "Gamma":
            gaps = rng.gamma(shape, 1.0, n + 1)
        elif dist == "Weibull":
            gaps = rng.weibull(shape, n + 1)
        elif dist == "Exponential":
            gaps = rng.exponential(1.0, n + 1)
        else:
            raise ParameterError(
                f"The 'windows' parameter of {function}: {where} has arrival_dist "
                f"{preview(dist)}; expected one of {', '.join(_SERVEGEN_DISTS)}."
            )
        offsets_s = np.cumsum(gaps)[:n] / gaps.sum() * row["window_s"]
        columns["ns"].append(
            row["window_start_s"] * 1_000_000_000
            + anchor.ns
            + np.rint(offsets_s * 1e9).astype(np.int64)
        )
        columns["input"].append(_sample_pmf(row["input_tokens_pmf"], n, rng))
        columns["output"].append(_sample_pmf(row["output_tokens_pmf"], n, rng))
        columns["reason"].append(
            _sample_pmf(row["reason_ratio_pmf"], n, rng)
            if has_reason and row["reason_ratio_pmf"]
            else np.full(n, np.nan)
        )
        columns["client"].append([client] * n)
        columns["window"].append(np.full(n, row["window_start_s"], dtype=np.int64))
        columns["source"].append([row.get("source") or "a windows frame"] * n)

    def stacked(key: str, dtype: pl.DataType) -> pl.Series:
        parts = columns[key]
        if not parts:
            return pl.Series([], dtype=dtype)
        if isinstance(parts[0], list):
            return pl.Series([v for part in parts for v in part], dtype=dtype)
        return pl.Series(np.concatenate(parts)).cast(dtype)

    describe = f"seed={seed}, {anchor.describe()}"
    out = (
        pl.DataFrame(
            {
                "arrival_time": stacked("ns", pl.Int64()).cast(TIME),
                "input_tokens": stacked("input", pl.Int64()),
                "output_tokens": stacked("output", pl.Int64()),
                "model": pl.Series([model] * sum(len(p) for p in columns["ns"]), dtype=pl.String),
                "source": stacked("source", pl.String()),
                "attributes.servegen_client": stacked("client", pl.Int64()),
                "attributes.servegen_window_start_s": stacked("window", pl.Int64()),
                "attributes.reason_ratio": stacked("reason", pl.Float64()),
            }
        )
        .with_columns(
            pl.col("attributes.reason_ratio").fill_nan(None),
            pl.format(
                "servegen synthetic sample ({}) of {}", pl.lit(describe), pl.col("source")
            ).alias("source"),
        )
        .sort("arrival_time", maintain_order=True)
    )
    return _output(out, backend)


# --- llm_calls ---------------------------------------------------------------------------
