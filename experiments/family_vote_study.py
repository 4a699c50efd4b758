"""Row U: a morphology-family consensus after the decision rules, on DS1 nested (reference positions and end to end).

The dashboard's families (:mod:`pipeline.families`) group beats of like QRS shape; on the reference labels 98.3 % of
V beats sit in families whose majority is V (BENCHMARKS.md section 9). Candidate rule, applied per record after all
the configuration's decision rules: in a family of at least ``min_size`` beats,

- ``to_v``: when at least ``hi`` of its beats are called V, its beats called N become V;
- ``to_n``: when at most ``lo`` of its beats are called V, its beats called V become N;
- ``both``: both.

S and F calls are never changed. Grid: min_size 5 or 20; (lo, hi) (0.1, 0.9), (0.2, 0.8), (0.3, 0.7); the three
directions. Classes come from the nested ensembles of ``experiments/nested_oof.py`` (networks that never saw the
patient), so the figures are what the delivered model would do on a new patient. DS2 is not read.

Adoption criterion, written before the run: a setting is adopted only if the selection score (mean of the V and S
F1) rises by at least 0.01 both at the reference positions and end to end, and no V or S Se or +P falls by more
than 1.5 points either way; among such settings, the highest end-to-end score.

Usage: PYTHONPATH=. .venv/bin/python experiments/family_vote_study.py   (about 1 minute with the nested
probabilities cached)
"""

from __future__ import annotations

import itertools
import sys

import numpy as np

from app.config import require_data_dir
from experiments.nested_oof import nested_oof, read_reference, summarise
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config, configured_rules
from models.evaluate import reference_classes
from pipeline.families import group_beat_families
from pipeline.labels import AAMI_CLASSES
from pipeline.records import read_record
from pipeline.scoring import ClassificationCounts, compare_beats, compare_classes, count_classes

N, V = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("V")
SIZES = (5, 20)
BOUNDS = ((0.1, 0.9), (0.2, 0.8), (0.3, 0.7))
DIRECTIONS = ("to_v", "to_n", "both")
CHANGE_LIMIT_PTS = 1.5
GAIN_MIN = 0.01
SETTINGS = {f"{direction} size>={min_size} lo={lo} hi={hi}": (min_size, lo, hi, direction)
            for min_size, (lo, hi), direction in itertools.product(SIZES, BOUNDS, DIRECTIONS)}


def apply_consensus(classes: np.ndarray, families: np.ndarray, min_size: int, lo: float, hi: float,
                    direction: str) -> np.ndarray:
    """Class indices after the family consensus (see the module docstring)."""
    out = classes.copy()
    for family in set(families.tolist()) - {-1}:
        members = families == family
        if members.sum() < min_size:
            continue
        share = float(np.mean(classes[members] == V))
        if direction in ("to_v", "both") and share >= hi:
            out[members & (classes == N)] = V
        if direction in ("to_n", "both") and share <= lo:
            out[members & (classes == V)] = N
    return out


def family_inputs(config, data) -> dict:
    """Per DS1 record: reference-position families and classes, detected beats' families, classes and match."""
    oof, detected = nested_oof(config, data, end_to_end=True)
    classes = classify_with_config(oof, data, config)
    rules, names = configured_rules(config), data.inputs.feature_names
    inputs = {}
    for name in sorted(detected):
        record = read_record(require_data_dir(None) / name)
        at_reference = data.record_names == name
        samples = data.samples[at_reference]
        parts = detected[name]
        annotations, fs_hz, n_samples = read_reference(name)
        inputs[name] = {
            "labels": data.labels[at_reference], "classes": classes[at_reference],
            "families": group_beat_families(record.signal_mv, samples, record.fs_hz),
            "e2e_classes": rules.decide(parts["probabilities"], parts["features"], names).classes,
            "e2e_families": group_beat_families(record.signal_mv, parts["samples"], record.fs_hz),
            "match": compare_beats(annotations, parts["samples"], fs_hz, n_samples, start_s=0.0),
            "reference_classes": reference_classes(annotations),
        }
    return inputs


