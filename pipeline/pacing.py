"""Pacing spikes: a pacemaker's stimulus seen before the beats, so that a record paced throughout is not reported as
sinus rhythm when nobody stated the pacemaker.

A pacemaker's stimulus lasts under 2 ms; the recorder's bandwidth rounds it, but on MIT-BIH's paced records (100 Hz
analog bandwidth, 360 Hz sampling) it stays the narrowest deflection near the paced QRS: a spike under 10 ms wide at
half its height standing on a broad complex, narrower than a conducted QRS's own tall peaks. For each beat the
narrowest deflection near it is measured (on any lead, of at least ``min_prominence_fraction`` of the beat's
peak-to-peak amplitude there); a beat whose narrowest deflection is at most ``max_width_ms`` wide is spiked. Noise
makes such deflections too (white noise at 6 dB gives a fifth of an unpaced record's beats one:
``tests/test_pacing.py``), but at random times, while a pacemaker's stimulus keeps its place before the paced QRS: so a
spike counts for the record only on its commonest lead and polarity, within ``offset_tolerance_ms`` of one of the two
commonest offsets from the beat there (two: the detector places a paced beat on the spike or on the QRS). The record
reads as paced when at least ``record_share_min`` of its readable beats have such a spike.

Measured on MIT-BIH's 48 records (``PYTHONPATH=. .venv/bin/python benchmarks/pacing_spikes.py``, BENCHMARKS.md
section 19; session 56): that share is 0.38-0.77 in the four paced records (102, 104, 107, 217) and at most 0.02 in the
44 others; with white or muscle noise added at 12, 6 and 0 dB (``--noise``) at most 0.13 in five unpaced records, while
the paced records fall under the threshold from 12 dB down. The settings were chosen on these records, so the figures
are not a held-out test. Not found: a record paced for a small part of the time, a paced record in noise, one
recorded at under ``min_fs_hz`` (a 128-Hz Holter recording, where a spike is one sample) or through a narrower
bandwidth than MIT-BIH's, which rounds the spike further. The product uses it as a hint only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.ndimage
import scipy.signal

from pipeline.errors import SamplingRateError
from pipeline.regions import inside_intervals, merge_intervals


@dataclass(frozen=True)
class SpikeSettings:
    """How pacing spikes are looked for.

    Attributes
    ----------
    before_s, after_s : float
        The window around each detected beat where a spike is looked for (a spike precedes the paced QRS by up to
        about 60 ms where the detector placed the beat on the QRS, or is the beat where it placed it on the spike).
    segment_s : float
        Signal read on each side of a beat: the window, a peak's prominence (measured within the window's length
        around it) and the baseline filter's reach must fit inside.
    max_width_ms : float
        Widest deflection, at half its prominence, taken for a spike.
    min_prominence_fraction : float
        A deflection's prominence as a share of the beat's peak-to-peak amplitude in the window.
    min_amplitude_mv : float
        A beat whose window spans less on every lead is not assessed.
    baseline_s : float
        Width of the median filter whose output is taken away first: what is left is the QRS's sharper parts, against
        whose extent a spike's prominence is measured.
    min_fs_hz : float
        Under this sampling rate spikes are not looked for (one sample is too wide).
    offset_tolerance_ms : float
        How far from one of the record's two commonest spike offsets a spike still counts.
    record_share_min : float
        Share of the readable beats with a spike that counts from which a record reads as paced.
    min_beats : int
        Fewest readable beats the share is taken from.
    max_beats : int
        Most readable beats the share is taken from, spread evenly over the recording (a 24-hour recording's
        100,000 beats are not all needed for a share).
    """

    before_s: float = 0.08
    after_s: float = 0.04
    segment_s: float = 0.3
    max_width_ms: float = 10.0
    min_prominence_fraction: float = 0.6
    min_amplitude_mv: float = 0.1
    baseline_s: float = 0.2
    min_fs_hz: float = 250.0
    offset_tolerance_ms: float = 6.0
    record_share_min: float = 0.25
    min_beats: int = 50
    max_beats: int = 5000

    def __post_init__(self) -> None:
        for name in ("before_s", "after_s", "max_width_ms", "baseline_s", "min_fs_hz", "offset_tolerance_ms"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Received {name}={getattr(self, name)!r}; expected a positive number.")
        for name in ("min_prominence_fraction", "record_share_min"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"Received {name}={getattr(self, name)!r}; expected a share in (0, 1].")
        if self.min_amplitude_mv < 0 or not 1 <= self.min_beats <= self.max_beats:
            raise ValueError(f"Received min_amplitude_mv={self.min_amplitude_mv!r}, min_beats={self.min_beats!r} and "
                             f"max_beats={self.max_beats!r}; expected min_amplitude_mv >= 0 and "
                             "1 <= min_beats <= max_beats.")
        if not self.segment_s >= self.baseline_s / 2 + 1.5 * max(self.before_s, self.after_s) + self.after_s / 2:
            raise ValueError(f"Received segment_s={self.segment_s!r}; expected room for the window, a peak's "
                             "prominence around its edge and the baseline filter's reach.")


@dataclass(frozen=True)
class BeatSpikes:
    """Per beat, the narrowest prominent deflection near it (:func:`measure_beat_spikes`).

    Attributes
    ----------
    width_ms : np.ndarray
        Its width at half its prominence; inf where no deflection is prominent enough.
    offset_ms : np.ndarray
        Its apex's time from the beat (negative: before); NaN where none.
    channel : np.ndarray
        2 * lead + (1 for a downward deflection); -1 where none.
    """

    width_ms: np.ndarray
    offset_ms: np.ndarray
    channel: np.ndarray


def measure_beat_spikes(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray,
                        settings: SpikeSettings = SpikeSettings()) -> BeatSpikes:
    """The narrowest prominent deflection near each beat, on any lead and of either polarity. Only the signal around
    the beats is read (``settings.segment_s`` on each side), so the cost follows the number of beats.

    >>> fs = 360.0
    >>> t = np.arange(int(4 * fs)) / fs
    >>> qrs = np.exp(-((t[:, None] - np.array([1.0, 3.0])) / 0.03) ** 2).sum(axis=1)  # two beats, 50 ms wide
    >>> spike = np.zeros_like(t); spike[int(3.0 * fs) - 5] = -1.5  # a stimulus 14 ms before the second
    >>> found = measure_beat_spikes((qrs + spike)[:, None], fs, np.array([360, 1080]))
    >>> [round(w) for w in found.width_ms], round(found.offset_ms[1]), found.channel.tolist()
    ([48, 3], -14, [0, 1])
    """
    if fs_hz <= 0:
        raise SamplingRateError(f"Received fs_hz={fs_hz!r}; expected a positive sampling rate.")
    x = np.asarray(signal_mv)
    x = x[:, None] if x.ndim == 1 else x
    beats = np.asarray(beat_samples, np.int64)
    found = BeatSpikes(np.full(len(beats), np.inf), np.full(len(beats), np.nan), np.full(len(beats), -1))
    if not len(beats) or not len(x):
        return found
    half = int(round(settings.segment_s * fs_hz))
    before, after = int(round(settings.before_s * fs_hz)), int(round(settings.after_s * fs_hz))
    rows = np.clip(beats[:, None] + np.arange(-half, half + 1)[None, :], 0, len(x) - 1)
    centres = np.arange(len(beats)) * rows.shape[1] + half  # each beat in the segments laid end to end
    for lead in range(x.shape[1]):
        segments = x[rows, lead].astype(np.float64)
        missing = ~np.isfinite(segments)
        if missing.all():
            continue
        if missing.any():
            segments[missing] = np.nanmedian(segments)
        values = segments.ravel()  # the median filter's reach from a segment's edge stops short of the window
        values = values - scipy.ndimage.median_filter(values, size=int(settings.baseline_s * fs_hz) | 1,
                                                      mode="nearest")
        window = values.reshape(segments.shape)[:, half - before:half + after + 1]
        span = window.max(axis=1) - window.min(axis=1)
        span[missing[:, half - before:half + after + 1].any(axis=1)] = 0.0  # a gap filled flat: not assessed
        for downward in (0, 1):
            owner, apex, width = find_narrow_peaks(-values if downward else values, centres, span, before, after,
                                                   settings)
            width_ms = width * 1000.0 / fs_hz
            for k, b, w in zip(owner.tolist(), apex.tolist(), width_ms.tolist()):  # the prominent peaks: a few a beat
                if w < found.width_ms[k]:
                    found.width_ms[k] = w
                    found.offset_ms[k] = (b - centres[k]) * 1000.0 / fs_hz
                    found.channel[k] = 2 * lead + downward
    return found


def find_narrow_peaks(values: np.ndarray, beats: np.ndarray, span: np.ndarray, before: int, after: int,
                      settings: SpikeSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The upward peaks of one lead inside a beat's window and prominent enough for it (``span``: each beat's
    peak-to-peak amplitude in its window): their beat, sample and width at half prominence (samples)."""
    none = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    peaks, _ = scipy.signal.find_peaks(values)
    if not len(peaks):
        return none
    owner = np.searchsorted(beats + after, peaks, side="left")  # the first beat whose window ends at or after it
    inside = owner < len(beats)
    peaks, owner = peaks[inside], owner[inside]
    inside = peaks >= beats[owner] - before
    peaks, owner = peaks[inside], owner[inside]
    if not len(peaks):
        return none
    with warnings.catch_warnings():  # a peak whose prominence is 0 within the window is simply not tall
        warnings.filterwarnings("ignore", message="some peaks have a prominence of 0")
        prominences, left, right = scipy.signal.peak_prominences(values, peaks, wlen=before + after + 1)
    tall = (prominences >= settings.min_prominence_fraction * span[owner]) & (span[owner] >= settings.min_amplitude_mv)
    if not tall.any():
        return none
    widths = scipy.signal.peak_widths(values, peaks[tall], rel_height=0.5,
                                      prominence_data=(prominences[tall], left[tall], right[tall]))[0]
    return owner[tall], peaks[tall], widths


