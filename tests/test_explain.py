"""toolkit.explain: additivity, known drivers, leakage guards, LIME signs, the sample's incident."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from toolkit.errors import ParameterError
from toolkit.explain import LeakageError, LowFidelityWarning, explain, feature_frame

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def _frame(n: int = 4000, seed: int = 0) -> pl.DataFrame:
    """Calls whose TTFT depends on prompt length and pool only (three noise columns)."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(50, 12_000, n)
    pool = rng.choice(["h100-pool", "l4-pool"], n)
    ttft = tokens / 3000 * np.where(pool == "l4-pool", 2.5, 1.0) + rng.exponential(0.2, n)
    return pl.DataFrame(
        {
            "start_time": [T0 + dt.timedelta(seconds=30 * i) for i in range(n)],
            "input_tokens": tokens,
            "attributes.deployment.pool": pool,
            "noise_a": rng.normal(size=n),
            "noise_b": rng.uniform(size=n),
            "attributes.user.locale": rng.choice(["en-US", "de-DE", "tr-TR"], n),
            "ttft_s": ttft,
            "latency_s": ttft + rng.exponential(1.0, n),
        }
    ).with_columns(pl.col("start_time").dt.cast_time_unit("ns"))


@pytest.fixture(scope="module")
def breach() -> object:
    return explain(_frame(), pl.col("ttft_s") > 3, progress=False)


def test_shap_values_add_up_to_the_raw_model_output(breach: object) -> None:
    result = breach
    values = result.shap_values(list(range(0, 4000, 7)))
    names = list(result.features)
    total = values.select(pl.sum_horizontal(names) + pl.col("base_value")).to_series()
    assert np.abs(total.to_numpy() - values["prediction"].to_numpy()).max() < 1e-6
    # the model's own raw output, from the features as the model sees them
    x = result._x[values["row"].to_numpy()]
    raw = result.model.predict(x, raw_score=True)
    assert np.abs(values["prediction"].to_numpy() - raw).max() < 1e-6
    # the reference implementation gives the same values
    with warnings.catch_warnings():  # shap's import-time deprecations, its LightGBM note
        warnings.simplefilter("ignore")
        import shap

        reference = np.asarray(shap.TreeExplainer(result.model).shap_values(x))
    assert np.abs(values.select(names).to_numpy() - reference).max() < 1e-6


def test_known_drivers_rank_first_and_noise_is_near_zero(breach: object) -> None:
    result = breach
    ranked = result.importance["feature"].to_list()
    assert set(ranked[:2]) == {"input_tokens", "attributes.deployment.pool"}
    shares = dict(result.importance.select("feature", "share").rows())
    for noise in ("noise_a", "noise_b", "attributes.user.locale", "hour_of_day"):
        assert shares[noise] < 0.03, (noise, shares[noise])
    assert result.fidelity is not None
    assert result.fidelity > 0.95
    assert result.task == "classification"
    assert result.fidelity_metric == "roc_auc"
    # the time holdout: the latest quarter of the calls
    assert result.holdout_rows == 1000
    assert result.train_rows == 3000
    assert result.holdout_start == T0 + dt.timedelta(seconds=30 * 3000)
    top = result.interactions(top=1, rows=300).row(0, named=True)
    assert {top["feature_a"], top["feature_b"]} == {"input_tokens", "attributes.deployment.pool"}


def test_leaks_are_refused_with_the_reason() -> None:
    frame = _frame(600)
    result = explain(frame, pl.col("ttft_s") > 3, progress=False)
    reasons = dict(result.excluded.rows())
    assert "latency_s" not in result.features
    assert reasons["latency_s"].startswith("measures the call's own duration")
    assert reasons["ttft_s"] == "is the outcome itself"
    with pytest.raises(LeakageError, match=r"'latency_s' measures the call's own duration"):
        explain(frame, pl.col("ttft_s") > 3, ["input_tokens", "latency_s"], progress=False)
    # an error target: tokens recorded only on calls that did not fail
    rng = np.random.default_rng(3)
    failed = rng.uniform(size=600) < 0.2
    errors = frame.with_columns(
        is_error=pl.Series(failed),
        error_type=pl.Series(["503" if f else None for f in failed], dtype=pl.String),
        output_tokens=pl.Series([None if f else 100 for f in failed], dtype=pl.Int64),
        input_tokens=pl.when(pl.Series(failed)).then(None).otherwise(pl.col("input_tokens")),
    )
    result = explain(errors, "is_error", progress=False, fidelity_floor=0.0)
    reasons = dict(result.excluded.rows())
    assert "error_type" in reasons
    assert "output_tokens" in reasons
    assert reasons["input_tokens"].startswith("is missing in 100% of the calls with the outcome")
    with pytest.raises(LeakageError, match="'input_tokens' is missing in 100%"):
        explain(errors, "is_error", ["input_tokens", "noise_a"], progress=False)


