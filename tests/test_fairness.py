"""toolkit.fairness: hand-computed values, AIF360 agreement (COMPAS, German credit,
constructed cases), the sample's unequal locale, mitigation on held-out data."""

from __future__ import annotations

import csv
import inspect
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import toolkit
from toolkit import fairness
from toolkit.errors import FormatError, ParameterError
from toolkit.plots import fairness as fairness_plots

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
LOCALE = "attributes.user.locale"
POINT = (
    "favorable_rate",
    "reference_rate",
    "disparate_impact",
    "statistical_parity_difference",
    "unfavorable_ratio",
)
LABELLED = (
    "true_positive_rate",
    "false_positive_rate",
    "equal_opportunity_difference",
    "average_odds_difference",
)


def _aif360() -> Any:
    from toolkit.fairness import _aif360

    return _aif360.aif360()


def _close(ours: pl.DataFrame, theirs: pl.DataFrame, columns: tuple[str, ...]) -> None:
    assert ours["group"].to_list() == theirs["group"].to_list()
    assert ours["n"].to_list() == theirs["n"].to_list()
    for name in columns:
        a = ours[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
        b = theirs[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
        b = np.where(np.isinf(b), np.nan, b)  # AIF360 gives inf where we give null
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- by hand

SMALL = pl.DataFrame(
    {
        "g": ["a", "a", "a", "a", "b", "b", "b", "b"],
        "pred": [1, 1, 1, 0, 1, 0, 0, 0],
        "truth": [1, 1, 0, 0, 1, 0, 1, 0],
    }
)


def test_hand_computed_small_table(backend: str) -> None:
    frame = SMALL.to_pandas() if backend == "pandas" else SMALL
    m = fairness.group_metrics(
        frame, "pred", "g", favorable=1, privileged="a", label="truth", n_boot=0
    )
    assert isinstance(m, pl.DataFrame)
    b = m.row(1, named=True)
    assert m["group"].to_list() == ["a", "b"]
    assert m["n"].to_list() == [4, 4]
    assert m["n_favorable"].to_list() == [3, 1]
    assert m["privileged"].to_list() == [True, False]
    assert m["favorable_rate"].to_list() == [0.75, 0.25]
    assert b["reference_rate"] == 0.75
    assert b["disparate_impact"] == pytest.approx(1 / 3, abs=1e-15)
    assert b["statistical_parity_difference"] == -0.5
    assert b["unfavorable_ratio"] == pytest.approx(0.75 / 0.25, abs=1e-15)
    # a: TPR 2/2, FPR 1/2; b: TPR 1/2, FPR 0/2
    assert m["true_positive_rate"].to_list() == [1.0, 0.5]
    assert m["false_positive_rate"].to_list() == [0.5, 0.0]
    assert b["equal_opportunity_difference"] == -0.5
    assert b["average_odds_difference"] == 0.5 * ((0 - 0.5) + (0.5 - 1.0))
    # pooled two-proportion z-test: p = 0.5, se = sqrt(.25 * (1/4 + 1/4)), z = sqrt(2)
    assert b["p_value"] == pytest.approx(math.erfc(1.0), abs=1e-12)
    assert m.row(0, named=True)["p_value"] == 1.0
    assert m["small"].to_list() == [True, True]  # 4 < 30
    assert m["four_fifths_violation"].to_list() == [False, True]
    assert m["flagged"].to_list() == [False, False]  # small groups are never flagged
    # Theil: benefits 1 + pred - truth = 1,1,2,1 | 1,1,0,1; mean 1; one 2 and one 0
    expected = (2 * math.log(2) + 0.0) / 8
    assert fairness.theil_index(frame, "pred", label="truth", favorable=1) == pytest.approx(
        expected, abs=1e-15
    )


def test_pandas_backend_gives_the_same_numbers() -> None:
    polars_out = fairness.group_metrics(SMALL, "pred", "g", favorable=1, privileged="a", n_boot=20)
    pandas_out = fairness.group_metrics(
        SMALL, "pred", "g", favorable=1, privileged="a", n_boot=20, backend="pandas"
    )
    assert isinstance(pandas_out, pd.DataFrame)
    assert toolkit.schema.to_polars(pandas_out).equals(polars_out)


def test_reference_is_the_rest_when_privileged_is_none() -> None:
    frame = pl.DataFrame({"g": ["a"] * 4 + ["b"] * 2 + ["c"] * 2, "ok": [1, 1, 1, 0, 1, 0, 0, 0]})
    m = fairness.group_metrics(frame, "ok", "g", favorable=1, privileged=None, n_boot=0)
    # a against b+c: 3/4 vs 1/4; b against a+c: 1/2 vs 3/6; c against a+b: 0/2 vs 4/6
    assert m["reference_rate"].to_list() == pytest.approx([1 / 4, 3 / 6, 4 / 6])
    assert m["disparate_impact"].to_list() == pytest.approx([3.0, 1.0, 0.0])
    assert m["privileged"].to_list() == [False, False, False]


def test_intersections_null_groups_and_small_groups_are_kept() -> None:
    frame = pl.DataFrame(
        {
            "locale": ["en", "en", "tr", "tr", None, "en"],
            "tier": ["free", "pro", "free", "free", "pro", "free"],
            "ok": [True, True, False, True, True, False],
        }
    )
    m = fairness.group_metrics(
        frame,
        "ok",
        ["locale", "tier"],
        favorable=True,
        privileged={"locale": "en"},
        n_boot=0,
        min_group_size=2,
    )
    assert m["group"].to_list() == ["en & free", "en & pro", "tr & free", "null & pro"]
    assert m["n"].to_list() == [2, 1, 2, 1]
    assert m["small"].to_list() == [False, True, False, True]
    assert m["privileged"].to_list() == [True, True, False, False]
    assert m["reference_rate"].to_list() == pytest.approx([2 / 3] * 4)  # en: 2 of 3
    assert m["locale"].to_list() == ["en", "en", "tr", None]


def test_bootstrap_intervals_are_seeded_and_match_the_normal_approximation() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    frame = pl.DataFrame({"g": rng.choice(["a", "b"], n), "ok": rng.random(n) < 0.3})
    m1 = fairness.group_metrics(
        frame, "ok", "g", favorable=True, privileged="a", n_boot=2000, seed=7
    )
    m2 = fairness.group_metrics(
        frame, "ok", "g", favorable=True, privileged="a", n_boot=2000, seed=7
    )
    m3 = fairness.group_metrics(
        frame, "ok", "g", favorable=True, privileged="a", n_boot=2000, seed=8
    )
    assert m1.equals(m2)
    assert not m1.equals(m3)
    for row in m1.iter_rows(named=True):
        p, size = row["favorable_rate"], row["n"]
        half = 1.959964 * math.sqrt(p * (1 - p) / size)  # Wald interval
        assert row["favorable_rate_low"] < p < row["favorable_rate_high"]
        assert row["favorable_rate_high"] - row["favorable_rate_low"] == pytest.approx(
            2 * half, rel=0.1
        )
    b = m1.row(1, named=True)
    assert b["disparate_impact_low"] < b["disparate_impact"] < b["disparate_impact_high"]
    none = fairness.group_metrics(frame, "ok", "g", favorable=True, privileged="a", n_boot=0)
    assert none["favorable_rate_low"].null_count() == 2


def test_four_fifths_rule_and_flag() -> None:
    frame = pl.DataFrame(
        {
            "g": ["a"] * 200 + ["b"] * 200 + ["c"] * 200,
            "ok": [True] * 180
            + [False] * 20
            + [True] * 120
            + [False] * 80
            + [True] * 175
            + [False] * 25,
        }
    )
    m = fairness.group_metrics(frame, "ok", "g", favorable=True, privileged="a", n_boot=200)
    # b: 0.6 / 0.9 = 0.667 (outside, significant); c: 0.875 / 0.9 = 0.972 (inside)
    assert m["disparate_impact"].to_list() == pytest.approx([1.0, 0.6 / 0.9, 0.875 / 0.9])
    assert m["four_fifths_violation"].to_list() == [False, True, False]
    assert m["flagged"].to_list() == [False, True, False]
    assert m["disparity"].to_list() == [None, "disadvantaged", None]
    # c: unfavorable ratio 0.125 / 0.1 = 1.25 is inside the band (its edge)
    assert m["unfavorable_ratio"][2] == pytest.approx(1.25)


def test_audit_object(backend: str) -> None:
    frame = SMALL.to_pandas() if backend == "pandas" else SMALL
    result = fairness.audit(
        frame, "pred", "g", favorable=1, privileged="a", label="truth", n_boot=10
    )
    assert result.n == 8
    assert result.favorable_rate == 0.5
    assert result.theil_index == pytest.approx(
        fairness.theil_index(SMALL, "pred", label="truth", favorable=1)
    )
    assert result.group == ("g",)
    assert result.privileged == ({"g": "a"},)
    page = result._repr_html_()
    assert "<table>" in page
    assert "Bias audit" in page
    assert "no group outside" in result.summary()


def test_audit_html_escapes_and_redacts_group_values() -> None:
    frame = pl.DataFrame({"who": ["<b>x</b>", "ana@example.com"] * 20, "ok": [True, False] * 20})
    page = fairness.audit(frame, "ok", "who", favorable=True, n_boot=0)._repr_html_()
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert "ana@example.com" not in page
    assert "[EMAIL]" in page


# --------------------------------------------------------------------------- parameters


def test_parameter_errors() -> None:
    with pytest.raises(
        ParameterError,
        match=r"The 'outcome' parameter of fairness\.group_metrics must be a column of the frame "
        r"\(available: 'g, pred, truth'\)\. Got 'nope' instead\.",
    ):
        fairness.group_metrics(SMALL, "nope", "g", favorable=1, privileged="a")
    with pytest.raises(
        ParameterError,
        match=r"must name values present in column 'g' \(found: 'a, b'\)\. "
        r"Got 'z' instead",
    ):
        fairness.group_metrics(SMALL, "pred", "g", favorable=1, privileged="z")
    with pytest.raises(
        ParameterError,
        match=r"The 'favorable' parameter of fairness\.group_metrics must hold values of the dtype "
        r"of column 'pred' \(Int64\)\. Got 'yes' instead",
    ):
        fairness.group_metrics(SMALL, "pred", "g", favorable="yes", privileged="a")
    nulls = SMALL.with_columns(pl.when(pl.col("pred") == 0).then(None).otherwise(1).alias("pred"))
    with pytest.raises(ParameterError, match=r"Got 'pred' with 4 nulls in 8 rows instead"):
        fairness.group_metrics(nulls, "pred", "g", favorable=1, privileged="a")
    with pytest.raises(ParameterError, match=r"a dict \{column: value\}"):
        fairness.group_metrics(SMALL, "pred", ["g", "truth"], favorable=1, privileged="a")
    with pytest.raises(
        ParameterError,
        match=r"The 'n_boot' parameter of fairness\.group_metrics must be an "
        r"integer >= 0",
    ):
        fairness.group_metrics(SMALL, "pred", "g", favorable=1, privileged="a", n_boot=-1)
    with pytest.raises(ParameterError, match=r"The 'band' parameter"):
        fairness.group_metrics(SMALL, "pred", "g", favorable=1, privileged="a", band=(1.2, 0.8))
    with pytest.raises(ParameterError, match=r"must not name a column called like a result"):
        fairness.group_metrics(
            SMALL.rename({"g": "group"}), "pred", "group", favorable=1, privileged="a"
        )


# --------------------------------------------------------------------------- AIF360 path


def _constructed(seed: int, n: int = 3000) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    locale = rng.choice(["de", "en", "tr", "ja"], n, p=[0.3, 0.4, 0.2, 0.1])
    tier = rng.choice(["free", "pro"], n)
    truth = rng.random(n) < np.where(locale == "tr", 0.6, 0.8)
    pred = np.where(rng.random(n) < 0.8, truth, ~truth)
    return pl.DataFrame({"locale": locale, "tier": tier, "pred": pred, "truth": truth})


@pytest.mark.parametrize(
    ("group", "privileged"),
    [
        ("locale", "en"),
        ("locale", None),
        ("locale", ["en", "de"]),
        (["locale", "tier"], {"locale": "en"}),
        (["locale", "tier"], None),
        (["locale", "tier"], [{"locale": "en", "tier": "pro"}, {"locale": "de"}]),
    ],
)
def test_equals_aif360_on_constructed_cases(group: Any, privileged: Any) -> None:
    frame = _constructed(len(str(group)) + len(str(privileged)))
    ours = fairness.group_metrics(
        frame, "pred", group, favorable=True, privileged=privileged, label="truth", n_boot=0
    )
    theirs = fairness.aif360_group_metrics(
        frame, "pred", group, favorable=True, privileged=privileged, label="truth"
    )
    _close(ours, theirs, POINT + LABELLED)
    assert fairness.theil_index(frame, "pred", label="truth", favorable=True) == pytest.approx(
        fairness.aif360_theil_index(frame, "pred", label="truth", favorable=True), abs=1e-12
    )


def test_equals_aif360_when_a_rate_is_undefined() -> None:
    frame = pl.DataFrame({"g": ["a", "a", "b", "b", "c"], "ok": [0, 0, 1, 0, 1]})
    ours = fairness.group_metrics(frame, "ok", "g", favorable=1, privileged="a", n_boot=0)
    theirs = fairness.aif360_group_metrics(frame, "ok", "g", favorable=1, privileged="a")
    assert ours["disparate_impact"].to_list() == [None, None, None]  # reference rate 0
    _close(ours, theirs, ("favorable_rate", "statistical_parity_difference", "unfavorable_ratio"))


def test_aif360_dataset_converts_pandas_string_columns() -> None:
    frame = pd.DataFrame(
        {"tier": pd.array(["free", "pro", "free"], dtype="str"), "ok": [1, 1, 0], "x": [1, 2, 3]}
    )
    from toolkit.fairness import _aif360 as adapter

    lib = adapter.aif360()
    with adapter.quiet(), pytest.raises(TypeError):  # why the adapter converts
        lib.StandardDataset(frame, "ok", [1], ["tier"], [["pro"]])
    ds = fairness.aif360_dataset(frame, "ok", 1, {"tier": ["pro"]})
    assert ds.protected_attributes.ravel().tolist() == [0.0, 1.0, 0.0]
    assert ds.labels.ravel().tolist() == [1.0, 1.0, 0.0]


def test_aif360_import_leaves_logging_and_warnings_as_they_were() -> None:
    code = """
import logging, sys, warnings
root = logging.getLogger()
keep = logging.StreamHandler(sys.stdout)
root.addHandler(keep); root.setLevel(logging.INFO)
import toolkit.fairness
assert 'aif360' not in sys.modules and 'sklearn' not in sys.modules
from toolkit.fairness import _aif360
before = (root.level, list(root.handlers), root.disabled, list(warnings.filters))
_aif360.aif360()
assert 'aif360' in sys.modules
after = (root.level, list(root.handlers), root.disabled, list(warnings.filters))
assert before == after, (before, after)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "tensorflow" not in done.stdout  # the root handler saw nothing
    # second interpreter: no handler on the root logger, as in a plain script
    quiet = """
import logging, sys, warnings
from toolkit.fairness import _aif360
root = logging.getLogger()
before = (root.level, list(root.handlers), list(warnings.filters))
_aif360.aif360()
after = (root.level, list(root.handlers), list(warnings.filters))
assert before == after, (before, after)
"""
    done = subprocess.run(
        [sys.executable, "-c", quiet], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # nothing logged: no "No module named 'tensorflow'" lines


# --------------------------------------------------------------------------- real data


def _compas_reference(path: Path) -> Any:
    """AIF360's own CompasDataset processing on the file (its constructor's defaults)."""
    from aif360.datasets import CompasDataset

    from toolkit.fairness import _aif360

    lib = _aif360.aif360()
    params = inspect.signature(CompasDataset.__init__).parameters
    defaults = {k: v.default for k, v in params.items() if k != "self"}
    with _aif360.quiet():
        raw = _aif360.for_aif360(pd.read_csv(path, index_col="id", na_values=[]))
        return raw, lib.StandardDataset(df=raw.copy(), **defaults)


@pytest.mark.real_data
def test_compas_equals_aif360(real_data: Path) -> None:
    path = real_data / "compas" / "compas-scores-two-years.csv"
    raw, reference = _compas_reference(path)
    people = fairness.load_compas(path)
    assert people.height == reference.features.shape[0] == 6167
    assert people["id"].to_list() == [int(i) for i in reference.instance_names]
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) - 1 == fairness.load_compas(path, filtered=False).height == 7214
    people = people.with_columns(
        pl.when(pl.col("race") == "Caucasian")
        .then(pl.lit("Caucasian"))
        .otherwise(pl.lit("not Caucasian"))
        .alias("race2"),
        (pl.col("decile_score") > 4).cast(pl.Int64).alias("high_risk"),
    )
    lib = _aif360()
    for column, attr, privileged in (("race2", "race", "Caucasian"), ("sex", "sex", "Female")):
        ours = fairness.group_metrics(
            people, "two_year_recid", column, favorable=0, privileged=privileged, n_boot=0
        )
        unpriv = ours.filter(~pl.col("privileged")).row(0, named=True)
        metric = lib.BinaryLabelDatasetMetric(
            reference, unprivileged_groups=[{attr: 0}], privileged_groups=[{attr: 1}]
        )
        assert unpriv["disparate_impact"] == pytest.approx(metric.disparate_impact(), abs=1e-9)
        assert unpriv["statistical_parity_difference"] == pytest.approx(
            metric.statistical_parity_difference(), abs=1e-9
        )
        assert unpriv["n"] == metric.num_instances(privileged=False)
    # classification metrics: COMPAS's score (decile > 4 = high risk = recidivism predicted)
    predicted = reference.copy(deepcopy=True)
    decile = raw.loc[[int(i) for i in reference.instance_names], "decile_score"].to_numpy()
    predicted.labels = (decile > 4).astype(float).reshape(-1, 1)
    metric = lib.ClassificationMetric(
        reference, predicted, unprivileged_groups=[{"race": 0}], privileged_groups=[{"race": 1}]
    )
    ours = (
        fairness.group_metrics(
            people,
            "high_risk",
            "race2",
            favorable=0,
            privileged="Caucasian",
            label="two_year_recid",
            n_boot=0,
        )
        .filter(pl.col("group") == "not Caucasian")
        .row(0, named=True)
    )
    assert ours["equal_opportunity_difference"] == pytest.approx(
        metric.equal_opportunity_difference(), abs=1e-9
    )
    assert ours["average_odds_difference"] == pytest.approx(
        metric.average_odds_difference(), abs=1e-9
    )
    assert ours["disparate_impact"] == pytest.approx(metric.disparate_impact(), abs=1e-9)
    assert fairness.theil_index(
        people, "high_risk", label="two_year_recid", favorable=0
    ) == pytest.approx(metric.theil_index(), abs=1e-9)
    # every race against Caucasian, through our AIF360 adapter
    ours_all = fairness.group_metrics(
        people,
        "high_risk",
        "race",
        favorable=0,
        privileged="Caucasian",
        label="two_year_recid",
        n_boot=0,
    )
    _close(
        ours_all,
        fairness.aif360_group_metrics(
            people, "high_risk", "race", favorable=0, privileged="Caucasian", label="two_year_recid"
        ),
        POINT + LABELLED,
    )
    black = ours_all.filter(pl.col("group") == "African-American").row(0, named=True)
    # recounted with the csv module: ProPublica's filter, then AIF360's complete rows
    header, body = rows[0], rows[1:]
    col = {
        name: header.index(name)
        for name in (
            "days_b_screening_arrest",
            "is_recid",
            "c_charge_degree",
            "score_text",
            "race",
            "c_charge_desc",
        )
    }
    kept = [
        r
        for r in body
        if r[col["days_b_screening_arrest"]] != ""
        and -30 <= int(r[col["days_b_screening_arrest"]]) <= 30
        and r[col["is_recid"]] != "-1"
        and r[col["c_charge_degree"]] != "O"
        and r[col["score_text"]] != "N/A"
        and r[col["c_charge_desc"]] != ""
    ]
    assert len(kept) == 6167
    assert black["n"] == sum(r[col["race"]] == "African-American" for r in kept)
    assert black["flagged"]
    assert black["disparity"] == "disadvantaged"


@pytest.mark.real_data
def test_german_credit_equals_aif360(real_data: Path) -> None:
    from aif360.datasets import GermanDataset, german_dataset

    from toolkit.fairness import _aif360

    path = real_data / "uci_german" / "german.data"
    with open(path, newline="") as handle:
        records = [line.split() for line in handle if line.strip()]
    assert len(records) == 1000
    status = {"A91": "male", "A93": "male", "A94": "male", "A92": "female", "A95": "female"}
    frame = pl.DataFrame(
        {
            "sex": [status[r[8]] for r in records],
            "age": ["old" if int(r[12]) > 25 else "young" for r in records],
            "credit": [int(r[20]) for r in records],  # 1 good, 2 bad
        }
    )
    names = inspect.getsource(GermanDataset.__init__).split("column_names = ")[1]
    columns = json.loads(names.split("]")[0].replace("'", '"') + "]")
    raw = pd.read_csv(path, sep=" ", header=None, names=columns, na_values=[])
    params = inspect.signature(GermanDataset.__init__).parameters
    defaults = {k: v.default for k, v in params.items() if k != "self"}
    assert defaults["custom_preprocessing"] is german_dataset.default_preprocessing
    lib = _aif360.aif360()
    with _aif360.quiet():
        reference = lib.StandardDataset(df=_aif360.for_aif360(raw), **defaults)
    assert reference.features.shape[0] == frame.height
    for column, privileged in (("sex", "male"), ("age", "old")):
        ours = fairness.group_metrics(
            frame, "credit", column, favorable=1, privileged=privileged, n_boot=0
        )
        unpriv = ours.filter(~pl.col("privileged")).row(0, named=True)
        metric = lib.BinaryLabelDatasetMetric(
            reference, unprivileged_groups=[{column: 0}], privileged_groups=[{column: 1}]
        )
        assert unpriv["disparate_impact"] == pytest.approx(metric.disparate_impact(), abs=1e-9)
        assert unpriv["statistical_parity_difference"] == pytest.approx(
            metric.statistical_parity_difference(), abs=1e-9
        )
        assert unpriv["favorable_rate"] == pytest.approx(metric.base_rate(False), abs=1e-12)
    # hand check: 700 of 1000 have good credit
    assert frame["credit"].eq(1).sum() == 700


def test_load_compas_errors(tmp_path: Path) -> None:
    header = (
        "id,sex,age,age_cat,race,juv_fel_count,decile_score,juv_misd_count,juv_other_count,"
        "priors_count,days_b_screening_arrest,c_charge_degree,c_charge_desc,is_recid,"
        "decile_score,score_text,priors_count,two_year_recid\n"
    )
    good = "1,Male,69,Greater than 45,Other,0,1,0,0,0,-1,F,Assault,0,1,Low,0,0\n"
    path = tmp_path / "compas.csv"
    path.write_text(header + good + good.replace("1,Male,69", "2,Male,x9"))
    with pytest.raises(
        FormatError,
        match=r"compas\.csv, line 3, column 'age': found 'x9', "
        r"expected an integer",
    ):
        fairness.load_compas(path)
    path.write_text(header + good.replace("0,1,Low", "0,7,Low"))
    with pytest.raises(FormatError, match=r"line 2, column 'decile_score': the repeated column"):
        fairness.load_compas(path)
    path.write_text("id,sex\n1,Male\n")
    with pytest.raises(FormatError, match=r"missing column\(s\) age"):
        fairness.load_compas(path)
    # a path that is no file: the toolkit's error naming it, not the CSV reader's
    for missing in (tmp_path / "none.csv", tmp_path):
        with pytest.raises(ParameterError, match=r"'path' parameter of datasets\.load_compas"):
            fairness.load_compas(missing)


# --------------------------------------------------------------------------- the sample


@pytest.fixture(scope="module")
def answered() -> pl.DataFrame:
    calls = toolkit.llm_calls(toolkit.load_spans(SAMPLE / "traces.jsonl.gz", progress=False))
    return calls.filter(~pl.col("is_error")).with_columns(
        (pl.col("finish_reason") == "content_filter").fill_null(False).alias("refused"),
        pl.col("input_tokens").log1p().alias("log_input_tokens"),
    )


@pytest.mark.parametrize("privileged", [None, "en-US"])
def test_the_sample_unequal_locale_is_flagged(answered: pl.DataFrame, privileged: Any) -> None:
    result = fairness.audit(answered, "refused", LOCALE, favorable=False, privileged=privileged)
    assert result.disadvantaged == ["tr-TR"]
    tr = result.groups.filter(pl.col("group") == "tr-TR").row(0, named=True)
    # recomputed by counting
    refused = answered.filter(pl.col(LOCALE) == "tr-TR")["refused"]
    others = answered.filter(
        pl.col(LOCALE) != "tr-TR" if privileged is None else pl.col(LOCALE) == privileged
    )["refused"]
    ratio = refused.mean() / others.mean()
    assert tr["unfavorable_ratio"] == pytest.approx(ratio, rel=1e-12)
    assert tr["unfavorable_ratio_low"] > 1.25
    assert tr["disparate_impact"] > 0.8  # the four-fifths rule on "served" alone misses it
    assert not tr["four_fifths_violation"]


def test_mitigation_improves_the_targeted_metric_on_held_out_calls(
    answered: pl.DataFrame,
) -> None:
    locales = sorted(set(answered[LOCALE]) - {"tr-TR"})
    features = [
        "log_input_tokens",
        "attributes.app.route",
        "attributes.user.tier",
        LOCALE,
        "attributes.app.prompt.category",
    ]
    result = fairness.mitigate(
        answered,
        "refused",
        features=features,
        protected=LOCALE,
        favorable=False,
        privileged=locales,
        seed=0,
    )
    assert result.table["method"].to_list() == ["baseline", "reweighing", "reject option"]
    assert result.n_test == pytest.approx(0.3 * answered.height, abs=1)
    spd = dict(
        zip(result.table["method"], result.table["statistical_parity_difference"], strict=True)
    )
    assert spd["baseline"] < -0.3  # the model learned the filter's bias
    assert abs(spd["reweighing"]) < abs(spd["baseline"]) / 5
    assert abs(spd["reject option"]) < abs(spd["baseline"]) / 5
    # the table's fairness numbers are AIF360's on the same held-out predictions
    assert result.value("baseline", "disparate_impact") == pytest.approx(
        result.value("baseline", "favorable_rate_unprivileged")
        / result.value("baseline", "favorable_rate_privileged")
    )
    assert "<table>" in result._repr_html_()


def test_mitigate_parameter_errors() -> None:
    with pytest.raises(
        ParameterError,
        match=r"The 'metric' parameter of fairness\.mitigate must be one of "
        r"statistical_parity_difference, average_odds_difference, "
        r"equal_opportunity_difference\. Got 'theil' instead",
    ):
        fairness.mitigate(
            SMALL,
            "truth",
            features=["pred"],
            protected="g",
            favorable=1,
            privileged="a",
            metric="theil",
        )
    with pytest.raises(ParameterError, match=r"must leave both groups non-empty"):
        fairness.mitigate(
            SMALL, "truth", features=["pred"], protected="g", favorable=1, privileged=["a", "b"]
        )


# --------------------------------------------------------------------------- figures


def test_figures() -> None:
    frame = pl.DataFrame(
        {
            "g": ["a"] * 200 + ["b"] * 200,
            "ok": [True] * 180 + [False] * 20 + [True] * 100 + [False] * 100,
        }
    )
    m = fairness.group_metrics(frame, "ok", "g", favorable=True, privileged="a", n_boot=100)
    fig = fairness_plots.group_rates(m, unfavorable=True)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    xs = [line.get_xdata()[0] for line in ax.get_lines() if line.get_marker() == "o"]
    assert xs == pytest.approx([0.1, 0.5])
    fig = fairness_plots.disparity(m, "unfavorable_ratio")
    bars = [p for p in fig.axes[0].patches if p.get_height() < 1]
    assert [round(float(b.get_width()), 6) for b in bars] == [0.0, 4.0]  # ratio 5 from 1
    assert bars[1].get_facecolor()[:3] != bars[0].get_facecolor()[:3]  # flagged in red
    with pytest.raises(ParameterError, match=r"'metric' parameter of plots\.fairness\.disparity"):
        fairness_plots.disparity(m, "nope")


# --------------------------------------------------------------------------- audits of the calls


def _calls() -> pl.DataFrame:
    """Hand-built calls: tr refused 3x as often as en in each category; b refused 4x a."""
    rows: list[tuple[Any, ...]] = []
    for locale, category, n, refused in (
        ("en", "a", 200, 10),
        ("tr", "a", 100, 15),
        ("en", "b", 200, 40),
        ("tr", "b", 100, 60),
    ):
        for i in range(n):
            tier = "free" if i % 2 else "pro"
            rows.append((locale, category, tier, i < refused, 0.1 * (i % 20), False))
    rows.append(("en", "a", "free", False, None, True))  # a failed call
    return pl.DataFrame(
        rows,
        schema={
            "attributes.user.locale": pl.String,
            "attributes.app.prompt.category": pl.String,
            "attributes.user.tier": pl.String,
            "_refused": pl.Boolean,
            "ttft_s": pl.Float64,
            "is_error": pl.Boolean,
        },
        orient="row",
    ).with_columns(
        finish_reason=pl.when("_refused").then(pl.lit("content_filter")).otherwise(pl.lit("stop")),
        input_tokens=pl.lit(100),
    )


def test_call_outcomes_adds_what_the_calls_support() -> None:
    calls = _calls()
    out = fairness.call_outcomes(calls)
    assert (out.calls, out.answered.height) == (601, 600)
    assert out.answered["refused"].sum() == 125
    # the 95th percentile (nearest rank) of 0.0 .. 1.9, 30 calls each: 1.8
    assert out.ttft_slo_s == pytest.approx(1.8)
    assert out.ttft_source == "the calls' 95th percentile"
    given = fairness.call_outcomes(calls, ttft_slo_s=1.0)
    assert given.ttft_source == "given"
    assert given.answered["ttft_within_slo"].sum() == 330  # 0.0 .. 1.0: 11 of 20 values
    assert given.support("refused").ok
    bare = fairness.call_outcomes(calls.drop("finish_reason", "ttft_s"))
    assert "refused" not in bare.answered.columns
    assert bare.ttft_slo_s is None
    assert bare.support("refused").missing == ("refused",)
    assert "finish reason" in bare.support("refused").how
    none_refused = fairness.call_outcomes(calls.with_columns(finish_reason=pl.lit("stop")))
    assert none_refused.support("refused").missing == ("calls of both outcomes (all are False)",)
    with pytest.raises(ParameterError, match=r"'ttft_slo_s' parameter of fairness\.call_outcomes"):
        fairness.call_outcomes(calls, ttft_slo_s=-1)


def test_group_dimensions_puts_the_users_first() -> None:
    users, others = fairness.group_dimensions(_calls())
    assert set(users) == {"attributes.user.tier", "attributes.user.locale"}
    assert others == ["attributes.app.prompt.category"]


def test_audit_dimensions_against_the_largest_group() -> None:
    answered = fairness.call_outcomes(_calls()).answered
    columns = ["attributes.user.locale", "attributes.app.prompt.category", "attributes.user.tier"]
    result = fairness.audit_dimensions(answered, "refused", columns, favorable=False, n_boot=0)
    assert result.references == {
        "attributes.user.locale": "en",
        "attributes.app.prompt.category": "a",  # a tie (300 each): the first by name
        "attributes.user.tier": "free",  # a tie too
    }
    rates = result.rates(unfavorable=True)
    assert rates["attributes.user.locale"] == pytest.approx({"en": 50 / 400, "tr": 75 / 200})
    assert result.disadvantaged == {
        "attributes.user.locale": ["tr"],
        "attributes.app.prompt.category": ["b"],
        "attributes.user.tier": [],
    }
    worst = result.worst()
    assert (worst["dimension"], worst["group"]) == ("attributes.app.prompt.category", "b")
    assert worst["unfavorable_ratio"] == pytest.approx((100 / 300) / (25 / 300))
    users = result.worst(["attributes.user.locale"])
    assert users["group"] == "tr"
    assert users["unfavorable_ratio"] == pytest.approx(3.0)
    assert result.groups["dimension"].unique().len() == 3
    given = fairness.audit_dimensions(
        answered, "refused", columns[:1], favorable=False, reference={columns[0]: "tr"}, n_boot=0
    )
    assert given.references == {columns[0]: "tr"}
    assert given.flagged == {columns[0]: ["en"]}
    assert "<strong>Bias audit of refused</strong>" in result._repr_html_()
    from toolkit.errors import ColumnNotFoundError

    with pytest.raises(ColumnNotFoundError, match="locales"):
        fairness.audit_dimensions(answered, "refused", ["locales"], favorable=False)


def test_within_strata_and_intersections() -> None:
    answered = fairness.call_outcomes(_calls()).answered
    within = fairness.within_strata(
        answered,
        "refused",
        "attributes.user.locale",
        group="tr",
        strata=["attributes.app.prompt.category", "attributes.user.locale"],
        favorable=False,
        n_boot=0,
    )
    assert within["stratum"].unique().to_list() == ["attributes.app.prompt.category"]
    assert within.select("value", "n").rows() == [("a", 100), ("b", 100)]
    assert within["unfavorable_ratio"].to_list() == pytest.approx([3.0, 3.0])
    assert within["flagged"].all()
    crossed = fairness.audit_intersections(
        answered,
        "refused",
        "attributes.user.locale",
        others=["attributes.user.tier"],
        favorable=False,
        reference="en",
        n_boot=0,
    )
    [name] = crossed.audits
    assert name == "attributes.user.locale × attributes.user.tier"
    assert set(crossed.disadvantaged[name]) == {"tr & free", "tr & pro"}


@pytest.mark.real_data
def test_decision_data_and_the_compas_anchor(real_data: Path) -> None:
    rows = pl.DataFrame(
        {"locale": ["en", None, "tr"], "tier": [None, "pro", "free"], "n": [1.0, 2.0, None]}
    )
    data = fairness.decision_data(rows, ["tier", "n", "locale"], "locale")
    assert data.rows() == [("en", "(none)", 1.0), ("tr", "free", 0.0)]
    compas = real_data / "compas" / "compas-scores-two-years.csv"
    anchor = fairness.audit_compas(compas, n_boot=0)
    assert anchor.n == 6167
    black = anchor.groups.filter(pl.col("group") == "African-American").row(0, named=True)
    assert black["disparate_impact"] < 0.8
    assert black["equal_opportunity_difference"] < 0


def test_dimensions_plot_labels_each_group_with_its_dimension() -> None:
    answered = fairness.call_outcomes(_calls()).answered
    columns = ["attributes.user.locale", "attributes.app.prompt.category", "attributes.user.tier"]
    result = fairness.audit_dimensions(answered, "refused", columns, favorable=False, n_boot=0)
    fig = fairness_plots.dimension_bars(result, title="flagged")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["app.prompt.category: b", "user.locale: tr"]  # the larger ratio first
    everything = fairness_plots.dimension_bars(result, flagged_only=False)
    assert len(everything.axes[0].get_yticklabels()) == result.groups.height
    with pytest.raises(ParameterError, match="DimensionAudit"):
        fairness_plots.dimension_bars(result.groups)
