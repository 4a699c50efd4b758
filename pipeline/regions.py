"""Flagged regions: from beat positions and classes to the events a clinician reviews.

Input: R-peak positions, an AAMI class per beat (``N S V F Q``, letters or indices into
:data:`pipeline.labels.AAMI_CLASSES`), the signal-quality spans and, optionally, a per-beat
P-wave similarity (:func:`pipeline.atrial.measure_p_wave_similarity`). Output: a list of
:class:`Region` (start, stop, kind, the beats covered, heart rate, confidence). Everything is
vectorised over beats; a 30-minute record takes a few milliseconds (REGIONS.md).

Rules (thresholds in :class:`RegionSettings`)
---------------------------------------------
unreadable
    Stretches where every lead has a quality span (missing, flat, saturated or noise;
    :mod:`pipeline.quality`). Beats inside are not used for any event, and RR intervals that
    touch or cross one are not used either, so no event is claimed inside noise (EC57's run
    comparator likewise ends runs at unreadable stretches).
ventricular flutter/fibrillation
    The stretches found in the signal by :func:`pipeline.fibrillation.find_fibrillation_intervals`
    (given to :func:`find_regions`), each one region with the detected "beats" (waves) inside.
    Such a stretch is not unreadable even where the quality rule saw noise in every lead, and
    its beats, like unreadable ones, take part in no other event (no runs of VT, pauses or AF).
ventricular and supraventricular ectopy
    Maximal groups of consecutive ectopic beats: ventricular groups are built of V and F beats
    (F extends ventricular runs as in the EC57 run-by-run comparison, WFDB ``rxr``; a group of F
    beats only is not reported), supraventricular groups of S beats. One beat: isolated ectopic;
    two: couplet; three or more: a run, called ventricular tachycardia (VT) when its mean rate
    exceeds ``vt_rate_bpm`` and idioventricular rhythm otherwise (a ventricular group needs
    ``vt_min_v_beats`` V beats for either, else it is reported as a couplet: ``F V V`` is a fusion
    beat and a couplet); supraventricular tachycardia (SVT) above ``svt_rate_bpm`` and a slow
    supraventricular run otherwise (AHA/ACC/HRS 2017; ACC/AHA/HRS 2015).
bigeminy, trigeminy
    At least ``bigeminy_min_ectopics`` (``trigeminy_min_ectopics``) isolated ectopic beats of the
    same family, each separated from the next by exactly one (two) readable N beats. Two options,
    off by default (tried in session 4 and not kept, REGIONS.md): ``ventricular_pattern_allows_s``
    lets S beats stand between ventricular ectopics ("every other beat is a PVC");
    ``bigeminy_counts_fusion`` counts an isolated F beat as an ectopic beat of ventricular bigeminy.
atrial fibrillation or flutter
    For each RR interval, over a centred window of ``af_window_beats`` intervals between
    readable N or S beats (intervals next to V, F or Q beats are left out, which suppresses
    ventricular ectopy, and so are those next to beats the caller marks in ``af_excluded_beats``,
    e.g. V calls a record-level rule relabelled N): the dispersion ``median |RR_i - RR_{i-k}| / mean(RR_i, RR_{i-k})``,
    minimised over lags k = 1..``af_max_lag`` (so that the regularly irregular RR of bigeminy
    and trigeminy, whose lag-2 or lag-3 differences vanish, is not taken for AF), in the spirit
    of the RR-dispersion detectors (Tateno and Glass 2001; Dash et al. 2009; Petrenas et al. 2015).
    With a P-wave similarity, the evidence is ``dispersion + af_p_weight * (1 - similarity)``
    where the windowed median similarity is below ``af_p_gate`` (no consistent P wave: Babaeizadeh
    et al. 2009 combine the same two cues), and nothing elsewhere; without one, the dispersion
    alone against ``af_rr_only_threshold``. Intervals over the threshold are smoothed by a
    centred majority vote over ``af_smoothing_beats`` intervals (only readable intervals with
    enough usable neighbours vote, so an episode continues through an unreadable stretch
    shorter than the vote window when AF is found on both sides; a stretch of up to
    ``af_bridge_max_s`` where no interval can decide, e.g. dense ventricular ectopy, is bridged
    the same way) and kept as episodes of at least ``af_min_duration_s`` (the 30 s of the ESC 2020
    definition of an AF episode). Flutter with fixed conduction is regular and is not found this way.
    A reader's word on the rhythm (``af_edits``, :mod:`pipeline.reader_rhythm`) is applied last.
paced rhythm
    For a patient with a stated pacemaker, whose paced beats the pacing rule found (:mod:`models.pacing_rule`, given
    as ``paced_beats``): at least ``paced_min_beats`` consecutive readable paced beats, from the first to the beat
    after the last, as MIT-BIH's annotators mark ``(P``; ``paced_end_beats`` beats in a row that are not paced (or
    an unreadable stretch) end it (REGIONS.md, session 45). It takes part in no other event.
2:1 AV block, dropped beat
    From the P waves that no QRS follows, on time in the atrial rhythm, which
    :func:`pipeline.conduction.find_blocked_p_waves` finds between N beats (given as ``blocked_p_waves``): at least
    ``av_block_min_cycles`` consecutive readable RR intervals each holding one, whose P waves keep time with the atrial
    rhythm rather than with the QRS (:func:`follows_atrial_rhythm`), are 2:1 AV block (every other P wave conducted),
    from its first beat to its last; any other such interval at least ``dropped_beat_min_rr_ratio`` times the longer
    interval next to it is a dropped beat (second-degree AV block with a single non-conducted P wave; Mobitz I and II
    are not told apart; :func:`is_dropped_beat`). None inside atrial fibrillation/flutter (Barold and Hayes 2001).
pause
    An RR interval between readable beats longer than ``pause_s``.
bradycardia, tachycardia
    At least ``rate_min_duration_s`` of consecutive readable intervals whose running mean
    heart rate (``rate_window_beats`` intervals) is below ``bradycardia_bpm`` (above
    ``tachycardia_bpm``).

Confidence is a number in [0, 1]: the share of clean leads over the region's beats (a beat
seen in a noisy lead of two counts 0.5), times the weakest beat-label confidence of the
region's beats when the labeller gives one; for AF and rate stretches, also times the share of
the stretch's intervals that meet the criterion on their own (before smoothing).

References
----------
Al-Khatib SM et al., "2017 AHA/ACC/HRS guideline for management of patients with ventricular
arrhythmias and the prevention of sudden cardiac death", Circulation 138:e272-e391, 2018
(nonsustained VT: 3 or more consecutive ventricular beats at more than 100 bpm).
Page RL et al., "2015 ACC/AHA/HRS guideline for the management of adult patients with
supraventricular tachycardia", Circulation 133:e506-e574, 2016 (rates above 100 bpm).
Kusumoto FM et al., "2018 ACC/AHA/HRS guideline on the evaluation and management of patients
with bradycardia and cardiac conduction delay", Circulation 140:e382-e482, 2019 (sinus
bradycardia: below 50 bpm).
Hindricks G et al., "2020 ESC guidelines for the diagnosis and management of atrial
fibrillation", Eur Heart J 42(5):373-498, 2021 (an AF episode lasts at least 30 s).
Tateno K, Glass L, "Automatic detection of atrial fibrillation using the coefficient of
variation and density histograms of RR and deltaRR intervals", Med Biol Eng Comput
39(6):664-671, 2001.
Dash S, Chon KH, Lu S, Raeder EA, "Automatic real time detection of atrial fibrillation",
Ann Biomed Eng 37(9):1701-1709, 2009.
Petrenas A, Marozas V, Sornmo L, "Low-complexity detection of atrial fibrillation in continuous
long-term monitoring", Comput Biol Med 65:184-191, 2015.
Babaeizadeh S, Gregg RE, Helfenbein ED, Lindauer JM, Zhou SH, "Improvements in atrial
fibrillation detection for real-time monitoring", J Electrocardiol 42(6):522-526, 2009.
ANSI/AAMI EC57:2012 and the WFDB ``rxr`` comparator (runs of V and F beats).
Barold SS, Hayes DL, "Second-degree atrioventricular block: a reappraisal", Mayo Clin Proc 76(1):44-57, 2001 (2:1
block and single non-conducted P waves; :mod:`pipeline.conduction`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.conduction import BlockedPSettings
from pipeline.errors import EcgInputError
from pipeline.fibrillation import FibrillationSettings
from pipeline.labels import AAMI_CLASSES
from pipeline.quality import ARTEFACT_KIND, QUALITY_KINDS, mask_runs
from pipeline.reader_rhythm import AfEdit, apply_af_edits, check_af_edits
from pipeline.rr import check_peaks
from pipeline.hrt import HrtSettings
from pipeline.pr import PrSettings
from pipeline.qt import QtSettings
from pipeline.st import StSettings
from pipeline.types import QualitySpan, settings_values
from pipeline.wording import count_noun

logger = logging.getLogger(__name__)

REGION_KINDS = (
    "unreadable",
    "ventricular_flutter_fibrillation",
    "atrial_fibrillation",
    "paced_rhythm",
    "ventricular_tachycardia",
    "idioventricular_rhythm",
    "ventricular_couplet",
    "isolated_ventricular",
    "ventricular_bigeminy",
    "ventricular_trigeminy",
    "supraventricular_tachycardia",
    "supraventricular_run",
    "supraventricular_couplet",
    "isolated_supraventricular",
    "supraventricular_bigeminy",
    "supraventricular_trigeminy",
    "av_block_2_to_1",
    "dropped_beat",
    "pause",
    "bradycardia",
    "tachycardia",
)
"""Every region kind, in the order regions starting at the same sample are listed."""

WAVE_KINDS = ("ventricular_flutter_fibrillation",)
"""Regions whose detections are flutter or fibrillation waves, not beats: named by their length, with no beat count,
rate or beat letters (QA passes of the dashboard, session 49, and of the reports, session 50, read "36 beats, 136 bpm"
on a fibrillation episode and N and V letters on its waves)."""

_KIND_WORDS = {"ventricular_flutter_fibrillation": "ventricular flutter/fibrillation",
               "atrial_fibrillation": "atrial fibrillation/flutter", "av_block_2_to_1": "2:1 AV block",
               "dropped_beat": "dropped beat (AV block)"}
"""Kinds whose words are not their names': the AF kind is found from RR irregularity, which atrial flutter with
varying conduction shares (its reference is `(AFIB` and `(AFL` together, REGIONS.md), so it is not called AF alone."""

RATE_KINDS = ("bradycardia", "tachycardia")
"""Kinds found from the heart rate alone, whatever the rhythm."""

SUSTAINED_VT_MIN_S = 30.0
"""Ventricular tachycardia lasting this long or longer is sustained, shorter non-sustained (the 2017 AHA/ACC/HRS
guideline for ventricular arrhythmias: non-sustained VT is 3 or more beats over 100 bpm lasting under 30 s)."""
ACCELERATED_IVR_MIN_BPM = 40.0
"""An idioventricular rhythm at this rate or faster (up to the VT rate) is accelerated (AIVR, "slow VT"); slower, it
is the ventricles' own escape rhythm (20-40 bpm). Sources differ on the lower bound (40, 50 or 60 bpm); 40 is the
ventricular escape rate's upper end."""

