"""toolkit.triage: incidents of the sample against its truth.json, the merge, the runbooks."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import polars as pl
import pytest

import toolkit
from toolkit import triage
from toolkit.errors import FormatError, ParameterError

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

# The cause key the review must rank first for each kind of the sample's truth (the library
# never reads truth.json: these are the known answers).
TRUE_CAUSE = {
    "model_release_regression": "version_change",
    "data_drift": "share_shift",
    "quality_regression": "ungrounded_answers",
    "bias": "group_disparity",
    "capacity_saturation": "peak_demand",
    "overload": "tenant_surge",
    "guideline_compliance_regression": "release",
    "prediction_quality_regression": "model_degradation",
}


def t(hour: float) -> dt.datetime:
    return dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=hour)


@pytest.fixture(scope="module")
def found() -> triage.Review:
    return triage.review(toolkit.discover(SAMPLE))


@pytest.fixture(scope="module")
def truth() -> list[dict]:
    return json.loads((SAMPLE / "truth.json").read_text())["incidents"]


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _match(found: triage.Review, incident: dict) -> dict:
    start, end = _when(incident["window"]["start"]), _when(incident["window"]["end"])
    same = found.incidents.filter(
        (pl.col("kind") == incident["kind"]) & (pl.col("start") < end) & (pl.col("end") > start)
    )
    assert same.height, f"{incident['id']} not found: {found.incidents.select('kind', 'start')}"
    return same.sort((pl.col("start") - start).abs()).row(0, named=True)


def test_every_true_incident_is_found_with_its_window_and_cause(found, truth):
    for incident in truth:
        row = _match(found, incident)
        start = _when(incident["window"]["start"])
        if row["severity"] == "page":
            assert abs(row["start"] - start) <= dt.timedelta(minutes=15), incident["id"]
        assert row["cause_key"] == TRUE_CAUSE[incident["kind"]], incident["id"]
        named = set(incident["slice"].values()) | set(incident["cause"].split())
        if incident["kind"] == "capacity_saturation":
            assert row["pool"] == incident["slice"]["deployment.pool"]
        else:
            assert row["cause_value"] in named or row["cause_value"] in incident["cause"], (
                incident["id"],
                row["cause_value"],
            )
        assert row["detected_at"] >= row["start"]


def test_the_pages_of_the_sample(found):
    pages = found.incidents.filter(pl.col("severity") == "page")
    assert set(pages["kind"]) == {
        "model_release_regression",
        "quality_regression",
        "overload",
        "guideline_compliance_regression",
    }
    release = pages.filter(pl.col("kind") == "model_release_regression").row(0, named=True)
    # the release ran 09:30 Wed to 15:00 Thu; the TTFT page fired about an hour after it
    assert release["start"].strftime("%d %H:%M") == "04 09:30"
    assert (
        dt.timedelta(minutes=30) < release["detected_at"] - release["start"] < dt.timedelta(hours=2)
    )
    assert "ttft" in release["budget_burned"]
    assert release["calls_affected"] > 0


def test_causes_are_ranked_and_carry_evidence(found):
    release = found.incidents.filter(pl.col("kind") == "model_release_regression")["incident"][0]
    ranked = found.causes.filter(pl.col("incident") == release).sort("rank")
    top = ranked.row(0, named=True)
    assert (top["cause"], top["value"], top["previous"]) == (
        "version_change",
        "llama-3.3-70b-instruct-2026-11",
        "llama-3.3-70b-instruct-2026-10",
    )
    assert "replaced" in top["evidence"]
    assert ranked["rank"].to_list() == list(range(1, ranked.height + 1))


def test_signals_of_every_detector(found):
    ran = dict(found.detectors.select("detector", "signals").iter_rows())
    assert set(ran) == {
        "slo",
        "versions",
        "releases",
        "capacity",
        "pressure",
        "errors",
        "drift",
        "quality",
        "fairness",
        "compliance",
        "performance",
        "traces",
        "explanations",
    }
    assert all(n > 0 for n in ran.values())
    assert found.signals.columns == [*triage.SIGNALS, "incident"]
    deploys = found.signals.filter(pl.col("kind") == "deploy")
    assert set(deploys["value"]) == {
        "llama-3.3-70b-instruct-2026-11",
        "medassist-8b-2026-11",
        "2.4.0",
    }


def test_runbook_steps_carry_the_incidents_values(found):
    rows = {r["kind"]: r for r in found.incidents.iter_rows(named=True)}
    release = found.runbook(rows["model_release_regression"]["incident"])
    assert "llama-3.3-70b-instruct-2026-11" in release[0]
    assert "h100-pool" in release[0]
    assert "Roll h100-pool back to llama-3.3-70b-instruct-2026-10" in release[1]
    overload = found.runbook(rows["overload"]["incident"])
    # the l4-pool serves the free tier only: the burst shows in the locale of its client
    assert "user.locale = en-US sent 82% of l4-pool's calls" in overload[0]
    assert "l4-pool" in overload[0]
    assert f"{rows['overload']['calls_affected']} calls" in overload[2]
    assert "tr-TR" in rows["bias"]["runbook"]
    # the fleet size from the incident's own load: the h100-pool's 4 replicas ran fewer
    # sequences than were wanted at the peak
    saturation = found.runbook(rows["capacity_saturation"]["incident"])
    assert re.search(
        r"Scale h100-pool to [5-9] replicas \(now 4; at the peak 1\.\d\dx", saturation[1]
    )
    assert "<" not in "".join(found.incidents["runbook"])  # every placeholder filled
    # an SLO burn that only its grown span explains points at that span
    books = triage.load_runbooks()
    burn = {"pool": "l4-pool", "window": "Fri 06 16:00-17:00 UTC", "budget_burned": "ttft 40%"}
    steps = triage.fill(
        books[("slo_burn", "span_growth")],
        {**burn, "subject": "queueing", "previous": "3 ms", "value": "82 ms"},
    )
    assert steps[0] == (
        "l4-pool burned its error budget over Fri 06 16:00-17:00 UTC (ttft 40%) while "
        "queueing grew from 3 ms to 82 ms per trace."
    )
    assert "<" not in "".join(triage.fill(books[("slo_burn", "*")], burn))
    with pytest.raises(ParameterError, match=r"'incident' parameter of triage\.Review\.runbook"):
        found.runbook("nope")


def test_user_runbooks_override_and_extend(tmp_path):
    path = tmp_path / "ours.yaml"
    path.write_text(
        "- kind: overload\n  cause: tenant_surge\n  title: Ours\n"
        "  steps: ['Page the {pool} owner about {value}']\n"
        "- kind: new_kind\n  cause: '*'\n  title: New\n  steps: []\n"
    )
    books = triage.load_runbooks([path])
    ours = books["overload", "tenant_surge"]
    assert ours.title == "Ours"
    assert triage.fill(ours, {"pool": "l4-pool", "value": "free"}) == [
        "Page the l4-pool owner about free"
    ]
    assert ("new_kind", "*") in books
    assert ("bias", "group_disparity") in books
    bad = tmp_path / "bad.yaml"
    bad.write_text("- kind: overload\n  steps: 3\n")
    with pytest.raises(FormatError, match="entry 1"):
        triage.load_runbooks([bad])
    with pytest.raises(ParameterError, match="'runbooks' parameter"):
        triage.load_runbooks([tmp_path / "missing.yaml"])


def _signal(kind, scope, start, end, **extra):
    return {
        "detector": extra.pop("detector", "d"),
        "role": extra.pop("role", "symptom"),
        "kind": kind,
        "scope": scope,
        "pool": extra.pop("pool", scope),
        "severity": extra.pop("severity", "ticket"),
        "start": t(start),
        "end": t(end),
        "detected_at": t(start + 0.25),
        "strength": extra.pop("strength", 1.0),
        **extra,
    }


def test_merge_of_overlapping_signals():
    signals = pl.DataFrame(
        [
            _signal("overload", "a", 1, 2, detector="errors", severity="page", strength=3.0),
            _signal("overload", "a", 1.5, 4, detector="capacity"),
            _signal("overload", "a", 4.5, 5),  # within the 1 h gap: same incident
            _signal("overload", "a", 8, 9),  # 4 h later: a new one
            _signal("overload", "b", 1, 2),  # another pool
            _signal("bias", "a", 1, 2),  # another kind
        ]
    )
    merged = triage.merge(signals)
    assert merged.select("kind", "scope", "signals").rows() == [
        ("overload", "a", 3),
        ("overload", "b", 1),
        ("bias", "a", 1),
        ("overload", "a", 1),
    ] or sorted(merged.select("kind", "scope", "signals").rows()) == sorted(
        [("overload", "a", 3), ("overload", "b", 1), ("bias", "a", 1), ("overload", "a", 1)]
    )
    first = merged.filter((pl.col("scope") == "a") & (pl.col("kind") == "overload")).sort("start")
    row = first.row(0, named=True)
    assert (row["start"], row["end"], row["detected_at"]) == (t(1), t(5), t(1.25))
    assert (row["severity"], row["strength"], row["detectors"]) == (
        "page",
        3.0,
        ["capacity", "d", "errors"],
    )
    assert first.row(1, named=True)["severity"] == "ticket"
    assert triage.merge(signals, gap="10m").filter(pl.col("scope") == "a").height == 4


def test_merge_turns_an_slo_burn_inside_a_release_into_its_regression():
    signals = pl.DataFrame(
        [
            _signal("deploy", "p", 10, 40, role="cause", value="v2"),
            _signal("slo_burn", "p", 11, 20, severity="page"),
            _signal("slo_burn", "q", 11, 20, severity="page"),  # another pool: no release
            _signal("slo_burn", "p", 50, 51, severity="page"),  # after the rollback
        ]
    )
    merged = triage.merge(signals).sort("start", "scope")
    assert merged.select("kind", "scope", "start", "end").rows() == [
        ("model_release_regression", "p", t(10), t(40)),
        ("slo_burn", "q", t(11), t(20)),
        ("slo_burn", "p", t(50), t(51)),
    ]


def test_merge_refuses_what_is_not_a_signals_frame():
    with pytest.raises(ParameterError, match=r"'signals' parameter of triage.merge"):
        triage.merge(pl.DataFrame({"kind": ["x"]}))
    with pytest.raises(ParameterError, match="'signals' parameter"):
        triage.merge([1, 2])
    with pytest.raises(ParameterError, match="'gap' parameter"):
        triage.merge(pl.DataFrame([_signal("x", "a", 1, 2)]), gap="soon")
    assert triage.merge(pl.DataFrame([_signal("deploy", "a", 1, 2, role="cause")])).height == 0


def test_deploy_markers_need_a_version_after_another():
    calls = pl.DataFrame(
        {
            "start_time": [t(h) for h in range(12)],
            "response_model": ["m1"] * 6 + ["m2"] * 6,
            "pool": ["p"] * 12,
            "service_name": "gw",
        }
    )
    found = triage.deploy_markers(calls, pool="pool")
    assert found.select("pool", "value", "previous", "start", "end").rows() == [
        ("p", "m2", "m1", t(6), t(11))
    ]
    # one version all along (or two from the start, e.g. two replicas' builds): no deploy
    assert triage.deploy_markers(calls.with_columns(response_model=pl.lit("m1"))).height == 0


def test_review_refuses_what_is_not_a_folder(tmp_path):
    with pytest.raises(ParameterError, match=r"'data' parameter of triage.review"):
        triage.review(tmp_path / "missing")


def test_a_quiet_week_gives_no_incident(tmp_path):
    from toolkit import synth

    synth.generate(tmp_path, rps=0.1, seed=7, trace_sample=0.05, plan=synth.quiet_plan())
    assert json.loads((tmp_path / "truth.json").read_text())["incidents"] == []
    quiet = triage.review(tmp_path)
    # every detector ran on the quiet week (the clinical and fraud files are there too) ...
    assert quiet.detectors.filter(~pl.col("ran"))["detector"].to_list() == ["releases"]
    # ... and none of them found an incident, of any class or severity
    assert quiet.incidents.height == 0, quiet.incidents
    assert quiet.signals.filter(pl.col("kind") == "deploy").height == 0
    # each pool was held to its own level: the slow h100-pool's TTFT bar is above the l4's
    ttft = {n.split(":")[0]: n for n in quiet.objectives if "TTFT threshold" in n}
    assert set(ttft) == {"h100-pool", "l4-pool"}


# --- detectors on constructed data -------------------------------------------------------------


def _load(kv: dict[str, list[float]], tokens: list[float] | None = None) -> pl.DataFrame:
    """toolkit.capacity.pool_load's frame: one 15-minute window per value and pool."""
    return pl.DataFrame(
        [
            {
                "pool": pool,
                "time": t(w / 4),
                "kv_usage": level,
                "waiting": 0.0,
                "prompt_tokens_per_s": tokens[w] if tokens and pool == "a" else 100.0,
            }
            for pool, levels in kv.items()
            for w, level in enumerate(levels)
        ]
    )