def score_setting(inputs: dict, setting: tuple | None) -> dict:
    """Nested DS1 figures at the reference positions and end to end, with the consensus ``setting`` (None: off)."""
    reference, end_to_end = ClassificationCounts.empty(), ClassificationCounts.empty()
    for r in inputs.values():
        classes, e2e = r["classes"], r["e2e_classes"]
        if setting is not None:
            classes = apply_consensus(classes, r["families"], *setting)
            e2e = apply_consensus(e2e, r["e2e_families"], *setting)
        reference = reference + count_classes(r["labels"], classes)
        end_to_end = end_to_end + compare_classes(r["match"], r["reference_classes"], e2e)
    return {"reference": summarise(reference), "end_to_end": summarise(end_to_end)}


def changes_by_record(inputs: dict, relabel) -> dict:
    """Per record, at the reference positions: the beats ``relabel(record inputs)`` (the classes after a setting)
    changes, counted by their reference class and the change (e.g. ``"V->N ref N": 12``)."""
    out = {}
    for name, r in inputs.items():
        after = relabel(r)
        changed = np.flatnonzero(after != r["classes"])
        if len(changed):
            keys = [f"{AAMI_CLASSES[r['classes'][i]]}->{AAMI_CLASSES[after[i]]} ref {AAMI_CLASSES[r['labels'][i]]}"
                    for i in changed]
            out[name] = dict(sorted((k, keys.count(k)) for k in set(keys)))
    return out


def meets_criterion(result: dict, baseline: dict) -> bool:
    for way in ("reference", "end_to_end"):
        if result[way]["score"] - baseline[way]["score"] < GAIN_MIN:
            return False
        for key in ("V_se", "V_ppv", "S_se", "S_ppv"):
            if 100 * (baseline[way][key] - result[way][key]) > CHANGE_LIMIT_PTS:
                return False
    return True


def print_rows(rows: dict) -> None:
    """Print each row's nested figures, both ways (``rows``: name -> ``reference`` and ``end_to_end`` figures)."""
    print("setting | reference V Se/+P, S Se/+P, score | end to end V Se/+P, S Se/+P, score")
    for key, r in rows.items():
        a, e = r["reference"], r["end_to_end"]
        print(f"{key} | {100 * a['V_se']:.1f}/{100 * a['V_ppv']:.1f}, {100 * a['S_se']:.1f}/{100 * a['S_ppv']:.1f}, "
              f"{a['score']:.3f} | {100 * e['V_se']:.1f}/{100 * e['V_ppv']:.1f}, {100 * e['S_se']:.1f}/"
              f"{100 * e['S_ppv']:.1f}, {e['score']:.3f}")


def choose_setting(rows: dict) -> tuple[list[str], str | None, str]:
    """Print each setting's nested figures (``rows``: ``"baseline"`` and the settings, each with ``reference`` and
    ``end_to_end``); return the settings that meet the criterion, the adopted one (the highest end-to-end score among
    them, None without one) and the setting with the highest end-to-end score."""
    baseline = rows["baseline"]
    adopted = [k for k, r in rows.items() if k != "baseline" and meets_criterion(r, baseline)]
    print_rows(rows)
    best = max(adopted, key=lambda k: rows[k]["end_to_end"]["score"]) if adopted else None
    print(f"criterion met by: {adopted or 'none'}; adopted: {best}")
    strongest = max((k for k in rows if k != "baseline"), key=lambda k: rows[k]["end_to_end"]["score"])
    return adopted, best, strongest


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    inputs = family_inputs(config, data)
    rows = {"baseline": score_setting(inputs, None)}
    for key, setting in SETTINGS.items():
        rows[key] = score_setting(inputs, setting)
    adopted, best, strongest = choose_setting(rows)
    changes = changes_by_record(inputs, lambda r: apply_consensus(r["classes"], r["families"], *SETTINGS[strongest]))
    print(f"highest end-to-end score: {strongest}; beats changed at the reference positions, by record "
          "(reference class of the changed beats):")
    for name, counts in changes.items():
        print(f"  {name}: {counts}")
    totals = {}
    for counts in changes.values():
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
    print(f"  all records: {dict(sorted(totals.items()))}")
    write_results(results_path("family_vote_study", config_path),
                  {"criterion": {"gain_min": GAIN_MIN, "change_limit_pts": CHANGE_LIMIT_PTS},
                   "settings": rows, "meets_criterion": adopted, "adopted": best,
                   "highest_end_to_end": strongest, "changes_by_record": changes, "changes_total": totals})
    return 0


if __name__ == "__main__":
    sys.exit(main())
