"""Does the detector's fiducial point cost beat classes? S and V beats by how far the detected beat lies from the
annotated one, classified at each position (DS1 nested; a measurement that chooses nothing).

The networks were trained at the annotated positions and read each detected beat at the detector's own position
(:mod:`pipeline.detect`), which on wide ventricular beats can lie 50-100 ms later (EXPERIMENTS.md row N: more than
40 ms on 42.5 % of DS1's V beats). Two session-41 observations asked how much that costs: DS2 rewritten at 128 Hz
loses 5 points of S Se at its reference positions, which a 7.8-ms grid moves by up to 3.9 ms, but nothing end to end
(BENCHMARKS.md section 18); and record 124's idioventricular run is called V at its reference positions and N at its
detected ones, about 90 ms later.

For each reference S or V beat of each held-out DS1 record matched by a detected beat within 150 ms, with the nested
networks of one seed and the context stage fitted fold by fold: its class from the per-beat decision rules (no AF or
family rule) at the reference position and at the detected one, tallied by the distance between the two (under
20 ms, 20-50 ms, 50 ms or more), and the records where the detected position loses beats the reference one gets.

Usage: PYTHONPATH=. .venv/bin/python experiments/detector_offset_errors.py [--config configs/bundled.toml]
[--seed 12] (the seed's nested networks from the cache, else about 10 minutes; results:
experiments/results/detector_offset_errors.json)
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys

import numpy as np

from experiments.context_plain_fit_study import staged_probabilities
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import (
    BUNDLED_CONFIG,
    load_one_lead_inputs,
    load_study_inputs,
    results_path,
    write_results,
)
from experiments.s_run_rule_study import classify_with_config, configured_rules
from pipeline import INTERNAL_FS_HZ
from pipeline.labels import AAMI_CLASSES

MATCH_S = 0.15
BUCKETS = ((0.0, 0.02, "under 20 ms"), (0.02, 0.05, "20-50 ms"), (0.05, MATCH_S + 1e-9, "50 ms or more"))


def nearest(detected: np.ndarray, sample: int) -> int:
    j = int(np.searchsorted(detected, sample))
    return min((k for k in (j - 1, j) if 0 <= k < len(detected)), key=lambda k: abs(int(detected[k]) - sample))


def tally_offsets(data, reference_classes: np.ndarray, e2e: dict, rules, names, fs_hz: float) -> dict:
    """Per class (S, V) and offset bucket: beats, right at both positions, right only at the reference one, right
    only at the detected one; and the beats lost at the detected position by record."""
    table = collections.defaultdict(lambda: collections.Counter())
    lost = collections.Counter()
    for name, parts in sorted(e2e.items()):
        detected = parts["samples"]
        detected_classes = rules.decide(parts["probabilities"], parts["features"], names).classes
        for row in np.flatnonzero(data.record_names == name):
            label = int(data.labels[row])
            if AAMI_CLASSES[label] not in ("S", "V") or not len(detected):
                continue
            k = nearest(detected, int(data.samples[row]))
            offset_s = abs(int(detected[k]) - int(data.samples[row])) / fs_hz
            if offset_s > MATCH_S:
                continue
            bucket = next(b for lo, hi, b in BUCKETS if lo <= offset_s < hi)
            at_reference, at_detected = reference_classes[row] == label, detected_classes[k] == label
            key = f"{AAMI_CLASSES[label]} {bucket}"
            table[key]["beats"] += 1
            table[key]["right at both"] += int(at_reference and at_detected)
            table[key]["right at the reference position only"] += int(at_reference and not at_detected)
            table[key]["right at the detected position only"] += int(at_detected and not at_reference)
            lost[f"{name} {AAMI_CLASSES[label]}"] += int(at_reference and not at_detected and bucket != BUCKETS[0][2])
    return {"table": {k: dict(v) for k, v in sorted(table.items())},
            "lost_at_20_ms_or_more_by_record": dict(lost.most_common(10))}


def load_seed_probabilities(description: str, argv=None) -> tuple:
    """``--config`` and ``--seed`` parsed; (configuration at the seed, DS1 inputs, configuration path, seed, staged
    nested probabilities at the reference positions, the held-out records' detected beats), from the cache."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", default=str(BUNDLED_CONFIG))
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    config, data, config_path = load_study_inputs(description, ["--config", args.config])
    one_lead = load_one_lead_inputs(config)
    config = dataclasses.replace(config, seed=args.seed)
    nested, two_leads, _ = nested_three_ways(config, data, one_lead)
    staged, e2e, _ = staged_probabilities(nested, config, data, nested, two_leads)
    return config, data, config_path, args.seed, staged, e2e


def main(argv=None) -> int:
    config, data, config_path, seed, staged, e2e = load_seed_probabilities(__doc__.splitlines()[0], argv)
    rules = configured_rules(config)
    out = tally_offsets(data, classify_with_config(staged, data, config, rules), e2e, rules,
                        data.inputs.feature_names, INTERNAL_FS_HZ)
    for key, counts in out["table"].items():
        print(key, counts)
    print(out["lost_at_20_ms_or_more_by_record"])
    write_results(results_path(f"detector_offset_errors-seed{seed}", config_path),
                  {"config": str(config_path), "seed": seed, **out})
    return 0


if __name__ == "__main__":
    sys.exit(main())