def _calls_during(n_before: int, n_inside: int, surge: str | None) -> pl.DataFrame:
    """Calls of pool a: chat and code half and half over 20 h, then only `surge` for 1 h
    (None: the same half and half)."""
    before = [
        {
            "start_time": t(20 * k / n_before),
            "pool": "a",
            "attributes.app.route": ("chat", "code")[k % 2],
        }
        for k in range(n_before)
    ]
    inside = [
        {
            "start_time": t(20 + k / n_inside),
            "pool": "a",
            "attributes.app.route": surge or ("chat", "code")[k % 2],
        }
        for k in range(n_inside)
    ]
    return pl.DataFrame(before + inside)


def test_pressure_far_above_the_pools_own_level():
    # 80 windows at 1 % of the cache, then 4 windows (1 h) at 40 %, then back: 5 x the p90
    # (1 %) is 5 %, the floor 15 %: one run, 20:00-21:00
    load = _load({"a": [0.01] * 80 + [0.4] * 4 + [0.01] * 8, "b": [0.3] * 92})
    found = triage._pressure_signals(load, None, None)
    assert found.select("pool", "kind", "cause").rows() == [
        ("a", "capacity_saturation", "peak_demand")
    ]
    row = found.row(0, named=True)
    assert (row["start"], row["end"]) == (t(20), t(21))
    assert row["detected_at"] == t(20.5)
    assert row["strength"] == pytest.approx(40.0)
    # (pool b sits at 30 % all along: its own level, no pressure.)
    # A single window over the bar is not a run.
    spike = _load({"a": [0.01] * 80 + [0.4] + [0.01] * 8})
    assert triage._pressure_signals(spike, None, None).height == 0
    # the same pressure while chat's share of the pool's calls went from 50 % to 100 %: an
    # overload by that route
    calls = _calls_during(200, 60, "chat")
    over = triage._pressure_signals(load, calls, "pool").row(0, named=True)
    assert (over["kind"], over["cause"], over["subject"], over["value"]) == (
        "overload",
        "tenant_surge",
        "app.route",
        "chat",
    )
    assert over["previous"] == "50%->100%"


