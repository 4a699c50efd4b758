"""Where the reference and the detector put each DS1 beat, before and after anchoring (EXPERIMENTS.md row N).

For every DS1 record: the reference beats with an AAMI class, the project's detected beats, matched one to one
within 150 ms. Reported per AAMI class: how often the detector's fiducial point lies more than 40 ms from the
annotation's (per record for the V beats), and with ``pipeline.segment.anchor_beats`` (row N's settings) how often
the anchors of the two positions differ by more than 20 ms, how far anchoring moves normal beats (median absolute
deviation per record) and how far it moves V beats from the annotation. No classifier, labels only as classes.
DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/anchor_geometry.py   (about 1 minute)
"""

from __future__ import annotations

import numpy as np

from app.config import require_data_dir
from experiments.s_rule_study import REPO_ROOT, write_results
from models.evaluate import reference_classes
from models.prepare import InputSettings, clean_record
from pipeline.detect import detect_record_peaks
from pipeline.records import read_record
from pipeline.scoring import match_beats
from pipeline.segment import anchor_beats
from pipeline.splits import DS1
from pipeline.types import SegmentationSettings

RESULTS = REPO_ROOT / "experiments" / "results" / "anchor_geometry.json"
ANCHORED = SegmentationSettings(anchor_search_s=0.08, anchor_smooth_s=0.1, anchor_fine_s=0.1)
CLASSES = "NSVF"


def main() -> int:
    raw = {c: [] for c in CLASSES}
    anchored = {c: [] for c in CLASSES}
    v_shift, n_jitter, per_record_v = [], {}, {}
    for name in DS1:
        record = read_record(require_data_dir(None) / name)
        classes = reference_classes(record.annotations)
        keep = classes >= 0
        reference, classes = record.annotations.samples[keep], classes[keep]
        detected = detect_record_peaks(record).samples
        ref_index, det_index = match_beats(reference, detected, record.fs_hz)
        ref, det, cls = reference[ref_index], detected[det_index], classes[ref_index]
        lead = clean_record(record, InputSettings())[:, 0]
        ref_anchor = anchor_beats(lead, reference, record.fs_hz, ANCHORED)[ref_index]
        det_anchor = anchor_beats(lead, detected, record.fs_hz, ANCHORED)[det_index]
        to_ms = 1000.0 / record.fs_hz
        for k, c in enumerate(CLASSES):
            raw[c].extend(np.abs(det - ref)[cls == k] * to_ms)
            anchored[c].extend(np.abs(det_anchor - ref_anchor)[cls == k] * to_ms)
        moved_n = (ref_anchor - ref)[cls == 0] * to_ms
        n_jitter[name] = float(np.median(np.abs(moved_n - np.median(moved_n))))
        is_v = cls == 2
        moved_v = (ref_anchor - ref)[is_v] * to_ms
        v_shift.extend(moved_v)
        if is_v.sum() >= 20:
            per_record_v[name] = {"v_beats": int(is_v.sum()),
                                  "detector_minus_reference_median_ms": float(np.median((det - ref)[is_v] * to_ms)),
                                  "anchor_minus_reference_median_ms": float(np.median(moved_v))}
    out = {"settings": ANCHORED.to_dict(),
           "detector_vs_reference_over_40ms": {c: float(np.mean(np.array(raw[c]) > 40)) for c in CLASSES},
           "anchors_differ_over_20ms": {c: float(np.mean(np.array(anchored[c]) > 20)) for c in CLASSES},
           "n_anchor_jitter_mad_ms": {"mean_over_records": float(np.mean(list(n_jitter.values()))),
                                      "max": float(np.max(list(n_jitter.values())))},
           "v_anchor_shift_abs_ms": {"median": float(np.median(np.abs(v_shift))),
                                     "share_over_40ms": float(np.mean(np.abs(np.array(v_shift)) > 40))},
           "per_record_v": per_record_v}
    for key in ("detector_vs_reference_over_40ms", "anchors_differ_over_20ms", "n_anchor_jitter_mad_ms",
                "v_anchor_shift_abs_ms"):
        print(key, {k: round(v, 3) for k, v in out[key].items()})
    for name, row in per_record_v.items():
        print(name, row)
    write_results(RESULTS, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