MIN_BEAT_INTERVAL_MS = 200.0
"""The shortest interval between two heartbeats (300 bpm): the ventricles' refractory period after a beat lasts about
200-250 ms, the earliest premature beats (R on T) come some 250 ms after the one before, and QRS detectors blank
200 ms after each beat (Pan and Tompkins 1985). A shorter coupling interval, or a couplet or run whose mean interval
is shorter, is named a doubtful figure (:func:`describe_region_measure`): a clinical read of session 58 found 105's "couplet" at 366 bpm and
"isolated ventricular" beat coupled at 186 ms, both artefact, printed as findings. Over DS1 end to end (nested
classes, seed 18) 3 intervals this short join two reference V beats, 25 join detections in record 207 that no
reference beat matches (its flutter) and 4 join a reference beat to such a detection."""

AF_END_PAUSE_S = 3.0
"""A pause that starts at most this long after an atrial fibrillation/flutter episode ends is the pause at its end
(:func:`describe_region`): MIT-BIH 219's episodes, as the product finds them, end 0-2.3 s before their conversion
pauses, a beat or two of the last fibrillation being read as regular."""


_ZERO_ALLOWED = frozenset({"af_bridge_max_s"})
"""Float settings where 0 means "off" rather than being out of range."""


def describe_kind(kind: str) -> str:
    """A region kind in words, lower case: ``"ventricular_couplet"`` -> ``"ventricular couplet"``.

    Examples
    --------
    >>> describe_kind("ventricular_flutter_fibrillation")
    'ventricular flutter/fibrillation'
    """
    return _KIND_WORDS.get(kind, kind.replace("_", " "))


def describe_region(region: Region, fs_hz: float, af_intervals: np.ndarray | None = None) -> str:
    """A flagged region's kind in words, qualified as a reader expects: ventricular tachycardia non-sustained under
    :data:`SUSTAINED_VT_MIN_S`, sustained from it; an idioventricular rhythm accelerated from
    :data:`ACCELERATED_IVR_MIN_BPM` (under it, the ventricles' own escape rate); a bradycardia or tachycardia stretch
    mostly inside the record's atrial fibrillation/flutter episodes (``af_intervals``, :func:`region_intervals`;
    :func:`is_in_af`) is the ventricular response to it, not a sinus rate; a ventricular couplet of more than two beats
    (a group with fusion beats and fewer than ``RegionSettings.vt_min_v_beats`` V beats, e.g. ``F V V``) is named a
    triplet (or run) tallied with the couplets: "couplet with fusion beats" beside "3 beats" read as a contradiction (a
    clinical read, session 53; MIT-BIH's own notes on record 208 call them triplets), and so did "triplet ... counted as
    a couplet" (a clinical read, session 60); a pause inside an atrial
    fibrillation/flutter episode is a pause in it, and one that starts at an episode's end, or within
    :data:`AF_END_PAUSE_S` after it, a pause at its end: the conversion pause of the tachy-brady pattern (a clinical
    read of session 58 found 219's three pauses, each where its AF stops, reported as bare pauses; MIT-BIH marks them
    PSE).

    >>> describe_region(Region("ventricular_couplet", 0, 360, 0, 3, 150.0, 1.0), 360.0)
    'ventricular triplet with fusion beats, tallied with the couplets'
    >>> describe_region(Region("ventricular_tachycardia", 0, 360 * 3, 0, 6, 120.0, 1.0), 360.0)
    'non-sustained ventricular tachycardia'
    >>> describe_region(Region("idioventricular_rhythm", 0, 360 * 3, 0, 4, 80.0, 1.0), 360.0)
    'accelerated idioventricular rhythm'
    >>> describe_region(Region("idioventricular_rhythm", 0, 360 * 6, 0, 4, 35.0, 1.0), 360.0)
    'idioventricular rhythm'
    >>> fast = Region("tachycardia", 3600, 7200, 10, 20, 130.0, 1.0)
    >>> af = region_intervals([Region("atrial_fibrillation", 0, 36000, 0, 200, 110.0, 1.0)], "atrial_fibrillation")
    >>> describe_region(fast, 360.0, af)
    'tachycardia in atrial fibrillation/flutter'
    >>> describe_region(Region("pause", 36000 + 360, 36000 + 1440, 200, 2, 20.0, 1.0), 360.0, af)
    'pause at the end of atrial fibrillation/flutter'
    """
    words = describe_kind(region.kind)
    if region.kind == "ventricular_tachycardia":
        return ("sustained " if region.duration_s(fs_hz) >= SUSTAINED_VT_MIN_S else "non-sustained ") + words
    if region.kind == "idioventricular_rhythm" and region.heart_rate_bpm >= ACCELERATED_IVR_MIN_BPM:
        return "accelerated " + words
    if region.kind == "ventricular_couplet" and region.n_beats > 2:  # "couplet" alone beside "3 beats" contradicted it
        run = "triplet" if region.n_beats == 3 else f"run of {region.n_beats} beats"
        return f"ventricular {run} with fusion beats, tallied with the couplets"
    if region.kind == "pause" and af_intervals is not None and (where := place_pause(region, af_intervals, fs_hz)):
        return f"{words} {where} {describe_kind('atrial_fibrillation')}"
    if region.kind in RATE_KINDS and af_intervals is not None and is_in_af(region, af_intervals):
        return f"{words} in {describe_kind('atrial_fibrillation')}"
    return words


def place_pause(region: Region, af_intervals: np.ndarray, fs_hz: float) -> str:
    """Where a pause lies against the atrial fibrillation/flutter episodes: ``"at the end of"`` one that ends inside it
    or shortly before it (:func:`ends_af`; first: an episode's end, set from beats, often falls on the beat that closes
    the conversion pause, which then lies inside it, as 201's 3.7-s pause at 378 s does), ``"in"`` one that holds it
    (:func:`is_in_af`), else ``""``.

    >>> af = np.array([[0, 3600]])
    >>> [place_pause(Region("pause", a, b, 0, 2, 20.0, 1.0), af, 360.0) for a, b in ((2000, 3000), (2700, 3600),
    ...                                                                            (4000, 5000), (7000, 8000))]
    ['in', 'at the end of', 'at the end of', '']
    """
    if ends_af(region, af_intervals, fs_hz):
        return "at the end of"
    return "in" if is_in_af(region, af_intervals) else ""


def ends_af(region: Region, af_intervals: np.ndarray, fs_hz: float) -> bool:
    """Whether an episode of ``af_intervals`` ends inside ``region`` or at most :data:`AF_END_PAUSE_S` before it
    starts (the episode's end is set from beats, a beat or two off the last fibrillation wave)."""
    ends = np.asarray(af_intervals, np.int64).reshape(-1, 2)[:, 1]
    return bool(np.any((ends >= region.start - AF_END_PAUSE_S * fs_hz) & (ends <= region.stop)))


def region_intervals(regions, kind: str) -> np.ndarray:
    """[start, stop) samples of the regions of ``kind``, merged (e.g. the atrial fibrillation/flutter episodes that
    :func:`is_in_af` reads)."""
    return merge_intervals([(r.start, r.stop) for r in regions if r.kind == kind])


def is_in_af(region: Region, af_intervals: np.ndarray) -> bool:
    """Whether at least half of ``region`` lies inside ``af_intervals`` (:func:`region_intervals`)."""
    inside = intersect_intervals(af_intervals, np.array([[region.start, region.stop]], np.int64))
    return bool(len(inside)) and 2 * int(np.sum(inside[:, 1] - inside[:, 0])) >= region.stop - region.start


def describe_region_measure(region: Region) -> str:
    """The figure a reader looks for in a region: a pause's length (s), an isolated ectopic beat's coupling interval
    (ms), otherwise the mean heart rate (bpm); ``""`` when it is undefined (an unreadable stretch, or flutter or
    fibrillation waves, :data:`WAVE_KINDS`, whose rate is not a heart rate).

    >>> describe_region_measure(Region("pause", 0, 2113, 0, 2, 60 / 5.87, 1.0))
    '5.87 s'
    >>> describe_region_measure(Region("isolated_ventricular", 100, 101, 3, 1, 150.0, 1.0))
    'coupling interval 400 ms'
    >>> describe_region_measure(Region("ventricular_couplet", 100, 300, 3, 2, 151.4, 1.0))
    '151 bpm'

    An interval under :data:`MIN_BEAT_INTERVAL_MS` is one no heart makes, and the figure says so:

    >>> describe_region_measure(Region("isolated_ventricular", 100, 101, 3, 1, 60000 / 186, 1.0))
    "coupling interval 186 ms (within the heart's refractory period: artefact?)"
    >>> describe_region_measure(Region("ventricular_couplet", 100, 160, 3, 2, 366.0, 1.0))
    "366 bpm (beats under 200 ms apart, within the heart's refractory period: artefact?)"
    """
    rate = region.heart_rate_bpm
    if not np.isfinite(rate) or rate <= 0 or region.kind in WAVE_KINDS:
        return ""
    if region.kind in LENGTH_KINDS:
        return f"{measure_length_s(region):.2f} s"
    implausible = is_within_refractory(region)
    refractory = "within the heart's refractory period: artefact?"
    if region.kind.startswith("isolated_"):
        return f"coupling interval {60000.0 / rate:.0f} ms" + (f" ({refractory})" if implausible else "")
    apart = f"beats under {MIN_BEAT_INTERVAL_MS:.0f} ms apart"
    return f"{rate:.0f} bpm" + (f" ({apart}, {refractory})" if implausible else "")


def is_within_refractory(region: Region) -> bool:
    """Whether a region of beats (not a pause, nor flutter or fibrillation waves) has an interval no heart makes: an
    isolated ectopic beat's coupling interval, or a couplet's or run's mean interval, under
    :data:`MIN_BEAT_INTERVAL_MS`.

    >>> is_within_refractory(Region("ventricular_couplet", 100, 160, 3, 2, 366.0, 1.0))
    True
    >>> is_within_refractory(Region("ventricular_couplet", 100, 300, 3, 2, 151.4, 1.0))
    False
    """
    rate = region.heart_rate_bpm
    return bool(np.isfinite(rate) and rate > 0 and region.kind not in WAVE_KINDS
                and region.kind not in LENGTH_KINDS and 60000.0 / rate < MIN_BEAT_INTERVAL_MS)


LENGTH_KINDS = ("pause", "dropped_beat")
"""Kinds whose measure is their own length (:func:`describe_region_measure`): no heart rate, and a sum of their
lengths is no time a reader uses (a clinical read of the dashboard, session 60: 232's nine pauses "total duration
00:00:22.6")."""


