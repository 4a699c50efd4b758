"""How far the detected RR intervals next to ventricular beats are from the reference ones (MIT-BIH).

A clinical read of the reports (session 38) found a ventricular couplet of record 208 shown at 78 bpm where the
reference beat times give 104 bpm: on a wide ventricular beat the detector's fiducial point can lie 80-100 ms from
the annotated one (EXPERIMENTS.md row N), and not by the same amount on every beat, so an interval between two such
beats, or between one and a normal beat, is wrong by that much. Event rates (a couplet's, a run's, the VT and
idioventricular decisions at 100 bpm) and coupling intervals are read off these intervals.

For every pair of consecutive reference beats (AAMI classes, Q left out) that both match a detected beat within
150 ms (:func:`pipeline.scoring.match_beats`), the detected interval is compared with the reference one, by the pair's
classes (N-N, N-V, V-N, V-V); the same with both sets of positions moved to the same point of their QRS by
:func:`pipeline.segment.time_beats` (row N's anchoring on the cleaned primary lead: where the product reports beats
since session 39, while the classifier keeps the detector's positions). Reports the median absolute error (ms) and the share of intervals off by more than 50 ms,
and for V-V pairs the share whose rate differs by more than 10 bpm. Whole records; chooses nothing.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/ectopic_interval_error.py [--records all|ds1|ds2|100,101]  (about 2 min)

Results go to ``benchmarks/results/ectopic_interval_error-reported-RECORDS.json`` (session 38's, from
``anchor_beats`` on the lead at the record's primary index of the reordered cleaned signal, in
``ectopic_interval_error-all.json``).
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import default_data_dir, format_table, parse_records, write_results
from models.evaluate import reference_classes
from models.prepare import InputSettings, clean_record
from pipeline.detect import detect_record_peaks
from pipeline.records import read_record
from pipeline.scoring import match_beats
from pipeline.segment import time_beats

PAIRS = ("N-N", "N-V", "V-N", "V-V")
CLASS_LETTERS = "NSVFQ"
OFF_MS = 50.0
OFF_BPM = 10.0


def measure_record(name: str, data_dir) -> dict[str, dict[str, list]]:
    """Per pair kind, the reference intervals (s) and the detected ones, raw and anchored."""
    record = read_record(data_dir / name)
    classes = reference_classes(record.annotations)
    keep = (classes >= 0) & (classes != CLASS_LETTERS.index("Q"))
    reference, classes = record.annotations.samples[keep], classes[keep]
    detected = detect_record_peaks(record).samples
    ref_index, det_index = match_beats(reference, detected, record.fs_hz)
    matched = np.full(len(reference), -1)
    matched[ref_index] = det_index
    lead = clean_record(record, InputSettings())[:, :1]  # the primary lead, which clean_record puts first
    anchored_detected = time_beats(lead, detected, record.fs_hz)
    anchored_reference = time_beats(lead, reference, record.fs_hz)
    both = (matched[:-1] >= 0) & (matched[1:] >= 0)
    out = {pair: {"reference": [], "raw": [], "anchored": [], "anchored_reference": []} for pair in PAIRS}
    for k in np.flatnonzero(both):
        pair = f"{CLASS_LETTERS[classes[k]]}-{CLASS_LETTERS[classes[k + 1]]}"
        if pair not in out:
            continue
        a, b = matched[k], matched[k + 1]
        out[pair]["reference"].append((reference[k + 1] - reference[k]) / record.fs_hz)
        out[pair]["raw"].append((detected[b] - detected[a]) / record.fs_hz)
        out[pair]["anchored"].append((anchored_detected[b] - anchored_detected[a]) / record.fs_hz)
        out[pair]["anchored_reference"].append((anchored_reference[k + 1] - anchored_reference[k]) / record.fs_hz)
    return out


def summarise(reference: np.ndarray, test: np.ndarray, pair: str) -> dict:
    """Median absolute error (ms), share off by more than :data:`OFF_MS`, and for V-V pairs by :data:`OFF_BPM`."""
    if not len(reference):
        return {"intervals": 0}
    error_ms = 1000.0 * np.abs(test - reference)
    row = {"intervals": int(len(reference)), "median_abs_error_ms": round(float(np.median(error_ms)), 1),
           "off_over_50_ms_pct": round(100.0 * float(np.mean(error_ms > OFF_MS)), 1)}
    if pair == "V-V":
        with np.errstate(divide="ignore"):
            rate_error = np.abs(60.0 / test - 60.0 / reference)
        row["rate_off_over_10_bpm_pct"] = round(100.0 * float(np.mean(rate_error > OFF_BPM)), 1)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="all", help="all, ds1, ds2 or a comma-separated list (default all)")
    args = parser.parse_args(argv)
    data_dir = default_data_dir()
    pooled = {pair: {key: [] for key in ("reference", "raw", "anchored", "anchored_reference")} for pair in PAIRS}
    for name in parse_records(args.records):
        for pair, values in measure_record(name, data_dir).items():
            for key, items in values.items():
                pooled[pair][key].extend(items)
    results = {}
    for pair, values in pooled.items():
        reference = np.asarray(values["reference"])
        results[pair] = {"detected_vs_reference": summarise(reference, np.asarray(values["raw"]), pair),
                         "both_anchored": summarise(np.asarray(values["anchored_reference"]),
                                                    np.asarray(values["anchored"]), pair),
                         "anchored_detected_vs_reference": summarise(reference, np.asarray(values["anchored"]),
                                                                     pair)}
    rows = [[pair, way.replace("_", " "), r.get("intervals", 0), r.get("median_abs_error_ms", "-"),
             r.get("off_over_50_ms_pct", "-"), r.get("rate_off_over_10_bpm_pct", "")]
            for pair, ways in results.items() for way, r in ways.items()]
    print(format_table(["pair", "positions", "intervals", "median |error| ms", "> 50 ms %", "V-V rate > 10 bpm %"],
                       rows))
    path = write_results(f"ectopic_interval_error-reported-{args.records.replace(',', '_')}", {"records": args.records,
                                                                                      "pairs": results})
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
