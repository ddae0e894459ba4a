"""The one way the toolkit checks parameters.

A public function declares what each parameter must be, and :func:`validate_params`
checks the call before the body runs. Every message is written here, in the house
wording, naming the function as a user reaches it (from ``__module__`` and
``__qualname__``, so it is always the right one)::

    The 'window' parameter of promql.rate must be a positive duration such as '5m',
    '1h30m' or '90s' (units ns, us, ms, s, m, h, d, w, y) or a datetime.timedelta.
    Got '-1h' instead.

What else lives here, once:

- :data:`Backend` and the conversion of frames at the boundary: :func:`frame_in` (polars,
  pandas or a LazyFrame in, polars out) and :func:`frame_out` (polars or pandas out);
- the duration grammar (:func:`duration_ns`): ``"5m"``, ``"1h30m"``, ``"1.5h"``,
  ``"250ms"``, ISO-8601 ``"PT1H30M"``, :class:`datetime.timedelta`, numpy and pandas
  timedeltas;
- the time-column check (:func:`time_column`): a Datetime column with a time zone
  (converted to UTC, nanoseconds); a zone-less one is a :class:`~toolkit.errors.SchemaError`
  in every module, since the time of a naive timestamp is never guessed;
- :func:`reject`, for the checks that depend on the data (a trace id that is not in the
  table), so that those messages too name the function that was called.

Examples
--------
>>> from toolkit._validation import Interval, OneOf, validate_params
>>> @validate_params(q=Interval(float, 0, 1), how=OneOf("lower", "upper"))
... def quantile(q: float, how: str = "lower") -> float:
...     return q
>>> quantile(1.5)
Traceback (most recent call last):
...
toolkit.errors.ParameterError: The 'q' parameter of quantile must be a number in [0, 1]. \
Got 1.5 instead.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import inspect
import math
import numbers
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, ParamSpec, TypeVar, cast

import polars as pl

from toolkit.errors import ColumnNotFoundError, ParameterError, SchemaError, preview

__all__ = [
    "Backend",
    "Callable_",
    "Column",
    "Constraint",
    "Duration",
    "Frame",
    "InstanceOf",
    "Interval",
    "Names",
    "NoneValue",
    "OneOf",
    "Strings",
    "UTCTime",
    "caller",
    "duration_ns",
    "frame_in",
    "frame_out",
    "polars_duration",
    "reject",
    "shown",
    "time_column",
    "utc_time",
    "validate_params",
]

#: The frame libraries a result can be returned as (``backend=``).
Backend = Literal["polars", "pandas"]
BACKENDS: tuple[Backend, ...] = ("polars", "pandas")

P = ParamSpec("P")
R = TypeVar("R")

#: The public name of the validated function being called (innermost), for :func:`reject`.
_CALLER: contextvars.ContextVar[str | None] = contextvars.ContextVar("caller", default=None)


# --------------------------------------------------------------------------- messages


def shown(value: object) -> str:
    """How a rejected value is shown in a message: its short repr, or its type's name.

    Numbers, strings, None and small containers of those are shown as written; any other
    object (a frame, a model, ``object()``) by its type, since its repr says little and
    may be long.

    Examples
    --------
    >>> shown("-1h"), shown([1, 2]), shown(object())
    ("'-1h'", '[1, 2]', 'object')
    """
    if _plain(value):
        return preview(value)
    return type(value).__name__


def _plain(value: object, depth: int = 0) -> bool:
    if value is None or isinstance(value, bool | int | float | str | bytes | dt.timedelta):
        return True
    if isinstance(value, dt.datetime | dt.date):
        return True
    if depth < 2 and type(value) in (list, tuple, set, frozenset):
        return all(_plain(v, depth + 1) for v in cast("Sequence[object]", value))
    if depth < 2 and type(value) is dict:
        items = cast("dict[object, object]", value).items()
        return all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in items)
    return False


def _public_name(func: Callable[..., Any]) -> str:
    """``module.qualname`` as a user reaches it: ``promql.rate``, ``slo.SLO``, ``load_spans``.

    The module is the public one (private parts such as ``_openslo`` dropped); a name the
    ``toolkit`` package re-exports is given bare; ``__init__``/``__post_init__`` name the
    class.
    """
    parts = func.__qualname__.rsplit("<locals>.", 1)[-1].split(".")
    if (
        parts
        and parts[-1] in ("__init__", "__post_init__", "__new__", "__call__")
        and len(parts) > 1
    ):
        parts = parts[:-1]
    qualname = ".".join(parts)
    module = func.__module__ or ""
    if not module.startswith("toolkit"):
        return qualname
    import sys

    package = sys.modules.get("toolkit")
    first = getattr(package, parts[0], None) if package is not None else None
    if first is not None and getattr(first, "__module__", None) == module:
        return qualname
    public = [p for p in module.split(".")[1:] if not p.startswith("_")]
    return ".".join([*public, qualname])


def caller() -> str | None:
    """The public name of the validated function now running (None outside one)."""
    return _CALLER.get()


@contextmanager
def _calling(name: str) -> Iterator[None]:
    token = _CALLER.set(name)
    try:
        yield
    finally:
        _CALLER.reset(token)


def reject(
    parameter: str,
    expected: str,
    value: object = None,
    *,
    got: str | None = None,
    hint: str = "",
    function: str | None = None,
) -> ParameterError:
    """The error for a parameter that fails a check only the body can make.

    Parameters
    ----------
    parameter : str
        The parameter's name.
    expected : str
        What it must be, completing "must ...": ``"be a trace of the spans table"``,
        ``"name a Boolean column"``.
    value : object
        The value given (shown with :func:`shown`) unless ``got`` says it.
    got : str, optional
        What was found, completing "Got ... instead.", when the value alone does not say it.
    hint : str, optional
        A sentence added at the end ("Did you mean 'tokens_total'?").
    function : str, optional
        The function's public name; by default the validated function now running.

    Returns
    -------
    ParameterError
        To be raised by the caller (``raise reject(...)``), so tracebacks point there.

    Examples
    --------
    >>> raise reject("trace_id", "be a trace of the spans table", "nope", function="f")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'trace_id' parameter of f must be a trace of the \