def measure_length_s(region: Region) -> float:
    """The length (s) of a region of :data:`LENGTH_KINDS` (a pause, a dropped beat): its one RR interval, kept as the
    rate ``60 / RR``; NaN for another kind or an undefined rate. The report's pause tally, the main findings and
    the region measure read a pause's length here.

    >>> round(measure_length_s(Region("pause", 0, 2113, 0, 2, 60 / 5.87, 1.0)), 2)
    5.87
    >>> measure_length_s(Region("ventricular_couplet", 100, 300, 3, 2, 151.4, 1.0))
    nan
    """
    rate = region.heart_rate_bpm
    return 60.0 / rate if region.kind in LENGTH_KINDS and np.isfinite(rate) and rate > 0 else float("nan")


def is_counted_not_timed(kind: str) -> bool:
    """Isolated ectopic beats and couplets: events a Holter report counts but does not time or call episodes.

    >>> is_counted_not_timed("ventricular_couplet"), is_counted_not_timed("ventricular_bigeminy")
    (True, False)
    """
    return kind.startswith("isolated_") or kind.endswith("_couplet")


def describe_region_size(region: Region, fs_hz: float) -> str:
    """How big a region is: its beats (``"2 beats"``), or the length of flutter or fibrillation (:data:`WAVE_KINDS`),
    whose detections are waves (``"92.0 s"``); nothing for a pause or a dropped beat, whose measure is its length
    (:func:`describe_region_measure`: a clinical read, session 54, found "pause at 00:17:31, 2 beats").

    >>> describe_region_size(Region("ventricular_couplet", 100, 300, 3, 2, 151.4, 1.0), 360.0)
    '2 beats'
    >>> describe_region_size(Region("ventricular_flutter_fibrillation", 0, 33120, 0, 330, 204.0, 1.0), 360.0)
    '92.0 s'
    >>> describe_region_size(Region("pause", 0, 2113, 0, 2, 60 / 5.87, 1.0), 360.0)
    ''
    """
    if region.kind in ("pause", "dropped_beat"):
        return ""
    if region.kind in WAVE_KINDS:
        return f"{region.duration_s(fs_hz):.1f} s"
    return count_noun(region.n_beats, "beat")


VENTRICULAR_RUN_KINDS = ("isolated_ventricular", "ventricular_couplet", "ventricular_tachycardia",
                         "idioventricular_rhythm")
SUPRAVENTRICULAR_RUN_KINDS = ("isolated_supraventricular", "supraventricular_couplet",
                              "supraventricular_tachycardia", "supraventricular_run")

_N, _S, _V, _F, _Q = range(5)
_KIND_ORDER = {kind: i for i, kind in enumerate(REGION_KINDS)}
_FAMILIES = {
    "ventricular": ((_V, _F), _V, ("isolated_ventricular", "ventricular_couplet", "ventricular_tachycardia",
                                   "idioventricular_rhythm", "ventricular_bigeminy", "ventricular_trigeminy")),
    "supraventricular": ((_S,), _S, ("isolated_supraventricular", "supraventricular_couplet",
                                     "supraventricular_tachycardia", "supraventricular_run",
                                     "supraventricular_bigeminy", "supraventricular_trigeminy")),
}
"""Per family: classes that extend a group, class a group must contain, kinds (1, 2, fast run, slow run,
bigeminy, trigeminy)."""


class BeatLabelError(EcgInputError):
    """Beat classes are not usable (wrong length, unknown class)."""


