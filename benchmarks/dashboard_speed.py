"""Dashboard speed: upload of a 30-minute record to the complete flagged view, with a warm model.

Drives the real page (``app/dashboard/main.py``) with ``streamlit.testing.v1.AppTest``: each repeat
opens a fresh session (so nothing of the upload is cached), shows the default sample, then uploads
the record's ``.hea``/``.dat``/``.atr`` bytes and times the script run that reads, analyses and renders
everything (summary, overview and detail charts, event list, reference comparison, downloads). The
model is loaded once beforehand (warm, as for every upload after the first); a warm-up upload is
not counted. Browser rendering is not included (the charts carry at most a few thousand points).

Usage: PYTHONPATH=. .venv/bin/python benchmarks/dashboard_speed.py [--record 208] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
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
    shown = {m.label: m.value for m in at.metric if m.label.endswith(" beats")}
    shown["regions_in_event_list"] = len(at.selectbox(key="event_choice").options) - 1
    shown["download_buttons"] = len(at.get("download_button"))
    return seconds, shown


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", default="208", help="MIT-BIH record (30 min) to upload (default: 208)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    files = read_upload(default_data_dir(), args.record)
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
    print(f"results: {write_results('dashboard_speed', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
