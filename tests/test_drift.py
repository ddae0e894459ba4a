"""toolkit.drift: statistics against scipy and hand computations, false-alarm rates, the
automatic choice of test, windowed drift, change points, text features, and the sample
week's prompt-mix drift found in its window."""

from __future__ import annotations

import datetime as dt
import json
import math
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

import toolkit
from toolkit import drift
from toolkit.errors import ParameterError, SchemaError

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
TIME = pl.Datetime("ns", "UTC")


def _frame(times: list[dt.datetime], **columns: list[object]) -> pl.DataFrame:
    return pl.DataFrame({"start_time": times, **columns}).with_columns(
        pl.col("start_time").cast(TIME)
    )


# --------------------------------------------------------------------------- statistics


def test_ks_statistic_and_p_value_equal_scipy() -> None:
    rng = np.random.default_rng(7)
    for size_ref, size_cur in ((30, 40), (200, 150), (1000, 700), (40, 12000)):
        ref = np.round(rng.normal(size=size_ref), 1)  # ties on purpose
        cur = np.round(rng.normal(0.2, 1.1, size=size_cur), 1)
        row = drift.compare(pl.DataFrame({"x": ref}), pl.DataFrame({"x": cur}), tests={"x": "ks"})
        expected = stats.ks_2samp(ref, cur)
        assert row["test"][0] == "ks"
        assert row["statistic"][0] == pytest.approx(expected.statistic, abs=1e-12)
        assert row["p_value"][0] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
        assert row["drifted"][0] == (expected.pvalue <= 0.05)


def test_windowed_ks_and_wasserstein_equal_scipy_in_every_window() -> None:
    rng = np.random.default_rng(11)
    ref = np.round(rng.normal(size=300) * 3)
    windows = [np.round(rng.normal(0.4, 1.2, size=k) * 3) for k in (0, 1, 7, 60, 250)]
    times = [T0 - dt.timedelta(minutes=30)] * ref.size
    values = list(ref)
    for w, cur in enumerate(windows):
        times += [T0 + dt.timedelta(hours=w, minutes=5)] * cur.size
        values += list(cur)
    frame = _frame(times, x=values)
    period = {
        "reference": (T0 - dt.timedelta(hours=1), T0),
        "start": T0,
        "end": T0 + dt.timedelta(hours=len(windows)),
    }
    ks = drift.windowed(frame, tests={"x": "ks"}, **period)
    ws = drift.windowed(frame, tests={"x": "wasserstein"}, **period)
    assert ks.height == ws.height == len(windows)
    for w, cur in enumerate(windows):
        if cur.size == 0:
            assert ks["statistic"][w] is None
            assert ks["drifted"][w] is None
            assert ks["n_current"][w] == 0
            continue
        expected = stats.ks_2samp(ref, cur, method="asymp")
        assert ks["statistic"][w] == pytest.approx(expected.statistic, abs=1e-12)
        assert ks["p_value"][w] == pytest.approx(expected.pvalue, rel=1e-9)
        distance = stats.wasserstein_distance(ref, cur) / np.std(ref)
        assert ws["statistic"][w] == pytest.approx(distance, rel=1e-9)
        assert ws["n_current"][w] == cur.size
        assert ws["n_reference"][w] == ref.size


