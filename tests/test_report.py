"""Tests of toolkit.report (records, show, run_report, CLI) and toolkit.plots."""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import polars as pl
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from toolkit import plots
from toolkit.errors import ParameterError
from toolkit.report import (
    RECORD_MIMETYPE,
    SECTION_MIMETYPE,
    Record,
    ReportResult,
    Skipped,
    read_records,
    record,
    register_cli,
    run_report,
    section,
    show,
    utc,
)

# --------------------------------------------------------------------------- record


def test_record_outside_a_kernel_prints(capsys: pytest.CaptureFixture[str]) -> None:
    record("calls", np.int64(12), headline="12 calls from bo@example.com")
    record("when", dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    record("ratio", float("nan"))
    record("nested", {"a": [1, 2.5, None, True], "b": "10.0.0.1"})
    assert capsys.readouterr().out.splitlines() == [
        "calls = 12  (12 calls from [EMAIL])",
        'when = "2026-11-02T00:00:00+00:00"',
        "ratio = null",
        'nested = {"a": [1, 2.5, null, true], "b": "[IP]"}',
    ]


def test_record_errors() -> None:
    with pytest.raises(
        ParameterError, match=r"'name' parameter of report\.record must be an identifier"
    ):
        record("two words", 1)
    with pytest.raises(ParameterError, match=r"'value' parameter of report\.record .* Got object"):
        record("x", object())
    with pytest.raises(
        ParameterError, match=r"'headline' parameter of report\.record must be a string"
    ):
        record("x", 1, headline=3)  # type: ignore[arg-type]


def test_read_records(tmp_path: Path) -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell("# t"),
            new_code_cell(
                "x",
                outputs=[
                    nbformat.v4.new_output("stream", name="stdout", text="hi"),
                    nbformat.v4.new_output(
                        "display_data",
                        data={RECORD_MIMETYPE: {"name": "a", "value": 1, "headline": "A"}},
                    ),
                    nbformat.v4.new_output(
                        "display_data",
                        data={RECORD_MIMETYPE: {"name": "b", "value": [1], "headline": None}},
                    ),
                ],
            ),
        ]
    )
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    expected = (Record("a", 1, "A"), Record("b", [1], None))
    assert read_records(nb) == expected
    assert read_records(path) == expected
    with pytest.raises(ParameterError, match=r"'notebook' parameter of report\.read_records"):
        read_records(42)


