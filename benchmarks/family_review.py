"""Morphology families (:mod:`pipeline.families`) as a review tool, measured on MIT-BIH.

Nothing is tuned here: the families use the default :class:`pipeline.families.FamilySettings` (the usual
template-matching criterion, not chosen on any data). Two measurements over the 44 non-paced records:

1. **Purity**, on the reference beat positions and classes: the share of beats that carry their family's
   majority class, the share of V beats in families whose majority is V, and families per record.
2. **Simulated group review, end to end**: our detector's beats classified by the bundled model (what
   ``ecg score`` and the dashboard report), grouped into families. A reader acts on groups only, as the
   dashboard's "Review labels" tab allows: for each family and each class the model gives inside it, when
   most of that group's matched reference beats are of another class, the reader relabels the whole group
   to that class (one action). The EC57 gross V and S Se/+P over whole records (as the model card's end-to-end
   figures) before and after, the issue-4 region figures (``ecg evaluate-regions``: V runs, VT and bigeminy
   episodes in the records that have them, AF+AFL duration) with the model's and with the reviewed labels, the
   actions per record, and the time the grouping adds to the analysis of a record. The bundled model was trained on DS1, so its DS1
   figures here are in-sample; DS2's are the ones to read.
   This is an upper bound on group review (the reader judges each group by its majority without error),
   not a classifier figure: the model's own figures are on its card.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/family_review.py [--records all|ds1|ds2|100,101]   (about 3 minutes)
"""

from __future__ import annotations

import argparse

import numpy as np

from app.analysis import analyse_record
from benchmarks.common import REPO_ROOT, default_data_dir, format_table, write_results
from models.evaluate import reference_classes
from models.loading import load_local
from pipeline.families import UNGROUPED, group_beat_families
from pipeline.labels import AAMI_CLASSES
from pipeline.records import read_record
from pipeline.region_eval import RUN_CATEGORIES, evaluate_regions, label_with_reference
from pipeline.scoring import NO_BEAT, ClassificationCounts, compare_beats, compare_classes, matched_reference_classes
from pipeline.splits import DS1, DS2

MODEL = REPO_ROOT / "models" / "bundled" / "model.keras"
V, S = AAMI_CLASSES.index("V"), AAMI_CLASSES.index("S")


def measure_purity(record) -> dict:
    """Families of the reference beats: beats off their family's majority class, V beats outside V families."""
    samples, classes = label_with_reference(record)
    families = group_beat_families(record.signal_mv, samples, record.fs_hz)
    off_majority = v_outside = 0
    for family in set(families.tolist()) - {UNGROUPED}:
        members = classes[families == family]
        values, counts = np.unique(members, return_counts=True)
        off_majority += len(members) - int(counts.max())
        if values[np.argmax(counts)] != "V":
            v_outside += int(np.sum(members == "V"))
    return {"beats": len(samples), "off_majority": off_majority, "v_beats": int(np.sum(classes == "V")),
            "v_outside_v_families": v_outside, "families": len(set(families.tolist()) - {UNGROUPED}),
            "ungrouped": int(np.sum(families == UNGROUPED))}


def review_groups(families: np.ndarray, test: np.ndarray, matched_ref: np.ndarray) -> tuple[np.ndarray, int]:
    """Classes after the ideal group review, and the number of actions it took.

    ``matched_ref`` holds each test beat's reference class index (``NO_BEAT`` when unmatched).
    """
    reviewed = test.copy()
    actions = 0
    for family in set(families.tolist()) - {UNGROUPED}:
        for label in set(test[families == family].tolist()):
            group = (families == family) & (test == label)
            known = matched_ref[group]
            known = known[known != NO_BEAT]
            if len(known) == 0:
                continue
            majority = int(np.bincount(known).argmax())
            if majority != label:
                reviewed[group] = majority
                actions += 1
    return reviewed, actions


def simulate_review(record, model) -> dict:
    """EC57 counts of the model's classes and of the ideally reviewed ones; the actions taken."""
    analysis = analyse_record(record, model)
    samples = analysis.predictions.samples
    test = analysis.predictions.class_indices.astype(np.int64)
    ref_classes = reference_classes(record.annotations)
    match = compare_beats(record.annotations, samples, record.fs_hz, record.n_samples, start_s=0.0)  # whole records
    matched_ref = matched_reference_classes(match, ref_classes, len(samples))
    reviewed, actions = review_groups(analysis.families, test, matched_ref)
    letters = np.asarray(AAMI_CLASSES)
    return {"before": compare_classes(match, ref_classes, test), "after": compare_classes(match, ref_classes, reviewed),
            "labels": {"model": (samples, letters[test]), "reviewed": (samples, letters[reviewed])},
            "actions": actions, "families": len(set(analysis.families.tolist()) - {UNGROUPED}),
            "grouping_ms": round(1000 * analysis.timings_s["families"], 2),
            "analysis_ms": round(1000 * sum(analysis.timings_s.values()), 1)}


