"""Make NannyML's CBPE estimate on a small simulated prediction log, for tests/test_performance.py.

NannyML is not a dependency of the toolkit: installed into the project's environment it
downgrades lightgbm (4.7 -> 4.5) and pulls in xgboost, gcsfs and plotly. This script runs in a
throwaway environment instead:

    uv venv /tmp/nanny --python .venv/bin/python
    uv pip install --python /tmp/nanny/bin/python nannyml==0.13.1 statsmodels
    /tmp/nanny/bin/python tests/data/nannyml/make_reference.py

It writes ``predictions.csv`` (the log: 10 days, 800 predictions a day, a miscalibrated score
whose distribution shifts upward from day 6: covariate shift, the case CBPE is built for) and
``cbpe.json`` (NannyML's per-day estimates, bounds and realised values, with the versions that
made them). Both are committed; the test reads them and needs neither NannyML nor this script.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
METRICS = ["precision", "recall", "f1", "specificity", "roc_auc"]
REFERENCE_DAYS = 4
THRESHOLD = 0.5


def make_log() -> pd.DataFrame:
    rng = np.random.default_rng(20)
    days, per_day = 10, 800
    t0 = pd.Timestamp("2026-11-02T00:00:00Z")
    rows = []
    for day in range(days):
        shift = 0.0 if day < 6 else 0.8
        x = rng.normal(loc=-2.2 + shift, scale=1.3, size=per_day)
        true_p = 1 / (1 + np.exp(-x))
        label = (rng.uniform(size=per_day) < true_p).astype(int)
        # The model is over-confident: its score is the true logit times 1.6, plus noise.
        score = 1 / (1 + np.exp(-(1.6 * x + rng.normal(scale=0.3, size=per_day))))
        seconds = np.sort(rng.uniform(0, 86_400, size=per_day))
        for s, sc, y in zip(seconds, score, label, strict=True):
            rows.append(
                {
                    "time": (t0 + pd.Timedelta(days=day, seconds=float(s))).isoformat(),
                    "score": round(float(sc), 6),
                    "label": int(y),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"  # no telemetry upload
    import nannyml
    import sklearn

    log = make_log()
    log.to_csv(HERE / "predictions.csv", index=False)
    data = pd.read_csv(HERE / "predictions.csv")
    data["time"] = pd.to_datetime(data["time"], utc=True).dt.tz_localize(None)
    data["pred"] = (data["score"] >= THRESHOLD).astype(int)
    cut = data["time"].min().normalize() + pd.Timedelta(days=REFERENCE_DAYS)
    reference, analysis = data[data["time"] < cut], data[data["time"] >= cut]
    cbpe = nannyml.CBPE(
        y_pred_proba="score",
        y_pred="pred",
        y_true="label",
        timestamp_column_name="time",
        metrics=METRICS,
        chunk_period="D",
        problem_type="classification_binary",
    )
    cbpe.fit(reference)
    result = cbpe.estimate(analysis).to_df()
    chunks = []
    for _, row in result.iterrows():
        entry = {
            "window_start": str(pd.Timestamp(row[("chunk", "start_date")]).date()),
            "period": str(row[("chunk", "period")]),
        }
        for metric in METRICS:
            entry[metric] = {
                "value": float(row[(metric, "value")]),
                "lower": float(row[(metric, "lower_confidence_boundary")]),
                "upper": float(row[(metric, "upper_confidence_boundary")]),
                "sampling_error": float(row[(metric, "sampling_error")]),
                "realized": float(row[(metric, "realized")]),
            }
        chunks.append(entry)
    out = {
        "made_by": "tests/data/nannyml/make_reference.py",
        "versions": {
            "nannyml": nannyml.__version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "reference": {"start": "2026-11-02", "end": "2026-11-06"},
        "threshold": THRESHOLD,
        "needs_calibration": bool(cbpe.needs_calibration),
        "chunks": chunks,
    }
    (HERE / "cbpe.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
