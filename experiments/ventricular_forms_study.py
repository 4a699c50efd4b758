"""Uniform or multiform ventricular ectopic beats (:func:`pipeline.families.find_ventricular_forms`) against the
statements of MIT-BIH's record headers.

31 of MIT-BIH's 48 headers say whether the record's PVCs are uniform ("The PVCs are uniform", 8 records) or
multiform ("multiform", "two PVC forms", "of two forms", 23, the four paced records among them). The product calls a
record's ventricular ectopy multiform when two or more morphology families
(:func:`pipeline.families.group_beat_families`, the dashboard's grouping) each hold at least ``min_beats`` of its
counted V beats. Read two
ways: with the reference beats and classes at the reference positions (every reference V or E beat counted), and end
to end with the bundled model (what ``ecg score`` reports). ``min_beats`` is scanned from 2 to 5; the product's value
(:data:`pipeline.families.MIN_FORM_BEATS`) was chosen on DS1's records (end to end and with the reference labels),
DS2's rows read after.

Usage::

    PYTHONPATH=. .venv/bin/python experiments/ventricular_forms_study.py [--records all|ds1|ds2|100,101]

Writes ``experiments/results/ventricular_forms_study.json``.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from app.analysis import analyse_record, beat_table
from benchmarks.common import BUNDLED_MODEL
from experiments.record_study import run_record_study, split_scopes
from experiments.s_rule_study import REPO_ROOT, write_results
from pipeline.families import find_ventricular_forms, group_beat_families
from pipeline.labels import map_symbols_to_aami
from pipeline.records import read_record
from pipeline.splits import PACED
from pipeline.types import STATED_PACEMAKER

MIN_BEATS = (2, 3, 4, 5)
STATEMENTS = (("uniform", re.compile(r"PVCs are uniform")),
              ("multiform", re.compile(r"PVCs are multiform|two PVC forms|PVCs are of two forms")))


def read_statement(header_text: str) -> str | None:
    """``uniform`` or ``multiform`` as the header's comments say, None when they say neither."""
    comments = " ".join(line.lstrip("# ") for line in header_text.splitlines() if line.startswith("#"))
    comments = re.sub(r"\s+", " ", comments)
    for name, pattern in STATEMENTS:
        if pattern.search(comments):
            return name
    return None


def study_record(name: str, data_dir, model) -> dict:
    path = data_dir / name
    record = read_record(path, annotator="atr")
    annotations = record.annotations
    classes = map_symbols_to_aami(np.asarray(annotations.symbols))
    beats = classes != ""
    samples, letters = annotations.samples[beats], classes[beats]
    families = group_beat_families(record.signal_mv, samples, record.fs_hz)
    reference = {k: find_ventricular_forms(families, letters, np.ones(len(letters), bool), k) for k in MIN_BEATS}
    scored = read_record(path, annotator=None)
    if name in PACED:
        scored = dataclasses.replace(scored, pacemaker=STATED_PACEMAKER)
    analysis = analyse_record(scored, model)
    table = beat_table(analysis)
    product = {k: find_ventricular_forms(table["family"].to_numpy(), table["class"].to_numpy(),
                                         table["counted"].to_numpy(bool), k) for k in MIN_BEATS}
    assert product[analysis.summary.ventricular_forms.min_beats] == analysis.summary.ventricular_forms
    return {"statement": read_statement((data_dir / f"{name}.hea").read_text()),
            "reference_labels": {k: dataclasses.asdict(v) | {"name": v.name} for k, v in reference.items()},
            "product": {k: dataclasses.asdict(v) | {"name": v.name} for k, v in product.items()}}


def tally(records: dict, names, key: str, min_beats: int) -> dict:
    """Agreement with the headers' statements over ``names`` (records with a statement)."""
    agree, disagree = 0, {}
    for name in names:
        said = records[name][key][min_beats]["name"]
        if said == records[name]["statement"]:
            agree += 1
        else:
            disagree[name] = f"{said} (header: {records[name]['statement']})"
    return {"records": len(names), "agree": agree, "disagree": disagree}


def describe(name: str, r: dict) -> str:
    return (f"{name}: header {r['statement']}; reference labels "
            f"{[(k, v['name'], v['form_sizes'][:4]) for k, v in r['reference_labels'].items()]}; product "
            f"{[(k, v['name'], v['form_sizes'][:4]) for k, v in r['product'].items()]}")


def main(argv=None) -> int:
    records = run_record_study(argv, __doc__.splitlines()[0], study_record, describe,
                               keep=lambda name, data_dir: read_statement((data_dir / f"{name}.hea").read_text())
                               is not None)
    summary = {key: {scope: {k: tally(records, names, key, k) for k in MIN_BEATS}
                     for scope, names in split_scopes(records).items()} for key in ("reference_labels", "product")}
    for key, scoped in summary.items():
        for scope, by_k in scoped.items():
            print(key, scope, {k: f"{t['agree']}/{t['records']} {sorted(t['disagree'])}" for k, t in by_k.items()})
    write_results(REPO_ROOT / "experiments" / "results" / "ventricular_forms_study.json",
                  {"model": str(BUNDLED_MODEL.relative_to(REPO_ROOT)), "summary": summary, "records": records})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