def test_lime_recovers_the_signs_of_a_linear_truth() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    x = rng.normal(size=(n, 4))
    coefficients = np.array([3.0, -2.0, 1.5, -1.0])
    y = x @ coefficients + rng.normal(scale=0.1, size=n)
    frame = pl.DataFrame({f"x{i}": x[:, i] for i in range(4)}).with_columns(y=pl.Series(y))
    result = explain(frame, "y", holdout_by="random", progress=False)
    assert result.task == "regression"
    assert result.fidelity is not None
    assert result.fidelity > 0.9
    local = result.local([0, 1, 2], top=4, discretize=False, num_samples=2000)
    for row in (0, 1, 2):
        weights = dict(
            local.frame.filter(pl.col("row") == row).select("feature", "lime_weight").rows()
        )
        assert {f: np.sign(w) for f, w in weights.items()} == {
            f"x{i}": np.sign(c) for i, c in enumerate(coefficients)
        }
    assert local.agreement.height == 3
    assert set(local.frame.columns) == {
        "row",
        "feature",
        "value",
        "condition",
        "lime_weight",
        "shap_value",
    }


def test_compare_differences_add_up_and_name_the_window_cause() -> None:
    frame = _frame(3000).with_columns(
        release=pl.when(
            pl.col("start_time").is_between(
                T0 + dt.timedelta(hours=10), T0 + dt.timedelta(hours=14)
            )
        )
        .then(pl.lit("v2"))
        .otherwise(pl.lit("v1"))
    )
    frame = frame.with_columns(
        ttft_s=pl.when(pl.col("release") == "v2").then(pl.col("ttft_s") * 3).otherwise("ttft_s")
    )
    result = explain(frame, pl.col("ttft_s") > 3, holdout_by="random", progress=False)
    window = ("2026-11-02T10:00:00Z", "2026-11-02T14:00:00+00:00")
    sliced = result.compare(window)
    assert sliced.frame["feature"][0] == "release"
    assert sliced.frame.row(0, named=True)["incident_value"] == "v2"
    assert sliced.incident_rows == 480  # one call every 30 s for 4 hours
    assert sliced.baseline_rows == 3000 - 480
    inside = result.data["start_time"].is_between(
        T0 + dt.timedelta(hours=10), T0 + dt.timedelta(hours=14), closed="left"
    )
    rows_in = result.data.filter(inside)["row"].to_list()
    rows_out = result.data.filter(~inside)["row"].to_list()
    mean_in = result.shap_values(rows_in)["prediction"].mean()
    mean_out = result.shap_values(rows_out)["prediction"].mean()
    assert sliced.frame["difference"].sum() == pytest.approx(mean_in - mean_out, abs=1e-9)
    assert sliced.incident_outcome == pytest.approx(frame.filter(inside)["ttft_s"].gt(3).mean())
    with pytest.raises(ParameterError, match="time with its zone"):
        result.compare(("2026-11-02T10:00:00", "2026-11-02T14:00:00"))


def test_stratified_sample_states_its_size_and_error() -> None:
    frame = _frame(6000)
    result = explain(frame, pl.col("ttft_s") > 3, explain_rows=600, max_rows=3000, progress=False)
    assert abs(result.explained_rows - 600) <= 10
    assert result.train_rows + result.holdout_rows == pytest.approx(3000, abs=10)
    assert (result.importance["stderr"] > 0).sum() >= 2
    sampled = result.shap_values()["row"].to_list()
    outcome = result.data[result.target]
    share_all = outcome.mean()
    share_sample = outcome.gather(sampled).mean()
    assert share_sample == pytest.approx(share_all, abs=0.02)  # stratified by outcome


