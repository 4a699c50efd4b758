"""QRS detection when one lead comes off for a while: Se / +P of the beats inside the gaps.

A loose Holter electrode leaves one channel missing (NaN) while the other records. Each record gets its primary lead
(MLII in 46 of 48) or its other lead blanked for 10 s of every minute from 20 s on; ``detect_record_peaks`` runs on the
blanked record, and the reference beats inside the gaps (from 5 minutes, EC57's start) are matched to detected beats
within 150 ms (each detected beat used once, nearest first): Se = matched reference beats / reference beats in the
gaps, +P = matched detected beats / detected beats in the gaps. The whole-record EC57 counts are written too.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/detector_lead_gaps.py                 # all 48 records
    PYTHONPATH=. .venv/bin/python benchmarks/detector_lead_gaps.py --records 106,203 --no-write
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from benchmarks.common import (counts_dict, format_table, pct_text, read_record_args, score_detection, sum_counts,
                               write_results)
from pipeline.datasets import order_leads
from pipeline.detect import detect_record_peaks
from pipeline.scoring import BEAT_SYMBOLS, SCORE_START_S

GAP_S, EVERY_S, FIRST_S = 10.0, 60.0, 20.0
MATCH_S = 0.15


def find_gaps(n_samples: int, fs_hz: float) -> np.ndarray:
    """Boolean per sample: inside one of the blanked stretches."""
    t = np.arange(n_samples) / fs_hz
    return (t >= FIRST_S) & ((t - FIRST_S) % EVERY_S < GAP_S)


def blank_lead(record, which: int):
    """The record with its primary (``which`` 0) or other lead (1) missing in the gaps."""
    signal = record.signal_mv.copy()
    signal[find_gaps(record.n_samples, record.fs_hz), order_leads(signal.shape[1], record.primary_lead)[which]] = np.nan
    return replace(record, signal_mv=signal)


def count_in_gaps(record, detected: np.ndarray) -> dict:
    """Reference beats, matched ones and detected beats inside the gaps, from :data:`SCORE_START_S`."""
    gaps = find_gaps(record.n_samples, record.fs_hz)
    start = int(SCORE_START_S * record.fs_hz)
    reference = record.annotations.samples[np.isin(record.annotations.symbols, BEAT_SYMBOLS)]
    reference = reference[(reference >= start) & gaps[reference]]
    detected = detected[(detected >= start) & gaps[detected]]
    window = MATCH_S * record.fs_hz
    free = np.ones(detected.size, bool)
    matched = 0
    for r in reference:
        distance = np.where(free, np.abs(detected - r), np.inf)
        if distance.size and distance.min() <= window:
            free[np.argmin(distance)] = False
            matched += 1
    return {"reference": int(reference.size), "matched": matched, "detected": int(detected.size)}


def run(records) -> dict:
    out = {"gaps": {"gap_s": GAP_S, "every_s": EVERY_S, "first_s": FIRST_S}, "by_record": {}}
    whole = {"primary_blanked": [], "other_blanked": []}
    for record in records:
        row = {}
        for which, name in enumerate(whole):
            detected = detect_record_peaks(blank_lead(record, which)).samples
            whole[name].append(score_detection(record, detected))
            row[name] = {"in_gaps": count_in_gaps(record, detected), "whole_record": counts_dict(whole[name][-1])}
        out["by_record"][record.name] = row
        print(record.name, {k: v["in_gaps"] for k, v in row.items()}, flush=True)
    for name, counts in whole.items():
        gaps = {k: sum(r[name]["in_gaps"][k] for r in out["by_record"].values())
                for k in ("reference", "matched", "detected")}
        out[name] = {"in_gaps": gaps | {"se": gaps["matched"] / max(gaps["reference"], 1),
                                        "ppv": gaps["matched"] / max(gaps["detected"], 1)},
                     "whole_record": counts_dict(sum_counts(counts))}
    return out


def main(argv=None) -> int:
    records, write = read_record_args(__doc__.splitlines()[0], argv)
    results = run(records)
    rows = [[name, results[name]["in_gaps"]["reference"], pct_text(results[name]["in_gaps"]["se"]),
             pct_text(results[name]["in_gaps"]["ppv"])] for name in ("primary_blanked", "other_blanked")]
    print(format_table(["lead blanked", "reference beats in gaps", "Se", "+P"], rows))
    if write:
        print(write_results("detector_lead_gaps", results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
