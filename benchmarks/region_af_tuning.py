"""Choose the AF thresholds of :class:`pipeline.regions.RegionSettings` on DS1 records only.

For every DS1 record (reference beat labels, P-wave similarity on the primary lead), the AF
regions are found for a grid of settings, written as rhythm annotations and compared with the
reference ``(AFIB``/``(AFL`` intervals (:mod:`pipeline.region_eval`, from 5 minutes). The score is
the pooled duration F1 over all DS1 records (false AF in records without AF counts). DS1 holds
only two AF records (201, 203), so many settings tie at the best score (within 0.002): the
(weight, gate) pair with the widest range of tied thresholds is kept, and the threshold in the
middle of that range, which leaves the largest margin on both sides. DS2 is never read.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/region_af_tuning.py            # P-wave + RR rule
    PYTHONPATH=. .venv/bin/python benchmarks/region_af_tuning.py --rr-only  # RR dispersion alone
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from pathlib import Path

import numpy as np

from benchmarks.common import default_data_dir
from pipeline.atrial import measure_p_wave_similarity
from pipeline.quality import find_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import compare_record_episodes, label_with_reference
from pipeline.regions import RegionSettings, find_regions
from pipeline.rhythm_annotations import regions_to_annotations
from pipeline.splits import DS1

THRESHOLDS = np.round(np.arange(0.04, 0.30, 0.01), 3)
WEIGHTS = (0.05, 0.1, 0.2)
GATES = (0.5, 0.6, 0.75)
TIE = 0.002


def load_inputs(data_dir: Path) -> list[tuple]:
    """Per DS1 record: record, quality spans, reference beats and classes, P-wave similarity."""
    inputs = []
    for name in DS1:
        record = read_record(data_dir / name)
        samples, classes = label_with_reference(record)
        spans = find_quality_spans(record.signal_mv, record.fs_hz)
        similarity = measure_p_wave_similarity(record.signal_mv[:, record.primary_lead], samples, record.fs_hz)
        inputs.append((record, spans, samples, classes, similarity))
    return inputs


def score(inputs: list[tuple], settings: RegionSettings, use_p: bool) -> float:
    """Pooled AF duration F1 on DS1 for one setting."""
    overlap_ref = overlap_test = ref = test = 0.0
    for record, spans, samples, classes, similarity in inputs:
        regions = find_regions(samples, classes, record.fs_hz, spans, record.n_samples, settings,
                               n_leads=record.signal_mv.shape[1], p_wave_similarity=similarity if use_p else None)
        annotations = regions_to_annotations(regions, samples, classes, record.fs_hz)
        counts = dict(compare_record_episodes(record.annotations, annotations, record.fs_hz, record.n_samples))["af"]
        overlap_ref += counts.overlap_reference_s
        overlap_test += counts.overlap_test_s
        ref += counts.reference_s
        test += counts.test_s
    se, ppv = overlap_ref / ref if ref else 0.0, overlap_test / test if test else 0.0
    return 2 * se * ppv / (se + ppv) if se + ppv else 0.0


def tune(inputs: list[tuple], use_p: bool) -> tuple[dict, list]:
    """Grid search; returns the chosen settings and every (weight, gate, threshold, F1) row."""
    rows = []
    pairs = itertools.product(WEIGHTS, GATES) if use_p else [(None, None)]
    for weight, gate in pairs:
        for threshold in THRESHOLDS:
            changes = ({"af_p_weight": weight, "af_p_gate": gate, "af_threshold": float(threshold)} if use_p
                       else {"af_rr_only_threshold": float(threshold)})
            settings = dataclasses.replace(RegionSettings(), **changes)
            rows.append((weight, gate, float(threshold), score(inputs, settings, use_p)))
    best = max(r[3] for r in rows)
    plateau = {}
    for weight, gate, threshold, f1 in rows:
        if f1 >= best - TIE:
            plateau.setdefault((weight, gate), []).append(threshold)
    weight, gate = max(plateau, key=lambda pair: len(plateau[pair]))
    tied = plateau[(weight, gate)]
    chosen = float(np.round(np.median(tied), 3))
    key = "af_threshold" if use_p else "af_rr_only_threshold"
    result = {key: chosen, "ds1_f1_best": round(best, 4), "tied_thresholds": tied}
    if use_p:
        result.update(af_p_weight=weight, af_p_gate=gate)
    return result, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--rr-only", action="store_true", help="tune the RR-only threshold")
    args = parser.parse_args()
    inputs = load_inputs(args.data_dir or default_data_dir())
    result, rows = tune(inputs, use_p=not args.rr_only)
    for weight, gate, threshold, f1 in rows:
        print(f"weight={weight} gate={gate} threshold={threshold:.2f} DS1 duration F1={f1:.4f}")
    print("chosen:", result)


if __name__ == "__main__":
    main()
