"""PR interval of the dominant beat, and first-degree AV block.

A Holter or resting ECG report gives the PR interval, the time from the start of atrial depolarisation (P-wave onset)
to the start of ventricular depolarisation (QRS onset): over 200 ms is first-degree AV block (Kusumoto et al. 2019),
which a clinical read of session 54 found the report silent on for MIT-BIH 108, 228 and 232. The measurement is made
on the median beat, as the QT is (:mod:`pipeline.qt`):

1. **Median beat** of the readable normal beats outside atrial fibrillation/flutter (the beats the ST analysis
   measures, :func:`pipeline.st.select_measured_beats`, at least ``min_beats``), from ``template_before_s`` before the
   R wave, each lead smoothed over ``smooth_ms``.
2. **QRS onset**: the record's, from the ST analysis's measurement points (:class:`pipeline.st.StFiducials`).
3. **P wave**, lead by lead, in the ``search_ms`` before the QRS onset (up to ``gap_ms`` before it), relative to the
   level just before the QRS onset: the waves of either polarity standing out by ``min_p_mv`` or more over
   ``prominence_reach_ms`` on either side (their prominence), peaking later than ``after_rr_fraction`` of the median
   RR interval after the previous R wave (the previous beat's T wave, often larger, ends at about 40 % of the RR
   interval at usual rates) and, where the QT was measured, after the previous beat's T end (QRS onset + median QT
   after the previous R wave); of those within ``relative_prominence`` of the largest (1: the largest), the latest.
4. **P onset**: walking back from the P peak, the first point where the wave has fallen to ``onset_fraction`` of its
   prominence above the level it rises from (over a notch: a bifid P wave is one wave), at the latest the lowest point
   it rises from within ``prominence_reach_ms``. A P wave whose onset is not inside the search window is not measured
   on that lead. ``relative_prominence``, ``onset_fraction`` and ``after_rr_fraction`` were
   chosen on DS1's header statements (``experiments/pr_interval.py``).
5. **PR** = QRS onset - P onset on the lead whose P wave stands out most (with two leads and averaged beats, the
   clearest P wave is the safer choice than the earliest onset over leads that a 12-lead measurement takes,
   Kligfield et al. 2007).

Not assessed, with the reason: a pacemaker (stated, or pacing spikes found without one: the spike-to-QRS time is the
device's), too few normal beats outside AF/flutter, no QRS onset (the ST analysis says why), a median heart rate over
``max_rate_bpm`` (the P wave runs into the previous T wave, which was taken for it), or no P wave found in any lead
(atrial fibrillation or flutter throughout, P waves too small). A junctional rhythm with a retrograde P wave can read
as a short PR; a short PR is not interpreted.

Each lead's median beat is built from the beats readable on that lead. The beats are aligned on the detector's R
peaks: where the detector's point wanders between two peaks of a wide QRS (MIT-BIH 111), the median beat blurs a
small P wave, and a dip before the QRS can be taken for it (111 reads 125 ms end to end against 219 ms on its
reference beats; aligning the beats on the QRS first is not done).

This is a measurement for a reader to check on the median beat (the dashboard marks its P onset and QRS onset), and
"first-degree AV block?" a question for the reader. MIT-BIH has no reference PR annotations; its headers state
first-degree AV block for 108 (borderline), 109, 111, 207, 228 and 232. End to end with the bundled model
(``experiments/pr_interval.py --ds2 --end-to-end``) the measurement finds the block in 109 and 232, not in 111 and
228 (207 not assessed), and calls it in 114, 123 and 219, whose headers do not state it (the headers' silence is not
a measured normal PR: a reader's check put 123 and 219 over 200 ms too, REGIONS.md session 59).

References
----------
Kusumoto FM et al., "2018 ACC/AHA/HRS guideline on the evaluation and management of patients with bradycardia and
cardiac conduction delay", Circulation 140(8):e382-e482, 2019 (first-degree AV block: PR interval over 200 ms).
Kligfield P et al., "Recommendations for the standardization and interpretation of the electrocardiogram, part I",
Circulation 115(10):1306-1324, 2007.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import scipy.signal

from pipeline.qt import QtSummary
from pipeline.st import StSettings, StSummary, build_template, none_if_nan, select_measured_beats
from pipeline.types import settings_to_dict, settings_values

PACED_REASON = "pacemaker, whose paced beats' AV delay is the device's"
"""Why a paced record's PR is not measured."""

