"""Pacing rule: with a pacemaker stated, wide beats that come on time, and beats with a pacing spike, are paced (AAMI
class Q, written ``/``).

The networks never saw a paced beat (MIT-BIH's four paced records, 102, 104, 107 and 217, are outside DS1 and DS2).
Read against a record's dominant beat, which in a paced patient is the paced one, they call the paced beats N or V and
the patient's own narrow conducted beats V ("unlike the dominant beat"): on record 217 the bundled model called 516
of its 1,542 paced beats and 154 of its 244 conducted beats V, and over all 48 records 179 of the 231 false ventricular
runs were 217's (``ecg evaluate-regions --split all --labels model``, session 44).

Only where the user states a pacemaker (``Record.pacemaker``: ``ecg score --pacemaker``, the dashboard's checkbox, an
ISHNE header), a beat is paced when its QRS is wide on the product's own width estimate (``qrs_width_ms`` >=
:attr:`PacingRule.min_width_ms`) and it is not premature (``rr_pre_local_ratio`` >= :attr:`PacingRule.on_time_min`):
a pacemaker fires when the patient's own rhythm does not come in time, and its impulse spreads through the ventricles
from cell to cell, slowly. Since session 56 a beat with a pacing spike is paced too (:attr:`PacingRule.spikes`, where
at least a quarter of the beats, and 50 or more, have one). The paced beats are Q whatever the networks and the other
rules say.

The thresholds were fixed on DS1, which holds no paced beat, before any paced record was scored with them
(``experiments/pacing_rule_study.py``, EXPERIMENTS.md row BG): :attr:`PacingRule.min_width_ms` is the 99th percentile
of the width estimate over DS1's reference N beats (113.9 ms, bundle branch block beats included, rounded to 115; the
estimate has its own scale: record 100's normal beats about 33 ms, paced beats 120-150 ms), and the on-time limit is
the sinus-conduction rule's (:mod:`models.conduction_rule`). Pacemaker spikes were taken for rounded off by MIT-BIH's
recorder bandwidth (``experiments/paced_records_scan.py``, session 42); session 56 found them with another measure
(:mod:`pipeline.pacing`), which the product uses to ask for a pacemaker nobody stated and, since row BN, in this rule.

On MIT-BIH's four paced records (102, 104, 107, 217; the pacemaker stated, end to end, the bundled model), pooled:
88.5 % of the paced beats are called Q (6,214 of 7,025; 104's, narrower, 60 %), V Se 88.5 % (unchanged; 1 V beat of 226
taken), beat-level V +P 20.1 -> 43.4 %, false ventricular runs 179 -> 71 and false idioventricular episodes 103 -> 41,
every reference run found kept. Adopted by the study's criterion. Since the morphology-family rule makes the V calls of
a mostly paced family paced rather than N (:mod:`models.family_rule`, a QA pass's finding), 90.2 % (6,336).

Since session 56 a beat with a pacing spike is paced too (:attr:`PacingRule.spikes`), where at least a quarter of the
record's beats have one (:mod:`pipeline.pacing`; ``experiments/pacing_spike_rule_study.py --gated``, EXPERIMENTS.md
row BN): paced beats labelled paced 90.2 -> 95.4 % on the four records, V Se, V +P (43.6 -> 43.7 %), the false
ventricular runs and idioventricular episodes unchanged, and a pacemaker stated by mistake on the other 44 makes the
same 905 beats paced (no unpaced record has spikes before a quarter of its beats).

The variant with :attr:`PacingRule.own_template` (the record's dominant beat taken from the beats not found paced,
every beat classified again, so that a paced patient's own beats are read against their own morphology) went further
on false alarms: 217's own narrow beats called V 154 -> 0, V +P 81.5 %, false V runs 9, false idioventricular episodes
2, V Se 89.4 %. It failed the criterion's clause on runs found: 217's reference couplets found 8 -> 5. It stays an
option, off; judging it again needs paced patients these four records are not (they chose it out). Asked again on
the rule with spikes (``experiments/pacing_template_study.py``, EXPERIMENTS.md row BO, session 57): false V runs
71 -> 7, V +P 43.7 -> 83.8 %, and the same clause failed, 217's couplets found 8 -> 5.

:attr:`PacingRule.max_rate_bpm`, a rate ceiling (a pacemaker does not pace above its upper rate), is an option, off:
at 130 bpm it changed no beat of the four paced records, and stated by mistake on the other 44 no reference V beat
either, only 224 detections on the waves of record 207's ventricular flutter (Q -> V), so it failed its criterion's
clause of fewer V beats made Q (``experiments/pacing_ceiling_study.py``, EXPERIMENTS.md row BH, session 47).

Stated by mistake on the 44 records without a pacemaker, the rule makes Q 550 N, 334 V, 13 S and 2 F beats of about
100,000 (wide on-time beats: bundle branch block, ventricular escape and noisy stretches).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.inputs import read_feature_columns
from pipeline.features import rr_column
from pipeline.pacing import SpikeSettings, find_spiked_beats
from pipeline.types import Record


@dataclass(frozen=True)
class PacingRule:
    """When a beat of a patient with a pacemaker is paced (module docstring)."""

    min_width_ms: float = 115.0
    on_time_min: float = 0.9
    max_rate_bpm: float | None = None
    """A beat faster than this on its preceding interval is not paced, however wide: a pacemaker does not pace the
    ventricles above its upper rate limit, and wide fast beats are the ventricular tachycardia a reader must see
    (None: no ceiling)."""
    own_template: bool = False
    """Take the record's dominant beat from the beats not found paced, and classify again (off: it failed the studies'
    clause on runs found, three of record 217's eight couplets lost, rows BG and BO; module docstring)."""
    spikes: bool = True
    """A beat with a pacing spike (:func:`pipeline.pacing.find_spiked_beats`, on the raw signal) is paced too, wide or
    not, on time or not (``experiments/pacing_spike_rule_study.py``, EXPERIMENTS.md rows BM and BN)."""
    spike_share_min: float = SpikeSettings().record_share_min
    """With ``spikes``, the spikes count only where at least this share of the record's beats (of the piece
    classified, an hour at most) have one (0: wherever found; 0.25, the summary's threshold for a record that reads
    as paced, :attr:`pipeline.pacing.SpikeSettings.record_share_min`: row BN; at 0, row BM, a pacemaker stated by
    mistake made 116 more normal beats paced over the 44 unpaced records)."""

    def __post_init__(self) -> None:
        if not (np.isfinite(self.min_width_ms) and self.min_width_ms > 0):
            raise ValueError(f"Received min_width_ms={self.min_width_ms}; expected a positive number of ms.")
        if not 0.0 <= self.spike_share_min <= 1.0:
            raise ValueError(f"Received spike_share_min={self.spike_share_min}; expected a share in [0, 1].")
        if not (np.isfinite(self.on_time_min) and self.on_time_min > 0):
            raise ValueError(f"Received on_time_min={self.on_time_min}; expected a positive ratio.")
        if self.max_rate_bpm is not None and not (np.isfinite(self.max_rate_bpm) and self.max_rate_bpm > 0):
            raise ValueError(f"Received max_rate_bpm={self.max_rate_bpm}; expected a positive rate in bpm or None.")


