"""SLO definitions: :class:`SLO` and reading them from OpenSLO v1 YAML
(:func:`parse_slos`, :func:`load_slos`); :func:`objectives` tabulates them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import polars as pl

from toolkit._validation import BACKEND, Interval, OneOf, reject, validate_params
from toolkit.errors import FormatError, ParameterError, preview
from toolkit.slo._params import (
    _AVAILABILITY,
    _OPS,
    Backend,
    Budgeting,
    Op,
    _check_target,
    _every,
    _fixed_ns,
    _out,
)


@dataclass(frozen=True)
class SLO:
    """One service level objective.

    Parameters
    ----------
    name : str
        Identifier (OpenSLO ``metadata.name``, plus the objective's name when an SLO has
        several objectives).
    target : float
        Objective, strictly between 0 and 1 (0.99: 99 % of events good). The error budget
        is ``1 - target``.
    sli : str, optional
        What is measured: ``"availability"`` (a call is good when ``is_error`` is false), or
        a numeric column of the events (``"ttft_s"``, ``"tpot_s"``, ``"latency_s"``) compared
        with ``threshold``. None when the SLO only carries a target (e.g. from a YAML file
        written for another tool); :func:`good_events` then cannot be used with it.
    threshold : float, optional
        Threshold of a latency SLI, in the unit of the ``sli`` column. Required when ``sli``
        is a column.
    op : {"lte", "lt", "gte", "gt"}, default "lte"
        How a value compares with ``threshold`` to be good (OpenSLO ``op``).
    time_window : str, default "30d"
        Length of the SLO period: a fixed duration ("30d", "4w") for a rolling window, or a
        calendar one ("1mo", "1q", "1y", also "1d", "1w") with ``rolling=False``.
    rolling : bool, default True
        Rolling window (True) or calendar periods aligned in ``time_zone`` (False).
    budgeting_method : {"Occurrences", "Timeslices"}, default "Occurrences"
        Count events, or count time slices (a slice is good when its good ratio reaches
        ``time_slice_target``).
    time_slice_target : float, optional
        Good ratio a slice needs to be good (Timeslices only; required there).
    time_slice_window : str, default None
        Slice length ("1m"; Timeslices only, default "1m").
    metric : str, optional
        Metric family that measures the SLI when only metrics exist
        (``"vllm:time_to_first_token_seconds"``, ``"vllm:request_success_total"``), for
        :func:`metric_counts`.
    time_zone : str, default "UTC"
        Zone of calendar periods.
    service, description : str, optional
        From the OpenSLO document.

    Examples
    --------
    >>> SLO("ttft", target=0.99, sli="ttft_s", threshold=2.0).error_budget
    0.010000000000000009
    >>> SLO("ttft", target=99, sli="ttft_s", threshold=2.0)
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'target' parameter of SLO must be a number strictly ...
    """

    name: str
    target: float
    sli: str | None = None
    threshold: float | None = None
    op: Op = "lte"
    time_window: str = "30d"
    rolling: bool = True
    budgeting_method: Budgeting = "Occurrences"
    time_slice_target: float | None = None
    time_slice_window: str | None = None
    metric: str | None = None
    time_zone: str = "UTC"
    service: str | None = None
    description: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        f = "SLO"  # the name the SLO messages (and OpenSLO parse errors) have always used
        if not isinstance(self.name, str) or not self.name:
            raise reject("name", "be a non-empty string", self.name, function=f)
        object.__setattr__(self, "target", _check_target(self.target, "target", "SLO"))
        if self.sli is not None and (not isinstance(self.sli, str) or not self.sli):
            raise reject(
                "sli",
                "be 'availability' or a column name such as 'ttft_s'",
                self.sli,
                function=f,
            )
        if self.sli not in (None, _AVAILABILITY) and self.threshold is None:
            raise reject(
                "threshold", f"be a number when sli is a column ({self.sli!r})", None, function=f
            )
        if self.threshold is not None:
            if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float):
                raise reject("threshold", "be a number", self.threshold, function=f)
            object.__setattr__(self, "threshold", float(self.threshold))
        if not _OP.accepts(self.op):
            raise reject("op", "be " + _OP.words(), self.op, function=f)
        if self.rolling:
            _fixed_ns(self.time_window, "time_window", "SLO")
        else:
            _every(self.time_window, "time_window", "SLO")
        if not _BUDGETING.accepts(self.budgeting_method):
            raise reject(
                "budgeting_method", "be " + _BUDGETING.words(), self.budgeting_method, function=f
            )
        if self.budgeting_method == "Timeslices":
            if self.time_slice_target is None:
                raise reject(
                    "time_slice_target",
                    "be a number between 0 and 1 with budgeting_method 'Timeslices'",
                    None,
                    function=f,
                )
            if self.time_slice_window is None:
                object.__setattr__(self, "time_slice_window", "1m")
        if self.time_slice_target is not None:
            _check_target_inclusive(self.time_slice_target, "time_slice_target", "SLO")
        if self.time_slice_window is not None:
            _fixed_ns(self.time_slice_window, "time_slice_window", "SLO")

    @property
    def error_budget(self) -> float:
        """The allowed fraction of bad events (or slices), ``1 - target``."""
        return 1.0 - self.target

    def describe(self) -> str:
        """One line: what is good and how often it must be.

        Examples
        --------
        >>> SLO("ttft", 0.99, sli="ttft_s", threshold=2.0).describe()
        '99% of events with ttft_s <= 2 over a rolling 30d'
        """
        what = "events" if self.budgeting_method == "Occurrences" else "time slices"
        if self.sli == _AVAILABILITY:
            good = "succeed"
        elif self.sli is None:
            good = "are good"
        else:
            good = f"with {self.sli} {_OPS[self.op]} {self.threshold:g}"
        window = f"a rolling {self.time_window}" if self.rolling else f"each {self.time_window}"
        return f"{self.target * 100:.6g}% of {what} {good} over {window}"


_OP = OneOf("lte", "lt", "gte", "gt")
_BUDGETING = OneOf("Occurrences", "Timeslices")
_FRACTION = Interval(float, 0, 1, description="a number between 0 and 1")


def _check_target_inclusive(value: object, parameter: str, function: str) -> float:
    if not _FRACTION.accepts(value):
        raise reject(parameter, "be " + _FRACTION.words(), value, function=function)
    return float(value)  # type: ignore[arg-type]


@validate_params(backend=BACKEND)
def objectives(slos: Sequence[SLO], *, backend: Backend = "polars") -> Any:
    """One row per SLO: its fields and a sentence saying what it promises.

    Parameters
    ----------
    slos : sequence of SLO
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        ``name``, ``objective`` (the sentence), ``target``, ``error_budget``, then every
        field of :class:`SLO`.

    Examples
    --------
    >>> objectives([SLO("ttft", 0.99, sli="ttft_s", threshold=2.0)])["objective"].to_list()
    ['99% of events with ttft_s <= 2 over a rolling 30d']
    """
    if isinstance(slos, SLO) or not all(isinstance(s, SLO) for s in slos):
        raise reject("slos", "be a list of SLO objects", slos)
    names = [f.name for f in fields(SLO)]
    schema: dict[str, pl.DataType] = {
        "name": pl.String(),
        "objective": pl.String(),
        "target": pl.Float64(),
        "error_budget": pl.Float64(),
        "sli": pl.String(),
        "threshold": pl.Float64(),
        "op": pl.String(),
        "time_window": pl.String(),
        "rolling": pl.Boolean(),
        "budgeting_method": pl.String(),
        "time_slice_target": pl.Float64(),
        "time_slice_window": pl.String(),
        "metric": pl.String(),
        "time_zone": pl.String(),
        "service": pl.String(),
        "description": pl.String(),
    }
    rows = [
        {
            "objective": s.describe(),
            "error_budget": s.error_budget,
            **{n: getattr(s, n) for n in names},
        }
        for s in slos
    ]
    return _out(pl.DataFrame(rows, schema=schema), backend)


# ---- OpenSLO v1 ----------------------------------------------------------------------

_OPENSLO_UNITS = {"m": "m", "h": "h", "d": "d", "w": "w", "M": "mo", "Q": "q", "Y": "y"}
_OPENSLO_DURATION = re.compile(r"^(\d+)([mhdwMQY])$")


class _Doc:
    """Field access into one YAML document with errors that say where."""

    def __init__(self, data: object, path: str | None, record: int) -> None:
        self.data = data
        self.path = path
        self.record = record

    def fail(self, column: str, problem: str) -> FormatError:
        return FormatError(problem, path=self.path, record=self.record, column=column)

    def get(self, node: object, key: str, where: str, *, required: bool = True) -> Any:
        column = f"{where}.{key}" if where else key
        if not isinstance(node, Mapping):
            raise self.fail(where or "<document>", f"expected a mapping; got {preview(node)}")
        if key not in node or node[key] is None:
            if required:
                raise self.fail(column, "this field is required and missing")
            return None
        return node[key]

    def text(self, node: object, key: str, where: str, *, required: bool = True) -> str | None:
        value = self.get(node, key, where, required=required)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(f"{where}.{key}", f"expected a non-empty string; got {preview(value)}")
        return value

    def number(self, node: object, key: str, where: str, *, required: bool = True) -> float | None:
        value = self.get(node, key, where, required=required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{where}.{key}", f"expected a number; got {preview(value)}")
        return float(value)


def _opensl_duration(doc: _Doc, value: object, column: str) -> str:
    match = _OPENSLO_DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise doc.fail(
            column,
            "expected an OpenSLO duration such as '30d', '4w', '1M' (units m, h, d, w, M, Q, "
            f"Y); got {preview(value)}",
        )
    return f"{match.group(1)}{_OPENSLO_UNITS[match.group(2)]}"


def _toolkit_source(doc: _Doc, indicator: Any, where: str) -> tuple[str, str | None, str | None]:
    """(kind, sli, metric) of an OpenSLO SLI spec; sli/metric from ``type: toolkit`` sources."""
    spec = doc.get(indicator, "spec", where)
    threshold = doc.get(spec, "thresholdMetric", f"{where}.spec", required=False)
    ratio = doc.get(spec, "ratioMetric", f"{where}.spec", required=False)
    if (threshold is None) == (ratio is None):
        raise doc.fail(
            f"{where}.spec",
            "expected exactly one of 'thresholdMetric' and 'ratioMetric'",
        )
    if threshold is not None:
        kind, sources = "threshold", [(f"{where}.spec.thresholdMetric", threshold)]
    else:
        kind = "ratio"
        sources = [
            (f"{where}.spec.ratioMetric.{role}", ratio[role])
            for role in ("good", "bad", "total")
            if isinstance(ratio, Mapping) and ratio.get(role) is not None
        ]
        if not any(r.endswith((".good", ".bad")) for r, _ in sources) or not any(
            r.endswith(".total") for r, _ in sources
        ):
            raise doc.fail(
                f"{where}.spec.ratioMetric",
                "expected 'total' and one of 'good' or 'bad' metric sources",
            )
    sli: str | None = None
    metric: str | None = None
    for column, source in sources:
        metric_source = doc.get(source, "metricSource", column)
        source_type = doc.text(metric_source, "type", f"{column}.metricSource", required=False)
        if source_type is None or source_type.lower() != "toolkit":
            continue
        source_spec = doc.get(metric_source, "spec", f"{column}.metricSource")
        sli = doc.text(source_spec, "sli", f"{column}.metricSource.spec", required=False) or sli
        metric = (
            doc.text(source_spec, "metric", f"{column}.metricSource.spec", required=False) or metric
        )
    return kind, sli, metric


def parse_slos(text: str, *, path: str | os.PathLike[str] | None = None) -> tuple[SLO, ...]:
    """Read SLOs from OpenSLO v1 YAML text (one or more ``---`` separated documents).

    Documents of ``kind: SLO`` become one :class:`SLO` per objective; ``kind: SLI``
    documents are used by ``indicatorRef``; other kinds (Service, AlertPolicy ...) are
    skipped. The toolkit reads ``spec.objectives[].target`` (or ``targetPercent``),
    ``value`` and ``op`` (threshold indicators), ``timeSliceTarget``/``timeSliceWindow``,
    ``spec.timeWindow[0]`` (``duration``, ``isRolling``, ``calendar.timeZone``) and
    ``spec.budgetingMethod`` (``Occurrences`` or ``Timeslices``). What to measure comes
    from metric sources of ``type: toolkit`` whose ``spec`` names the ``sli``
    (``availability`` or a column such as ``ttft_s``) and optionally the ``metric`` family;
    sources of other types (Prometheus queries ...) are allowed and leave ``sli`` unset.

    Parameters
    ----------
    text : str
        The YAML text. Parsed with PyYAML (``pip install pyyaml``).
    path : str or path-like, optional
        Where it came from, for error messages.

    Returns
    -------
    tuple of SLO

    Raises
    ------
    FormatError
        Naming the file, the document (``record``) and the field, for YAML that is not
        OpenSLO v1 or holds values an SLO cannot have.

    Examples
    --------
    >>> text = '''
    ... apiVersion: openslo/v1
    ... kind: SLO
    ... metadata: {name: ttft}
    ... spec:
    ...   service: llm-gateway
    ...   budgetingMethod: Occurrences
    ...   timeWindow: [{duration: 30d, isRolling: true}]
    ...   indicator:
    ...     metadata: {name: ttft}
    ...     spec:
    ...       thresholdMetric:
    ...         metricSource: {type: toolkit, spec: {sli: ttft_s}}
    ...   objectives: [{op: lte, value: 2.0, target: 0.99}]
    ... '''
    >>> parse_slos(text)[0].describe()
    '99% of events with ttft_s <= 2 over a rolling 30d'
    """
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - pyyaml is a dependency
        raise ParameterError(
            f"Reading OpenSLO YAML needs PyYAML: pip install pyyaml. ({exc})"
        ) from None
    where = None if path is None else os.fspath(path)
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else int(mark.line) + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormatError(f"not valid YAML: {problem}", path=where, line=line) from None
    indicators: dict[str, tuple[int, Any]] = {}
    for number, data in enumerate(documents, start=1):
        doc = _Doc(data, where, number)
        if not isinstance(data, Mapping):
            raise doc.fail("<document>", f"expected an OpenSLO mapping; got {preview(data)}")
        if data.get("apiVersion") != "openslo/v1":
            raise doc.fail(
                "apiVersion", f"expected 'openslo/v1'; got {preview(data.get('apiVersion'))}"
            )
        if data.get("kind") == "SLI":
            name = doc.text(doc.get(data, "metadata", ""), "name", "metadata")
            assert name is not None
            indicators[name] = (number, data)
    slos: list[SLO] = []
    for number, data in enumerate(documents, start=1):
        if data.get("kind") != "SLO":
            continue
        doc = _Doc(data, where, number)
        name = doc.text(doc.get(data, "metadata", ""), "name", "metadata")
        assert name is not None
        spec = doc.get(data, "spec", "")
        inline = doc.get(spec, "indicator", "spec", required=False)
        if inline is not None:
            kind, sli, metric = _toolkit_source(doc, inline, "spec.indicator")
        else:
            ref = doc.text(spec, "indicatorRef", "spec", required=False)
            if ref is None:
                raise doc.fail("spec.indicator", "expected 'indicator' or 'indicatorRef'")
            if ref not in indicators:
                raise doc.fail(
                    "spec.indicatorRef",
                    f"no kind: SLI document named {preview(ref)} (found: "
                    f"{preview(', '.join(indicators) or 'none')})",
                )
            ref_number, ref_data = indicators[ref]
            kind, sli, metric = _toolkit_source(_Doc(ref_data, where, ref_number), ref_data, "")
        windows = doc.get(spec, "timeWindow", "spec")
        if not isinstance(windows, list) or len(windows) != 1:
            raise doc.fail(
                "spec.timeWindow", f"expected a list of one window; got {preview(windows)}"
            )
        window = windows[0]
        duration = _opensl_duration(
            doc, doc.get(window, "duration", "spec.timeWindow[0]"), "spec.timeWindow[0].duration"
        )
        rolling = doc.get(window, "isRolling", "spec.timeWindow[0]", required=False)
        calendar = doc.get(window, "calendar", "spec.timeWindow[0]", required=False)
        if rolling is None:
            rolling = calendar is None
        if not isinstance(rolling, bool):
            raise doc.fail(
                "spec.timeWindow[0].isRolling", f"expected true or false; got {preview(rolling)}"
            )
        time_zone = "UTC"
        if calendar is not None:
            time_zone = (
                doc.text(calendar, "timeZone", "spec.timeWindow[0].calendar", required=False)
                or "UTC"
            )
        budgeting = doc.text(spec, "budgetingMethod", "spec")
        if budgeting not in ("Occurrences", "Timeslices"):
            raise doc.fail(
                "spec.budgetingMethod",
                f"expected 'Occurrences' or 'Timeslices' (RatioTimeslices is not supported); "
                f"got {preview(budgeting)}",
            )
        listed = doc.get(spec, "objectives", "spec")
        if not isinstance(listed, list) or not listed:
            raise doc.fail("spec.objectives", f"expected a non-empty list; got {preview(listed)}")
        for index, objective in enumerate(listed):
            at = f"spec.objectives[{index}]"
            target = doc.number(objective, "target", at, required=False)
            if target is None:
                percent = doc.number(objective, "targetPercent", at, required=False)
                if percent is None:
                    raise doc.fail(f"{at}.target", "expected 'target' or 'targetPercent'")
                target = percent / 100.0
            threshold = doc.number(objective, "value", at, required=kind == "threshold")
            op = doc.text(objective, "op", at, required=kind == "threshold") or "lte"
            label = doc.text(objective, "displayName", at, required=False) or str(index)
            window_text = doc.get(objective, "timeSliceWindow", at, required=False)
            slice_window = (
                None
                if window_text is None
                else _opensl_duration(doc, window_text, f"{at}.timeSliceWindow")
            )
            try:
                slos.append(
                    SLO(
                        name=name if len(listed) == 1 else f"{name}/{label}",
                        target=target,
                        sli=sli,
                        threshold=threshold,
                        op=op,  # type: ignore[arg-type]
                        time_window=duration,
                        rolling=rolling,
                        budgeting_method=budgeting,  # type: ignore[arg-type]
                        time_slice_target=doc.number(
                            objective, "timeSliceTarget", at, required=False
                        ),
                        time_slice_window=slice_window,
                        metric=metric,
                        time_zone=time_zone,
                        service=doc.text(spec, "service", "spec", required=False),
                        description=doc.text(spec, "description", "spec", required=False),
                    )
                )
            except ParameterError as exc:
                raise doc.fail(at, str(exc)) from None
    if not slos:
        raise FormatError("expected at least one 'kind: SLO' document", path=where)
    return tuple(slos)


@validate_params()
def load_slos(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> tuple[SLO, ...]:
    """Read SLOs from OpenSLO v1 YAML files (see :func:`parse_slos`).

    Parameters
    ----------
    path : path or list of paths
        YAML files; ``kind: SLI`` documents referenced by ``indicatorRef`` must be in the
        same file.

    Returns
    -------
    tuple of SLO
        In file order.

    Examples
    --------
    >>> from importlib.resources import files
    >>> example = files("toolkit") / "data" / "slo" / "llm_service.yaml"
    >>> [s.name for s in load_slos(str(example))]
    ['availability', 'ttft', 'tpot', 'latency']
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    out: list[SLO] = []
    for one in paths:
        if not isinstance(one, str | os.PathLike):
            raise reject("path", "be a path or a list of paths", one)
        file = Path(one)
        if not file.is_file():
            raise reject("path", "name a YAML file", got=f"{preview(os.fspath(one))}, not a file,")
        out.extend(parse_slos(file.read_text(encoding="utf-8"), path=file))
    return tuple(out)