@dataclass(frozen=True)
class RegionSettings:
    """Thresholds of the region rules, with their clinical sources (module docstring).

    Attributes
    ----------
    pause_s : float
        An RR interval longer than this is a pause (2.0 s, the usual Holter reporting
        threshold; pauses over 3 s are the ones guidelines single out).
    bradycardia_bpm, tachycardia_bpm : float
        Rate limits of bradycardia (50 bpm, ACC/AHA/HRS 2018) and tachycardia (100 bpm).
    rate_window_beats : int
        Intervals in the running mean that gives each interval's heart rate (odd).
    rate_min_duration_s : float
        Shortest bradycardia or tachycardia stretch reported (a project choice: brief rate
        swings are not stretches).
    vt_rate_bpm, svt_rate_bpm : float
        A run of at least ``run_min_beats`` ventricular (supraventricular) beats faster than this
        is VT (SVT): 100 bpm (AHA/ACC/HRS 2017; ACC/AHA/HRS 2015).
    run_min_beats : int
        Consecutive ectopic beats that make a run (3).
    vt_min_v_beats : int
        V beats a ventricular group needs to be a rhythm (VT or idioventricular rhythm); a group of three
        or more V and F beats with fewer is reported as a couplet. F beats extend ventricular runs as
        EC57 counts them, but a fusion beat is partly conducted. 3: three ventricular beats, as MIT-BIH's
        annotators mark ``(VT`` (REGIONS.md, session 41; EXPERIMENTS.md rows BD-BE); 1: every group
        qualifies (until session 41).
    bigeminy_min_ectopics, trigeminy_min_ectopics : int
        Isolated ectopic beats in a bigeminal (trigeminal) pattern that make an episode (3: the
        shortest episodes the MIT-BIH annotators marked ``(B`` and ``(T``).
    ventricular_pattern_allows_s : bool
        S beats may stand between the ectopic beats of ventricular bigeminy and trigeminy. Off: on
        DS1 out-of-fold labels it found one more bigeminy episode of 53 (Se 83.0 -> 84.9 %), under
        the noise level, and nothing with reference labels (``experiments/pattern_study.py``).
    bigeminy_counts_fusion : bool
        Isolated F beats count as ectopic beats of ventricular bigeminy. Off: it found more DS1
        episodes (Se 98.1 -> 100 % with reference labels, 84.9 -> 88.7 % with out-of-fold labels),
        but the same rule for trigeminy made false episodes out of record 208's fusion beats, and
        on the DS2 reference labels (looked at after the DS1 choice) it made 29 false bigeminy
        episodes (+P 100 -> 79.4 %).
    paced_min_beats : int
        Consecutive paced beats that make a paced rhythm (3, a run's length; REGIONS.md, session 45).
    paced_end_beats : int
        Beats in a row that are not paced and end a paced rhythm: 2, so that a single fusion or conducted beat stays
        inside it, as in MIT-BIH's ``(P`` episodes (chosen by a criterion written before measuring on MIT-BIH's four
        paced records: duration Se 74.6 -> 83.4 %, +P 99.8 -> 99.4 % against 1; REGIONS.md, session 45).
    af_window_beats : int
        RR intervals in the centred window of the AF evidence (odd; 31 is about 25 s at 75 bpm).
    af_max_lag : int
        Largest lag of the RR differences whose smallest median dispersion is used.
    af_p_weight, af_p_gate, af_threshold : float
        AF evidence with a P-wave similarity: ``dispersion + af_p_weight * (1 - similarity)``,
        zero where the windowed similarity is at least ``af_p_gate``; AF above ``af_threshold``.
        Chosen on DS1 (REGIONS.md): the middle of the range of thresholds that are all best on DS1.
    af_rr_only_threshold : float
        Threshold of the dispersion alone, used when no P-wave similarity is given (chosen on DS1
        the same way).
    af_smoothing_beats : int
        Centred majority vote over this many intervals (odd).
    af_min_duration_s : float
        Shortest AF episode reported (30 s, ESC 2020).
    af_min_valid_fraction : float
        Share of a window's intervals that must be usable (between readable N or S beats) for an
        AF decision there.
    af_bridge_max_s : float
        An AF episode continues through a stretch of at most this long where no interval decides
        (too few usable intervals: dense ventricular ectopy, or unreadable signal) when AF is found
        on both sides of it; 0: no bridging beyond the vote window. 30 s: chosen on DS1 with nested
        classes (``experiments/af_bridge_study.py``, REGIONS.md session 20; 30 and 60 s tie).
    unreadable_kinds : tuple of str
        Quality-span kinds that make a stretch unreadable (all four by default). The noise rule of
        :mod:`pipeline.quality` also flags some runs of wide ventricular beats, so leaving out
        ``"noise"`` trades noise suppression for ventricular-run sensitivity (REGIONS.md).
    fibrillation : FibrillationSettings
        The ventricular flutter/fibrillation detector (:mod:`pipeline.fibrillation`).
    av_block_min_cycles : int
        Consecutive RR intervals each holding a blocked P wave that make 2:1 AV block (3, as for a run: two cycles of
        2:1 conduction in a row can be two dropped beats of Mobitz block).
    av_block_min_delay_slope : float
        Least slope of a run's blocked P waves' delays after the QRS on its intervals (:func:`follows_atrial_rhythm`):
        0.5 for P waves that keep time with the atrial rhythm, 0 for a wave tied to the QRS (a U wave of a slow sinus
        rhythm); 0.25, halfway.
    av_block_min_rr_sd_s : float
        Least spread (standard deviation) of a run's intervals for that slope to be measured (0.01 s).
    dropped_beat_cycle_range : tuple of float
        Range of the atrial cycle up to a dropped beat's blocked P wave over the sinus cycle around it (0.7-1.3: the
        blocked P wave is one cycle after the beat's own, give or take a sinus arrhythmia's change and, after a
        Wenckebach sequence, the lengthening PR intervals' part of the cycle around it; MIT-BIH 231's isolated dropped
        beats 0.91-0.97; a synthetic 5:4 Wenckebach at 60 bpm 0.79-0.98).
    dropped_beat_min_rr_ratio : float
        A dropped beat's interval over the sinus cycle around it (1.5: two atrial cycles, or a little less after a
        Wenckebach sequence's lengthening PR; 231's 1.87-1.95; :func:`is_dropped_beat`).
    blocked_p : BlockedPSettings
        How a blocked P wave is found (:mod:`pipeline.conduction`).
    ventricular_runs_in_fibrillation : bool
        The beats inside a ventricular flutter/fibrillation stretch still make ventricular runs
        (VT), written as the rhythm there; off, they take part in no other event (chosen on DS1,
        REGIONS.md).
    st : StSettings
        The ST-segment analysis of the record summary: measurement points and the episode rule (:mod:`pipeline.st`).
    qt : QtSettings
        The QT measurement of the record summary (:mod:`pipeline.qt`).
    pr : PrSettings
        The PR measurement of the record summary (:mod:`pipeline.pr`).
    hrt : HrtSettings
        The heart-rate turbulence of the record summary: tachogram filter rules and category limits
        (:mod:`pipeline.hrt`).
    """

    pause_s: float = 2.0
    bradycardia_bpm: float = 50.0
    tachycardia_bpm: float = 100.0
    rate_window_beats: int = 9
    rate_min_duration_s: float = 10.0
    vt_rate_bpm: float = 100.0
    svt_rate_bpm: float = 100.0
    run_min_beats: int = 3
    vt_min_v_beats: int = 3
    bigeminy_min_ectopics: int = 3
    trigeminy_min_ectopics: int = 3
    ventricular_pattern_allows_s: bool = False
    bigeminy_counts_fusion: bool = False
    paced_min_beats: int = 3
    paced_end_beats: int = 2
    af_window_beats: int = 31
    af_max_lag: int = 3
    af_p_weight: float = 0.2
    af_p_gate: float = 0.6
    af_threshold: float = 0.195
    af_rr_only_threshold: float = 0.11
    af_smoothing_beats: int = 31
    af_min_duration_s: float = 30.0
    af_min_valid_fraction: float = 0.5
    af_bridge_max_s: float = 30.0
    unreadable_kinds: tuple[str, ...] = QUALITY_KINDS
    fibrillation: FibrillationSettings = FibrillationSettings()
    av_block_min_cycles: int = 3
    av_block_min_delay_slope: float = 0.25
    av_block_min_rr_sd_s: float = 0.01
    dropped_beat_cycle_range: tuple[float, float] = (0.7, 1.3)
    dropped_beat_min_rr_ratio: float = 1.5
    blocked_p: BlockedPSettings = BlockedPSettings()
    ventricular_runs_in_fibrillation: bool = False
    st: StSettings = StSettings()
    qt: QtSettings = QtSettings()
    pr: PrSettings = PrSettings()
    hrt: HrtSettings = HrtSettings()

    def __post_init__(self) -> None:
        unknown = set(self.unreadable_kinds) - set(QUALITY_KINDS)
        if unknown:
            raise ValueError(f"Received unreadable_kinds={self.unreadable_kinds}; expected kinds among "
                             f"{QUALITY_KINDS}.")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int" and not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ValueError(f"Received {f.name}={value!r}; expected a positive integer.")
            if f.name in _ZERO_ALLOWED:
                if not (np.isfinite(value) and value >= 0):
                    raise ValueError(f"Received {f.name}={value!r}; expected 0 (off) or a positive number.")
            elif f.type == "float" and not (np.isfinite(value) and value > 0):
                raise ValueError(f"Received {f.name}={value!r}; expected a positive number.")
        for name in ("rate_window_beats", "af_window_beats", "af_smoothing_beats"):
            if getattr(self, name) % 2 == 0:
                raise ValueError(f"Received {name}={getattr(self, name)}; expected an odd number (a centred window).")
        if self.run_min_beats < 3:
            raise ValueError(f"Received run_min_beats={self.run_min_beats}; expected at least 3 (2 is a couplet).")
        if not self.bradycardia_bpm < self.tachycardia_bpm:
            raise ValueError(f"Received bradycardia_bpm={self.bradycardia_bpm} and tachycardia_bpm="
                             f"{self.tachycardia_bpm}; expected bradycardia_bpm < tachycardia_bpm.")
        low, high = self.dropped_beat_cycle_range
        if not 0 < low < 1 < high:
            raise ValueError(f"Received dropped_beat_cycle_range={self.dropped_beat_cycle_range}; expected (low, high) "
                             "with 0 < low < 1 < high.")
        if not self.af_min_valid_fraction <= 1:
            raise ValueError(f"Received af_min_valid_fraction={self.af_min_valid_fraction}; expected at most 1.")

    def to_dict(self) -> dict[str, float | list[str]]:
        """Plain dict (JSON-serialisable) of the settings."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple)
                else v.to_dict() if f.name in NESTED_SETTINGS else v for f in fields(self)}

    @classmethod
    def from_dict(cls, values: dict) -> "RegionSettings":
        """Inverse of :meth:`to_dict`, for values from a file (e.g. ``ecg score --events FILE``): missing keys
        keep their defaults; unknown keys and values of the wrong kind raise ``ValueError`` naming the key
        (:func:`pipeline.types.settings_values`), as do out-of-range values."""
        values = settings_values(cls, values)
        for name, (kind, what) in NESTED_SETTINGS.items():
            if name not in values:
                continue
            if not isinstance(values[name], dict):
                raise ValueError(f"Received {name}={values[name]!r}; expected a table of {what} settings.")
            try:
                values[name] = kind.from_dict(values[name])
            except ValueError as error:
                raise ValueError(f"[{name}] {error}") from None
        return cls(**values)


NESTED_SETTINGS = {"fibrillation": (FibrillationSettings, "detector"), "st": (StSettings, "ST analysis"),
                   "qt": (QtSettings, "QT measurement"), "pr": (PrSettings, "PR measurement"),
                   "hrt": (HrtSettings, "heart-rate turbulence"),
                   "blocked_p": (BlockedPSettings, "blocked P-wave")}
"""The settings of :class:`RegionSettings` that are tables of their own (``[fibrillation]``, ``[st]``, ``[qt]``, ``[pr]``,
``[hrt]`` in a file)."""


def changed_settings(values: dict) -> dict:
    """``{key: value}`` of the :meth:`RegionSettings.to_dict` content that differs from the defaults, the keys of its
    tables as ``fibrillation.KEY``, ``st.KEY``, ``qt.KEY`` and ``hrt.KEY``.

    >>> changed_settings({**RegionSettings().to_dict(), "pause_s": 3.0})
    {'pause_s': 3.0}
    """
    def flatten(content: dict, prefix: str = "") -> dict:
        out = {}
        for key, value in content.items():
            out.update(flatten(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
        return out

    given, default = flatten(values), flatten(RegionSettings().to_dict())
    return {key: value for key, value in given.items() if default.get(key) != value}


@dataclass(frozen=True, slots=True)
class Region:
    """One flagged event of a record.

    Attributes
    ----------
    kind : str
        One of :data:`REGION_KINDS`.
    start, stop : int
        Samples at the record's rate, ``stop`` exclusive: from the first to just after the last
        beat of the region (for ``unreadable``, the stretch itself).
    first_beat, n_beats : int
        The region covers beats ``first_beat`` to ``first_beat + n_beats - 1`` (indices into the
        beat arrays given to :func:`find_regions`); ``first_beat`` is -1 when ``n_beats`` is 0.
    heart_rate_bpm : float
        Mean rate over the region's RR intervals (for one beat, its coupling interval); NaN when
        undefined.
    confidence : float
        In [0, 1] (see the module docstring).
    """

    kind: str
    start: int
    stop: int
    first_beat: int
    n_beats: int
    heart_rate_bpm: float
    confidence: float

    @property
    def beats(self) -> slice:
        """Slice of the beat arrays covered by the region."""
        return slice(max(self.first_beat, 0), max(self.first_beat, 0) + self.n_beats)

    def duration_s(self, fs_hz: float) -> float:
        return (self.stop - self.start) / fs_hz


def beats_in_kind(regions, kind: str, n_beats: int) -> np.ndarray:
    """Boolean per beat: inside a region of ``kind`` (e.g. ``unreadable``, ``atrial_fibrillation``)."""
    inside = np.zeros(n_beats, bool)
    for region in regions:
        if region.kind == kind and region.n_beats:
            inside[region.beats] = True
    return inside


@dataclass(frozen=True)
class BeatContext:
    """What every rule needs to know about the beats of one record (built by :func:`prepare_beats`).

    ``interval_readable[i]`` is true when RR interval ``i`` (from beat ``i`` to beat ``i + 1``)
    has both beats readable and crosses no unreadable stretch. Beats inside ventricular
    flutter/fibrillation (``fibrillation``, [start, stop) rows) are not readable either, but their
    stretches are not in ``unreadable``. ``af_excluded`` marks beats the AF evidence leaves out
    whatever their class (none when empty); ``paced`` the beats the pacing rule found paced (none when empty).
    """

    samples: np.ndarray
    classes: np.ndarray
    fs_hz: float
    readable: np.ndarray
    interval_readable: np.ndarray
    confidence: np.ndarray
    unreadable: np.ndarray
    fibrillation: np.ndarray = field(default_factory=lambda: np.empty((0, 2), np.int64))
    af_excluded: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    paced: np.ndarray = field(default_factory=lambda: np.empty(0, bool))

    @property
    def rr_s(self) -> np.ndarray:
        return np.diff(self.samples) / self.fs_hz


def find_regions(
    beat_samples: np.ndarray,
    beat_classes: np.ndarray,
    fs_hz: float,
    quality_spans: list[QualitySpan],
    n_samples: int,
    settings: RegionSettings = RegionSettings(),
    *,
    n_leads: int | None = None,
    p_wave_similarity: np.ndarray | None = None,
    beat_confidence: np.ndarray | None = None,
    fibrillation_intervals: np.ndarray | None = None,
    af_excluded_beats: np.ndarray | None = None,
    paced_beats: np.ndarray | None = None,
    blocked_p_waves: np.ndarray | None = None,
    af_edits: tuple[AfEdit, ...] = (),
) -> list[Region]:
    """Flag the ectopy, runs, rhythms, pauses, rate stretches and unreadable stretches of a record.

    Parameters
    ----------
    beat_samples : np.ndarray
        R-peak samples, strictly ascending, within ``[0, n_samples)``.
    beat_classes : np.ndarray
        One AAMI class per beat: letters ``N S V F Q`` or indices into ``AAMI_CLASSES``.
    fs_hz : float
        Sampling rate of the samples (required).
    quality_spans : list of QualitySpan
        From :func:`pipeline.quality.find_quality_spans`.
    n_samples : int
        Length of the record.
    settings : RegionSettings
    n_leads : int, optional
        Leads of the record; a stretch is unreadable when all of them have a quality span. By
        default one more than the largest lead index in ``quality_spans`` (conservative: a lead
        without spans that is not counted makes more of the record unreadable, never less).
    p_wave_similarity : np.ndarray, optional
        Per beat, from :func:`pipeline.atrial.measure_p_wave_similarity`; without it, AF is
        judged from RR intervals alone.
    beat_confidence : np.ndarray, optional
        Per beat, the labeller's confidence in the class (for example the softmax probability);
        1 when not given.
    fibrillation_intervals : np.ndarray, optional
        (k, 2) [start, stop) samples of ventricular flutter/fibrillation, from
        :func:`pipeline.fibrillation.find_fibrillation_intervals`; none when not given.
    af_excluded_beats : np.ndarray, optional
        Boolean per beat: beats whose RR intervals the AF evidence leaves out whatever their class
        (for example V calls a record-level rule relabelled N, :mod:`models.family_rule`); none when
        not given.
    paced_beats : np.ndarray, optional
        Boolean per beat: the Q beats the pacing rule found paced, for a patient with a stated pacemaker
        (:mod:`models.pacing_rule`); they make the paced rhythms. None: no paced beat.
    blocked_p_waves : np.ndarray, optional
        (k, 2) rows of :func:`pipeline.conduction.find_blocked_p_waves` (the beat opening the RR interval, the P
        wave's sample); they make 2:1 AV block and dropped beats. None: none looked for.
    af_edits : tuple of (int, int, bool)
        A reader's word on the atrial rhythm: stretches stated atrial fibrillation/flutter or not
        (:mod:`pipeline.reader_rhythm`), applied in order over the episodes the rules find.

    Returns
    -------
    list of Region
        Sorted by start, then by :data:`REGION_KINDS` order.

    Examples
    --------
    >>> t = np.arange(20) * 288  # 75 bpm at 360 Hz
    >>> classes = np.array(list("NNNNNVNNNNNNNNNNNNNN"))
    >>> [(r.kind, r.first_beat) for r in find_regions(t, classes, 360.0, [], 6000)]
    [('isolated_ventricular', 5)]
    """
    context = prepare_beats(beat_samples, beat_classes, fs_hz, quality_spans, n_samples, n_leads, beat_confidence,
                            settings.unreadable_kinds, fibrillation_intervals, af_excluded_beats, paced_beats)
    regions = find_unreadable_regions(context) + find_fibrillation_regions(context) + find_paced_regions(context,
                                                                                                         settings)
    for family in _FAMILIES:
        regions += find_ectopic_regions(context, family, settings)
    regions += find_af_regions(context, settings, p_wave_similarity, check_af_edits(af_edits, n_samples))
    regions += find_av_block_regions(context, settings, blocked_p_waves, regions)
    regions += find_pause_regions(context, settings)
    regions += find_rate_regions(context, settings, regions)
    regions.sort(key=lambda r: (r.start, _KIND_ORDER[r.kind]))
    return regions


def prepare_beats(beat_samples: np.ndarray, beat_classes: np.ndarray, fs_hz: float,
                  quality_spans: list[QualitySpan], n_samples: int, n_leads: int | None = None,
                  beat_confidence: np.ndarray | None = None,
                  unreadable_kinds: tuple[str, ...] = QUALITY_KINDS,
                  fibrillation_intervals: np.ndarray | None = None,
                  af_excluded_beats: np.ndarray | None = None, paced_beats: np.ndarray | None = None) -> BeatContext:
    """Check the inputs and derive readability and confidence per beat (:class:`BeatContext`).

    Only spans of ``unreadable_kinds`` and a reader's artefact marks (:data:`pipeline.quality.ARTEFACT_KIND`)
    count towards unreadable stretches; all spans lower the per-beat confidence. Ventricular
    flutter/fibrillation stretches are taken out of the unreadable ones, and their beats are not readable.
    """
    if not fs_hz > 0:
        raise ValueError(f"Received fs_hz={fs_hz}; expected a positive sampling rate in Hz.")
    if n_samples < 0:
        raise ValueError(f"Received n_samples={n_samples}; expected a non-negative length.")
    samples = check_peaks(beat_samples, n_samples)
    classes = encode_classes(beat_classes, len(samples))
    n_leads = n_leads if n_leads is not None else 1 + max((s.lead for s in quality_spans), default=0)
    fibrillation = check_intervals(fibrillation_intervals, n_samples)
    unreadable = subtract_intervals(find_unreadable_intervals(
        [s for s in quality_spans if s.kind in unreadable_kinds or s.kind == ARTEFACT_KIND], n_leads), fibrillation)
    excluded = merge_intervals(np.concatenate([unreadable, fibrillation]))
    readable = ~inside_intervals(samples, excluded) & ~near_absent_signal(samples, quality_spans, unreadable_kinds,
                                                                          n_leads, fs_hz)
    crossing = np.diff(np.searchsorted(excluded[:, 0], samples, side="right")) > 0
    confidence = clean_lead_fraction(samples, quality_spans, n_leads)
    if beat_confidence is not None:
        confidence = confidence * check_beat_confidence(beat_confidence, len(samples))
    return BeatContext(samples, classes, float(fs_hz), readable, readable[1:] & readable[:-1] & ~crossing,
                       confidence, unreadable, fibrillation, check_beat_mask(af_excluded_beats, len(samples)),
                       check_beat_mask(paced_beats, len(samples)))


BEAT_WINDOW_S = (0.25, 0.45)
"""Signal a beat's class is read from, before and after its R wave (the bundled model's ``pre_s`` and ``post_s``)."""

ABSENT_KINDS = ("missing", "flat", "saturated")
"""Quality kinds in which the signal is not there at all (unlike noise, over which a beat still shows)."""


def near_absent_signal(samples: np.ndarray, quality_spans: list[QualitySpan], unreadable_kinds: tuple[str, ...],
                       n_leads: int, fs_hz: float) -> np.ndarray:
    """Per beat: its window (:data:`BEAT_WINDOW_S`) reaches into a stretch where every lead is missing, flat or at its
    rail (of ``unreadable_kinds``). Such a beat's waveform is cut (the beat just before a dropout loses its T wave and
    looked ventricular), so it is as unreadable as the stretch.

    >>> spans = [QualitySpan("flat", lead, 1000, 2000) for lead in (0, 1)]
    >>> near_absent_signal(np.array([500, 900, 2050, 2300]), spans, ("flat",), 2, 360.0).tolist()
    [False, True, True, False]
    """
    kinds = set(ABSENT_KINDS) & set(unreadable_kinds)
    absent = find_unreadable_intervals([s for s in quality_spans if s.kind in kinds], n_leads)
    if not len(absent) or not len(samples):
        return np.zeros(len(samples), bool)
    before, after = (int(round(t * fs_hz)) for t in BEAT_WINDOW_S)
    widened = np.column_stack([absent[:, 0] - after, absent[:, 1] + before])
    return inside_intervals(samples, merge_intervals(np.clip(widened, 0, None)))


def find_noisy_leads(regions, quality_spans: list[QualitySpan], n_leads: int, fs_hz: float
                     ) -> list[tuple[int, ...]]:
    """For each of ``regions``, the leads with a quality problem (:class:`pipeline.types.QualitySpan`: noise, missing,
    flat or saturated signal) over the signal a region was read from: its stretch, widened by the first beat's and the
    last beat's window (:data:`BEAT_WINDOW_S`); none when every lead has one there (the stretch is unreadable, where no
    event is claimed) or none has.

    An event can be claimed where one lead is noisy and the other is not, and a classifier reads both: a clinical read
    of the PDF reports (session 54) found MIT-BIH 105's seven ventricular tachycardias false, five of them inside noise
    flagged on MLII alone, which the report did not say (``readable signal 98.7 %``). The report and the tables name
    such leads, for the reader to check the event on the ECG; the event itself is kept (read from the clean lead alone,
    such beats were classified worse: EXPERIMENTS.md, session 26).

    >>> noisy = [QualitySpan("noise", 0, 1000, 2000)]
    >>> couplets = [Region("ventricular_couplet", 2050, 2150, 5, 2, 150.0, 0.9),  # its first window from 1960
    ...             Region("ventricular_couplet", 2400, 2500, 6, 2, 150.0, 0.9)]
    >>> find_noisy_leads(couplets, noisy, 2, 360.0)
    [(0,), ()]
    >>> find_noisy_leads([Region("pause", 1500, 2300, 4, 2, 25.0, 1.0)], noisy + [QualitySpan("flat", 1, 0, 9000)], 2,
    ...                  360.0)
    [()]
    """
    before, after = (int(round(t * fs_hz)) for t in BEAT_WINDOW_S)
    waves = np.array([r.kind in WAVE_KINDS for r in regions], bool)
    lo = np.array([r.start for r in regions], np.int64) - np.where(waves, 0, before)
    hi = np.array([r.stop for r in regions], np.int64) + np.where(waves, 0, after - 1)
    flags = np.zeros((len(regions), n_leads), bool)
    for lead in range(n_leads):
        spans = merge_intervals([(s.start, s.stop) for s in quality_spans if s.lead == lead])
        if len(spans):  # disjoint and sorted: the first span ending after a region's start overlaps it, or none does
            first = np.searchsorted(spans[:, 1], lo, side="right")
            inside = first < len(spans)
            flags[inside, lead] = spans[first[inside], 0] < hi[inside]
    return [() if row.all() else tuple(int(k) for k in np.flatnonzero(row)) for row in flags]


def check_intervals(intervals: np.ndarray | None, n_samples: int) -> np.ndarray:
    """(k, 2) int64 [start, stop) rows within ``[0, n_samples]``, merged; empty for None."""
    if intervals is None:
        return np.empty((0, 2), np.int64)
    rows = np.asarray(intervals)
    if rows.size and (rows.ndim != 2 or rows.shape[1] != 2 or rows.min() < 0 or rows.max() > n_samples
                      or np.any(rows[:, 1] < rows[:, 0])):
        raise ValueError(f"Received intervals of shape {rows.shape}; expected (k, 2) [start, stop) samples "
                         f"within [0, {n_samples}].")
    return merge_intervals(rows.reshape(-1, 2))


def subtract_intervals(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The parts of the disjoint sorted [start, stop) intervals ``a`` outside those of ``b``.

    Examples
    --------
    >>> subtract_intervals(np.array([[0, 10], [20, 30]]), np.array([[5, 25]])).tolist()
    [[0, 5], [25, 30]]
    """
    out = []
    for start, stop in np.asarray(a, dtype=np.int64).reshape(-1, 2).tolist():
        for lo, hi in np.asarray(b, dtype=np.int64).reshape(-1, 2).tolist():
            if hi <= start or lo >= stop:
                continue
            if lo > start:
                out.append((start, lo))
            start = max(start, hi)
            if start >= stop:
                break
        if start < stop:
            out.append((start, stop))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def encode_classes(beat_classes: np.ndarray, n_beats: int) -> np.ndarray:
    """AAMI class indices (int8) from letters or indices, checked against :data:`AAMI_CLASSES`."""
    classes = np.asarray(beat_classes)
    if classes.shape != (n_beats,):
        raise BeatLabelError(f"Received beat classes of shape {classes.shape}; expected ({n_beats},), one per beat.")
    if classes.dtype.kind in "iu":
        bad = (classes < 0) | (classes >= len(AAMI_CLASSES))
        if bad.any():
            raise BeatLabelError(f"Received class index {classes[bad][0]}; expected 0 to {len(AAMI_CLASSES) - 1} "
                                 f"(indices into {AAMI_CLASSES}).")
        return classes.astype(np.int8)
    letters = classes.astype("<U1")
    index = np.searchsorted(np.array(sorted(AAMI_CLASSES)), letters)
    order = np.array([AAMI_CLASSES.index(c) for c in sorted(AAMI_CLASSES)], dtype=np.int8)
    known = np.isin(letters, AAMI_CLASSES) & (classes.astype(str) == letters)
    if not known.all():
        raise BeatLabelError(f"Received beat class {classes[~known][0]!r}; expected one of {AAMI_CLASSES} "
                             "or an index into them.")
    return order[index]