def test_chisquare_equals_scipy_contingency_test_with_a_new_category() -> None:
    ref = ["en"] * 50 + ["de"] * 30 + ["fr"] * 20
    cur = ["en"] * 40 + ["de"] * 25 + ["fr"] * 15 + ["hi"] * 20
    row = drift.compare(pl.DataFrame({"l": ref}), pl.DataFrame({"l": cur})).row(0, named=True)
    table = np.array([[50, 30, 20, 0], [40, 25, 15, 20]])
    expected = stats.chi2_contingency(table, correction=False)
    assert row["test"] == "chisquare"
    assert row["statistic"] == pytest.approx(expected.statistic, rel=1e-12)
    assert row["p_value"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert row["drifted"] is True
    # two categories: no Yates correction either
    two = drift.compare(
        pl.DataFrame({"b": [True] * 30 + [False] * 10}),
        pl.DataFrame({"b": [True] * 20 + [False] * 20}),
    )
    expected2 = stats.chi2_contingency(np.array([[10, 30], [20, 20]]), correction=False)
    assert two["statistic"][0] == pytest.approx(expected2.statistic, rel=1e-12)
    assert two["p_value"][0] == pytest.approx(expected2.pvalue, rel=1e-9)


def test_psi_and_jensen_shannon_equal_hand_computations() -> None:
    ref = pl.DataFrame({"c": ["a", "a", "b", "b"]})
    cur = pl.DataFrame({"c": ["a", "b", "b", "b"]})
    psi = drift.compare(ref, cur, tests={"c": "psi"}).row(0, named=True)
    # shares 0.5/0.5 -> 0.25/0.75
    assert psi["statistic"] == pytest.approx(0.25 * math.log(2.0) + 0.25 * math.log(1.5), abs=1e-12)
    assert psi["p_value"] is None
    assert psi["drifted"] is True
    assert psi["threshold"] == 0.1
    js = drift.compare(ref, cur, tests={"c": "jensenshannon"})["statistic"][0]
    kl_p = 0.5 * math.log(0.5 / 0.375) + 0.5 * math.log(0.5 / 0.625)
    kl_q = 0.25 * math.log(0.25 / 0.375) + 0.75 * math.log(0.75 / 0.625)
    assert js == pytest.approx(math.sqrt((kl_p + kl_q) / 2), abs=1e-12)
    assert js == pytest.approx(jensenshannon([0.5, 0.5], [0.25, 0.75]), abs=1e-12)
    # a category absent from the current sample counts as a share of 0.0001 in PSI
    gone = drift.compare(ref, pl.DataFrame({"c": ["b"] * 4}), tests={"c": "psi"})["statistic"][0]
    assert gone == pytest.approx(
        (1e-4 - 0.5) * math.log(1e-4 / 0.5) + 0.5 * math.log(2.0), abs=1e-12
    )


def test_psi_of_numeric_columns_uses_reference_quantile_bins() -> None:
    ref = pl.DataFrame({"x": [float(i) for i in range(1, 11)]})  # deciles: one value per bin
    cur = pl.DataFrame({"x": [1.0] * 5 + [10.0] * 5})
    got = drift.compare(ref, cur, tests={"x": "psi"})["statistic"][0]
    # edges at the 10 %, ..., 90 % quantiles (1.9, 2.8, ..., 9.1): 1 in bin 0, 10 in bin 9
    expected = 2 * (0.5 - 0.1) * math.log(0.5 / 0.1) + 8 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert got == pytest.approx(expected, abs=1e-12)


def test_normalised_wasserstein_equals_hand_computation() -> None:
    one = drift.compare(
        pl.DataFrame({"x": [1.0, 2, 3, 4]}),
        pl.DataFrame({"x": [2.0, 3, 4, 5]}),
        tests={"x": "wasserstein"},
    )
    assert one["statistic"][0] == pytest.approx(1.0 / math.sqrt(1.25), abs=1e-12)  # W=1, std ddof 0
    # F_ref = 0.5 and F_cur = 0.4 on [0, 1): W = 0.1; std of [0, 1] = 0.5
    two = drift.compare(
        pl.DataFrame({"x": [0, 1]}),
        pl.DataFrame({"x": [0, 0, 1, 1, 1]}),
        tests={"x": "wasserstein"},
    )
    assert two["statistic"][0] == pytest.approx(0.2, abs=1e-12)
    constant = drift.compare(
        pl.DataFrame({"x": [3.0] * 5}), pl.DataFrame({"x": [3.0, 4.0]}), tests={"x": "wasserstein"}
    )
    assert constant["statistic"][0] == math.inf
    assert constant["drifted"][0] is True


def test_multiple_testing_corrections_equal_hand_computations() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(size=400)
    ref = pl.DataFrame({"a": base, "b": base, "c": base})
    cur = pl.DataFrame({"a": base + 0.25, "b": base[::-1] + 0.05, "c": base * 1.2})
    plain = drift.compare(ref, cur, tests={"a": "ks", "b": "ks", "c": "ks"})
    p = np.array(plain["p_value"].to_list())
    order = np.argsort(p)
    k = p.size
    bh = np.minimum.accumulate((p[order] * k / np.arange(1, k + 1))[::-1])[::-1]
    holm = np.maximum.accumulate(p[order] * (k - np.arange(k)))
    for method, expected_sorted in (("fdr_bh", bh), ("holm", holm)):
        got = drift.compare(ref, cur, tests={"a": "ks", "b": "ks", "c": "ks"}, correction=method)
        expected = np.empty(k)
        expected[order] = np.minimum(expected_sorted, 1.0)
        assert got["p_value_adjusted"].to_list() == pytest.approx(list(expected), rel=1e-12)
        assert got["drifted"].to_list() == list(expected <= 0.05)
        assert got["p_value"].to_list() == pytest.approx(list(p))
    bonf = drift.compare(ref, cur, tests={"a": "ks", "b": "ks", "c": "ks"}, correction="bonferroni")
    assert bonf["p_value_adjusted"].to_list() == pytest.approx(list(np.minimum(p * 3, 1.0)))


# --------------------------------------------------------------------------- choice


def test_automatic_choice_follows_the_reference_size_and_says_why() -> None:
    small = pl.DataFrame({"x": np.arange(1000.0), "c": ["a", "b"] * 500})
    big = pl.DataFrame({"x": np.arange(1001.0), "c": ["a"] * 1001})
    cur = pl.DataFrame({"x": np.arange(10.0), "c": ["a"] * 10})
    assert drift.compare(small, cur)["test"].to_list() == ["ks", "chisquare"]
    out = drift.compare(big, cur)
    assert out["test"].to_list() == ["wasserstein", "jensenshannon"]
    assert out["threshold"].to_list() == [0.1, 0.1]
    assert "1,001 > 1,000" in out["reason"][0]
    assert "distance" in out["reason"][0]
    overridden = drift.compare(big, cur, tests={"c": "psi"}, thresholds={"x": 0.5})
    assert overridden["test"].to_list() == ["wasserstein", "psi"]
    assert overridden["threshold"].to_list() == [0.5, 0.1]
    assert "set by the caller" in overridden["reason"][0]
    assert "PSI bands" in overridden["reason"][1]
    assert out.columns[:8] == [
        "column",
        "test",
        "statistic",
        "p_value",
        "threshold",
        "drifted",
        "n_reference",
        "n_current",
    ]


def test_nulls_are_counted_and_left_out() -> None:
    ref = pl.DataFrame({"x": [1.0, 2.0, None, float("nan"), 3.0]})
    cur = pl.DataFrame({"x": [None, 2.0, 3.0]})
    row = drift.compare(ref, cur).row(0, named=True)
    assert (row["n_reference"], row["n_current"], row["nulls_reference"], row["nulls_current"]) == (
        3,
        2,
        2,
        1,
    )
    assert row["statistic"] == pytest.approx(stats.ks_2samp([1.0, 2, 3], [2.0, 3]).statistic)


def test_pandas_in_and_out() -> None:
    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    cur = pd.DataFrame({"x": [2.0, 3.0, 4.0], "c": ["a", "a", "a"]})
    out = drift.compare(ref, cur, backend="pandas")
    assert isinstance(out, pd.DataFrame)
    expected = drift.compare(pl.from_pandas(ref), pl.from_pandas(cur))
    assert out["statistic"].tolist() == pytest.approx(expected["statistic"].to_list())


def test_parameter_errors_name_the_parameter() -> None:
    ref = pl.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]})
    with pytest.raises(
        ParameterError,
        match=r"The 'tests' parameter of drift.compare must map .* "
        r"Got 'anova' for 'x' instead",
    ):
        drift.compare(ref, ref, tests={"x": "anova"})
    with pytest.raises(ParameterError, match="categorical column one of chisquare"):
        drift.compare(ref, ref, tests={"c": "ks"})
    with pytest.raises(ParameterError, match=r"'columns' parameter of drift.compare .*Got \['y'\]"):
        drift.compare(ref, ref, ["y"])
    with pytest.raises(ParameterError, match="'correction' parameter"):
        drift.compare(ref, ref, correction="sidak")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="no value in column 'x'"):
        drift.compare(pl.DataFrame({"x": [None, None]}, schema={"x": pl.Float64}), ref)
    frame = pl.DataFrame({"start_time": [dt.datetime(2026, 11, 2)], "x": [1.0]})
    with pytest.raises(SchemaError, match="time-zone-aware Datetime"):
        drift.windowed(frame, reference=(T0, T0 + dt.timedelta(hours=1)))
    aware = _frame([T0], x=[1.0])
    with pytest.raises(
        ParameterError,
        match=r"The 'every' parameter of drift.windowed must be a "
        r"positive duration .* Got '-1h' instead",
    ):
        drift.windowed(aware, reference=(T0, T0 + dt.timedelta(hours=1)), every="-1h")
    with pytest.raises(ParameterError, match=r"'reference' parameter .* with its zone"):
        drift.windowed(aware, reference=("2026-11-02T00:00:00", "2026-11-03T00:00:00Z"))


