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


def rule_calls(results: dict, without: str, mode: str) -> list[int]:
    """The beats per reference class that a rule adds to the S column, summed over the seeds."""
    total = [0] * len(CLASSES)
    for seed in (key for key in results if key.startswith("seed")):
        rows = results[seed]["settings"]
        with_rule = [row[1] for row in rows["product"][mode]["matrix"]]
        without_rule = [row[1] for row in rows[without][mode]["matrix"]]
        total = [t + a - b for t, a, b in zip(total, with_rule, without_rule)]
    return total


def main() -> int:
    results = json.loads(SOURCE.read_text())
    for rule, without in RULES.items():
        for mode in ("reference", "end_to_end"):
            calls = rule_calls(results, without, mode)
            made = sum(max(n, 0) for n in calls)
            print(f"{rule}, {mode}: S calls added by reference class {dict(zip(CLASSES, calls))}; precision "
                  f"{calls[1] / made:.3f}" if made else f"{rule}, {mode}: no call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
