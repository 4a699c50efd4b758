"""Why record 205's fast ventricular tachycardia comes out as flutter: the rates of MIT-BIH's flutter and of that VT.

Session 10 left this confusion open (REGIONS.md): the flutter detector (:mod:`pipeline.fibrillation`) reports two
stretches of 205's VT (reference ``(VT``) as ventricular flutter/fibrillation. A rate limit (flutter is often
described as 250-300/min) would be the obvious separation. This script measures, on DS1 records 205 and 207 only,
with the product's own beat detector and quality spans:

- for each reference ``[``...``]`` flutter stretch (207) and each reference ``(VT`` episode of at least three
  detected beats (205, 207), the median rate of the detected beats inside it;
- for each stretch the detector reports, the rate of the detected beats and the median oscillation frequency the
  VF filter measures in each lead (its mean half-period, 4 s windows with 2 s of signal on each side).

It chooses nothing; it says whether a rate or frequency limit could tell the two apart on MIT-BIH.

Usage: PYTHONPATH=. .venv/bin/python experiments/vf_vt_rates.py   (about 10 s)
"""

from __future__ import annotations

import numpy as np

from app.config import require_data_dir
from experiments.s_rule_study import REPO_ROOT, write_results
from pipeline.detect import detect_record_peaks
from pipeline.fibrillation import (
    FibrillationSettings,
    filter_lead,
    find_fibrillation_intervals,
    measure_leakage,
    wave_rates_bpm,
    window_lengths,
)
from pipeline.quality import find_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import episode_intervals
from pipeline.rhythm_annotations import flutter_intervals

RECORDS = ("205", "207")
MARGIN_S = 2.0


def median_rate_bpm(beats: np.ndarray, start: int, stop: int, fs_hz: float) -> float | None:
    """Median rate of the beats inside [start, stop); None under three beats."""
    inside = beats[(beats >= start) & (beats < stop)]
    return round(60.0 * fs_hz / float(np.median(np.diff(inside))), 1) if len(inside) >= 3 else None


def oscillation_per_min(signal_mv: np.ndarray, fs_hz: float, start: int, stop: int) -> list[float]:
    """Per lead, the median oscillation frequency (per minute) the VF filter measures over a stretch."""
    margin = int(MARGIN_S * fs_hz)
    out = []
    for lead in range(signal_mv.shape[1]):
        x, rate_hz = filter_lead(signal_mv[max(start - margin, 0):stop + margin, lead], fs_hz)
        window, hop = window_lengths(rate_hz, FibrillationSettings())
        starts = np.arange(0, max(len(x) - window, 0) + 1, hop)
        _, frequency_hz = measure_leakage(x, starts, window, rate_hz)
        out.append(round(60.0 * float(np.median(frequency_hz)), 1))
    return out


def main() -> None:
    data_dir = require_data_dir(None)
    results = {}
    for name in RECORDS:
        record = read_record(data_dir / name, annotator="atr")
        fs = record.fs_hz
        beats = detect_record_peaks(record).wave_samples
        spans = find_quality_spans(record.signal_mv, fs)
        found = find_fibrillation_intervals(record.signal_mv, fs, spans, FibrillationSettings(), beats)
        rows = {
            "reference_flutter": [{"start_s": round(a / fs, 1), "stop_s": round(b / fs, 1),
                                   "rate_bpm": median_rate_bpm(beats, a, b, fs)}
                                  for a, b in flutter_intervals(record.annotations, record.n_samples)],
            "reference_vt": [{"start_s": round(a / fs, 1), "stop_s": round(b / fs, 1),
                              "rate_bpm": median_rate_bpm(beats, a, b, fs)}
                             for a, b in episode_intervals(record.annotations, "(VT", record.n_samples)
                             if median_rate_bpm(beats, a, b, fs) is not None],
            "detected_stretches": [{"start_s": round(a / fs, 1), "stop_s": round(b / fs, 1),
                                    "rate_bpm": round(float(rate), 1),
                                    "oscillation_per_min": oscillation_per_min(record.signal_mv, fs, a, b)}
                                   for (a, b), rate in zip(found, wave_rates_bpm(found, beats, fs))],
        }
        results[name] = rows
        for kind, items in rows.items():
            rates = [item["rate_bpm"] for item in items if item["rate_bpm"] is not None]
            if rates:
                print(f"{name} {kind}: {len(items)}, detected-beat rates {min(rates):g}-{max(rates):g}/min"
                      + ("; oscillation " + ", ".join(str(i["oscillation_per_min"]) for i in items)
                         if kind == "detected_stretches" else ""))
    write_results(REPO_ROOT / "experiments" / "results" / "vf_vt_rates.json", results)


if __name__ == "__main__":
    main()