def check_beat_mask(mask: np.ndarray | None, n_beats: int) -> np.ndarray:
    """A boolean mask of one value per beat (all False when ``mask`` is None), shape checked."""
    if mask is None:
        return np.zeros(n_beats, bool)
    values = np.asarray(mask)
    if values.shape != (n_beats,) or values.dtype != bool:
        raise BeatLabelError(f"Received a beat mask of shape {values.shape} and type {values.dtype}; expected "
                             f"({n_beats},) booleans, one per beat.")
    return values


def check_beat_confidence(beat_confidence: np.ndarray, n_beats: int) -> np.ndarray:
    """Return the per-beat confidence as float64 after checking its shape and range."""
    values = np.asarray(beat_confidence, dtype=np.float64)
    if values.shape != (n_beats,) or not np.all((values >= 0) & (values <= 1)):
        raise BeatLabelError(f"Received beat confidences of shape {values.shape}; expected ({n_beats},) values "
                             "in [0, 1].")
    return values


def find_unreadable_intervals(quality_spans: list[QualitySpan], n_leads: int) -> np.ndarray:
    """(k, 2) [start, stop) stretches covered by a quality span in every one of ``n_leads`` leads."""
    per_lead = [merge_intervals([(s.start, s.stop) for s in quality_spans if s.lead == lead])
                for lead in range(n_leads)]
    common = per_lead[0] if per_lead else np.empty((0, 2), np.int64)
    for other in per_lead[1:]:
        common = intersect_intervals(common, other)
    return common


