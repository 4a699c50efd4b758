"""Which beats the family rule (row AS) changes: do its true-V losses sit in runs? DS1 nested, chooses nothing.

A variant that spares V calls next to another V call (so that no couplet or run loses a beat) would keep the rule's
true-V losses only where they have a V-call neighbour, and give back the false V calls that have one. This counts both,
per seed, at the reference positions (the product's nested probabilities of seeds 0-3, cached; the context stage fitted
fold by fold; every rule; row U's setting), so that the variant is studied only if it could pay.

Usage: PYTHONPATH=. .venv/bin/python experiments/family_rule_neighbours.py
(results: experiments/results/family_rule_neighbours.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from experiments.family_vote_product_study import product_classes, record_families, with_consensus
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from pipeline.labels import AAMI_CLASSES

SEEDS = (0, 1, 2, 3)
N, V = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("V")


def has_v_neighbour(classes: np.ndarray, record_names: np.ndarray) -> np.ndarray:
    """Boolean per beat: the beat before or after it, in the same record, is called V.

    >>> has_v_neighbour(np.array([2, 0, 0, 0, 2]), np.array(["a", "a", "a", "b", "b"])).tolist()
    [False, True, False, True, False]
    """
    same_prev = np.r_[False, record_names[1:] == record_names[:-1]]
    same_next = np.r_[record_names[:-1] == record_names[1:], False]
    return (same_prev & np.r_[False, classes[:-1] == V]) | (same_next & np.r_[classes[1:] == V, False])


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    families, out = None, {}
    for seed in SEEDS:
        classes, e2e, detected = product_classes(dataclasses.replace(config, seed=seed), data, one_lead)
        families = families or record_families(data, detected)
        voted, _ = with_consensus(data, classes, e2e, families)
        changed, true_v = (classes == V) & (voted == N), data.labels == V
        beside_v = has_v_neighbour(classes, data.record_names)
        out[str(seed)] = {"changed": int(changed.sum()), "true_v_lost": int((changed & true_v).sum()),
                          "true_v_lost_beside_v": int((changed & true_v & beside_v).sum()),
                          "false_v_removed": int((changed & ~true_v).sum()),
                          "false_v_removed_beside_v": int((changed & ~true_v & beside_v).sum())}
        print(f"seed {seed}: {out[str(seed)]}", flush=True)
    write_results(results_path("family_rule_neighbours", config_path), {"config": str(config_path), "by_seed": out})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
