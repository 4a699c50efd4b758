"""The upload flow in a real browser: ``ecg dashboard`` on localhost, driven by Playwright with Debian's chromium.

Skipped locally when Playwright or ``/usr/bin/chromium`` is missing; fails under ``CI=true``. Playwright
never downloads a browser here: it launches the system chromium. A screenshot goes to
``$ECG_TEST_ARTIFACTS`` (default ``tests/artifacts``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from app.analysis import analyse_record
from models.bundled import load_default_model
from pipeline.records import read_record

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
STARTUP_TIMEOUT_S = 90
ANALYSIS_TIMEOUT_MS = 120_000


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI, when something the browser test needs is missing."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def find_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def artifacts_dir() -> Path:
    directory = Path(os.environ.get("ECG_TEST_ARTIFACTS") or REPO_ROOT / "tests" / "artifacts")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def wait_until_healthy(url: str, server: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"ecg dashboard exited with code {server.returncode} before serving")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"ecg dashboard did not answer at {url} within {timeout_s} s")


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    port = find_free_port()
    log_path = tmp_path_factory.mktemp("dashboard") / "server.log"
    ecg = Path(sys.executable).with_name("ecg")
    command = [str(ecg)] if ecg.exists() else [sys.executable, "-c", "from app.cli import main; main()"]
    with open(log_path, "wb") as log:
        server = subprocess.Popen([*command, "dashboard", "--port", str(port), "--address", "localhost"],
                                  cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        wait_until_healthy(url, server, STARTUP_TIMEOUT_S)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser():
    try:
        import playwright.sync_api as sync_api
    except ImportError as error:
        require(False, f"playwright is not installed ({error}): pip install -e '.[test]'")
    require(CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (Playwright must not download one)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


def metric_value(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_upload_208_shows_its_summary_and_events(browser, dashboard_url, excerpts_dir):
    expected = analyse_record(read_record(excerpts_dir / "208"), load_default_model()).summary
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    external = []  # privacy: the page must fetch nothing from outside this machine (fonts, scripts, statistics)
    page.on("request", lambda request: external.append(request.url)
            if request.url.startswith(("http:", "https:", "ws:", "wss:")) and "//localhost:" not in request.url
            else None)
    try:
        page.goto(dashboard_url)
        page.get_by_text("Record 100").wait_for(timeout=ANALYSIS_TIMEOUT_MS)  # the default sample
        files = [str(excerpts_dir / f"208.{ext}") for ext in ("hea", "dat", "atr")]
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files)
        page.get_by_text("Record 208").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        page.get_by_text("Events by type").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                               timeout=ANALYSIS_TIMEOUT_MS)
        assert metric_value(page, "V beats") == str(expected.beat_counts[2])
        assert expected.beat_counts[2] > 100
        couplets = expected.event("ventricular_couplet").count
        assert couplets > 0
        row = page.locator('[data-testid="stTable"] tr').filter(has_text="Ventricular couplet").first
        assert str(couplets) in row.inner_text()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(artifacts_dir() / "dashboard_upload_208.png"), full_page=True)
        page.get_by_role("tab", name="ECG").click()
        page.get_by_text("Event list").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        assert page.locator('[data-testid="stPlotlyChart"]').count() >= 2
        page.screenshot(path=str(artifacts_dir() / "dashboard_ecg_208.png"), full_page=True)
        assert external == []
    finally:
        page.close()


def test_an_upload_error_leaves_the_event_thresholds_as_they_were(browser, dashboard_url, tmp_path):
    """After an error page (which stops before the sidebar is drawn) the browser sent the thresholds back at their
    minimum: the next record was analysed with pauses from 1 s and tachycardia from 60 bpm, VF detection off."""
    (tmp_path / "letter.hea").write_text("Dear colleague,\nplease find the recording enclosed.\n")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    thresholds = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Event thresholds:")
    try:
        page.goto(dashboard_url)
        page.get_by_text("Record 100").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        before = thresholds.first.inner_text()
        assert "pause RR over 2 s" in before and "detection on" in before
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(tmp_path / "letter.hea"))
        page.get_by_text("cannot be parsed").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        page.locator("button[aria-label^=Remove]").first.click()  # back to the samples, then another one
        page.get_by_text("Record 100").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        page.get_by_role("combobox", name="Sample record (MIT-BIH excerpt)", exact=True).click()
        page.get_by_role("option", name="208", exact=True).first.click()
        page.get_by_text("Record 208").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                               timeout=ANALYSIS_TIMEOUT_MS)
        assert thresholds.first.inner_text() == before
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


def wait_for_rerun(page) -> None:
    """Until the app's rerun after an input has finished (the status widget shows while it runs)."""
    time.sleep(1.0)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                           timeout=ANALYSIS_TIMEOUT_MS)
    time.sleep(0.5)


def show_sample_ecg_tab(page, dashboard_url: str) -> None:
    """The dashboard's opening sample (record 100) on its ECG tab, the app idle."""
    page.goto(dashboard_url)
    page.get_by_text("Record 100").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
    page.get_by_role("tab", name="ECG").click()
    page.get_by_text("Event list").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
    wait_for_rerun(page)


