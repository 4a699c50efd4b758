"""Atrioventricular conduction: P waves that no QRS follows (second-degree AV block).

In second-degree AV block the sinus node keeps its rhythm while some of its P waves are not conducted: an RR interval
then holds a P wave of the patient's sinus shape that no QRS follows, on time in the atrial rhythm, i.e. about halfway
between the P waves of the two beats around it. In 2:1 block every other P wave is blocked and the ventricular rate is
half the atrial one, which RR intervals alone read as a steady sinus bradycardia; a single blocked P wave makes a pause
of about two atrial cycles. A non-conducted *premature* atrial beat (a blocked APC, MIT-BIH's ``x``) also leaves a P
wave without a QRS, but early, usually on the T wave, and is not AV block: :func:`find_blocked_p_waves` keeps only P
waves on time.

Per RR interval of two beats of the dominant rhythm (``normal_beats``): the stretch from ``search_start_s`` after the
first R peak to the start of the second beat's own P region, minus the record's T-wave template placed at the first R
peak, is searched for the record's sinus P-wave template (both from :func:`pipeline.features.compute_p_wave_features`'s
steps: long-RR beats, detrended, both leads together); the best match is a blocked P wave when it correlates at least
``min_corr`` with the template, its size is within ``amplitude_range`` of the template's, and the atrial cycles before
and after it (from the first beat's P wave to it, from it to the second beat's P wave) differ by a ratio within
``on_time_ratio``.

Beside the signal, this needs a P-wave template: a record whose long-RR normal beats are too few, or whose template
is not clear (``min_template_quality``; low in atrial fibrillation and in noise), gets no blocked P waves.

References
----------
Barold SS, Hayes DL, "Second-degree atrioventricular block: a reappraisal", Mayo Clin Proc 76(1):44-57, 2001
(the definitions: a single non-conducted P wave with constant atrial rhythm; 2:1 block). Moody GB, Mark RG, MIT-BIH
Arrhythmia Database Directory (record 231: 2:1 and Mobitz II block, each blocked P wave marked ``MISSB``; ``x``,
non-conducted atrial premature beats). Template of the longest-RR beats and T-wave subtraction: this project
(:func:`pipeline.features.compute_p_wave_features`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from pipeline.features import (FeatureSettings, build_sinus_p_template, chunk_slices, detrended_match, gather_segments,
                               p_geometry, safe_divide, select_long_rr_beats, spread_indices)
from pipeline.rr import check_peaks
from pipeline.types import settings_to_dict, settings_values

logger = logging.getLogger(__name__)

QRS_HALF_S = 0.05
"""Half-width of the stretch around a normal beat's R peak whose range is its QRS size."""
DECIMATED_FS_HZ = 120.0
"""The search runs on the signal averaged down to about this rate (:func:`decimate_signal`)."""
TEMPLATE_MAX_BEATS = 64
"""Long-RR beats (evenly spread) whose medians form the templates (bounds the cost on 24-hour records)."""
CHUNK_INTERVALS = 1024
"""RR intervals searched at once (bounds memory on 24-hour records)."""


