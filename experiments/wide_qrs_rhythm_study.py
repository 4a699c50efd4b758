"""Row BB: row BA's wide-QRS rule with a rhythm condition (not in fibrillation-like rhythm), asked at seeds 10 and 11.

Row BA (``experiments/wide_qrs_rule_study.py``, seeds 8 and 9) found the gains it looked for (V Se end to end +2.5 and
+1.6 points, S +P +9 and +9, couplets found +17, VT and bigeminy episodes found +1 and +9, no record losing a correctly
classified S or V beat) but failed its guard: at seed 9, 52 conducted beats of record 203, inside its atrial
fibrillation, were made V (5 more false couplets and short runs, 5 more false VT episodes; AF duration Se 98.8 -> 95.6
as the new V calls' intervals left the AF evidence, and with it 10 S runs, which ``rxr`` reads inside AF). The rule now
leaves alone the beats whose rhythm is fibrillation-like (``rhythm_af_score_rel <= 0.05``,
:mod:`models.wide_qrs_rule`; the AF rule decides the S calls there). On seeds 8 and 9 that condition keeps every
changed beat of 223 and drops every one of 203: it was chosen by looking at them, so the question is asked again at
seeds whose nested networks were never trained.

The guard on VT and bigeminy episodes is also rewritten. Row BA's counted every false episode, and in record 223,
whose reference has both rhythms, the rule took bigeminy from 1 episode found and 3 false (duration Se 4 %, +P 20 %)
to 7 found and 6 false (89 %, 80 %): pieces of the reference episodes and episodes flagged inside the reference VT
count as false there, as in row AW. The rewritten clause counts the false alarms (episodes flagged in records whose
reference has none of that rhythm) and guards the records with the rhythm by duration.

The product (``configs/bundled.toml``, as in row BA) with the rule off ("product") and on ("candidate",
:class:`models.wide_qrs_rule.WideQrsRule`'s defaults: 15 ms, 0.9, 0.05; after the supraventricular run rule, before the
AF and family rules), at seeds 10 and 11.

Criterion, written before the run (end to end unless said; averaged over seeds 10 and 11, counts summed):
(a) V gross Se up by at least 1.0 point end to end and at the reference positions (two leads, the per-beat rules and
    the AF rule there); V +P not lower by more than 0.5 point either way;
(b) S gross Se not lower by more than 0.3 point and S +P not lower, end to end and at the reference positions;
    N Se and +P not lower by more than 0.1 point end to end;
(c) V runs per category (couplet, short, long): reference runs found not fewer, false runs at most 2 more;
(c') VT and bigeminy: reference episodes found not fewer; episodes flagged in records whose reference has none of that
    rhythm at most 1 more; duration Se and +P over the records whose reference has it not lower by more than 1 point;
(d) AF+AFL duration Se and +P not lower by more than 0.5 point; S runs per category: found at most 2 fewer, false
    at most 2 more;
(e) no record loses more than 5 correctly classified S or V beats end to end, summed over the seeds;
(f) read from one lead (the one-lead copies at the reference positions, per-beat rules and AF rule): V Se not lower,
    S Se not lower by more than 0.5 point.
Adopted when every clause holds: the rule joins ``configs/bundled.toml`` and the shipped model (``ecg bundle-model
--rules-only``). Otherwise it stays off, with the figures logged. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/wide_qrs_rhythm_study.py [--config configs/bundled.toml]
(nested networks trained for each seed, about 10 minutes a seed, then a few minutes a seed; results:
experiments/results/wide_qrs_rhythm_study.json)
"""

from __future__ import annotations

import sys

from experiments.event_timing_study import run_seeds
from experiments.wide_qrs_rule_study import Figures, check_common, score_seed
from models.wide_qrs_rule import WideQrsRule

SEEDS = (10, 11)
RHYTHMS = ("vt", "bigeminy")


def score_with_rhythm_condition(config, data, one_lead) -> dict:
    return score_seed(config, data, one_lead, WideQrsRule())


def rhythm_figures(f: Figures, variant: str, name: str) -> tuple[int, int, float, float]:
    """(reference episodes found, false alarms, duration Se, duration +P over the records with the rhythm), found and
    false alarms summed over the seeds, durations pooled over the records and averaged over the seeds."""
    found = alarms = 0
    se, ppv = [], []
    for s in f.seeds:
        records = f.by_seed[s][variant]["episodes_by_record"]
        with_rhythm = [r[name] for r in records.values() if r[name]["reference_s"] > 0]
        found += sum(r[name]["detected"] for r in records.values())
        alarms += sum(r[name]["false"] for r in records.values() if r[name]["reference_s"] == 0)
        reference_s = sum(r["reference_s"] for r in with_rhythm)
        se.append(sum(r["overlap_reference_s"] for r in with_rhythm) / reference_s if reference_s else 1.0)
        test_s = sum(r["test_s"] for r in with_rhythm)
        ppv.append(sum(r["overlap_test_s"] for r in with_rhythm) / test_s if test_s else 1.0)
    return found, alarms, sum(se) / len(se), sum(ppv) / len(ppv)


def check_rhythms(by_seed: dict, seeds: tuple[int, ...], figures, holds) -> dict:
    """Every clause: row BA's common ones (:func:`check_common`) and, per rhythm, ``holds(before, after)`` on
    ``figures(f, variant, name)`` of each variant."""
    f = Figures(by_seed, seeds)
    verdict = check_common(f)
    rhythms = {}
    for name in RHYTHMS:
        before, after = figures(f, "product", name), figures(f, "candidate", name)
        rhythms[name] = {"product": before, "candidate": after}
        verdict[f"c_{name}"] = bool(holds(before, after))
    verdict["rhythm_figures"] = rhythms
    verdict["met"] = all(v for k, v in verdict.items() if k not in ("largest_record_loss", "rhythm_figures"))
    return verdict


def check_criterion(by_seed: dict) -> dict:
    """The module docstring's criterion, part by part."""
    return check_rhythms(by_seed, SEEDS, rhythm_figures, lambda before, after: (
        after[0] >= before[0] and after[1] <= before[1] + 1 and after[2] >= before[2] - 0.01
        and after[3] >= before[3] - 0.01))


def main(argv=None) -> int:
    return run_seeds(__doc__.splitlines()[0], argv, SEEDS, score_with_rhythm_condition, check_criterion,
                     "wide_qrs_rhythm_study")


if __name__ == "__main__":
    sys.exit(main())