# --------------------------------------------------------------------------- false alarms


def test_no_drift_between_samples_of_one_distribution_at_the_stated_rate() -> None:
    """200 seeds: p-value tests flag at most alpha (+3 standard errors), distances never."""
    seeds = 200
    limit = 0.05 + 3 * math.sqrt(0.05 * 0.95 / seeds)
    locales = np.array(["en", "de", "fr", "hi", "ja"])
    weights = np.array([0.4, 0.2, 0.2, 0.1, 0.1])
    flagged = {"ks": 0, "chisquare": 0, "wasserstein": 0, "jensenshannon": 0, "psi": 0}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        small_ref = pl.DataFrame(
            {"x": rng.lognormal(6, 1, 300), "c": rng.choice(locales, 300, p=weights)}
        )
        small_cur = pl.DataFrame(
            {"x": rng.lognormal(6, 1, 200), "c": rng.choice(locales, 200, p=weights)}
        )
        out = drift.compare(small_ref, small_cur)
        for test, hit in zip(out["test"].to_list(), out["drifted"].to_list(), strict=True):
            flagged[test] += bool(hit)
        if seed < 50:  # the distance tests at Evidently's sizes (reference > 1000)
            big_ref = pl.DataFrame(
                {"x": rng.lognormal(6, 1, 3000), "c": rng.choice(locales, 3000, p=weights)}
            )
            big_cur = pl.DataFrame(
                {"x": rng.lognormal(6, 1, 2000), "c": rng.choice(locales, 2000, p=weights)}
            )
            out = drift.compare(big_ref, big_cur)
            out_psi = drift.compare(big_ref, big_cur, tests={"x": "psi", "c": "psi"})
            for frame in (out, out_psi):
                for test, hit in zip(
                    frame["test"].to_list(), frame["drifted"].to_list(), strict=True
                ):
                    flagged[test] += bool(hit)
    assert flagged["ks"] / seeds <= limit
    assert flagged["chisquare"] / seeds <= limit
    assert flagged["ks"] + flagged["chisquare"] > 0  # the tests are not simply blind
    assert flagged["wasserstein"] == flagged["jensenshannon"] == flagged["psi"] == 0