FIRST_DEGREE_MS = 200.0
"""A PR interval over this is first-degree AV block (Kusumoto et al. 2019)."""


@dataclass(frozen=True)
class PrSettings:
    """The median beat and the P-wave search (module docstring); times in ms or s as named."""

    template_before_s: float = 0.6
    min_beats: int = 20
    max_rate_bpm: float = 120.0
    smooth_ms: float = 20.0
    search_ms: float = 450.0
    gap_ms: float = 20.0
    level_ms: float = 15.0
    min_p_mv: float = 0.03
    prominence_reach_ms: float = 150.0
    after_rr_fraction: float = 0.45
    relative_prominence: float = 1.0
    onset_fraction: float = 0.25

    def __post_init__(self) -> None:
        bad = [f.name for f in fields(self) if not getattr(self, f.name) > 0]
        bad += ["relative_prominence"] * (self.relative_prominence > 1)
        bad += ["onset_fraction"] * (self.onset_fraction >= 1)
        if bad:
            raise ValueError(f"Received {bad[0]}={getattr(self, bad[0])!r}; expected a positive value (at most 1 for "
                             "relative_prominence, below 1 for onset_fraction).")
        if self.min_beats < 2:
            raise ValueError(f"Received min_beats={self.min_beats}; expected at least 2 (the RR interval is needed).")
        if not self.gap_ms < self.search_ms:
            raise ValueError(f"Received gap_ms={self.gap_ms:g} and search_ms={self.search_ms:g}; expected "
                             "gap_ms < search_ms.")

    def to_dict(self) -> dict:
        return settings_to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "PrSettings":
        """Inverse of :meth:`to_dict` (``[pr]`` of an event settings file; :func:`pipeline.types.settings_values`)."""
        return cls(**settings_values(cls, values))


@dataclass(frozen=True)
class PWave:
    """The P wave found on one lead of the median beat: onset and peak in ms from the R wave, and how far it stands
    out (mV, signed: negative for an inverted P wave)."""

    onset_ms: float
    peak_ms: float
    prominence_mv: float


@dataclass(frozen=True)
class PrSummary:
    """The record's PR interval (module docstring); ``assessed`` is False when it could not be measured, with the
    reason in ``note``."""

    assessed: bool
    note: str = ""
    pr_ms: float = float("nan")
    lead_name: str = ""
    p_wave: PWave | None = None
    qrs_onset_ms: float = float("nan")
    n_beats: int = 0
    beat_mv: tuple[float, ...] = ()
    """The measured lead's median beat, from ``PrSettings.template_before_s`` before the R wave, less its level just
    before the QRS onset: what the dashboard shows the P onset and the QRS onset on."""

    @property
    def first_degree_block(self) -> bool:
        """The PR interval is over :data:`FIRST_DEGREE_MS`."""
        return self.assessed and self.pr_ms > FIRST_DEGREE_MS

    def to_dict(self) -> dict:
        return {"assessed": self.assessed, "note": self.note or None, "pr_ms": none_if_nan(self.pr_ms, 0),
                "lead": self.lead_name or None,
                "first_degree_av_block": self.first_degree_block if self.assessed else None,
                "p_onset_ms": None if self.p_wave is None else round(self.p_wave.onset_ms, 1),
                "p_amplitude_mv": None if self.p_wave is None else round(self.p_wave.prominence_mv, 3),
                "beats": self.n_beats}


