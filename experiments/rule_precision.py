"""How often a beat the atrial-origin rule (row G) or the supraventricular run rule (row P) makes S is a reference S
beat, on DS1 nested cross-validation: what the product's confidence in such a beat should be.

Read from ``experiments/results/rule_seed_check-seeds0-1-2-af-rule.json`` (``PYTHONPATH=. .venv/bin/python
experiments/rule_seed_check.py --seeds 0 1 2``: the product, and the product without each rule, scored on the nested
out-of-fold probabilities of networks trained from seeds 0, 1 and 2, at the reference positions and end to end): a
rule's calls are the beats its removal takes out of the predicted-S column, counted by reference class (the net change
of the confusion matrix's S column; the other rules run after it either way). Pooled over the three seeds. Nothing is
trained; DS2 is not read. Those runs predate the beat-context stage (row AH), which moves p(N) and p(S) before the
rules, so the figures describe the rule on networks of its own kind rather than today's exact calls.

Usage::

    PYTHONPATH=. .venv/bin/python experiments/rule_precision.py

Session 54: three clinical reads of the PDF reports found "confidence 1.00" on S events the atrial rule made of
beats the reference calls N (232, 121, 220): the product gave such a beat p(N) + p(S), the network's confidence that
it is conducted from above the ventricles, the rule having chosen S. The product now gives a beat the atrial rule made
S at most the rule's pooled end-to-end precision printed here (:data:`app.analysis.ATRIAL_RULE_PRECISION`).
"""

from __future__ import annotations

import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE = REPO_ROOT / "experiments" / "results" / "rule_seed_check-seeds0-1-2-af-rule.json"
RULES = {"atrial rule (G)": "without the atrial rule (G)", "run rule (P)": "without the run rule (P)"}
CLASSES = ("N", "S", "V", "F", "Q", "unmatched")


def sum_s_column_gains(pairs) -> list[int]:
    """The beats per reference class (rows of the matrices: N, S, V, F, Q, unmatched) that a rule adds to the S
    column, summed over ``pairs`` of matrices (with the rule, without it): the net change, which also holds beats a
    later rule moves because of the rule's calls."""
    total = [0] * len(CLASSES)
    for with_rule, without_rule in pairs:
        total = [t + a[1] - b[1] for t, a, b in zip(total, with_rule, without_rule)]
    return total


def measure_precision(calls: list[int]) -> float | None:
    """The share of a rule's S calls (:func:`sum_s_column_gains`) that are reference S beats; None without a call."""
    made = sum(max(n, 0) for n in calls)
    return calls[1] / made if made else None


def rule_calls(results: dict, without: str, mode: str) -> list[int]:
    """The beats per reference class that a rule adds to the S column, summed over the seeds."""
    seeds = [results[key]["settings"] for key in results if key.startswith("seed")]
    return sum_s_column_gains((rows["product"][mode]["matrix"], rows[without][mode]["matrix"]) for rows in seeds)


def main() -> int:
    results = json.loads(SOURCE.read_text())
    for rule, without in RULES.items():
        for mode in ("reference", "end_to_end"):
            calls = rule_calls(results, without, mode)
            precision = measure_precision(calls)
            print(f"{rule}, {mode}: S calls added by reference class {dict(zip(CLASSES, calls))}; precision "
                  f"{precision:.3f}" if precision is not None else f"{rule}, {mode}: no call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
