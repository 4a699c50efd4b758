"""The pacing rule for patients with a stated pacemaker (``models/pacing_rule.py``): does it work on MIT-BIH's paced
records?

Why: over all 48 MIT-BIH records, ``ecg evaluate-regions --split all --labels model`` (the bundled model, session 44)
counts 231 false ventricular runs (couplets 111, short runs 88, long runs 32), and 179 of them are record 217's, a
paced patient; without 217, V-run +P over the other 47 would be 94.3 / 75.8 / 93.9 instead of 84.0 / 34.8 / 49.2.
The networks never saw a paced beat and read every beat against the record's dominant one, which in a paced patient
is the paced beat (``experiments/paced_records_scan.py``, session 42).

The rule and its thresholds were fixed before any paced record was scored with them (module docstring of
``models/pacing_rule.py``): paced = ``qrs_width_ms`` >= 115 (the 99th percentile over DS1's reference N beats, 113.9
ms, at the detector's positions, measured this session; DS1 holds no paced beat) and ``rr_pre_local_ratio`` >= 0.9
(the sinus-conduction rule's on-time limit); the candidate also takes the record's dominant beat from the beats not
found paced and classifies again (``own_template``). Session 42's scan had read other widths (90-120) on the paced
records with the per-beat rule alone; that is why the candidate's width comes from DS1 and not from them.

Variants, each on the four paced records (102, 104, 107, 217) with the pacemaker stated, end to end with the bundled
model as ``ecg evaluate-regions --labels model`` labels them (AF and family rules included):
- ``none``: today's product (a stated pacemaker changes no class);
- ``rule``: paced beats Q, the template as today (``PacingRule(own_template=False)``);
- ``candidate``: ``PacingRule(own_template=True)`` (``PacingRule()`` when the criterion was written; its default is
  ``own_template = False`` since the run, which adopted ``rule``).

Criterion, written before the run (the paced records are outside DS1 and DS2; nothing else is read to choose):
over the four records pooled, against ``none``,
(a) at least 80 % of the reference paced beats (``/``) matched to a detected beat are called Q;
(b) of the matched reference V beats, V Se not lower by more than 2 points, and the beat-level V +P higher;
(c) false V runs (couplets, short and long runs summed, EC57 run comparison) at most half of ``none``'s, and false
    idioventricular episodes at most half; reference V runs found at most 1 fewer per category.
Adopted (``analyse_record`` and ``ecg evaluate-regions --pacemaker-records`` apply ``PacingRule()`` to a patient with a
stated pacemaker) if the candidate meets (a)-(c). If it does not, ``rule`` is judged by the same clauses and, meeting
them, adopted with ``own_template = False``. Otherwise no pacing rule is applied, and the figures are logged.

After the run (EXPERIMENTS.md row BG): the AF evidence of a patient with a stated pacemaker is read from the RR
intervals alone (``pipeline.region_eval.measure_rhythm_evidence``), because the first run showed the rule adding false
AF episodes to 102 and 104; the figures the criterion reads do not depend on it (the run gave them to the digit
before and after), and ``false_af`` (no clause) counts the AF+AFL episodes flagged with no reference AF under them.

After a QA pass (EXPERIMENTS.md row BG): the morphology-family rule makes the V calls of a mostly paced family paced,
not N; the saved results are from the run after that change (paced beats labelled paced 88.5 -> 90.2 % for ``rule``,
every other figure the criterion reads, and its verdicts, the same as in the first run).

For information (no clause): the same candidate on the 44 records without a pacemaker, as if one had been stated by
mistake: the matched beats it makes Q, by reference class (the cost of a wrong tick).

Usage: PYTHONPATH=. .venv/bin/python experiments/pacing_rule_study.py (a few minutes; results:
experiments/results/pacing_rule_study.json)
"""

from __future__ import annotations

import collections
import dataclasses
import sys

import numpy as np

from app.config import require_data_dir
from app.regions_cli import build_model_labeler
from experiments.s_rule_study import BUNDLED_CONFIG, results_path, write_results
from models.pacing_rule import PacingRule
from pipeline.labels import map_symbols_to_aami
from pipeline.records import read_record
from pipeline.region_eval import evaluate_record
from pipeline.scoring import compare_beats
from pipeline.splits import MITDB_RECORDS, PACED

BUNDLED = "models/bundled/model.keras"
VARIANTS = {"none": None, "rule": PacingRule(own_template=False, spikes=False),  # as when the study ran (session 44)
            "candidate": PacingRule(own_template=True, spikes=False)}
RUN_CATEGORIES = ("couplet", "short", "long")


def capture(labeler, store: dict):
    """``labeler`` that also keeps each record's (positions, classes)."""
    def labelled(record):
        samples, classes, *more = labeler(record)
        store[record.name] = (np.asarray(samples), np.asarray(classes))
        return (samples, classes, *more)
    return labelled


def count_beats(record_path, samples: np.ndarray, classes: np.ndarray) -> dict:
    """Matched reference beats by symbol group and delivered class."""
    record = read_record(record_path)
    match = compare_beats(record.annotations, samples, record.fs_hz, record.n_samples, start_s=0.0)
    symbols = np.asarray(record.annotations.symbols)[match.ref_index]
    called = classes[match.test_index]
    group = np.where(symbols == "/", "paced", np.where(symbols == "f", "paced_fusion", map_symbols_to_aami(symbols)))
    table = collections.defaultdict(dict)
    for g, c in collections.Counter(zip(group.tolist(), called.tolist())).items():
        table[g[0]][g[1]] = c
    v_calls = int(np.sum(classes == "V"))
    return {"by_reference": {k: dict(sorted(v.items())) for k, v in sorted(table.items())}, "v_calls": v_calls}