def test_bonferroni_keeps_the_family_wise_rate_across_columns() -> None:
    seeds, k = 200, 5
    any_plain = any_corrected = 0
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        ref = pl.DataFrame({f"x{i}": rng.normal(size=150) for i in range(k)})
        cur = pl.DataFrame({f"x{i}": rng.normal(size=150) for i in range(k)})
        any_plain += bool(drift.compare(ref, cur)["drifted"].any())
        any_corrected += bool(drift.compare(ref, cur, correction="bonferroni")["drifted"].any())
    assert any_corrected / seeds <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / seeds)
    assert any_plain / seeds > 0.12  # about 1 - 0.95**5 = 0.23 without the correction


# --------------------------------------------------------------------------- windows


def test_windowed_lists_every_window_and_detections_need_consecutive_windows() -> None:
    times, values = [], []
    for hour in range(6):
        for minute in range(0, 60, 5):
            times.append(T0 + dt.timedelta(hours=hour, minutes=minute))
            values.append("hi" if hour in (3, 5) and minute % 10 == 0 else "en")
    frame = _frame(times, locale=values)
    out = drift.windowed(
        frame, reference=(T0, T0 + dt.timedelta(hours=2)), end=T0 + dt.timedelta(hours=7)
    )
    assert out.height == 7
    assert out["window_start"].to_list() == [T0 + dt.timedelta(hours=h) for h in range(7)]
    assert out["drifted"].to_list() == [False, False, False, True, False, True, None]
    assert out["n_current"].to_list() == [12] * 6 + [0]
    assert out["n_reference"][0] == 24
    once = drift.detections(out)
    assert once["detected_at"][0] == T0 + dt.timedelta(hours=3)
    assert once["windows_drifted"][0] == 2
    assert once["windows"][0] == 6
    assert drift.detections(out, consecutive=2)["detected_at"][0] is None
    later = drift.detections(out, after=T0 + dt.timedelta(hours=4))
    assert later["detected_at"][0] == T0 + dt.timedelta(hours=5)
    pd_out = drift.windowed(
        frame.to_pandas(), reference=(T0, T0 + dt.timedelta(hours=2)), backend="pandas"
    )
    assert pd_out["drifted"].tolist()[:6] == [False, False, False, True, False, True]


