"""The predominant rhythm of a record: what a Holter report states first ("sinus rhythm", "atrial fibrillation").

The events (runs, AF episodes, pauses, ...) say what interrupted the rhythm; a reader also wants the rhythm they
interrupted. It is named from what the product already measures, in this order:

1. **Ventricular flutter/fibrillation** over at least :data:`PREDOMINANT_SHARE` of the record
   (:mod:`pipeline.fibrillation`; a QA pass of session 53 found a recording of 207's flutter reading "fewer than 20
   normal beats").
2. **Paced rhythm**: a stated pacemaker, and at least :data:`PREDOMINANT_SHARE` of the beats labelled paced (class Q
   by the pacing rule, :mod:`models.pacing_rule`). Without a stated pacemaker, a record whose beats show pacing spikes
   (:mod:`pipeline.pacing`: at least ``record_share_min`` of the readable beats with a spike that keeps its place;
   session 56, after clinical reads found paced 102 reported as "sinus rhythm").
3. **Atrial fibrillation/flutter**: an AF/flutter burden (:mod:`pipeline.summary`) of at least
   :data:`PREDOMINANT_SHARE` of the readable time.
4. **Sinus rhythm**: the record's normal beats show a clear sinus P wave: the P-wave template of the normal beats with
   the longest preceding intervals (:func:`pipeline.conduction.build_p_template`, the AV-block search's) correlates
   with their P regions at least :data:`SINUS_P_QUALITY` (the AV-block search's ``min_template_quality``). Named by
   the record's mean heart rate, the one the summary prints beside it: sinus bradycardia under
   :data:`SINUS_BRADYCARDIA_BPM` (the 2018 ACC/AHA/HRS guideline's 50 bpm), sinus tachycardia over
   :data:`SINUS_TACHYCARDIA_BPM`, sinus rhythm between; fixed definitions, not the event settings' alert limits. (The
   rate of consecutive normal beats was taken first; a QA pass of session 53 found it above the record's highest
   1-minute rate in 232, whose consecutive "normal" beats were its ectopic atrial runs, and in irregular rhythms.)
   Where 2:1 AV block (:func:`pipeline.regions.find_av_block_regions`) covers at least :data:`PREDOMINANT_SHARE` of the
   readable time, the name is "sinus rhythm with 2:1 AV block" and the rate the ventricular one (the same QA pass:
   a stretch of 231's block read "sinus bradycardia, 36 bpm", which points at the sinus node, not the AV node).
5. **Paced rhythm** again when neither holds but a stated pacemaker paced at least :data:`PACED_SHARE_MIN` of the
   beats (MIT-BIH's 104, whose pacemaker runs close to the sinus rate: many of its beats are fusion beats, labelled
   normal, and under half are labelled paced; this step was added after seeing 104 come out "not determined").
6. Otherwise **not determined**, with the reason (no consistent P wave before the normal beats: junctional or
   ectopic atrial rhythm, fine AF under half the record, P waves too small; or too few normal beats).

This is a statement for the reader to confirm on the strips, not a diagnosis. Known to read as sinus (a QA pass of
session 53): atrial fibrillation the AF detector misses (a 115-s cut of 202's organised AF), an idioventricular rhythm
the classifier calls normal (a cut of 207's), an ectopic atrial rhythm with a P wave like the sinus one, flutter with
fixed conduction.
On MIT-BIH (``experiments/predominant_rhythm_study.py``) it is checked against the reference rhythm that lasts
longest in each record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.conduction import build_p_template
from pipeline.pacing import reads_as_spiked
from pipeline.wording import format_share

PREDOMINANT_SHARE = 0.5
"""A rhythm is predominant over at least this share of the beats (paced) or of the readable time (AF/flutter)."""
SINUS_P_QUALITY = 0.5
"""A P-wave template at least this consistent with the normal beats' P regions shows sinus P waves."""
PACED_SHARE_MIN = 0.1
"""With a stated pacemaker and no sinus P wave, this share of paced beats names the rhythm paced (the share from which
:func:`pipeline.region_eval.reads_as_paced` reads a patient as paced)."""
SINUS_BRADYCARDIA_BPM = 50.0
SINUS_TACHYCARDIA_BPM = 100.0
"""A sinus rhythm's mean rate under (over) these names it sinus bradycardia (tachycardia)."""
MIN_NORMAL_BEATS = 20
"""Fewer normal beats than this give no sinus template and no sinus rate."""

