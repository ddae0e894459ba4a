"""Prometheus rules from SLOs, checked and unit-tested by the real promtool.

``promtool check rules`` must accept every generated file; ``promtool test rules`` runs the
rules on the sample week's vLLM scrapes around the h100 release and the KV-cache burst
(windows from truth.json) and must fire, at every minute, the alerts ``slo.alerts`` fires on
the same counts. The tests that need promtool skip without it, and fail in CI
(``TOOLKIT_REQUIRE_REAL_DATA=1``), where ``.ci/run`` installs Debian's ``prometheus``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

import toolkit
from toolkit import slo
from toolkit.cli import main
from toolkit.errors import ParameterError

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
SLO_FILE = REPO / "toolkit" / "data" / "slo" / "llm_service.yaml"
TTFT = "vllm:time_to_first_token_seconds"
E2E = "vllm:e2e_request_latency_seconds"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        reason = "promtool is absent (apt-get install prometheus)"
        if os.environ.get("TOOLKIT_REQUIRE_REAL_DATA") == "1" or os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def metrics() -> pl.DataFrame:
    frame: pl.DataFrame = toolkit.load_metrics(SAMPLE / "vllm_metrics.prom.gz")
    return frame


@pytest.fixture(scope="module")
def objectives(metrics: pl.DataFrame) -> list[slo.SLO]:
    """The objectives notebook 01 finds in the sample's metrics."""
    return list(slo.service_objectives(metrics=metrics).slos.values())


def _check(promtool: str, text: str, tmp_path: Path, name: str = "rules.yml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _truth_windows() -> dict[str, tuple[dt.datetime, dt.datetime]]:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    return {
        i["id"]: (
            dt.datetime.fromisoformat(i["window"]["start"]),
            dt.datetime.fromisoformat(i["window"]["end"]),
        )
        for i in truth["incidents"]
    }


# --------------------------------------------------------------------------------------
# Names and PromQL
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "unit", "expected"),
    [
        ("gen_ai.client.operation.duration", "histogram", None,
         "gen_ai_client_operation_duration_seconds"),
        ("gen_ai.server.time_to_first_token", "histogram", None,
         "gen_ai_server_time_to_first_token_seconds"),
        ("gen_ai.server.time_per_output_token", "histogram", None,
         "gen_ai_server_time_per_output_token_seconds"),
        ("gen_ai.client.operation.time_to_first_chunk", "histogram", None,
         "gen_ai_client_operation_time_to_first_chunk_seconds"),
        ("gen_ai.client.token.usage", "histogram", None, "gen_ai_client_token_usage"),
        ("http.server.request.duration", "histogram", "s", "http_server_request_duration_seconds"),
        ("system.network.io", "counter", "By", "system_network_io_bytes_total"),
        ("gpu.utilization", "gauge", "1", "gpu_utilization_ratio"),
        ("db.ops", "counter", "{operation}/s", "db_ops_per_second_total"),
        ("vllm:request_success_total", "counter", None, "vllm:request_success_total"),
    ],
)  # fmt: skip
def test_prometheus_metric_name(name: str, kind: Any, unit: str | None, expected: str) -> None:
    assert slo.prometheus_metric_name(name, kind=kind, unit=unit) == expected


