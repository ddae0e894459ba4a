"""toolkit.performance: windowed metrics against scikit-learn, CBPE against NannyML.

The NannyML reference (``tests/data/nannyml/cbpe.json``) was made by NannyML 0.13.1 itself, in
a throwaway environment, from the committed log ``tests/data/nannyml/predictions.csv`` by
``tests/data/nannyml/make_reference.py`` (NannyML is not installed beside the toolkit: it would
downgrade lightgbm). The versions that made it are in the JSON file.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from toolkit import performance
from toolkit.errors import ParameterError, SchemaError

NANNY = Path(__file__).parent / "data" / "nannyml"
T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def _log(seed: int = 1, days: int = 4, per_day: int = 300) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * per_day
    x = rng.normal(-1.5, 1.2, n)
    label = (rng.uniform(size=n) < 1 / (1 + np.exp(-x))).astype(int)
    score = np.round(1 / (1 + np.exp(-(x + rng.normal(0, 0.8, n)))), 3)  # rounded: ties
    seconds = np.sort(rng.uniform(0, days * 86_400, n))
    return pl.DataFrame(
        {
            "time": [T0 + dt.timedelta(seconds=float(s)) for s in seconds],
            "score": score,
            "fraud": label,
            "version": rng.choice(["v1", "v2"], n),
            "label_time": [
                T0 + dt.timedelta(seconds=float(s), days=float(d))
                for s, d in zip(seconds, rng.uniform(0, 6, n), strict=True)
            ],
        }
    )


def _frame(data: pl.DataFrame, backend: str) -> object:
    return data.to_pandas() if backend == "pandas" else data


def test_windowed_equals_scikit_learn_per_window_and_slice(backend: str) -> None:
    log = _log()
    out = performance.windowed(
        _frame(log, backend), "score", "fraud", by="version", n_boot=0, backend=backend
    )
    out = pl.from_pandas(out) if backend == "pandas" else out
    assert out.height == 8
    day = pl.col("time").dt.truncate("1d")
    for row in out.iter_rows(named=True):
        part = log.filter((day == row["window_start"]) & (pl.col("version") == row["version"]))
        y, s = part["fraud"].to_numpy(), part["score"].to_numpy()
        pred = s >= 0.5
        tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
        assert row["n"] == part.height == row["labelled"]
        assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (tp, fp, fn, tn)
        assert row["precision"] == pytest.approx(skm.precision_score(y, pred), abs=1e-15)
        assert row["recall"] == pytest.approx(skm.recall_score(y, pred), abs=1e-15)
        assert row["f1"] == pytest.approx(skm.f1_score(y, pred), abs=1e-15)
        assert row["false_positive_rate"] == pytest.approx(fp / (fp + tn), abs=1e-15)
        assert row["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
        assert row["pr_auc"] == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
        assert row["alerts"] == int(pred.sum())
        assert row["cost"] == fp * 1.0 + fn * 10.0
        # ECE over 10 uniform bins, from scikit-learn's reliability curve and bin counts.
        prob_true, prob_pred = calibration_curve(y, s, n_bins=10)
        counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], s), minlength=10)
        ece = np.sum(counts[counts > 0] / len(y) * np.abs(prob_true - prob_pred))
        assert row["ece"] == pytest.approx(ece, abs=1e-12)


def test_intervals_wilson_and_bootstrap() -> None:
    from scipy.stats import binomtest

    log = _log(seed=2)
    out = performance.windowed(log, "score", "fraud", n_boot=200, seed=3)
    row = out.row(0, named=True)
    ci = binomtest(row["tp"], row["tp"] + row["fp"]).proportion_ci(0.95, method="wilson")
    assert (row["precision_lower"], row["precision_upper"]) == pytest.approx((ci.low, ci.high))
    ci = binomtest(row["fp"], row["fp"] + row["tn"]).proportion_ci(0.95, method="wilson")
    assert (row["false_positive_rate_lower"], row["false_positive_rate_upper"]) == pytest.approx(
        (ci.low, ci.high)
    )
    # Hanley-McNeil by hand for this window.
    a, n1 = row["roc_auc"], row["positives"]
    n0 = row["labelled"] - n1
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = math.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0))
    assert row["roc_auc_upper"] == pytest.approx(a + 1.959963984540054 * se)
    for name in ("f1", "pr_auc", "ece", "cost"):
        assert row[f"{name}_lower"] < row[name] < row[f"{name}_upper"], name
    again = performance.windowed(log, "score", "fraud", n_boot=200, seed=3)
    assert again.equals(out)


def test_delayed_labels_as_of_and_coverage() -> None:
    log = _log(seed=3)
    as_of = T0 + dt.timedelta(days=5)
    out = performance.windowed(
        log, "score", "fraud", label_time="label_time", as_of=as_of, min_coverage=0.6, n_boot=0
    )
    day = pl.col("time").dt.truncate("1d")
    for row in out.iter_rows(named=True):
        part = log.filter(day == row["window_start"])
        known = part.filter(pl.col("label_time") <= as_of)
        assert row["labelled"] == known.height
        assert row["label_coverage"] == pytest.approx(known.height / part.height)
        if row["label_coverage"] >= 0.6:
            y, pred = known["fraud"].to_numpy(), known["score"].to_numpy() >= 0.5
            assert row["precision"] == pytest.approx(skm.precision_score(y, pred))
            assert row["reason"] is None
        else:
            assert row["precision"] is None
            assert row["roc_auc"] is None
            assert "labels still arriving" in row["reason"]
    coverage = out["label_coverage"].to_list()
    assert coverage == sorted(coverage, reverse=True)  # later days: fewer labels known
    assert out["precision"].null_count() >= 1


def test_reliability_equals_calibration_curve(backend: str) -> None:
    log = _log(seed=4)
    y, s = log["fraud"].to_numpy(), log["score"].to_numpy()
    for strategy in ("uniform", "quantile"):
        out = performance.reliability(_frame(log, backend), "score", "fraud", strategy=strategy)
        prob_true, prob_pred = calibration_curve(y, s, n_bins=10, strategy=strategy)
        assert out["positive_rate"].to_numpy() == pytest.approx(prob_true)
        assert out["mean_score"].to_numpy() == pytest.approx(prob_pred)
        assert out["n"].sum() == log.height


def _nanny() -> tuple[pl.DataFrame, dict[str, object]]:
    reference = json.loads((NANNY / "cbpe.json").read_text())
    log = pl.read_csv(NANNY / "predictions.csv").with_columns(
        pl.col("time").str.to_datetime(time_zone="UTC")
    )
    return log, reference


def test_cbpe_equals_nannyml(backend: str) -> None:
    """Every estimate and bound equals NannyML 0.13.1's to 1e-9 (they agree to the last bit)."""
    log, ref = _nanny()
    out = performance.estimate(
        _frame(log, backend), "score", reference=(T0, T0 + dt.timedelta(days=4))
    )
    assert out["calibrated"].all()
    assert ref["needs_calibration"]
    chunks = ref["chunks"]
    assert isinstance(chunks, list)
    assert out.height == len(chunks) == 10
    for row, chunk in zip(out.iter_rows(named=True), chunks, strict=True):
        assert str(row["window_start"].date()) == chunk["window_start"]
        assert row["reference"] == (chunk["period"] == "reference")
        for ours, theirs in (
            ("precision", "precision"),
            ("recall", "recall"),
            ("f1", "f1"),
            ("roc_auc", "roc_auc"),
        ):
            for suffix, key in (
                ("_est", "value"),
                ("_est_lower", "lower"),
                ("_est_upper", "upper"),
            ):
                assert row[ours + suffix] == pytest.approx(chunk[theirs][key], abs=1e-9)
        spec = chunk["specificity"]
        assert row["false_positive_rate_est"] == pytest.approx(1 - spec["value"], abs=1e-9)
        assert row["false_positive_rate_est_upper"] == pytest.approx(1 - spec["lower"], abs=1e-9)


