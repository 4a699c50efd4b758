"""What the product does with paced beats, and how far a pacing rule could go (a scan that chooses nothing).

MIT-BIH's four paced records (102, 104, 107, 217) are outside DS1 and DS2; the classifier never saw a paced beat.
Over all 48 records the bundled model flags 117 idioventricular episodes, 103 of them in 217 (REGIONS.md, session
41): paced beats called V make a slow "ventricular rhythm". Stating the pacemaker (``ecg score --pacemaker``, the
dashboard's checkbox) changes the summary's notes and leaves HRV out, but no class and no event.

This scan measures, end to end with the bundled model (``app.analysis.analyse_record``, every rule), on the four
paced records with the pacemaker stated:

1. how the reference beats come out: paced (``/``), fusion of paced and normal (``f``), N, V, by the product's class;
2. the events flagged, by kind;
3. a candidate **pacing rule** applied after the product (not built): with a pacemaker stated, a beat whose QRS is
   wide on the product's own width estimate (``qrs_width_ms`` >= W, at the classifier's positions) and which is not
   premature (``rr_pre_local_ratio`` >= 0.9, the sinus-conduction rule's "on time") is paced, AAMI class Q. For W in
   :data:`WIDTHS_MS`: the paced beats it finds, the reference V beats it would take, and the events left;
4. the same rule on the 44 records without a pacemaker, as if one had been stated by mistake: the beats it would
   relabel, by reference class (the cost of a wrong tick);
5. whether the recordings still show pacemaker spikes: the largest residual of a 7-sample (19 ms) median filter within
   120 ms before to 40 ms after each reference beat, over the beat's peak-to-peak amplitude, per record.

The product's width estimate is its own scale (record 100's normal beats about 33 ms, 214's left bundle branch block
58 ms), not a clinical QRS duration, so W is read on that scale. Nothing here is chosen: the four paced records are the
only paced patients this machine holds, so they could set a rule but not test it.

Usage: PYTHONPATH=. .venv/bin/python experiments/paced_records_scan.py (about 1 minute; results:
experiments/results/paced_records_scan.json)
"""

from __future__ import annotations

import collections
import dataclasses
import sys

import numpy as np
from scipy.ndimage import median_filter

from app.analysis import analyse_record, refind_regions
from app.config import require_data_dir
from experiments.s_rule_study import BUNDLED_CONFIG, results_path, write_results
from models.bundled import load_default_model
from models.inputs import read_feature_columns
from models.prepare import InputSettings, prepare_beats
from pipeline.labels import map_symbols_to_aami
from pipeline.records import read_record
from pipeline.scoring import compare_beats
from pipeline.splits import MITDB_RECORDS

PACED_RECORDS = ("102", "104", "107", "217")
WIDTHS_MS = (90, 100, 110, 120)
ON_TIME_MIN = 0.9
SPIKE_WINDOW_S = (-0.12, 0.04)
SPIKE_FILTER_SAMPLES = 7
SYMBOLS = ("/", "f", "N", "V")


def analyse(name: str, model, pacemaker: bool):
    record = read_record(require_data_dir(None) / name)
    if pacemaker:
        record = dataclasses.replace(record, pacemaker="stated")
    return record, analyse_record(record, model)


def match_reference(record, analysis) -> tuple[np.ndarray, np.ndarray]:
    """(reference symbol, index of the product's beat) of every matched reference beat."""
    match = compare_beats(record.annotations, analysis.predictions.samples, record.fs_hz, record.n_samples)
    return np.asarray(record.annotations.symbols)[match.ref_index], match.test_index


def pacing_candidates(record, analysis, model) -> dict[int, np.ndarray]:
    """Per width W, the beats the candidate rule calls paced (at the classifier's positions)."""
    settings = InputSettings.from_dict(model.settings["inputs"])
    prepared = prepare_beats(record, analysis.predictions.detected_samples, settings)
    column = read_feature_columns(prepared.inputs.features, prepared.inputs.feature_names,
                                  ("qrs_width_ms", "rr_pre_local_ratio"))
    on_time = column("rr_pre_local_ratio") >= ON_TIME_MIN
    return {width: on_time & (column("qrs_width_ms") >= width) for width in WIDTHS_MS}