def test_rules_hold_the_workbook_policy() -> None:
    ttft = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=2.5, service="llm-gateway")
    rules = yaml.safe_load(slo.prometheus_rules([ttft], by="pool", runbook="https://r/x"))
    (group,) = rules["groups"]
    assert group["name"] == "slo-ttft"
    assert group["interval"] == "1m"
    records = [r["record"] for r in group["rules"] if "record" in r]
    assert records == [f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "6h", "3d")]
    alerts = [r for r in group["rules"] if "alert" in r]
    assert [
        (a["labels"]["severity"], a["labels"]["long_window"], a["labels"]["short_window"])
        for a in alerts
    ] == [("page", "1h", "5m"), ("page", "6h", "30m"), ("ticket", "3d", "6h")]
    assert {a["alert"] for a in alerts} == {"TtftErrorBudgetBurn"}
    assert all(a["labels"]["service"] == "llm-gateway" for a in alerts)
    assert "for" not in alerts[0]
    assert "> 6.0" in alerts[1]["expr"]
    assert "/ 0.010000000000000009" in alerts[1]["expr"]
    assert alerts[0]["annotations"]["runbook_url"] == "https://r/x"
    assert "{{ $labels.pool }}" in alerts[0]["annotations"]["summary"]
    ratio = group["rules"][0]["expr"]
    assert 'vllm:time_to_first_token_seconds_bucket{le="+Inf"}[5m]' in ratio
    assert 'le=~"2\\\\.5"' not in ratio
    assert 'le="2.5"' in ratio
    assert "sum by (pool)" in ratio


def test_bad_parameters_are_named() -> None:
    ttft = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=2.5)
    with pytest.raises(ParameterError, match=r"'policy' parameter of slo\.prometheus_rules"):
        slo.prometheus_rules([ttft], policy="workbook")
    with pytest.raises(ParameterError, match=r"'slos' parameter .* distinct names"):
        slo.prometheus_rules([ttft, ttft])
    with pytest.raises(ParameterError, match="'source' parameter"):
        slo.prometheus_rules([ttft], source="prom")  # type: ignore[arg-type]
    sliced = slo.SLO(
        "t", 0.99, sli="ttft_s", threshold=2.5, budgeting_method="Timeslices", time_slice_target=0.9
    )
    with pytest.raises(ParameterError, match="Timeslices"):
        slo.prometheus_rules([sliced])
    with pytest.raises(ParameterError, match="'for_' parameter"):
        slo.prometheus_rules([ttft], for_="two minutes")
    with pytest.raises(ParameterError, match=r"'interval' parameter .* whole number of milli"):
        slo.prometheus_rules([ttft], interval="1500us")


def test_durations_take_the_toolkit_grammar_and_become_prometheus_text(
    promtool: str, tmp_path: Path
) -> None:
    ttft = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=2.5)
    policy = slo.AlertPolicy(
        (
            slo.BurnRateRule("page", "PT1H", "5m", 14.4),
            slo.BurnRateRule("ticket", "1.5h", "90m", 6.0),
        )
    )
    text = slo.prometheus_rules(
        [ttft], policy=policy, interval=dt.timedelta(seconds=30), for_="PT2M"
    )
    _check(promtool, text, tmp_path)
    [group] = yaml.safe_load(text)["groups"]
    assert group["interval"] == "30s"
    # '1.5h' and '90m' are one window: one recorded series, named in Prometheus text
    records = [r["record"] for r in group["rules"] if "record" in r]
    assert records == [
        "slo:sli_error:ratio_rate5m",
        "slo:sli_error:ratio_rate1h",
        "slo:sli_error:ratio_rate1h30m",
    ]
    alerts = [r for r in group["rules"] if "alert" in r]
    assert [
        (r["for"], r["labels"]["long_window"], r["labels"]["short_window"]) for r in alerts
    ] == [
        ("2m", "1h", "5m"),
        ("2m", "1h30m", "1h30m"),
    ]


# --------------------------------------------------------------------------------------
# Bucket alignment
# --------------------------------------------------------------------------------------


def test_bucket_alignment_from_the_scrape(metrics: pl.DataFrame) -> None:
    slos = [
        slo.SLO("ttft", 0.99, sli="ttft_s", threshold=3.0, metric=TTFT),
        slo.SLO("latency", 0.99, sli="latency_s", threshold=40.0, metric=E2E),
    ]
    table = slo.bucket_alignment(slos, metrics)
    ttft, latency = table.rows(named=True)
    assert (ttft["aligned"], ttft["lower"], ttft["upper"], ttft["nearest"]) == (
        False,
        2.5,
        5.0,
        2.5,
    )
    assert ttft["bounds_from"] == "scrape"
    assert latency["aligned"]
    assert latency["nearest"] == 40.0
    assert latency["error_bound"] == 0.0
    # the error bound by hand: requests between the bounds / all, from the week's last scrape
    # (every counter starts at 0 on the first scrape and never resets)
    last = metrics.filter(
        (pl.col("name") == "vllm:time_to_first_token_seconds_bucket")
        & (pl.col("time") == pl.col("time").max())
    )
    at = {le: float(last.filter(pl.col("le") == le)["value"].sum()) for le in (2.5, 5.0, math.inf)}
    assert ttft["error_bound"] == pytest.approx((at[5.0] - at[2.5]) / at[math.inf], rel=1e-12)
    assert 0 < ttft["error_bound"] < 1
    assert "nearest bound is 2.5" in ttft["message"]


