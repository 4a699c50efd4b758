"""QRS detection from one lead for a whole record: Se / +P when the other lead is missing throughout.

A one-lead recording, or a two-lead one whose other electrode was off all along, leaves the detector one lead. Each
record gets its other lead (``lead missing: other``) or its primary lead (MLII in 46 of 48; ``lead missing: primary``)
set missing (NaN) from end to end, as the product reads a lead that is flat or missing throughout, and
``detect_record_peaks`` runs on it; the detected beats are scored against the reference with the EC57 rules (from
5 minutes, within 150 ms), as ``ecg evaluate-detector`` scores the two-lead detector.

Written for a QA pass of session 47, which found MIT-BIH 208 read from V1 alone losing a third of its beats (its
normal beats are small in V1 beside its large ventricular ones), so that the heart rate and the ventricular burden
came out wrong with no specific warning. The figures say where one-lead detection holds and where it does not.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/detector_one_lead.py                 # all 48 records (about 2 min)
    PYTHONPATH=. .venv/bin/python benchmarks/detector_one_lead.py --records 208,101 --no-write
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from benchmarks.common import (counts_dict, format_table, read_record_args, score_detection, sum_counts,
                               write_results)
from pipeline.datasets import order_leads
from pipeline.detect import detect_record_peaks

MISSING = {"other": 1, "primary": 0}
"""Which lead is missing throughout, as its place in :func:`pipeline.datasets.order_leads` (primary first)."""


def drop_lead(record, which: int):
    """The record with its primary (``which`` 0) or other lead (1) missing from end to end."""
    signal = record.signal_mv.copy()
    signal[:, order_leads(signal.shape[1], record.primary_lead)[which]] = np.nan
    return replace(record, signal_mv=signal)


def run(records) -> dict:
    out = {"by_record": {}}
    pooled = {name: [] for name in MISSING}
    for record in records:
        row = {}
        for name, which in MISSING.items():
            counts = score_detection(record, detect_record_peaks(drop_lead(record, which)).samples)
            pooled[name].append(counts)
            row[f"{name}_missing"] = counts_dict(counts)
        out["by_record"][record.name] = row
        print(record.name, {k: (v["se_pct"], v["ppv_pct"]) for k, v in row.items()}, flush=True)
    for name, counts in pooled.items():
        out[f"{name}_missing"] = counts_dict(sum_counts(counts))
    return out


def main(argv=None) -> int:
    records, write = read_record_args(__doc__.splitlines()[0], argv)
    results = run(records)
    rows = []
    for name in MISSING:
        key = f"{name}_missing"
        below = sorted((r, v[key]["se_pct"]) for r, v in results["by_record"].items() if v[key]["se_pct"] < 97.0)
        rows.append([name, f"{results[key]['se_pct']:.2f}", f"{results[key]['ppv_pct']:.2f}",
                     ", ".join(f"{r} {se:.1f}" for r, se in below) or "-"])
    print(format_table(["lead missing", "Se (%)", "+P (%)", "records under 97 % Se (Se %)"], rows))
    if write:
        print(write_results("detector_one_lead", results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
