"""PR interval and first-degree AV block on the MIT-BIH records, against what their headers state (session 59).

MIT-BIH has no reference PR annotations. Its headers state first-degree AV block for 108 ("borderline"), 109 and 207
(DS1), and 111, 228 and 232 (DS2); the other headers say nothing of the PR interval, which is taken here as "no
first-degree block stated", not as a measured normal PR. :mod:`pipeline.pr` measures the PR on the median normal beat
(reference beat positions and classes, the reference AF/flutter episodes left out: the measurement is under study,
not the classifier or the AF detector); ``--end-to-end`` measures it as ``ecg score`` does (detected beats, the bundled
model's classes, the product's AF episodes).

Choice, written before the first run: the P-wave choice (``relative_prominence``: 0.2, 0.3, 0.5, 1.0, the last
meaning "the largest wave") and the onset threshold (``onset_fraction``: 0.1, 0.15, 0.25) are chosen on the 22 DS1
records only, by the number of records whose statement agrees with the measurement (a stated block measured over
200 ms; an unstated one measured at 200 ms or less or not assessed; 108's borderline statement agrees either way,
and 207's too when not assessed, as its bundle branch blocks change through the record); ties go to the defaults
(0.3, 0.15), then to the smaller change from them. The 200-ms limit is the guideline's, not tuned. DS2 is reported
with the chosen values only.

Revised after the first runs (REGIONS.md, session 59): the P-wave prominence is measured over 150 ms on either side,
the onset walk stops where the wave stops falling, and a third choice was added, ``after_rr_fraction`` (0.4, 0.45,
0.5: P-wave peaks only that share of the median RR interval after the previous R wave, which keeps the previous T
wave out), chosen by the same rule. Honest caveat: the method was first drawn up looking at the median beats of all
44 unpaced records, DS2's among them (before the rule above was written), so DS2's agreement is not a clean test.
``--ds2`` prints DS2's records.

Usage: PYTHONPATH=. .venv/bin/python experiments/pr_interval.py [--ds2] [--end-to-end] (about 30 s; end to end
about 10 minutes more). Writes ``experiments/results/pr_interval.json``.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import replace

import numpy as np

from app.config import require_data_dir
from experiments.s_rule_study import REPO_ROOT, write_results
from pipeline.pr import PrSettings, analyse_pr, describe_pr
from pipeline.qt import analyse_qt
from pipeline.quality import find_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import annotated_beats, episode_intervals
from pipeline.splits import DS1, DS2, PACED, records_for_split
from pipeline.st import analyse_st
from pipeline.types import STATED_PACEMAKER

STATED = {"108": "borderline", "109": "stated", "111": "stated", "207": "stated", "228": "stated", "232": "stated"}
"""First-degree AV block as the MIT-BIH headers state it."""

RELATIVE = (0.2, 0.3, 0.5, 1.0)
ONSET = (0.1, 0.15, 0.25)
AFTER_RR = (0.4, 0.45, 0.5)


def reference_inputs(name: str, data_dir) -> tuple:
    """A record, its reference beats and classes, its quality spans, its ST and QT summaries, its reference AF/flutter
    episodes and its pacemaker."""
    record = read_record(data_dir / name, annotator="atr")
    samples, classes = annotated_beats(record.annotations)
    spans = find_quality_spans(record.signal_mv, record.fs_hz)
    pacemaker = STATED_PACEMAKER if name in PACED else None
    st = analyse_st(record.signal_mv, record.fs_hz, samples, classes, spans, record.lead_names, pacemaker=pacemaker)
    af = np.concatenate([episode_intervals(record.annotations, label, record.n_samples).reshape(-1, 2)
                         for label in ("(AFIB", "(AFL")])
    qt = analyse_qt(record.signal_mv, record.fs_hz, samples, classes, st, spans, af, pacemaker=pacemaker)
    return record, samples, classes, spans, (st, qt), af, pacemaker


def measure(inputs, settings: PrSettings):
    record, samples, classes, spans, (st, qt), af, pacemaker = inputs
    return analyse_pr(record.signal_mv, record.fs_hz, samples, classes, st, spans, af, pacemaker=pacemaker,
                      settings=settings, qt_summary=qt)


def agrees(name: str, summary) -> bool:
    """The measurement agrees with the header's statement (module docstring)."""
    stated = STATED.get(name)
    if stated == "borderline" or (name == "207" and not summary.assessed):
        return True
    return summary.first_degree_block == (stated == "stated")


def score(names, summaries) -> dict:
    rows = {n: summaries[n] for n in names}
    return {"agree": sum(agrees(n, s) for n, s in rows.items()), "records": len(rows),
            "disagree": sorted(n for n, s in rows.items() if not agrees(n, s)),
            "assessed": sum(s.assessed for s in rows.values())}


def end_to_end(names, data_dir) -> dict:
    """PR as ``ecg score`` measures it (bundled model) for each record."""
    from app.analysis import analyse_record
    from benchmarks.common import BUNDLED_MODEL
    from models.registry import load_model
    model = load_model(BUNDLED_MODEL)
    out = {}
    for name in names:
        record = read_record(data_dir / name, annotator=None)
        if name in PACED:
            record = replace(record, pacemaker=STATED_PACEMAKER)
        out[name] = analyse_record(record, model).summary.pr
        print(f"  end to end {name}: {describe_pr(out[name])}", flush=True)
    return out


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    data_dir = require_data_dir(None)
    names = records_for_split("all")
    inputs = {n: reference_inputs(n, data_dir) for n in names}
    grid = {}
    for relative, onset, after in itertools.product(RELATIVE, ONSET, AFTER_RR):
        settings = PrSettings(relative_prominence=relative, onset_fraction=onset, after_rr_fraction=after)
        grid[(relative, onset, after)] = score(DS1, {n: measure(inputs[n], settings) for n in DS1})
    default = (PrSettings.relative_prominence, PrSettings.onset_fraction, PrSettings.after_rr_fraction)
    chosen = max(grid, key=lambda k: (grid[k]["agree"], k == default, -sum(abs(a - b) for a, b in zip(k, default))))
    settings = PrSettings(relative_prominence=chosen[0], onset_fraction=chosen[1], after_rr_fraction=chosen[2])
    summaries = {n: measure(inputs[n], settings) for n in names}
    results = {"grid_ds1": {"/".join(map(str, k)): v for k, v in grid.items()}, "chosen": list(chosen),
               "ds1": score(DS1, summaries), "ds2": score(DS2, summaries),
               "records": {n: {"stated": STATED.get(n), **summaries[n].to_dict()} for n in names}}
    for key, value in results["grid_ds1"].items():
        print(f"DS1 relative/onset/after {key}: {value['agree']}/{value['records']} agree; "
              f"disagree {value['disagree']}")
    shown = names if "--ds2" in argv else DS1  # DS2 is read once the choice is made
    print(f"chosen {chosen}; DS1 {results['ds1']}" + (f"; DS2 {results['ds2']}" if "--ds2" in argv else ""))
    for n in shown:
        s = summaries[n]
        print(f"  {n}: {describe_pr(s)}"
              f"{'  [stated: ' + STATED[n] + ']' if n in STATED else ''}")
    if "--end-to-end" in argv:
        product = end_to_end(names, data_dir)
        results["end_to_end"] = {"ds1": score(DS1, product), "ds2": score(DS2, product),
                                 "records": {n: product[n].to_dict() for n in names}}
        print(f"end to end: DS1 {results['end_to_end']['ds1']}; DS2 {results['end_to_end']['ds2']}")
    write_results(REPO_ROOT / "experiments" / "results" / "pr_interval.json", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