def test_low_fidelity_is_warned() -> None:
    rng = np.random.default_rng(11)
    frame = _frame(800).with_columns(coin=pl.Series(rng.uniform(size=800) < 0.5))
    with pytest.warns(LowFidelityWarning, match="below the floor 0.7"):
        result = explain(frame, "coin", ["noise_a", "noise_b"], progress=False)
    assert result.low_fidelity
    assert "Low fidelity" in result._repr_html_()


def test_feature_frame_concurrency_per_pool_and_pandas() -> None:
    t = [T0 + dt.timedelta(seconds=s) for s in (0, 1, 2, 3, 10)]
    calls = pl.DataFrame(
        {
            "start_time": t,
            "latency_s": [5.0, 1.0, 5.0, None, 1.0],
            "attributes.deployment.pool": ["a", "a", "b", "a", "a"],
        }
    ).with_columns(pl.col("start_time").dt.cast_time_unit("ns"))
    out = feature_frame(calls)
    # at 1 s: call 0 in flight (pool a); at 3 s: calls 0 in flight (1 ended at 2 s); at 10 s none
    assert out["concurrent_calls"].to_list() == [0, 1, 0, 1, 0]
    assert feature_frame(calls.to_pandas(), backend="pandas")["concurrent_calls"].tolist() == [
        0,
        1,
        0,
        1,
        0,
    ]


def test_parameter_errors_name_what_was_given() -> None:
    frame = _frame(200)
    with pytest.raises(
        ParameterError, match=r"'target' parameter of explain\.explain must be a column"
    ):
        explain(frame, "ttft", progress=False)
    with pytest.raises(ParameterError, match="boolean or numeric outcome"):
        explain(frame, "attributes.user.locale", progress=False)
    with pytest.raises(ParameterError, match=r"'holdout' parameter of explain\.explain .* Got 1.5"):
        explain(frame, pl.col("ttft_s") > 3, holdout=1.5, progress=False)
    naive = frame.with_columns(pl.col("start_time").dt.replace_time_zone(None))
    with pytest.raises(ParameterError, match="time-zone-aware start_time"):
        explain(naive, pl.col("ttft_s") > 3, progress=False)