NOT_DETERMINED = "not determined"


@dataclass(frozen=True)
class PredominantRhythm:
    """The predominant rhythm (module docstring): ``name`` (``"sinus rhythm"``, ``"sinus bradycardia"``, ``"sinus
    tachycardia"``, ``"atrial fibrillation/flutter"``, ``"paced rhythm"`` or :data:`NOT_DETERMINED`), the rate it is
    named by (bpm: the sinus rate, or a paced rhythm's mean heart rate, else NaN) and what it was read from, or why it
    was not determined (``basis``). A paced rhythm's rate since session 56 (a clinical read: a steady rate at the
    pacemaker's lower limit is itself a sign of pacing). ``wide_qrs_ms``: the dominant QRS width where it is wide (ST's
    measurement over its limit, :func:`pipeline.region_eval.wide_qrs_ms`, set where the summary is made), else NaN."""

    name: str = NOT_DETERMINED
    rate_bpm: float = float("nan")
    basis: str = "not measured"
    wide_qrs_ms: float = float("nan")

    def describe(self) -> str:
        """One line for a report; a sinus rhythm whose dominant QRS is wide (``wide_qrs_ms``) says so: a clinical read
        of session 58 found 118's and 214's bundle branch block named only in a note, under "sinus rhythm".

        >>> PredominantRhythm("sinus rhythm", 74.6, "sinus P waves").describe()
        'sinus rhythm, 75 bpm (sinus P waves)'
        >>> PredominantRhythm("sinus rhythm", 74.6, "sinus P waves", wide_qrs_ms=146.7).describe()
        'sinus rhythm with a wide QRS (147 ms), 75 bpm (sinus P waves)'
        >>> PredominantRhythm("sinus rhythm with 2:1 AV block", 40.0, "P waves", wide_qrs_ms=125.0).describe()
        'sinus rhythm with 2:1 AV block and a wide QRS (125 ms), 40 bpm (P waves)'
        >>> PredominantRhythm(NOT_DETERMINED, float("nan"), "no consistent P wave").describe()
        'not determined (no consistent P wave)'
        """
        rate = f", {self.rate_bpm:.0f} bpm" if math.isfinite(self.rate_bpm) else ""
        sinus = self.name.startswith("sinus")
        joint = " and" if " with " in self.name else " with"  # "sinus rhythm with 2:1 AV block and a wide QRS"
        wide = f"{joint} a wide QRS ({self.wide_qrs_ms:.0f} ms)" if sinus and math.isfinite(self.wide_qrs_ms) else ""
        return f"{self.name}{wide}{rate} ({self.basis})"

    def to_dict(self) -> dict:
        return {"name": self.name, "rate_bpm": None if not math.isfinite(self.rate_bpm) else round(self.rate_bpm, 1),
                "basis": self.basis,
                "wide_qrs_ms": None if not math.isfinite(self.wide_qrs_ms) else round(self.wide_qrs_ms)}