def region_figures(data_dir, names: list[str], labels: dict) -> dict:
    """The issue-4 region figures (``ecg evaluate-regions``) with the given beat labels per record."""
    report = evaluate_regions(data_dir, names, labels="family review", labeler=lambda record: labels[record.name])
    runs = report.runs("ventricular")
    out = {f"V_{c}": [round(100 * runs.sensitivity_of(c), 1), round(100 * runs.predictivity_of(c), 1)]
           for c in RUN_CATEGORIES}
    for name in ("vt", "bigeminy"):
        c = report.episodes(name, report.records_with(name))
        out[f"{name}_episodes"] = [round(100 * c.episode_sensitivity, 1), round(100 * c.episode_predictivity, 1)]
    af = report.episodes("af", report.records_with("af"))
    out["af_duration"] = [round(100 * af.duration_sensitivity, 1), round(100 * af.duration_predictivity, 1)]
    return out


def figures(counts: ClassificationCounts) -> dict:
    return {f"{c}_{m}": round(100 * f(k), 1) for c, k in (("V", V), ("S", S))
            for m, f in (("se", counts.sensitivity), ("ppv", counts.positive_predictivity))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="all", help="all (the 44 non-paced records), ds1, ds2 or a list")
    args = parser.parse_args(argv)
    groups = {"ds1": DS1, "ds2": DS2, "all": DS1 + DS2}
    names = groups.get(args.records) or tuple(n.strip() for n in args.records.split(","))
    data_dir, model = default_data_dir(), load_local(MODEL)
    per_record = {}
    for name in sorted(names):
        record = read_record(data_dir / name, annotator="atr")
        per_record[name] = {"purity": measure_purity(record), "review": simulate_review(record, model)}
    splits = {label: [n for n in sorted(names) if n in members] for label, members in
              (("DS1", DS1), ("DS2", DS2), ("all", DS1 + DS2))}
    rows, summary = [], {}
    for label, members in splits.items():
        if not members:
            continue
        purity = {k: sum(per_record[n]["purity"][k] for n in members) for k in per_record[members[0]]["purity"]}
        before = sum((per_record[n]["review"]["before"] for n in members), ClassificationCounts.empty())
        after = sum((per_record[n]["review"]["after"] for n in members), ClassificationCounts.empty())
        actions = [per_record[n]["review"]["actions"] for n in members]
        summary[label] = {
            "records": len(members),
            "beats_on_family_majority_pct": round(100 * (1 - purity["off_majority"] / purity["beats"]), 1),
            "v_beats_in_v_families_pct": round(100 * (1 - purity["v_outside_v_families"] / max(purity["v_beats"], 1)), 1),
            "families_median": float(np.median([per_record[n]["purity"]["families"] for n in members])),
            "model": figures(before), "after_group_review": figures(after),
            "actions_median": float(np.median(actions)), "actions_max": int(max(actions)), "actions_total": sum(actions),
            "grouping_ms_median": float(np.median([per_record[n]["review"]["grouping_ms"] for n in members])),
            "grouping_ms_max": float(max(per_record[n]["review"]["grouping_ms"] for n in members)),
            "grouping_share_of_analysis_pct": round(100 * sum(per_record[n]["review"]["grouping_ms"] for n in members)
                                                    / sum(per_record[n]["review"]["analysis_ms"] for n in members), 2),
            "regions": {way: region_figures(data_dir, members, {n: per_record[n]["review"]["labels"][way]
                                                                for n in members})
                        for way in ("model", "reviewed")},
        }
        s = summary[label]
        rows.append([label, s["records"], s["beats_on_family_majority_pct"], s["v_beats_in_v_families_pct"],
                     s["families_median"], f"{s['model']['V_se']} / {s['model']['V_ppv']}",
                     f"{s['after_group_review']['V_se']} / {s['after_group_review']['V_ppv']}",
                     f"{s['model']['S_se']} / {s['model']['S_ppv']}",
                     f"{s['after_group_review']['S_se']} / {s['after_group_review']['S_ppv']}",
                     f"{s['actions_median']:g} ({s['actions_max']})",
                     f"{s['grouping_ms_median']:g} ({s['grouping_ms_max']:g}), {s['grouping_share_of_analysis_pct']:g} %"])
    region_rows = [[label, way, *(f"{a} / {b}" for a, b in s["regions"][way].values())]
                   for label, s in summary.items() for way in ("model", "reviewed")]
    print(format_table(["records", "labels", *next(iter(summary.values()))["regions"]["model"]], region_rows))
    print(format_table(["records", "n", "beats on family majority %", "V beats in V families %", "families (median)",
                        "model V Se/+P", "reviewed V Se/+P", "model S Se/+P", "reviewed S Se/+P",
                        "actions median (max)", "grouping ms median (max), share of analysis"], rows))
    details = {n: {"purity": r["purity"], "actions": r["review"]["actions"], "grouping_ms": r["review"]["grouping_ms"], "model": figures(r["review"]["before"]),
                   "after_group_review": figures(r["review"]["after"])} for n, r in per_record.items()}
    path = write_results("family_review", {"summary": summary, "records": details})
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
