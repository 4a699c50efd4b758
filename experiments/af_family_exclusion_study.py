"""Row AU: the AF evidence leaves out the intervals next to V calls the family rule made N, DS1 nested only.

The AF evidence (:func:`pipeline.regions.score_af_evidence`) leaves out intervals next to V, F and Q beats: ectopy makes
RR irregular without AF. Row AS's morphology-family rule (:mod:`models.family_rule`) runs after the AF rule and turns
some V calls into N (calls in a family of like beats mostly called N: conducted beats with an odd call, or beats in
noise). Since then those beats count for AF, and their intervals are as suspect as before. On DS2, read after row AS's
decision, AF+AFL duration +P fell from 93.1 to 91.2 (records 222 and 200); row AS's criterion guarded V events only.
Candidate: the AF evidence leaves out the intervals next to the family rule's N beats too (``af_excluded_beats`` of
:func:`pipeline.regions.find_regions`, the beats' ``in_family`` mask), which gives AF the evidence it had before row
AS while the V events keep the rule.

The product: ``configs/bundled.toml`` with every stage, the nested probabilities of seeds 0-3 (cached), the context
stage fitted fold by fold, every rule, the AF rule, then the family rule; regions found from those classes, AF with the
P-wave similarity, as ``ecg evaluate-regions --labels model`` does. Both ways: the reference beat positions and end to
end (the detector's beats).

A throw-away probe of seed 0 alone was seen before this criterion was written: AF+AFL duration +P 97.4 -> 97.6 at the
reference positions (record 201), duration Se 96.7 -> 97.3 end to end (record 203), nothing else changed. Seeds 1-3
were not seen.

Criterion, written before the run: averaged over seeds 0-3,
(a) both ways, the mean of AF+AFL duration Se and duration +P higher with the candidate, and neither lower by more
    than 0.2 point;
(b) both ways, AF+AFL episode Se and +P not lower by more than 2 points;
(c) at no seed, either way, the mean of duration Se and +P lower by more than 0.5 point;
(d) every other event figure (V and S runs, bigeminy, VT) unchanged (the candidate touches the AF evidence only;
    checked, not assumed).
Adopted when (a)-(d) hold: the region finder then gets the family rule's beats wherever the product finds regions
(``ecg score``, the dashboard, ``ecg evaluate-regions``). Otherwise the row is logged as not adopted. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/af_family_exclusion_study.py [--config configs/bundled.toml]
(about 10 minutes with the nested probabilities cached; results: experiments/results/af_family_exclusion_study.json)
"""

from __future__ import annotations

import dataclasses
import json
import sys

import numpy as np

from app.config import require_data_dir
from experiments.family_vote_product_study import product_classes, record_families, with_consensus
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from pipeline.labels import AAMI_CLASSES
from pipeline.region_eval import evaluate_regions

SEEDS = (0, 1, 2, 3)
WAYS = ("reference", "end_to_end")
VARIANTS = ("product", "candidate")
AF_KEYS = ("episode_se", "episode_ppv", "duration_se", "duration_ppv")
V = AAMI_CLASSES.index("V")
SYMBOLS = np.asarray(AAMI_CLASSES)


def labelled_ways(data, classes: np.ndarray, e2e_classes: dict, voted: np.ndarray, e2e_voted: dict,
                  detected: dict) -> dict:
    """Per way, per record: (beat samples, class letters after the family rule, beats the family rule made N)."""
    out = {"reference": {}, "end_to_end": {}}
    for name in sorted(e2e_classes):
        rows = data.record_names == name
        out["reference"][name] = (data.samples[rows], SYMBOLS[voted[rows]], (classes[rows] == V) & (voted[rows] != V))
        out["end_to_end"][name] = (detected[name]["samples"], SYMBOLS[e2e_voted[name]],
                                   (e2e_classes[name] == V) & (e2e_voted[name] != V))
    return out


def score_regions(by_record: dict, exclude: bool) -> dict:
    """AF+AFL figures, AF by record, and every other event figure, of the region pipeline with these labels."""
    def labeler(record):
        samples, classes, in_family = by_record[record.name]
        return (samples, classes, in_family) if exclude else (samples, classes)

    report = evaluate_regions(require_data_dir(None), sorted(by_record), labels="ds1-nested", labeler=labeler)
    af = report.episodes("af")
    others = {}
    for family in ("ventricular", "supraventricular"):
        runs = report.runs(family)
        others[family] = {c: list(runs.counts(c)) for c in ("couplet", "short", "long")}
    for name in ("bigeminy", "vt"):
        c = report.episodes(name)
        others[name] = [c.episode_sensitivity, c.episode_predictivity, c.duration_sensitivity, c.duration_predictivity]
    by_record_af = {e.record: [e.episode("af").duration_sensitivity, e.episode("af").duration_predictivity]
                    for e in report.evaluations if e.episode("af").reference_s > 0 or e.episode("af").test_s > 0}
    return {"af": {k: getattr(af, name) for k, name in zip(AF_KEYS, (
        "episode_sensitivity", "episode_predictivity", "duration_sensitivity", "duration_predictivity"))},
            "af_by_record": by_record_af, "others": others, "failures": [f.record for f in report.failures]}