def merge_intervals(intervals: list[tuple[int, int]] | np.ndarray) -> np.ndarray:
    """Union of [start, stop) intervals as sorted, disjoint, non-touching (k, 2) int64 rows."""
    rows = np.asarray(intervals, dtype=np.int64).reshape(-1, 2)
    rows = rows[rows[:, 1] > rows[:, 0]]
    if len(rows) == 0:
        return rows
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    reach = np.maximum.accumulate(rows[:, 1])
    new = np.concatenate([[True], rows[1:, 0] > reach[:-1]])
    starts = rows[new, 0]
    stops = reach[np.concatenate([np.flatnonzero(new)[1:] - 1, [len(rows) - 1]])]
    return np.stack([starts, stops], axis=1)


def intersect_intervals(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection of two sets of disjoint sorted [start, stop) intervals."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i, 0], b[j, 0]), min(a[i, 1], b[j, 1])
        if lo < hi:
            out.append((lo, hi))
        if a[i, 1] < b[j, 1]:
            i += 1
        else:
            j += 1
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def inside_intervals(samples: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """True where a sample lies in one of the disjoint sorted [start, stop) ``intervals``."""
    k = np.searchsorted(intervals[:, 0], samples, side="right") - 1
    return (k >= 0) & (samples < intervals[np.maximum(k, 0), 1]) if len(intervals) else np.zeros(len(samples), bool)


def clean_lead_fraction(samples: np.ndarray, quality_spans: list[QualitySpan], n_leads: int) -> np.ndarray:
    """Per beat, the share of the ``n_leads`` leads with no quality span at the beat."""
    affected = np.zeros(len(samples))
    for lead in range(n_leads):
        spans = merge_intervals([(s.start, s.stop) for s in quality_spans if s.lead == lead])
        affected += inside_intervals(samples, spans)
    return 1.0 - affected / max(n_leads, 1)


def find_unreadable_regions(context: BeatContext) -> list[Region]:
    """One ``unreadable`` region per unreadable stretch, with the beats that fall inside it."""
    first = np.searchsorted(context.samples, context.unreadable[:, 0])
    after = np.searchsorted(context.samples, context.unreadable[:, 1])
    return [Region("unreadable", int(a), int(b), int(f) if n else -1, int(n), float("nan"), 1.0)
            for (a, b), f, n in zip(context.unreadable.tolist(), first.tolist(), (after - first).tolist())]


def find_fibrillation_regions(context: BeatContext) -> list[Region]:
    """One ``ventricular_flutter_fibrillation`` region per stretch, with the waves detected inside it.

    Its rate is the detected waves per minute; its confidence the mean share of clean leads over
    those waves (1 when none was detected): a stretch the quality rule also called noise is
    flagged with a low confidence, for the reader to look at.
    """
    first = np.searchsorted(context.samples, context.fibrillation[:, 0])
    after = np.searchsorted(context.samples, context.fibrillation[:, 1])
    regions = []
    for (a, b), f, n in zip(context.fibrillation.tolist(), first.tolist(), (after - first).tolist()):
        rate = 60.0 * context.fs_hz * (n - 1) / (context.samples[f + n - 1] - context.samples[f]) if n > 1 else np.nan
        confidence = float(context.confidence[f:f + n].mean()) if n else 1.0
        regions.append(Region("ventricular_flutter_fibrillation", int(a), int(b), int(f) if n else -1, int(n),
                              float(rate), confidence))
    return regions


def find_true_runs(mask: np.ndarray, breaks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and lengths of the runs of True in a boolean array; ``breaks[i]`` (one fewer than ``mask``)
    ends a run between elements ``i`` and ``i + 1``.

    >>> find_true_runs(np.array([1, 1, 0, 1, 1, 1], bool), breaks=np.array([0, 0, 0, 1, 0], bool))
    (array([0, 3, 4]), array([2, 1, 2]))
    """
    if breaks is None:
        runs = mask_runs(mask)
        return runs[:, 0], runs[:, 1] - runs[:, 0]
    mask = np.asarray(mask, bool)
    joined = mask[1:] & mask[:-1] & ~np.asarray(breaks, bool)
    starts = np.flatnonzero(mask & ~np.concatenate([[False], joined]))
    ends = np.flatnonzero(mask & ~np.concatenate([joined, [False]]))
    return starts, ends - starts + 1


def find_crossings(context: BeatContext) -> np.ndarray:
    """Per RR interval, whether both its beats are readable and it crosses an unreadable stretch (no beat was seen
    there, so the two beats are not neighbours in any run or pattern)."""
    return context.readable[1:] & context.readable[:-1] & ~context.interval_readable


def mean_rates_bpm(samples: np.ndarray, first: np.ndarray, n_beats: np.ndarray, fs_hz: float) -> np.ndarray:
    """Mean heart rate over beats ``first .. first + n - 1``; for one beat, its coupling interval (NaN if none)."""
    last = first + n_beats - 1
    span = samples[last] - samples[first]
    single = n_beats == 1
    previous = np.maximum(first - 1, 0)
    span = np.where(single, samples[first] - samples[previous], span)
    count = np.where(single, 1, n_beats - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = 60.0 * fs_hz * count / span
    return np.where(span > 0, rate, np.nan)


def make_regions(kind: str | np.ndarray, context: BeatContext, first: np.ndarray, n_beats: np.ndarray,
                 rates: np.ndarray, confidence: np.ndarray) -> list[Region]:
    """Regions over beats ``first .. first + n - 1`` (start at the first beat, stop just after the last)."""
    starts = context.samples[first]
    stops = context.samples[first + n_beats - 1] + 1
    kinds = [kind] * len(first) if isinstance(kind, str) else kind.tolist()
    return [Region(k, a, b, f, n, r, c) for k, a, b, f, n, r, c in
            zip(kinds, starts.tolist(), stops.tolist(), first.tolist(), n_beats.tolist(), rates.tolist(),
                confidence.tolist())]


def group_confidence(context: BeatContext, first: np.ndarray, n_beats: np.ndarray) -> np.ndarray:
    """Smallest beat confidence within each group of beats (vectorised with ``minimum.reduceat``)."""
    if len(first) == 0:
        return np.empty(0)
    bounds = np.stack([first, first + n_beats], axis=1).ravel()
    values = np.append(context.confidence, 1.0)
    return np.minimum.reduceat(values, bounds)[::2]


def find_ectopic_regions(context: BeatContext, family: str, settings: RegionSettings) -> list[Region]:
    """Isolated ectopic beats, couplets, runs, bigeminy and trigeminy of one family.

    ``family`` is ``"ventricular"`` (groups of V and F beats with at least one V) or
    ``"supraventricular"`` (groups of S beats).
    """
    members, required, kinds = _FAMILIES[family]
    usable = context.readable
    if family == "ventricular" and settings.ventricular_runs_in_fibrillation:
        usable = usable | inside_intervals(context.samples, context.fibrillation)
    in_group = np.isin(context.classes, members) & usable
    first, n_beats = find_true_runs(in_group, find_crossings(context))
    required_count = interval_count(context.classes == required, first, n_beats)
    keep = required_count > 0
    isolated_any = first[n_beats == 1]  # including single F beats, which are not reported on their own
    first, n_beats, required_count = first[keep], n_beats[keep], required_count[keep]
    rates = mean_rates_bpm(context.samples, first, n_beats, context.fs_hz)
    fast_limit = settings.vt_rate_bpm if family == "ventricular" else settings.svt_rate_bpm
    kind = np.where(n_beats == 1, kinds[0], np.where(n_beats == 2, kinds[1], np.where(
        rates > fast_limit, kinds[2], kinds[3])))
    short = n_beats < settings.run_min_beats
    if family == "ventricular":
        short |= required_count < settings.vt_min_v_beats
    kind = np.where((n_beats > 2) & short, kinds[1], kind)
    confidence = group_confidence(context, first, n_beats)
    regions = make_regions(kind.astype(object), context, first, n_beats, rates, confidence)
    singles = first[n_beats == 1]
    ventricular = family == "ventricular"
    between = (_N, _S) if ventricular and settings.ventricular_pattern_allows_s else (_N,)
    bigeminal = isolated_any if ventricular and settings.bigeminy_counts_fusion else singles
    regions += find_pattern_regions(context, bigeminal, 2, settings.bigeminy_min_ectopics, kinds[4], between,
                                    paced_between=ventricular)
    regions += find_pattern_regions(context, singles, 3, settings.trigeminy_min_ectopics, kinds[5], between,
                                    paced_between=ventricular)
    return regions


def find_paced_regions(context: BeatContext, settings: RegionSettings) -> list[Region]:
    """Paced rhythms: at least ``paced_min_beats`` readable paced Q beats, where fewer than ``paced_end_beats``
    readable beats in a row that are not paced, between two paced ones, stay inside the rhythm; an unreadable
    stretch ends it.

    >>> t = np.arange(12) * 300
    >>> classes = np.array(list("QQQNQQQNNQQQ"))
    >>> context = prepare_beats(t, classes, 360.0, [], 4000, paced_beats=classes == "Q")
    >>> [(r.first_beat, r.n_beats) for r in find_paced_regions(context, RegionSettings())]
    [(0, 7), (9, 3)]
    >>> [(r.first_beat, r.n_beats) for r in find_paced_regions(context, RegionSettings(paced_end_beats=1))]
    [(0, 3), (4, 3), (9, 3)]
    """
    if not context.paced.any():
        return []
    paced = context.paced & (context.classes == _Q) & context.readable
    breaks = find_crossings(context)
    member = paced.copy()
    if settings.paced_end_beats > 1:
        gap_first, gap_n = find_true_runs(~paced & context.readable, breaks)
        after = gap_first + gap_n  # the beat after each gap
        inside = (gap_first > 0) & (after < len(paced)) & (gap_n < settings.paced_end_beats)
        before, after = np.maximum(gap_first - 1, 0), np.minimum(after, len(paced) - 1)
        inside &= paced[before] & paced[after] & ~breaks[np.minimum(before, len(breaks) - 1)]
        inside &= ~breaks[np.maximum(after - 1, 0)]
        for a, n in zip(gap_first[inside].tolist(), gap_n[inside].tolist()):
            member[a:a + n] = True
    first, n_beats = find_true_runs(member, breaks)
    keep = interval_count(paced, first, n_beats) >= settings.paced_min_beats
    first, n_beats = first[keep], n_beats[keep]
    rates = mean_rates_bpm(context.samples, first, n_beats, context.fs_hz)
    return make_regions("paced_rhythm", context, first, n_beats, rates, group_confidence(context, first, n_beats))


def find_pattern_regions(context: BeatContext, singles: np.ndarray, period: int, min_ectopics: int,
                         kind: str, between_classes: tuple[int, ...] = (_N,), paced_between: bool = False
                         ) -> list[Region]:
    """Bigeminy (``period`` 2) or trigeminy (3): chains of isolated ectopic beats ``period`` beats apart.

    Every beat between two links of a chain must be a readable beat of ``between_classes``, or, with
    ``paced_between``, a paced beat (``context.paced``, Q by the pacing rule): a paced patient's ventricular bigeminy
    alternates V and paced beats, as MIT-BIH's annotators mark ``(B`` (REGIONS.md, session 45).
    """
    if len(singles) < 2:
        return []
    link = np.diff(singles) == period
    crossings = find_crossings(context)
    for offset in range(period):
        link &= ~crossings[np.minimum(singles[:-1] + offset, len(crossings) - 1)]
    for offset in range(1, period):
        between = np.minimum(singles[:-1] + offset, len(context.classes) - 1)
        allowed = np.isin(context.classes[between], between_classes)
        if paced_between and context.paced.any():
            allowed |= context.paced[between] & (context.classes[between] == _Q)
        link &= allowed & context.readable[between]
    starts, n_links = find_true_runs(link)
    keep = n_links + 1 >= min_ectopics
    first = singles[starts[keep]]
    n_beats = period * n_links[keep] + 1
    rates = mean_rates_bpm(context.samples, first, n_beats, context.fs_hz)
    return make_regions(kind, context, first, n_beats, rates, group_confidence(context, first, n_beats))


def windowed_nanmedian(values: np.ndarray, width: int) -> np.ndarray:
    """Median of the non-NaN values in a centred window of ``width`` (odd) around each element.

    NaN where the window holds no value. Sorting puts NaN last, so the median of the ``k``
    valid values is read at positions ``(k - 1) // 2`` and ``k // 2`` of each sorted row.
    """
    half = width // 2
    padded = np.pad(np.asarray(values, dtype=np.float64), half, constant_values=np.nan)
    table = np.sort(sliding_window_view(padded, width), axis=1)
    count = width - np.count_nonzero(np.isnan(table), axis=1)
    rows = np.arange(len(values))
    low = table[rows, np.maximum(count - 1, 0) // 2]
    high = table[rows, np.maximum(count, 1) // 2]
    return np.where(count > 0, 0.5 * (low + high), np.nan)


def windowed_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Mean of a centred window of ``width`` (odd), the missing ends counted as 0."""
    half = width // 2
    total = np.cumsum(np.concatenate([[0.0], np.pad(np.asarray(values, dtype=np.float64), half)]))
    return (total[width:] - total[:-width]) / width


def measure_rr_dispersion(rr_s: np.ndarray, usable: np.ndarray, width: int, max_lag: int) -> np.ndarray:
    """Per interval: the smallest, over lags 1..``max_lag``, windowed median of ``|RR_i - RR_{i-k}|`` / their mean.

    Only pairs of usable intervals count; NaN where a window has no usable pair.
    """
    rr = np.where(usable, rr_s, np.nan)
    best = np.full(len(rr), np.inf)
    for lag in range(1, max_lag + 1):
        if len(rr) <= lag:
            break
        ratio = np.full(len(rr), np.nan)
        ratio[lag:] = 2.0 * np.abs(rr[lag:] - rr[:-lag]) / (rr[lag:] + rr[:-lag])
        best = np.fmin(best, windowed_nanmedian(ratio, width))
    return np.where(np.isfinite(best), best, np.nan)


def score_af_evidence(context: BeatContext, settings: RegionSettings,
                      p_wave_similarity: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, float]:
    """Per RR interval, the AF evidence, whether it decides, and the threshold (module docstring).

    An interval decides when it is readable and at least ``af_min_valid_fraction`` of its window
    is usable; the others get evidence 0 and no vote.
    """
    eligible = af_eligible_beats(context)
    usable = eligible[1:] & eligible[:-1] & context.interval_readable
    width = settings.af_window_beats
    dispersion = measure_rr_dispersion(context.rr_s, usable, width, settings.af_max_lag)
    enough = windowed_mean(usable, width) >= settings.af_min_valid_fraction
    if p_wave_similarity is None:
        evidence, threshold = dispersion, settings.af_rr_only_threshold
    else:
        similarity = np.where(eligible, np.asarray(p_wave_similarity, dtype=np.float64), np.nan)
        beat_level = windowed_nanmedian(similarity, width)
        level = np.fmin(beat_level[1:], beat_level[:-1])
        level = np.where(np.isnan(level), 1.0, level)
        evidence = np.where(level < settings.af_p_gate, dispersion + settings.af_p_weight * (1.0 - level), 0.0)
        threshold = settings.af_threshold
    decided = enough & np.isfinite(evidence) & context.interval_readable
    return np.where(decided, evidence, 0.0), decided, threshold


def find_af_regions(context: BeatContext, settings: RegionSettings,
                    p_wave_similarity: np.ndarray | None = None, af_edits: tuple[AfEdit, ...] = ()) -> list[Region]:
    """Atrial fibrillation (or flutter with irregular conduction) episodes of at least ``af_min_duration_s``, with a
    reader's ``af_edits`` over them (:mod:`pipeline.reader_rhythm`: an episode the reader stated or extended is kept
    whatever its length, at confidence 1)."""
    if len(context.samples) < 3:
        return []
    if p_wave_similarity is not None and np.shape(p_wave_similarity) != context.samples.shape:
        raise BeatLabelError(f"Received a P-wave similarity of shape {np.shape(p_wave_similarity)}; expected "
                             f"{context.samples.shape}, one value per beat.")
    evidence, decided, threshold = score_af_evidence(context, settings, p_wave_similarity)
    above = (evidence > threshold) & decided
    width = settings.af_smoothing_beats
    votes, voters = windowed_mean(above, width), windowed_mean(decided, width)
    smoothed = (voters > 0) & (votes > 0.5 * voters)
    if settings.af_bridge_max_s > 0:
        smoothed = bridge_undecided(smoothed, voters == 0, context.samples, context.fs_hz, settings.af_bridge_max_s)
    first, n_intervals = keep_long_runs(smoothed, context, settings.af_min_duration_s)
    stated = np.zeros(len(smoothed), bool)
    if af_edits:
        flags = np.zeros(len(smoothed), bool)
        for start, count in zip(first.tolist(), n_intervals.tolist()):
            flags[start:start + count] = True
        flags, stated = apply_af_edits(flags, context.samples, context.interval_readable, af_edits)
        first, n_intervals = keep_long_runs(flags, context, settings.af_min_duration_s, stated)
    n_beats = n_intervals + 1
    support = interval_share(above, first, n_intervals)
    confidence = np.where(interval_count(stated, first, n_intervals) > 0, 1.0,
                          support * group_mean(context.confidence, first, n_beats))
    rates = mean_rates_bpm(context.samples, first, n_beats, context.fs_hz)
    return make_regions("atrial_fibrillation", context, first, n_beats, rates, confidence)


def keep_long_runs(flags: np.ndarray, context: BeatContext, min_s: float,
                   kept: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start and length (in RR intervals) of the runs of ``flags`` lasting at least ``min_s``, and of those holding
    an interval of ``kept`` whatever their length."""
    first, n_intervals = find_true_runs(flags)
    duration_s = (context.samples[first + n_intervals] - context.samples[first]) / context.fs_hz
    keep = duration_s >= min_s
    if kept is not None:
        keep |= interval_count(kept, first, n_intervals) > 0
    return first[keep], n_intervals[keep]


def bridge_undecided(flags: np.ndarray, undecided: np.ndarray, samples: np.ndarray, fs_hz: float,
                     max_s: float) -> np.ndarray:
    """``flags`` (per interval) with each gap of undecided intervals between two flagged runs filled when it lasts
    at most ``max_s`` (interval ``i`` spans ``samples[i]`` to ``samples[i + 1]``).

    >>> bridge_undecided(np.array([1, 0, 0, 1, 0, 1], bool), np.array([0, 1, 1, 0, 0, 1], bool),
    ...                  np.arange(7) * 360, 360.0, 2.0).astype(int).tolist()
    [1, 1, 1, 1, 0, 1]
    """
    out = np.array(flags, dtype=bool, copy=True)
    first, n_intervals = find_true_runs(~out)
    for start, count in zip(first.tolist(), n_intervals.tolist()):
        stop = start + count
        inner = start > 0 and stop < len(out)
        if inner and undecided[start:stop].all() and (samples[stop] - samples[start]) / fs_hz <= max_s:
            out[start:stop] = True
    return out


def interval_count(flags: np.ndarray, first: np.ndarray, n_intervals: np.ndarray) -> np.ndarray:
    """Number of True among ``flags[first : first + n]`` for each group."""
    counts = np.cumsum(np.concatenate([[0], flags.astype(np.int64)]))
    return counts[first + n_intervals] - counts[first]


def interval_share(flags: np.ndarray, first: np.ndarray, n_intervals: np.ndarray) -> np.ndarray:
    """Share of True among ``flags[first : first + n]`` for each group."""
    return interval_count(flags, first, n_intervals) / np.maximum(n_intervals, 1)


def group_mean(values: np.ndarray, first: np.ndarray, n_beats: np.ndarray) -> np.ndarray:
    """Mean of ``values[first : first + n]`` for each group."""
    totals = np.cumsum(np.concatenate([[0.0], values]))
    return (totals[first + n_beats] - totals[first]) / np.maximum(n_beats, 1)


def find_av_block_regions(context: BeatContext, settings: RegionSettings, blocked_p_waves: np.ndarray | None,
                          found: list[Region] = ()) -> list[Region]:
    """2:1 AV block and dropped beats from the blocked P waves (rows of
    :func:`pipeline.conduction.find_blocked_p_waves`: opening beat, blocked P wave's sample, the opening beat's own P
    wave's sample), outside the atrial fibrillation/flutter episodes of ``found``.

    At least ``av_block_min_cycles`` consecutive readable intervals holding one are 2:1 AV block when their P waves
    keep time with the atrial rhythm rather than with the QRS before them (:func:`follows_atrial_rhythm`); a wave a
    fixed time after every QRS, as a U wave in a slow sinus rhythm, is not a blocked P wave, and the run is dropped. Any
    other such interval is a dropped beat when the blocked P wave comes one sinus cycle after the beat's own and the
    interval is two cycles long or nearly (:func:`is_dropped_beat`).

    >>> t = np.cumsum(np.r_[0, [300] * 4, 600, [300] * 4, 590, 610, 600, 620, [300] * 4])  # 72 bpm, 2:1 at 36
    >>> context = prepare_beats(t, np.array(["N"] * len(t)), 360.0, [], int(t[-1]) + 100)
    >>> index = np.array([4, 9, 10, 11, 12])
    >>> own = t[index] - 55  # each beat's P wave, 0.15 s before its R wave
    >>> blocked = np.column_stack([index, own + (t[index + 1] - t[index]) // 2, own])  # halfway: on time
    >>> [(r.kind, r.first_beat, r.n_beats) for r in find_av_block_regions(context, RegionSettings(), blocked)]
    [('av_block_2_to_1', 9, 5), ('dropped_beat', 4, 2)]
    >>> u_waves = np.column_stack([index[1:], t[index[1:]] + 250, own[1:]])  # a fixed time after each QRS
    >>> find_av_block_regions(context, RegionSettings(), u_waves)
    []
    """
    n_intervals = max(len(context.samples) - 1, 0)
    if blocked_p_waves is None or not n_intervals:
        return []
    rows = np.asarray(blocked_p_waves, np.int64).reshape(-1, 3)
    if np.any((rows[:, 0] < 0) | (rows[:, 0] >= n_intervals)):
        raise ValueError(f"Received blocked P waves opening beats {rows[:, 0].min()}..{rows[:, 0].max()}; expected "
                         f"beat indices below {n_intervals} (one per RR interval).")
    in_af = beats_in_kind(found, "atrial_fibrillation", len(context.samples))
    blocked = np.zeros(n_intervals, bool)
    blocked[rows[:, 0]] = True
    blocked &= context.interval_readable & ~in_af[1:] & ~in_af[:-1]
    p_sample, own_p = np.zeros(n_intervals, np.int64), np.zeros(n_intervals, np.int64)
    p_sample[rows[:, 0]], own_p[rows[:, 0]] = rows[:, 1], rows[:, 2]
    first, length = find_true_runs(blocked)
    long_run = length >= settings.av_block_min_cycles
    block = np.array([follows_atrial_rhythm(context, p_sample, f, n, settings) for f, n in
                      zip(first[long_run], length[long_run])], bool)
    short = [np.arange(f, f + n) for f, n in zip(first[~long_run], length[~long_run])]
    candidates = np.concatenate(short + [np.zeros(0, np.int64)]).astype(np.int64)
    dropped = candidates[[is_dropped_beat(context, blocked, (p_sample[i] - own_p[i]) / context.fs_hz, i, settings)
                          for i in candidates]]
    regions = []
    for kind, starts, n_beats in (("av_block_2_to_1", first[long_run][block], length[long_run][block] + 1),
                                  ("dropped_beat", dropped, np.full(len(dropped), 2))):
        rates = mean_rates_bpm(context.samples, starts, n_beats, context.fs_hz)
        regions += make_regions(kind, context, starts, n_beats, rates, group_mean(context.confidence, starts, n_beats))
    return regions


def follows_atrial_rhythm(context: BeatContext, p_sample: np.ndarray, first: int, n_intervals: int,
                          settings: RegionSettings) -> bool:
    """Whether the blocked P waves of intervals ``first .. first + n - 1`` keep time with the atrial rhythm: in 2:1
    block each comes one atrial cycle after the P wave of the beat before it, and the interval is two cycles, so its
    delay after that beat's R wave grows by half of any lengthening of the interval (the least-squares slope of the
    delays on the intervals is 0.5 whether successive cycles vary together or independently), while a wave tied to the
    QRS (a U wave) keeps its delay (slope 0). The slope must be at least ``av_block_min_delay_slope``; a rhythm too
    steady to show it (intervals varying by under ``av_block_min_rr_sd_s``) fails. MIT-BIH 231's five 2:1 runs:
    slopes 0.44-0.55 (EXPERIMENTS.md row BK).

    A first version compared the delays' variance about half the interval with their variance about a constant (at
    most half): a QA pass of session 52 showed that ratio is 0.5 on average when successive atrial cycles vary
    independently, so real 2:1 block passed or failed by chance."""
    index = np.arange(first, first + n_intervals)
    delay_s = (p_sample[index] - context.samples[index]) / context.fs_hz
    rr_s = context.rr_s[index]
    if float(np.std(rr_s)) < settings.av_block_min_rr_sd_s:
        return False
    slope = float(np.cov(delay_s, rr_s, bias=True)[0, 1] / np.var(rr_s))
    return slope >= settings.av_block_min_delay_slope


def is_dropped_beat(context: BeatContext, blocked: np.ndarray, cycle_before_s: float, i: int,
                    settings: RegionSettings) -> bool:
    """Whether interval ``i`` holds a dropped beat: its blocked P wave comes ``cycle_before_s`` after the opening
    beat's own P wave, within ``dropped_beat_cycle_range`` of the sinus cycle, and the interval is at least
    ``dropped_beat_min_rr_ratio`` times that cycle. The cycle is the longer of the nearest readable intervals before
    and after that hold no blocked P wave: a dropped beat doubles the interval abruptly (or nearly, after a
    Wenckebach sequence, whose interval after the drop is its longest conducted one), while a sinus arrhythmia
    lengthens it gradually. A QA pass of session 52 found a non-conducted atrial premature beat (early in the cycle)
    and U waves in the long intervals of a marked sinus arrhythmia reported as dropped beats when only the interval's
    length against the median of the four intervals on each side was checked."""
    usable = np.flatnonzero(context.interval_readable & ~blocked)
    neighbours = np.concatenate([usable[usable < i][-1:], usable[usable > i][:1]])
    if not len(neighbours):
        return False
    cycle_s = float(np.max(context.rr_s[neighbours]))
    low, high = settings.dropped_beat_cycle_range
    return bool(low <= cycle_before_s / cycle_s <= high and context.rr_s[i] >= settings.dropped_beat_min_rr_ratio
                * cycle_s)


BLOCKED_KINDS = ("av_block_2_to_1", "dropped_beat")
"""Regions whose RR intervals hold a P wave that was not conducted (:mod:`pipeline.conduction`): not NN intervals,
since the two beats are not successive sinus beats (:mod:`pipeline.hrv`)."""


def find_blocked_intervals(regions: list[Region], n_intervals: int) -> np.ndarray:
    """Boolean per RR interval: inside a region of :data:`BLOCKED_KINDS`.

    >>> find_blocked_intervals([Region("dropped_beat", 0, 1, 2, 2, 30.0, 1.0)], 5).tolist()
    [False, False, True, False, False]
    """
    blocked = np.zeros(n_intervals, bool)
    for region in regions:
        if region.kind in BLOCKED_KINDS:
            blocked[region.first_beat:region.first_beat + region.n_beats - 1] = True
    return blocked


def find_pause_regions(context: BeatContext, settings: RegionSettings) -> list[Region]:
    """RR intervals longer than ``pause_s`` between readable beats (region: the two bounding beats)."""
    rr_s = context.rr_s
    first = np.flatnonzero((rr_s > settings.pause_s) & context.interval_readable)
    n_beats = np.full(len(first), 2)
    rates = 60.0 / rr_s[first]
    return make_regions("pause", context, first, n_beats, rates, group_mean(context.confidence, first, n_beats))


def running_rate_bpm(context: BeatContext, width: int) -> np.ndarray:
    """Per RR interval, the mean heart rate of the readable intervals in a centred window of ``width``: 60 times
    their number over their total time (NaN where the window has none).

    A mean, not a median: in bigeminy or trigeminy the intervals alternate between the coupling interval and the
    pause after it, and the window's median flips between the two (a 76-bpm bigeminy read as a tachycardia), while
    each coupling interval and its compensatory pause add up to the underlying cycle.
    """
    readable = context.interval_readable.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 60.0 * windowed_mean(readable, width) / windowed_mean(np.where(readable > 0, context.rr_s, 0.0), width)


NAMED_RATE_KINDS = ("ventricular_tachycardia", "supraventricular_tachycardia", "idioventricular_rhythm",
                    "av_block_2_to_1")
"""Rhythms whose rate is part of their name: their intervals make no bradycardia or tachycardia stretch of their own
(a clinical read of the PDF reports, session 47, found record 223's sustained VT listed again as three "tachycardia"
events, its strip titled "tachycardia", and 207's escape rhythm as "bradycardia")."""


def find_rate_regions(context: BeatContext, settings: RegionSettings, named: list[Region] = ()) -> list[Region]:
    """Bradycardia and tachycardia stretches of at least ``rate_min_duration_s``, outside the ``named`` regions of
    :data:`NAMED_RATE_KINDS` (those found already)."""
    if len(context.samples) < 2:
        return []
    rate = running_rate_bpm(context, settings.rate_window_beats)
    with np.errstate(divide="ignore"):
        instant = 60.0 / context.rr_s
    outside = np.ones(len(context.samples) - 1, bool)
    for region in named:
        if region.kind in NAMED_RATE_KINDS and region.n_beats > 1:
            outside[region.first_beat:region.first_beat + region.n_beats - 1] = False
    regions = []
    for kind, running, raw in (("bradycardia", rate < settings.bradycardia_bpm, instant < settings.bradycardia_bpm),
                               ("tachycardia", rate > settings.tachycardia_bpm, instant > settings.tachycardia_bpm)):
        first, n_intervals = find_true_runs(running & context.interval_readable & outside)
        duration_s = (context.samples[first + n_intervals] - context.samples[first]) / context.fs_hz
        keep = duration_s >= settings.rate_min_duration_s
        first, n_beats = first[keep], n_intervals[keep] + 1
        confidence = interval_share(raw, first, n_beats - 1) * group_mean(context.confidence, first, n_beats)
        regions += make_regions(kind, context, first, n_beats,
                                mean_rates_bpm(context.samples, first, n_beats, context.fs_hz), confidence)
    return regions


def af_eligible_beats(context: BeatContext) -> np.ndarray:
    """Beats whose intervals the AF evidence may use: readable N or S beats not in ``context.af_excluded``."""
    eligible = context.readable & np.isin(context.classes, (_N, _S))
    return eligible & ~context.af_excluded if len(context.af_excluded) else eligible


def count_af_usable_intervals(context: BeatContext) -> int:
    """RR intervals usable for the AF decision (between readable N or S beats, crossing no unreadable stretch)."""
    eligible = af_eligible_beats(context)
    return int(np.count_nonzero(eligible[1:] & eligible[:-1] & context.interval_readable))


def regions_to_rows(regions: list[Region], fs_hz: float) -> list[dict]:
    """One plain dict per region (the CSV and JSON tables), times in seconds."""
    return [{"kind": r.kind, "start_s": round(r.start / fs_hz, 3), "end_s": round(r.stop / fs_hz, 3),
             "duration_s": round(r.duration_s(fs_hz), 3), "start_sample": r.start, "stop_sample": r.stop,
             "first_beat": r.first_beat, "n_beats": r.n_beats,
             "heart_rate_bpm": None if np.isnan(r.heart_rate_bpm) else round(r.heart_rate_bpm, 1),
             "confidence": round(r.confidence, 3)} for r in regions]
