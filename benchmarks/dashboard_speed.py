"""Dashboard speed: upload of a 30-minute record to the complete flagged view, with a warm model.

Drives the real page (``app/dashboard/main.py``) with ``streamlit.testing.v1.AppTest``: each repeat
opens a fresh session (so nothing of the upload is cached), shows the default sample, then uploads
the record's ``.hea``/``.dat``/``.atr`` bytes and times the script run that reads, analyses and renders
everything (summary, overview and detail charts, event list, reference comparison, downloads). The
model is loaded once beforehand (warm, as for every upload after the first); a warm-up upload is
not counted. Browser rendering is not included (the charts carry at most a few thousand points).

``--browser`` times the same flow in a real browser instead (``--steps N``: then N beat steps, PageDown on the ECG
tab, each from the key to the next beat named under the detail chart; ``dashboard_steps_browser.json``):
``ecg dashboard`` on localhost, Debian's chromium driven by Playwright; each repeat opens a fresh page (a new
session: the default sample is shown first, so the model is warm), uploads the record through the file input and stops
the clock when the summary and the event table are shown, the app is idle and, on the ECG tab, the overview and detail
charts are drawn (regions shaded). Results go to ``dashboard_speed_browser.json``.

The page's response to moving the detail window (to the middle of the record) after the upload is
recorded as ``window_move_s``. A 24-hour record (built by ``benchmarks/long_record.py``):
``--record-dir .cache/long --record mitdb24h --repeats 1``.

``--interactions`` times, after one upload, the page's response to each thing a reader does (moving the window,
picking an event, changing a threshold, stating a pacemaker, a plain rerun) and the size of what the charts send
(the overview's JSON and its points), on the 24-h record by default (built once by
:func:`benchmarks.long_record.ensure_long_records`; results in ``dashboard_interactions_mitdb24h.json``).

Usage: PYTHONPATH=. .venv/bin/python benchmarks/dashboard_speed.py [--record 208] [--repeats 5] [--browser]
       PYTHONPATH=. .venv/bin/python benchmarks/dashboard_speed.py --interactions [--record-dir DIR --record NAME]
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from streamlit.testing.v1 import AppTest

from benchmarks.common import REPO_ROOT, default_data_dir, format_table, write_results

APP = REPO_ROOT / "app" / "dashboard" / "main.py"
TARGET_S = 5.0
TIMEOUT_S = 300


def read_upload(data_dir: Path, name: str) -> list[tuple[str, bytes, str]]:
    """The record's files as the browser would upload them."""
    return [(f"{name}.{ext}", (data_dir / f"{name}.{ext}").read_bytes(), "application/octet-stream")
            for ext in ("hea", "dat", "atr") if (data_dir / f"{name}.{ext}").exists()]


def time_upload(files: list[tuple[str, bytes, str]]) -> tuple[float, dict]:
    """Seconds from the upload to the finished page in a fresh session, and what the page showed."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    at.file_uploader(key="upload").set_value(files)
    started = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - started
    if at.exception or at.error:
        raise RuntimeError(f"page failed: {[e.value for e in at.exception] + [e.value for e in at.error]}")
    moved = time.perf_counter()
    at.number_input(key="window_start_s").set_value(float(at.number_input(key="window_start_s").max or 0) / 2)
    at.run()
    shown = {"window_move_s": round(time.perf_counter() - moved, 3)}
    shown.update({m.label: m.value for m in at.metric if m.label.endswith(" beats")})
    shown["regions_in_event_list"] = len(at.selectbox(key="event_choice").options) - 1
    shown["download_buttons"] = len(at.get("download_button"))
    return seconds, shown


def chart_sizes(at: AppTest) -> dict[str, int]:
    """Bytes of each Plotly chart's JSON on the page, by its key."""
    sizes = {}
    for element in at.get("plotly_chart"):
        chart = element.proto
        sizes[chart.id.rsplit("-", 1)[-1] or str(len(sizes))] = len(chart.spec)
    return sizes


