"""The sample's fraud-scoring service: a card-payment model's prediction log with delayed labels.

A payment gateway scores every card transaction with a fraud model (``fraud-gbm`` 3.2) and
logs the prediction; a chargeback or an analyst's review labels it days later. From
:data:`DRIFT_DAY` on (``season_day`` of :func:`simulate_fraud` moves it, None removes it), a
holiday-travel season changes the transaction mix: many more cross-border purchases on new
devices, in travel and electronics, which the model scores high. The relation of the
features to fraud does not change (the true fraud probability of a transaction is the same
function of its features throughout), so this is a covariate
shift: the model's ranking still holds, but far more genuine transactions now land just
above its threshold, and its precision falls. The log is exported at the end of the week,
so the last days' labels have not arrived yet.

:func:`simulate_fraud` returns the full log (every label, as the generator knows it) and
:func:`write_fraud` writes what a user would export (labels known by the export time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import Interval, reject, validate_params
from toolkit.synth._model import START
from toolkit.synth._writers import gzip_writer

__all__ = [
    "DRIFT_DAY",
    "FRAUD_FILE",
    "INCIDENT_ID",
    "THRESHOLD",
    "FraudLog",
    "fraud_truth",
    "simulate_fraud",
    "write_fraud",
]

#: The file the sample holds.
FRAUD_FILE = "predictions.csv.gz"
#: The model's operating threshold (an alert when score >= it).
THRESHOLD = 0.5
#: The day (0-based, from the sample's start) the travel season begins, at 00:00 UTC.
DRIFT_DAY = 3
MODEL_VERSION = "fraud-gbm-3.2"
#: The id of the season's entry in ``truth.json``.
INCIDENT_ID = "fraud-model-precision-drop"
CATEGORIES = ("grocery", "fuel", "electronics", "travel", "gaming", "gift_cards")
_CATEGORY_SHARE = {
    False: (0.34, 0.20, 0.14, 0.06, 0.14, 0.12),
    True: (0.22, 0.12, 0.22, 0.30, 0.08, 0.06),
}
_CATEGORY_RISK = {
    "grocery": -0.6,
    "fuel": -0.4,
    "electronics": 0.5,
    "travel": 0.3,
    "gaming": 0.4,
    "gift_cards": 0.9,
}
#: Mean label delay in days (chargebacks and reviews), exponential.
LABEL_DELAY_DAYS = 1.2


@dataclass(frozen=True)
class FraudLog:
    """A simulated prediction log.

    Attributes
    ----------
    log : polars.DataFrame
        Every prediction with its true label (``label``) and when it became known
        (``label_time``, possibly after ``export_time``).
    export_time : datetime
        When the log is exported: labels known later are empty in the file.
    season_day : int or None
        The day (0-based) the travel season began; None: no season.
    """

    log: pl.DataFrame
    export_time: dt.datetime
    season_day: int | None = DRIFT_DAY


@validate_params(
    days=Interval(int, 1, None, closed="left"),
    per_day=Interval(int, 1, None, closed="left"),
    seed=Interval(int, 0, None),
    season_day=[Interval(int, 0, None), None],
)
def simulate_fraud(
    *, days: int = 7, per_day: int = 2000, seed: int = 20261102, season_day: int | None = DRIFT_DAY
) -> FraudLog:
    """Simulate the fraud model's prediction log.

    Parameters
    ----------
    days : int, default 7
    per_day : int, default 2000
        Transactions a day (diurnal: fewer at night).
    seed : int, default 20261102
    season_day : int or None, default DRIFT_DAY
        The day (0-based) the travel season begins, at 00:00 UTC; None (or a day at or
        after the end): no season, the transaction mix stays the same all period.

    Returns
    -------
    FraudLog

    Raises
    ------
    ParameterError
        If a parameter is out of range.

    Examples
    --------
    >>> sim = simulate_fraud(days=4, per_day=200, seed=1)
    >>> sim.log.height, sim.log["label"].dtype
    (800, Boolean)
    >>> simulate_fraud(days=2, per_day=10, seed=1, season_day=None).season_day is None
    True
    """
    rng = np.random.default_rng(seed)
    n = days * per_day
    day = np.repeat(np.arange(days), per_day)
    # Diurnal arrival times: a mixture peaking in the afternoon.
    hour = np.mod(rng.normal(15.0, 4.5, n), 24.0)
    seconds = day * 86_400 + hour * 3600
    order = np.argsort(seconds, kind="stable")
    seconds, day = seconds[order], day[order]
    season = day >= (days if season_day is None else season_day)
    cross_border = rng.uniform(size=n) < np.where(season, 0.26, 0.03)
    new_device = rng.uniform(size=n) < np.where(season, 0.34, 0.06)
    category = np.empty(n, dtype=object)
    for flag in (False, True):
        idx = np.nonzero(season == flag)[0]
        category[idx] = rng.choice(CATEGORIES, size=idx.size, p=_CATEGORY_SHARE[flag])
    amount = np.round(np.exp(rng.normal(3.6, 1.0, n) + np.where(season, 0.35, 0.0)), 2)
    account_age = np.floor(rng.exponential(700.0, n)).astype(np.int64)
    tx_last_hour = rng.poisson(0.01, n)
    risk = np.array([_CATEGORY_RISK[c] for c in category])
    logit = (
        -6.5
        + 0.25 * np.log(amount / 40.0)
        + 0.5 * cross_border
        + 0.5 * new_device
        + 3.6 * (cross_border & new_device)
        + 7.6 * tx_last_hour
        + 0.5 * risk
        - 0.3 * np.log1p(account_age / 100.0)
    )
    p_fraud = 1.0 / (1.0 + np.exp(-logit))
    fraud = rng.uniform(size=n) < p_fraud
    # The model ranks by the true risk but is over-confident (scores are not probabilities).
    model_logit = 1.7 * logit + 4.7 + rng.normal(0.0, 0.25, n)
    score = np.round(1.0 / (1.0 + np.exp(-model_logit)), 6)
    delay = rng.exponential(LABEL_DELAY_DAYS * 86_400, n) + 3600.0
    start = START
    times = [start + dt.timedelta(seconds=float(s)) for s in np.round(seconds, 3)]
    label_times = [start + dt.timedelta(seconds=float(s)) for s in np.round(seconds + delay, 0)]
    log = pl.DataFrame(
        {
            "prediction_id": [f"tx-{seed % 10_000:04d}-{i:06d}" for i in range(n)],
            "time": pl.Series(times, dtype=pl.Datetime("ms", "UTC")),
            "model_version": [MODEL_VERSION] * n,
            "channel": rng.choice(["web", "app", "pos"], size=n, p=[0.45, 0.35, 0.2]),
            "merchant_category": category.astype(str),
            "amount_eur": amount,
            "cross_border": cross_border,
            "new_device": new_device,
            "account_age_days": account_age,
            "tx_last_hour": tx_last_hour,
            "score": score,
            "label": fraud,
            "label_time": pl.Series(label_times, dtype=pl.Datetime("ms", "UTC")),
        }
    )
    return FraudLog(log, start + dt.timedelta(days=days), season_day)


def _export(sim: FraudLog) -> pl.DataFrame:
    known = pl.col("label_time") <= pl.lit(sim.export_time, dtype=pl.Datetime("ms", "UTC"))
    iso = "%Y-%m-%dT%H:%M:%S%.3fZ"
    return sim.log.with_columns(
        pl.when(known).then(pl.col("label").cast(pl.Int8)).otherwise(None).alias("label"),
        pl.when(known).then(pl.col("label_time")).otherwise(None).dt.strftime(iso),
        pl.col("time").dt.strftime(iso),
    )


def write_fraud(sim: FraudLog, path: str | Path) -> int:
    """Write the log as a user would export it: gzip CSV, labels known at the export time.

    Parameters
    ----------
    sim : FraudLog
    path : str or path

    Returns
    -------
    int
        Rows written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "predictions.csv.gz"
    >>> write_fraud(simulate_fraud(days=2, per_day=50, seed=1), path)
    100
    """
    frame = _export(sim)
    with gzip_writer(Path(path)) as out:
        out.write(frame.write_csv().encode("utf-8"))
    return frame.height


def fraud_truth(sim: FraudLog, *, threshold: float = THRESHOLD) -> dict[str, Any]:
    """The sample's fraud incident for ``truth.json``: window, cause and the true metrics.

    Parameters
    ----------
    sim : FraudLog
    threshold : float, default THRESHOLD

    Returns
    -------
    dict
        The incident in the shape of the sample's others (``id``, ``kind``, ``window``,
        ``slice``, ``cause``, ``signal``), with the threshold, the export time and the
        true per-day ``precision``, ``recall`` and label coverage.

    Raises
    ------
    ParameterError
        If the log has no season (``simulate_fraud(season_day=None)``) in its period.

    Examples
    --------
    >>> truth = fraud_truth(simulate_fraud(days=5, per_day=300, seed=2))
    >>> truth["window"]["start"]
    '2026-11-05T00:00:00Z'
    """
    days = (sim.export_time - START).days
    if sim.season_day is None or sim.season_day >= days:
        raise reject(
            "sim",
            "be a log with a travel season in its period",
            got=f"a log of {days} days with season_day={sim.season_day}",
            function="synth.fraud.fraud_truth",
        )
    log = sim.log.with_columns(pl.col("time").dt.truncate("1d").alias("day"))
    alert = pl.col("score") >= threshold
    daily = (
        log.group_by("day", maintain_order=True)
        .agg(
            (alert & pl.col("label")).sum().alias("tp"),
            (alert & ~pl.col("label")).sum().alias("fp"),
            (~alert & pl.col("label")).sum().alias("fn"),
            (pl.col("label_time") <= sim.export_time).mean().alias("coverage"),
        )
        .sort("day")
    )
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    start = START + dt.timedelta(days=sim.season_day)
    return {
        "id": INCIDENT_ID,
        "kind": "prediction_quality_regression",
        "window": {"start": start.strftime(fmt), "end": sim.export_time.strftime(fmt)},
        "slice": {"model_version": MODEL_VERSION},
        "file": FRAUD_FILE,
        "threshold": threshold,
        "cause": (
            "covariate shift: a holiday-travel season brings many more cross-border "
            "purchases on new devices (travel, electronics), which the model scores just "
            "above its threshold; the true fraud probability of a transaction given its "
            "features is unchanged, so more genuine transactions are flagged: precision "
            "falls while recall holds"
        ),
        "signal": (
            f"precision at score >= {threshold} per day (realised where labels are known, "
            "CBPE estimate for the unlabelled tail); drift of cross_border, new_device, "
            "merchant_category and the score"
        ),
        "drifted_features": ["cross_border", "new_device", "merchant_category", "amount_eur"],
        "export_time": sim.export_time.strftime(fmt),
        "label_delay_mean_days": LABEL_DELAY_DAYS,
        "daily": [
            {
                "day": row["day"].strftime("%Y-%m-%d"),
                "precision": round(row["tp"] / max(row["tp"] + row["fp"], 1), 4),
                "recall": round(row["tp"] / max(row["tp"] + row["fn"], 1), 4),
                "label_coverage": round(row["coverage"], 4),
            }
            for row in daily.iter_rows(named=True)
        ],
    }