def test_a_prompt_token_surge_against_the_same_time_of_day():
    # four days of 96 windows: tokens follow a daily cycle (100 at night, 400 by day); on day
    # 3, 05:00-06:00, they reach 900: 9 x that slot's median on the other days (100); the
    # daily peak itself is no surge (its slot's usual is 400)
    cycle = [400.0 if 36 <= w % 96 < 72 else 100.0 for w in range(4 * 96)]
    surge = range(2 * 96 + 20, 2 * 96 + 24)
    tokens = [900.0 if w in surge else v for w, v in enumerate(cycle)]
    # the burst fills the cache to 3 x its usual 1 % (under the 15 % floor of pressure)
    load = _load({"a": [0.03 if w in surge else 0.01 for w in range(len(tokens))]}, tokens)
    calls = _calls_during(200, 60, "chat").with_columns(
        pl.col("start_time") + dt.timedelta(days=2, hours=-15)  # the surge's hour on day 3
    )
    found = triage._pressure_signals(load, calls, "pool")
    assert found.select("kind", "subject", "start", "end").rows() == [
        ("overload", "app.route", t(48 + 5), t(48 + 6))
    ]
    assert "against 100.0 (same time of day)" in found["evidence"][0]
    # more of the same traffic (no slice's share grew) is no incident
    same = _calls_during(200, 60, None).with_columns(
        pl.col("start_time") + dt.timedelta(days=2, hours=-15)
    )
    assert triage._pressure_signals(load, same, "pool").height == 0
    # nor is a slice's surge the pool absorbs (its cache at its usual level): a new market's
    # morning
    idle = _load({"a": [0.01] * len(tokens)}, tokens)
    assert triage._pressure_signals(idle, calls, "pool").height == 0


