"""The exported reports in a real headless Chromium with the network blocked.

Debian's ``chromium`` (``apt-get install chromium``), driven by Playwright. Without a
Chromium the tests skip locally and fail under TOOLKIT_REQUIRE_REAL_DATA=1 or in CI.
A screenshot of each page is written next to it for inspection (its path is printed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import EMAIL

from toolkit.report import ReportResult


def _chromium() -> str:
    found = os.environ.get("TOOLKIT_CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None
    )
    problem = None
    if not found:
        problem = "no chromium on PATH (Debian: apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install playwright)"
    if problem:
        if os.environ.get("TOOLKIT_REQUIRE_REAL_DATA") == "1" or os.environ.get("CI"):
            pytest.fail(f"the browser tests need Chromium and Playwright: {problem}")
        pytest.skip(problem)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        yield instance
        instance.close()


class _Page:
    """What a page did while it loaded, with the network blocked."""

    def __init__(self, browser: Any, path: Path, screenshot: Path) -> None:
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        context = browser.new_context(offline=True, java_script_enabled=True)

        def route(r: Any) -> None:
            url = r.request.url
            self.requests.append(url)
            if url.startswith(("file:", "data:")):
                r.continue_()
            else:
                self.blocked.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(r.url))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(300)  # let any onerror handler fire
        self.title = page.title()
        self.images = page.evaluate(
            "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt,"
            " i.src.slice(0, 22)])"
        )
        self.scripts = page.evaluate("document.scripts.length")
        self.text = page.inner_text("body")
        self.stderr_outputs = page.evaluate(
            "document.querySelectorAll('[data-mime-type=\"application/vnd.jupyter.stderr\"]')"
            ".length"
        )
        page.screenshot(path=str(screenshot), full_page=True)
        print(f"screenshot: {screenshot}")
        context.close()


def _static_references(path: Path) -> list[str]:
    """src/href attributes and CSS url()/@import that point at the network."""
    found: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                remote = value and value.strip().lower().startswith(("http:", "https:", "//"))
                if name in ("src", "href", "srcset", "data", "action") and remote:
                    found.append(f"<{tag} {name}={(value or '')[:80]}>")

    text = path.read_text(encoding="utf-8")
    Parser().feed(text)
    lowered = text.lower()
    for marker in ("url(http", "url(//", "@import"):
        if marker in lowered:
            found.append(marker)
    head = lowered.split("<body", 1)[0]
    if "http://" in head or "https://" in head:
        found.append("a network address in <head>")
    return found


def _check_clean(page: _Page, path: Path) -> None:
    assert page.blocked == [], f"{path.name} asked the network for {page.blocked}"
    assert page.failed == []
    assert page.console == [], page.console
    assert page.errors == []
    assert page.dialogs == []
    assert page.scripts == 0
    assert "Traceback" not in page.text
    assert page.stderr_outputs == 0


def test_sample_reports_open_offline(
    browser: Any, sample_report: ReportResult, tmp_path: Path
) -> None:
    pages = [nb.html for nb in sample_report.notebooks if nb.html is not None]
    assert pages
    for path in [*pages, sample_report.index]:
        assert _static_references(path) == []
        page = _Page(browser, path, tmp_path / f"{path.stem}.png")
        _check_clean(page, path)
        assert (tmp_path / f"{path.stem}.png").stat().st_size > 10_000
        if path == sample_report.index:
            assert page.title == "genai-sre report"
            assert page.images == []
            continue
        nb = sample_report[path.stem]
        assert page.title == nb.title
        assert page.images, f"{path.name} shows no figure"
        for complete, width, alt, src in page.images:
            assert complete
            assert width > 0  # the PNG decoded and rendered
            assert alt
            assert src.startswith("data:image/png;base64")
    tour = _Page(browser, sample_report["00_tour"].html, tmp_path / "tour-again.png")  # type: ignore[arg-type]
    assert "What to look at next" in tour.text


def test_script_bearing_telemetry_stays_text(
    browser: Any, standin_report: tuple[Path, dict[str, Any], ReportResult], tmp_path: Path
) -> None:
    _, _, result = standin_report
    nb = result["00_tour"]
    assert nb.html is not None
    page = _Page(browser, nb.html, tmp_path / "payload.png")
    _check_clean(page, nb.html)  # no alert, no console message from the payloads
    assert page.title == nb.title  # the DOM was not rewritten
    assert "<script>console.log('pwned-script');alert(1)</script>" in page.text
    assert "<img src=x onerror=" in page.text
    assert all(src.startswith("data:image/png") for _, _, _, src in page.images)
    assert EMAIL not in page.text
    assert "[EMAIL]" in page.text
