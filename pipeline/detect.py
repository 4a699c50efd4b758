"""R-peak detection on one or more ECG leads.

The detector is an offline, two-lead refinement of the Pan-Tompkins family:

1. per lead, a QRS feature: 5-18 Hz band-pass (zero-phase), derivative, squaring, 100 ms
   moving-window integration, square root (a linear-amplitude slope envelope, so that small
   aberrant beats are not squashed by squaring);
2. per lead, normalisation by the local beat level (median over 8 s of the 1.5 s running
   maximum), which follows amplitude changes and electrode problems within seconds; the
   running medians mirror the signal at the record's ends (a record that opens in a pause is
   not normalised by the level of that pause, whose noise would then pass for beats);
3. leads combined by a weighted mean, each lead weighted by the inverse of its local noise
   floor (3 s running median) and penalised where its envelope departs from the lead's
   record-wide level (artefacts, saturation, drop-outs);
4. candidate peaks at least 200 ms apart; a candidate within 300 ms before or 360 ms after a
   candidate more than twice its height is a P or T wave, or noise riding on a beat, and is
   dropped;
5. Pan-Tompkins adaptive signal/noise peak levels (dominated candidates feed the noise level),
   the T-wave slope check within 360 ms, and search-back over long RR gaps;
6. each beat is placed on the largest absolute band-passed deflection of the primary lead (of the first lead
   present where the primary is missing)
   within 80 ms of the feature peak; of two beats placed less than 150 ms apart, which two candidates 200 ms apart
   can be, the one with the larger QRS feature is kept (:data:`LOCATED_MIN_GAP_S`).

Settings were chosen on the 48 MIT-BIH records with the EC57 rules (as every published QRS
detector is), and are recorded in ``benchmarks/`` with their figures; the search-back's RR factor (1.4, Pan and
Tompkins's 1.66 before session 28) on DS1's records and DS1 nested end-to-end classification
(``experiments/searchback_study.py``, EXPERIMENTS.md row AL).

References
----------
Pan J, Tompkins WJ, "A real-time QRS detection algorithm", IEEE Trans Biomed Eng
32(3):230-236, 1985.
Hamilton PS, Tompkins WJ, "Quantitative investigation of QRS detection rules using the MIT/BIH
arrhythmia database", IEEE Trans Biomed Eng 33(12):1157-1165, 1986.
Christov II, "Real time electrocardiogram QRS detection using combined adaptive threshold",
BioMed Eng OnLine 3:28, 2004 (multi-lead combination).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

import numpy as np
import scipy.ndimage
import scipy.signal

from pipeline.clean import fill_gaps
from pipeline.errors import SamplingRateError
from pipeline.quality import block_means, keep_long_runs, mask_runs, still_runs
from pipeline.types import Detection, Record

NOISE_ONLY_REASON = "no QRS complexes distinguishable from noise"
"""Why an empty detection is empty when the signal holds only noise (:attr:`Detection.noise_only` says where)."""

LEVEL_STEP_S = 0.25
"""Resolution of the local level, noise and weight tracks."""


@dataclass(frozen=True)
class DetectorSettings:
    """Parameters of :func:`detect_r_peaks` (times in seconds, fractions of the local beat level)."""

    band_hz: tuple[float, float] = (5.0, 18.0)
    detection_min_fs_hz: float = 100.0
    integration_s: float = 0.10
    refractory_s: float = 0.20
    envelope_s: float = 1.5
    level_window_s: float = 8.0
    noise_window_s: float = 3.0
    noise_floor: float = 0.02
    artifact_penalty: float = 1.0
    dominance_ratio: float = 2.0
    dominance_before_s: float = 0.30
    dominance_after_s: float = 0.36
    threshold_fraction: float = 0.50
    searchback_fraction: float = 0.60
    searchback_rr_factor: float = 1.4
    searchback_regular_rr: bool = False
    searchback_noise_floor: float = 0.0
    """The search-back's threshold is at least this multiple of the running noise peak level (0: off; EXPERIMENTS.md
    rows AP and AQ: 1.5 removes most false detections in heavy noise, but cuts record 207's ventricular flutter)."""
    searchback_clean_fraction: float = 0.0
    """Where the signal is clean (the running noise peak level at most ``searchback_clean_noise_ratio`` of the signal
    peak level), the search-back looks at this fraction of the threshold instead of ``searchback_fraction`` (0: off;
    EXPERIMENTS.md row BJ): a low wide beat (a PVC, a bundle-branch beat on a dipping lead) stands out of clean signal
    at a height noise reaches in noisy signal."""
    searchback_clean_noise_ratio: float = 0.2
    t_wave_window_s: float = 0.36
    t_wave_slope_ratio: float = 0.5
    locate_s: float = 0.08
    min_peak_to_peak_mv: float = 0.05
    min_duration_s: float = 2.0
    min_peakiness: float = 2.3
    chunk_s: float = 1800.0
    chunk_margin_s: float = 30.0


