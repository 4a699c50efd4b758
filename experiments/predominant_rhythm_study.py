"""The predominant rhythm (:mod:`pipeline.rhythm`) against MIT-BIH's reference rhythm annotations.

For each record, the reference rhythm that lasts longest, grouped as a reader names the underlying rhythm:

- sinus: ``(N`` (normal sinus rhythm), ``(SBR`` (sinus bradycardia), and the rhythms that interrupt a sinus rhythm
  beat by beat: ``(B`` and ``(T`` (ventricular bigeminy and trigeminy), ``(BII`` (second-degree block), ``(PREX``
  (pre-excitation);
- AF/flutter: ``(AFIB``, ``(AFL``;
- paced: ``(P``;
- other: ``(NOD``, ``(SVTA``, ``(AB``, ``(IVR``, ``(VT``, ``(VFL``;

against the product's statement twice: on the reference beats and classes (``ecg evaluate-regions --labels
reference``'s pipeline: the rule itself) and end to end (what ``ecg score`` reports with the bundled model). MIT-BIH's
four paced patients (:data:`pipeline.splits.PACED`) have their pacemaker stated, as a user states one. A "not
determined" is counted apart from a wrong name: it is the product declining, not misleading. Nothing is tuned here:
the thresholds of :mod:`pipeline.rhythm` are the AV-block search's template quality and the event settings' rate
limits as they were; a probe of the template quality on the reference beats of the 48 records was looked at before
this was written, so it is a check of the rule, not a held-out test.

Usage::

    PYTHONPATH=. .venv/bin/python experiments/predominant_rhythm_study.py [--records all|ds1|ds2|100,101]

Writes ``experiments/results/predominant_rhythm_study.json``.
"""

from __future__ import annotations

import collections
import dataclasses

from app.analysis import analyse_record
from benchmarks.common import BUNDLED_MODEL
from experiments.record_study import run_record_study
from experiments.s_rule_study import REPO_ROOT, write_results
from pipeline.records import read_record
from pipeline.region_eval import evaluate_record, label_with_reference
from pipeline.rhythm import NOT_DETERMINED
from pipeline.splits import PACED
from pipeline.types import STATED_PACEMAKER

GROUPS = {"(N": "sinus", "(SBR": "sinus", "(B": "sinus", "(T": "sinus", "(BII": "sinus", "(PREX": "sinus",
          "(AFIB": "AF/flutter", "(AFL": "AF/flutter", "(P": "paced"}
"""Reference rhythm labels by the underlying rhythm they name; any other is "other"."""


def name_group(name: str) -> str:
    """The group of a product statement (:class:`pipeline.rhythm.PredominantRhythm` ``name``)."""
    if name.startswith("sinus"):
        return "sinus"
    return {"atrial fibrillation/flutter": "AF/flutter", "paced rhythm": "paced"}.get(name, name)


def reference_rhythm(record) -> tuple[str, dict]:
    """The group lasting longest over the record's reference rhythm annotations, and every group's share (%)."""
    annotations = record.annotations
    durations = collections.Counter()
    current, since = None, 0
    for sample, symbol, note in zip(annotations.samples, annotations.symbols, annotations.aux_notes):
        if symbol == "+" and note:
            if current is not None:
                durations[current] += int(sample - since)
            current, since = GROUPS.get(note.strip("\x00").strip(), "other"), sample
    if current is not None:
        durations[current] += int(record.n_samples - since)
    total = sum(durations.values())
    shares = {group: round(100.0 * n / total, 1) for group, n in durations.most_common()}
    return (durations.most_common(1)[0][0] if durations else "none"), shares


def study_record(name: str, data_dir, model) -> dict:
    paced = name in PACED
    path = data_dir / name
    record = read_record(path, annotator="atr")
    group, shares = reference_rhythm(record)
    reference = evaluate_record(path, label_with_reference, pacemaker=paced).summary.predominant_rhythm
    scored = read_record(path, annotator=None)
    if paced:
        scored = dataclasses.replace(scored, pacemaker=STATED_PACEMAKER)
    product = analyse_record(scored, model).summary.predominant_rhythm
    return {"reference_group": group, "reference_shares_pct": shares, "reference_labels": reference.to_dict(),
            "product": product.to_dict()}


def tally(records: dict, key: str) -> dict:
    """Agreement of one way of labelling (``reference_labels`` or ``product``) with the reference groups."""
    counts = collections.Counter()
    wrong = {}
    for name, r in records.items():
        said = r[key]["name"]
        if said == NOT_DETERMINED:
            counts["not determined"] += 1
        elif name_group(said) == r["reference_group"]:
            counts["agree"] += 1
        else:
            counts["disagree"] += 1
            wrong[name] = f"{said} (reference: {r['reference_group']})"
    named = {n: f"{r[key]['name']}, {r[key]['rate_bpm']} bpm" for n, r in records.items()
             if r[key]["name"] in ("sinus bradycardia", "sinus tachycardia")}
    return {**counts, "disagreements": wrong, "sinus_bradycardia_or_tachycardia": named,
            "not_determined": {n: r["reference_group"] for n, r in records.items() if r[key]["name"] == NOT_DETERMINED}}


def describe(name: str, r: dict) -> str:
    return (f"{name}: reference {r['reference_group']} {r['reference_shares_pct']}; reference labels: "
            f"{r['reference_labels']['name']}; product: {r['product']['name']} ({r['product']['basis']})")


def main(argv=None) -> int:
    records = run_record_study(argv, __doc__.splitlines()[0], study_record, describe)
    summary = {key: tally(records, key) for key in ("reference_labels", "product")}
    for key, value in summary.items():
        print(f"{key}: {value}")
    write_results(REPO_ROOT / "experiments" / "results" / "predominant_rhythm_study.json",
                  {"model": str(BUNDLED_MODEL.relative_to(REPO_ROOT)), "summary": summary, "records": records})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
