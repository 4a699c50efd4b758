"""Row AY: the morphology-family rule groups beats at the classifier's positions, DS1 nested, seeds 8 and 9, end to end.

Row AX adopted reporting beats at their anchored positions (:func:`pipeline.segment.time_beats`), with every rule after
the classifier moved to them. Its V sensitivity fell 0.27 point (mean of seeds 6 and 7), all of it from the family
rule (:mod:`models.family_rule`): families grouped on windows around the anchored positions made 15 more true V beats
N at seed 7 (records 124, 207, 223, 109). The rule was chosen (rows AS, AT) on windows around the detector's positions,
where the networks take theirs. Candidate: the family rule groups beats at the positions the classifier took its inputs
at (the detector's); the AF rule, the regions, the summary, the annotation files and the matching keep the anchored
ones.

The product after row AX and the candidate, on each held-out record's detected beats (``configs/bundled.toml``, nested
ensembles, every rule; regions as ``ecg evaluate-regions --labels model`` finds them), at seeds 8 and 9, whose nested
networks had never been trained.

Criterion, written before the run:
(a) beats end to end, averaged over the seeds: V gross Se higher with the candidate, V +P not lower by more than 0.3
    point, N and S gross Se and +P not lower by more than 0.3 point;
(b) V runs, per category (couplet, short, long), summed over the seeds: at most 2 fewer reference runs found and at
    most 2 more false runs;
(c) VT and bigeminy episodes, summed: reference episodes found not fewer, false episodes at most 1 more;
(d) AF+AFL duration Se and +P, averaged, not lower by more than 0.5 point.
Adopted when (a)-(d) hold: the family rule then groups beats at the classifier's positions wherever the product applies
it (``ecg score``, the dashboard, ``ecg evaluate``, ``ecg evaluate-regions``). Otherwise the row is logged as not
adopted. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/family_positions_study.py [--config configs/bundled.toml]
(nested networks trained for each seed, about 10 minutes a seed; results: experiments/results/family_positions_study.json)
"""

from __future__ import annotations

import sys

import numpy as np

from experiments.event_timing_study import CATEGORIES, label_beats, run_seeds, score_variants
from experiments.nested_oof import read_rhythm_inputs

SEEDS = (8, 9)
VARIANTS = ("product", "candidate")


def label_record(name: str, parts: dict, rules, names, config, variant: str) -> tuple:
    """:func:`experiments.event_timing_study.label_beats` of one held-out DS1 record (two leads), reported at the
    anchored positions, its families grouped there (``"product"``) or at the detector's (``"candidate"``)."""
    record, spans, _ = read_rhythm_inputs(name)
    return label_beats(record, spans, parts["samples"], parts, rules, names, config,
                       families_at_detected=variant == "candidate")


def score_seed(config, data, one_lead) -> dict:
    return score_variants(config, data, one_lead, label_record, VARIANTS)


def check_criterion(by_seed: dict, seeds: tuple[int, ...] = SEEDS) -> dict:
    """The module docstring's criterion, part by part, over ``seeds``."""
    def mean(variant, part, name, key):
        return float(np.mean([by_seed[s][variant][part][name][key] if name else by_seed[s][variant][part][key]
                              for s in seeds]))

    def beats(variant, key):
        return mean(variant, "beats", None, key)

    a = (beats("candidate", "V_se_gross") > beats("product", "V_se_gross")
         and all(beats("candidate", f"{c}_{k}_gross") >= beats("product", f"{c}_{k}_gross") - 0.003
                 for c in "NSV" for k in ("se", "ppv")))

    def run_sums(variant, category):
        counts = [by_seed[s][variant]["runs"]["ventricular"][category] for s in seeds]
        return sum(c[0] for c in counts), sum(c[3] for c in counts)

    b = all(run_sums("candidate", c)[0] >= run_sums("product", c)[0] - 2
            and run_sums("candidate", c)[1] <= run_sums("product", c)[1] + 2 for c in CATEGORIES)

    def episode_sum(variant, name, key):
        return sum(by_seed[s][variant]["episodes"][name][key] for s in seeds)

    c = all(episode_sum("candidate", n, "detected") >= episode_sum("product", n, "detected")
            and episode_sum("candidate", n, "false") <= episode_sum("product", n, "false") + 1 for n in ("vt", "bigeminy"))
    d = all(mean("candidate", "episodes", "af", k) >= mean("product", "episodes", "af", k) - 0.005
            for k in ("duration_se", "duration_ppv"))
    verdict = {"a_beats": bool(a), "b_v_runs": bool(b), "c_vt_bigeminy": bool(c), "d_af": bool(d)}
    verdict["met"] = all(verdict.values())
    return verdict


def main(argv=None) -> int:
    return run_seeds(__doc__.splitlines()[0], argv, SEEDS, score_seed, check_criterion, "family_positions_study")


if __name__ == "__main__":
    sys.exit(main())