def analyse_pr(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray, beat_classes: np.ndarray,
               st_summary: StSummary, quality_spans=(), left_out=(), *, pacemaker: str | None = None,
               settings: PrSettings = PrSettings(), st_settings: StSettings = StSettings(),
               qt_summary: QtSummary | None = None) -> PrSummary:
    """The PR interval of a record whose ST analysis is ``st_summary`` (its QRS onset; module docstring), on the
    normal beats outside ``left_out`` (the unreadable stretches and the AF/flutter episodes) and, per lead, outside
    that lead's ``quality_spans``; leads are named as ``st_summary`` names them. ``pacemaker``: a stated pacemaker,
    or pacing spikes found without one. With an assessed ``qt_summary``, the P wave also peaks after the previous
    beat's T end (its median QT)."""
    if pacemaker is not None:
        return PrSummary(False, f"PR not assessed: {PACED_REASON}")
    fiducials = st_summary.fiducials
    if fiducials is None or fiducials.qrs_ms < st_settings.min_qrs_ms:  # ST says why it found no QRS onset
        reason = st_summary.note.removeprefix("ST not assessed: ") or "no QRS onset found"
        return PrSummary(False, f"PR not assessed: {reason}")
    window = StSettings(template_before_s=settings.template_before_s, template_after_s=0.1)
    beats = np.asarray(beat_samples, np.int64)
    measured = select_measured_beats(beats, np.asarray(beat_classes), signal_mv, fs_hz, quality_spans, left_out,
                                     window)
    usable = measured.any(axis=1)
    n_usable = int(usable.sum())
    if n_usable < settings.min_beats:
        return PrSummary(False, f"PR not assessed: fewer than {settings.min_beats} readable normal beats outside "
                                "atrial fibrillation/flutter")
    rr = np.diff(beats)
    preceding = rr[usable[1:]]  # the interval before each measured beat: its median beat holds that T wave
    rr_samples = float(np.median(preceding if len(preceding) else rr))
    if 60.0 * fs_hz / rr_samples > settings.max_rate_bpm:
        return PrSummary(False, f"PR not assessed: heart rate over {settings.max_rate_bpm:g} bpm, where the P wave "
                                "runs into the previous T wave", n_beats=n_usable)
    r_index = int(settings.template_before_s * fs_hz)
    onset_index = r_index + int(round(fiducials.onset_ms / 1000 * fs_hz))
    earliest = r_index - int(round((1 - settings.after_rr_fraction) * rr_samples))  # after the previous T wave
    if qt_summary is not None and qt_summary.assessed:  # and after its measured end
        t_end_ms = fiducials.onset_ms + qt_summary.median(np.asarray(qt_summary.qt_ms, np.float64))
        if np.isfinite(t_end_ms):
            earliest = max(earliest, r_index - int(round(rr_samples)) + int(round(t_end_ms / 1000 * fs_hz)))
    waves, templates = [None] * measured.shape[1], {}
    for lead in range(measured.shape[1]):
        if measured[:, lead].sum() >= settings.min_beats:  # the lead's own readable beats
            templates[lead] = build_template(np.asarray(signal_mv)[:, lead:lead + 1], fs_hz,
                                             beats[measured[:, lead]], window)[:, 0]
            waves[lead] = find_p_wave(templates[lead], fs_hz, onset_index, settings, earliest)
    found = [lead for lead, wave in enumerate(waves) if wave is not None]
    if not found:
        return PrSummary(False, "PR not assessed: no P wave found before the dominant QRS", n_beats=n_usable)
    lead = max(found, key=lambda k: abs(waves[k][2]))
    onset, peak, prominence = waves[lead]
    to_ms = 1000.0 / fs_hz
    wave = PWave((onset - r_index) * to_ms, (peak - r_index) * to_ms, prominence)
    beat = templates[lead]
    level = beat[level_window(fs_hz, onset_index, settings)].mean()
    return PrSummary(True, "", (onset_index - onset) * to_ms, st_summary.lead_name(lead), wave, fiducials.onset_ms,
                     int(measured[:, lead].sum()), tuple(float(v) for v in beat - level))