def test_cbpe_bounds_hold_the_realised_metric() -> None:
    """On the simulated covariate shift, the realised metric lies in CBPE's band each day."""
    log, _ = _nanny()
    est = performance.estimate(log, "score", label="label", reference=(T0, T0 + dt.timedelta(4)))
    real = performance.windowed(log, "score", "label", n_boot=0)
    joined = est.join(real, on="window_start")
    for name in ("precision", "recall", "f1", "roc_auc"):
        inside = (joined[name] >= joined[f"{name}_est_lower"]) & (
            joined[name] <= joined[f"{name}_est_upper"]
        )
        assert inside.all(), name
        error = (joined[name] - joined[f"{name}_est"]).abs().mean()
        assert error < 0.06, (name, error)


def test_cbpe_default_reference_and_errors() -> None:
    log, _ = _nanny()
    out = performance.estimate(log, "score")
    # The first quarter of the 10 days: 2.5 days, windows of 2 and 3 Nov (and 4 Nov from 12:00).
    assert out["reference"].to_list()[:4] == [True, True, True, False]
    with pytest.raises(ParameterError, match="at least 100 labelled rows of both classes"):
        performance.estimate(log, "score", reference=(T0, T0 + dt.timedelta(minutes=10)))


def test_thresholds_and_threshold_for_fpr_equal_scikit_learn() -> None:
    log = _log(seed=5, days=2)
    grid = [0.1, 0.3, 0.5, 0.7]
    out = performance.thresholds(log, "score", "fraud", grid=grid)
    assert out.height == 8
    day = pl.col("time").dt.truncate("1d")
    for row in out.iter_rows(named=True):
        part = log.filter(day == row["window_start"])
        y, pred = part["fraud"].to_numpy(), part["score"].to_numpy() >= row["threshold"]
        assert row["precision"] == pytest.approx(skm.precision_score(y, pred))
        assert row["recall"] == pytest.approx(skm.recall_score(y, pred))
        assert row["cost"] == row["fp"] + 10 * row["fn"]
    for target in (0.0, 0.01, 0.05, 0.2):
        got = performance.threshold_for_fpr(log, "score", "fraud", target, every="1d")
        for row in got.iter_rows(named=True):
            part = log.filter(day == row["window_start"])
            y, s = part["fraud"].to_numpy(), part["score"].to_numpy()
            fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
            ok = fpr <= target
            assert row["threshold"] == pytest.approx(thr[ok].min())
            assert row["false_positive_rate"] <= target
            assert row["recall"] == pytest.approx(tpr[ok].max())
    whole = performance.threshold_for_fpr(log, "score", "fraud", 0.05)
    assert whole.height == 1
    assert whole["negatives"][0] == (log["fraud"] == 0).sum()