def test_bucket_alignment_knows_vllm_buckets() -> None:
    slos = [
        slo.SLO("ttft", 0.99, sli="ttft_s", threshold=0.3),
        slo.SLO("tpot", 0.99, sli="tpot_s", threshold=0.05),
        slo.SLO("latency", 0.99, sli="latency_s", threshold=1.2),
    ]
    rows = slo.bucket_alignment(slos).rows(named=True)
    assert [(r["aligned"], r["lower"], r["upper"], r["nearest"]) for r in rows] == [
        (False, 0.25, 0.5, 0.25),
        (True, 0.05, 0.05, 0.05),
        (False, 1.0, 1.5, 1.0),
    ]
    assert {r["bounds_from"] for r in rows} == {"vLLM defaults"}
    assert rows[0]["error_bound"] is None


def test_misaligned_threshold_warns_first_and_interpolates(
    promtool: str, metrics: pl.DataFrame, tmp_path: Path
) -> None:
    ttft = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=3.0, metric=TTFT)
    with pytest.warns(slo.BucketAlignmentWarning, match="not a bucket bound") as caught:
        text = slo.prometheus_rules([ttft], metrics=metrics, by="pool")
    assert caught[0].message.alignment["nearest"] == 2.5  # type: ignore[union-attr]
    assert text.splitlines()[1].startswith("# WARNING SLO 'ttft': threshold 3 is not a bucket")
    # 3 s lies 1/5 of the way from 2.5 to 5: good = 0.8 * c(2.5) + 0.2 * c(5)
    assert '_bucket{le="2.5"}[5m])) * 0.8' in text
    assert '_bucket{le=~"5|5\\\\.0"}[5m])) * 0.2' in text
    _check(promtool, text, tmp_path)
    with pytest.raises(ParameterError, match="not a bucket bound"):
        slo.prometheus_rules([ttft], metrics=metrics, misaligned="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", slo.BucketAlignmentWarning)
        nearest = slo.prometheus_rules([ttft], metrics=metrics, misaligned="nearest")
    assert 'le="2.5"' in nearest
    assert "le=~" not in nearest


# --------------------------------------------------------------------------------------
# promtool check rules: every generated file
# --------------------------------------------------------------------------------------


