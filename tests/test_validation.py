"""The one parameter-check mechanism: constraints, the decorator, frames, durations, times."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import polars as pl
import pytest

from toolkit import promql
from toolkit._validation import (
    BACKEND,
    Callable_,
    Column,
    Duration,
    Frame,
    InstanceOf,
    Interval,
    OneOf,
    UTCTime,
    caller,
    duration_ns,
    frame_in,
    frame_out,
    polars_duration,
    reject,
    shown,
    time_column,
    utc_time,
    validate_params,
)
from toolkit.errors import ColumnNotFoundError, ParameterError, SchemaError

H = 3_600_000_000_000


def message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    return str(excinfo.value)


# ----------------------------------------------------------------------------- constraints


@pytest.mark.parametrize(
    ("constraint", "words"),
    [
        (Interval(int, 1, None, closed="left"), "a positive integer"),
        (Interval(int, 0, None, closed="left"), "a non-negative integer"),
        (Interval(float, 0, None, closed="neither"), "a positive number"),
        (Interval(float, 0, None), "a non-negative number"),
        (Interval(float, 0, 1), "a number in [0, 1]"),
        (Interval(float, 0, 1, closed="neither"), "a number strictly between 0 and 1"),
        (Interval(float, 0, 1, closed="left"), "a number in [0, 1)"),
        (Interval(int, 2, 10, closed="right"), "an integer in (2, 10]"),
        (Interval(float, 0.5, None), "a number >= 0.5"),
        (Interval(float, None, 3, closed="neither"), "a number < 3"),
        (Interval(int, None, None), "an integer"),
        (OneOf("shift", "clamp"), "'shift' or 'clamp'"),
        (OneOf("a", "b", "c"), "one of 'a', 'b', 'c'"),
        (InstanceOf(str), "a str"),
        (InstanceOf(int, float), "an int or a float"),
        (Callable_(), "a callable"),
        (Frame(), "a polars or pandas DataFrame"),
        (UTCTime(), "an aware datetime or ISO-8601 text with its zone ('2026-11-02T00:00:00Z')"),
        (UTCTime(text=False), "an aware datetime"),
        (Interval(float, 0, 1, description="a share of calls"), "a share of calls"),
    ],
)
def test_constraints_say_what_they_need(constraint: object, words: str) -> None:
    assert constraint.words() == words  # type: ignore[attr-defined]


def test_interval_bounds_and_kinds() -> None:
    unit = Interval(float, 0, 1, closed="left")
    assert [unit.accepts(v) for v in (0, 0.5, 1, -0.1, np.float64(0.2))] == [
        True,
        True,
        False,
        False,
        True,
    ]
    assert not unit.accepts(True)  # a bool is no number
    assert not unit.accepts(float("nan"))
    assert not Interval(float, 0, None).accepts(float("inf"))
    whole = Interval(int, 1, None, closed="left")
    assert whole.accepts(np.int64(3))
    assert not whole.accepts(3.0)
    assert not whole.accepts(0)


def test_one_of_compares_type_too() -> None:
    flag = OneOf(True, False)
    assert flag.accepts(True)
    assert not flag.accepts(1)
    assert not OneOf("a").accepts(np.array([1, 2]))  # an == that raises is no match


# ----------------------------------------------------------------------------- the decorator


@validate_params(
    n=[Interval(int, 1, None, closed="left"), None],
    how=OneOf("lower", "upper"),
    backend=BACKEND,
)
def _head(n: int | None = None, *, how: str = "lower", backend: str = "polars") -> str | None:
    return caller()


def test_decorator_message_names_the_function() -> None:
    with pytest.raises(ParameterError) as e:
        _head(0)
    assert message(e) == (
        "The 'n' parameter of _head must be a positive integer or None. Got 0 instead."
    )
    with pytest.raises(ParameterError) as e:
        _head(how="middle")
    assert message(e) == (
        "The 'how' parameter of _head must be 'lower' or 'upper'. Got 'middle' instead."
    )
    with pytest.raises(ParameterError) as e:
        _head(backend="arrow")
    assert message(e) == (
        "The 'backend' parameter of _head must be 'polars' or 'pandas'. Got 'arrow' instead."
    )
    # the body runs with the caller known, and after it nothing is
    assert _head(3) == "_head"
    assert caller() is None


def test_decorator_checks_defaults_and_refuses_unknown_parameters() -> None:
    with pytest.raises(TypeError, match=r"has no parameter \['m'\]"):
        validate_params(m=None)(_head.__wrapped__)  # type: ignore[attr-defined]


def test_public_names_follow_the_module() -> None:
    # a function of a public module is named module.function, a re-exported one bare
    with pytest.raises(ParameterError, match=r"^The 'window' parameter of promql\.rate must be"):
        promql.rate(pl.DataFrame(), "x", window="-5m")
    import toolkit

    with pytest.raises(ParameterError, match=r"^The 'backend' parameter of llm_calls must be"):
        toolkit.llm_calls(pl.DataFrame(), backend="arrow")


def test_objects_are_shown_by_type_values_by_repr() -> None:
    assert shown("x" * 200).endswith("...'") is False
    assert len(shown("x" * 200)) == 80
    assert shown([1, "a"]) == "[1, 'a']"
    assert shown({"a": 1}) == "{'a': 1}"
    assert shown(object()) == "object"
    assert shown(pl.DataFrame()) == "DataFrame"
    assert shown(dt.timedelta(hours=1)) == "datetime.timedelta(seconds=3600)"


# ----------------------------------------------------------------------------- frames


@validate_params(frame=Frame(), column=Column("frame", table="llm_calls", many=True))
def _columns(frame: object, column: str | list[str]) -> object:
    return frame


def test_frames_are_converted_once_in_and_out() -> None:
    pdf = pd.DataFrame({"latency_s": [1.0, 2.0], "n": [1, 2]})
    got = _columns(pdf, "latency_s")
    assert isinstance(got, pl.DataFrame)
    assert got["latency_s"].to_list() == [1.0, 2.0]
    assert isinstance(_columns(pl.LazyFrame({"a": [1]}), ["a"]), pl.DataFrame)
    out = frame_out(pl.DataFrame({"n": [2**53 + 1, None]}), "pandas")
    assert str(out["n"].dtype) == "Int64"
    assert int(out["n"][0]) == 2**53 + 1
    frame = pl.DataFrame({"a": [1]})
    assert frame_out(frame, "polars") is frame
    assert frame_in(frame) is frame


def test_frame_and_column_errors() -> None:
    with pytest.raises(ParameterError) as e:
        _columns({"latency_s": [1.0]}, "latency_s")
    assert message(e) == (
        "The 'frame' parameter of _columns must be a polars or pandas DataFrame. Got dict instead."
    )
    with pytest.raises(ColumnNotFoundError) as e:
        _columns(pl.DataFrame({"latency_s": [1.0]}), ["latency"])
    assert message(e) == (
        "The llm_calls table has no column 'latency' (the 'column' parameter of _columns) "
        "(the closest: 'latency_s')."
    )
    with pytest.raises(ParameterError) as e:
        _columns(pl.DataFrame({"a": [1]}), 3)
    assert message(e) == (
        "The 'column' parameter of _columns must be a column name or a list of column names. "
        "Got 3 instead."
    )


# ----------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("value", "ns"),
    [
        ("5m", 300 * 10**9),
        ("1h30m", 90 * 60 * 10**9),
        ("1.5h", 90 * 60 * 10**9),
        (" 2d ", 2 * 24 * H),
        ("250ms", 250 * 10**6),
        ("1w", 7 * 24 * H),
        ("1y", 365 * 24 * H),
        ("10us1ns", 10_001),
        ("PT1H30M", 90 * 60 * 10**9),
        ("P2D", 2 * 24 * H),
        ("P1W", 7 * 24 * H),
        ("PT0.5S", 5 * 10**8),
        (dt.timedelta(minutes=2), 120 * 10**9),
        (np.timedelta64(3, "ms"), 3 * 10**6),
        (pd.Timedelta(1, "h") + pd.Timedelta(1, "ns"), H + 1),
    ],
)
def test_one_duration_grammar(value: object, ns: int) -> None:
    assert duration_ns(value) == ns
    assert Duration().accepts(value)


@pytest.mark.parametrize(
    "value",
    ["", "5", "m5", "-5m", "0s", "1mo", "P1M", "P1Y", "PT", "1.0000000001ns", 5, None,
     dt.timedelta(0), np.timedelta64("NaT"), np.timedelta64(1, "M")],
)  # fmt: skip
def test_not_durations(value: object) -> None:
    with pytest.raises(ParameterError) as e:
        duration_ns(value, parameter="every", function="f")
    assert message(e) == (
        "The 'every' parameter of f must be a positive duration such as '5m', '1h30m' or "
        "'90s' (units ns, us, ms, s, m, h, d, w, y) or a datetime.timedelta. "
        f"Got {shown(value)} instead."
    )


def test_zero_and_calendar_durations() -> None:
    assert Duration(positive=False).accepts("0s")
    assert not Duration().accepts("0s")
    calendar = Duration(calendar=True)
    assert calendar.accepts("1mo")
    assert calendar.accepts("1q")
    assert calendar.accepts("1h")
    assert polars_duration("1y", calendar=True) == "1y"
    assert polars_duration("1y") == "365d"
    assert polars_duration(" 1w ") == "1w"  # polars' own text, kept: weeks start on Monday
    assert polars_duration(dt.timedelta(hours=1)) == "1h"
    assert polars_duration("250ms") == "250ms"
    assert polars_duration(np.timedelta64(1500, "us")) == "1500us"
    assert polars_duration("PT1.000000001S") == "1000000001ns"
    assert calendar.words() == (
        "a positive duration such as '1h', '1d', '1w' or a calendar one ('1mo', '1q', '1y'), "
        "or a datetime.timedelta"
    )


# ----------------------------------------------------------------------------- times


def test_utc_time() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert utc_time(dt.datetime(2026, 11, 2, 1, tzinfo=paris)) == dt.datetime(
        2026, 11, 2, tzinfo=dt.UTC
    )
    assert utc_time("2026-11-02T00:00:00Z") == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    assert utc_time(pd.Timestamp("2026-11-02", tz="UTC")) == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    for naive in (dt.datetime(2026, 11, 2), "2026-11-02T00:00:00", "yesterday", 3):
        with pytest.raises(ParameterError, match=r"^The 'start' parameter of f must be an aware"):
            utc_time(naive, function="f")
    assert not UTCTime(text=False).accepts("2026-11-02T00:00:00Z")


def test_one_time_column_check() -> None:
    t = dt.datetime(2026, 11, 2, 1)
    naive = pl.DataFrame({"start_time": [t]})
    with pytest.raises(SchemaError) as e:
        time_column(naive, "start_time", table="llm_calls", function="slo.sli")
    assert message(e) == (
        "The llm_calls table's column 'start_time' (the 'time' parameter of slo.sli) must be "
        "a time-zone-aware Datetime (UTC, as the canonical tables have); a time without its "
        "zone is never guessed. Got Datetime(time_unit='us', time_zone=None) instead."
    )
    with pytest.raises(SchemaError, match=r"must be a time-zone-aware Datetime .* Got String"):
        time_column(pl.DataFrame({"start_time": ["2026"]}), "start_time", function="f")
    with pytest.raises(ColumnNotFoundError, match=re.escape("(the closest: 'start_time')")):
        time_column(naive, "start_tim", function="f")
    paris = naive.with_columns(pl.col("start_time").dt.replace_time_zone("Europe/Paris"))
    out = time_column(paris, "start_time")
    assert out.schema["start_time"] == pl.Datetime("ns", "UTC")
    assert out["start_time"][0] == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)  # the same instant
    with_null = pl.DataFrame({"time": [t, None]}).with_columns(
        pl.col("time").dt.replace_time_zone("UTC")
    )
    with pytest.raises(SchemaError, match=r"holds 1 null times; every event needs its time"):
        time_column(with_null, "time", nulls=False, function="f")
    assert time_column(with_null, "time").height == 2


def test_reject_names_the_running_function() -> None:
    @validate_params(x=InstanceOf(str))
    def inner(x: str) -> None:
        raise reject("x", "be a trace of the spans table", x)

    with pytest.raises(ParameterError) as e:
        inner("nope")
    assert message(e) == (
        "The 'x' parameter of inner must be a trace of the spans table. Got 'nope' instead."
    )
    err = reject("x", "be odd", 2, got="an even number", function="g")
    assert str(err) == "The 'x' parameter of g must be odd. Got an even number instead."


def test_modules_share_the_grammar() -> None:
    # "1h30m" and timedeltas were refused by capacity and quality before the one grammar
    from toolkit import capacity, quality

    t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    calls = pl.DataFrame(
        {
            "start_time": [t0 + dt.timedelta(minutes=m) for m in (0, 50, 100, 170)],
            "input_tokens": [1, 2, 3, 4],
            "output_tokens": [1, 1, 1, 1],
        }
    ).with_columns(pl.col("start_time").dt.cast_time_unit("ns"))
    text = capacity.arrival_rate(calls, every="1h30m")
    delta = capacity.arrival_rate(calls, every=dt.timedelta(minutes=90))
    assert text.equals(delta)
    assert text["requests"].to_list() == [2, 2]  # minutes 0, 50 | 100, 170
    signals = calls.with_columns(
        hallucination_risk=pl.lit(True), refusal=pl.lit(False), truncated=pl.lit(False)
    )
    hourly = quality.risk_rate(signals, every=dt.timedelta(hours=1))
    assert hourly["calls"].to_list() == [2, 1, 1]