def test_a_bad_answer_window_must_be_unlikely_under_the_usual_rate():
    from scipy import stats

    class Found:
        series = pl.DataFrame({"assessed": [100.0] * 10})
        weight_column = "assessed"

    window = {"level_outside": 0.01, "weight": 13.0, "bad": 3}
    # P(X >= 3) for X ~ Binomial(13, 0.01), by hand: 1 - P(0) - P(1) - P(2)
    by_hand = 1 - sum(math.comb(13, k) * 0.01**k * 0.99 ** (13 - k) for k in range(3))
    p = triage._window_p_value(window, pl.DataFrame(), Found())
    assert p == pytest.approx(by_hand, rel=1e-9)
    assert p == pytest.approx(stats.binom.sf(2, 13, 0.01), rel=1e-12)
    # 3 of 13 answers at risk against 1 %: p ~ 2.6e-4, not an incident once 168 hourly
    # windows were looked at (Bonferroni: 0.044 >= 0.01); 15 of 15 is
    assert p * 168 >= triage.QUALITY_ALPHA
    assert (
        triage._window_p_value({**window, "weight": 15.0, "bad": 15}, pl.DataFrame(), Found()) * 168
        < triage.QUALITY_ALPHA
    )


def test_drift_compares_like_days_with_like():
    monday = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    assert triage._day_types(monday, monday + dt.timedelta(days=2)) == {"weekday"}
    assert triage._day_types(monday, monday + dt.timedelta(days=7)) == {"weekday", "weekend"}
    assert triage._day_types(monday + dt.timedelta(days=5), monday + dt.timedelta(days=6)) == {
        "weekend"
    }
    assert triage._INFRASTRUCTURE.search("attributes.deployment.replica")
    assert triage._INFRASTRUCTURE.search("resource.service.version")
    assert not triage._INFRASTRUCTURE.search("attributes.user.locale")