def find_consistent_spikes(spikes: BeatSpikes, settings: SpikeSettings = SpikeSettings()) -> np.ndarray:
    """Boolean per beat: a spike (no wider than ``settings.max_width_ms``) on the commonest channel (lead and
    polarity) of the spikes, within ``settings.offset_tolerance_ms`` of one of the two commonest offsets there.

    >>> n = 100
    >>> paced = BeatSpikes(np.full(n, 5.0), np.where(np.arange(n) % 4, -20.0, 0.0), np.zeros(n, int))
    >>> int(find_consistent_spikes(paced).sum())  # on the spike or on the QRS after it: both places
    100
    >>> noise = BeatSpikes(np.full(n, 5.0), np.linspace(-80, 40, n), np.arange(n) % 4)
    >>> int(find_consistent_spikes(noise).sum())
    6
    """
    spiked = spikes.width_ms <= settings.max_width_ms
    consistent = np.zeros(len(spiked), bool)
    if not spiked.any():
        return consistent
    tolerance = settings.offset_tolerance_ms
    centres = np.arange(-1000 * settings.before_s, 1000 * settings.after_s + 1.0, 1.0)
    best = (0, consistent)
    for channel in np.unique(spikes.channel[spiked]).tolist():
        on = spiked & (spikes.channel == channel)
        near = np.abs(spikes.offset_ms[on][:, None] - centres[None, :]) <= tolerance
        counts = near.sum(axis=0)
        first = int(np.argmax(counts))
        apart = np.abs(centres - centres[first]) > 2 * tolerance
        second = int(np.argmax(np.where(apart, counts, -1)))
        kept = on.copy()
        kept[on] = near[:, first] | (near[:, second] if apart.any() else False)
        if kept.sum() > best[0]:
            best = (int(kept.sum()), kept)
    return best[1]


