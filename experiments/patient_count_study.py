"""Does the classifier gain from more training patients? DS1 nested with fewer patients (a measurement that chooses
nothing).

Every row of EXPERIMENTS.md since row J has pointed at more training patients (SVDB, INCART: ``ecg train
--extra-data-dir``) as the lever left for S sensitivity, without a measurement behind it: no other database is on this
machine. DS1 can say how held-out figures move with the number of training patients. In the nested scheme each
outer fold (about 5-6 patients) is predicted by an inner ensemble trained on the other three folds (16-17 patients).
Here each outer fold's training patients are cut to a random share (``--shares``, drawn per outer fold and seed, at
least one inner fold's worth), the inner ensemble retrained on them as the product trains (bundled configuration,
one-lead copies, the two delivered members), and the held-out patients classified at their reference positions with
every per-beat rule and the AF rule (no context stage: it is fitted on nested probabilities of its own). The full
share is the cached nested ensemble of the same seed (``experiments/one_lead_training_study.py``'s cache), read the same
way, and also with the product's context stage fitted fold by fold on it (``staged_probabilities``), for comparison
with the product. Seeds 12 and 13 (cached at the full share).

Reading, fixed before the run: the figures at each share, pooled over the seeds. If half the patients costs less than
the score's seed spread (0.013, EXPERIMENTS.md session 18), DS1 shows no sign that more patients help; otherwise the
change from half to all patients (one doubling) is a rough estimate of what one more doubling could give, with every
caveat of a curve drawn from 22 very unequal patients.

The results hold the figures pooled over the seeds, each seed's, and per held-out record the S and V beats found,
missed and falsely called.

Usage: PYTHONPATH=. .venv/bin/python experiments/patient_count_study.py [--shares 0.5 0.75] [--seeds 12 13]
(about 16 minutes on 2 cores; results: experiments/results/patient_count_study.json)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np

from experiments.context_plain_fit_study import staged_probabilities
from experiments.nested_oof import scores, summarise
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import (BUNDLED_CONFIG, load_one_lead_inputs, load_study_inputs, results_path,
                                      write_results)
from experiments.s_run_rule_study import classify_with_config
from models.folds import assign_patient_folds
from models.train import inner_configuration, plan_outer_fold, predict_outer_folds
from models.training_workers import WorkerTrainer, count_usable_cores
from pipeline.labels import AAMI_CLASSES
from pipeline.scoring import ClassificationCounts


S, V = AAMI_CLASSES.index("S"), AAMI_CLASSES.index("V")


def draw_patients(names: list[str], share: float, seed: int, fold: int, least: int) -> list[str]:
    """A random ``share`` of ``names`` (at least ``least``), drawn from the seed and the outer fold."""
    rng = np.random.default_rng([seed, fold, int(round(share * 1000))])
    count = max(least, int(round(share * len(names))))
    return sorted(rng.choice(sorted(names), size=min(count, len(names)), replace=False).tolist())


def fewer_patients_probabilities(config, data, one_lead, share: float) -> tuple[np.ndarray, dict]:
    """Nested probabilities with each outer fold's inner ensemble trained on a ``share`` of its training patients;
    returns them and the patients each fold trained on."""
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[name] for name in data.record_names])
    inner = inner_configuration(config)
    plans, chosen = [], {}
    for fold in range(config.n_folds):
        names = sorted({n for n, f in fold_of.items() if f != fold})
        chosen[fold] = draw_patients(names, share, config.seed, fold, least=inner.n_folds + 1)
        plans.append(plan_outer_fold(data, inner, fold, np.isin(data.record_names, chosen[fold]), one_lead=one_lead))
    with WorkerTrainer(count_usable_cores()) as trainer:
        oof = predict_outer_folds(data, inner, plans, outer, trainer)
    return oof, chosen


def figures(config, data, probabilities: np.ndarray) -> dict:
    """Gross figures and matrix, and per held-out record the S and V beats found, missed and falsely called."""
    classes = classify_with_config(probabilities, data, config)
    out = scores(data.labels, classes)
    out = {k: (round(float(v), 4) if not isinstance(v, list) else v) for k, v in out.items()}
    by_record = {}
    for name in sorted(set(data.record_names.tolist())):
        rows = data.record_names == name
        labels, called = data.labels[rows], classes[rows]
        by_record[name] = {f"{c}_{what}": int(np.sum(mask)) for c, k in (("S", S), ("V", V))
                           for what, mask in (("found", (labels == k) & (called == k)),
                                              ("missed", (labels == k) & (called != k)),
                                              ("false", (labels != k) & (called == k)))}
    return out | {"by_record": by_record}


def pool(rows: list[dict]) -> dict:
    """Figures of several seeds' matrices pooled (gross over the seeds' beats)."""
    total = sum((ClassificationCounts(np.asarray(r["matrix"])) for r in rows[1:]),
                ClassificationCounts(np.asarray(rows[0]["matrix"])))
    return {k: round(float(v), 4) for k, v in summarise(total).items() if k != "matrix"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shares", type=float, nargs="+", default=[0.5, 0.75])
    parser.add_argument("--seeds", type=int, nargs="+", default=[12, 13])
    args = parser.parse_args(argv)
    config, data, _ = load_study_inputs(__doc__.splitlines()[0], [])
    one_lead = load_one_lead_inputs(config)
    by_share: dict[str, dict] = {}
    for seed in args.seeds:
        seeded = dataclasses.replace(config, seed=seed)
        full, _, _ = nested_three_ways(seeded, data, one_lead)
        by_share.setdefault("1.0", {})[str(seed)] = figures(seeded, data, full)
        staged, _, _ = staged_probabilities(full, seeded, data, full, {})
        by_share.setdefault("1.0 with the context stage", {})[str(seed)] = figures(seeded, data, staged)
        print(f"seed {seed}, all patients: {by_share['1.0'][str(seed)]['score']:.4f}", flush=True)
        for share in args.shares:
            probabilities, chosen = fewer_patients_probabilities(seeded, data, one_lead, share)
            row = figures(seeded, data, probabilities) | {"patients": chosen}
            by_share.setdefault(str(share), {})[str(seed)] = row
            print(f"seed {seed}, share {share}: {row['score']:.4f} (S {row['S_se']:.3f}/{row['S_ppv']:.3f}, "
                  f"V {row['V_se']:.3f}/{row['V_ppv']:.3f})", flush=True)
    pooled = {share: pool(list(rows.values())) for share, rows in by_share.items()}
    for share, row in sorted(pooled.items()):
        print(f"share {share}, pooled over seeds: {row}")
    write_results(results_path("patient_count_study", BUNDLED_CONFIG),
                  {"seeds": args.seeds, "shares": args.shares, "pooled": pooled, "by_share": by_share})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
