"""Which event each PDF report strip shows: the longest of its kind, or the longest of its kind that is clear.

The report (``app/report.py``) shows one strip per event kind, most urgent kind first. Until session 27 it took the
longest region of each kind whatever its confidence; MIT-BIH 203's report then opened on "ventricular tachycardia,
5 beats, 119 bpm, confidence 0.47": electrode-pop steps in MLII over beats the reference marks Q and N. Now it takes the
longest among the regions of at least ``STRIP_CONFIDENCE_MIN`` (0.5, fixed from its meaning before this script ran:
both leads clean and every beat's class more likely than not) when the kind has one. For every record, with the bundled
model as ``ecg score`` runs it, this script lists the strips both ways and scores each ectopic strip against the
reference annotations: of the beats the strip's region calls ectopic (V for the ventricular kinds, S for the
supraventricular ones), the share that the reference gives that class (EC57 matching within 150 ms). It chooses
nothing; DS1 and DS2 are reported apart.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/report_strips.py [--records all|ds1|ds2|100,101]   (about 2 minutes)
"""

from __future__ import annotations

import numpy as np

from app.analysis import analyse_record
from app.report import MAX_MORE_STRIPS, MAX_STRIPS, STRIP_CONFIDENCE_MIN, choose_strip_events
from benchmarks.common import BUNDLED_MODEL, REPO_ROOT, compare_with_bundled_model, format_table, write_results
from models.evaluate import reference_classes
from pipeline.labels import AAMI_CLASSES
from pipeline.records import read_record
from pipeline.scoring import compare_beats, matched_reference_classes
from pipeline.splits import DS1, DS2

N_STRIPS = MAX_STRIPS + MAX_MORE_STRIPS
ECTOPIC_CLASS = {kind: "V" for kind in ("ventricular_tachycardia", "idioventricular_rhythm", "ventricular_couplet",
                                        "ventricular_bigeminy", "ventricular_trigeminy", "isolated_ventricular")}
ECTOPIC_CLASS.update({kind: "S" for kind in ("supraventricular_tachycardia", "supraventricular_run",
                                             "supraventricular_couplet", "supraventricular_bigeminy",
                                             "supraventricular_trigeminy", "isolated_supraventricular")})


def match_reference_classes(record, samples: np.ndarray) -> np.ndarray:
    """Per detected beat, the AAMI class index of the reference beat it matches (EC57, 150 ms), -1 where none."""
    match = compare_beats(record.annotations, samples, record.fs_hz, record.n_samples, start_s=0.0)
    return matched_reference_classes(match, reference_classes(record.annotations), len(samples))


def score_strip(region, fs_hz: float, samples: np.ndarray, classes: np.ndarray, truth: np.ndarray) -> dict:
    """A strip's kind, start, confidence and, for an ectopic kind, its ectopic calls and how many the reference
    confirms."""
    out = {"kind": region.kind, "start_s": round(region.start / fs_hz, 1),
           "confidence": round(float(region.confidence), 3)}
    target = ECTOPIC_CLASS.get(region.kind)
    if target is not None:
        inside = (samples >= region.start) & (samples < region.stop)
        called = inside & (classes == AAMI_CLASSES.index(target))
        out.update(ectopic_calls=int(called.sum()),
                   confirmed=int(np.sum(called & (truth == AAMI_CLASSES.index(target)))))
    return out


def score_record(name: str, data_dir, model) -> dict:
    record = read_record(data_dir / name)
    analysis = analyse_record(record, model)
    samples, classes = analysis.predictions.samples, analysis.predictions.class_indices
    truth = match_reference_classes(record, samples)
    return {way: [score_strip(region, record.fs_hz, samples, classes, truth) for region in chosen]
            for way, chosen in (("longest", choose_strip_events(analysis.regions, N_STRIPS, confidence_min=0.0)),
                                ("clear_first", choose_strip_events(analysis.regions, N_STRIPS)))}


def pool(records: dict, names) -> dict:
    """Per way: strips, strips under the confidence floor, ectopic strips, their calls and confirmed calls, and the
    ectopic strips whose calls the reference confirms in none or fewer than half."""
    out = {}
    for way in ("longest", "clear_first"):
        strips = [s for n in names if n in records for s in records[n][way]]
        ectopic = [s for s in strips if "ectopic_calls" in s and s["ectopic_calls"]]
        calls, confirmed = sum(s["ectopic_calls"] for s in ectopic), sum(s["confirmed"] for s in ectopic)
        out[way] = {"strips": len(strips),
                    "under_confidence_min": sum(s["confidence"] < STRIP_CONFIDENCE_MIN for s in strips),
                    "ectopic_strips": len(ectopic), "ectopic_calls": calls, "confirmed": confirmed,
                    "confirmed_pct": round(100 * confirmed / calls, 1) if calls else None,
                    "ectopic_strips_mostly_unconfirmed": sum(2 * s["confirmed"] < s["ectopic_calls"] for s in ectopic)}
    out["strips_changed"] = sum(a != b for n in names if n in records
                                for a, b in zip(records[n]["longest"], records[n]["clear_first"]))
    return out


def main(argv=None) -> int:
    records = compare_with_bundled_model(score_record, __doc__.splitlines()[0], argv)
    scopes = {"DS1": DS1, "DS2": DS2, "all": tuple(records)}
    summary = {scope: pool(records, chosen) for scope, chosen in scopes.items()}
    rows = [[scope, way, s[way]["strips"], s[way]["under_confidence_min"], s[way]["ectopic_strips"],
             f"{s[way]['confirmed']}/{s[way]['ectopic_calls']}", s[way]["confirmed_pct"],
             s[way]["ectopic_strips_mostly_unconfirmed"]]
            for scope, s in summary.items() for way in ("longest", "clear_first")]
    print(format_table(["records", "strips chosen", "strips", f"confidence < {STRIP_CONFIDENCE_MIN}",
                        "ectopic strips", "confirmed calls", "%", "mostly unconfirmed"], rows))
    print({scope: s["strips_changed"] for scope, s in summary.items()}, "strips changed")
    write_results("report_strips", {"model": str(BUNDLED_MODEL.relative_to(REPO_ROOT)),
                                    "confidence_min": STRIP_CONFIDENCE_MIN, "summary": summary, "records": records})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
