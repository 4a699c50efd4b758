"""Can paced beats be told from the others by their timing on MIT-BIH? (Session 15, a question before building any
paced-beat recognition.)

A demand pacemaker fires at its escape interval, so paced beats might be expected to follow more regular intervals
than sinus beats. For each of the 48 records, on the reference annotations: for the beats of each MIT-BIH label with
at least 50 beats, the median interval before them, the share within 15 ms of that median, and the median absolute
difference between successive such intervals. The paced labels are ``/`` (paced) and ``f`` (fusion of paced and
normal). Nothing is chosen from this; it is the reason paced-beat recognition was not built (the closing note of
session 15).

Usage: PYTHONPATH=. .venv/bin/python experiments/paced_rhythm.py. Writes ``experiments/results/paced_rhythm.json``.
"""

from __future__ import annotations

import numpy as np

from app.config import require_data_dir
from experiments.s_rule_study import REPO_ROOT, write_results
from pipeline.labels import is_beat_symbol
from pipeline.records import read_annotations
from pipeline.splits import records_for_split

MIN_BEATS = 50


def study_record(path) -> dict:
    """Per label: beats, median preceding interval (ms), share within 15 ms of it, median successive difference."""
    annotations = read_annotations(path, "atr", source_fs_hz=360.0, target_fs_hz=360.0)
    beats = annotations.select(is_beat_symbol(annotations.symbols))
    rr_ms = np.diff(beats.samples) / 360.0 * 1000.0
    labels = beats.symbols[1:]
    rows = {}
    for label in sorted(set(labels.tolist())):
        intervals = rr_ms[labels == label]
        if len(intervals) < MIN_BEATS:
            continue
        median = float(np.median(intervals))
        rows[label] = {"beats": int(len(intervals)), "median_rr_ms": round(median, 1),
                       "within_15_ms": round(float(np.mean(np.abs(intervals - median) <= 15.0)), 3),
                       "median_successive_difference_ms": round(float(np.median(np.abs(np.diff(intervals)))), 1)}
    return rows


def main() -> None:
    data_dir = require_data_dir(None)
    records = {name: study_record(data_dir / name) for name in records_for_split("all")}
    paced = {name: rows["/"] for name, rows in records.items() if "/" in rows}
    normal = [rows["N"]["median_successive_difference_ms"] for rows in records.values() if "N" in rows]
    summary = {
        "paced_median_successive_difference_ms": {name: row["median_successive_difference_ms"]
                                                  for name, row in paced.items()},
        "normal_median_successive_difference_ms_range": [min(normal), max(normal)],
        "normal_median_successive_difference_ms_median": round(float(np.median(normal)), 1),
        "records_with_normal_beats": len(normal),
    }
    for key, value in summary.items():
        print(f"{key}: {value}")
    write_results(REPO_ROOT / "experiments" / "results" / "paced_rhythm.json", {"summary": summary,
                                                                               "records": records})


if __name__ == "__main__":
    main()
