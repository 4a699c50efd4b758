"""Row AT: does the morphology-family rule (row AS) help one-lead recordings too? DS1 nested only.

Row AS adopted the family rule on two-lead figures: families are formed by QRS correlation over both leads at once.
A one-lead recording (a Holter or patch channel; ``ecg evaluate --one-lead``) forms its families from that lead alone,
where a ventricular QRS can match the conducted one at 0.9 more often than over two leads, so the rule may make more
true V beats N there; and the networks read one lead less well (row AI), so it may also have more false V calls to take
back. Row AS did not measure this, and the product applies the rule to one-lead records as well since it shipped.

Measured on DS1 cut to its primary lead (MLII): the nested one-lead probabilities of seeds 0-3 (cached by
``experiments/one_lead_training_study.py``'s ``nested_three_ways``), the context stage fitted fold by fold as the
product fits it, every per-beat rule; families from the primary lead alone (``read_record(..., max_leads=1)``), as
the product forms them for a one-lead recording. Reference positions (the one-lead figures of the studies before).

Criterion, written before the run: the rule stays on for one-lead recordings when
(a) V F1 with the rule is higher at each of seeds 0, 1, 2 and 3, and
(b) averaged over the four seeds, V F1 is at least 0.005 higher;
otherwise the rule is switched off for records classified from one lead (the summary says so). DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/family_rule_one_lead_study.py [--config configs/bundled.toml]
(a few minutes with the nested probabilities cached; results: experiments/results/family_rule_one_lead_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from app.config import require_data_dir
from experiments.context_plain_fit_study import staged_probabilities
from experiments.family_vote_product_study import SETTING
from experiments.family_vote_study import apply_consensus
from experiments.nested_oof import scores
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config
from pipeline.families import group_beat_families
from pipeline.records import read_record

SEEDS = (0, 1, 2, 3)


def one_lead_families(data) -> dict:
    """Per DS1 record: families of its reference-position beats on the primary lead alone."""
    out = {}
    for name in sorted(set(data.record_names.tolist())):
        record = read_record(require_data_dir(None) / name, max_leads=1)
        out[name] = group_beat_families(record.signal_mv, data.samples[data.record_names == name], record.fs_hz)
    return out


def v_figures(labels: np.ndarray, classes: np.ndarray) -> dict:
    return {k: v for k, v in scores(labels, classes).items() if k in ("V_se", "V_ppv", "V_f1")}


def score_seed(config, data, one_lead, families: dict) -> dict:
    nested, detected, one = nested_three_ways(config, data, one_lead)
    _, _, one_staged = staged_probabilities(nested, config, data, nested, detected,
                                            also=(one, one_lead.inputs.features))
    classes = classify_with_config(one_staged, one_lead, config)
    voted = classes.copy()
    for name, at_reference in families.items():
        rows = data.record_names == name
        voted[rows] = apply_consensus(classes[rows], at_reference, *SETTING)
    out = {"without": v_figures(data.labels, classes), "with": v_figures(data.labels, voted),
           "changed": int(np.sum(voted != classes))}
    shown = [f"V {100 * out[k]['V_se']:.1f}/{100 * out[k]['V_ppv']:.1f} F1 {out[k]['V_f1']:.4f}"
             for k in ("without", "with")]
    print(f"seed {config.seed}: {' -> '.join(shown)}, {out['changed']} beats changed", flush=True)
    return out


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    families = one_lead_families(data)
    by_seed = {seed: score_seed(dataclasses.replace(config, seed=seed), data, one_lead, families) for seed in SEEDS}
    gains = [by_seed[s]["with"]["V_f1"] - by_seed[s]["without"]["V_f1"] for s in SEEDS]
    verdict = {"a_each_seed": all(g > 0 for g in gains), "b_mean_gain": float(np.mean(gains)) >= 0.005,
               "mean_gain": float(np.mean(gains))}
    verdict["keep_for_one_lead"] = verdict["a_each_seed"] and verdict["b_mean_gain"]
    print(verdict)
    write_results(results_path("family_rule_one_lead_study", config_path),
                  {"config": str(config_path), "setting": list(SETTING), "seeds": list(SEEDS),
                   "by_seed": {str(s): v for s, v in by_seed.items()}, "verdict": verdict})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