def test_windowed_correction_is_applied_per_window() -> None:
    rng = np.random.default_rng(5)
    times = [T0 + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 180, 900)]
    frame = _frame(times, a=rng.normal(size=900), b=rng.normal(size=900))
    plain = drift.windowed(
        frame, reference=(T0, T0 + dt.timedelta(hours=1)), tests={"a": "ks", "b": "ks"}
    )
    bonf = drift.windowed(
        frame,
        reference=(T0, T0 + dt.timedelta(hours=1)),
        tests={"a": "ks", "b": "ks"},
        correction="bonferroni",
    )
    expected = np.minimum(np.array(plain["p_value"].to_list()) * 2, 1.0)
    assert bonf["p_value_adjusted"].to_list() == pytest.approx(list(expected))


# --------------------------------------------------------------------------- change points


def test_change_points_find_steps_with_both_methods() -> None:
    rng = np.random.default_rng(2)
    y = np.concatenate(
        [rng.normal(0.05, 0.01, 40), rng.normal(0.8, 0.01, 6), rng.normal(0.05, 0.01, 50)]
    )
    s = pl.DataFrame({"t": np.arange(y.size), "y": y})
    for method in ("pelt", "binseg"):
        got = drift.change_points(s, value_column="y", time="t", method=method)
        assert got["time"].to_list() == [40, 46]
        assert got["shift"][0] == pytest.approx(0.75, abs=0.02)
        assert got["points_before"].to_list() == [40, 6]


def test_change_points_stay_quiet_on_noise() -> None:
    quiet = 0
    for seed in range(50):
        rng = np.random.default_rng(seed)
        s = pl.DataFrame({"t": np.arange(168), "y": rng.normal(0.05, 0.02, 168)})
        quiet += drift.change_points(s, value_column="y", time="t").height == 0
    assert quiet >= 45


def test_change_point_weights_discount_points_with_few_calls() -> None:
    y = [0.04] * 20 + [0.5] + [0.04] * 20  # one noisy point made of 2 calls
    w = [100] * 20 + [2] + [100] * 20
    s = pl.DataFrame({"t": list(range(41)), "y": y, "n": w})
    # the unweighted default sees a step; with the weights a 1-of-2 rate is no evidence
    assert drift.change_points(s, value_column="y", time="t", min_size=1).height == 2
    assert (
        drift.change_points(
            s,
            value_column="y",
            time="t",
            min_size=1,
            weight_column="n",
            penalty=2 * 0.04 * 0.96 * math.log(41),
        ).height
        == 0
    )