spans table. Got 'nope' instead.
    """
    name = function or _CALLER.get() or "this function"
    found = shown(value) if got is None else got
    tail = f" {hint}" if hint else ""
    return ParameterError(
        f"The {parameter!r} parameter of {name} must {expected}. Got {found} instead.{tail}"
    )


# --------------------------------------------------------------------------- constraints


class Constraint:
    """What a parameter's value must be: a test and the words for it.

    Subclasses implement :meth:`accepts` and :meth:`describe`; ``description=`` replaces
    the words where a parameter needs more precise ones (``"a number strictly between 0
    and 1 (0.999 for 99.9 %)"``).
    """

    description: str | None = None

    def accepts(self, value: object) -> bool:
        """Whether ``value`` satisfies the constraint."""
        raise NotImplementedError

    def describe(self) -> str:
        """The constraint in words, completing "must be ..."."""
        raise NotImplementedError

    def words(self) -> str:
        """:attr:`description` if given, else :meth:`describe`."""
        return self.description or self.describe()

    def got(self, value: object) -> str:
        """How a value this refuses is shown (:func:`shown`)."""
        return shown(value)

    def convert(self, value: object, parameter: str, function: str) -> object:
        """The value the body receives (the same one, except for frames)."""
        return value

    def check(
        self, value: object, parameter: str, function: str, arguments: Mapping[str, object]
    ) -> None:
        """Further checks that need the other arguments (a column of the frame)."""


class Interval(Constraint):
    """A real number (``float``) or an integer (``int``) within bounds.

    Booleans, NaN and infinities are refused: a number here is finite.

    Parameters
    ----------
    kind : type
        ``int`` (integers only, numpy's included) or ``float`` (any real number).
    low, high : float, optional
        The bounds; None for none.
    closed : {"both", "left", "right", "neither"}, default "both"
        Which bounds belong to the interval.
    description : str, optional
        Words replacing the generated ones.

    Examples
    --------
    >>> Interval(int, 1, None, closed="left").describe()
    'a positive integer'
    >>> Interval(float, 0, 1, closed="neither").describe()
    'a number strictly between 0 and 1'
    >>> Interval(float, 0, 1, closed="right").describe()
    'a number in (0, 1]'
    """

    def __init__(
        self,
        kind: type,
        low: float | None,
        high: float | None,
        *,
        closed: Literal["both", "left", "right", "neither"] = "both",
        description: str | None = None,
    ) -> None:
        if kind not in (int, float):
            raise TypeError("Interval kind must be int or float")
        self.kind = kind
        self.low = low
        self.high = high
        self.closed = closed
        self.description = description

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        number = float(value)
        if not math.isfinite(number):
            return False
        open_low = self.closed in ("right", "neither")
        open_high = self.closed in ("left", "neither")
        if self.low is not None and (number < self.low or (open_low and number == self.low)):
            return False
        return not (
            self.high is not None and (number > self.high or (open_high and number == self.high))
        )

    def describe(self) -> str:
        noun = "integer" if self.kind is int else "number"
        a = f"an {noun}" if self.kind is int else f"a {noun}"
        low, high = self.low, self.high
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if low is None and high is None:
            return a
        if high is None:
            assert low is not None
            if low == 0:
                return f"a {'non-negative' if left else 'positive'} {noun}"
            if self.kind is int and low == 1 and left:
                return "a positive integer"
            return f"{a} {'>=' if left else '>'} {_num(low)}"
        if low is None:
            return f"{a} {'<=' if right else '<'} {_num(high)}"
        if not left and not right:
            return f"{a} strictly between {_num(low)} and {_num(high)}"
        brackets = ("[" if left else "(") + f"{_num(low)}, {_num(high)}" + ("]" if right else ")")
        return f"{a} in {brackets}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


class OneOf(Constraint):
    """One of a few options.

    Examples
    --------
    >>> OneOf("shift", "clamp").describe()
    "'shift' or 'clamp'"
    >>> OneOf("a", "b", "c").describe()
    "one of 'a', 'b', 'c'"
    """

    def __init__(self, *options: object, description: str | None = None) -> None:
        self.options = options
        self.description = description

    def accepts(self, value: object) -> bool:
        try:
            return any(value == o and type(value) is type(o) for o in self.options)
        except Exception:  # a value whose == raises (an array) is no option
            return False

    def describe(self) -> str:
        names = [repr(o) for o in self.options]
        if len(names) == 2:
            return f"{names[0]} or {names[1]}"
        return "one of " + ", ".join(names)


class InstanceOf(Constraint):
    """An instance of one of some types.

    Examples
    --------
    >>> InstanceOf(str).describe(), InstanceOf(int, float).describe()
    ('a str', 'an int or a float')
    """

    def __init__(self, *types: type, description: str | None = None) -> None:
        self.types = types
        self.description = description

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def describe(self) -> str:
        return " or ".join(_article(t.__name__) for t in self.types)


def _article(name: str) -> str:
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


class NoneValue(Constraint):
    """None (written ``None`` in a list of constraints)."""

    def accepts(self, value: object) -> bool:
        return value is None

    def describe(self) -> str:
        return "None"


class Callable_(Constraint):
    """Anything callable."""

    def __init__(self, *, description: str | None = None) -> None:
        self.description = description

    def accepts(self, value: object) -> bool:
        return callable(value)

    def describe(self) -> str:
        return "a callable"


class Frame(Constraint):
    """A polars DataFrame or LazyFrame or a pandas DataFrame, given to the body as polars.

    Parameters
    ----------
    lazy : bool, default False
        Give a LazyFrame to the body as it is (pandas and DataFrames become lazy too);
        by default a LazyFrame is collected.
    """

    def __init__(self, *, lazy: bool = False, description: str | None = None) -> None:
        self.lazy = lazy
        self.description = description

    def accepts(self, value: object) -> bool:
        return isinstance(value, pl.DataFrame | pl.LazyFrame) or _is_pandas_frame(value)

    def describe(self) -> str:
        return "a polars or pandas DataFrame"

    def got(self, value: object) -> str:
        return type(value).__name__

    def convert(self, value: object, parameter: str, function: str) -> object:
        frame = frame_in(value, parameter=parameter, function=function)
        return frame.lazy() if self.lazy else frame


class Names(Constraint):
    """A name or a list of names (columns, labels): text, or a list or tuple of text.

    Examples
    --------
    >>> Names().accepts("model"), Names().accepts(["a", "b"]), Names().accepts([1])
    (True, True, False)
    """

    def __init__(self, *, description: str | None = None) -> None:
        self.description = description

    def accepts(self, value: object) -> bool:
        if isinstance(value, str):
            return True
        return isinstance(value, list | tuple) and all(
            isinstance(v, str) for v in cast("Sequence[object]", value)
        )

    def describe(self) -> str:
        return "a column name or a list of column names"


class Strings(Constraint):
    """A collection (list, tuple, set) of text; a lone string is refused.

    Examples
    --------
    >>> Strings().accepts({"chat"}), Strings().accepts("chat")
    (True, False)
    """

    def __init__(self, *, description: str | None = None) -> None:
        self.description = description

    def accepts(self, value: object) -> bool:
        return isinstance(value, list | tuple | set | frozenset) and all(
            isinstance(v, str) for v in cast("Collection[object]", value)
        )

    def describe(self) -> str:
        return "a collection of str"


class Column(Constraint):
    """The name of a column of the frame another parameter holds (a list of them if ``many``).

    A name that is not a column raises :class:`~toolkit.errors.ColumnNotFoundError`, which
    names the closest columns.

    Parameters
    ----------
    frame : str
        The parameter holding the frame (checked with :class:`Frame` first).
    table : str
        The table's name in messages (``"llm_calls"``).
    many : bool, default False
        Also accept a list of names.
    """

    def __init__(
        self,
        frame: str,
        *,
        table: str = "frame",
        many: bool = False,
        description: str | None = None,
    ) -> None:
        self.frame = frame
        self.table = table
        self.many = many
        self.description = description

    def accepts(self, value: object) -> bool:
        if isinstance(value, str):
            return True
        return (
            self.many
            and isinstance(value, list | tuple)
            and all(isinstance(v, str) for v in cast("Sequence[object]", value))
        )

    def describe(self) -> str:
        if self.many:
            return "a column name or a list of column names"
        return "a column name"

    def check(
        self, value: object, parameter: str, function: str, arguments: Mapping[str, object]
    ) -> None:
        frame = arguments.get(self.frame)
        if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
            return
        names = [value] if isinstance(value, str) else list(cast("Sequence[str]", value))
        available = frame.collect_schema().names()
        for name in names:
            if name not in available:
                where = f"(the {parameter!r} parameter of {function})"
                raise ColumnNotFoundError(name, self.table, available, where=where)


class Duration(Constraint):
    """A duration (see :func:`duration_ns` for the grammar).

    Parameters
    ----------
    positive : bool, default True
        Refuse zero (negative durations are never accepted).
    calendar : bool, default False
        Also accept polars' calendar durations ``"1mo"``, ``"1q"``, ``"1y"`` (here ``y`` is
        the calendar year, not 365 days).
    """

    def __init__(
        self, *, positive: bool = True, calendar: bool = False, description: str | None = None
    ) -> None:
        self.positive = positive
        self.calendar = calendar
        self.description = description

    def accepts(self, value: object) -> bool:
        if self.calendar and isinstance(value, str) and _CALENDAR.fullmatch(value.strip()):
            return True
        ns = _parse_ns(value)
        return ns is not None and (ns > 0 if self.positive else ns >= 0)

    def describe(self) -> str:
        sign = "positive" if self.positive else "non-negative"
        if self.calendar:
            return (
                f"a {sign} duration such as '1h', '1d', '1w' or a calendar one ('1mo', '1q', "
                "'1y'), or a datetime.timedelta"
            )
        return (
            f"a {sign} duration such as '5m', '1h30m' or '90s' (units ns, us, ms, s, m, h, d, "
            "w, y) or a datetime.timedelta"
        )


class UTCTime(Constraint):
    """A time with a zone: an aware datetime, pandas Timestamp, or ISO-8601 text with a zone.

    Use :func:`utc_time` in the body for the value as an aware UTC datetime.
    """

    def __init__(self, *, text: bool = True, description: str | None = None) -> None:
        self.text = text
        self.description = description

    def accepts(self, value: object) -> bool:
        if isinstance(value, str) and not self.text:
            return False
        return _aware(value) is not None

    def describe(self) -> str:
        if self.text:
            return "an aware datetime or ISO-8601 text with its zone ('2026-11-02T00:00:00Z')"
        return "an aware datetime"


def _constraint(spec: object) -> Constraint:
    if spec is None:
        return NoneValue()
    if isinstance(spec, Constraint):
        return spec
    if isinstance(spec, type):
        return InstanceOf(spec)
    raise TypeError(f"not a constraint: {spec!r}")


# --------------------------------------------------------------------------- the decorator


def validate_params(
    **constraints: object,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Check parameters by name before the function body runs.

    Parameters
    ----------
    **constraints
        Per parameter, a :class:`Constraint`, a type (an instance of it), None (the value
        None) or a list of those (any of them). Parameters not named are not checked.

    Returns
    -------
    callable
        A decorator. The wrapped function raises :class:`~toolkit.errors.ParameterError`
        ("The 'x' parameter of f must be ... Got ... instead.", ``f`` as a user reaches it)
        for the first parameter that satisfies none of its constraints; a frame parameter
        (:class:`Frame`) reaches the body as polars; while the body runs, :func:`reject`
        names the function.

    Examples
    --------
    >>> from toolkit._validation import Interval, validate_params
    >>> @validate_params(n=[Interval(int, 1, None, closed="left"), None])
    ... def head(n: int | None = None) -> int | None:
    ...     return n
    >>> head(0)
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'n' parameter of head must be a positive integer or \
None. Got 0 instead.
    """
    specs = {
        name: [_constraint(s) for s in (spec if isinstance(spec, list) else [spec])]
        for name, spec in constraints.items()
    }
    # frames first: a Column constraint looks at the converted frame
    order = sorted(specs, key=lambda n: not any(isinstance(c, Frame) for c in specs[n]))

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(func)
        unknown = set(specs) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{func.__qualname__} has no parameter {sorted(unknown)}")
        name_cache: list[str] = []

        def public() -> str:
            if not name_cache:
                name_cache.append(_public_name(func))
            return name_cache[0]

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:  # as Python says it, with the function's name
                raise TypeError(f"{func.__qualname__}(): {exc}") from None
            bound.apply_defaults()
            arguments = bound.arguments
            name = public()
            chosen: dict[str, Constraint] = {}
            for parameter in order:
                value = arguments[parameter]
                options = specs[parameter]
                found = next((c for c in options if c.accepts(value)), None)
                if found is None:
                    words = " or ".join(c.words() for c in options)
                    raise ParameterError(
                        f"The {parameter!r} parameter of {name} must be {words}. "
                        f"Got {options[-1].got(value)} instead."
                    )
                arguments[parameter] = found.convert(value, parameter, name)
                chosen[parameter] = found
            for parameter, constraint in chosen.items():
                constraint.check(arguments[parameter], parameter, name, arguments)
            with _calling(name):
                return func(*bound.args, **bound.kwargs)

        return wrapper

    return decorate


# --------------------------------------------------------------------------- frames


def _is_pandas_frame(value: object) -> bool:
    return type(value).__module__.startswith("pandas") and type(value).__name__ == "DataFrame"


def frame_in(
    frame: object, *, parameter: str = "frame", function: str | None = None
) -> pl.DataFrame:
    """A polars, pandas or lazy frame as a polars DataFrame: the one conversion in.

    Examples
    --------
    >>> import pandas as pd
    >>> frame_in(pd.DataFrame({"a": [1]})).shape
    (1, 1)
    >>> frame_in([1], function="f")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'frame' parameter of f must be a polars or pandas \
DataFrame. Got list instead.
    """
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if _is_pandas_frame(frame):
        return pl.from_pandas(frame)
    raise reject(
        parameter,
        "be a polars or pandas DataFrame",
        got=type(frame).__name__,
        function=function,
    )


def frame_out(frame: pl.DataFrame, backend: Backend) -> Any:
    """A result frame in the library asked for: the one conversion out.

    pandas frames keep every type (nullable integers, Arrow-backed lists; see
    :func:`toolkit.schema.to_pandas`).

    Examples
    --------
    >>> import polars as pl
    >>> type(frame_out(pl.DataFrame({"a": [1]}), "pandas")).__name__
    'DataFrame'
    """
    if backend == "pandas":
        from toolkit.schema import to_pandas

        return to_pandas(frame)
    return frame


#: The ``backend`` constraint every public function shares.
BACKEND = OneOf(*BACKENDS)
#: The ``on_error`` constraint every reader (and anything taking ``on_error``) declares.
ON_ERROR = OneOf("raise", "skip")


# --------------------------------------------------------------------------- durations

_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
    "y": 365 * 86_400_000_000_000,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)")
