"""Runs of beats called V inside unreadable signal (:func:`app.analysis.find_hidden_ventricular_runs`), against
MIT-BIH's reference.

No event is claimed in unreadable signal, and the quality module's noise rule flags runs of wide beats of changing
shape as noise (only runs of one QRS shape are given back, :func:`pipeline.quality.spare_beat_trains`). A clinical
read of the PDF reports (session 54) found real ventricular tachycardias of 200, 205 and 221 inside such stretches,
while the report said "none found: ventricular tachycardia". The product now shows those stretches for checking, not
counted. This measures, end to end with the bundled model, how many unreadable stretches hold 3 or more beats called
V in a row, and how many of them hold a reference ventricular run (3 or more consecutive reference V, E or F beats,
at least one inside the stretch); and how many reference ventricular runs lie in unreadable stretches the mark
leaves out. A reading, not a choice: nothing is tuned (3 is EC57's shortest run); DS1 is in-sample for the model.

Usage::

    PYTHONPATH=. .venv/bin/python experiments/hidden_runs_study.py [--records all|ds1|ds2|100,101]

Writes ``experiments/results/hidden_runs_study.json``.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from app.analysis import analyse_record, find_hidden_ventricular_runs
from experiments.record_study import run_record_study, split_scopes, write_record_study
from pipeline.labels import map_symbols_to_aami
from pipeline.quality import mask_runs
from pipeline.records import read_record
from pipeline.splits import PACED
from pipeline.types import STATED_PACEMAKER


def reference_runs(annotations) -> list[tuple[int, int]]:
    """[first, last] samples of each run of 3 or more consecutive reference ventricular beats (V, E; F joins)."""
    classes = map_symbols_to_aami(np.asarray(annotations.symbols))
    beats = classes != ""
    samples, ventricular = annotations.samples[beats], np.isin(classes[beats], ("V", "F"))
    return [(int(samples[a]), int(samples[b - 1])) for a, b in mask_runs(ventricular) if b - a >= 3]


def study_record(name: str, data_dir, model) -> dict:
    path = data_dir / name
    runs = reference_runs(read_record(path, annotator="atr").annotations)
    record = read_record(path, annotator=None)
    if name in PACED:
        record = dataclasses.replace(record, pacemaker=STATED_PACEMAKER)
    analysis = analyse_record(record, model)
    shown = find_hidden_ventricular_runs(analysis)
    unreadable = [r for r in analysis.regions if r.kind == "unreadable"]
    holds = [any(a < region.stop and b >= region.start for a, b in runs) for region, _ in shown]
    shown_regions = [region for region, _ in shown]
    missed = [any(a < r.stop and b >= r.start for r in unreadable) and
              not any(a < r.stop and b >= r.start for r in shown_regions) for a, b in runs]
    return {"shown": len(shown), "shown_with_reference_run": int(sum(holds)),
            "reference_runs": len(runs),
            "reference_runs_in_unreadable": sum(any(a < r.stop and b >= r.start for r in unreadable) for a, b in runs),
            "reference_runs_in_unreadable_not_shown": int(sum(missed)),
            "shown_at_s": [round(r.start / analysis.record.fs_hz, 1) for r in shown_regions]}


def main(argv=None) -> int:
    records = run_record_study(argv, __doc__.splitlines()[0], study_record, lambda name, r: f"{name} {r}")
    summary = {}
    for scope, names in split_scopes(records).items():
        total = collections.Counter()
        for name in names:
            total.update({k: v for k, v in records[name].items() if isinstance(v, int)})
        summary[scope] = dict(total)
    write_record_study("hidden_runs_study", summary, records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