def sees_spikes(fs_hz: float, recorded_fs_hz: float | None, settings: SpikeSettings) -> bool:
    """Whether a signal at ``fs_hz``, recorded at ``recorded_fs_hz`` (None: the same) before any resampling, is fast
    enough for spikes (``settings.min_fs_hz``)."""
    return min(fs_hz, fs_hz if recorded_fs_hz is None else recorded_fs_hz) >= settings.min_fs_hz


def find_spiked_beats(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray,
                      settings: SpikeSettings = SpikeSettings(), *, recorded_fs_hz: float | None = None) -> np.ndarray:
    """Boolean per beat: a pacing spike near it, where the record's spikes keep their place
    (:func:`find_consistent_spikes`); all False under ``settings.min_fs_hz``, or for a recording made under it
    (``recorded_fs_hz``) and resampled to ``fs_hz``."""
    if not sees_spikes(fs_hz, recorded_fs_hz, settings):
        return np.zeros(len(beat_samples), bool)
    return find_consistent_spikes(measure_beat_spikes(signal_mv, fs_hz, beat_samples, settings), settings)


def measure_spike_share(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray, readable: np.ndarray,
                        settings: SpikeSettings = SpikeSettings(), *, recorded_fs_hz: float | None = None) -> float:
    """Share of the ``readable`` beats (boolean per beat; at most ``settings.max_beats`` of them, spread evenly) with a
    pacing spike (:func:`find_spiked_beats`, found among them). NaN when not assessed: a sampling rate under
    ``settings.min_fs_hz``, or a recording made at one (``recorded_fs_hz``) before it was resampled to ``fs_hz``;
    fewer than ``settings.min_beats`` readable beats."""
    readable = np.asarray(readable, bool)
    if not sees_spikes(fs_hz, recorded_fs_hz, settings) or readable.sum() < settings.min_beats:
        return float("nan")
    beats = np.asarray(beat_samples, np.int64)[readable]
    if len(beats) > settings.max_beats:
        beats = beats[np.linspace(0, len(beats) - 1, settings.max_beats).round().astype(np.int64)]
    return float(np.mean(find_spiked_beats(signal_mv, fs_hz, beats, settings)))


def reads_as_spiked(share: float, settings: SpikeSettings = SpikeSettings()) -> bool:
    """Whether a record's spike share (:func:`measure_spike_share`) says it is paced."""
    return bool(np.isfinite(share) and share >= settings.record_share_min)


def find_beats_outside(beat_samples: np.ndarray, spans) -> np.ndarray:
    """Boolean per beat: outside every quality span (:class:`pipeline.types.QualitySpan`, any lead and kind).

    >>> from pipeline.types import QualitySpan
    >>> spans = [QualitySpan("noise", 1, 400, 950), QualitySpan("flat", 0, 900, 1000)]
    >>> find_beats_outside(np.array([100, 500, 960, 1000, 1300]), spans).tolist()
    [True, False, False, True, True]
    """
    return ~inside_intervals(np.asarray(beat_samples, np.int64), merge_intervals([(s.start, s.stop) for s in spans]))