def detect_r_peaks(
    signal_mv: np.ndarray,
    fs_hz: float,
    *,
    primary_lead: int = 0,
    settings: DetectorSettings = DetectorSettings(),
) -> Detection:
    """Find the R peak of every heartbeat.

    Parameters
    ----------
    signal_mv : np.ndarray
        (n_samples,) or (n_samples, n_leads) ECG in mV (raw or cleaned; NaN gaps allowed).
    fs_hz : float
        Sampling rate (required; 100-1000 Hz).
    primary_lead : int
        Column whose R wave positions the beats.
    settings : DetectorSettings

    Returns
    -------
    Detection
        R-peak samples; when none can be found (too short, flat, no QRS distinguishable from
        noise) an empty detection whose ``reason`` says why.

    Examples
    --------
    >>> from pipeline.records import read_record  # doctest: +SKIP
    >>> rec = read_record("data/excerpts/100")  # doctest: +SKIP
    >>> len(detect_r_peaks(rec.signal_mv, rec.fs_hz).samples)  # doctest: +SKIP
    370
    """
    if not 100.0 <= fs_hz <= 1000.0:
        raise SamplingRateError(f"Received fs_hz={fs_hz:g}; expected 100 to 1000 Hz.")
    chunk = int(settings.chunk_s * fs_hz)
    if np.shape(signal_mv)[0] > chunk + 2 * int(settings.chunk_margin_s * fs_hz):
        return _detect_in_chunks(signal_mv, fs_hz, primary_lead, settings)
    return _detect_in_memory(signal_mv, fs_hz, primary_lead, settings)


def detect_record_peaks(record: Record, settings: DetectorSettings = DetectorSettings()) -> Detection:
    """Detect the beats of a :class:`Record` on all its leads, placed on its primary lead's R waves."""
    return detect_r_peaks(record.signal_mv, record.fs_hz, primary_lead=record.primary_lead, settings=settings)


def _detect_in_chunks(signal_mv: np.ndarray, fs_hz: float, primary_lead: int,
                      settings: DetectorSettings) -> Detection:
    """Detect chunk by chunk with overlapping margins (bounded memory for 24-hour recordings).

    Each chunk keeps the beats of its core; a beat found on both sides of a border (closer than
    :data:`LOCATED_MIN_GAP_S`, as beats of one chunk are) is kept once. The margins let the adaptive levels settle
    before the core.
    """
    chunk = int(settings.chunk_s * fs_hz)
    margin = int(settings.chunk_margin_s * fs_hz)
    n = np.shape(signal_mv)[0]
    kept, kept_waves, noise_only = [], [], []
    for start in range(0, n, chunk):
        lo, hi = max(0, start - margin), min(n, start + chunk + margin)
        detection = _detect_in_memory(signal_mv[lo:hi], fs_hz, primary_lead, settings)
        for found, into in ((detection.samples + lo, kept), (detection.wave_samples + lo, kept_waves)):
            into.append(found[(found >= start) & (found < start + chunk)])
        for a, b in detection.noise_only:  # stretches of the chunk (margins included) that hold only noise
            if min(b + lo, start + chunk, n) > max(a + lo, start):
                noise_only.append((max(a + lo, start), min(b + lo, start + chunk, n)))
    samples, waves = (join_chunk_beats(found, LOCATED_MIN_GAP_S * fs_hz) for found in (kept, kept_waves))
    reason = "" if samples.size else "no QRS complexes found in any part of the recording"
    return Detection(samples=samples, fs_hz=fs_hz, reason=reason, noise_only=tuple(noise_only),
                     waves=None if np.array_equal(waves, samples) else waves)


