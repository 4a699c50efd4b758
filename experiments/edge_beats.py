"""What the classifier says about the beats at a record's very start and end, whose window the record cuts.

A beat's network input is a window of 0.25 s before and 0.45 s after its R peak (the bundled model's segmentation);
at a record's edges the missing part is padded, and the first beat has no RR interval before it. Session 11 asked
whether such beats should be reported as Q (unclassifiable) instead. This script measures, with the product's
detector and the bundled model on DS1 (the split decisions are taken on), for every detected beat whose window
the record cuts:

- where it is (seconds from the edge), whether it matches a reference beat (EC57 150 ms) and that beat's class;
- the class the product gives it.

It chooses nothing by itself. Usage: PYTHONPATH=. .venv/bin/python experiments/edge_beats.py [--split ds1|ds2|all]
Writes ``experiments/results/edge_beats[-SPLIT].json``.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from app.config import require_data_dir
from experiments.s_rule_study import REPO_ROOT, write_results
from models.atrial_rule import DecisionRules
from models.bundled import BUNDLED_MODEL
from models.evaluate import reference_classes
from models.loading import load_local
from models.predict import classify_record
from models.prepare import InputSettings
from pipeline.labels import AAMI_CLASSES, is_beat_symbol
from pipeline.records import read_record
from pipeline.scoring import match_beats
from pipeline.splits import records_for_split


def edge_beats(name: str, data_dir, loaded, settings: InputSettings) -> list[dict]:
    """The detected beats of one record whose window runs past its start or end, with their classes."""
    record = read_record(data_dir / name, target_fs_hz=settings.segmentation.fs_hz)
    predictions = classify_record(loaded.model, settings, record, decisions=DecisionRules.from_settings(loaded.settings))
    pre, post = settings.segmentation.pre_samples, settings.segmentation.post_samples
    samples = predictions.samples
    cut = np.flatnonzero((samples < pre) | (samples + post > record.n_samples))
    beat = is_beat_symbol(record.annotations.symbols)
    ref_samples, ref_classes = record.annotations.samples[beat], reference_classes(record.annotations)[beat]
    ref_idx, test_idx = match_beats(ref_samples, samples, record.fs_hz)
    matched = dict(zip(test_idx.tolist(), ref_idx.tolist()))
    rows = []
    for i in cut.tolist():
        start = samples[i] < pre
        reference = ref_classes[matched[i]] if i in matched else -1
        rows.append({"record": name, "edge": "start" if start else "end",
                     "from_edge_s": round(float(samples[i] if start else record.n_samples - samples[i])
                                          / record.fs_hz, 3),
                     "reference": AAMI_CLASSES[reference] if reference >= 0 else ("none" if i not in matched
                                                                                   else "unclassed"),
                     "predicted": str(predictions.classes[i])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="ds1", choices=("ds1", "ds2", "all"))
    args = parser.parse_args()
    data_dir = require_data_dir(None)
    loaded = load_local(BUNDLED_MODEL)
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    rows = [row for name in records_for_split(args.split) for row in edge_beats(name, data_dir, loaded, settings)]
    tally = Counter((row["reference"], row["predicted"]) for row in rows)
    print(f"{len(rows)} beats with a cut window in {args.split.upper()}")
    for (reference, predicted), count in sorted(tally.items()):
        print(f"  reference {reference:>9} -> predicted {predicted}: {count}")
    for row in rows:
        print(" ", row)
    suffix = "" if args.split == "ds1" else f"-{args.split}"
    write_results(REPO_ROOT / "experiments" / "results" / f"edge_beats{suffix}.json",
                  {"command": "PYTHONPATH=. .venv/bin/python experiments/edge_beats.py --split " + args.split,
                   "split": args.split, "model": str(BUNDLED_MODEL.relative_to(REPO_ROOT)),
                   "tally": {f"{r}->{p}": c for (r, p), c in sorted(tally.items())}, "beats": rows})


if __name__ == "__main__":
    main()
