"""Row AZ: one-lead recordings after row AX: the family rule groups their beats at the classifier's positions? DS1 nested.

Row AX (beats reported at their anchored positions, every rule after the classifier on them) was decided on two-lead
records. Read afterwards from one lead (``ecg evaluate --one-lead``), the bundled model's V Se end to end fell on DS1
(in-sample, 96.17 -> 94.06; record 223 91.5 -> 76.5, 207 93.3 -> 89.0) and on DS2 (the model card, 76.3 -> 74.7): the
morphology-family rule, whose QRS window (80 ms each side of the position) starts early on a wide beat at its anchored
position, joined more true V beats to families mostly called N. Over two leads the second lead keeps them apart, and
row AY found the anchored grouping the better one there. Candidate: a record read from one lead has its families
grouped at the positions the classifier took its inputs at (the detector's); two-lead records keep row AX's grouping.

Measured on DS1 read from its primary lead (``read_record(..., max_leads=1)``, as ``--one-lead``), end to end: the
nested fold ensembles of seeds 6 and 7 (trained for row AX, cached; their one-lead detected beats never scored) classify
each held-out record's detected beats, the context stage fitted fold by fold as in row AX, every rule; the AF rule on
the one-lead record at the anchored positions; families from the primary lead at the anchored (product) or detected
(candidate) positions. Regions as ``ecg evaluate-regions --labels model`` finds them (its quality spans and P waves from
the record's two leads, the same for both variants). For context only, the figures from before row AX (everything at
the detector's positions) are reported too.

Criterion, written before the run (product = row AX; averaged or summed over seeds 6 and 7 as said):
(a) beats end to end, averaged: V gross Se higher with the candidate, V +P not lower by more than 0.3 point, N and S
    gross Se and +P not lower by more than 0.3 point;
(b) V runs, per category (couplet, short, long), summed: at most 2 fewer reference runs found and at most 2 more false;
(c) VT and bigeminy episodes, summed: reference episodes found not fewer, false episodes at most 1 more;
(d) AF+AFL duration Se and +P, averaged, not lower by more than 0.5 point.
Adopted when (a)-(d) hold: records read from one lead then group their families at the classifier's positions
(``ecg score``, the dashboard, ``ecg evaluate --one-lead``). Otherwise logged as not adopted. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/one_lead_timing_study.py [--config configs/bundled.toml]
(needs the caches of ``experiments/event_timing_study.py``; about 10 minutes; results:
experiments/results/one_lead_timing_study.json)
"""

from __future__ import annotations

import functools
import sys

from app.config import require_data_dir
from experiments.event_timing_study import label_beats, run_seeds, score_variants
from experiments.family_positions_study import check_criterion as check_family_criterion
from experiments.one_lead_training_study import fold_ensembles
from models.folds import assign_patient_folds
from models.prepare import prepare_beats
from pipeline.detect import detect_record_peaks
from pipeline.quality import find_quality_spans
from pipeline.records import read_record

SEEDS = (6, 7)
VARIANTS = ("before", "product", "candidate")


@functools.lru_cache(maxsize=None)
def read_one_lead(name: str) -> tuple:
    """A DS1 record read from its primary lead, its quality spans and its detected beats."""
    record = read_record(require_data_dir(None) / name, max_leads=1)
    return record, find_quality_spans(record.signal_mv, record.fs_hz), detect_record_peaks(record).samples


def one_lead_detected(config, data, one_lead) -> dict:
    """Per held-out record: its one-lead detected beats, their nested ensemble probabilities and features."""
    ensembles = fold_ensembles(config, data, one_lead)
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    out = {}
    for name in sorted(set(data.record_names.tolist())):
        record, _, samples = read_one_lead(name)
        prepared = prepare_beats(record, samples, config.inputs)
        probabilities = ensembles[fold_of[name]].predict(prepared.inputs.as_dict(), batch_size=1024, verbose=0)
        out[name] = {"samples": samples, "probabilities": probabilities, "features": prepared.inputs.features}
    return out


def label_record(name: str, parts: dict, rules, names, config, variant: str) -> tuple:
    """:func:`experiments.event_timing_study.label_beats` of one record read from one lead: ``"before"`` everything
    at the detector's positions, ``"product"`` row AX, ``"candidate"`` families grouped at the detector's positions."""
    record, spans, detected = read_one_lead(name)
    return label_beats(record, spans, detected, parts, rules, names, config, timed=variant != "before",
                       families_at_detected=variant == "candidate")


def score_seed(config, data, one_lead) -> dict:
    return score_variants(config, data, one_lead, label_record, VARIANTS,
                          detected=one_lead_detected(config, data, one_lead))


def check_criterion(by_seed: dict) -> dict:
    """The module docstring's criterion: row AY's clauses, at this row's seeds."""
    return check_family_criterion(by_seed, SEEDS)


def main(argv=None) -> int:
    return run_seeds(__doc__.splitlines()[0], argv, SEEDS, score_seed, check_criterion, "one_lead_timing_study")


if __name__ == "__main__":
    sys.exit(main())
