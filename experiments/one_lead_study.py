"""Study: how the two-lead classifier should read a one-lead recording (``models.prepare.fill_missing_leads``).

The network takes two leads; a Holter or monitor channel may come alone. Two ways to give it a second lead: a flat
(zero) lead, or the one lead repeated. A flat lead has no dominant beat and correlates with nothing, which the
network never saw in training; a repeated lead gives every per-lead feature a defined value. Each DS1 record is cut
to its first lead (MLII in 21 of 22) and classified both ways at the reference beat positions with the bundled model
(networks, then the beat-level rules; the record-level atrial-fibrillation rule left out); both are compared with the
two-lead classes of the same beats.
Criterion, written before this run (after a throw-away comparison on four DS1 excerpts had pointed to repeating): the
way whose classes agree with the two-lead classes on more beats; the figures of the chosen way are what the one-lead
note of the record summary rests on.

DS1 is the bundled networks' training set: its figures are in-sample and compare the two ways, they are not test
figures of one-lead classification. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/one_lead_study.py   (results: experiments/results/one_lead_study.json;
about 2 minutes)
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import replace

import numpy as np

from app.config import require_data_dir
from experiments.s_rule_study import REPO_ROOT, write_results
from models.atrial_rule import DecisionRules
from models.bundled import load_default_model
from models.network import predict_probabilities
from models.prepare import InputSettings, prepare_reference_beats
from pipeline.labels import AAMI_CLASSES
from pipeline.records import read_record
from pipeline.scoring import count_classes
from pipeline.splits import DS1

WAYS = {"flat": lambda x: np.pad(x, ((0, 0), (0, 1))), "repeated": lambda x: np.concatenate([x, x], axis=1)}


def classify(model, settings: InputSettings, rules: DecisionRules, record, fill=None) -> tuple[np.ndarray, np.ndarray]:
    """Classes and reference labels of the record's labelled beats; ``fill`` makes the second lead of a one-lead
    record (None: the record's own leads)."""
    import models.prepare

    original = models.prepare.fill_missing_leads
    if fill is not None:
        models.prepare.fill_missing_leads = lambda x: fill(x) if x.shape[1] < 2 else x
    try:
        with warnings.catch_warnings():  # a flat lead's statistics are empty means
            warnings.simplefilter("ignore", RuntimeWarning)
            prepared, labels = prepare_reference_beats(record, settings)
    finally:
        models.prepare.fill_missing_leads = original
    probabilities = predict_probabilities(model, prepared.inputs.waveform, prepared.inputs.features)
    names = prepared.inputs.feature_names
    classes = rules.decide(probabilities, prepared.inputs.features, names).classes
    keep = labels >= 0
    return classes[keep], labels[keep]


def main(argv=None) -> int:
    loaded = load_default_model(None)
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    rules = DecisionRules.from_settings(loaded.settings)
    rows = {"two leads": [], **{way: [] for way in WAYS}}
    agreement = {way: [0, 0] for way in WAYS}
    for name in DS1:
        record = read_record(require_data_dir(None) / name)
        two, labels = classify(loaded.model, settings, rules, record)
        one = replace(record, signal_mv=record.signal_mv[:, :1], lead_names=record.lead_names[:1], primary_lead=0)
        rows["two leads"].append((labels, two))
        for way, fill in WAYS.items():
            classes, _ = classify(loaded.model, settings, rules, one, fill)
            rows[way].append((labels, classes))
            agreement[way][0] += int((classes == two).sum())
            agreement[way][1] += len(two)
        print(name, {way: round(float(np.mean(rows[way][-1][1] == two)), 3) for way in WAYS}, flush=True)
    results = {"records": list(DS1), "agreement_with_two_leads": {w: a / n for w, (a, n) in agreement.items()}}
    for way, pairs in rows.items():
        counts = count_classes(np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))
        results[way] = {f"{c}_{m}": round(100 * getattr(counts, f)(k), 1) for k, c in enumerate(AAMI_CLASSES[:3])
                        for m, f in (("se", "sensitivity"), ("ppv", "positive_predictivity"))}
    results["chosen"] = max(WAYS, key=lambda w: results["agreement_with_two_leads"][w])
    for way in rows:
        print(f"{way}: {results[way]}" + (f", agreement {results['agreement_with_two_leads'][way]:.3f}"
                                         if way in WAYS else ""))
    print(f"chosen: {results['chosen']}")
    write_results(REPO_ROOT / "experiments" / "results" / "one_lead_study.json", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
