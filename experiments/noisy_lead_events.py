"""Events claimed where one lead is noisy (:func:`pipeline.regions.find_noisy_leads`), against MIT-BIH's reference.

A clinical read of the PDF reports (session 54) found MIT-BIH 105's seven "ventricular tachycardias" false, five of
them inside noise the quality module flags on MLII alone (the other lead counted readable, so the events stood), and
its report said "readable signal 98.7 %". The product keeps such events (read from the clean lead alone, their beats
were classified worse: EXPERIMENTS.md, session 26) and names the noisy lead beside them. This measures what that
mark says on MIT-BIH: for each ectopic event the bundled model claims end to end, whether the reference agrees (at
least half of its beats match, within 150 ms, a reference beat of its origin: V, E or F for a ventricular event;
A, a, J or S for a supraventricular one) and whether a lead is marked noisy. A reading of the mark, not a choice:
nothing is tuned, and the bundled model trained on DS1, so DS1's figures are in-sample (fewer false events); DS2's
are the held-out ones.

Usage::

    PYTHONPATH=. .venv/bin/python experiments/noisy_lead_events.py [--records all|ds1|ds2|100,101]

Writes ``experiments/results/noisy_lead_events.json``.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from app.analysis import analyse_record
from experiments.record_study import run_record_study, split_scopes, write_record_study
from pipeline.records import read_record
from pipeline.regions import find_noisy_leads
from pipeline.splits import PACED
from pipeline.types import STATED_PACEMAKER

GROUPS = {"ventricular events": ("ventricular_couplet", "ventricular_tachycardia", "idioventricular_rhythm"),
          "isolated ventricular": ("isolated_ventricular",),
          "supraventricular events": ("supraventricular_couplet", "supraventricular_tachycardia",
                                      "supraventricular_run"),
          "isolated supraventricular": ("isolated_supraventricular",)}
ORIGIN_SYMBOLS = {"ventricular": ("V", "E", "F"), "supraventricular": ("A", "a", "J", "S")}
MATCH_WINDOW_S = 0.15


def confirm_events(regions, samples: np.ndarray, reference, fs_hz: float) -> list[bool]:
    """Per region: at least half of its beats lie within 150 ms of a reference beat of its origin."""
    keep = np.isin(reference.symbols, sum(ORIGIN_SYMBOLS.values(), ()))
    ref_samples, ref_symbols = reference.samples[keep], np.asarray(reference.symbols)[keep]
    out = []
    for region in regions:
        origin = "supraventricular" if "supraventricular" in region.kind else "ventricular"
        beats = samples[region.beats]
        if not len(ref_samples):
            out.append(False)
            continue
        after = np.clip(np.searchsorted(ref_samples, beats), 0, len(ref_samples) - 1)
        before = np.clip(after - 1, 0, None)
        nearest = np.where(np.abs(ref_samples[before] - beats) <= np.abs(ref_samples[after] - beats), before, after)
        near = np.abs(ref_samples[nearest] - beats) <= MATCH_WINDOW_S * fs_hz
        out.append(bool(np.sum(near & np.isin(ref_symbols[nearest], ORIGIN_SYMBOLS[origin])) * 2 >= len(beats)))
    return out


def study_record(name: str, data_dir, model) -> dict:
    path = data_dir / name
    reference = read_record(path, annotator="atr").annotations
    record = read_record(path, annotator=None)
    if name in PACED:
        record = dataclasses.replace(record, pacemaker=STATED_PACEMAKER)
    analysis = analyse_record(record, model)
    fs, n_leads = analysis.record.fs_hz, analysis.record.signal_mv.shape[1]
    counts = {}
    for group, kinds in GROUPS.items():
        regions = [r for r in analysis.regions if r.kind in kinds]
        confirmed = confirm_events(regions, analysis.predictions.samples, reference, fs)
        marked = [bool(leads) for leads in find_noisy_leads(regions, list(analysis.quality_spans), n_leads, fs)]
        counts[group] = dict(collections.Counter(f"{'marked' if m else 'unmarked'} {'true' if c else 'false'}"
                                                 for m, c in zip(marked, confirmed)))
    return counts


def pool(records: dict, names) -> dict:
    out = {}
    for group in GROUPS:
        total = collections.Counter()
        for name in names:
            total.update(records[name][group])
        marked = total["marked true"] + total["marked false"]
        unmarked = total["unmarked true"] + total["unmarked false"]
        out[group] = {**{k: total[k] for k in ("marked true", "marked false", "unmarked true", "unmarked false")},
                      "false share of marked %": round(100 * total["marked false"] / marked, 1) if marked else None,
                      "false share of unmarked %": round(100 * total["unmarked false"] / unmarked, 1)
                      if unmarked else None}
    return out


def main(argv=None) -> int:
    records = run_record_study(argv, __doc__.splitlines()[0], study_record, lambda name, r: f"{name} {r}")
    write_record_study("noisy_lead_events", {scope: pool(records, names)
                                             for scope, names in split_scopes(records).items()}, records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