def mean_rate_outside_bpm(beat_samples: np.ndarray, fs_hz: float, excluded: np.ndarray) -> float:
    """Mean heart rate (bpm) over the RR intervals that lie wholly outside the ``excluded`` (k, 2) [start, stop)
    sample intervals (disjoint, sorted): 60 times their number over their total time; NaN without any.

    >>> beats = np.arange(0, 20) * 360  # 60 bpm, then 120 bpm in [7200, 10800)
    >>> beats = np.concatenate([beats, 7200 + np.arange(1, 21) * 180])
    >>> round(mean_rate_outside_bpm(beats, 360.0, np.array([[7100, 11000]])), 1)
    60.0
    """
    samples = np.asarray(beat_samples, np.int64)
    if len(samples) < 2:
        return float("nan")
    excluded = np.asarray(excluded, np.int64).reshape(-1, 2)
    ends = np.searchsorted(excluded[:, 1], samples[:-1], side="right") if len(excluded) else None
    clear = np.ones(len(samples) - 1, bool)
    if len(excluded):  # an excluded interval starting before the interval's end and ending after its start
        clear = ~((ends < len(excluded)) & (excluded[np.minimum(ends, len(excluded) - 1), 0] < samples[1:]))
    rr_s = np.diff(samples)[clear] / fs_hz
    return 60.0 * len(rr_s) / float(rr_s.sum()) if rr_s.sum() > 0 else float("nan")


