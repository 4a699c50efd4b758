"""Ventricular flutter/fibrillation detector: its minimum episode duration, chosen on DS1.

The detector (:mod:`pipeline.fibrillation`) takes the VF filter's leakage threshold (0.625, Kuo and Dillman 1978)
and its frequency band (2-10 Hz here, as first set) from the literature and physiology; the choice left is the
shortest stretch reported. (The band's upper edge and a wave-rate check were set afterwards for single-lead
recordings, ``experiments/vf_single_lead_study.py``; this study keeps its first settings, so that it reproduces.) DS1 holds MIT-BIH's only ventricular flutter (record 207: six episodes of 4-98 s between the reference
``[`` and ``]`` marks) and the other 21 DS1 records give the false detections (205's fast ventricular tachycardia
counts as false: its reference is ``(VT``). The whole record is scored (EC57 starts at 5 minutes, which would leave
one of 207's six episodes), each record with the product's own quality spans.

Grid: ``min_duration_s`` 1-6 s (merge gap 1 s, one hop) x ``leads`` "all" (every usable lead must look like VF)
or "any" (one is enough; added after the first run, with "all" only, found 207's long episode broken where one
lead looks like VF and the other does not). Criterion, written before the run: the highest pooled
DS1 duration F1 (2 Se +P / (Se + +P), durations against the reference ``[``...``]`` stretches); ties go to the
shorter minimum (an alarm should not wait). DS2 is not read; ``ecg evaluate-regions`` reports it afterwards.

Usage: PYTHONPATH=. .venv/bin/python experiments/vf_study.py   (about 30 s)
"""

from __future__ import annotations

import dataclasses
import itertools

from app.config import require_data_dir
from experiments.s_rule_study import BUNDLED_CONFIG, results_path, write_results
from pipeline.fibrillation import FibrillationSettings, find_fibrillation_intervals
from pipeline.quality import find_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import EpisodeCounts, compare_episodes
from pipeline.rhythm_annotations import flutter_intervals
from pipeline.splits import DS1

MIN_DURATIONS_S = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
LEADS = ("all", "any")
FIRST_SETTINGS = FibrillationSettings(band_hz=(2.0, 10.0), min_rate_bpm=0.0, merge_gap_s=1.0)


def score_setting(items: list, settings: FibrillationSettings) -> dict:
    """Pooled duration and episode figures of one setting over ``items`` (name, record, quality spans, detected beats
    or None, reference stretches), whole records, with the false seconds per record."""
    counts, false_by_record, stretches = EpisodeCounts(), {}, 0
    for name, record, spans, beats, reference in items:
        test = find_fibrillation_intervals(record.signal_mv, record.fs_hz, spans, settings, beats)
        c = compare_episodes(reference, test, record.fs_hz, start_s=0.0)
        counts, stretches = counts + c, stretches + len(test)
        if c.test_s > c.overlap_test_s:
            false_by_record[name] = round(c.test_s - c.overlap_test_s, 1)
    se, pp = counts.duration_sensitivity, counts.duration_predictivity
    f1 = 2 * se * pp / (se + pp) if se + pp > 0 else 0.0
    return {"duration_se": round(100 * se, 1), "duration_pp": round(100 * pp, 1), "f1": round(f1, 4),
            "episodes_found": counts.detected, "episodes_missed": counts.missed, "test_confirmed": counts.confirmed,
            "test_false": counts.false, "test_stretches": stretches, "reference_s": round(counts.reference_s, 1),
            "test_s": round(counts.test_s, 1), "false_s": round(sum(false_by_record.values()), 1),
            "false_s_by_record": false_by_record}


def main() -> None:
    data_dir = require_data_dir(None)
    records = []
    for name in DS1:
        record = read_record(data_dir / name, annotator="atr")
        spans = find_quality_spans(record.signal_mv, record.fs_hz)
        records.append((name, record, spans, None, flutter_intervals(record.annotations, record.n_samples)))
    rows = {}
    for leads, min_duration_s in itertools.product(LEADS, MIN_DURATIONS_S):
        settings = dataclasses.replace(FIRST_SETTINGS, min_duration_s=min_duration_s, leads=leads)
        key = f"leads={leads} min={min_duration_s:g} s"
        rows[key] = r = score_setting(records, settings)
        print(f"{key}: duration Se {r['duration_se']} +P {r['duration_pp']} F1 {r['f1']}; "
              f"episodes {r['episodes_found']}/{r['episodes_found'] + r['episodes_missed']} found, "
              f"{r['test_false']} false of {r['test_confirmed'] + r['test_false']}; false s {r['false_s_by_record']}")
    best = max(rows, key=lambda k: (rows[k]["f1"], -float(k.split("=")[-1].split()[0])))
    print(f"chosen: {best}")
    write_results(results_path("vf_study", BUNDLED_CONFIG),
                  {"split": "ds1", "settings": FIRST_SETTINGS.to_dict(), "rows": rows, "chosen": best})


if __name__ == "__main__":
    main()