def time_interactions(files: list[tuple[str, bytes, str]]) -> dict:
    """Seconds of each interaction after one upload (in order: they build on each other), and chart sizes."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    at.file_uploader(key="upload").set_value(files)
    steps = {}

    def step(name: str, action) -> None:
        started = time.perf_counter()
        action()
        steps[name] = round(time.perf_counter() - started, 3)
        if at.exception or at.error:
            raise RuntimeError(f"{name}: {[e.value for e in at.exception] + [e.value for e in at.error]}")

    def pacemaker_box():
        return next(b for b in at.sidebar.checkbox if b.label == "The patient has a pacemaker")

    step("upload_s", at.run)
    sizes = chart_sizes(at)
    step("plain_rerun_s", at.run)
    step("window_move_s", lambda: at.number_input(key="window_start_s").set_value(3600.0).run())
    step("event_pick_s", lambda: at.selectbox(key="event_choice").select_index(8).run())
    step("beat_step_s", lambda: at.button(key="beat_step_1").click().run())  # PageDown in a browser
    new_class = next(c for c in "QFVS" if not at.button(key=f"relabel_as_{c}").disabled)
    step("beat_relabel_s", lambda: at.button(key=f"relabel_as_{new_class}").click().run())  # its letter's key
    step("pause_threshold_s", lambda: at.number_input(key="event_pause_s").set_value(2.5).run())
    step("rerun_after_threshold_s", at.run)
    step("pacemaker_tick_s", lambda: pacemaker_box().check().run())
    step("pacemaker_untick_s", lambda: pacemaker_box().uncheck().run())
    return {"steps_s": steps, "chart_json_bytes": sizes,
            "events_in_picker": len(at.selectbox(key="event_choice").options) - 1}


def main_interactions(args) -> int:
    from benchmarks.long_record import ensure_long_records, long_record_path

    if args.record_dir is None:
        ensure_long_records(default_data_dir(), (24,))
        record_dir, record = long_record_path(24).parent, long_record_path(24).name
    else:
        record_dir, record = args.record_dir, args.record
    files = read_upload(record_dir, record)
    time_upload(read_upload(default_data_dir(), "208"))  # loads the model and compiles the classifier
    shown = time_interactions(files)
    print(format_table(["step", "s"], [[k, v] for k, v in shown["steps_s"].items()]))
    print(format_table(["chart", "JSON bytes"], [[k, v] for k, v in shown["chart_json_bytes"].items()]))
    payload = {"record": record, "upload_mb": round(sum(len(d) for _, d, _ in files) / 1e6, 3),
               "driver": "streamlit AppTest (no browser), one session, steps in order", **shown}
    print(f"results: {write_results(f'dashboard_interactions_{record}', payload)}")
    return 0


CHROMIUM = "/usr/bin/chromium"
BROWSER_TIMEOUT_MS = 120_000


def start_dashboard() -> tuple[subprocess.Popen, str]:
    """``ecg dashboard`` on a free localhost port; returns the server process and its URL once healthy."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "dashboard", "--port",
                               str(port)], cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("ecg dashboard did not start within 90 s")