def find_predominant_rhythm(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray, beat_classes: np.ndarray,
                            af_burden_pct: float, pacemaker: str | None, heart_rate_mean_bpm: float, *,
                            fibrillation_share: float = 0.0, av_block_share: float = 0.0,
                            pacing_spike_share: float = float("nan"),
                            rate_outside_af_bpm: float = float("nan")) -> PredominantRhythm:
    """The predominant rhythm of a record (module docstring).

    Parameters
    ----------
    signal_mv : np.ndarray
        (n_samples, n_leads) in mV.
    fs_hz : float
        Sampling rate (required).
    beat_samples, beat_classes : np.ndarray
        Beats in time order and their AAMI class letters (paced beats Q).
    af_burden_pct : float
        AF/flutter as a percentage of the readable time (NaN: not assessed, read as none).
    pacemaker : str or None
        The stated pacemaker, if any.
    heart_rate_mean_bpm : float
        The record's mean heart rate (the summary's), which names a sinus rhythm.
    fibrillation_share, av_block_share : float
        Ventricular flutter/fibrillation's share of the record, 2:1 AV block's of the readable time (0-1).
    pacing_spike_share : float
        Share of the readable beats with a pacing spike (:func:`pipeline.pacing.measure_spike_share`; NaN: not
        measured), read when no pacemaker is stated.
    rate_outside_af_bpm : float
        The mean heart rate outside AF/flutter and unreadable signal (:func:`mean_rate_outside_bpm`), which names a
        sinus rhythm when the record has some AF/flutter (NaN: the mean heart rate does). A second clinical read of
        session 57 found 201, 35 % AF at about 88 bpm, reported "sinus rhythm, 64 bpm", its sinus stretches at about
        51 bpm.

    Examples
    --------
    >>> beats = np.arange(1, 100) * 300
    >>> find_predominant_rhythm(np.zeros((30300, 1)), 360.0, beats, np.full(99, "Q"), 0.0, "VVI", 70.0).name
    'paced rhythm'
    >>> find_predominant_rhythm(np.zeros((30300, 1)), 360.0, beats, np.full(99, "N"), 80.0, None, 70.0).name
    'atrial fibrillation/flutter'
    >>> find_predominant_rhythm(np.zeros((30300, 1)), 360.0, beats, np.full(99, "N"), 0.0, None, 70.0).basis
    'no consistent P wave before the normal beats'
    >>> find_predominant_rhythm(np.zeros((30300, 1)), 360.0, beats[:0], np.full(0, "N"), float("nan"), None,
    ...                         float("nan"), fibrillation_share=0.97).describe()
    'ventricular flutter/fibrillation (97 % of the record)'
    >>> spiked = find_predominant_rhythm(np.zeros((30300, 1)), 360.0, beats, np.full(99, "N"), 0.0, None, 70.0,
    ...                                  pacing_spike_share=0.77)
    >>> spiked.name, spiked.rate_bpm, spiked.basis.split("; ")
    ('paced rhythm', 70.0, ['pacing spikes before at least 77 % of the readable beats', 'pacemaker not stated', \
'the mean heart rate'])
    >>> some_paced = np.where(np.arange(99) % 3 == 0, "Q", "N")
    >>> find_predominant_rhythm(np.zeros((30300, 1)), 360.0, beats, some_paced, 0.0, "VVI", 70.0).describe()
    'paced rhythm, 70 bpm (a stated pacemaker pacing 33 % of the beats; no consistent P wave before the normal beats)'
    """
    samples = np.asarray(beat_samples, np.int64)
    classes = np.asarray(beat_classes)
    if fibrillation_share >= PREDOMINANT_SHARE:
        return PredominantRhythm("ventricular flutter/fibrillation", float("nan"),
                                 f"{format_share(100 * fibrillation_share, 0)} % of the record")
    if not len(classes):
        return PredominantRhythm(NOT_DETERMINED, float("nan"), "no beats found")
    paced = float(np.mean(classes == "Q")) if pacemaker is not None and len(classes) else 0.0
    if paced >= PREDOMINANT_SHARE:
        return PredominantRhythm("paced rhythm", heart_rate_mean_bpm, "a stated pacemaker; most beats paced; the "
                                 "mean heart rate")
    if pacemaker is None and reads_as_spiked(pacing_spike_share):
        return PredominantRhythm("paced rhythm", heart_rate_mean_bpm, f"pacing spikes before at least "
                                 f"{format_share(100 * pacing_spike_share, 0)} % of the readable beats; pacemaker not "
                                 "stated; the mean heart rate")
    if math.isfinite(af_burden_pct) and af_burden_pct >= 100 * PREDOMINANT_SHARE:
        return PredominantRhythm("atrial fibrillation/flutter", float("nan"),  # ">99 %", not "100 %" beside a 99.9
                                 f"AF/flutter {format_share(af_burden_pct, 0)} % of the readable time")  # burden
    normal = classes == "N"
    if normal.sum() < MIN_NORMAL_BEATS:
        reason = f"fewer than {MIN_NORMAL_BEATS} normal beats"
    else:
        signal = np.asarray(signal_mv)  # float32 as read: the template gathers only its beats' segments
        template = build_p_template(signal[:, None] if signal.ndim == 1 else signal, samples, normal, fs_hz)
        reason = "" if template is not None and template.quality >= SINUS_P_QUALITY else \
            "no consistent P wave before the normal beats"
    if reason and paced >= PACED_SHARE_MIN:
        return PredominantRhythm("paced rhythm", heart_rate_mean_bpm,
                                 f"a stated pacemaker pacing {format_share(100 * paced, 0)} % of the beats; {reason}")
    if reason:
        return PredominantRhythm(NOT_DETERMINED, float("nan"), reason)
    outside_af = math.isfinite(af_burden_pct) and af_burden_pct > 0 and math.isfinite(rate_outside_af_bpm)
    rate = rate_outside_af_bpm if outside_af else heart_rate_mean_bpm
    if av_block_share >= PREDOMINANT_SHARE:
        return PredominantRhythm("sinus rhythm with 2:1 AV block", rate,
                                 f"every other sinus P wave not conducted for {format_share(100 * av_block_share, 0)} "
                                 "% of the readable time; the mean (ventricular) heart rate"
                                 + (" outside AF/flutter" if outside_af else ""))
    name = ("sinus bradycardia" if rate < SINUS_BRADYCARDIA_BPM else "sinus tachycardia" if rate > SINUS_TACHYCARDIA_BPM
            else "sinus rhythm")
    return PredominantRhythm(name, rate, "sinus P waves before the normal beats; the mean heart rate"
                             + (" outside AF/flutter" if outside_af else ""))