def test_import_toolkit_loads_no_heavy_package() -> None:
    code = (
        "import sys, toolkit, toolkit.explain, toolkit.plots.explain; "
        "print(sorted(m for m in ('shap', 'lime', 'lightgbm', 'sklearn', 'matplotlib') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sample_latency_incident_names_its_cause() -> None:
    import toolkit

    truth = json.loads((SAMPLE / "truth.json").read_text())
    window = next(
        i["window"] for i in truth["incidents"] if i["kind"] == "model_release_regression"
    )
    calls = toolkit.llm_calls(toolkit.load_spans(SAMPLE / "traces.jsonl.gz"))
    result = explain(calls, (pl.col("ttft_s") > 2).alias("ttft_breach"), progress=False)
    assert result.rows == calls["ttft_s"].is_not_null().sum()
    assert result.fidelity is not None
    assert result.fidelity > 0.9
    assert result.importance["feature"][0] == "input_tokens"  # prompt length drives breaches
    pair = result.interactions(top=2, rows=800)
    models = {"attributes.deployment.pool", "response_model", "request_model"}
    first = {pair["feature_a"][0], pair["feature_b"][0]}
    assert "input_tokens" in first
    assert first & models
    sliced = result.compare((window["start"], window["end"]))
    calendar = {"hour_of_day", "day_of_week"}
    cause = sliced.frame.filter(~pl.col("feature").is_in(calendar)).row(0, named=True)
    assert cause["feature"] in models
    # the value the window's calls have is the release served on the h100 pool
    served = calls.filter(
        pl.col("start_time").is_between(
            dt.datetime.fromisoformat(window["start"]),
            dt.datetime.fromisoformat(window["end"]),
            closed="left",
        )
        & (pl.col("attributes.deployment.pool") == "h100-pool")
    )["response_model"].mode()[0]
    assert cause["incident_value"] == served


# --------------------------------------------------------------------------- windows and calls


def _burst_calls() -> pl.DataFrame:
    """A call every 15 s for 12 h: a third bad for 3 h (02:00-05:00), all bad 08:20-08:30."""
    minutes = [m / 4 for m in range(4 * 720)]
    return pl.DataFrame(
        {
            "start_time": [T0 + dt.timedelta(minutes=m) for m in minutes],
            "is_good": [
                not ((120 <= m < 300 and i % 3 == 0) or 500 <= m < 510)
                for i, m in enumerate(minutes)
            ],
        }
    )


def test_ranked_incidents_puts_the_costliest_window_first() -> None:
    from toolkit.explain import ranked_incidents

    ranked = ranked_incidents(_burst_calls(), 0.99, name="ttft")
    assert ranked.columns[:5] == ["incident", "start", "end", "source", "burn_rate"]
    assert ranked["source"].to_list() == ["page", "page"]
    first, second = ranked.rows(named=True)
    # the long outage holds more bad calls than the burst, whose peak burn rate is no lower
    assert first["start"] < T0 + dt.timedelta(hours=3) < first["end"]
    assert second["start"] <= T0 + dt.timedelta(hours=8, minutes=30) <= second["end"]
    assert first["bad_events"] > second["bad_events"]
    calls = _burst_calls()
    inside = calls.filter(pl.col("start_time").is_between(first["start"], first["end"], "left"))
    assert first["events"] == inside.height
    assert first["bad_events"] == (~inside["is_good"]).sum()
    assert first["bad_ratio"] == pytest.approx(first["bad_events"] / first["events"])


def test_ranked_incidents_falls_back_to_the_worst_period_and_checks_columns() -> None:
    from toolkit.errors import ColumnNotFoundError
    from toolkit.explain import ranked_incidents

    quiet = _burst_calls().with_columns(is_good=pl.lit(True))
    quiet = quiet.with_columns(
        is_good=~pl.col("start_time").is_between(
            T0 + dt.timedelta(hours=6), T0 + dt.timedelta(hours=6, minutes=1), "left"
        )
    )
    ranked = ranked_incidents(quiet, 0.5, worst="1h")  # one bad minute never pages at 50 %
    assert ranked["source"].to_list() == ["worst period"]
    assert ranked["bad_events"][0] == 4
    with pytest.raises(ColumnNotFoundError, match="is_good"):
        ranked_incidents(quiet.rename({"is_good": "good"}), 0.99)


def test_breach_objective_threshold_from_the_data_or_given() -> None:
    from toolkit.explain import breach_objective

    calls = pl.DataFrame({"ttft_s": [float(i) for i in range(1, 1001)] + [None]})
    found = breach_objective(calls, "ttft_s", name="ttft_breach")
    assert found.threshold == 950.0
    assert found.source == "the calls' 95th percentile"
    assert (found.rows, found.breaches) == (1000, 50)
    assert found.support.ok
    assert calls.filter(found.target).height == 50
    assert found.slo.threshold == 950.0
    assert found.slo.op == "lte"
    given = breach_objective(calls, "ttft_s", threshold=999.5)
    assert (given.source, given.breaches, given.name) == ("given", 1, "ttft_s_breach")
    # an evaluation score: good when at least the floor
    scores = pl.DataFrame({"eval.groundedness": [0.1, 0.9, 0.8, 0.3] * 60})
    low = breach_objective(scores, "eval.groundedness", threshold=0.5, op="gte", name="ungrounded")
    assert low.breaches == 120
    assert scores.filter(low.target)["eval.groundedness"].max() == 0.3
    assert low.target.meta.output_name() == "ungrounded"


def test_breach_objective_support_says_what_is_missing() -> None:
    from toolkit.explain import breach_objective

    absent = breach_objective(pl.DataFrame({"latency_s": [1.0]}), "ttft_s", how="stream")
    assert not absent.support.ok
    assert absent.support.missing == ("ttft_s",)
    assert absent.support.how == "stream"
    few = breach_objective(pl.DataFrame({"ttft_s": [1.0, 2.0, 3.0]}), "ttft_s", threshold=2.5)
    assert few.support.missing == ("at least 200 calls with ttft_s",)
    none = breach_objective(pl.DataFrame({"ttft_s": [1.0] * 300}), "ttft_s", threshold=2.0)
    assert none.support.missing == ("a call that breaches: nothing to explain",)
    with pytest.raises(ParameterError, match=r"'quantile' parameter of explain\.breach_objective"):
        breach_objective(pl.DataFrame({"ttft_s": [1.0]}), "ttft_s", quantile=95)


def test_worst_calls_of_a_window() -> None:
    from toolkit.explain import worst_calls

    calls = _frame(2000).with_columns(span_id=pl.format("{}", pl.int_range(pl.len())))
    result = explain(calls, pl.col("ttft_s") > 3, holdout_by="random", progress=False)
    window = (T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=6))
    worst = worst_calls(result, calls, window, n=4)
    inside = calls.filter(
        pl.col("start_time").is_between(*window, closed="left") & (pl.col("ttft_s") > 3)
    )
    assert worst.columns == ["row", "span_id", "start_time", "ttft_s"]
    assert worst["ttft_s"].to_list() == inside["ttft_s"].sort(descending=True).head(4).to_list()
    # the rows are those of the explanation (what Explanation.local takes)
    rows = result.data.filter(pl.col("row").is_in(worst["row"].implode()))
    assert set(rows["span_id"]) == set(worst["span_id"])
    empty = worst_calls(result, calls, (T0 - dt.timedelta(days=2), T0 - dt.timedelta(days=1)))
    assert empty.height == 0
    with pytest.raises(ParameterError, match=r"'n' parameter of explain\.worst_calls"):
        worst_calls(result, calls, window, n=0)