def _answered(cells: list[tuple[str, str, int, int]]) -> pl.DataFrame:
    """Calls of (route, tier) cells: (route, tier, calls, refused)."""
    rows = []
    for route, tier, n, refused in cells:
        rows += [
            {"attributes.app.route": route, "attributes.user.tier": tier, "refused": k < refused}
            for k in range(n)
        ]
    return pl.DataFrame(rows)


def test_a_disparity_must_hold_within_what_was_asked():
    # Simpson: pro asks the risky route far more often; within each route both tiers are
    # refused alike (20 % and 0 %), so pro's 5x overall is the mix, not the tier
    mix = _answered(
        [("risky", "pro", 50, 10), ("risky", "free", 10, 2), ("safe", "pro", 10, 0),
         ("safe", "free", 50, 0)]
    )  # fmt: skip
    overall = mix.group_by("attributes.user.tier").agg(pl.col("refused").mean())
    assert dict(overall.iter_rows()) == pytest.approx({"pro": 10 / 60, "free": 2 / 60})
    ratio, p = triage._within_strata(
        mix, "attributes.user.tier", "pro", "free", ["attributes.app.route"]
    )
    assert ratio == pytest.approx(1.0)  # (10 * 10 / 60) / (2 * 50 / 60)
    assert p > 0.5
    # a real one, by hand: 30 of 100 against 10 of 100 in one stratum: RR 3; E[a] = 20,
    # Var[a] = 100 * 100 * 40 * 160 / (200^2 * 199), z = (10 - 0.5) / sqrt(Var)
    real = _answered([("risky", "pro", 100, 30), ("risky", "free", 100, 10)])
    ratio, p = triage._within_strata(
        real, "attributes.user.tier", "pro", "free", ["attributes.app.route"]
    )
    z = 9.5 / math.sqrt(100 * 100 * 40 * 160 / (200**2 * 199))
    assert ratio == pytest.approx(3.0)
    assert p == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)), rel=1e-9)
    assert p == pytest.approx(4.04e-4, rel=1e-2)