def test_clicking_a_row_of_the_event_list_shows_its_event(browser, dashboard_url, excerpts_dir):
    """A clinical read of the dashboard (session 60) found the event list's rows could not be clicked: 223's first VT
    was row 47 of 350, reached only through the picker. A click on a row now chooses its event and moves the detail
    window to it (the grid is a canvas: the row is clicked at its place, 35 px a row under a 35 px header)."""
    regions = analyse_record(read_record(excerpts_dir / "100"), load_default_model()).regions
    assert len(regions) >= 3
    row = 2  # the third event
    start_s = regions[row].start / 360.0
    assert start_s > 10.0  # out of the first window, the one shown before the click
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        show_sample_ecg_tab(page, dashboard_url)
        caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Detail window")
        table = page.locator("[class*='st-key-event_table_'] [data-testid='stDataFrame']")
        table.scroll_into_view_if_needed()
        box = table.bounding_box()
        page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 * row + 17)
        page.get_by_text(f"Chosen event: #{row + 1} ").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        words = caption.first.inner_text().split()  # "Detail window 00:03:26.2 to 00:03:36.2 of 00:05:00"
        shown = [sum(float(part) * 60 ** (2 - i) for i, part in enumerate(words[k].split(":"))) for k in (2, 4)]
        assert shown[0] <= start_s <= shown[1], (words, start_s)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


def test_a_beat_clicked_on_the_chart_is_relabelled_by_its_key_and_calipers_measure_a_span(browser, dashboard_url,
                                                                                           excerpts_dir):
    """A clinical read of the dashboard (session 60) found no calipers, and a beat relabelled through a picker of its
    number, a class box and a button. A click on a beat's mark now chooses it, its letter's key relabels it, PageDown
    steps to the next beat, a span dragged with Box Select is measured, and Shift+PageDown goes to the next event."""
    analysis = analyse_record(read_record(excerpts_dir / "100"), load_default_model())
    samples, fs_hz = analysis.predictions.samples, analysis.record.fs_hz
    normal = [int(i) for i in np.flatnonzero((samples < 10 * fs_hz) & (analysis.classes == "N"))]
    assert len(normal) > 8 and "V" not in analysis.classes[samples < 10 * fs_hz]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        show_sample_ecg_tab(page, dashboard_url)
        chart = page.locator(".st-key-detail_chart")
        chart.scroll_into_view_if_needed()
        marks = chart.locator("g.trace.scatter").filter(has=page.locator("g.textpoint")).first.locator("path.point")
        marks.first.wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        assert marks.count() == len(normal)  # the first class trace is N's, its marks in time order

        def centre(k: int) -> tuple[float, float]:
            box = marks.nth(k).bounding_box()
            return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

        chosen = page.locator(".st-key-beat_choice input")
        x, y = centre(3)
        page.mouse.move(x - 4, y - 4)
        page.mouse.move(x, y, steps=4)
        time.sleep(0.3)
        page.mouse.click(x, y)
        wait_for_rerun(page)
        assert chosen.input_value() == f"#{normal[3]} at " + chosen.input_value().split(" at ")[1]
        assert chosen.input_value().endswith(": N")
        page.keyboard.press("v")
        page.get_by_text("1 beat label corrected").wait_for(state="attached", timeout=ANALYSIS_TIMEOUT_MS)  # Review tab
        wait_for_rerun(page)
        assert chosen.input_value().startswith(f"#{normal[3]} ") and chosen.input_value().endswith(": V")
        page.keyboard.press("PageDown")
        wait_for_rerun(page)
        assert chosen.input_value().startswith(f"#{normal[3] + 1} ")
        # calipers from one N mark to the next: the RR interval between them, to a few pixels
        marks = chart.locator("g.trace.scatter").filter(has=page.locator("g.textpoint")).first.locator("path.point")
        still_normal = [i for i in normal if i != normal[3]]
        k = next(k for k in range(4, len(still_normal) - 1) if still_normal[k + 1] == still_normal[k] + 1)
        (x1, y), (x2, _) = centre(k), centre(k + 1)
        rr_ms = 1000 * (samples[still_normal[k + 1]] - samples[still_normal[k]]) / fs_hz
        page.mouse.move(x1, y + 60)
        chart.locator('.modebar-btn[data-title="Box Select"]').click()
        page.mouse.move(x1, y + 60)
        page.mouse.down()
        page.mouse.move((x1 + x2) / 2, y + 60, steps=8)
        page.mouse.move(x2, y + 60, steps=4)
        page.mouse.up()
        measured = page.get_by_text(re.compile(r"^Calipers: \d"))  # not the caption saying how to use them
        measured.wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        words = measured.inner_text().split(", ")  # "Calipers: a to b", "812 ms", "74 bpm. ..."
        assert abs(float(words[1].split()[0]) - rr_ms) <= 25, (words, rr_ms)
        page.get_by_role("button", name="Remove calipers").click()
        wait_for_rerun(page)
        assert measured.count() == 0
        page.keyboard.press("Shift+PageDown")  # Next event
        page.get_by_text(re.compile(r"^Event 1 of \d+$")).wait_for(timeout=ANALYSIS_TIMEOUT_MS)
        page.get_by_role("tab", name="Review labels").click()  # the keys are the ECG tab's only (every tab is drawn)
        wait_for_rerun(page)
        page.keyboard.press("q")
        wait_for_rerun(page)
        assert page.get_by_text("1 beat label corrected").is_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()
