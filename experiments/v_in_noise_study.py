"""Study: the V calls that fall in unreadable signal, end to end on DS1 nested (EXPERIMENTS.md, session 7 observations).

On DS2, record 105's noise explains most of the end-to-end V +P gap and half of the false V runs
(EXPERIMENTS.md, session 7; read after the model was delivered). The obvious remedy, not calling V
inside the stretches the product marks unreadable (:func:`pipeline.quality.find_quality_spans`, with
the beat-train sparing of :func:`pipeline.quality.spare_beat_trains`, every lead covered, as the
region pipeline finds them), is judged here on DS1 only: for each DS1 record, the detected beats'
delivered classes from the nested ensembles (``experiments/nested_oof.py --end-to-end``, cached) and
every rule of the configuration; the V calls inside unreadable stretches are matched to the reference
(EC57, 150 ms) and counted by reference class. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/v_in_noise_study.py [--config configs/bundled.toml]
"""

from __future__ import annotations

import sys

import numpy as np

from app.config import require_data_dir
from experiments.nested_oof import nested_oof
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import configured_rules
from models.evaluate import reference_classes
from pipeline.labels import AAMI_CLASSES
from pipeline.quality import find_quality_spans, spare_beat_trains
from pipeline.records import read_record
from pipeline.regions import find_unreadable_intervals, inside_intervals
from pipeline.scoring import compare_beats

V = AAMI_CLASSES.index("V")
NAMES = AAMI_CLASSES + ("extra detection",)


def count_v_in_noise(name: str, parts: dict, config, feature_names) -> dict:
    """One record: V calls in all and in unreadable signal, the latter by reference class."""
    record = read_record(require_data_dir(None) / name)
    classes = configured_rules(config).decide(parts["probabilities"], parts["features"], feature_names).classes
    spans = spare_beat_trains(find_quality_spans(record.signal_mv, record.fs_hz), record.signal_mv,
                              parts["samples"], record.fs_hz)
    unreadable = inside_intervals(parts["samples"], find_unreadable_intervals(list(spans), record.signal_mv.shape[1]))
    match = compare_beats(record.annotations, parts["samples"], record.fs_hz, record.n_samples, start_s=0.0)
    reference = np.full(len(classes), len(AAMI_CLASSES))  # extra detection unless matched
    reference[np.asarray(match.test_index)] = reference_classes(record.annotations)[np.asarray(match.ref_index)]
    reference[reference < 0] = len(AAMI_CLASSES)  # matched to a beat without an AAMI class: count as extra
    in_noise = (classes == V) & unreadable
    counts = np.bincount(reference[in_noise], minlength=len(NAMES))
    return {"v_calls": int((classes == V).sum()), "unreadable_beats": int(unreadable.sum()),
            "v_calls_in_unreadable": {n: int(c) for n, c in zip(NAMES, counts) if c}}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    _, detected = nested_oof(config, data, end_to_end=True)
    records = {name: count_v_in_noise(name, parts, config, data.inputs.feature_names)
               for name, parts in sorted(detected.items())}
    total = {n: sum(r["v_calls_in_unreadable"].get(n, 0) for r in records.values()) for n in NAMES}
    true_v, false_v = total["V"], sum(v for n, v in total.items() if n != "V")
    for name, r in records.items():
        if r["v_calls_in_unreadable"]:
            print(f"{name}: {r['v_calls_in_unreadable']} (of {r['v_calls']} V calls)")
    print(f"DS1, V calls in unreadable signal: {true_v} reference V, {false_v} not V ({total})")
    write_results(results_path("v_in_noise_study", config_path), {
        "config": str(config_path), "records": records, "total_in_unreadable": total,
        "reference_v": true_v, "not_v": false_v,
        "v_calls": sum(r["v_calls"] for r in records.values())})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
