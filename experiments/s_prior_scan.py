"""Scan: a larger prior for S before the argmax, on DS1 nested out-of-fold ensemble probabilities only.

EXPERIMENTS.md lists "threshold/prior adjustment for S chosen on the OOF predictions" as not yet tried. The
delivered ensemble's probabilities are imitated by the nested scheme of ``experiments/nested_oof.py`` (each outer
DS1 fold predicted by an ensemble trained on the other folds; cached in ``.cache/oof/``). Each setting multiplies
p(S) by ``weight`` before the argmax, then applies the bundled model's atrial-origin rule, and is scored on DS1
(gross S and V Se/+P, selection score: mean of the S and V F1). DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/s_prior_scan.py [--config configs/bundled.toml]
(runs experiments/nested_oof.py's trainings first when they are not cached: 15-20 minutes on the 2-core machine)
"""

from __future__ import annotations

from experiments.nested_oof import nested_oof
from experiments.s_rule_study import REPO_ROOT, load_study_inputs, write_results
from models.atrial_rule import decide_classes
from models.train import compute_selection_score
from pipeline.scoring import count_classes

RESULTS = REPO_ROOT / "experiments" / "results" / "s_prior_scan.json"
WEIGHTS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)
S, V = 1, 2


def main(argv=None) -> int:
    config, data, _ = load_study_inputs(__doc__.splitlines()[0], argv)
    probabilities = nested_oof(config, data)
    names = list(data.inputs.feature_names)
    rows = []
    for weight in WEIGHTS:
        scaled = probabilities.copy()
        scaled[:, S] *= weight
        classes = decide_classes(scaled, data.inputs.features, names, config.atrial_rule).classes
        counts = count_classes(data.labels, classes)
        row = {"s_weight": weight, "selection_score": compute_selection_score(counts),
               **{f"{c}_{m}": getattr(counts, f)(k) for c, k in (("S", S), ("V", V), ("N", 0))
                  for m, f in (("se", "sensitivity"), ("ppv", "positive_predictivity"))}}
        rows.append(row)
        print(f"S weight {weight:>4}: score {row['selection_score']:.3f}  S {100 * row['S_se']:.1f}/"
              f"{100 * row['S_ppv']:.1f}  V {100 * row['V_se']:.1f}/{100 * row['V_ppv']:.1f}  N Se "
              f"{100 * row['N_se']:.1f}", flush=True)
    write_results(RESULTS, {"weights": WEIGHTS, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