def test_utc() -> None:
    assert utc("2026-11-02T00:00:00Z") == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    assert utc(dt.datetime(2026, 11, 2, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == (
        dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    )
    for bad in ("2026-11-02", "2026-11-02T00:00:00", "yesterday", 5):
        with pytest.raises(ParameterError, match=r"The 'end' parameter must be an ISO-8601 time"):
            utc(bad, name="end")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- show


def test_show_escapes_redacts_and_cuts(backend: str) -> None:
    frame = pl.DataFrame(
        {
            "attr": ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "bo@ex.com"],
            "n": [1, 2, 3],
            "t": [dt.datetime(2026, 11, 2, tzinfo=dt.UTC)] * 3,
            "tags": [["a", "b@c.io"], None, []],
            "long": ["x" * 100, "y", None],
        }
    ).rename({"long": "<b>col</b>"})
    table = show(frame.to_pandas() if backend == "pandas" else frame, n=2, max_chars=40)
    assert table.shape == (3, 5)
    assert table._repr_html_() == table.html
    assert "<script" not in table.html
    assert "<img" not in table.html
    assert "<b>" not in table.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in table.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in table.html
    assert "&lt;b&gt;col&lt;/b&gt;" in table.html
    assert "[&quot;a&quot;, &quot;[EMAIL]&quot;]" in table.html
    assert "x" * 39 + "…" in table.html
    assert "x" * 40 not in table.html
    assert "bo@ex.com" not in table.html  # not shown: n=2 ...
    assert "3 rows × 5 columns, first 2 shown" in table.text
    assert "[EMAIL]" in show(frame, n=3).html  # ... and redacted when shown
    assert show(frame, n=0, columns=["n"]).text.splitlines() == [
        "3 rows × 5 columns, first 0 shown",
        "n",
    ]


def test_show_errors() -> None:
    frame = pl.DataFrame({"a": [1]})
    with pytest.raises(ParameterError, match=r"'n' parameter of show must be a non-negative"):
        show(frame, n=-1)
    with pytest.raises(ParameterError, match=r"must name columns of the frame \(available: 'a'"):
        show(frame, columns=["b"])
    with pytest.raises(ParameterError, match="polars or pandas DataFrame"):
        show({"a": [1]})


# --------------------------------------------------------------------------- plots


def test_plots_lines_and_bars() -> None:
    import matplotlib.pyplot as plt

    frame = pl.DataFrame(
        {
            "t": [dt.datetime(2026, 11, 2, h, tzinfo=dt.UTC) for h in (0, 1, 0, 1)],
            "v": [1.0, 2.0, 3.0, 4.0],
            "model": ["b $5", "b $5", "a@b.io", "a@b.io"],
        }
    )
    before = len(plt.get_fignums())
    fig = plots.lines(frame, "t", "v", by="model", title="T", ylabel="s")
    axes = fig.axes[0]
    assert [line.get_label() for line in axes.get_lines()] == ["[EMAIL]", r"b \$5"]
    assert [list(line.get_ydata()) for line in axes.get_lines()] == [[3.0, 4.0], [1.0, 2.0]]
    assert axes.get_title(loc="left") == "T"
    assert axes.get_xlabel() == "time (UTC)"
    bars = plots.bars(pl.DataFrame({"route": ["chat", "code"], "calls": [10, 4]}), "route", "calls")
    assert [p.get_width() for p in bars.axes[0].patches] == [10, 4]
    assert len(plt.get_fignums()) == before  # closed in pyplot: shown once, not leaked
    fig.canvas.draw()
    with pytest.raises(ParameterError, match=r"'y' parameter of plots.lines must be a column"):
        plots.lines(frame, "t", "nope")


# --------------------------------------------------------------------------- run_report


def _notebook(path: Path, cells: list[Any], *, parameters: str | None = None) -> None:
    body = [new_markdown_cell(f"# Title of {path.stem}")]
    if parameters is not None:
        cell = new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        body.append(cell)
    body.extend(cells)
    nbformat.write(new_notebook(cells=body), path)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks")
    _notebook(
        folder / "10_ok.ipynb",
        [
            new_code_cell(
                "import polars as pl\nfrom toolkit import plots\n"
                "from toolkit.report import record, show"
            ),
            new_markdown_cell("Prose for the reader."),
            new_code_cell(
                "record('data_dir', data_dir)\nrecord('threshold', threshold)\n"
                "record('answer', 42, headline='<b>42</b> answers from bo@example.com')\n"
                "record('by_user', {'ana@example.com': 0.5, '<script>x</script>': 'sk-proj-"
                "ABCDEFGHIJKLMNOPQRSTUVWX0123456789 <img src=x>'})\n"
                "print('client 10.9.8.7')"
            ),
            new_code_cell(
                "plots.lines(pl.DataFrame({'x': [1, 2], 'y': [3, 4]}), 'x', 'y', title='F')"
            ),
        ],
        parameters="data_dir = 'nowhere'\nthreshold = 0.5",
    )
    _notebook(
        folder / "20_fail.ipynb",
        [
            new_code_cell("from toolkit.report import record\nrecord('before', 1)"),
            new_code_cell("\n# a comment\nboom = 1 / 0\nprint('never')"),
            new_code_cell("record('after', 2)"),
        ],
        parameters="data_dir = 'nowhere'",
    )
    _notebook(folder / "30_noparams.ipynb", [new_code_cell("x = 1")])
    return folder


@pytest.fixture(scope="module")
def report(notebooks: Path, tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    data = tmp_path_factory.mktemp("data")
    out = tmp_path_factory.mktemp("out")
    return run_report(
        data, out, notebooks_dir=notebooks, progress=False, parameters={"threshold": 0.9}
    )


def page_of(nb: Any) -> str:
    return str(nb.html.read_text(encoding="utf-8"))


def test_run_report_injects_parameters_and_reads_records(report: ReportResult) -> None:
    assert report.names == ("10_ok", "20_fail", "30_noparams")
    ok = report["10_ok"]
    assert ok.ok
    assert ok.title == "Title of 10_ok"
    assert ok.values == {
        "data_dir": str(report.data_dir.resolve()),  # type: ignore[union-attr]
        "threshold": 0.9,
        "answer": 42,
        # the record's keys are redacted (values too) in the kernel; markup is escaped later,
        # in findings.json and in every page
        "by_user": {"[EMAIL]": 0.5, "<script>x</script>": "[API_KEY] <img src=x>"},
    }
    assert "&lt;script&gt;x&lt;/script&gt;" in page_of(ok)
    assert "<img src=x>" not in page_of(ok)
    assert ok.records[2].headline == "<b>42</b> answers from [EMAIL]"
    assert (ok.status, ok.skipped, ok.sections) == ("ok", (), ())  # no section marked: ok
    page = ok.html.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "# Parameters injected by toolkit.report.run_report" in page
    assert "client [IP]" in page  # prints are redacted ...
    assert page.count("10.9.8.7") == 1  # ... the address stays only in the code shown
    assert "&lt;b&gt;42&lt;/b&gt; answers from [EMAIL]" in page
    assert page.count('src="data:image/png;base64,') == 1
    assert 'alt="Figure 1 of Title of 10_ok"' in page
    assert "Content-Security-Policy" in page
    assert "<script" not in page.lower()
    assert "https://" not in page.split("<body", 1)[0]
    # a parameter goes only to the notebooks that declare it
    failing = report["20_fail"].html.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "# Parameters injected by toolkit.report.run_report" in failing
    assert "threshold" not in failing


def test_a_failing_notebook_is_named_with_its_cell(report: ReportResult) -> None:
    assert not report.ok
    assert [nb.name for nb in report.failures] == ["20_fail", "30_noparams"]
    fail = report["20_fail"]
    # the line that raised, counted in the cell as stored (IPython drops the blank first line)
    assert fail.error == (
        "20_fail.ipynb, cell 4, line 3 ('boom = 1 / 0'): ZeroDivisionError: division by zero"
    )
    assert fail.failed_cell == 4  # markdown title, parameters, record, the failing cell
    assert fail.failed_line == 3
    assert fail.status == "failed"
    assert fail.values == {"before": 1}  # ran up to the failure; its HTML is still written
    assert fail.html is not None
    assert "ZeroDivisionError" in fail.html.read_text()
    missing = report["30_noparams"]
    assert missing.html is None
    assert missing.error == (
        "30_noparams.ipynb: no cell is tagged 'parameters' (JupyterLab: cell inspector)"
    )


def test_index_and_findings(report: ReportResult) -> None:
    index = report.index.read_text(encoding="utf-8")
    assert '<a href="10_ok.html">Title of 10_ok</a>' in index
    assert "&lt;b&gt;42&lt;/b&gt; answers from [EMAIL]" in index
    assert html.escape(report["20_fail"].error or "") in index
    assert "3 notebook(s), 2 failed (1 ok)" in index
    assert '<section class="failed">' in index
    assert "<script" not in index.lower()
    findings = json.loads((report.out_dir / "findings.json").read_text())
    assert findings["10_ok"]["records"][1] == {"name": "threshold", "value": 0.9, "headline": None}
    # keys are telemetry too: redacted; markup in any text is escaped
    assert findings["10_ok"]["records"][3] == {
        "name": "by_user",
        "value": {"[EMAIL]": 0.5, "&lt;script&gt;x&lt;/script&gt;": "[API_KEY] &lt;img src=x&gt;"},
        "headline": None,
    }
    assert (
        findings["10_ok"]["records"][2]["headline"] == "&lt;b&gt;42&lt;/b&gt; answers from [EMAIL]"
    )
    raw = (report.out_dir / "findings.json").read_text()
    assert "<" not in raw
    assert "example.com" not in raw
    assert findings["10_ok"]["status"] == "ok"
    assert findings["10_ok"]["skipped"] == []
    assert findings["20_fail"]["ok"] is False
    assert findings["20_fail"]["status"] == "failed"
    assert (findings["20_fail"]["failed_cell"], findings["20_fail"]["failed_line"]) == (4, 3)
    assert report.written[-2:] == (report.index, report.out_dir / "findings.json")
    shown = report._repr_html_()
    assert "3 notebook(s), 2 failed (1 ok)" in shown
    assert "division by zero" in shown
    assert repr(report).startswith("ReportResult(3 notebooks, 2 failed")


def test_no_input_hides_code(notebooks: Path, tmp_path: Path) -> None:
    result = run_report(
        tmp_path,
        tmp_path / "out",
        only="10",
        no_input=True,
        notebooks_dir=notebooks,
        progress=False,
        parameters={"threshold": dt.datetime(2026, 11, 2, tzinfo=dt.UTC)},
    )
    assert result.names == ("10_ok",)
    assert result["10_ok"].values["threshold"] == "2026-11-02T00:00:00+00:00"  # as ISO text
    page = result["10_ok"].html.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "Prose for the reader." in page
    assert "answers from [EMAIL]" in page
    assert "record(" not in page
    assert "import polars" not in page
    assert "nowhere" not in page


def test_run_report_parameter_errors(notebooks: Path, tmp_path: Path) -> None:
    with pytest.raises(
        ParameterError, match=r"'data_dir' parameter of report\.run_report must be an ex"
    ):
        run_report(tmp_path / "nope", tmp_path, notebooks_dir=notebooks)
    with pytest.raises(ParameterError, match=r"'notebooks_dir' parameter .* Got '.*none found"):
        run_report(tmp_path, tmp_path, notebooks_dir=tmp_path)
    with pytest.raises(ParameterError, match=r"notebooks of 10_ok, 20_fail, 30_noparams. Got '4"):
        run_report(tmp_path, tmp_path, only="40", notebooks_dir=notebooks)
    with pytest.raises(ParameterError) as info:
        run_report(tmp_path, tmp_path, notebooks_dir=notebooks, parameters={"thresold": 1})
    assert str(info.value) == (
        "The 'parameters' parameter of report.run_report must name parameters that the selected "
        "notebooks declare in their parameters cell (10_ok: data_dir, threshold; 20_fail: "
        "data_dir; 30_noparams: none). Got 'thresold' instead; did you mean 'threshold' for "
        "'thresold'?"
    )
    with pytest.raises(ParameterError, match=r"\(20_fail: data_dir\)\. Got 'threshold' inst"):
        run_report(
            tmp_path, tmp_path, only="20", notebooks_dir=notebooks, parameters={"threshold": 1}
        )
    with pytest.raises(ParameterError, match="must map names to literals"):
        run_report(tmp_path, tmp_path, notebooks_dir=notebooks, parameters={"threshold": object()})
    with pytest.raises(ParameterError, match="must not set data_dir"):
        run_report(tmp_path, tmp_path, notebooks_dir=notebooks, parameters={"data_dir": "x"})
    with pytest.raises(ParameterError, match=r"must be a mapping of parameter names to values"):
        run_report(tmp_path, tmp_path, notebooks_dir=notebooks, parameters=["threshold"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genai-sre")
    register_cli(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_report_exit_codes(
    notebooks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parser().parse_args(
        [
            "report",
            "--data",
            str(tmp_path),
            "--out",
            str(tmp_path / "r"),
            "--notebooks",
            str(notebooks),
            "--only",
            "20",
            "--only",
            "30",
            "--quiet",
        ]
    )
    assert args.handler(args) == 1
    captured = capsys.readouterr()
    assert (
        "genai-sre report: 20_fail.ipynb, cell 4, line 3 ('boom = 1 / 0'): ZeroDivisionError: "
        "division by zero" in captured.err
    )
    lines = captured.out.splitlines()
    assert lines[0].startswith("20_fail                      failed ")
    assert lines[1].startswith("30_noparams                  failed ")
    assert lines[1].endswith(" s  (no HTML written)")
    assert lines[2] == f"2 notebook(s), 2 failed; index: {tmp_path / 'r' / 'index.html'}"
    args = _parser().parse_args(["report", "--data", str(tmp_path / "none"), "--quiet"])
    assert args.handler(args) == 2
    assert "'data_dir' parameter of report.run_report" in capsys.readouterr().err


# --------------------------------------------------------------------------- sections, errors

_SUPPORTS = (
    "from toolkit import Support\n"
    "from toolkit.report import record, section\n"
    "have = Support('a', 'spans', 'spans with 3 rows')\n"
    "lack = Support('b', 'vLLM metrics', 'no metrics table from bo@example.com', ('metrics',), "
    '"scrape vLLM\'s /metrics <endpoint>")'
)


@pytest.fixture(scope="module")
def sections_report(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    folder = tmp_path_factory.mktemp("sections")
    params = "data_dir = None"
    _notebook(
        folder / "40_partly.ipynb",
        [
            new_code_cell(_SUPPORTS),
            new_code_cell("marked = section('Marker only', have)"),
            new_code_cell(
                "if section('Latency', have):\n    record('latency', 1.5, headline='p95 1.5 s')"
            ),
            new_code_cell("if section('Burn-rate <alerts>', lack):\n    record('never', 1)"),
        ],
        parameters=params,
    )
    _notebook(
        folder / "50_nothing.ipynb",
        [
            new_code_cell(_SUPPORTS),
            new_code_cell("section('GPU <b>utilisation</b>', lack)\nsection('Power', lack)"),
        ],
        parameters=params,
    )
    _notebook(
        folder / "60_third_line.ipynb",
        [
            new_code_cell(
                "import polars as pl\n"
                "frame = pl.DataFrame({'latency_s': [1.0]})\n"
                "frame.select(pl.col('latency')).height\n"
                "print('never')"
            ),
        ],
        parameters=params,
    )
    _notebook(
        folder / "70_skip_then_fail.ipynb",
        [
            new_code_cell(_SUPPORTS + "\nsection('Alerts', lack)"),
            new_code_cell(
                "a = 1\nb = 2\n"
                "raise ValueError('\\x1b[31mred\\x1b[0m from bo@example.com ' + 'x' * 2000)"
            ),
        ],
        parameters=params,
    )
    data = tmp_path_factory.mktemp("data")
    return run_report(data, tmp_path_factory.mktemp("out"), notebooks_dir=folder, progress=False)


def test_status_of_each_notebook(sections_report: ReportResult) -> None:
    assert sections_report.statuses == {
        "40_partly": "ok",
        "50_nothing": "not applicable",
        "60_third_line": "failed",
        "70_skip_then_fail": "failed",
    }
    assert [nb.name for nb in sections_report.failures] == ["60_third_line", "70_skip_then_fail"]
    partly = sections_report["40_partly"]
    lack = Skipped(
        "Burn-rate <alerts>",
        "vLLM metrics",
        "no metrics table from [EMAIL]",
        ("metrics",),
        "scrape vLLM's /metrics <endpoint>",
    )
    assert partly.sections == (("Marker only", None), ("Latency", None), (lack.section, lack))
    assert partly.skipped == (lack,)
    assert partly.values == {"latency": 1.5}
    nothing = sections_report["50_nothing"]
    assert nothing.ok  # "not applicable" is not a failure
    assert [s.section for s in nothing.skipped] == ["GPU <b>utilisation</b>", "Power"]
    assert sections_report["70_skip_then_fail"].skipped[0].section == "Alerts"


def test_the_line_that_raised_and_its_message(sections_report: ReportResult) -> None:
    third = sections_report["60_third_line"]
    assert (third.failed_cell, third.failed_line) == (3, 3)
    assert third.error is not None
    assert third.error.startswith(
        "60_third_line.ipynb, cell 3, line 3 (\"frame.select(pl.col('latency')).height\"): "
        'ColumnNotFoundError: unable to find column "latency"; valid columns: ["latency_s"]'
    )
    assert "\n" not in third.error
    assert len(third.error) < 500  # the query plan polars appends is cut
    long = sections_report["70_skip_then_fail"]
    assert long.error is not None
    assert long.error.startswith(
        "70_skip_then_fail.ipynb, cell 4, line 3 (\"raise ValueError('\\\\x1b[31mred\\\\x1b[0m "
        "from [EMAIL] ' + 'x' * 2000)\"): ValueError: red from [EMAIL] xxx"
    )
    assert "\x1b" not in long.error
    assert "bo@example.com" not in long.error
    assert long.error.endswith("x…")
    assert len(long.error) < 500


def test_index_and_findings_list_skipped_sections(sections_report: ReportResult) -> None:
    index = sections_report.index.read_text(encoding="utf-8")
    assert "4 notebook(s), 2 failed (1 ok, 1 not applicable)" in index
    assert '<section class="not-applicable">' in index
    assert '<span class="status">not applicable</span>' in index
    assert (
        "<li><b>Burn-rate &lt;alerts&gt;</b>: needs vLLM metrics; found no metrics table from "
        "[EMAIL]; missing metrics. <i>How to get it:</i> scrape vLLM&#x27;s /metrics "
        "&lt;endpoint&gt;</li>"
    ) in index
    assert "2 section(s) skipped" in index
    assert "<b>GPU &lt;b&gt;utilisation&lt;/b&gt;</b>" in index
    assert "bo@example.com" not in index
    findings = json.loads((sections_report.out_dir / "findings.json").read_text())
    assert findings["50_nothing"]["status"] == "not applicable"
    assert findings["50_nothing"]["ok"] is True
    assert findings["40_partly"]["sections_run"] == ["Marker only", "Latency"]
    assert findings["40_partly"]["skipped"] == [  # markup escaped for whatever reads it next
        {
            "section": "Burn-rate &lt;alerts&gt;",
            "needs": "vLLM metrics",
            "found": "no metrics table from [EMAIL]",
            "missing": ["metrics"],
            "how": "scrape vLLM's /metrics &lt;endpoint&gt;",
        }
    ]
    assert findings["70_skip_then_fail"]["status"] == "failed"
    assert findings["70_skip_then_fail"]["skipped"][0]["section"] == "Alerts"


def test_exported_sections(sections_report: ReportResult) -> None:
    page = sections_report["40_partly"].html.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert SECTION_MIMETYPE not in page
    # the "section ran" marker leaves no output: the cell of "Marker only" shows its code only
    marker_cell = page.split("Marker only", 1)[1].split("Latency", 1)[0]
    assert "jp-OutputArea-output" not in marker_cell
    assert "<pre></pre>" not in page
    # the skipped box is styled HTML, its text escaped and redacted
    assert '<div class="genai-sre-skipped" style="border:1px solid #d0a000;' in page
    assert "Skipped: Burn-rate &lt;alerts&gt;</div>" in page
    assert "<b>How to get it</b> scrape vLLM's /metrics &lt;endpoint&gt;</div>" in page
    assert "<alerts>" not in page
    assert "<endpoint>" not in page
    assert "bo@example.com" not in page.split("</head>", 1)[1].replace(
        "no metrics table from bo@example.com", ""
    )  # the address shows only in the code that wrote it
    assert "no metrics table from [EMAIL]" in page


def test_section_outside_a_kernel(capsys: pytest.CaptureFixture[str]) -> None:
    from toolkit import Support

    ok = Support("a", "spans", "spans with 3 rows")
    calls = Support("b", "100 calls", "18 calls", ("at least 100 calls",), "export a longer period")
    column = Support(
        "c", "100 calls", "18 calls; no attribute", ("at least 100 calls", "a column"), "set tier"
    )
    assert section("Runs", ok) is True
    assert section("Drift", ok, calls, column) is False
    # what several checks share is said once
    assert capsys.readouterr().out == (
        "Skipped: Drift. Needs 100 calls; found 18 calls; 18 calls; no attribute; missing at "
        "least 100 calls, a column. How to get it: export a longer period; set tier\n"
    )
    with pytest.raises(
        ParameterError, match=r"'title' parameter of report\.section must be a non-empty"
    ):
        section("", ok)


def test_the_raising_line_is_read_from_the_kernels_traceback() -> None:
    from toolkit.report._runner import _exception_text, _raising_line

    red, green, reset = "\x1b[31m", "\x1b[32m", "\x1b[39m"
    # code of another cell called from this one: the cell's own frame (In[7]) counts
    traceback = [
        f"{red}ValueError{reset}   Traceback (most recent call last)",
        f"Cell{reset} {green}In[7]{reset}{green}, line 2{reset}\n      1 x = 1\n----> 2 helper()",
        f"Cell{reset} {green}In[3]{reset}{green}, line 5{reset}, in helper()",
        f"{red}ValueError{reset}: bad",
    ]
    cell = {
        "source": "\n\nx = 1\nhelper()",  # IPython numbers the lines after the blank ones
        "execution_count": 7,
        "outputs": [{"output_type": "error", "traceback": traceback}],
    }
    assert _raising_line(cell) == 4
    assert _raising_line({**cell, "execution_count": None}) == 4  # the first cell frame
    assert _raising_line({**cell, "outputs": [{"output_type": "stream", "text": "x"}]}) is None
    no_frame = {"output_type": "error", "traceback": ["KeyboardInterrupt"]}
    assert _raising_line({**cell, "outputs": [no_frame]}) is None
    assert _exception_text(f"{red}ValueError{reset}", f"{red}bad{reset}\n\n  value") == (
        "ValueError: bad value"
    )
    assert _exception_text("SyntaxError", "incomplete input (173531590.py, line 1)") == (
        "SyntaxError: incomplete input"
    )
    assert _exception_text("KeyError", "") == "KeyError"
    long = _exception_text("ValueError", "y" * 5000)
    assert len(long) == len("ValueError: ") + 300
    assert long.endswith("y…")


def test_the_index_opens_on_the_reviews_incidents_not_on_notebook_02s_windows(tmp_path):
    from toolkit.report._kernel import Record
    from toolkit.report._runner import NotebookReport, _incidents_html

    start, end = "2026-11-04T10:05:00+00:00", "2026-11-04T12:00:00+00:00"
    windows = NotebookReport(
        "02_trace_bottlenecks",
        "Traces",
        tmp_path / "02.ipynb",
        tmp_path / "02.html",
        (Record("incidents", [{"incident": "ttft on h100", "start": start, "end": end}]),),
        1.0,
    )
    review = NotebookReport(
        "08_incident_review",
        "Review",
        tmp_path / "08.ipynb",
        tmp_path / "08.html",
        (
            Record("detectors.ran", ["slo"]),
            Record(
                "incidents",
                [
                    {
                        "incident": "release-1",
                        "kind": "model_release_regression",
                        "severity": "page",
                        "start": start,
                        "end": end,
                        "cause": "llama-2026-11 replaced llama-2026-10",
                    }
                ],
            ),
        ),
        1.0,
    )
    result = ReportResult(tmp_path, tmp_path / "index.html", (windows, review))
    page = _incidents_html(result)
    assert 'href="08.html#release-1"' in page
    assert "ttft on h100" not in page
    assert "llama-2026-11 replaced llama-2026-10" in page
    # without the review, the index has no incidents section at all
    assert _incidents_html(ReportResult(tmp_path, tmp_path / "index.html", (windows,))) == ""
