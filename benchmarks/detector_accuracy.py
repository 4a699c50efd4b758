"""QRS detection accuracy of our detector on MIT-BIH (AAMI EC57 beat-by-beat, as WFDB bxb).

Runs ``detect_r_peaks`` on all ECG leads of each record, matches its beats to the reference
within 150 ms from 5 minutes on (ventricular flutter excluded) and reports per-record and
gross Se / +P with FN / FP against the project's target (both >= 99.8 %). The evaluation itself
is :func:`pipeline.detector_eval.evaluate_detector` (the same as ``ecg evaluate-detector``);
this script adds the target check and the benchmark results file.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/detector_accuracy.py              # all 48 records
    PYTHONPATH=. .venv/bin/python benchmarks/detector_accuracy.py --records 100,101

References
----------
ANSI/AAMI EC57:2012; WFDB ``bxb``. Published: Pan-Tompkins re-implemented 98.87 / 99.14 %;
Kim J, Shin H, PLoS ONE 11(3):e0150144, 2016: 99.90 / 99.91 %.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.common import (counts_dict, default_data_dir, format_table, parse_records, pct_text,
                               write_results)
from pipeline.detector_eval import DetectorReport, evaluate_detector
from pipeline.scoring import DetectionCounts

TARGET_SE_PCT = 99.8
TARGET_PPV_PCT = 99.8


def passes_target(report: DetectorReport) -> bool:
    """True when every record was evaluated and gross Se and +P both reach the targets."""
    gross = report.gross
    return (not report.failures and 100 * gross.sensitivity >= TARGET_SE_PCT
            and 100 * gross.positive_predictivity >= TARGET_PPV_PCT)


def report_table(per_record: dict[str, DetectionCounts], gross: DetectionCounts) -> str:
    """Per-record rows, then the gross row (pooled counts)."""
    headers = ["record", "ref beats", "TP", "FN", "FP", "Se %", "+P %"]
    rows = [[name, c.tp + c.fn, c.tp, c.fn, c.fp, pct_text(c.sensitivity), pct_text(c.positive_predictivity)]
            for name, c in per_record.items()]
    rows.append(["gross", gross.tp + gross.fn, gross.tp, gross.fn, gross.fp,
                 pct_text(gross.sensitivity), pct_text(gross.positive_predictivity)])
    return format_table(headers, rows)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", default="all", help="'all', 'ds1', 'ds2' or a comma list (default all)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="MIT-BIH directory")
    parser.add_argument("--out-name", default="detector_accuracy", help="results file name (no extension)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    names = parse_records(args.records)
    start = time.perf_counter()
    report = evaluate_detector(args.data_dir, names)
    per_record = {e.record: e.counts for e in report.evaluations}
    gross = report.gross
    passed = passes_target(report)
    print(report_table(per_record, gross))
    for failure in report.failures:
        print(f"FAILED {failure.record}: {failure.error}")
    print(f"\ntarget Se >= {TARGET_SE_PCT} % and +P >= {TARGET_PPV_PCT} %: {'PASS' if passed else 'FAIL'}")
    path = write_results(args.out_name, {
        "records": list(names),
        "scoring": "AAMI EC57 / bxb: 150 ms window, from 300 s, VF episodes excluded",
        "detector": report.settings.get("detector"),
        "target_pct": {"se": TARGET_SE_PCT, "ppv": TARGET_PPV_PCT},
        "passed": passed,
        "gross": counts_dict(gross),
        "per_record": {name: counts_dict(c) for name, c in per_record.items()},
        "failures": {f.record: f.error for f in report.failures},
        "elapsed_s": round(time.perf_counter() - start, 2),
    })
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