def score_seed(config, data, one_lead, families: dict | None) -> tuple[dict, dict]:
    classes, e2e_classes, detected = product_classes(config, data, one_lead)
    families = families or record_families(data, detected)
    voted, e2e_voted = with_consensus(data, classes, e2e_classes, families)
    ways = labelled_ways(data, classes, e2e_classes, voted, e2e_voted, detected)
    out = {way: {variant: score_regions(ways[way], variant == "candidate") for variant in VARIANTS} for way in WAYS}
    for way in WAYS:
        print(f"seed {config.seed} {way}: " + " | ".join(f"{v} {fmt(out[way][v]['af'])}" for v in VARIANTS),
              flush=True)
    return out, families


def fmt(af: dict) -> str:
    return (f"AF episodes {100 * af['episode_se']:.1f}/{100 * af['episode_ppv']:.1f}, duration "
            f"{100 * af['duration_se']:.2f}/{100 * af['duration_ppv']:.2f}")


def duration_mean(af: dict) -> float:
    return (af["duration_se"] + af["duration_ppv"]) / 2


def check_af_clauses(by_seed: dict, seeds: tuple[int, ...]) -> tuple[bool, bool, bool, dict]:
    """Clauses (a)-(c) of the criterion, on the AF figures of ``seeds``, and the seed-averaged figures."""
    def mean(way, variant, key):
        return float(np.mean([by_seed[s][way][variant]["af"][key] for s in seeds]))

    means = {w: {v: {k: mean(w, v, k) for k in AF_KEYS} for v in VARIANTS} for w in WAYS}
    a = all(duration_mean(means[w]["candidate"]) > duration_mean(means[w]["product"])
            and all(means[w]["candidate"][k] >= means[w]["product"][k] - 0.002 for k in ("duration_se", "duration_ppv"))
            for w in WAYS)
    b = all(means[w]["candidate"][k] >= means[w]["product"][k] - 0.02 for w in WAYS
            for k in ("episode_se", "episode_ppv"))
    c = all(duration_mean(by_seed[s][w]["candidate"]["af"]) >= duration_mean(by_seed[s][w]["product"]["af"]) - 0.005
            for s in seeds for w in WAYS)
    return bool(a), bool(b), bool(c), means


def check_criterion(by_seed: dict) -> dict:
    """The module docstring's criterion, part by part."""
    a, b, c, means = check_af_clauses(by_seed, SEEDS)
    d = all(json.dumps(by_seed[s][w]["candidate"]["others"]) == json.dumps(by_seed[s][w]["product"]["others"])
            for s in SEEDS for w in WAYS)  # as text, so that NaN equals NaN
    return {"a_duration": a, "b_episodes": b, "c_each_seed": c, "d_others_unchanged": bool(d),
            "met": bool(a and b and c and d), "means": means}


def run_study(description: str, argv, seeds: tuple[int, ...], check, name: str) -> int:
    """Score ``seeds`` both ways and both variants, judge them with ``check`` and write ``experiments/results/NAME``."""
    config, data, config_path = load_study_inputs(description, argv)
    one_lead = load_one_lead_inputs(config)
    by_seed, families = {}, None
    for seed in seeds:
        by_seed[seed], families = score_seed(dataclasses.replace(config, seed=seed), data, one_lead, families)
    verdict = check(by_seed)
    for way in WAYS:
        print(f"mean {way}: " + " | ".join(f"{v} {fmt(verdict['means'][way][v])}" for v in VARIANTS))
    print({k: v for k, v in verdict.items() if k != "means"})
    write_results(results_path(name, config_path),
                  {"config": str(config_path), "seeds": list(seeds), "by_seed": by_seed, "verdict": verdict})
    return 0


def main(argv=None) -> int:
    return run_study(__doc__.splitlines()[0], argv, SEEDS, check_criterion, "af_family_exclusion_study")


if __name__ == "__main__":
    sys.exit(main())
