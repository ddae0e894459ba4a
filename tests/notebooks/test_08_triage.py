"""Notebook 08: the incident review of the sample finds every truth.json incident (truth used
only to check), records them for the report's index, which opens on "Incidents this period"
with one line per incident linked to its evidence; the numbers are toolkit.triage's."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import SAMPLE, renamed_sample

from toolkit.report import ReportResult, run_report

NAME = "08_incident_review"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    data = renamed_sample(tmp_path_factory.mktemp("sample-08"))
    return run_report(data, tmp_path_factory.mktemp("report-08"), only=NAME, progress=False)


def _time(value: object) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def test_every_true_incident_is_recorded(report: ReportResult) -> None:
    nb = report[NAME]
    assert nb.status == "ok", nb.error
    values = dict(nb.values)
    recorded = values["incidents"]
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))["incidents"]
    for incident in truth:
        start, end = _time(incident["window"]["start"]), _time(incident["window"]["end"])
        hits = [
            r
            for r in recorded
            if r["kind"] == incident["kind"] and _time(r["start"]) < end and _time(r["end"]) > start
        ]
        assert hits, incident["id"]
        if any(r["severity"] == "page" for r in hits):
            assert min(abs(_time(r["start"]) - start) for r in hits) <= dt.timedelta(minutes=15)
    assert set(values["incidents.kinds"]) >= {i["kind"] for i in truth}
    assert all(r["next_step"] for r in recorded)


def test_the_index_opens_on_the_incidents(report: ReportResult) -> None:
    nb = report[NAME]
    page = report.index.read_text(encoding="utf-8")
    opening = page.index("Incidents this period")
    assert opening < page.index("<section", opening + 1) or page.count("<section") == 2
    assert "<svg" in page[opening:]
    recorded = dict(nb.values)["incidents"]
    for row in recorded:
        assert f'href="{Path(nb.html).name}#{row["incident"]}"' in page
    evidence = Path(nb.html).read_text(encoding="utf-8")
    for row in recorded:
        assert f"id='{row['incident']}'" in evidence or f'id="{row["incident"]}"' in evidence