def test_promtool_accepts_every_generated_file(
    promtool: str, metrics: pl.DataFrame, objectives: list[slo.SLO], tmp_path: Path
) -> None:
    shipped = slo.load_slos(SLO_FILE)
    unnamed = [slo.SLO(s.name, s.target, sli=s.sli, threshold=s.threshold) for s in shipped]
    policy = slo.AlertPolicy(
        (slo.BurnRateRule("page", "2h", "10m", 10.0), slo.BurnRateRule("ticket", "1d", "2h", 2.0)),
        period="28d",
    )
    # 40 s is not a bound of the OTel conventions' advised buckets (20.48, 40.96): warned
    with pytest.warns(slo.BucketAlignmentWarning, match="threshold 40 is not a bucket bound"):
        otel = {
            "otel-server": slo.prometheus_rules(
                unnamed, source="otel-server", by="gen_ai.request.model"
            ),
            "otel-client": slo.prometheus_rules(
                unnamed,
                source="otel-client",
                for_="2m",
                labels={"team": "llm-platform"},
                runbook="Check the h100-pool's queue: {{ $labels.pool }}",
                dashboard="https://grafana.example/d/llm?var-pool={{ $labels.pool }}",
                selector={"job": "gateway"},
            ),
        }
    files = {
        **otel,
        "notebook": slo.prometheus_rules(objectives, metrics=metrics, by="pool"),
        "shipped": slo.prometheus_rules(shipped, by=["pool", "model_name"]),
        "policy": slo.prometheus_rules(shipped, policy=policy),
    }
    for name, text in files.items():
        out = _check(promtool, text, tmp_path, f"{name}.yml")
        assert "SUCCESS" in out, name
    client = yaml.safe_load(files["otel-client"])
    expr = client["groups"][0]["rules"][0]["expr"]
    assert 'gen_ai_client_operation_duration_seconds_count{job="gateway",error_type!=""}' in expr
    assert client["groups"][0]["rules"][-1]["for"] == "2m"
    assert client["groups"][0]["rules"][-1]["labels"]["team"] == "llm-platform"
    server = yaml.safe_load(files["otel-server"])["groups"][1]["rules"][0]["expr"]
    assert "gen_ai_server_time_to_first_token_seconds_bucket" in server
    assert "sum by (gen_ai_request_model)" in server


def test_sloth_spec(metrics: pl.DataFrame, objectives: list[slo.SLO]) -> None:
    shipped = slo.load_slos(SLO_FILE)
    (spec,) = list(yaml.safe_load_all(slo.sloth_spec(shipped, by="pool", runbook="https://r")))
    assert spec["version"] == "prometheus/v1"
    assert spec["service"] == "llm-gateway"
    assert [s["objective"] for s in spec["slos"]] == [99.5, 99.0, 99.0, 99.0]
    for entry in spec["slos"]:
        events = entry["sli"]["events"]
        assert "{{.window}}" in events["error_query"]
        assert "{{.window}}" in events["total_query"]
        assert entry["alerting"]["page_alert"]["labels"]["severity"] == "page"
        assert entry["alerting"]["annotations"]["runbook_url"] == "https://r"
    crd = yaml.safe_load(slo.sloth_spec(objectives, metrics=metrics, kubernetes=True))
    assert (crd["apiVersion"], crd["kind"]) == ("sloth.slok.dev/v1", "PrometheusServiceLevel")
    assert crd["spec"]["service"] == "llm-service"