# --------------------------------------------------------------------------- text


def test_script_detection_agrees_with_unicodedata_names() -> None:
    texts = ["What is the price?", "कीमत क्या है?", "Привет, мир", "東京の天気は?", "123 !!"]
    out = drift.text_features(pl.DataFrame({"q": texts}), "q")

    def dominant(text: str) -> str | None:
        names = [unicodedata.name(ch).split()[0] for ch in text if ch.isalpha()]
        if not names:
            return None
        top = max(set(names), key=names.count)
        return {"CJK": "Han"}.get(top, top.title())

    assert out["q.script"].to_list() == [dominant(t) for t in texts]
    assert out["q.script"].to_list() == ["Latin", "Devanagari", "Cyrillic", "Han", None]
    assert out["q.chars"].to_list() == [len(t) for t in texts]
    assert out["q.words"].to_list() == [4, 3, 2, 1, 1]  # no spaces in Japanese: one run
    assert out["q.share.Hiragana"][3] == pytest.approx(2 / 6)  # の は among 6 letters


def test_ngrams_and_topics() -> None:
    f = pl.DataFrame({"start_time": [T0, T0], "t": ["Ab  cde", "xy"]}).with_columns(
        pl.col("start_time").cast(TIME)
    )
    grams = drift.ngrams(f, "t", n=3, buckets=8)
    assert grams.height == 4  # "ab cde" has 4 trigrams, "xy" none
    assert set(grams["t.ngram"].cast(pl.Int64).to_list()) <= set(range(8))
    again = drift.ngrams(f, "t", n=3, buckets=8)
    assert grams.equals(again)
    texts = [
        "reset my password",
        "password reset link",
        "forgot password",
        "GPU price",
        "price of a GPU",
        "GPU cost",
    ]
    model = drift.fit_topics(texts, k=2, seed=0)
    topics = model.assign(texts).to_list()
    assert topics[0] == topics[1] == topics[2] != topics[3] == topics[4]
    assert sorted(model.reference_shares) == [0.5, 0.5]
    assert "<table>" in model._repr_html_()


# --------------------------------------------------------------------------- the sample


@pytest.fixture(scope="module")
def sample_calls() -> pl.DataFrame:
    return toolkit.llm_calls(toolkit.load_spans(SAMPLE / "traces.jsonl.gz", progress=False))


def _window(incident: str) -> tuple[dt.datetime, dt.datetime]:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    found = next(i for i in truth["incidents"] if i["id"] == incident)
    return (
        dt.datetime.fromisoformat(found["window"]["start"]),
        dt.datetime.fromisoformat(found["window"]["end"]),
    )


def test_the_sample_prompt_mix_drift_is_found_in_its_window(sample_calls: pl.DataFrame) -> None:
    start, end = _window("prompt-mix-drift")
    reference = (T0, T0 + dt.timedelta(days=3))
    columns = ["attributes.user.locale", "input_tokens", "attributes.user.tier"]
    out = drift.windowed(sample_calls, reference=reference, every="1d", columns=columns)
    locale = out.filter(pl.col("column") == "attributes.user.locale")
    assert locale["test"][0] == "jensenshannon"
    flagged = locale.filter(pl.col("drifted"))["window_start"].to_list()
    assert flagged
    assert all(start <= t < end for t in flagged)
    assert min(flagged) == start  # every day of the window, from its first
    assert len(flagged) == 4
    assert not out.filter(pl.col("column") == "attributes.user.tier")["drifted"].any()
    hourly = sample_calls.group_by(pl.col("start_time").dt.truncate("1h").alias("t")).agg(
        pl.len().alias("n"),
        (pl.col("attributes.user.locale") == "hi-IN").mean().alias("hi"),
        pl.col("input_tokens").log().mean().alias("log_in"),
    )
    first = drift.change_points(hourly, value_column="hi", time="t", weight_column="n")
    assert start <= first["time"][0] < start + dt.timedelta(hours=3)
    longer = drift.change_points(hourly, value_column="log_in", time="t", weight_column="n")
    assert start <= longer["time"][0] < start + dt.timedelta(hours=3)
    assert longer["shift"][0] > 0