def find_paced_beats(features: np.ndarray, feature_names, rr_pre_s: np.ndarray, rule: PacingRule) -> np.ndarray:
    """Boolean per beat: wide (``qrs_width_ms`` >= ``rule.min_width_ms``), on time (``rr_pre_local_ratio`` >=
    ``rule.on_time_min``) and, with a ceiling, not faster than ``rule.max_rate_bpm`` on its preceding interval
    ``rr_pre_s`` (seconds per beat, as :func:`pipeline.rr.compute_rr_features` gives it).

    Examples
    --------
    >>> names = ("qrs_width_ms", "rr_pre_local_ratio")
    >>> x = np.array([[140.0, 1.0], [140.0, 0.7], [40.0, 1.0], [115.0, 0.95], [140.0, 1.0]], np.float32)
    >>> rr_pre_s = np.array([0.8, 0.5, 0.8, 0.8, 0.35])
    >>> find_paced_beats(x, names, rr_pre_s, PacingRule()).tolist()
    [True, False, False, True, True]
    >>> find_paced_beats(x, names, rr_pre_s, PacingRule(max_rate_bpm=130.0)).tolist()
    [True, False, False, True, False]
    """
    column = read_feature_columns(features, feature_names, ("qrs_width_ms", "rr_pre_local_ratio"))
    rr_pre_s = np.asarray(rr_pre_s, np.float64)
    if rr_pre_s.shape != (len(features),):
        raise ValueError(f"Received {rr_pre_s.shape} RR intervals for {len(features)} beats; expected one per beat.")
    paced = (column("qrs_width_ms") >= rule.min_width_ms) & (column("rr_pre_local_ratio") >= rule.on_time_min)
    if rule.max_rate_bpm is not None:
        paced &= rr_pre_s >= 60.0 / rule.max_rate_bpm
    return paced


def find_prepared_paced_beats(prepared, rule: PacingRule, record: Record | None = None) -> np.ndarray:
    """:func:`find_paced_beats` on a record's prepared beats (:class:`models.prepare.PreparedBeats`); with
    ``rule.spikes``, the beats with a pacing spike in ``record``'s signal too (required then), where at least
    ``rule.spike_share_min`` of the beats, and :attr:`pipeline.pacing.SpikeSettings.min_beats` or more, have one."""
    paced = find_paced_beats(prepared.inputs.features, prepared.inputs.feature_names,
                             rr_column(prepared.beats, "rr_pre_s"), rule)
    if rule.spikes:
        if record is None:
            raise ValueError("Received rule.spikes=True and no record; expected the record whose signal holds the "
                             "spikes.")
        spiked = find_spiked_beats(record.signal_mv, record.fs_hz, prepared.beats.samples,
                                   recorded_fs_hz=record.source_fs_hz)
        if len(spiked) >= SpikeSettings().min_beats and spiked.mean() >= rule.spike_share_min:
            paced |= spiked  # on a few beats (a strip) spikes that keep their place can be chance (a review, s56)
    return paced