def find_p_wave(beat: np.ndarray, fs_hz: float, qrs_onset: int, settings: PrSettings, earliest_peak: int = 0
                ) -> tuple[int, int, float] | None:
    """(onset, peak, signed prominence in mV) of the P wave of one lead of a median beat whose QRS starts at sample
    ``qrs_onset`` (module docstring, steps 3 and 4); None when no wave stands out, or the latest one does not come
    down to its base inside the search window.

    Examples
    --------
    >>> fs = 500.0
    >>> t = np.arange(300) / fs  # a P wave peaking at 0.2 s, QRS onset at 0.36 s
    >>> beat = 0.15 * np.exp(-0.5 * ((t - 0.2) / 0.02) ** 2)
    >>> onset, peak, prominence = find_p_wave(beat, fs, 180, PrSettings())
    >>> round(onset / fs, 3), round(peak / fs, 3), round(prominence, 2)
    (0.166, 0.2, 0.14)
    """
    if np.isnan(beat).any():
        return None
    width = max(1, int(round(settings.smooth_ms / 1000 * fs_hz)))
    smooth = np.convolve(beat, np.ones(width) / width, mode="same")
    level = level_window(fs_hz, qrs_onset, settings)
    lo = max(width, qrs_onset - int(round(settings.search_ms / 1000 * fs_hz)))
    hi = qrs_onset - int(round(settings.gap_ms / 1000 * fs_hz))
    if level.start < 0 or hi - lo < 3:
        return None
    deviation = smooth - smooth[level].mean()
    reach = int(round(settings.prominence_reach_ms / 1000 * fs_hz))
    candidates = []
    for sign in (1.0, -1.0):
        peaks, properties = scipy.signal.find_peaks(sign * deviation[lo:hi], prominence=settings.min_p_mv,
                                                    wlen=2 * reach + 1)
        candidates += [(lo + int(p), sign, float(height), lo + int(base))
                       for p, height, base in zip(peaks, properties["prominences"], properties["left_bases"])
                       if lo + p >= earliest_peak]
    if not candidates:
        return None
    largest = max(c[2] for c in candidates)
    peak, sign, height, base = max((c for c in candidates if c[2] >= settings.relative_prominence * largest),
                                   key=lambda c: c[0])
    floor = sign * deviation[peak] - (1 - settings.onset_fraction) * height
    onset = peak  # back to the threshold, over a notch (a bifid P wave), no further than the wave's base
    while onset > max(base, lo) and sign * deviation[onset] > floor:
        onset -= 1
    if onset <= lo:
        return None
    return onset, peak, sign * height


def level_window(fs_hz: float, qrs_onset: int, settings: PrSettings) -> slice:
    """The ``level_ms`` just before the QRS onset (sample ``qrs_onset``): the level the P wave is measured from and
    the shown median beat is drawn from."""
    return slice(qrs_onset - max(1, int(round(settings.level_ms / 1000 * fs_hz))), qrs_onset)


def long_pr_note(summary: PrSummary) -> tuple[str, ...]:
    """The summary's note when the PR interval is over :data:`FIRST_DEGREE_MS`: a measurement on the median beat,
    for the reader to confirm: on MIT-BIH end to end it finds 2 of the 5 records whose headers state the block and
    calls it in 3 whose headers do not (``experiments/pr_interval.py``, REGIONS.md session 59)."""
    if not summary.first_degree_block:
        return ()
    return (f"PR interval {summary.pr_ms:.0f} ms on the median beat ({summary.lead_name}), over "
            f"{FIRST_DEGREE_MS:g} ms: first-degree AV block? Check the P-wave onset (the dashboard marks it on the "
            "median beat)",)


def describe_pr(summary: PrSummary) -> str:
    """``228 ms (MLII), over 200 ms: first-degree AV block?`` or ``164 ms (MLII)``, after "PR interval: ";
    ``not assessed (the reason)`` when not assessed.

    >>> describe_pr(PrSummary(True, pr_ms=228.4, lead_name="MLII"))
    '228 ms (MLII), over 200 ms: first-degree AV block?'
    >>> describe_pr(PrSummary(False, "PR not assessed: no P wave found before the dominant QRS"))
    'not assessed (no P wave found before the dominant QRS)'
    """
    if not summary.assessed:
        return f"not assessed ({summary.note.removeprefix('PR not assessed: ')})"
    verdict = f", over {FIRST_DEGREE_MS:g} ms: first-degree AV block?" if summary.first_degree_block else ""
    return f"{summary.pr_ms:.0f} ms ({summary.lead_name}){verdict}"