@dataclass(frozen=True)
class BlockedPSettings:
    """How a P wave without a QRS is told from the T wave, noise and early atrial beats.

    Attributes
    ----------
    search_start_s : float
        The search starts this long after the first beat's R peak. From 0.20 s, what the T-wave template leaves of a
        T wave whose shape or timing differs from it matched the P template in sinus rhythm (MIT-BIH 101, 103, 115,
        117, 119, 123: every false match 0.20-0.28 s after the R peak; EXPERIMENTS.md row BK); past the T wave's peak,
        at 0.35 s, none did. A blocked P wave whose peak comes earlier than about 0.49 s after the R peak (the search
        start and the template's 0.14 s to its peak) is not found: with a PR interval of 0.16 s, 2:1 block at atrial
        rates over about 88 bpm, and Wenckebach block whose last PR is long (a QA pass of session 52; the docstring
        said 125 bpm before it).
    min_corr : float
        Correlation (both leads together, detrended) with the sinus P template.
    amplitude_range : tuple of float
        Size of the match relative to the template (its projection coefficient): a sinus P wave repeats its size.
    on_time_ratio : tuple of float
        Range of the atrial cycle before the P wave (from the opening beat's own P wave, :func:`locate_conducted_p`)
        over the one after it: 1 for a P wave halfway between the conducted ones, within sinus rhythm's usual change
        from one cycle to the next (0.85-1.18, i.e. 15 % either way; MIT-BIH 231: 0.90-1.11); a premature atrial beat
        comes early (a QA pass of session 52 found non-conducted atrial premature beats coupled at 0.72-0.8 of the cycle
        taken for blocked P waves with the first limits, 0.7-1.43), and a U wave late in a long interval comes late.
    min_template_quality : float
        Median correlation of the long-RR beats' P regions with their template (``p_template_quality`` of
        :func:`pipeline.features.compute_p_wave_features`) below which the record has no clear sinus P wave.
    conducted_pr_max_s : float
        How far before the R wave the opening beat's own P wave is looked for (0.6 s from the template's start: a P
        wave peaking up to about 0.45 s before the R wave, as before a dropped beat of Wenckebach block;
        :func:`locate_conducted_p`).
    second_p_gap_s : float
        A second match of the P template in the same interval, at least this far from the best one and passing the
        same correlation and size limits, means more than one P wave was blocked (3:1 or higher-grade block, whose
        middle P wave is on time for 2:1): the interval is left (0.25 s; a QA pass of session 52 found 4:1 block at
        an atrial rate of 120 bpm reported as 2:1).
    max_rr_s : float
        Longest RR interval searched (3 s: a blocked P wave halfway through a longer one means an atrial rate under
        40 bpm, not a sinus rhythm; it also bounds the memory of the search).
    max_qrs_fraction : float
        Largest range of the searched stretch (T wave subtracted), relative to the normal beats' QRS range, in the
        lead where it is smallest: more is a QRS the detector missed, whose P wave was conducted (MIT-BIH 201's low
        aberrated atrial premature beats, end to end: 0.46 or more; 231's blocked P waves: 0.25 at most).
    """

    search_start_s: float = 0.35
    min_corr: float = 0.8
    amplitude_range: tuple[float, float] = (0.5, 2.0)
    on_time_ratio: tuple[float, float] = (0.85, 1.18)
    min_template_quality: float = 0.5
    conducted_pr_max_s: float = 0.6
    second_p_gap_s: float = 0.25
    max_rr_s: float = 3.0
    max_qrs_fraction: float = 0.4

    def __post_init__(self) -> None:
        low, high = self.amplitude_range
        early, late = self.on_time_ratio
        checks = (
            ("search_start_s", self.search_start_s > 0, "a positive duration in s"),
            ("min_corr", -1 <= self.min_corr <= 1, "a correlation in [-1, 1]"),
            ("amplitude_range", 0 < low < high, "(low, high) with 0 < low < high"),
            ("on_time_ratio", 0 < early < 1 < late, "(early, late) with 0 < early < 1 < late"),
            ("min_template_quality", -1 <= self.min_template_quality <= 1, "a correlation in [-1, 1]"),
            ("conducted_pr_max_s", self.conducted_pr_max_s > 0, "a positive duration in s"),
            ("second_p_gap_s", self.second_p_gap_s > 0, "a positive duration in s"),
            ("max_rr_s", self.max_rr_s > self.search_start_s, "a duration in s over search_start_s"),
            ("max_qrs_fraction", self.max_qrs_fraction > 0, "a positive fraction"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"Received {name}={getattr(self, name)}; expected {expected}.")

    def to_dict(self) -> dict:
        return settings_to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "BlockedPSettings":
        """Inverse of :meth:`to_dict` (``[blocked_p]`` of an event settings file;
        :func:`pipeline.types.settings_values`)."""
        return cls(**settings_values(cls, values))


@dataclass(frozen=True)
class PTemplate:
    """A record's sinus P wave and the T wave that precedes it (:func:`build_p_template`).

    Attributes
    ----------
    p_mv : np.ndarray
        (p_samples, n_leads), detrended; its first sample lies ``p_start_s`` before the R peak of its beat.
    t_mv : np.ndarray
        (t_samples, n_leads), from the R peak on, ending at 0; empty when there is no room for one.
    quality : float
        Median correlation of the long-RR beats' P regions with ``p_mv`` (mean over leads).
    qrs_range_mv : np.ndarray
        (n_leads,) median range of the long-RR beats' QRS (+-``QRS_HALF_S`` around the R peak).
    """

    p_mv: np.ndarray
    t_mv: np.ndarray
    quality: float
    qrs_range_mv: np.ndarray


def build_p_template(signal_mv: np.ndarray, beat_samples: np.ndarray, normal_beats: np.ndarray, fs_hz: float,
                     features: FeatureSettings = FeatureSettings()) -> PTemplate | None:
    """The sinus P-wave and T-wave templates of the normal beats with the longest preceding RR intervals (at most
    :data:`TEMPLATE_MAX_BEATS` of them), or None when fewer than ``features.min_p_template_beats`` exist."""
    long_beats = select_long_rr_beats(beat_samples, normal_beats, features)
    if len(long_beats) < features.min_p_template_beats:
        return None
    long_beats = long_beats[spread_indices(np.arange(len(long_beats)), TEMPLATE_MAX_BEATS)]
    p_template, t_template, core = build_sinus_p_template(signal_mv, beat_samples, long_beats,
                                                          p_geometry(fs_hz, features), fs_hz, features)
    dot, energy = detrended_match(core, p_template)
    per_lead = safe_divide(dot[:, 0], np.sqrt(energy[:, 0] * (p_template ** 2).sum(axis=0)))
    half = int(round(QRS_HALF_S * fs_hz))
    qrs = gather_segments(signal_mv, beat_samples[long_beats] - half, 2 * half + 1)
    return PTemplate(p_template, t_template, float(np.median(per_lead.mean(axis=1))),
                     np.median(np.ptp(qrs, axis=1), axis=0))


def find_blocked_p_waves(signal_mv: np.ndarray, beat_samples: np.ndarray, normal_beats: np.ndarray, fs_hz: float,
                         settings: BlockedPSettings = BlockedPSettings(),
                         features: FeatureSettings = FeatureSettings()) -> np.ndarray:
    """P waves that no QRS follows, on time in the atrial rhythm, between beats of the dominant rhythm.

    Parameters
    ----------
    signal_mv : np.ndarray
        (n_samples,) or (n_samples, n_leads) in mV; NaN for missing samples (read as 0).
    beat_samples : np.ndarray
        R-peak samples of every beat, strictly ascending.
    normal_beats : np.ndarray
        Boolean per beat: beats of the dominant rhythm (e.g. classified N). Only intervals between two of them are
        searched, and they form the templates.
    fs_hz : float
        Sampling rate (required).
    settings : BlockedPSettings
    features : FeatureSettings
        The P region and template settings (:func:`pipeline.features.compute_p_wave_features`'s).

    Returns
    -------
    np.ndarray
        int64 (k, 3): per blocked P wave, the index of the beat that opens its RR interval, the sample of the P wave's
        largest deflection on the first lead, and that of the opening beat's own P wave (:func:`locate_conducted_p`);
        empty (0, 3) without a clear P template.

    Examples
    --------
    >>> fs = 250.0
    >>> t = np.arange(int(60 * fs)) / fs
    >>> def p_wave(centre_s):
    ...     return 0.15 * np.exp(-0.5 * ((t - centre_s) / 0.025) ** 2)
    >>> p_times = np.arange(0.5, 59.0, 0.8)  # atrial rate 75 bpm, every other P wave conducted (2:1 block)
    >>> conducted = p_times[::2]
    >>> ecg = sum(p_wave(c) for c in p_times) + sum(np.exp(-0.5 * ((t - c - 0.16) / 0.01) ** 2) for c in conducted)
    >>> beats = np.round((conducted + 0.16) * fs).astype(int)
    >>> blocked = find_blocked_p_waves(ecg, beats, np.ones(len(beats), bool), fs)
    >>> len(blocked), len(beats) - 1
    (36, 36)
    >>> bool(np.all(np.abs(blocked[:, 1] / fs - p_times[1::2][:36]) < 0.02))
    True
    """
    signal = np.asarray(signal_mv)
    signal = signal[:, None] if signal.ndim == 1 else signal
    beat_samples = check_peaks(beat_samples, len(signal))
    normal_beats = np.asarray(normal_beats, bool)
    if normal_beats.shape != beat_samples.shape:
        raise ValueError(f"Received normal_beats of shape {normal_beats.shape}; expected one per beat "
                         f"({beat_samples.shape}).")
    none = np.zeros((0, 3), np.int64)
    searchable = find_searchable_intervals(beat_samples, normal_beats, fs_hz, settings, features)
    if not len(searchable):
        return none
    factor = max(int(round(fs_hz / DECIMATED_FS_HZ)), 1)
    signal, beats, fs_hz = decimate_signal(signal, factor), beat_samples // factor, fs_hz / factor
    template = build_p_template(signal, beats, normal_beats, fs_hz, features)
    if template is None or template.quality < settings.min_template_quality:
        logger.debug("No clear sinus P template: no blocked P waves looked for")
        return none
    found = [match_blocked_p(signal, beats, searchable[part], template, fs_hz, settings, features)
             for part in chunk_slices(len(searchable), CHUNK_INTERVALS)]
    found = np.concatenate([none, *found])
    return np.column_stack([found[:, 0], found[:, 1:] * factor + factor // 2]).astype(np.int64)


def decimate_signal(signal: np.ndarray, factor: int) -> np.ndarray:
    """Means of ``factor`` consecutive samples (a short tail dropped), float64, NaN as 0: the P and T waves have
    little energy above 15 Hz, and the search costs a ninth at a third of the rate."""
    blocks = signal[:len(signal) // factor * factor].reshape(-1, factor, signal.shape[1])
    total = blocks[:, 0].astype(np.float64)
    for k in range(1, factor):  # a sum of strided views: several times faster than a mean over a new axis
        total += blocks[:, k]
    total /= factor
    np.copyto(total, 0.0, where=np.isnan(total))  # a record's samples are finite or missing: nan_to_num's search for
    return total  # infinities took a third of the time (0.3 s on 24 h, on every beat edit; session 65's profile)


def find_searchable_intervals(beat_samples: np.ndarray, normal_beats: np.ndarray, fs_hz: float,
                              settings: BlockedPSettings, features: FeatureSettings) -> np.ndarray:
    """Indices of the beats opening an RR interval between two normal beats long enough to hold a P wave between
    ``search_start_s`` and the second beat's own P region, and at most ``max_rr_s`` long."""
    if len(beat_samples) < 2:
        return np.zeros(0, np.int64)
    geometry = p_geometry(fs_hz, features)
    shortest = int(round(settings.search_start_s * fs_hz)) + geometry["length"] + geometry["start"] + geometry["lag"]
    rr = np.diff(beat_samples)
    return np.flatnonzero(normal_beats[:-1] & normal_beats[1:] & (rr > shortest) & (rr <= settings.max_rr_s * fs_hz))


def match_blocked_p(signal: np.ndarray, beat_samples: np.ndarray, opening: np.ndarray, template: PTemplate,
                    fs_hz: float, settings: BlockedPSettings, features: FeatureSettings) -> np.ndarray:
    """Rows of :func:`find_blocked_p_waves` (in samples of ``signal``) for the RR intervals opened by the beats
    ``opening``: the best match of the P template in each searched stretch, kept when it is a blocked P wave."""
    geometry = p_geometry(fs_hz, features)
    peak = int(np.argmax(np.abs(template.p_mv[:, 0])))
    starts = beat_samples[opening] + int(round(settings.search_start_s * fs_hz))
    lengths = beat_samples[opening + 1] - geometry["start"] - geometry["lag"] - starts
    stretches = gather_stretches(signal, starts, lengths, starts - beat_samples[opening], template.t_mv)
    corr, amplitude = match_template(stretches, lengths, template.p_mv)
    best = np.argmax(corr, axis=1)
    low, high = settings.amplitude_range
    like_p = (corr >= settings.min_corr) & (amplitude >= low) & (amplitude <= high)
    keep = (like_p[np.arange(len(opening)), best]
            & ~holds_qrs(stretches, lengths, template.qrs_range_mv, settings.max_qrs_fraction)
            & ~holds_second_p(like_p, best, int(round(settings.second_p_gap_s * fs_hz))))
    opening, blocked = opening[keep], (starts + best + peak)[keep]
    conducted = locate_conducted_p(signal, beat_samples, opening, template, fs_hz, settings, features) + peak
    following = beat_samples[opening + 1] - geometry["start"] + peak  # the next beat's P wave, at the usual PR
    ratio = (blocked - conducted) / np.maximum(following - blocked, 1)
    early, late = settings.on_time_ratio
    on_time = (ratio >= early) & (ratio <= late)
    return np.column_stack([opening[on_time], blocked[on_time], conducted[on_time]]).astype(np.int64)


def holds_second_p(like_p: np.ndarray, best: np.ndarray, gap: int) -> np.ndarray:
    """Per stretch, whether a shift at least ``gap`` from its best one is also P-like (``like_p``, per stretch and
    shift: the correlation and size limits met), i.e. a second P wave that no QRS follows."""
    shifts = np.arange(like_p.shape[1])[None, :]
    return (like_p & (np.abs(shifts - best[:, None]) >= gap)).any(axis=1)


def locate_conducted_p(signal: np.ndarray, beat_samples: np.ndarray, opening: np.ndarray, template: PTemplate,
                       fs_hz: float, settings: BlockedPSettings, features: FeatureSettings) -> np.ndarray:
    """Where each opening beat's own P wave starts (the template's first sample): the best match of the P template
    from ``conducted_pr_max_s`` before the R wave to the usual place (``p_start_s`` before it), the previous beat's T
    wave subtracted, when it correlates at least ``min_corr``; the usual place otherwise. Before a dropped beat of
    Wenckebach block the PR interval is long, and the atrial cycle up to the blocked P wave must be measured from where
    the P wave is, not from where it usually is."""
    if not len(opening):
        return np.zeros(0, np.int64)
    geometry = p_geometry(fs_hz, features)
    usual = beat_samples[opening] - geometry["start"]
    starts = np.maximum(beat_samples[opening] - int(round(settings.conducted_pr_max_s * fs_hz)), 0)
    lengths = np.maximum(usual + len(template.p_mv) - starts, len(template.p_mv))
    previous = beat_samples[np.maximum(opening - 1, 0)]
    stretches = gather_stretches(signal, starts, lengths, np.where(opening > 0, starts - previous, 10 ** 9),
                                 template.t_mv)
    corr, _ = match_template(stretches, lengths, template.p_mv)
    best = np.argmax(corr, axis=1)
    found = corr[np.arange(len(opening)), best] >= settings.min_corr
    return np.where(found, starts + best, usual)


def gather_stretches(signal: np.ndarray, starts: np.ndarray, lengths: np.ndarray, offsets: np.ndarray,
                     t_template: np.ndarray) -> np.ndarray:
    """(n, longest, leads) stretches of ``lengths`` samples from ``starts``, minus the T-wave template placed
    ``offsets`` samples before each start; 0 past each stretch's end."""
    width = int(lengths.max()) if len(lengths) else 0
    stretches = gather_segments(signal, starts, width)
    position = offsets[:, None] + np.arange(width)
    if len(t_template):
        inside = position < len(t_template)
        stretches -= np.where(inside[:, :, None], t_template[np.minimum(position, len(t_template) - 1)], 0.0)
    stretches[np.arange(width)[None, :] >= lengths[:, None]] = 0.0
    return stretches


def match_template(stretches: np.ndarray, lengths: np.ndarray, template: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per stretch and shift, the correlation of the detrended window with the (detrended) template, all leads
    together (:func:`pipeline.features.detrended_match`), and the window's size relative to the template (projection
    coefficient); correlation -inf where the window runs past the stretch's end."""
    dot, energy = detrended_match(stretches, template)
    dot = dot.sum(axis=2)
    template_energy = float((template ** 2).sum())
    corr = safe_divide(dot, np.sqrt(energy.sum(axis=2) * template_energy))
    corr[np.arange(dot.shape[1])[None, :] > (lengths - len(template))[:, None]] = -np.inf
    return corr, dot / template_energy


def holds_qrs(stretches: np.ndarray, lengths: np.ndarray, qrs_range_mv: np.ndarray, max_fraction: float) -> np.ndarray:
    """Per (samples, leads) stretch (its first ``lengths`` samples), whether it spans more than ``max_fraction`` of the
    normal QRS range in every lead that has a QRS (a beat shows in every lead; a P wave and what is left of a T wave
    stay small in at least one)."""
    leads = qrs_range_mv > 0
    if not leads.any():
        return np.zeros(len(stretches), bool)
    inside = (np.arange(stretches.shape[1])[None, :] < lengths[:, None])[:, :, None]
    part = stretches[:, :, leads]
    spread = np.where(inside, part, -np.inf).max(axis=1) - np.where(inside, part, np.inf).min(axis=1)
    return np.min(spread / qrs_range_mv[leads], axis=1) > max_fraction
