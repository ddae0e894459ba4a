"""The notebooks adapt to a user's folder: nothing of the sample is written into them, and a
report on folders that hold only some exports, under other names, ends "ok" or "not
applicable" for every notebook, with skipped sections explained and no traceback."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import NOTEBOOKS, SAMPLE

from toolkit.report import ReportResult, run_report

ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
INSTRUMENTED = Path(__file__).resolve().parents[1] / "data" / "instrumented"


def _sample_specifics() -> set[str]:
    """File names, days and attribute values of the sample week: none may be in a notebook."""
    import toolkit

    found = {p.name for p in SAMPLE.iterdir()}
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    for incident in truth["incidents"]:
        found.add(incident["window"]["start"][:10])
        found.add(incident["window"]["end"][:10])
    spans = toolkit.load_spans(SAMPLE / "traces.jsonl.gz")
    calls = toolkit.llm_calls(spans)
    for column in [*toolkit.dimensions(calls), "service_name", "request_model"]:
        found.update(str(v) for v in calls[column].drop_nulls().unique().to_list())
    found.update(str(v) for v in spans["service_name"].drop_nulls().unique().to_list())
    found.update(c for c in calls.columns if c.startswith("attributes."))
    return {s for s in found if len(s) > 2}


@pytest.fixture(scope="module")
def specifics() -> set[str]:
    return _sample_specifics()


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_no_file_name_date_or_attribute_of_the_sample_in_a_notebook(
    path: Path, specifics: set[str]
) -> None:
    nb = nbformat.read(path, as_version=4)
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                hits = sorted(
                    s
                    for s in specifics
                    if re.search(rf"(?<![A-Za-z0-9_]){re.escape(s)}(?![A-Za-z0-9_])", node.value)
                )
                assert not hits, f"{path.name}, cell {number}: {hits} is the sample's"


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_every_parameter_but_data_dir_is_an_optional_literal(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    [cell] = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    for node in ast.parse(cell.source).body:
        assert isinstance(node, ast.Assign), f"{path.name}: parameters are plain assignments"
        ast.literal_eval(node.value)  # a literal the CLI's -p NAME=VALUE can replace


# --- reports on folders that are not the sample -------------------------------------------


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(source, target)


def _folder(kind: str, root: Path) -> tuple[Path, dict[str, Any]]:
    """A folder holding one kind of export under names that are not the sample's."""
    folder = root / kind
    if kind.startswith("instrumented-"):
        name = kind.removeprefix("instrumented-")
        # collector-style: JSON lines and the same batches as protobuf (counted once)
        shutil.copy(INSTRUMENTED / name / "traces.jsonl", _mk(folder / "otel" / "spans.json"))
        shutil.copy(INSTRUMENTED / name / "traces.pb", _mk(folder / "otel" / "spans-copy.bin"))
        return folder, {}
    if kind == "metrics-only":
        _link(SAMPLE / "vllm_metrics.prom.gz", folder / "scrapes" / "engine-a.txt.gz")
        return folder, {}
    if kind == "gpu-logs-only":
        _link(SAMPLE / "nvidia_smi.csv.gz", folder / "hosts" / "gpu0" / "smi.log.gz")
        return folder, {"tz": "UTC"}
    if kind == "nothing":
        _mk(folder / "README.md").write_text("# not telemetry\n", encoding="utf-8")
        return folder, {}
    raise AssertionError(kind)


def _mk(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


KINDS = [
    *(f"instrumented-{p.name}" for p in sorted(INSTRUMENTED.iterdir()) if p.is_dir()),
    "metrics-only",
    "gpu-logs-only",
    "nothing",
]


@pytest.fixture(scope="module", params=KINDS)
def folder_report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, ReportResult]:
    kind = str(request.param)
    root = tmp_path_factory.mktemp("own-exports")
    folder, parameters = _folder(kind, root)
    out = tmp_path_factory.mktemp(f"report-{kind}")
    return kind, run_report(folder, out, progress=False, parameters=parameters or None)


def test_every_notebook_ends_ok_or_not_applicable(folder_report: tuple[str, ReportResult]) -> None:
    kind, result = folder_report
    statuses = {nb.name: nb.status for nb in result.notebooks}
    assert set(statuses.values()) <= {"ok", "not applicable"}, (
        kind,
        statuses,
        [nb.error for nb in result.failures],
    )
    findings = json.loads((result.out_dir / "findings.json").read_text(encoding="utf-8"))
    assert {name: f["status"] for name, f in findings.items() if isinstance(f, dict)} == statuses
    for nb in result.notebooks:
        assert nb.html is not None
        text = nb.html.read_text(encoding="utf-8")
        assert "Traceback" not in text, (kind, nb.name)
        for raw in ("ColumnNotFoundError", "polars.exceptions", "KeyError", "NoneType"):
            assert raw not in text, (kind, nb.name, raw)
    if kind == "nothing":
        assert set(statuses.values()) == {"not applicable"}
    else:
        assert statuses["00_tour"] == "ok", kind


def test_skipped_sections_say_what_they_need(folder_report: tuple[str, ReportResult]) -> None:
    kind, result = folder_report
    skipped = [(nb.name, s) for nb in result.notebooks for s in nb.skipped]
    assert skipped, kind  # no folder but the sample supports every section
    index = result.index.read_text(encoding="utf-8")
    for _, s in skipped:
        assert s.needs
        assert s.found
        assert s.section in index or s.section.replace("'", "&#x27;") in index


def test_traces_only_reports_count_each_call_once(folder_report: tuple[str, ReportResult]) -> None:
    kind, result = folder_report
    if not kind.startswith("instrumented-"):
        pytest.skip("only the instrumentation folders hold traces")
    name = kind.removeprefix("instrumented-")
    truth = json.loads((INSTRUMENTED / name / "truth.json").read_text(encoding="utf-8"))
    calls = truth["calls"] if isinstance(truth, dict) else truth
    import toolkit

    spans = toolkit.load_spans(INSTRUMENTED / name / "traces.jsonl")
    tour = result["00_tour"].values
    assert tour["rows"]["spans"] == spans.height  # the protobuf copy is counted once
    assert tour["rows"]["llm_calls"] == toolkit.llm_calls(spans).height
    assert len(calls) >= toolkit.llm_calls(spans).height > 0
