"""Detection speed of our detector against NeuroKit2 (and optionally wfdb's XQRS), side by side.

All records are read once before any timing. Each method then processes every record in turn
and the total is timed with ``time.perf_counter`` in this single process; the best total of
``--repeats`` runs is reported (the least disturbed by other load), with seconds per hour of
ECG. Accuracy of each method under the same EC57 scoring is given for reference.

- ours: ``detect_r_peaks(record.signal_mv, fs)`` on all ECG leads, our own filtering included.
- neurokit2: ``nk.ecg_clean(x, sampling_rate=360)`` then ``nk.ecg_peaks(cleaned, sampling_rate=360)``
  (default "neurokit" method) on the primary lead.
- xqrs (``--with-xqrs``, slow): ``wfdb.processing.xqrs_detect(x, fs)`` on the primary lead.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/detector_speed.py                 # 48 records, 3 repeats
    PYTHONPATH=. .venv/bin/python benchmarks/detector_speed.py --records 100,101 --repeats 1

References
----------
Makowski D et al., "NeuroKit2: A Python toolbox for neurophysiological signal processing",
Behav Res Methods 53:1689-1696, 2021. Xie C et al., wfdb-python ``processing.XQRS``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable

import numpy as np

from benchmarks.common import (counts_dict, default_data_dir, format_table, load_records, parse_records,
                               score_detection, sum_counts, write_results)
from pipeline.detect import detect_record_peaks
from pipeline.types import Record

Detector = Callable[[Record], np.ndarray]


def detect_ours(record: Record) -> np.ndarray:
    """Our full detection (own filtering included) on all ECG leads."""
    return detect_record_peaks(record).samples


def detect_neurokit(record: Record) -> np.ndarray:
    """NeuroKit2 default cleaning and peaks on the primary lead."""
    import neurokit2 as nk

    x = record.signal_mv[:, record.primary_lead].astype(np.float64)
    fs = int(record.fs_hz)
    cleaned = nk.ecg_clean(x, sampling_rate=fs)
    _, info = nk.ecg_peaks(cleaned, sampling_rate=fs)
    return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)


def detect_xqrs(record: Record) -> np.ndarray:
    """wfdb's XQRS on the primary lead (the only place outside pipeline/records.py importing wfdb)."""
    import wfdb.processing

    x = record.signal_mv[:, record.primary_lead].astype(np.float64)
    return np.asarray(wfdb.processing.xqrs_detect(x, fs=record.fs_hz, verbose=False), dtype=np.int64)


def time_method(detector: Detector, records: list[Record], repeats: int) -> tuple[list[float], list[np.ndarray]]:
    """Total seconds over all records for each repeat, and the detections of the last repeat."""
    totals, detections = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        detections = [detector(record) for record in records]
        totals.append(time.perf_counter() - start)
    return totals, detections


def benchmark(methods: dict[str, Detector], records: list[Record], repeats: int) -> dict:
    """Timing and pooled accuracy of each method on the same records."""
    hours = sum(r.duration_s for r in records) / 3600
    results = {}
    for name, detector in methods.items():
        totals, detections = time_method(detector, records, repeats)
        gross = sum_counts(score_detection(r, d) for r, d in zip(records, detections))
        best = min(totals)
        results[name] = {"best_total_s": round(best, 3), "all_totals_s": [round(t, 3) for t in totals],
                         "s_per_hour_ecg": round(best / hours, 4), "x_realtime": int(round(hours * 3600 / best)),
                         "gross": counts_dict(gross)}
    return results


def report_table(results: dict) -> str:
    """One row per method: best total time, time per hour of ECG, pooled accuracy."""
    headers = ["method", "best total s", "s per h ECG", "x real time", "Se %", "+P %", "FN", "FP"]
    rows = [[name, r["best_total_s"], r["s_per_hour_ecg"], r["x_realtime"], _two_decimals(r["gross"]["se_pct"]),
             _two_decimals(r["gross"]["ppv_pct"]), r["gross"]["fn"], r["gross"]["fp"]] for name, r in results.items()]
    return format_table(headers, rows)


def _two_decimals(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", default="all", help="'all', 'ds1', 'ds2' or a comma list (default all)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method; the best is kept")
    parser.add_argument("--with-xqrs", action="store_true", help="also time wfdb's XQRS (slow, about 115 s a run)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="MIT-BIH directory")
    parser.add_argument("--out-name", default="detector_speed", help="results file name (no extension)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"Received --repeats {args.repeats}; expected a positive integer.")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    names = parse_records(args.records)
    records = load_records(names, args.data_dir)
    import neurokit2  # noqa: F401  (imported before timing so that import costs are not counted)

    methods: dict[str, Detector] = {"ours": detect_ours, "neurokit2": detect_neurokit}
    if args.with_xqrs:
        import wfdb.processing  # noqa: F401

        methods["xqrs"] = detect_xqrs
    results = benchmark(methods, records, args.repeats)
    hours = sum(r.duration_s for r in records) / 3600
    print(f"{len(records)} records, {hours:.2f} h of ECG, best of {args.repeats}")
    print(report_table(results))
    path = write_results(args.out_name, {"records": list(names), "repeats": args.repeats,
                                         "hours_ecg": round(hours, 3), "methods": results})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