def test_cli_writes_rules_and_sloth(promtool: str, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "rules" / "slo.yml"
    sloth = tmp_path / "sloth.yml"
    code = main(["rules", str(SLO_FILE), "--out", str(out), "--sloth", str(sloth), "--by", "pool"])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"check it: promtool check rules {out}" in printed
    assert yaml.safe_load(sloth.read_text())["version"] == "prometheus/v1"
    _check(promtool, out.read_text(), tmp_path)


# --------------------------------------------------------------------------------------
# promtool test rules: Prometheus's engine fires what slo.alerts fires, minute for minute
# --------------------------------------------------------------------------------------


def _stretches() -> list[tuple[dt.datetime, dt.datetime]]:
    """The h100 release's onset and its rollback, and the KV-cache burst, with margins."""
    windows = _truth_windows()
    release = windows["release-prefill-regression"]
    burst = windows["kv-cache-exhaustion-burst"]
    hour = dt.timedelta(hours=1)
    return [
        (release[0] - 2 * hour, release[0] + 8 * hour),
        (release[1] - 3 * hour, release[1] + hour),
        (burst[0] - 2 * hour, burst[1] + 1.5 * hour),
    ]


def _firing(test: dict[str, Any]) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    return {
        (t["eval_time"], t["alertname"], tuple(sorted(a["exp_labels"].items())))
        for t in test["alert_rule_test"]
        for a in t["exp_alerts"]
    }


def _minutes(text: str) -> int:
    out = 0
    for number, unit in __import__("re").findall(r"(\d+)([dhm])", text):
        out += int(number) * {"d": 1440, "h": 60, "m": 1}[unit]
    return out


def test_promtool_fires_what_slo_alerts_fires(
    promtool: str, metrics: pl.DataFrame, objectives: list[slo.SLO], tmp_path: Path
) -> None:
    stretches = _stretches()
    rules = slo.prometheus_rules(objectives, metrics=metrics, by="pool")
    (tmp_path / "slo-rules.yml").write_text(rules, encoding="utf-8")
    tests = slo.rule_tests(objectives, metrics, by="pool", stretches=stretches)
    (tmp_path / "slo-rules.test.yml").write_text(tests, encoding="utf-8")
    done = subprocess.run(
        [promtool, "test", "rules", "slo-rules.test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "SUCCESS" in done.stdout

    # The expectations promtool checked are slo.alerts' on the stretch's counts: recompute
    # them here, minute by minute, from the metrics table.
    document = yaml.load(tests, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    names = {"availability": "AvailabilityErrorBudgetBurn", "ttft": "TtftErrorBudgetBurn",
             "latency": "LatencyErrorBudgetBurn"}  # fmt: skip
    for (start, end), test in zip(stretches, document["tests"], strict=True):
        stretch = metrics.filter(pl.col("time").is_between(start, end))
        events = slo.metric_events(stretch, {s.sli: s for s in objectives}, by="label.pool")  # type: ignore[misc]
        fired = slo.alert_table(
            {s.sli: s for s in objectives},  # type: ignore[misc]
            events,
            pool="label.pool",
            merge_gap=None,
        )
        expected = set()
        for row in fired.iter_rows(named=True):
            last = row["end"] if row["resolved"] else row["end"] + dt.timedelta(minutes=1)
            at = row["start"]
            while at < last:
                minutes = int((at - start).total_seconds() // 60)
                labels = {
                    "pool": row["pool"],
                    "slo": row["slo"],
                    "severity": row["severity"],
                    "long_window": row["long_window"],
                    "short_window": row["short_window"],
                }
                expected.add((minutes, names[row["slo"]], tuple(sorted(labels.items()))))
                at += dt.timedelta(minutes=1)
        got = {(_minutes(t), a, labels) for t, a, labels in _firing(test)}
        assert got == expected
        # every minute of the stretch is compared, firing or not, for every SLO
        minutes = int((end - start).total_seconds() // 60)
        assert len(test["alert_rule_test"]) == minutes * len(objectives)
    # and the stretches are the incidents: the release pages TTFT on the h100-pool
    first = _firing(document["tests"][0])
    pages = {(_minutes(t), a) for t, a, labels in first if ("severity", "page") in labels}
    assert any(a == "TtftErrorBudgetBurn" for _, a in pages)
    assert all(("pool", "h100-pool") in labels for _, _, labels in first)
    second = _firing(document["tests"][2])
    assert {a for _, a, labels in second if ("severity", "page") in labels} == set(names.values())


def test_promtool_rejects_a_wrong_expectation(
    promtool: str, metrics: pl.DataFrame, objectives: list[slo.SLO], tmp_path: Path
) -> None:
    """The comparison can fail: one minute of one expected page removed, promtool says so."""
    start, _ = _truth_windows()["release-prefill-regression"]
    stretch = (start - dt.timedelta(hours=1), start + dt.timedelta(hours=3))
    ttft = [s for s in objectives if s.sli == "ttft_s"]
    (tmp_path / "slo-rules.yml").write_text(
        slo.prometheus_rules(ttft, metrics=metrics, by="pool"), encoding="utf-8"
    )
    document = yaml.safe_load(slo.rule_tests(ttft, metrics, by="pool", stretches=[stretch]))
    firing = [t for t in document["tests"][0]["alert_rule_test"] if t["exp_alerts"]]
    assert firing, "the release's first hours page"
    firing[len(firing) // 2]["exp_alerts"].pop()
    (tmp_path / "wrong.test.yml").write_text(yaml.safe_dump(document), encoding="utf-8")
    done = subprocess.run(
        [promtool, "test", "rules", "wrong.test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "TtftErrorBudgetBurn" in done.stdout + done.stderr


def test_rule_tests_refuse_gaps_and_misaligned_thresholds(metrics: pl.DataFrame) -> None:
    ttft = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=10.0, metric=TTFT)
    gap = metrics.filter(
        (pl.col("time") < dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC))
        & (pl.col("time") != dt.datetime(2026, 11, 2, 0, 30, tzinfo=dt.UTC))
    )
    with pytest.raises(ParameterError, match=r"misses 1 .* 2026-11-02T00:30:00"):
        slo.rule_tests([ttft], gap, by="pool")
    off = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=3.0, metric=TTFT)
    with pytest.raises(ParameterError, match="not a bucket bound"):
        slo.rule_tests([off], gap, by="pool")


# --------------------------------------------------------------------------------------
# OpenSLO AlertPolicy / AlertCondition
# --------------------------------------------------------------------------------------

ALERTING = """
apiVersion: openslo/v1
kind: AlertCondition
metadata: {name: fast-burn}
spec:
  severity: page
  condition: {kind: burnrate, op: gt, threshold: 13.44, lookbackWindow: 1h, alertAfter: 5m}
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: paging}
spec:
  conditions:
    - conditionRef: fast-burn
    - kind: AlertCondition
      metadata: {name: slow-burn}
      spec:
        severity: ticket
        condition: {kind: burnrate, op: gte, threshold: 1, lookbackWindow: 3d}
"""


def _with_policies(extra: str = "") -> str:
    text = SLO_FILE.read_text()
    marker = "  indicator:\n    metadata:\n      name: ttft\n"
    assert marker in text
    text = text.replace(marker, "  alertPolicies: [paging]\n" + marker)
    return text + "\n---" + ALERTING + extra


def test_openslo_alert_policies(promtool: str, tmp_path: Path) -> None:
    path = tmp_path / "slos.yaml"
    path.write_text(_with_policies(), encoding="utf-8")
    policies = slo.load_alert_policies(path)
    assert list(policies) == ["ttft"]
    assert policies["ttft"] == slo.AlertPolicy(
        (
            slo.BurnRateRule("page", "1h", "5m", 13.44),
            slo.BurnRateRule("ticket", "3d", "6h", 1.0),  # short window: 3d / 12
        ),
        period="30d",
    )
    slos = slo.load_slos(path)
    groups = yaml.safe_load(slo.prometheus_rules(slos, policy=policies))["groups"]
    windows = {
        g["name"]: [r["labels"]["long_window"] for r in g["rules"] if "alert" in r] for g in groups
    }
    assert windows["slo-ttft"] == ["1h", "3d"]
    assert windows["slo-latency"] == ["1h", "6h", "3d"]  # no policy given: the Workbook's
    # the CLI takes the file's policies
    out = tmp_path / "rules.yml"
    assert main(["rules", str(path), "--out", str(out)]) == 0
    cli = {g["name"]: g for g in yaml.safe_load(out.read_text())["groups"]}
    assert [
        r["expr"].split(" > ")[-1].strip() for r in cli["slo-ttft"]["rules"] if "alert" in r
    ] == [
        "13.44",
        "1.0",
    ]
    _check(promtool, out.read_text(), tmp_path)
    with pytest.raises(ParameterError, match="name none"):
        slo.prometheus_rules(slos, policy={"nope": policies["ttft"]})


def test_openslo_alert_policy_errors_name_the_field(tmp_path: Path) -> None:
    wrong = _with_policies().replace("op: gt,", "op: lte,")
    with pytest.raises(toolkit.errors.FormatError, match=r"spec\.condition\.op.*'gt' or 'gte'"):
        slo.parse_alert_policies(wrong, path="slos.yaml")
    missing = _with_policies().replace("conditionRef: fast-burn", "conditionRef: quick-burn")
    with pytest.raises(toolkit.errors.FormatError, match=r"no kind: AlertCondition .*quick-burn"):
        slo.parse_alert_policies(missing)
