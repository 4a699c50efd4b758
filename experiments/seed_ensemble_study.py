"""Row W: a seed ensemble per fold (CLASSIFIER-NOTES lesson 4; named in issue 3), on DS1 nested.

The delivered model averages 2 fold networks, each trained once (seed 0). Here every outer fold of the nested scheme
(``experiments/nested_oof.py``) is also predicted by the same inner ensemble trained with another seed (1), and the
two ensembles' probabilities are averaged: 4 networks, each of the delivered 2 with a second seed. The configuration's
decision rules are applied after, at the reference positions and end to end (the detected beats are the same for both
seeds, so their probabilities are averaged beat by beat). DS2 is not read.

Adoption criterion, written before the run: the averaged seeds must raise the selection score (mean of the V and S F1)
by at least 0.01 over seed 0 alone both at the reference positions and end to end, with no V or S Se or +P more than
1.5 points lower, **and** the doubled model must keep issue 3's inference target (20,000 beats/s on the 2-core
machine). Inference cost is proportional to the networks averaged (BENCHMARKS.md section 5: the 2-network model runs
at 23,300-32,600 beats/s, the 4-network one at 10,800-11,500), so on this machine the second condition cannot hold:
the study measures what seeds add, for a decision the maintainers may take on faster hardware. Seed 1 alone is also
scored: the difference between the two single seeds is the noise the seed ensemble averages away.

Usage: PYTHONPATH=. .venv/bin/python experiments/seed_ensemble_study.py   (12 nested trainings for the second seed,
about 11 minutes, cached in .cache/oof/; seconds once cached; a configuration with the atrial-fibrillation rule, as the
product has since session 19, writes ``seed_ensemble_study-af-rule.json``)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from experiments.family_vote_study import CHANGE_LIMIT_PTS, GAIN_MIN, choose_setting
from experiments.nested_oof import nested_oof, score_end_to_end, summarise
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config, configured_rules
from pipeline.scoring import count_classes

SECOND_SEED = 1


def average_detected(first: dict, second: dict) -> dict:
    """Per record, the detected beats with the two ensembles' probabilities averaged (same beats, same features)."""
    out = {}
    for name, parts in first.items():
        if not np.array_equal(parts["samples"], second[name]["samples"]):
            raise ValueError(f"Record {name}: the two runs detected different beats; expected the same detector.")
        out[name] = {**parts, "probabilities": (parts["probabilities"] + second[name]["probabilities"]) / 2}
    return out


def score_probabilities(oof: np.ndarray, detected: dict, data, config) -> dict:
    """Nested DS1 figures of these probabilities with the configuration's rules, both ways."""
    rules, names = configured_rules(config), data.inputs.feature_names
    reference = summarise(count_classes(data.labels, classify_with_config(oof, data, config)))
    end_to_end = score_end_to_end(detected, lambda p, f: rules.decide(p, f, names).classes, config.af_rule)
    return {"reference": reference, "end_to_end": end_to_end}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    oof0, detected0 = nested_oof(config, data, end_to_end=True)
    oof1, detected1 = nested_oof(dataclasses.replace(config, seed=SECOND_SEED), data, end_to_end=True)
    rows = {"baseline": score_probabilities(oof0, detected0, data, config),
            f"seed {SECOND_SEED} alone": score_probabilities(oof1, detected1, data, config),
            f"seeds 0 and {SECOND_SEED} averaged": score_probabilities((oof0 + oof1) / 2,
                                                                        average_detected(detected0, detected1),
                                                                        data, config)}
    adopted, best, strongest = choose_setting(rows)
    print("The speed condition cannot hold on this machine (module docstring): nothing is adopted whatever the "
          "scores say.")
    name = "seed_ensemble_study-af-rule" if config.af_rule else "seed_ensemble_study"  # session 19's product
    write_results(results_path(name, config_path),
                  {"criterion": {"gain_min": GAIN_MIN, "change_limit_pts": CHANGE_LIMIT_PTS,
                                 "inference_beats_per_s_min": 20000},
                   "settings": rows, "meets_score_criterion": adopted, "highest_end_to_end": strongest,
                   "adopted": None})
    return 0


if __name__ == "__main__":
    sys.exit(main())