def join_chunk_beats(pieces: list[np.ndarray], min_gap: float) -> np.ndarray:
    """The ascending beats of consecutive chunks' cores as one array, less a chunk's first beat when it lies within
    ``min_gap`` samples of the last beat kept before it (one beat at a border, placed on both sides of it). Beats
    of one chunk are left as its detection placed them.

    >>> join_chunk_beats([np.array([10, 95]), np.array([100, 160]), np.array([]), np.array([400])], 20)
    array([ 10,  95, 160, 400])
    """
    joined, last = [], -np.inf
    for piece in pieces:
        if piece.size and piece[0] - last < min_gap:
            piece = piece[1:]
        if piece.size:
            joined.append(piece)
            last = piece[-1]
    return np.concatenate(joined).astype(np.int64) if joined else np.empty(0, np.int64)



def _detect_in_memory(signal_mv: np.ndarray, fs_hz: float, primary_lead: int,
                      settings: DetectorSettings, split_noise: bool = True) -> Detection:
    x = np.array(signal_mv, dtype=np.float64, order="F", ndmin=2)
    x = x.T if np.ndim(signal_mv) == 1 else x  # lead-major memory: per-lead operations are contiguous
    missing = np.isnan(x)
    if missing.any():  # bridged, not zeroed: a step to 0 at a gap's edges rings through the filters
        x = fill_gaps(x)
    spread = x.max(axis=0) - x.min(axis=0)
    reason = _find_no_beat_reason(x.shape[0], missing, spread, fs_hz, settings)
    if reason:
        return _empty(fs_hz, reason)
    held = find_held_samples(x, fs_hz)
    if held.any():  # a lead held at one value carries no signal: bridged as a gap, so its steps raise no level
        x[held] = np.nan
        missing = missing | held
        x = fill_gaps(x)
    if not (spread >= settings.min_peak_to_peak_mv).all():
        missing = missing[:, spread >= settings.min_peak_to_peak_mv]
        x, primary_lead = _drop_dead_leads(x, spread, primary_lead, settings)
    factor = max(1, int(fs_hz // settings.detection_min_fs_hz))
    coarse_fs_hz = fs_hz / factor
    feature, band = compute_qrs_feature(decimate_signal(x, factor), coarse_fs_hz, settings)
    combined = combine_leads(feature, coarse_fs_hz, settings,
                             decimate_signal(missing.astype(np.float64), factor) > 0 if missing.any() else None)
    if _peakiness(combined) < settings.min_peakiness:
        clear = find_clear_blocks(combined, factor, fs_hz, x.shape[0]) if split_noise else []
        if not clear:
            return replace(_empty(fs_hz, NOISE_ONLY_REASON), noise_only=((0, x.shape[0]),))
        return _detect_in_clear_blocks(signal_mv, clear, fs_hz, primary_lead, settings)
    peaks, heights, eligible = find_candidates(combined, coarse_fs_hz, settings)
    leads = choose_placement_leads(peaks * factor + factor // 2, missing, primary_lead)
    slopes = np.zeros(peaks.size)
    for lead in np.unique(leads):
        slopes[leads == lead] = _max_slopes(peaks[leads == lead], band[:, lead], coarse_fs_hz)
    initial_noise = 0.5 * float(np.mean(combined[: int(8 * coarse_fs_hz)]))
    beats = apply_adaptive_threshold(peaks, heights, eligible, slopes, initial_noise, coarse_fs_hz, settings)
    at = beats * factor + factor // 2
    leads = choose_placement_leads(at, missing, primary_lead)
    located = np.empty(at.size, np.int64)
    for lead in np.unique(leads):
        located[leads == lead] = locate_r_peaks(at[leads == lead], x[:, lead], fs_hz, settings)
    strengths = combined[beats]
    if missing.any():  # filter ringing at the edges of a gap, amplified where the level is low, is not a beat
        outside = ~missing.all(axis=1)[located]
        located, strengths = located[outside], strengths[outside]
    waves = np.unique(located)
    located = drop_refractory_neighbours(located, strengths, LOCATED_MIN_GAP_S * fs_hz)
    return Detection(samples=located, fs_hz=fs_hz, waves=None if np.array_equal(waves, located) else waves)


HELD_MIN_S = 0.3
"""A lead that repeats one value this long is held (flat, or at its amplifier's rail), not recording: on MIT-BIH's 48
records the longest such stretch is 0.73 s (record 116, clipped), and only one other lasts over 0.2 s (223, 0.47 s)."""


def find_held_samples(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """(n_samples, n_leads) bool: samples of stretches of at least :data:`HELD_MIN_S` in which a lead repeats one
    value (:func:`pipeline.quality.still_runs` with no step allowed), in leads that are not held throughout (those are
    dead leads, dropped whole).

    >>> x = np.column_stack([np.r_[np.sin(np.arange(100)), np.full(50, 2.0), np.sin(np.arange(50))], np.ones(200)])
    >>> held = find_held_samples(x, 100.0)
    >>> int(held[:, 0].sum()), int(held[:, 1].sum())
    (50, 0)
    """
    held = np.zeros(x.shape, bool)
    min_run = max(2, int(round(HELD_MIN_S * fs_hz)))
    for lead in range(x.shape[1]):
        runs = keep_long_runs(still_runs(x[:, lead], 0.0), min_run)
        if len(runs) and not (runs[0, 0] == 0 and runs[0, 1] == x.shape[0]):
            for a, b in runs:
                held[a:b, lead] = True
    return held


NOISE_BLOCK_S = 30.0
"""Blocks in which a stretch that does not stand out of the noise as a whole is searched for clear signal."""

CLEAR_BLOCK_PEAKINESS = 5.0
"""Peakiness (:func:`_peakiness`) a block needs to be detected on its own inside such a stretch: clearly an ECG.
Measured on 30-s blocks: white noise and a random walk 1.8-1.9, Student t noise with 3 degrees of freedom up to 2.5
and with 2 up to 3.9; MIT-BIH records 100, 108, 113, 124, 201, 203, 222, 232 at least 4.2 in every block (5th
percentile 5.3-25), the noisiest (105) 3.2, and record 207's flutter 1.9."""


def find_clear_blocks(combined: np.ndarray, factor: int, fs_hz: float, n_samples: int) -> list[tuple[int, int]]:
    """[start, stop) samples (of the ``n_samples`` the ``factor``-decimated feature ``combined`` came from) of the runs
    of :data:`NOISE_BLOCK_S` blocks whose detection feature stands clearly out of the noise on its own
    (:data:`CLEAR_BLOCK_PEAKINESS`), in a stretch that as a whole does not: clean minutes of a mostly noisy recording,
    which a verdict on the whole stretch would throw away. A last block under half the length joins the one before
    it."""
    block = int(NOISE_BLOCK_S * fs_hz / factor)
    n_blocks = max(1, int(round(len(combined) / block)))
    if n_blocks < 2:
        return []
    bounds = [i * block for i in range(n_blocks)] + [len(combined)]
    clear = np.array([_peakiness(combined[a:b]) >= CLEAR_BLOCK_PEAKINESS for a, b in zip(bounds[:-1], bounds[1:])])
    return [(bounds[a] * factor, n_samples if b == n_blocks else bounds[b] * factor) for a, b in mask_runs(clear)]


def _detect_in_clear_blocks(signal_mv: np.ndarray, clear: list[tuple[int, int]], fs_hz: float, primary_lead: int,
                            settings: DetectorSettings) -> Detection:
    """Beats of the clear stretches, each detected on its own; the rest of the signal is noise only."""
    n = np.shape(signal_mv)[0]
    found, found_waves, noise_only, previous = [], [], [], 0
    for start, stop in clear:
        if start > previous:
            noise_only.append((previous, start))
        detection = _detect_in_memory(signal_mv[start:stop], fs_hz, primary_lead, settings, split_noise=False)
        found.append(detection.samples + start)
        found_waves.append(detection.wave_samples + start)
        noise_only.extend((a + start, b + start) for a, b in detection.noise_only)
        previous = stop
    if previous < n:
        noise_only.append((previous, n))
    samples, waves = np.concatenate(found).astype(np.int64), np.concatenate(found_waves).astype(np.int64)
    return Detection(samples=samples, fs_hz=fs_hz, reason="" if samples.size else NOISE_ONLY_REASON,
                     noise_only=tuple(noise_only), waves=None if np.array_equal(waves, samples) else waves)


def choose_placement_leads(samples: np.ndarray, missing: np.ndarray, primary_lead: int) -> np.ndarray:
    """The lead that measures and places each beat: the primary lead, or, where it is missing at the beat (a lead that
    came off for a while) and another is not, the first lead present there. Placing a beat on a missing lead put it
    anywhere in its search window (its samples read 0).

    >>> missing = np.zeros((10, 2), bool); missing[4:8, 0] = True; missing[6, 1] = True
    >>> choose_placement_leads(np.array([1, 5, 6, 9]), missing, 0).tolist()
    [0, 1, 0, 0]
    """
    leads = np.full(samples.size, primary_lead, dtype=np.int64)
    at = np.clip(samples, 0, missing.shape[0] - 1)
    absent = missing[at, primary_lead] & ~missing[at].all(axis=1)
    leads[absent] = np.argmax(~missing[at[absent]], axis=1)
    return leads


def decimate_signal(x: np.ndarray, factor: int) -> np.ndarray:
    """Average non-overlapping groups of ``factor`` samples per lead (a boxcar anti-alias filter)."""
    if factor == 1:
        return x
    out = np.empty((x.shape[0] // factor, x.shape[1]), order="F")
    for j in range(x.shape[1]):
        out[:, j] = block_means(x[:, j], factor, np.float64)
    return out


def _band_pass(x: np.ndarray, fs_hz: float, settings: DetectorSettings) -> np.ndarray:
    sos = scipy.signal.butter(2, settings.band_hz, btype="bandpass", fs=fs_hz, output="sos")
    return scipy.signal.sosfiltfilt(sos, x, axis=0)


def compute_qrs_feature(x: np.ndarray, fs_hz: float, settings: DetectorSettings) -> tuple[np.ndarray, np.ndarray]:
    """Per-lead slope envelope (sqrt of the integrated squared derivative) and the band-passed signal."""
    band = _band_pass(x, fs_hz, settings)
    slope = np.gradient(band, axis=0)
    width = max(1, int(round(settings.integration_s * fs_hz)))
    energy = scipy.ndimage.uniform_filter1d(slope * slope, width, axis=0, mode="nearest")
    return np.sqrt(np.maximum(energy, 0.0, out=energy), out=energy), band


def combine_leads(feature: np.ndarray, fs_hz: float, settings: DetectorSettings,
                  missing: np.ndarray | None = None) -> np.ndarray:
    """One detection feature: locally normalised leads, weighted by their local quality.

    ``missing`` (bool, as ``feature``): where a lead's signal is missing it gets no weight, so that the other leads
    carry the feature alone from the first sample of the gap; otherwise the missing lead's past level kept its weight
    for seconds and the first beats of a gap fell under the threshold."""
    step = max(1, int(LEVEL_STEP_S * fs_hz))
    envelope = _running_max(_block_max(feature, step), settings.envelope_s / LEVEL_STEP_S)
    level = _running_median(envelope, settings.level_window_s / LEVEL_STEP_S)
    level = np.maximum(level, 1e-3 * np.median(level, axis=0) + 1e-12)
    normalised = feature / _expand(level, step, feature.shape[0])
    if feature.shape[1] == 1:
        return normalised[:, 0]
    weights = _expand(_lead_weights(normalised[::step], envelope, settings), step, feature.shape[0])
    if missing is not None:
        present = np.where(missing.all(axis=1, keepdims=True), 1.0, ~missing)  # no lead at all: as before
        weights = weights * present
        weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    return np.einsum("ij,ij->i", normalised, weights)


def _expand(coarse: np.ndarray, step: int, n_samples: int) -> np.ndarray:
    """Sample-rate version of a track computed every ``step`` samples (held constant between)."""
    return np.repeat(coarse, step, axis=0)[:n_samples]


def _lead_weights(normalised_coarse: np.ndarray, envelope: np.ndarray, settings: DetectorSettings) -> np.ndarray:
    noise = _running_median(normalised_coarse, settings.noise_window_s / LEVEL_STEP_S)
    weights = 1.0 / np.maximum(noise, settings.noise_floor)
    typical = np.median(envelope, axis=0) + 1e-12
    weights *= np.exp(-settings.artifact_penalty * np.abs(np.log((envelope + 1e-12) / typical)))
    return weights / weights.sum(axis=1, keepdims=True)


def _block_max(feature: np.ndarray, step: int) -> np.ndarray:
    """Maximum of each block of ``step`` samples (the last, partial block included)."""
    n_blocks = -(-feature.shape[0] // step)
    padded = np.zeros((n_blocks * step, feature.shape[1]))
    padded[: feature.shape[0]] = feature
    return padded.reshape(n_blocks, step, feature.shape[1]).max(axis=1)


def _running_max(coarse: np.ndarray, width: float) -> np.ndarray:
    return scipy.ndimage.maximum_filter1d(coarse, max(1, int(round(width))), axis=0, mode="nearest")


def _running_median(coarse: np.ndarray, width: float) -> np.ndarray:
    """Running median; the ends are mirrored, so the first and last half-windows use real values only.

    Repeating the edge value instead ("nearest") filled half the window at a record's start with its first
    block: record 232 opens with a 1.4 s pause, whose noise level then became the beat level there.
    """
    return scipy.ndimage.median_filter(coarse, size=(max(1, int(width)), 1), mode="reflect")


def find_candidates(combined: np.ndarray, fs_hz: float,
                    settings: DetectorSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local maxima at least a refractory period apart, their heights, and whether each may be a beat.

    A candidate dominated by a much larger one nearby (P wave, T wave) may not be a beat, but
    still feeds the noise level of the adaptive threshold.
    """
    peaks, _ = scipy.signal.find_peaks(combined, distance=max(1, int(settings.refractory_s * fs_hz)))
    heights = combined[peaks]
    return peaks, heights, ~_dominated(peaks, heights, fs_hz, settings)


def _dominated(peaks: np.ndarray, heights: np.ndarray, fs_hz: float, settings: DetectorSettings) -> np.ndarray:
    """True for candidates with a candidate ``dominance_ratio`` times higher shortly after or before."""
    after = int(settings.dominance_after_s * fs_hz)
    before = int(settings.dominance_before_s * fs_hz)
    lo = np.searchsorted(peaks, peaks - after)
    hi = np.searchsorted(peaks, peaks + before, side="right")
    dominated = np.zeros(peaks.size, bool)
    limit = heights * settings.dominance_ratio
    max_span = int(np.max(hi - lo)) if peaks.size else 0
    for offset in range(1, max_span):
        for j in (np.arange(peaks.size) - offset, np.arange(peaks.size) + offset):
            ok = (j >= lo) & (j < hi)
            dominated[ok] |= heights[j[ok]] > limit[ok]
    return dominated


def _max_slopes(peaks: np.ndarray, band: np.ndarray, fs_hz: float, half_s: float = 0.075) -> np.ndarray:
    """Largest absolute slope of the band-passed lead within ``half_s`` of each candidate."""
    if peaks.size == 0:
        return np.empty(0)
    half = int(half_s * fs_hz)
    slope = np.abs(np.gradient(band))
    window = np.clip(peaks[:, None] + np.arange(-half, half + 1)[None, :], 0, slope.size - 1)
    return slope[window].max(axis=1)


def apply_adaptive_threshold(peaks: np.ndarray, heights: np.ndarray, eligible: np.ndarray, slopes: np.ndarray,
                             initial_noise: float,
                             fs_hz: float, settings: DetectorSettings) -> np.ndarray:
    """Pan-Tompkins signal/noise peak levels, T-wave check and search-back; returns the accepted peaks.

    ``slopes`` are the candidates' largest band-passed slopes (for the T-wave check) and
    ``initial_noise`` the starting noise peak level (half the mean feature of the first 8 s).
    """
    if peaks.size == 0:
        return peaks.astype(np.int64)
    init = heights[eligible & (peaks < 8 * fs_hz)]
    signal_level = 0.25 * float(init.max() if init.size else heights.max())
    noise_level = initial_noise
    refractory = settings.refractory_s * fs_hz
    t_window = settings.t_wave_window_s * fs_hz
    peak_list, height_list, slope_list, ok_list = peaks.tolist(), heights.tolist(), slopes.tolist(), eligible.tolist()
    last_slope = 0.0
    beats: list[int] = []
    rr_recent: list[float] = []
    regular = RegularIntervals()
    first_pending = 0
    i = 0
    while i < len(peak_list):
        threshold = noise_level + settings.threshold_fraction * (signal_level - noise_level)
        if beats and rr_recent:
            rr_mean = regular.mean() if settings.searchback_regular_rr else sum(rr_recent) / len(rr_recent)
            if peak_list[i] - beats[-1] > settings.searchback_rr_factor * rr_mean:
                fraction = settings.searchback_fraction
                if settings.searchback_clean_fraction and (
                        noise_level <= settings.searchback_clean_noise_ratio * signal_level):
                    fraction = settings.searchback_clean_fraction
                k = _search_back(peaks, heights, eligible, first_pending, i, beats[-1] + refractory,
                                 max(fraction * threshold, settings.searchback_noise_floor * noise_level))
                if k >= 0:
                    _append_beat(beats, rr_recent, peak_list[k], regular)
                    signal_level = 0.25 * height_list[k] + 0.75 * signal_level
                    first_pending = k + 1
                    continue
        height = height_list[i]
        if ok_list[i] and height > threshold and not (
            beats and peak_list[i] - beats[-1] < t_window and slope_list[i] < settings.t_wave_slope_ratio * last_slope
        ):
            last_slope = slope_list[i]
            _append_beat(beats, rr_recent, peak_list[i], regular)
            signal_level = 0.125 * height + 0.875 * signal_level
            first_pending = i + 1
        else:
            noise_level = 0.125 * height + 0.875 * noise_level
        i += 1
    return np.asarray(beats, dtype=np.int64)


def _search_back(peaks, heights, eligible, start, stop, earliest, threshold) -> int:
    """Index of the highest eligible candidate in [start, stop) after ``earliest`` above ``threshold``, or -1."""
    window = np.arange(start, stop)
    window = window[eligible[window] & (peaks[window] > earliest) & (heights[window] > threshold)]
    return int(window[np.argmax(heights[window])]) if window.size else -1


class RegularIntervals:
    """Pan and Tompkins's second RR average (RR AVERAGE2): the mean of the 8 most recent intervals within 92-116 % of
    it, so that the short intervals around a false or premature beat do not shorten the search-back's gap. After 8
    intervals in a row outside those limits (the rhythm changed, or is irregular) it restarts from the last 8
    intervals, as Pan and Tompkins fall back to the plain average."""

    def __init__(self, memory: int = 8, low: float = 0.92, high: float = 1.16) -> None:
        self.memory, self.low, self.high = memory, low, high
        self.kept: list[float] = []
        self.recent: list[float] = []
        self.outside = 0

    def add(self, rr: float) -> None:
        self.recent = (self.recent + [rr])[-self.memory:]
        mean = self.mean()
        if not self.kept or self.low * mean <= rr <= self.high * mean:
            self.kept = (self.kept + [rr])[-self.memory:]
            self.outside = 0
        else:
            self.outside += 1
            if self.outside >= self.memory:
                self.kept, self.outside = list(self.recent), 0

    def mean(self) -> float:
        return sum(self.kept) / len(self.kept) if self.kept else float("nan")


def _append_beat(beats: list[int], rr_recent: list[float], sample: int, regular: RegularIntervals,
                 memory: int = 8) -> None:
    if beats:
        rr_recent.append(sample - beats[-1])
        regular.add(sample - beats[-1])
        if len(rr_recent) > memory:
            rr_recent.pop(0)
    beats.append(sample)


def locate_r_peaks(beats: np.ndarray, lead_mv: np.ndarray, fs_hz: float, settings: DetectorSettings) -> np.ndarray:
    """Move each beat to the largest deflection of ``lead_mv`` from its local median within ``locate_s``.

    The median of the search window stands for the local baseline, so wander does not bias
    the choice between the R wave and a deep S or QS wave.
    """
    if beats.size == 0:
        return beats.astype(np.int64)
    half = int(settings.locate_s * fs_hz)
    window = np.clip(beats[:, None] + np.arange(-half, half + 1)[None, :], 0, lead_mv.size - 1)
    values = lead_mv[window]
    best = np.argmax(np.abs(values - np.median(values, axis=1, keepdims=True)), axis=1)
    return window[np.arange(beats.size), best].astype(np.int64)


LOCATED_MIN_GAP_S = 0.15
"""Closest two located beats may lie (:func:`drop_refractory_neighbours`). Not the 200 ms between candidates: on a
wide complex the largest deflection can lie anywhere in the QRS, and two real beats of a fast ventricular
tachycardia, 264 ms apart in MIT-BIH's reference, were located 183-197 ms apart (203, 205); 150 ms keeps them, while
the beats counted twice that this removes were located 106-144 ms apart (104, 105, 116, 207's flutter)."""


def drop_refractory_neighbours(samples: np.ndarray, strengths: np.ndarray, min_gap: float) -> np.ndarray:
    """The beats at ``samples`` (any order) less the weaker of any two closer than ``min_gap`` samples.

    The detector accepts QRS candidates a refractory period apart, but :func:`locate_r_peaks` then moves each to the
    largest deflection within ``locate_s`` on either side, and two beats 200 ms apart could land 117 ms apart (MIT-BIH
    104 at 10:13 and 116 at 16:40, in noise: one QRS counted twice, a "PVC" coupled at 117 ms and two beats of a false
    ventricular tachycardia, found by clinical reads of session 55). Ventricles cannot beat again so soon (their
    refractory period), so of such a pair the beat whose QRS feature (``strengths``) is larger is kept.

    The strongest beats are kept first, so that a chain of close beats does not take away one that is far enough from
    every beat kept.

    >>> drop_refractory_neighbours(np.array([100, 500, 540, 900, 900]), np.array([1.0, 2.0, 3.0, 1.0, 1.0]), 72)
    array([100, 540, 900])
    >>> drop_refractory_neighbours(np.array([0, 100, 200]), np.array([1.0, 2.0, 3.0]), 150)  # 0 and 200 both stay
    array([  0, 200])
    """
    samples = np.asarray(samples, np.int64)
    kept: list[int] = []  # ascending
    for i in np.lexsort((samples, -np.asarray(strengths, np.float64))):  # strongest first; ties: the earlier
        k = bisect.bisect_left(kept, samples[i])
        if (k < len(kept) and kept[k] - samples[i] < min_gap) or (k > 0 and samples[i] - kept[k - 1] < min_gap):
            continue
        kept.insert(k, int(samples[i]))
    return np.asarray(kept, np.int64)


def _find_no_beat_reason(n_samples: int, missing: np.ndarray, spread: np.ndarray, fs_hz: float,
                         settings: DetectorSettings) -> str:
    """Why no beat can be found (``spread`` is each lead's peak-to-peak), or ""."""
    if n_samples < settings.min_duration_s * fs_hz:
        return f"signal too short ({n_samples / fs_hz:.2f} s; at least {settings.min_duration_s:g} s needed)"
    if missing.all():
        return "no valid samples (all missing)"
    if not np.any(spread >= settings.min_peak_to_peak_mv):
        return f"flat signal (peak-to-peak below {settings.min_peak_to_peak_mv:g} mV on every lead)"
    return ""


def _drop_dead_leads(x: np.ndarray, spread: np.ndarray, primary_lead: int,
                     settings: DetectorSettings) -> tuple[np.ndarray, int]:
    """Drop leads that are flat or missing throughout; returns the kept leads and the primary's new column."""
    alive = spread >= settings.min_peak_to_peak_mv
    new_primary = int(np.sum(alive[:primary_lead])) if alive[primary_lead] else 0
    return x[:, alive], new_primary


def _peakiness(combined: np.ndarray) -> float:
    """Ratio of the 99th percentile to the median of the feature.

    Measured here: 6.6-18 on the MIT-BIH records, 2.4-3.1 on them with white noise at 0 dB SNR,
    1.7 for white Gaussian noise or a random walk, 2.0 for heavy-tailed (Student t, 3 dof) noise.
    """
    coarse = combined[::4]
    median = float(np.median(coarse))
    return float(np.percentile(coarse, 99)) / median if median > 0 else np.inf


def _empty(fs_hz: float, reason: str) -> Detection:
    return Detection(samples=np.empty(0, dtype=np.int64), fs_hz=fs_hz, reason=reason)