# --------------------------------------------------------------------------- planning from the data


@pytest.mark.parametrize(
    ("hours", "min_windows", "expected"),
    [
        (7 * 24, 6, "1d"),
        (7 * 24, 24, "1h"),
        (24, 6, "1h"),
        (8 * 7 * 24, 6, "1w"),
        (3, 6, "15m"),
        (0, 6, "1s"),
    ],
)
def test_window_width_follows_the_period(hours: int, min_windows: int, expected: str) -> None:
    end = T0 + dt.timedelta(hours=hours)
    assert drift.window_width(T0, end, min_windows=min_windows) == expected


def test_window_width_checks_its_parameters() -> None:
    with pytest.raises(ParameterError, match=r"'min_windows' parameter of drift\.window_width"):
        drift.window_width(T0, T0, min_windows=0)
    with pytest.raises(ParameterError, match="'start' parameter"):
        drift.window_width("2026-11-02T00:00:00", T0)  # no zone


def _week(n: int = 7 * 24) -> pl.DataFrame:
    times = [T0 + dt.timedelta(hours=i) for i in range(n)]
    return _frame(
        times,
        **{
            "attributes.user.tier": ["free", "pro"] * (n // 2),
            "attributes.request.id": [str(i) for i in range(n)],
            "input_tokens": list(range(n)),
            "reasoning_tokens": [None] * n,
            "attributes.gen_ai.request.max_tokens": [256] * n,
        },
    )


def test_default_columns_are_dimensions_and_canonical_token_counts() -> None:
    assert drift.default_columns(_week()) == ["attributes.user.tier", "input_tokens"]


def test_plan_chooses_windows_reference_and_columns_from_the_data() -> None:
    p = drift.plan(_week())
    assert (p.every, p.series_every) == ("1d", "1h")
    # 167 hours: a third is 55.7 h, two whole days
    assert p.reference == (T0, T0 + dt.timedelta(days=2))
    assert p.reference_how == "the first 33% of the period, in whole 1d windows"
    assert p.columns == ("attributes.user.tier", "input_tokens")
    assert p.support.ok
    assert p.share_support.ok
    assert p.series_support.ok


def test_plan_keeps_what_the_user_gives() -> None:
    p = drift.plan(
        _week(),
        every="6h",
        series_every="15m",
        reference=("2026-11-03T00:00:00Z", None),
        columns=["input_tokens"],
    )
    assert (p.every, p.series_every) == ("6h", "15m")
    # from the given start, a third of the rest (143 h / 3 = 47.7 h) in whole 6h windows
    assert p.reference == (T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=1, hours=42))
    assert p.reference_how.startswith("end chosen from the data")
    assert p.columns == ("input_tokens",)
    assert not p.share_support.ok
    assert p.series_support.ok
    given = drift.plan(_week(), reference=(T0, "2026-11-05T00:00:00Z"))
    assert given.reference_how == "given"


def test_plan_says_what_is_missing() -> None:
    from toolkit.schema import LLM_CALLS

    empty = drift.plan(LLM_CALLS.empty())
    assert empty.reference is None
    assert empty.columns == ()
    assert empty.support.missing == ("llm_calls",)
    assert not empty.share_support.ok
    short = drift.plan(_week(50))
    assert not short.support.ok
    assert "at least 100 calls" in short.support.missing
    late = drift.plan(_week(), reference=("2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"))
    assert "calls in the reference window" in late.support.missing
    assert "calls after the reference window" in late.support.missing


def test_plan_errors_name_the_parameter_or_column() -> None:
    from toolkit.errors import ColumnNotFoundError

    with pytest.raises(ColumnNotFoundError, match="input_token"):
        drift.plan(_week(), columns=["input_token"])
    with pytest.raises(ParameterError, match=r"'every' parameter of drift\.plan"):
        drift.plan(_week(), every="daily")
    with pytest.raises(ParameterError, match=r"'fraction' parameter of drift\.plan"):
        drift.plan(_week(), fraction=1.5)
    with pytest.raises(ParameterError, match="must end after it starts"):
        drift.plan(_week(), reference=("2026-11-04T00:00:00Z", "2026-11-03T00:00:00Z"))