def test_a_burst_of_one_error_type():
    # 80 windows of 40 calls on pool a; 10:00-10:15 has 12 timeouts, 10:30-10:45 ten 503s
    # (rejections: the overload detector's); a 500 every other window is the usual noise
    rows = []
    for w in range(80):
        for k in range(40):
            error = None
            if w == 40 and k < 12:
                error = "timeout"
            elif w == 42 and k < 10:
                error = "503"
            elif w % 2 == 0 and k == 39:
                error = "500"
            rows.append(
                {
                    "start_time": t(w / 4 + k / 160),
                    "pool": "a",
                    "is_error": error is not None,
                    "error_type": error,
                }
            )
    calls = pl.DataFrame(rows)
    found = triage._error_signals(calls, "pool")
    assert found.select("kind", "value", "start", "severity").rows() == [
        ("error_burst", "timeout", t(10), "page")
    ]
    assert found["evidence"][0].startswith("12 of 40 calls on a failed with timeout at")
    # 12 / 3,200 calls over the period: 0.38 %
    assert "(30% against 0.38% over the period" in found["evidence"][0]
    # the 503s are an overload (rejections), not an error burst
    assert triage._rejection_signals(calls, "pool").select("kind", "start").rows() == [
        ("overload", t(10.5))
    ]


def test_the_grown_span_and_the_explanations_change_of_the_release(found):
    release = found.incidents.filter(pl.col("kind") == "model_release_regression").row(
        0, named=True
    )
    ranked = found.causes.filter(pl.col("incident") == release["incident"])
    by = {c["cause"]: c for c in ranked.iter_rows(named=True)}
    # the release runs prefill 2.6x slower for long prompts: its traces' prefill grew ...
    grown = by["span_growth"]
    assert grown["subject"] == "prefill"
    before, after = (
        float(v.removesuffix(" ms").replace(",", "")) for v in (grown["previous"], grown["value"])
    )
    assert after > 2 * before
    # ... and the explanation of its slow first tokens moved most on the model version
    shift = by["explanation_shift"]
    assert (shift["subject"], shift["value"], shift["previous"]) == (
        "response_model",
        "llama-3.3-70b-instruct-2026-11",
        "llama-3.3-70b-instruct-2026-10",
    )
    assert "ttft_s > " in shift["evidence"]
    # both rank below the version change, whose evidence says the explanation agrees
    assert by["version_change"]["rank"] == 1
    assert by["span_growth"]["rank"] > 1
    assert by["explanation_shift"]["rank"] > 1
    assert "SHAP explanation of the window moved most on response_model" in release["cause"]
    # the cause signals are in the signals frame, with their incident
    own = found.signals.filter(pl.col("incident") == release["incident"])
    assert {"traces", "explanations"} <= set(own["detector"])


def test_an_overload_queues(found):
    overload = found.incidents.filter(pl.col("kind") == "overload")["incident"][0]
    ranked = found.causes.filter(pl.col("incident") == overload)
    grown = ranked.filter(pl.col("cause") == "span_growth").row(0, named=True)
    assert grown["subject"] == "queueing"
    # one slice named by two signals is one cause
    assert ranked.filter(pl.col("cause") == "tenant_surge").height == 1


