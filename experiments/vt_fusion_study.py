"""Row BD: a ventricular group is called VT (or idioventricular rhythm) only when three of its beats are V.

The region finder builds ventricular groups of V and F beats, because EC57's run comparison (WFDB ``rxr``) counts a
fusion beat inside a ventricular run, and until now called any group of three or more such beats VT above 100 bpm.
With the reference beat labels (``ecg evaluate-regions --split ds1 --labels reference``, session 41) DS1 gets 8
false VT episodes, and every one is a group with a fusion beat that MIT-BIH's annotators did not mark ``(VT``:
record 208's seven ``F V V`` triplets and record 215's ``V F V``. The one reference ``(VT`` on DS1 that holds a
fusion beat is 205's ``F`` followed by nine V. A fusion beat is partly conducted (a sinus impulse meeting a
ventricular one): the candidate keeps such a group in the run counts, as EC57 does, but calls it a rhythm only when it
holds at least three V beats (``RegionSettings.vt_min_v_beats = 3``), and a couplet otherwise. Beat labels, runs
scored by EC57 and every other event are untouched by construction.

Criterion, written before the run (DS1 only; DS2 not read):
(a) reference labels (the region rules alone): reference VT episodes found not fewer, false VT episodes fewer;
(b) end to end (the product: nested ensembles of seeds 12 and 13, context stage fold by fold, every rule; the
    detected beats of each held-out record, as ``experiments/event_timing_study.py`` labels them), summed over the
    seeds: VT episodes found not fewer, false VT episodes not more, idioventricular episodes found not fewer;
(c) everywhere: V and S run counts (found and false, every category), bigeminy, trigeminy and AF+AFL episodes and
    seconds unchanged.
Adopted when (a)-(c) hold: the default becomes 3. Otherwise it stays 1, with the figures logged.

Usage: PYTHONPATH=. .venv/bin/python experiments/vt_fusion_study.py [--config configs/bundled.toml]
(the seeds' nested networks come from the cache of the earlier rows, else about 10 minutes a seed; results:
experiments/results/vt_fusion_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

from app.config import require_data_dir
from experiments.context_plain_fit_study import staged_probabilities
from experiments.event_timing_study import label_record, model_labeler
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import configured_rules
from pipeline.splits import DS1
from pipeline.region_eval import evaluate_regions
from pipeline.regions import RegionSettings

SEEDS = (12, 13)
VARIANTS = {"product": RegionSettings(vt_min_v_beats=1), "candidate": RegionSettings(vt_min_v_beats=3)}
"""The behaviour before the change (every group may be a rhythm) and the candidate, explicit: the default is the
adopted value since row BE."""
EPISODES = ("vt", "ivr", "bigeminy", "trigeminy", "af")
UNCHANGED = ("bigeminy", "trigeminy", "af")


def label_seed(config, data, one_lead) -> dict:
    """Per held-out DS1 record: (reported positions, classes, family-rule beats) of the product, end to end."""
    nested, two_leads, _ = nested_three_ways(config, data, one_lead)
    _, e2e, _ = staged_probabilities(nested, config, data, nested, two_leads)
    rules, names = configured_rules(config), data.inputs.feature_names
    return {n: label_record(n, p, rules, names, config, "candidate") for n, p in sorted(e2e.items())}


def summarise_report(report) -> dict:
    """Run counts, episode counts and seconds, and VT false alarms by whether the record's reference has VT."""
    out = {"runs": {family: {c: list(report.runs(family).counts(c)) for c in ("couplet", "short", "long")}
                    for family in ("ventricular", "supraventricular")},
           "failures": [f.record for f in report.failures]}
    for name in EPISODES:
        e = report.episodes(name)
        out[name] = {k: getattr(e, k) for k in ("detected", "missed", "confirmed", "false", "reference_s", "test_s",
                                                 "overlap_reference_s", "overlap_test_s")}
    out["vt_by_record"] = {ev.record: [ev.episode("vt").detected, ev.episode("vt").missed, ev.episode("vt").false]
                           for ev in report.evaluations if ev.episode("vt").reference_s or ev.episode("vt").test_s}
    return out


def score_labels(records, labels: str, labeler=None) -> dict:
    return {variant: summarise_report(evaluate_regions(require_data_dir(None), records, labels, settings,
                                                       labeler=labeler))
            for variant, settings in VARIANTS.items()}


def print_vt(where: str, figures: dict) -> None:
    """VT and idioventricular episode counts of each variant."""
    for variant in VARIANTS:
        vt, ivr = figures[variant]["vt"], figures[variant]["ivr"]
        print(f"{where} {variant}: VT found {vt['detected']} missed {vt['missed']} false {vt['false']}; "
              f"IVR found {ivr['detected']} false {ivr['false']}", flush=True)


def unchanged(before: dict, after: dict) -> bool:
    return before["runs"] == after["runs"] and all(before[n] == after[n] for n in UNCHANGED)


def score_end_to_end(config, data, one_lead, seeds: tuple[int, ...]) -> dict:
    """Each seed's figures of both variants (``{str(seed): {variant: ...}}``), the product's labels end to end."""
    by_seed = {}
    for seed in seeds:
        labelled = label_seed(dataclasses.replace(config, seed=seed), data, one_lead)
        by_seed[str(seed)] = score_labels(sorted(DS1), "ds1-nested", model_labeler(labelled))
        print_vt(f"seed {seed}", by_seed[str(seed)])
    return by_seed


def end_to_end_holds(by_seed: dict, seeds: tuple[int, ...]) -> bool:
    """Clause (b): summed over ``seeds``, VT found not fewer, false VT not more, idioventricular found not fewer."""
    def summed(variant, name, key):
        return sum(by_seed[str(s)][variant][name][key] for s in seeds)
    return (summed("candidate", "vt", "detected") >= summed("product", "vt", "detected")
            and summed("candidate", "vt", "false") <= summed("product", "vt", "false")
            and summed("candidate", "ivr", "detected") >= summed("product", "ivr", "detected"))


def check_criterion(results: dict) -> dict:
    ref = results["reference"]
    a = (ref["candidate"]["vt"]["detected"] >= ref["product"]["vt"]["detected"]
         and ref["candidate"]["vt"]["false"] < ref["product"]["vt"]["false"])
    b = end_to_end_holds(results["end_to_end"], SEEDS)
    c = unchanged(ref["product"], ref["candidate"]) and all(
        unchanged(results["end_to_end"][str(s)]["product"], results["end_to_end"][str(s)]["candidate"]) for s in SEEDS)
    return {"a_reference": a, "b_end_to_end": b, "c_unchanged": c, "met": a and b and c}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    results = {"reference": score_labels(sorted(DS1), "reference")}
    print_vt("reference", results["reference"])
    results["end_to_end"] = score_end_to_end(config, data, one_lead, SEEDS)
    verdict = check_criterion(results)
    print(verdict)
    write_results(results_path("vt_fusion_study", config_path),
                  {"config": str(config_path), "seeds": list(SEEDS), "results": results, "verdict": verdict})
    return 0


if __name__ == "__main__":
    sys.exit(main())