def time_browser_upload(browser, url: str, paths: list[str], steps: int = 0) -> float | list[float]:
    """Seconds from choosing the files to the complete flagged view, in a fresh page; with ``steps``, instead, the
    seconds of each of that many PageDown presses on the ECG tab after it (:func:`time_beat_steps`)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(url)
        page.get_by_text("Events by type").wait_for(timeout=BROWSER_TIMEOUT_MS)  # default sample: model warm
        idle = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        page.wait_for_function(idle, timeout=BROWSER_TIMEOUT_MS)
        started = time.perf_counter()
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(paths)
        page.get_by_text(f"Record {Path(paths[0]).stem}").wait_for(timeout=BROWSER_TIMEOUT_MS)
        page.get_by_text("Events by type").wait_for(timeout=BROWSER_TIMEOUT_MS)
        page.wait_for_function(idle, timeout=BROWSER_TIMEOUT_MS)
        page.get_by_role("tab", name="ECG").click()
        drawn = page.locator('[data-testid="stPlotlyChart"] .main-svg >> visible=true')
        deadline = time.monotonic() + BROWSER_TIMEOUT_MS / 1000
        while drawn.count() < 2:  # the overview and the detail chart of the ECG tab
            if time.monotonic() > deadline:
                raise TimeoutError("the ECG charts were not drawn")
            time.sleep(0.02)
        return time_beat_steps(page, steps) if steps else time.perf_counter() - started
    finally:
        page.close()


def time_beat_steps(page, steps: int) -> list[float]:
    """Seconds of each PageDown press on the ECG tab (the next beat chosen, the window following it): from the key to
    the line under the detail chart naming the next beat, with the app idle."""
    idle = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    chosen = page.get_by_text(re.compile(r"^Chosen beat #\d+ at"))
    page.wait_for_function(idle, timeout=BROWSER_TIMEOUT_MS)  # the rerun of the tab change
    times = []
    for _ in range(steps):
        index = int(re.search(r"#(\d+)", chosen.first.inner_text())[1])
        chosen.first.click()  # the page, not a widget, has the keyboard (a focused slider takes PageDown)
        page.wait_for_timeout(300)  # as a reader reads the line before the next key (not timed)
        started = time.perf_counter()
        page.keyboard.press("PageDown")
        page.get_by_text(re.compile(rf"^Chosen beat #{index + 1} at")).wait_for(timeout=BROWSER_TIMEOUT_MS)
        page.wait_for_function(idle, timeout=BROWSER_TIMEOUT_MS)
        times.append(time.perf_counter() - started)
    return times


def main_browser(args) -> int:
    from playwright.sync_api import sync_playwright

    data_dir = default_data_dir()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for ext in ("hea", "dat", "atr"):
            source = data_dir / f"{args.record}.{ext}"
            if source.exists():
                (Path(tmp) / source.name).write_bytes(source.read_bytes())
                paths.append(str(Path(tmp) / source.name))
        server, url = start_dashboard()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
                warm_up_s = time_browser_upload(browser, url, paths)
                if args.steps:
                    times = time_browser_upload(browser, url, paths, args.steps)
                else:
                    times = [time_browser_upload(browser, url, paths) for _ in range(args.repeats)]
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=15)
    median = statistics.median(times)
    if args.steps:
        print(format_table(["record", "beat steps", "median s", "min s", "max s"],
                           [[args.record, len(times), round(median, 2), round(min(times), 2), round(max(times), 2)]]))
        payload = {"record": args.record, "driver": "Playwright + Debian chromium, ecg dashboard on localhost",
                   "action": "PageDown on the ECG tab (next beat) after the upload",
                   "times_s": [round(t, 3) for t in times], "median_s": round(median, 3)}
        print(f"results: {write_results('dashboard_steps_browser', payload)}")
        return 0
    print(format_table(["record", "warm-up s", "median s", "min s", "max s", "target"],
                       [[args.record, round(warm_up_s, 2), round(median, 2), round(min(times), 2),
                         round(max(times), 2), f"<= {TARGET_S}"]]))
    payload = {"record": args.record, "driver": "Playwright + Debian chromium, ecg dashboard on localhost",
               "warm_up_s": round(warm_up_s, 3), "times_s": [round(t, 3) for t in times],
               "median_s": round(median, 3), "target_s": TARGET_S, "passed": median <= TARGET_S}
    print(f"results: {write_results('dashboard_speed_browser', payload)}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", default="208", help="MIT-BIH record (30 min) to upload (default: 208)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--record-dir", type=Path, default=None,
                        help="folder of the record (default: MIT-BIH); e.g. .cache/long with --record mitdb24h")
    parser.add_argument("--browser", action="store_true", help="time the flow in Debian chromium (Playwright)")
    parser.add_argument("--steps", type=int, default=0,
                        help="with --browser: time this many beat steps (PageDown) after one upload instead")
    parser.add_argument("--interactions", action="store_true",
                        help="time each interaction after one upload (default record: the 24-h one)")
    args = parser.parse_args(argv)
    if args.browser:
        return main_browser(args)
    if args.interactions:
        return main_interactions(args)
    files = read_upload(args.record_dir or default_data_dir(), args.record)
    upload_mb = sum(len(data) for _, data, _ in files) / 1e6
    warm_up_s, shown = time_upload(files)  # loads the model and compiles the classifier
    times = [time_upload(files)[0] for _ in range(args.repeats)]
    median = statistics.median(times)
    print(format_table(["record", "upload MB", "warm-up s", "median s", "min s", "max s", "target"],
                       [[args.record, round(upload_mb, 2), round(warm_up_s, 2), round(median, 2), round(min(times), 2),
                         round(max(times), 2), f"<= {TARGET_S}"]]))
    payload = {"record": args.record, "upload_mb": round(upload_mb, 3), "driver": "streamlit AppTest (no browser)",
               "model": "champion (registry default)", "warm_up_s": round(warm_up_s, 3),
               "times_s": [round(t, 3) for t in times], "median_s": round(median, 3), "target_s": TARGET_S,
               "passed": median <= TARGET_S, "page_shown": shown}
    name = "dashboard_speed" if args.record_dir is None else f"dashboard_speed_{args.record}"
    print(f"results: {write_results(name, payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
