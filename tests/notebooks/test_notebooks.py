"""Every notebook is thin, stored without outputs, and executes on the sample data with the
numbers it records equal to what the toolkit's loaders give on the same files."""

from __future__ import annotations

import ast
import html
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import API_KEY, EMAIL, IMG, LAYOUT, NOTEBOOKS, SAMPLE, SCRIPT, sample_traces

import toolkit
from toolkit.report import ReportResult

ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
FORBIDDEN = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def test_the_notebooks_are_there() -> None:
    assert [p.name for p in ALL][:1] == ["00_tour.ipynb"]


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_notebook_is_thin_parameterised_and_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell must be tagged 'parameters'"
    assigned = {
        t.id
        for node in ast.parse(tagged[0].source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    assert "data_dir" in assigned
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith("# ")
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 3, "prose for the reader"
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"{path.name}, cell {number}: stored with outputs"
        assert cell.execution_count is None, f"{path.name}, cell {number}: execution count"
        tree = ast.parse(cell.source)  # no IPython magics either
        bad = [type(n).__name__ for n in ast.walk(tree) if isinstance(n, FORBIDDEN)]
        assert not bad, f"{path.name}, cell {number}: {bad} belong in toolkit, not a notebook"
        assert "import toolkit" in "".join(c.source for c in nb.cells)


def test_every_notebook_executes_on_the_sample(sample_report: ReportResult) -> None:
    assert sample_report.names == tuple(p.stem for p in ALL)
    assert sample_report.ok, [nb.error for nb in sample_report.failures]
    for nb in sample_report.notebooks:
        assert nb.html is not None
        assert nb.html.is_file()
        assert nb.records, f"{nb.name} records no key number"
    index = sample_report.index.read_text(encoding="utf-8")
    for nb in sample_report.notebooks:
        assert f'href="{nb.name}.html"' in index
        for r in nb.records:
            if r.headline:
                assert html.escape(r.headline) in index
    findings = json.loads((sample_report.out_dir / "findings.json").read_text())
    assert findings["00_tour"]["records"][0]["name"] == "rows"


def test_tour_numbers_on_the_sample(sample_report: ReportResult) -> None:
    values = sample_report["00_tour"].values
    # the same numbers through the loaders, file by file (the notebook finds the files by
    # content; the nvidia-smi log needs tz, which the default run does not set)
    spans = toolkit.load_spans(sample_traces())
    calls = toolkit.llm_calls(spans)
    logs = toolkit.load_logs(SAMPLE / LAYOUT["logs"])
    metrics = toolkit.load_metrics(SAMPLE / LAYOUT["vllm_metrics"])
    gpu = toolkit.load_gpu(SAMPLE / LAYOUT["dcgm_metrics"])
    assert values["rows"] == {
        "spans": spans.height,
        "llm_calls": calls.height,
        "logs": logs.height,
        "metrics": metrics.height,
        "gpu": gpu.height,
        "predictions": toolkit.load_predictions(SAMPLE / "predictions.csv.gz").height,
    }
    assert values["columns"]["spans"] == spans.width
    assert values["files"]["needs a parameter"] == 1  # nvidia_smi.csv.gz: set tz
    assert values["traces"] == spans["trace_id"].n_unique()
    assert values["tokens.input"] == calls["input_tokens"].sum()
    assert values["tokens.output"] == calls["output_tokens"].sum()
    assert values["error_ratio"] == pytest.approx(calls["is_error"].sum() / calls.height)
    first = min(
        spans["start_time"].min(), logs["time"].min(), metrics["time"].min(), gpu["time"].min()
    )
    assert values["period.start"] == first.isoformat()
    assert values["gpu.util_pct.mean"] == pytest.approx(gpu["util_pct"].mean())
    assert values["calls.per_bucket.max"] > 0  # 1 h buckets for the week (chosen)
    assert set(values["supports"].values()) == {"yes"}
    if (SAMPLE / "truth.json").exists():  # the simulated week of the full sample
        assert values["period.start"].startswith("2026-11-02T00:")
        assert values["gpu.util_pct.mean"] > 0


def test_tour_on_every_export_of_the_layout(
    standin_report: tuple[Path, dict[str, Any], ReportResult],
) -> None:
    data, expected, result = standin_report
    assert result.ok, [nb.error for nb in result.failures]
    values = result["00_tour"].values
    # DCGM scrapes are the gpu table; the vLLM scrape is the metrics table; the nvidia-smi
    # log waits for tz (test_tour_time_range_parameters sets it)
    assert values["rows"] == {
        "spans": expected["spans"],
        "llm_calls": expected["llm_calls"],
        "logs": expected["logs"],
        "metrics": expected["metrics"] // 2,
        "gpu": expected["gpu"],
    }
    assert values["files"] == {"loaded": 4, "needs a parameter": 1}
    # the same numbers through the loaders, independently of the notebook
    calls = toolkit.llm_calls(toolkit.load_spans(data / LAYOUT["traces"]))
    assert values["tokens.input"] == expected["input_tokens"] == calls["input_tokens"].sum()
    assert values["tokens.output"] == expected["output_tokens"]
    assert values["error_ratio"] == pytest.approx(expected["errors"] / expected["llm_calls"])
    assert values["gpu.util_pct.mean"] == pytest.approx((20 + 30 + 40 + 50) / 4)
    assert values["calls.per_bucket.max"] == 3  # one call every 20 minutes, 1 h buckets
    assert values["period.start"] == "2026-11-02T00:00:00+00:00"
    assert result["00_tour"].status == "ok"
    assert result["00_tour"].skipped == ()


def test_tour_time_range_parameters(tmp_path: Path) -> None:
    from conftest import write_standin

    from toolkit.report import run_report

    data = tmp_path / "data"
    write_standin(data)
    result = run_report(
        data,
        tmp_path / "out",
        only="00",
        progress=False,
        parameters={
            "start": "2026-11-02T01:00:00Z",
            "end": "2026-11-02T02:00:00+00:00",
            "tz": "UTC",
        },
    )
    assert result.ok, result.failures
    values = result["00_tour"].values
    # calls at 01:00, 01:20, 01:40: 3 calls, 6 spans, 3 logs; one scrape per hour in range
    # (vLLM: metrics; DCGM and nvidia-smi: gpu, the log read in UTC)
    assert values["rows"] == {"spans": 6, "llm_calls": 3, "logs": 3, "metrics": 1, "gpu": 2}
    assert values["gpu.util_pct.mean"] == pytest.approx((30 + 31) / 2)
    # an hour of data: 1-minute buckets, one call in the busiest
    assert values["calls.per_bucket.max"] == 1
    naive = run_report(
        data,
        tmp_path / "naive",
        only="00",
        progress=False,
        parameters={"start": "2026-11-02T01:00:00"},
    )
    assert not naive.ok  # a time without its zone is refused, never guessed


def test_tour_adapts_to_what_a_folder_holds(tmp_path: Path) -> None:
    """Files renamed and nested, one kind of export per folder, or nothing recognised:
    the tour runs, the sections without their data are skipped with an explanation."""
    import shutil

    from conftest import write_standin

    from toolkit.report import run_report

    data = tmp_path / "standin"
    write_standin(data)
    folders = {
        "traces": ("traces", "a/b/export-0001.data", {}),
        "metrics": ("vllm_metrics", "scrape", {}),
        "gpu": ("nvidia_smi", "gpu/node-1.log.gz", {"tz": "UTC"}),
        "nothing": (None, "README.md", {}),
    }
    results = {}
    for name, (kind, target, parameters) in folders.items():
        folder = tmp_path / name
        (folder / target).parent.mkdir(parents=True, exist_ok=True)
        if kind is None:
            (folder / target).write_text("# notes\n")
        else:
            shutil.copy(data / LAYOUT[kind], folder / target)
        results[name] = run_report(
            folder,
            tmp_path / f"out-{name}",
            only="00",
            progress=False,
            parameters=parameters or None,
        )["00_tour"]
    for name, nb in results.items():
        assert nb.error is None, (name, nb.error)
    ran = {
        name: tuple(title for title, skip in nb.sections if skip is None)
        for name, nb in results.items()
    }
    assert ran == {
        "traces": ("Tables found", "The service at a glance"),
        "metrics": ("Tables found",),
        "gpu": ("Tables found", "GPU utilisation"),
        "nothing": (),
    }
    assert results["nothing"].status == "not applicable"
    assert results["traces"].values["rows"] == {"spans": 24, "llm_calls": 12}
    assert results["traces"].values["supports"]["02_trace_bottlenecks"] == "yes"
    assert results["metrics"].values["rows"] == {"metrics": 4}
    assert results["gpu"].values["gpu.util_pct.mean"] == pytest.approx((30 + 31 + 32 + 33) / 4)
    skipped = {s.section: s for s in results["metrics"].skipped}
    assert "spans" in skipped["The service at a glance"].missing
    assert "collector" in skipped["The service at a glance"].how  # how to export traces
    assert results["nothing"].values["files"] == {"unrecognised": 1}
    assert set(results["nothing"].values["supports"].values()) == {"no"}


def test_tour_html_escapes_and_redacts_telemetry(
    standin_report: tuple[Path, dict[str, Any], ReportResult],
) -> None:
    _, _, result = standin_report
    page = result["00_tour"].html
    assert page is not None
    text = page.read_text(encoding="utf-8")
    assert EMAIL not in text
    assert API_KEY not in text
    assert "10.1.2.3" not in text
    assert "[EMAIL]" in text
    assert "[API_KEY]" in text
    assert "[IP]" in text
    assert SCRIPT not in text
    assert IMG not in text
    # shown as text (the exporter re-serialises the page: quotes come back unescaped)
    assert "&lt;script&gt;console.log('pwned-script');alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=" in text
    assert "<script" not in text.lower()