def score_variant(rule, names, pacemaker: bool) -> dict:
    store = {}
    labeler = capture(build_model_labeler(BUNDLED, pacing=rule), store)
    directory = require_data_dir(None)
    out = {}
    for name in names:
        evaluation = evaluate_record(directory / name, labeler, pacemaker=pacemaker)
        runs = {c: dict(zip(("found", "missed", "confirmed", "false"), evaluation.ventricular_runs.counts(c)))
                for c in RUN_CATEGORIES}
        episodes = dict(evaluation.episodes)
        ivr, vt, af = episodes["ivr"], episodes["vt"], episodes["af"]
        out[name] = {"beats": count_beats(directory / name, *store[name]), "v_runs": runs,
                     "ivr": {"detected": ivr.detected, "missed": ivr.missed, "false": ivr.false},
                     "vt": {"detected": vt.detected, "missed": vt.missed, "false": vt.false},
                     "af": {"detected": af.detected, "missed": af.missed, "false": af.false,
                            "reference_s": af.reference_s, "test_s": af.test_s},
                     "regions": dict(sorted(collections.Counter(r.kind for r in evaluation.regions).items()))}
        print(name, out[name], flush=True)
    return out


def pool(by_record: dict) -> dict:
    """Pooled figures the criterion reads."""
    def beats(group, cls=None):
        return sum(v for r in by_record.values() for c, v in r["beats"]["by_reference"].get(group, {}).items()
                   if cls is None or c == cls)
    v_calls = sum(r["beats"]["v_calls"] for r in by_record.values())
    runs = {c: {k: sum(r["v_runs"][c][k] for r in by_record.values()) for k in ("found", "missed", "confirmed",
                                                                                 "false")}
            for c in RUN_CATEGORIES}
    return {"paced_total": beats("paced"), "paced_q": beats("paced", "Q"),
            "paced_q_percent": 100.0 * beats("paced", "Q") / max(beats("paced"), 1),
            "v_total": beats("V"), "v_called_v": beats("V", "V"), "v_called_q": beats("V", "Q"),
            "v_se": 100.0 * beats("V", "V") / max(beats("V"), 1),
            "v_calls": v_calls, "v_ppv": 100.0 * beats("V", "V") / max(v_calls, 1),
            "v_runs": runs, "false_v_runs": sum(runs[c]["false"] for c in RUN_CATEGORIES),
            "false_ivr": sum(r["ivr"]["false"] for r in by_record.values()),
            "false_vt": sum(r["vt"]["false"] for r in by_record.values()),
            "false_af": sum(r["af"]["false"] for r in by_record.values())}


def judge(pooled: dict, base: dict) -> dict:
    clauses = {
        "a_paced_q_80": pooled["paced_q_percent"] >= 80.0,
        "b_v_se": pooled["v_se"] >= base["v_se"] - 2.0,
        "b_v_ppv_higher": pooled["v_ppv"] > base["v_ppv"],
        "c_false_v_runs_half": pooled["false_v_runs"] <= base["false_v_runs"] / 2,
        "c_false_ivr_half": pooled["false_ivr"] <= base["false_ivr"] / 2,
        "c_runs_found": all(pooled["v_runs"][c]["found"] >= base["v_runs"][c]["found"] - 1 for c in RUN_CATEGORIES),
    }
    return {"clauses": clauses, "met": all(clauses.values())}


def made_q(reference: np.ndarray, called: np.ndarray) -> np.ndarray:
    """The matched beats a stated pacemaker's rule called Q."""
    return called == "Q"


def mistaken_statement(names, rule: PacingRule = VARIANTS["candidate"], counted=made_q) -> dict:
    """Beats ``rule`` (the candidate by default) makes Q on records without a pacemaker, were one stated, by reference
    AAMI class; ``counted`` (reference classes, delivered classes -> boolean per matched beat) picks other beats."""
    store = {}
    labeler = capture(build_model_labeler(BUNDLED, pacing=rule), store)
    directory = require_data_dir(None)
    totals = collections.Counter()
    by_record = {}
    for name in names:
        record = dataclasses.replace(read_record(directory / name), pacemaker="stated for the study")
        samples, classes, *_ = labeler(record)
        match = compare_beats(record.annotations, samples, record.fs_hz, record.n_samples, start_s=0.0)
        reference = map_symbols_to_aami(np.asarray(record.annotations.symbols)[match.ref_index])
        counts = collections.Counter(reference[counted(reference, np.asarray(classes)[match.test_index])].tolist())
        by_record[name] = dict(sorted(counts.items()))
        totals.update(counts)
    return {"by_record": by_record, "totals": dict(sorted(totals.items()))}


def main(argv=None) -> int:
    results = {"model": BUNDLED, "rule": dataclasses.asdict(VARIANTS["candidate"]), "records": list(PACED),
               "variants": {}}
    for variant, rule in VARIANTS.items():
        by_record = score_variant(rule, PACED, pacemaker=True)
        results["variants"][variant] = {"by_record": by_record, "pooled": pool(by_record)}
    base = results["variants"]["none"]["pooled"]
    for variant in ("candidate", "rule"):
        results["variants"][variant]["criterion"] = judge(results["variants"][variant]["pooled"], base)
    for variant, entry in results["variants"].items():
        print(variant, entry["pooled"], entry.get("criterion"))
    adopted = next((v for v in ("candidate", "rule") if results["variants"][v]["criterion"]["met"]), None)
    results["adopted"] = adopted
    print("adopted:", adopted)
    results["mistaken_statement"] = mistaken_statement([n for n in MITDB_RECORDS if n not in PACED])
    print("stated by mistake, beats made Q by reference class:", results["mistaken_statement"]["totals"])
    write_results(results_path("pacing_rule_study", BUNDLED_CONFIG), results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