def _traced(slow_from: int, slow_to: int, n: int = 60) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A gateway span over a database span per trace, one trace a minute; the database
    takes 200 ms instead of 20 ms in traces slow_from..slow_to-1."""
    rows, calls = [], []
    for i in range(n):
        db = 200 if slow_from <= i < slow_to else 20
        start = t(i / 60)
        rows += [
            (
                f"t{i}",
                "a",
                None,
                "GET /",
                "gateway",
                start,
                start + dt.timedelta(milliseconds=50 + db),
            ),
            (f"t{i}", "b", "a", "db", "postgres", start, start + dt.timedelta(milliseconds=db)),
        ]
        calls.append({"trace_id": f"t{i}", "start_time": start, "pool": "a"})
    spans = pl.DataFrame(
        rows,
        orient="row",
        schema=[
            "trace_id",
            "span_id",
            "parent_span_id",
            "name",
            "service_name",
            "start_time",
            "end_time",
        ],
    ).with_columns(
        pl.col("start_time", "end_time").dt.replace_time_zone("UTC"), kind=pl.lit("server")
    )
    return spans, pl.DataFrame(calls)


def _incident(start: float, end: float, kind: str = "slo_burn") -> dict:
    return {
        "incident": "i",
        "kind": kind,
        "scope": "a",
        "pool": "a",
        "start": t(start),
        "end": t(end),
    }


def test_the_grown_span_of_an_incident():
    spans, calls = _traced(30, 45)
    window = _incident(30 / 60, 45 / 60)
    grown = triage._span_growth(spans, calls, "pool", window, pl.DataFrame([window]))
    assert grown is not None
    # the database's self time: 20 ms in the 45 traces outside, 200 ms in the 15 inside
    assert (grown["subject"], grown["previous"], grown["value"]) == ("other", "20 ms", "200 ms")
    assert grown["strength"] == pytest.approx(0.18)
    assert "15 traces against 45 of a" in grown["evidence"]
    # a window where nothing grew, or with too few traces, names no span
    calm = _incident(0, 15 / 60)
    assert triage._span_growth(spans, calls, "pool", calm, pl.DataFrame([calm, window])) is None
    few = _incident(30 / 60, 35 / 60)
    assert triage._span_growth(spans, calls, "pool", few, pl.DataFrame([few])) is None


def test_the_explanations_change_in_an_incident():
    import numpy as np

    rng = np.random.default_rng(3)
    n = 3000
    minute = np.arange(n)
    inside = (minute >= 2000) & (minute < 2400)
    # a bulk tenant sends long prompts, 5 % of the calls outside the window, 70 % inside:
    # long prompts are slow
    share = np.where(inside, 0.7, 0.05)
    tenant = np.where(rng.random(n) < share, "bulk", rng.choice(["a", "b", "c"], n))
    tokens = np.where(tenant == "bulk", 8000, rng.integers(100, 2000, n))
    calls = pl.DataFrame(
        {
            "start_time": [t(m / 60) for m in minute],
            "pool": "a",
            "attributes.user.tier": tenant,
            "input_tokens": tokens,
            "ttft_s": tokens / 2000 + rng.exponential(0.2, n),
        }
    )
    objectives = toolkit.slo.ServiceObjectives(
        {"ttft_s": toolkit.slo.SLO("ttft", 0.99, sli="ttft_s", threshold=2.5)}
    )
    incident = _incident(2000 / 60, 2400 / 60)
    shift = triage._explanation_shift(
        triage._Explainer(calls, "pool"), incident, triage._signals([]), objectives
    )
    assert shift is not None
    # the long prompts (or the tenant that sends them: the trees may split on either)
    assert shift["subject"] in {"attributes.user.tier", "input_tokens"}
    if shift["subject"] == "input_tokens":
        # the window's mean prompt: 70 % of 8,000 and 30 % of about 1,050 tokens
        assert 5000 < float(shift["value"]) < 6500
        assert float(shift["previous"]) < 1500
    assert "ttft_s > 2.5" in shift["evidence"]
    assert "read with care" not in shift["evidence"]
    # the difference is that of the mean SHAP values, window against the rest
    assert shift["strength"] >= triage.MIN_SHAP_SHIFT
    # an incident whose calls are like the others' moves nothing
    calm = _incident(0, 400 / 60)
    assert (
        triage._explanation_shift(
            triage._Explainer(calls, "pool"), calm, triage._signals([]), objectives
        )
        is None
    )