def test_share_shift_by_hand() -> None:
    ref = pl.DataFrame({"locale": ["en"] * 6 + ["de"] * 2 + [None] * 2})
    cur = pl.DataFrame({"locale": ["en"] * 4 + ["hi"] * 4 + ["de"] * 2})
    out = drift.share_shift(ref, cur, "locale")
    assert out["value"].to_list() == ["hi", "de", None, "en"]
    assert out["reference"].to_list() == pytest.approx([0.0, 0.2, 0.2, 0.6])
    assert out["current"].to_list() == pytest.approx([0.4, 0.2, 0.0, 0.4])
    assert out["change"].to_list() == pytest.approx([0.4, 0.0, -0.2, -0.2])
    assert out["reference_rows"].to_list() == [0, 2, 2, 6]
    assert out["current_rows"].to_list() == [4, 2, 0, 4]
    assert to_list_sum(out["reference"]) == pytest.approx(1.0)
    with pytest.raises(toolkit.errors.ColumnNotFoundError, match="locale"):
        drift.share_shift(ref, cur.rename({"locale": "language"}), "locale")


def to_list_sum(series: pl.Series) -> float:
    return float(sum(series.to_list()))


def test_most_drifted_prefers_drifted_then_larger_statistic() -> None:
    ref = pl.DataFrame({"a": ["x"] * 50 + ["y"] * 50, "b": ["x"] * 50 + ["y"] * 50})
    cur = pl.DataFrame({"a": ["x"] * 48 + ["y"] * 52, "b": ["x"] * 90 + ["y"] * 10})
    table = drift.compare(ref, cur)
    assert drift.most_drifted(table) == "b"
    assert drift.most_drifted(table, kind="numeric") is None
    with pytest.raises(SchemaError, match=r"expected the output of drift\.compare"):
        drift.most_drifted(pl.DataFrame({"column": ["a"]}))


def test_window_series_by_hand() -> None:
    times = [T0, T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=1), T0]
    f = _frame(times, locale=["en", "hi", "hi", None, "en"], input_tokens=[1, 100, 10, 0, None])
    out = drift.window_series(f, every="1h", share=("locale", "hi"), log_mean="input_tokens")
    assert out.columns == ["window_start", "calls", "share", "mean_log"]
    first, second = out.rows()
    assert first[1:3] == (3, pytest.approx(1 / 3))
    assert first[3] == pytest.approx(math.log(100) / 2)
    assert second[1:] == (2, 0.5, pytest.approx(math.log(10)))  # 0 tokens left out
    plain = drift.window_series(f, every="1h")
    assert plain.columns == ["window_start", "calls"]
    with pytest.raises(toolkit.errors.ColumnNotFoundError, match="locales"):
        drift.window_series(f, share=("locales", "hi"))
    with pytest.raises(SchemaError, match="expected a numeric column"):
        drift.window_series(f, log_mean="locale")


def test_clean_reference_keeps_the_longest_clear_part() -> None:
    h = dt.timedelta(hours=1)
    ref = (T0, T0 + 48 * h)
    windows = pl.DataFrame(
        {
            "start": [T0 + 10 * h, T0 + 40 * h, T0 + 100 * h],
            "end": [T0 + 12 * h, None, T0 + 101 * h],
        }
    ).with_columns(pl.col("start", "end").cast(TIME))
    assert drift.clean_reference(ref, windows) == (T0 + 12 * h, T0 + 40 * h)
    assert drift.clean_reference(ref, windows.clear()) == ref
    covering = pl.DataFrame({"start": [T0 - h], "end": [T0 + 50 * h]}).with_columns(
        pl.col("start", "end").cast(TIME)
    )
    assert drift.clean_reference(ref, covering) == ref
