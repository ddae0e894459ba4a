"""toolkit.scale: finding what a store's spans can answer (span_sources, plan), and the
per-dimension drift and refusal-gap helpers of notebook 07, with known answers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from toolkit import scale
from toolkit.errors import ColumnNotFoundError, ParameterError

pytest.importorskip("distributed")

T0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
TTFT = "attributes.gen_ai.latency.time_to_first_token"
LOCALE = "attributes.user.locale"
TIER = "attributes.user.tier"
ROUTE = "attributes.app.route"
REASONS = "attributes.gen_ai.response.finish_reasons"
DAYS, PER_DAY = 8, 60


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": value}}


def _ns(t: dt.datetime) -> str:
    return str(int(t.timestamp() * 1_000_000) * 1000)


def _locale(day: int, i: int) -> str:
    """en/de/fr evenly for days 0-4; from day 5 on, half of the calls are tr."""
    if day >= 5 and i % 2 == 0:
        return "tr"
    return ("en", "de", "fr")[i % 3]


def _refused(locale: str, i: int) -> bool:
    """tr: every other call refused; the others: one in ten."""
    return (i // 2) % 2 == 0 if locale == "tr" else i % 10 == 3


def write_export(path: Path) -> dict[str, Any]:
    """A gateway ("gw", model calls with user attributes) and a server ("srv", TTFT)."""
    gw: list[dict[str, Any]] = []
    srv: list[dict[str, Any]] = []
    ttfts: list[tuple[dt.datetime, float]] = []
    n = 0
    for day in range(DAYS):
        for i in range(PER_DAY):
            n += 1
            t = T0 + dt.timedelta(days=day, minutes=20 * i + 1)
            locale = _locale(day, i)
            trace = f"{n:032x}"
            reasons = ["content_filter"] if _refused(locale, i) else ["stop"]
            gw.append(
                {
                    "traceId": trace,
                    "spanId": f"{2 * n:016x}",
                    "name": "chat m",
                    "kind": 3,
                    "startTimeUnixNano": _ns(t),
                    "endTimeUnixNano": _ns(t + dt.timedelta(seconds=1)),
                    "attributes": [
                        _attr("gen_ai.operation.name", "chat"),
                        _attr("gen_ai.request.model", "m"),
                        _attr("gen_ai.usage.input_tokens", 10),
                        _attr("gen_ai.response.finish_reasons", reasons),
                        _attr("user.locale", locale),
                        _attr("user.tier", ("free", "pro")[i % 2]),
                        _attr("app.route", ("chat", "rag")[(i // 3) % 2]),
                    ],
                }
            )
            ttft = 0.1 * (1 + i % 50)  # 0.1 ... 5.0 s
            ttfts.append((t, ttft))
            srv.append(
                {
                    "traceId": trace,
                    "spanId": f"{2 * n + 1:016x}",
                    "parentSpanId": f"{2 * n:016x}",
                    "name": "POST /v1/chat/completions",
                    "kind": 2,
                    "startTimeUnixNano": _ns(t + dt.timedelta(milliseconds=10)),
                    "endTimeUnixNano": _ns(t + dt.timedelta(milliseconds=900)),
                    "attributes": [_attr("gen_ai.latency.time_to_first_token", ttft)],
                }
            )
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attr("service.name", name)]},
                "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}],
            }
            for name, spans in (("gw", gw), ("srv", srv))
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    return {"ttfts": ttfts, "rows": len(gw) + len(srv)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    data = tmp_path_factory.mktemp("exports")
    truth = write_export(data / "nested" / "dir" / "export-0001.data")
    (data / "notes.txt").write_text("not telemetry\n", encoding="utf-8")
    store = tmp_path_factory.mktemp("store")
    sources = scale.span_sources(data)
    scale.ingest(list(sources), store)
    return data, store, truth


def test_span_sources_finds_spans_by_content(built: tuple[Path, Path, dict[str, Any]]) -> None:
    data, _, _ = built
    assert scale.span_sources(data) == (str(data / "nested" / "dir" / "export-0001.data"),)
    assert scale.span_sources(data, "x/*.jsonl") == (str(data / "x/*.jsonl"),)
    assert scale.span_sources(data, ["/abs/a.pb", "s3://b/p/"]) == ("/abs/a.pb", "s3://b/p/")
    with pytest.raises(ParameterError, match=r"'sources' parameter of scale\.span_sources"):
        scale.span_sources(data, [1])  # type: ignore[list-item]
    assert not scale.sources_support(()).ok


def test_plan_finds_what_the_spans_hold(built: tuple[Path, Path, dict[str, Any]]) -> None:
    _, store, truth = built
    fleet = scale.plan(store)
    assert fleet.rows == truth["rows"]
    assert fleet.services == ("gw", "srv")
    assert fleet.ttft_column == TTFT
    assert fleet.server_services == ("srv",)
    assert fleet.call_services == ("gw",)
    assert set(fleet.dimensions) == {LOCALE, TIER, ROUTE}
    assert set(fleet.groups) == {LOCALE, TIER}  # user.* only
    assert fleet.outcome_column == REASONS
    # 8 days: daily windows; the reference is the first round(0.3 * 8) = 2 days
    assert fleet.every == "1d"
    assert fleet.reference == (T0, T0 + dt.timedelta(days=2))
    assert fleet.windows == DAYS
    # the reference's p99 TTFT (lower quantile of 0.1 ... 5.0 s) rounded up to 1, 2, 5 x 10^k
    ref = pl.Series([v for t, v in truth["ttfts"] if t < T0 + dt.timedelta(days=2)])
    assert 2.0 < ref.quantile(0.99) <= 5.0
    assert fleet.ttft_threshold_s == 5.0
    assert all(s.ok for s in fleet.supports.values())
    assert fleet.one_day == {"service_name": "srv", "start": T0, "end": T0 + dt.timedelta(days=1)}
    # without model servers: the first day of the service that started first
    first_day = scale.plan(store, server_services=[]).one_day
    assert first_day == {"service_name": "gw", "start": T0, "end": T0 + dt.timedelta(days=1)}
    good = scale.scan(store).select(fleet.good_ttft.sum()).collect().item()
    assert good == sum(1 for _, v in truth["ttfts"] if v <= 5.0)


def test_plan_takes_the_callers_values_and_checks_them(
    built: tuple[Path, Path, dict[str, Any]],
) -> None:
    _, store, _ = built
    fleet = scale.plan(
        store, server_services="gw", dimensions=[ROUTE], every="6h", ttft_threshold_s=1.5
    )
    assert (fleet.server_services, fleet.dimensions, fleet.groups) == (("gw",), (ROUTE,), (ROUTE,))
    assert (fleet.every, fleet.ttft_threshold_s) == ("6h", 1.5)
    with pytest.raises(ColumnNotFoundError, match=r"attributes\.user\.locle"):
        scale.plan(store, dimensions=["attributes.user.locle"])
    with pytest.raises(ParameterError, match=r"'every' parameter of scale\.plan"):
        scale.plan(store, every="2d")
    with pytest.raises(ParameterError, match=r"'sample_rows' parameter of scale\.plan"):
        scale.plan(store, sample_rows=0)


def test_plan_of_an_empty_store_supports_nothing(tmp_path: Path) -> None:
    fleet = scale.plan(tmp_path)
    assert (fleet.rows, fleet.first, fleet.reference, fleet.ttft_threshold_s) == (
        0,
        None,
        None,
        None,
    )
    assert [name for name, s in fleet.supports.items() if s.ok] == []
    assert fleet.supports["slo"].missing[0] == "spans"
    assert fleet.supports["drift"].missing == ("model calls",)  # not also "windows"
    assert fleet.ttft_columns == ()
    with pytest.raises(ParameterError, match="good_ttft"):
        _ = fleet.good_ttft


def test_most_drifted_picks_the_locale(built: tuple[Path, Path, dict[str, Any]]) -> None:
    _, store, _ = built
    fleet = scale.plan(store)
    moved = scale.most_drifted(
        store,
        list(fleet.dimensions),
        reference=fleet.reference,
        every="1d",
        test="jensenshannon",
        filters={"service_name": "gw"},
    )
    assert moved.column == LOCALE
    assert moved.flagged == tuple(T0 + dt.timedelta(days=d) for d in range(5, DAYS))
    assert moved.ranking["column"][0] == LOCALE
    assert moved.ranking.height == 3
    nothing = scale.most_drifted(store, [], reference=fleet.reference)
    assert (nothing.column, nothing.flagged) == (None, ())
    with pytest.raises(ParameterError, match=r"'columns' parameter of scale\.most_drifted"):
        scale.most_drifted(store, LOCALE, reference=fleet.reference)


def test_group_gaps_find_the_refused_locale(built: tuple[Path, Path, dict[str, Any]]) -> None:
    _, store, _ = built
    gap = scale.group_gaps(store, [TIER, LOCALE], REASONS, filters={"service_name": "gw"})
    # hand count: tr calls are the even i of days 5-7, every other one refused
    tr = [(d, i) for d in range(5, DAYS) for i in range(PER_DAY) if _locale(d, i) == "tr"]
    tr_refused = sum(_refused("tr", i) for _, i in tr)
    rest = [(d, i) for d in range(DAYS) for i in range(PER_DAY) if _locale(d, i) != "tr"]
    rest_refused = sum(_refused("en", i) for _, i in rest)
    assert (gap.column, gap.group) == (LOCALE, "tr")
    assert gap.rate == pytest.approx(tr_refused / len(tr))
    assert gap.rest == pytest.approx(rest_refused / len(rest))
    assert gap.groups.filter(group="tr")["calls"].item() == len(tr)
    assert gap.ranking["column"].to_list() == [LOCALE, TIER]
    none = scale.group_gaps(store, [TIER], REASONS, value="length", filters={"service_name": "gw"})
    assert (none.column, none.group, none.rate) == (None, None, None)


def test_exact_and_compared_percentiles(built: tuple[Path, Path, dict[str, Any]]) -> None:
    _, store, truth = built
    exact = scale.exact_percentiles(
        store, [0.5, 0.99], column=TTFT, filters={"service_name": "srv"}
    )
    values = pl.Series([v for _, v in truth["ttfts"]])
    assert exact["exact_p50"].item() == values.quantile(0.5, interpolation="lower")
    sketched = scale.latency_percentiles(
        store,
        [0.5, 0.99],
        column=TTFT,
        by="service_name",
        alpha=0.01,
        filters={"service_name": "srv"},
    )
    compared = scale.compare_percentiles(sketched, exact)
    assert 0 < compared["relative_error"].item() <= 0.01


@pytest.mark.parametrize(
    ("value", "nice"), [(7.2, 10.0), (0.3, 0.5), (1.0, 1.0), (12.0, 20.0), (0.0012, 0.002)]
)
def test_nice_ceiling(value: float, nice: float) -> None:
    from toolkit.scale._plan import _nice_ceiling

    assert _nice_ceiling(value) == nice


def test_plan_for_a_period_of_the_store(built: tuple[Path, Path, dict[str, Any]]) -> None:
    _, store, truth = built
    start, end = T0 + dt.timedelta(days=4), "2026-03-10T00:00:00Z"
    fleet = scale.plan(store, start=start.isoformat(), end=end)
    assert fleet.period == {"start": start, "end": T0 + dt.timedelta(days=8)}
    assert fleet.first == start + dt.timedelta(minutes=1)
    assert fleet.rows == truth["rows"] // 2  # the last 4 of 8 days
    # 3 days 19:40 from the first span to the last: fewer than 4 daily windows, so 6 h ones
    # (16), of which the first round(0.3 * 16) = 5 are the reference
    assert (fleet.every, fleet.windows) == ("6h", 16)
    assert fleet.reference == (start, start + dt.timedelta(hours=30))
    assert fleet.server_filters == {"service_name": ["srv"], **fleet.period}
    assert fleet.call_filters["service_name"] == ["gw"]
    with pytest.raises(ParameterError, match=r"'start' parameter of scale\.plan"):
        scale.plan(store, start="2026-03-06T00:00:00")  # no zone: refused, never guessed
    with pytest.raises(ParameterError, match=r"'reference_days' parameter of scale\.plan"):
        scale.plan(store, reference_days=0)
