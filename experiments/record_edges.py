"""How the R-peak detector does at the start and the end of a recording, which EC57's detector figures leave out.

EC57 scores QRS detection from the fifth minute (``pipeline.scoring.SCORE_START_S``), so that a detector may learn
its thresholds first. The product has no such grace: ``ecg score``, the dashboard and the end-to-end classifier
figures take every beat from the first second, and the demo excerpts are the first minutes of their records.
Session 11 saw three false beats in the first 1.4 s of record 232 (a pause opens the record), two of them called V,
so that the sample's PDF opened with a false "ventricular couplet".

For every record of the database this script runs the product's detector (all leads, as ``ecg score`` does) and
counts, with the EC57 matching rules (150 ms, ventricular flutter excluded):

- ``first_10s`` / ``last_10s``: missed reference beats (FN) and extra detections (FP) in the first and last 10 s;
- ``first_5min``: the same over the part EC57 does not score;
- ``ec57``: the standard figures, from the fifth minute to the end.

It chooses nothing by itself; it is the measurement for a change to the detector's edge handling.

Usage: PYTHONPATH=. .venv/bin/python experiments/record_edges.py [--label NAME]   (about 1 min for 48 records)
Writes ``experiments/results/record_edges[-NAME].json``.
"""

from __future__ import annotations

import argparse
import subprocess
import time

import numpy as np

from app.config import require_data_dir
from experiments.s_rule_study import REPO_ROOT, write_results
from pipeline.detect import detect_record_peaks
from pipeline.records import read_record
from pipeline.scoring import SCORE_START_S, compare_beats

EDGE_S = 10.0
WINDOWS = ("first_10s", "last_10s", "first_5min", "ec57")


def window_bounds_s(duration_s: float) -> dict[str, tuple[float, float]]:
    """The scored windows of a record of ``duration_s`` seconds, as [start, stop) in seconds."""
    return {"first_10s": (0.0, EDGE_S), "last_10s": (duration_s - EDGE_S, np.inf),
            "first_5min": (0.0, SCORE_START_S), "ec57": (SCORE_START_S, np.inf)}


def count_edges(name: str, data_dir) -> dict:
    """FN and FP of one record in each window, with the times of the errors in the first and last 10 s."""
    record = read_record(data_dir / name, annotator="atr")
    detection = detect_record_peaks(record)
    match = compare_beats(record.annotations, detection.samples, record.fs_hz, record.n_samples, start_s=0.0)
    missed_s = record.annotations.samples[match.missed] / record.fs_hz
    extra_s = detection.samples[match.extra] / record.fs_hz
    out = {}
    for window, (lo, hi) in window_bounds_s(record.n_samples / record.fs_hz).items():
        fn = missed_s[(missed_s >= lo) & (missed_s < hi)]
        fp = extra_s[(extra_s >= lo) & (extra_s < hi)]
        out[window] = {"fn": int(fn.size), "fp": int(fp.size)}
        if window in ("first_10s", "last_10s"):
            out[window].update(fn_s=np.round(fn, 2).tolist(), fp_s=np.round(fp, 2).tolist())
    return out


def total(per_record: dict, window: str) -> dict:
    """FN and FP of one window summed over the records."""
    return {key: sum(r[window][key] for r in per_record.values()) for key in ("fn", "fp")}


def git_commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                          text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="", help="Suffix of the results file (e.g. the variant measured).")
    args = parser.parse_args()
    data_dir = require_data_dir(None)
    names = sorted(p.stem for p in data_dir.glob("*.hea"))
    started = time.perf_counter()
    per_record = {name: count_edges(name, data_dir) for name in names}
    totals = {window: total(per_record, window) for window in WINDOWS}
    print(f"{len(names)} records, {time.perf_counter() - started:.0f} s")
    for window in WINDOWS:
        print(f"{window:>10}: FN {totals[window]['fn']:4d}  FP {totals[window]['fp']:4d}")
    for name, r in per_record.items():
        edges = {w: r[w] for w in ("first_10s", "last_10s") if r[w]["fn"] or r[w]["fp"]}
        if edges:
            print(name, edges)
    suffix = f"-{args.label}" if args.label else ""
    write_results(REPO_ROOT / "experiments" / "results" / f"record_edges{suffix}.json",
                  {"command": "PYTHONPATH=. .venv/bin/python experiments/record_edges.py"
                   + (f" --label {args.label}" if args.label else ""),
                   "commit": git_commit(), "records": len(names), "edge_s": EDGE_S, "totals": totals,
                   "per_record": per_record})


if __name__ == "__main__":
    main()