def count_kinds(regions) -> dict[str, int]:
    return dict(sorted(collections.Counter(r.kind for r in regions).items()))


def cross_table(symbols: np.ndarray, classes: np.ndarray) -> dict[str, dict[str, int]]:
    return {s: dict(collections.Counter(classes[symbols == s].tolist())) for s in SYMBOLS if np.any(symbols == s)}


def scan_paced(name: str, model) -> dict:
    record, analysis = analyse(name, model, pacemaker=True)
    symbols, index = match_reference(record, analysis)
    classes = np.asarray(analysis.classes)
    out = {"product": {"classes_by_reference": cross_table(symbols, classes[index]),
                       "events": count_kinds(analysis.regions)}, "rule": {}}
    for width, paced in pacing_candidates(record, analysis, model).items():
        relabelled = np.where(paced, "Q", classes)
        edited = refind_regions(dataclasses.replace(analysis, reviewed_classes=relabelled), analysis.region_settings)
        chosen = paced[index]
        out["rule"][str(width)] = {
            "paced_found": int(np.sum(chosen & (symbols == "/"))), "paced_total": int(np.sum(symbols == "/")),
            "fusion_found": int(np.sum(chosen & (symbols == "f"))), "fusion_total": int(np.sum(symbols == "f")),
            "v_taken": int(np.sum(chosen & (symbols == "V"))), "v_total": int(np.sum(symbols == "V")),
            "n_taken": int(np.sum(chosen & (symbols == "N"))),
            "events": count_kinds(edited.regions)}
    return out


def scan_unpaced(name: str, model) -> dict:
    record, analysis = analyse(name, model, pacemaker=False)
    symbols, index = match_reference(record, analysis)
    aami = map_symbols_to_aami(symbols)
    return {str(width): dict(collections.Counter(aami[paced[index]].tolist()))
            for width, paced in pacing_candidates(record, analysis, model).items()}


def measure_spikiness(name: str) -> dict:
    """Median spike residual over peak-to-peak amplitude (the larger lead), paced and other reference beats."""
    record = read_record(require_data_dir(None) / name)
    signal = np.nan_to_num(record.signal_mv)
    residual = np.abs(signal - median_filter(signal, size=(SPIKE_FILTER_SAMPLES, 1)))
    lo, hi = (int(round(t * record.fs_hz)) for t in SPIKE_WINDOW_S)
    symbols = np.asarray(record.annotations.symbols)
    samples = record.annotations.samples
    keep = np.isin(symbols, list("NLRBAaJSVrFejnE/fQ")) & (samples + lo >= 0) & (samples + 3 * hi < len(signal))
    values = []
    for s in samples[keep]:
        window = signal[s + lo:s + 3 * hi]
        values.append(float(np.max(residual[s + lo:s + hi].max(axis=0) / (np.ptp(window, axis=0) + 1e-6))))
    values, paced = np.asarray(values), symbols[keep] == "/"
    out = {"other": round(float(np.median(values[~paced])), 3) if np.any(~paced) else None}
    if np.any(paced):
        out["paced"] = round(float(np.median(values[paced])), 3)
    return out


def main(argv=None) -> int:
    model = load_default_model()
    paced = {}
    for name in PACED_RECORDS:
        paced[name] = scan_paced(name, model)
        print(name, paced[name], flush=True)
    unpaced = {}
    for name in (n for n in MITDB_RECORDS if n not in PACED_RECORDS):
        unpaced[name] = scan_unpaced(name, model)
    totals = {str(w): dict(sum((collections.Counter(r[str(w)]) for r in unpaced.values()), collections.Counter()))
              for w in WIDTHS_MS}
    print("44 records without a pacemaker, beats the rule would call paced, by reference class:", totals)
    spikes = {name: measure_spikiness(name) for name in MITDB_RECORDS}
    print("spike residual / amplitude, median:", spikes)
    write_results(results_path("paced_records_scan", BUNDLED_CONFIG),
                  {"model": "models/bundled", "widths_ms": list(WIDTHS_MS), "on_time_min": ON_TIME_MIN,
                   "paced_records": paced, "unpaced_records": unpaced, "unpaced_totals": totals,
                   "spikiness": spikes})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