_TEXT = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+")
_ISO = re.compile(
    r"P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
_CALENDAR = re.compile(r"\d+(?:mo|q|y)")


def _fraction_ns(number: str, unit_ns: int) -> int | None:
    if "." not in number:
        return int(number) * unit_ns
    from fractions import Fraction

    value = Fraction(number) * unit_ns
    return int(value) if value.denominator == 1 else None


def _parse_ns(value: object) -> int | None:
    """Nanoseconds of a duration, None when ``value`` is not one."""
    if isinstance(value, dt.timedelta):  # pandas.Timedelta is one, with nanoseconds
        extra = int(getattr(value, "nanoseconds", 0) or 0)
        return (
            (value.days * 86_400 + value.seconds) * 1_000_000_000
            + value.microseconds * 1000
            + extra
        )
    if type(value).__name__ == "timedelta64" and type(value).__module__ == "numpy":
        import numpy as np

        delta = cast("np.timedelta64", value)
        if np.isnat(delta) or np.datetime_data(delta.dtype)[0] in ("Y", "M", "generic"):
            return None  # months and years have no fixed length; a unit-less number is no time
        return int(delta.astype("timedelta64[ns]").astype("int64"))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _TEXT.fullmatch(text):
        total = 0
        for number, unit in _PART.findall(text):
            part = _fraction_ns(number, _NS[unit])
            if part is None:
                return None
            total += part
        return total
    match = _ISO.fullmatch(text)
    if match and text not in ("P", "PT") and not text.endswith("T"):
        total = 0
        for key, unit in (("w", "w"), ("d", "d"), ("h", "h"), ("m", "m"), ("s", "s")):
            if match[key] is not None:
                part = _fraction_ns(match[key], _NS[unit])
                if part is None:
                    return None
                total += part
        return total
    return None


def duration_ns(value: object, *, parameter: str = "window", function: str | None = None) -> int:
    """A positive duration in nanoseconds: the toolkit's one duration grammar.

    Accepted: text of one or more ``<number><unit>`` parts (units ``ns``, ``us``, ``ms``,
    ``s``, ``m``, ``h``, ``d``, ``w``, ``y`` = 365 days as in Prometheus; decimals such as
    ``"1.5h"`` allowed when the result is a whole number of nanoseconds), ISO-8601
    durations without months or years (``"PT1H30M"``, ``"P2D"``), :class:`datetime.timedelta`
    (pandas ``Timedelta`` with its nanoseconds) and ``numpy.timedelta64``.

    Examples
    --------
    >>> duration_ns("1h30m") == duration_ns("PT1H30M") == duration_ns("1.5h")
    True
    >>> duration_ns("250ms")
    250000000
    >>> duration_ns("-5m", function="f")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'window' parameter of f must be a positive duration \
such as '5m', '1h30m' or '90s' (units ns, us, ms, s, m, h, d, w, y) or a datetime.timedelta. \
Got '-5m' instead.
    """
    ns = _parse_ns(value)
    if ns is None or ns <= 0:
        raise reject(parameter, "be " + Duration().describe(), value, function=function)
    return ns


_POLARS_TEXT = re.compile(r"(?:\d+(?:ns|us|ms|s|m|h|d|w))+")


def polars_duration(
    value: object, *, calendar: bool = False, parameter: str = "every", function: str | None = None
) -> str:
    """A duration as polars' duration text, for ``group_by_dynamic`` and ``rolling``.

    Text polars reads the same way (``"1h30m"``, ``"1w"``: weekly windows start on Monday)
    is kept as written; anything else becomes its shortest exact text in days, hours,
    minutes, seconds, ms, us or ns (``"1.5h"`` gives ``"90m"``). With ``calendar=True`` the
    calendar durations ``"1mo"``, ``"1q"`` and ``"1y"`` are kept (a calendar month,
    quarter, year); otherwise ``y`` is 365 days.

    Examples
    --------
    >>> polars_duration("1h30m"), polars_duration("1.5h"), polars_duration("PT36H")
    ('1h30m', '90m', '36h')
    >>> polars_duration("1y"), polars_duration("1y", calendar=True)
    ('365d', '1y')
    """
    if isinstance(value, str):
        text = value.strip()
        if calendar and _CALENDAR.fullmatch(text):
            return text
        if _POLARS_TEXT.fullmatch(text) and _parse_ns(text):
            return text
    ns = duration_ns(value, parameter=parameter, function=function)
    for unit in ("d", "h", "m", "s", "ms", "us"):
        if ns % _NS[unit] == 0:
            return f"{ns // _NS[unit]}{unit}"
    return f"{ns}ns"


# --------------------------------------------------------------------------- times


def _aware(value: object) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        value = parsed
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        if value.utcoffset() is None:
            return None
        return value.astimezone(dt.UTC)
    return None


def utc_time(
    value: object, *, parameter: str = "start", function: str | None = None
) -> dt.datetime:
    """A time with a zone as an aware UTC datetime; a naive one is refused, never guessed.

    Examples
    --------
    >>> utc_time("2026-11-02T01:00:00+01:00")
    datetime.datetime(2026, 11, 2, 0, 0, tzinfo=datetime.timezone.utc)
    >>> utc_time(dt.datetime(2026, 11, 2), function="f")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'start' parameter of f must be an aware datetime or \
ISO-8601 text with its zone ('2026-11-02T00:00:00Z'). Got datetime.datetime(2026, 11, 2, 0, 0) \
instead.
    """
    out = _aware(value)
    if out is None:
        raise reject(parameter, "be " + UTCTime().describe(), value, function=function)
    return out


def time_column(
    frame: pl.DataFrame,
    column: str,
    *,
    table: str = "frame",
    parameter: str | None = "time",
    function: str | None = None,
    nulls: bool = True,
) -> pl.DataFrame:
    """Check a time column and give it as ``Datetime("ns", "UTC")``: the one time-column check.

    Parameters
    ----------
    frame : polars.DataFrame
        The table.
    column : str
        The time column.
    table : str, default "frame"
        The table's name in messages.
    parameter : str or None, default "time"
        The parameter that named the column, for messages; None for a column the function
        always uses (``start_time`` of ``llm_calls``).
    function : str, optional
        The function's public name; by default the validated function now running.
    nulls : bool, default True
        Whether null times are allowed.

    Returns
    -------
    polars.DataFrame
        The frame with the column converted to UTC nanoseconds (the same instants).

    Raises
    ------
    ColumnNotFoundError
        The column is not in the frame.
    SchemaError
        The column is not a Datetime with a time zone (a naive time is never guessed), or
        holds nulls where none are allowed.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> naive = pl.DataFrame({"start_time": [dt.datetime(2026, 11, 2)]})
    >>> time_column(naive, "start_time", table="llm_calls", function="f")
    Traceback (most recent call last):
    ...
    toolkit.errors.SchemaError: The llm_calls table's column 'start_time' (the 'time' \
parameter of f) must be a time-zone-aware Datetime (UTC, as the canonical tables have); \
a time without its zone is never guessed. Got Datetime(time_unit='us', time_zone=None) instead.
    """
    name = function or _CALLER.get() or "this function"
    where = f"(the {parameter!r} parameter of {name})" if parameter else f"(needed by {name})"
    if column not in frame.columns:
        raise ColumnNotFoundError(column, table, frame.columns, where=where)
    dtype = frame.schema[column]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise SchemaError(
            f"The {table} table's column {column!r} {where} must be a time-zone-aware "
            "Datetime (UTC, as the canonical tables have); a time without its zone is never "
            f"guessed. Got {dtype!r} instead."
        )
    if not nulls and frame[column].null_count():
        raise SchemaError(
            f"The {table} table's column {column!r} {where} holds "
            f"{frame[column].null_count()} null times; every event needs its time."
        )
    if dtype == pl.Datetime("ns", "UTC"):
        return frame
    return frame.with_columns(pl.col(column).dt.convert_time_zone("UTC").dt.cast_time_unit("ns"))