def test_evaluation_scope_finds_the_evaluated_route() -> None:
    from toolkit.quality import evaluation_scope

    calls = pl.DataFrame(
        {
            "attributes.app.route": ["chat"] * 100 + ["rag"] * 100,
            "attributes.app.kind": ["a"] * 100 + ["b"] * 100,  # a twin of the route
            "attributes.user.tier": ["free", "pro"] * 100,
            "eval.relevance": [None] * 150 + [0.5] * 50,
            "eval.groundedness": [None] * 100 + [0.9, 0.2] * 50,
        }
    )
    scope = evaluation_scope(calls)
    assert (scope.score, scope.column, scope.value) == (
        "eval.groundedness",
        "attributes.app.route",
        "rag",
    )
    assert (scope.calls.height, scope.evaluated) == (100, 100)
    assert scope.support.ok
    given = evaluation_scope(calls, score="eval.relevance", route="chat")
    assert (given.column, given.value, given.evaluated) == ("attributes.app.route", "chat", 0)
    assert given.support.missing == ("50 evaluated calls",)
    spread = evaluation_scope(calls, columns=["attributes.user.tier"])
    assert (spread.column, spread.calls.height) == (None, 200)
    none = evaluation_scope(calls.drop("eval.relevance", "eval.groundedness"))
    assert none.score is None
    assert not none.support.ok
    assert none.support.missing == ("eval.<name>",)
    with pytest.raises(ParameterError, match=r"'route' parameter of quality\.evaluation_scope"):
        evaluation_scope(calls, route="nowhere")
    from toolkit.errors import ColumnNotFoundError

    with pytest.raises(ColumnNotFoundError, match=r"eval\.grounded"):
        evaluation_scope(calls, score="eval.grounded")


def test_metrics_without_vllm_gauges_or_matching_labels() -> None:
    calls = _frame(200).drop("attributes.deployment.pool")
    times = [T0 + dt.timedelta(minutes=10 * k) for k in range(12)]
    dcgm = pl.DataFrame(
        {
            "time": times,
            "name": ["DCGM_FI_DEV_GPU_UTIL"] * 12,
            "value": [50.0] * 12,
            "label.gpu": ["0"] * 12,
        }
    ).with_columns(pl.col("time").cast(pl.Datetime("ns", "UTC")))
    plain = feature_frame(calls)
    assert feature_frame(calls, metrics=dcgm).columns == plain.columns  # nothing to join
    # one vLLM server whose series carry no label of the calls: joined by time alone
    waiting = dcgm.with_columns(
        name=pl.lit("vllm:num_requests_waiting"), value=pl.Series([float(k) for k in range(12)])
    )
    out = feature_frame(calls, metrics=waiting)
    assert "_all" not in out.columns
    expected = [float(min(int((t - T0).total_seconds() // 600), 11)) for t in calls["start_time"]]
    assert out["vllm.num_requests_waiting"].to_list() == expected