def test_drift_and_degradations() -> None:
    rng = np.random.default_rng(6)
    n = 24_000
    seconds = np.sort(rng.uniform(0, 12 * 86_400, n))
    late = seconds > 7 * 86_400
    x = rng.normal(0, 1, n) + np.where(late, 1.0, 0.0)
    score = 1 / (1 + np.exp(-(x - 2)))
    # After day 7 the model's high scores stop meaning fraud: precision falls.
    label = rng.uniform(size=n) < np.where(late, 0.4 * score, score)
    log = pl.DataFrame(
        {
            "time": [T0 + dt.timedelta(seconds=float(s)) for s in seconds],
            "amount": x,
            "score": score,
            "fraud": label,
        }
    )
    windows = performance.windowed(log, "score", "fraud", threshold=0.3, n_boot=0)
    falls = performance.degradations(windows, metric="precision")
    assert falls.height == 1
    assert falls["start"][0] == T0 + dt.timedelta(days=7)
    assert falls["after"][0] < falls["before"][0] - 0.2
    drifted = performance.drift(
        log, columns=["amount", "score"], reference=(T0, T0 + dt.timedelta(days=3))
    )
    late_rows = drifted.filter(pl.col("window_start") >= T0 + dt.timedelta(days=8))
    early_rows = drifted.filter(pl.col("window_start") < T0 + dt.timedelta(days=7))
    assert late_rows["drifted"].all()
    assert not early_rows["drifted"].any()


def test_errors_name_the_parameter() -> None:
    log = _log(seed=7, days=1, per_day=50)
    with pytest.raises(ParameterError, match=r"'score' parameter of performance\.windowed"):
        performance.windowed(log, "nope", "fraud")
    with pytest.raises(ParameterError, match=r"'every' parameter .* Got '1 day' instead"):
        performance.windowed(log, "score", "fraud", every="1 day")
    with pytest.raises(ParameterError, match="'as_of' parameter"):
        performance.windowed(log, "score", "fraud", label_time="label_time")
    with pytest.raises(SchemaError, match="other than 0 and 1, the first 2 in row 0"):
        performance.windowed(log.with_columns(pl.lit(2).alias("fraud")), "score", "fraud")
    with pytest.raises(SchemaError, match="expected a time-zone-aware Datetime"):
        performance.windowed(
            log.with_columns(pl.col("time").dt.replace_time_zone(None)), "score", "fraud"
        )
    with pytest.raises(SchemaError, match="1 null, NaN or infinite score"):
        performance.windowed(
            log.with_columns(
                pl.when(pl.int_range(pl.len()) == 3)
                .then(None)
                .otherwise(pl.col("score"))
                .alias("score")
            ),
            "score",
            "fraud",
        )
    with pytest.raises(ParameterError, match="'target_fpr' parameter"):
        performance.threshold_for_fpr(log, "score", "fraud", 1.5)


def test_cbpe_on_the_simulated_fraud_service_holds_the_realised_metric() -> None:
    """The sample's fraud route: CBPE, calibrated on the labelled start of the exported log,
    holds the realised precision and recall (every label, as the simulator knows them) in its
    band every day, and sees the precision fall of the travel season before labels arrive."""
    from toolkit.synth.fraud import DRIFT_DAY, simulate_fraud

    sim = simulate_fraud()
    exported = sim.log.with_columns(
        pl.when(pl.col("label_time") <= sim.export_time).then(pl.col("label")).alias("label")
    )
    monitor = performance.plan(exported)
    assert monitor.reference == (T0, T0 + dt.timedelta(days=3))
    est = performance.estimate(exported, "score", reference=monitor.reference)
    truth = performance.windowed(sim.log, "score", "label", n_boot=0)
    joined = est.join(truth, on="window_start")
    for name in ("precision", "recall"):
        inside = (joined[name] >= joined[f"{name}_est_lower"]) & (
            joined[name] <= joined[f"{name}_est_upper"]
        )
        assert inside.all(), name
    drift_start = T0 + dt.timedelta(days=DRIFT_DAY)
    falls = performance.degradations(est, metric="precision_est")
    assert falls["start"].to_list() == [drift_start]
    before = joined.filter(pl.col("window_start") < drift_start)
    after = joined.filter(pl.col("window_start") >= drift_start)
    assert before["precision"].min() > 0.5
    assert after["precision"].max() < 0.25
    assert after["recall"].min() > 0.85  # recall holds: a covariate shift, not new fraud
