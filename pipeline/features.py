"""Beat context: what a beat looks like next to its own record, with no labels used.

For every beat of one record, :func:`compute_beat_context` gives

1. the record's dominant beat (template) and each beat minus it (extra waveform channels);
2. morphology scalars against that template (correlation, QRS width, amplitude, QRS and T-wave
   differences, polarity);
3. rhythm irregularity of the RR intervals within +-30 s (dispersion, successive differences,
   entropy, an AF-likeness score, the beat's robust z-score);
4. P-wave features measured against the patient's own sinus P wave, after subtracting the
   preceding beat's T wave, so that a premature beat's P region is not read as its
   predecessor's T wave;
5. optionally (``neighbour_offsets``), the beat's neighbours: a few of those features of the
   beats before and after it, and its QRS correlation with the previous and next beat, so that
   a single-beat classifier sees the run, couplet or bigeminal pattern it sits in
   (CLASSIFIER-NOTES.md lesson 4).

Everything is computed from the record's own unlabelled content, which is legitimate when scoring
that record (``../shared/EVALUATION.md``). Patient-relative RR ratios are not repeated here: they
are :func:`pipeline.rr.compute_rr_features`, carried by :class:`pipeline.types.Beats`.

References
----------
de Chazal P, O'Dwyer M, Reilly RB, "Automatic classification of heartbeats using ECG morphology
and heartbeat interval features", IEEE Trans Biomed Eng 51(7):1196-1206, 2004.
Mar T, Zaunseder S, Martinez JP, Llamedo M, Poll R, "Optimization of ECG classification by means
of feature selection", IEEE Trans Biomed Eng 58(8):2168-2177, 2011.
Moody GB, Mark RG, "Development and evaluation of a 2-lead ECG analysis program", Computers in
Cardiology 9:39-44, 1982 (dominant-beat templates, beat-to-template correlation).
Tateno K, Glass L, "Automatic detection of atrial fibrillation using the coefficient of variation
and density histograms of RR and deltaRR intervals", Med Biol Eng Comput 39:664-671, 2001.
Lake DE, Moorman JR, "Accurate estimation of entropy in very short physiological time series: the
problem of atrial fibrillation detection in implanted ventricular devices", Am J Physiol Heart
Circ Physiol 300:H319-H325, 2011.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields

import numpy as np

from pipeline.rr import check_peaks
from pipeline.segment import as_2d_signal
from pipeline.types import Beats

logger = logging.getLogger(__name__)

FEATURE_GROUPS = ("morphology", "rhythm", "p_wave", "neighbour")
"""Groups of :attr:`BeatContext.feature_names`, see :func:`feature_group`."""

_IQR_TO_SIGMA = 1.349
"""Interquartile range of a unit normal distribution."""


@dataclass(frozen=True)
class FeatureSettings:
    """Regions and thresholds of the beat-context features; saved with a trained model.

    Times are relative to the beat's R peak (``*_s``, seconds; "before" regions are given as
    positive distances before the peak).

    Attributes
    ----------
    qrs_half_s : float
        Half-width of the QRS region (correlation, QRS differences).
    t_start_s, t_stop_s : float
        T-wave region after the R peak (clipped to the beat window).
    polarity_half_s : float
        Half-width of the region whose largest deflection gives the QRS polarity.
    width_search_s : float
        Half-width of the region searched for the QRS slope energy.
    width_energy_fraction : float
        Central fraction of the slope energy whose span is the QRS width.
    typical_min_pre_rr_ratio : float
        Beats whose pre-RR over the local median RR is below this are premature, never typical.
    template_min_corr : float
        Mean QRS correlation (over leads) with the template for a beat to be typical.
    template_iterations : int
        Refinements of the template (median of typical beats, re-selection).
    template_max_beats, seed_max_beats : int
        Beats (evenly spaced) used for a median / for the dominant-beat search.
    min_template_beats : int
        Fewest typical beats accepted before falling back to all usable beats.
    rhythm_half_window_s : float
        Half-length of the window of RR intervals for the irregularity features (+-30 s).
    entropy_bins : int
        Bins of RR / local median RR over ``[entropy_min_ratio, entropy_max_ratio)``.
    pnn_threshold_s : float
        Successive-difference threshold of the pNN fraction (50 ms).
    af_max_lag : int
        Longest period (beats) the AF-likeness score tries to explain the rhythm with.
    robust_z_floor : float
        Floor of the robust RR spread, as a fraction of the window's median RR.
    p_start_s, p_stop_s : float
        P region before the R peak: from ``p_start_s`` to ``p_stop_s`` before it. Ending it
        0.08 s before R instead lowered the DS1 AUC of ``p_corr_lead0`` for S vs N (see
        ``benchmarks/feature_check.py``): the PR interval matters too.
    p_max_lag_s : float
        Largest shift of the P region searched for the best match with the sinus P template.
    p_long_rr_fraction : float
        Fraction of typical beats, those with the longest pre-RR, whose P regions form the
        sinus P template.
    min_p_template_beats : int
        Fewest beats for a sinus P template; with fewer, P features take their fill values.
    t_tail_s : float
        Longest stretch after a beat's R peak covered by the T-wave template.
    subtract_previous_t : bool
        Subtract the T-wave template, aligned at the previous R peak, before measuring P.
    chunk_beats : int
        Beats processed at once (bounds memory on 24-hour records).
    neighbour_offsets : tuple of int
        Offsets (in beats) of the neighbours whose :data:`NEIGHBOUR_COLUMNS` are appended as
        ``nb-1_qrs_corr_lead0`` etc., with the QRS correlations with the previous and next beat;
        empty (the default, and every model saved before it existed): no neighbour features.
    neighbour_qrs_half_s : float
        Half-width of the QRS region compared with the neighbouring beats.
    """

    qrs_half_s: float = 0.10
    t_start_s: float = 0.15
    t_stop_s: float = 0.45
    polarity_half_s: float = 0.05
    width_search_s: float = 0.15
    width_energy_fraction: float = 0.8
    typical_min_pre_rr_ratio: float = 0.85
    template_min_corr: float = 0.9
    template_iterations: int = 2
    template_max_beats: int = 1000
    seed_max_beats: int = 256
    min_template_beats: int = 8
    rhythm_half_window_s: float = 30.0
    entropy_bins: int = 16
    entropy_min_ratio: float = 0.5
    entropy_max_ratio: float = 1.5
    pnn_threshold_s: float = 0.05
    af_max_lag: int = 3
    robust_z_floor: float = 0.02
    p_start_s: float = 0.30
    p_stop_s: float = 0.04
    p_max_lag_s: float = 0.04
    p_long_rr_fraction: float = 0.2
    min_p_template_beats: int = 5
    t_tail_s: float = 0.6
    subtract_previous_t: bool = True
    chunk_beats: int = 4096
    neighbour_offsets: tuple[int, ...] = ()
    neighbour_qrs_half_s: float = 0.06

    def __post_init__(self) -> None:
        checks = (
            ("qrs_half_s", self.qrs_half_s > 0, "a positive duration in s"),
            ("t_stop_s", self.t_stop_s > self.t_start_s >= 0, "t_stop_s > t_start_s >= 0"),
            ("polarity_half_s", self.polarity_half_s > 0, "a positive duration in s"),
            ("width_search_s", self.width_search_s > 0, "a positive duration in s"),
            ("width_energy_fraction", 0 < self.width_energy_fraction < 1, "a fraction in (0, 1)"),
            ("template_min_corr", -1 <= self.template_min_corr < 1, "a correlation in [-1, 1)"),
            ("template_iterations", self.template_iterations >= 1, "at least 1"),
            ("template_max_beats", self.template_max_beats >= 1, "at least 1"),
            ("seed_max_beats", self.seed_max_beats >= 2, "at least 2"),
            ("min_template_beats", self.min_template_beats >= 1, "at least 1"),
            ("rhythm_half_window_s", self.rhythm_half_window_s > 0, "a positive duration in s"),
            ("entropy_bins", self.entropy_bins >= 2, "at least 2"),
            ("entropy_max_ratio", self.entropy_max_ratio > self.entropy_min_ratio >= 0,
             "entropy_max_ratio > entropy_min_ratio >= 0"),
            ("pnn_threshold_s", self.pnn_threshold_s > 0, "a positive duration in s"),
            ("af_max_lag", self.af_max_lag >= 1, "at least 1"),
            ("robust_z_floor", self.robust_z_floor > 0, "a positive fraction"),
            ("p_start_s", self.p_start_s > self.p_stop_s >= 0, "p_start_s > p_stop_s >= 0"),
            ("p_max_lag_s", self.p_max_lag_s >= 0, "a non-negative duration in s"),
            ("p_long_rr_fraction", 0 < self.p_long_rr_fraction <= 1, "a fraction in (0, 1]"),
            ("min_p_template_beats", self.min_p_template_beats >= 1, "at least 1"),
            ("t_tail_s", self.t_tail_s > 0, "a positive duration in s"),
            ("chunk_beats", self.chunk_beats >= 1, "at least 1"),
            ("neighbour_offsets", all(int(k) == k and k != 0 for k in self.neighbour_offsets),
             "non-zero whole numbers of beats"),
            ("neighbour_qrs_half_s", self.neighbour_qrs_half_s > 0, "a positive duration in s"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"Received {name}={getattr(self, name)!r}; expected {expected}.")

    def to_dict(self) -> dict:
        """Plain dict (JSON-serialisable) of the settings.

        Without neighbours, the neighbour keys are left out: such settings serialise as they did
        before the keys existed, so input caches and saved models keep their keys.
        """
        values = asdict(self)
        if not self.neighbour_offsets:
            del values["neighbour_offsets"], values["neighbour_qrs_half_s"]
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "FeatureSettings":
        """Inverse of :meth:`to_dict`; unknown keys raise ``TypeError``."""
        types = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(types))
        if unknown:
            raise TypeError(f"Received unknown feature settings {unknown}; expected keys among {sorted(types)}.")
        values = dict(values)
        if "neighbour_offsets" in values:  # a list once through JSON
            values["neighbour_offsets"] = tuple(int(k) for k in values["neighbour_offsets"])
        return cls(**values)


@dataclass(frozen=True)
class BeatContext:
    """Record-relative features of every beat of one record (no labels used).

    Attributes
    ----------
    features : np.ndarray
        float32 (n_beats, len(feature_names)), never NaN or infinite (fills in
        :func:`compute_beat_context`).
    feature_names : tuple of str
        Column names, units or "rel" (relative to the template) in the name.
    template_channels_mv : np.ndarray
        float32 (n_beats, window_samples, n_leads): each beat window minus the record template
        (0 where the window has missing signal).
    template_mv : np.ndarray
        float32 (window_samples, n_leads): the record's dominant beat.
    typical : np.ndarray
        bool (n_beats,): beats whose median forms the template.
    p_template_mv : np.ndarray
        float32 (p_samples, n_leads): the sinus P-wave template (detrended); zeros when none.
    p_template_beats : int
        Beats averaged into the sinus P template (0: no template, P features filled).
    settings : FeatureSettings
    """

    features: np.ndarray
    feature_names: tuple[str, ...]
    template_channels_mv: np.ndarray
    template_mv: np.ndarray
    typical: np.ndarray
    p_template_mv: np.ndarray
    p_template_beats: int
    settings: FeatureSettings

    def __len__(self) -> int:
        return len(self.features)

    def column(self, name: str) -> np.ndarray:
        """The feature column called ``name``."""
        return self.features[:, self.feature_names.index(name)]


# --------------------------------------------------------------------------------------------- entry point


def compute_beat_context(
    clean_signal_mv: np.ndarray,
    r_peaks: np.ndarray,
    fs_hz: float,
    beats: Beats,
    settings: FeatureSettings = FeatureSettings(),
    template_excluded: np.ndarray | None = None,
) -> BeatContext:
    """Template channels and morphology, rhythm and P-wave features of every beat of one record.

    Parameters
    ----------
    clean_signal_mv : np.ndarray
        The cleaned signal the beats were segmented from, (n_samples,) or (n_samples, n_leads),
        in mV, primary lead first.
    r_peaks : np.ndarray
        R-peak samples of all the record's beats (``beats.samples``): every beat, so that RR
        intervals and previous beats are the real ones.
    fs_hz : float
        Sampling rate (required); must equal ``beats.settings.fs_hz``.
    beats : Beats
        :func:`pipeline.segment.segment_beats` output for ``r_peaks``.
    settings : FeatureSettings
    template_excluded : np.ndarray, optional
        Boolean per beat: beats that may not form the dominant beat (e.g. paced beats, whose dominant
        beat is not the patient's own); ignored when fewer than ``min_template_beats`` others are usable.

    Returns
    -------
    BeatContext

    Notes
    -----
    Fills (no feature is ever NaN):

    - Samples missing from a window (NaN) take the template's value for the morphology
      features (no evidence of a difference) and 0 in the template channels.
    - A constant region (zero variance) has correlation 0.
    - Rhythm features of a record with fewer than 3 beats are 0; a window without successive
      differences has 0 for those; ratios use floors documented in each function.
    - With fewer than ``min_p_template_beats`` long-RR typical beats there is no sinus P
      template: P features are 0 and ``p_template_quality`` is 0.

    Runs in O(n_beats) time and memory (beats processed in chunks of ``chunk_beats``).

    References
    ----------
    Moody and Mark 1982 (templates); de Chazal et al. 2004 and Mar et al. 2011 (morphology);
    Tateno and Glass 2001, Lake and Moorman 2011 (rhythm irregularity).

    Examples
    --------
    >>> from pipeline.segment import segment_beats
    >>> peaks = np.arange(200, 36000, 300)
    >>> x = np.zeros((36200, 1), dtype=np.float32)
    >>> x[peaks] = 1.0
    >>> beats = segment_beats(x, peaks, 360.0)
    >>> context = compute_beat_context(x, peaks, 360.0, beats)
    >>> bool(np.allclose(context.column("qrs_corr_lead0")[1:-1], 1.0))
    True
    """
    signal, peaks = check_context_inputs(clean_signal_mv, r_peaks, fs_hz, beats)
    pre = beats.settings.pre_samples
    windows = beats.windows_mv
    usable = ~(beats.truncated | beats.has_gap)
    pre_local = rr_column(beats, "rr_pre_local_ratio")
    template, typical = build_record_template(windows, usable, pre_local, pre, fs_hz, settings, template_excluded)
    morphology, morphology_names = compute_morphology_features(windows, template, pre, fs_hz, settings)
    rhythm, rhythm_names = compute_rhythm_features(peaks, beats, fs_hz, settings)
    p_wave, p_names, p_template, p_count = compute_p_wave_features(signal, peaks, typical, fs_hz, settings)
    features = np.concatenate([morphology, rhythm, p_wave], axis=1)
    names = morphology_names + rhythm_names + p_names
    if settings.neighbour_offsets:
        columns = {name: features[:, j] for j, name in enumerate(names)}
        columns["rr_pre_local_ratio"] = pre_local
        neighbour, neighbour_names = compute_neighbour_features(columns, windows, pre, fs_hz, settings)
        features, names = np.concatenate([features, neighbour], axis=1), names + neighbour_names
    return BeatContext(
        features=np.nan_to_num(features.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0),
        feature_names=names,
        template_channels_mv=subtract_template(windows, template),
        template_mv=template,
        typical=typical,
        p_template_mv=p_template,
        p_template_beats=p_count,
        settings=settings,
    )


def check_context_inputs(clean_signal_mv: np.ndarray, r_peaks: np.ndarray, fs_hz: float,
                         beats: Beats) -> tuple[np.ndarray, np.ndarray]:
    """The signal as float32 (n_samples, n_leads) and the peaks as int64, after checking they match ``beats``."""
    signal = as_2d_signal(clean_signal_mv)
    peaks = check_peaks(r_peaks, n_samples=signal.shape[0])
    if not np.isclose(float(fs_hz), beats.settings.fs_hz, rtol=0, atol=1e-6):
        raise ValueError(f"Received fs_hz={float(fs_hz):g}; the beats were segmented at {beats.settings.fs_hz:g} Hz.")
    if len(peaks) != len(beats) or not np.array_equal(peaks, beats.samples):
        raise ValueError(f"Received {len(peaks)} R peaks and {len(beats)} beats at other positions; expected the "
                         "peaks the beats were segmented at (all of the record's beats).")
    if beats.windows_mv.shape[2] != signal.shape[1]:
        raise ValueError(f"Received a signal of {signal.shape[1]} leads and beat windows of "
                         f"{beats.windows_mv.shape[2]}; expected the signal the beats were cut from.")
    return signal, peaks


def rr_column(beats: Beats, name: str) -> np.ndarray:
    """Column ``name`` of the beats' RR features (:data:`pipeline.rr.RR_FEATURE_NAMES`) as float64."""
    return beats.rr_features[:, beats.rr_feature_names.index(name)].astype(np.float64)


def feature_group(name: str) -> str:
    """Group of a beat-context feature: ``"p_wave"``, ``"rhythm"`` or ``"morphology"``.

    Examples
    --------
    >>> feature_group("p_corr_lead0"), feature_group("rhythm_rr_cv"), feature_group("qrs_width_ms")
    ('p_wave', 'rhythm', 'morphology')
    """
    if name.startswith("nb"):
        return "neighbour"
    if name.startswith("p_"):
        return "p_wave"
    if name.startswith("rhythm_"):
        return "rhythm"
    return "morphology"


NEIGHBOUR_COLUMNS = {"qrs_corr_lead0": 1.0, "qrs_corr_lead1": 1.0, "qrs_width_diff_ms": 0.0, "p_corr_best": 1.0,
                     "rr_pre_local_ratio": 1.0}
"""Features repeated for each neighbour, with the value a missing neighbour (record edge) takes: a sinus beat's."""


def compute_neighbour_features(columns: dict[str, np.ndarray], windows: np.ndarray, pre: int, fs_hz: float,
                               settings: FeatureSettings) -> tuple[np.ndarray, tuple[str, ...]]:
    """Neighbour features (``settings.neighbour_offsets``) of every beat, and their names.

    ``columns`` maps feature names to per-beat values (a column it lacks, e.g. a second lead's,
    takes its fill value). Beyond the record's first or last beat the fill values of
    :data:`NEIGHBOUR_COLUMNS` apply, and a correlation with a missing neighbour is 1.

    Examples
    --------
    >>> settings = FeatureSettings(neighbour_offsets=(-1, 1))
    >>> windows = np.ones((3, 90, 1), np.float32)
    >>> values, names = compute_neighbour_features({"p_corr_best": np.array([0.1, 0.2, 0.3])}, windows, 45,
    ...                                            360.0, settings)
    >>> names[3], values[:, 3].tolist()
    ('nb-1_p_corr_best', [1.0, 0.10000000149011612, 0.20000000298023224])
    """
    n = len(windows)
    out, names = [], []
    for offset in settings.neighbour_offsets:
        index = np.arange(n) + offset
        inside = (index >= 0) & (index < n)
        index = np.clip(index, 0, max(n - 1, 0))
        for name, fill in NEIGHBOUR_COLUMNS.items():
            values = columns.get(name, np.full(n, fill))
            out.append(np.where(inside, np.asarray(values, np.float32)[index] if n else values, fill))
            names.append(f"nb{offset:+d}_{name}")
    with_next = correlate_successive_qrs(windows, pre, fs_hz, settings.neighbour_qrs_half_s)
    out += [np.r_[1.0, with_next][:n], np.r_[with_next, 1.0][:n]]
    names += ["nb_qrs_corr_previous", "nb_qrs_corr_next"]
    return np.stack(out, axis=1).astype(np.float32), tuple(names)


def correlate_successive_qrs(windows: np.ndarray, pre: int, fs_hz: float, half_s: float) -> np.ndarray:
    """(n - 1,) QRS correlation of each beat with the next one, averaged over leads (0 for a flat QRS)."""
    qrs = windows[:, qrs_slice(pre, fs_hz, half_s, windows.shape[1])].astype(np.float64)
    qrs = np.nan_to_num(qrs - np.nanmean(qrs, axis=1, keepdims=True)) if qrs.size else qrs
    norm = np.sqrt((qrs ** 2).sum(axis=1))
    dot = (qrs[1:] * qrs[:-1]).sum(axis=1)
    denominator = norm[1:] * norm[:-1]
    corr = np.divide(dot, denominator, out=np.zeros_like(dot), where=denominator > 1e-12)
    return corr.mean(axis=1) if corr.size else np.zeros(0)


def subtract_template(windows_mv: np.ndarray, template_mv: np.ndarray) -> np.ndarray:
    """Template channels: ``windows_mv - template_mv`` as float32, 0 where a window sample is missing.

    The beat minus the record's dominant beat (Moody and Mark 1982; the waveform input of the
    classifier).
    """
    out = np.asarray(windows_mv, dtype=np.float32) - np.asarray(template_mv, dtype=np.float32)
    return np.nan_to_num(out, nan=0.0, copy=False)


# --------------------------------------------------------------------------------------------- 1. templates


def build_record_template(windows: np.ndarray, usable: np.ndarray, pre_local_ratio: np.ndarray, pre: int,
                          fs_hz: float, settings: FeatureSettings, excluded: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """The record's dominant beat (per-sample median of typical beats) and the typical-beat mask.

    A seed is the median of the largest group of mutually similar beats (QRS correlation above
    ``template_min_corr``) among non-premature usable beats, so a record with many ectopic
    beats still gets its dominant beat; then, ``template_iterations`` times, typical beats are
    the non-premature ones correlating above ``template_min_corr`` with the template, whose
    median becomes the new template (Moody and Mark 1982). Beats in ``excluded`` take no part
    while at least ``min_template_beats`` usable beats are left without them.

    Returns
    -------
    template : np.ndarray
        float32 (window_samples, n_leads); zeros when the record has no usable beat.
    typical : np.ndarray
        bool (n_beats,).
    """
    if excluded is not None and np.count_nonzero(usable & ~excluded) >= settings.min_template_beats:
        usable = usable & ~excluded
    candidates = usable & (pre_local_ratio >= settings.typical_min_pre_rr_ratio)
    if candidates.sum() < settings.min_template_beats:
        candidates = usable
    if not candidates.any():
        return np.zeros(windows.shape[1:], np.float32), np.zeros(len(windows), bool)
    qrs = qrs_slice(pre, fs_hz, settings.qrs_half_s, windows.shape[1])
    template = seed_dominant_beat(windows, candidates, qrs, settings)
    typical = candidates
    for _ in range(settings.template_iterations):
        corr = mean_template_correlation(windows, template, qrs, settings.chunk_beats)
        typical = select_typical_beats(candidates, corr, settings)
        template = median_of_beats(windows, typical, settings.template_max_beats)
    return template, typical


def seed_dominant_beat(windows: np.ndarray, candidates: np.ndarray, qrs: slice,
                       settings: FeatureSettings) -> np.ndarray:
    """Median of the densest group of mutually correlated beats among an evenly spaced subsample.

    The beat with the most neighbours (mean QRS correlation over leads above
    ``template_min_corr``) and those neighbours form the seed: the mode of the record's
    morphologies rather than their mean (Moody and Mark 1982).
    """
    index = spread_indices(np.flatnonzero(candidates), settings.seed_max_beats)
    sample = windows[index]
    z = standardise_beats(sample[:, qrs])
    similarity = z @ z.T
    neighbours = similarity > settings.template_min_corr
    densest = int(neighbours.sum(axis=1).argmax())
    return np.median(sample[neighbours[densest]], axis=0).astype(np.float32)


def standardise_beats(segments: np.ndarray) -> np.ndarray:
    """(n, samples, leads) -> (n, samples * leads) rows whose dot products are mean per-lead correlations."""
    leads = to_lead_major(segments)
    centred = leads - leads.mean(axis=2, keepdims=True)
    norm = np.sqrt((centred ** 2).sum(axis=2, keepdims=True))
    z = np.divide(centred, norm, out=np.zeros_like(centred), where=norm > 0)
    return z.reshape(len(z), -1) / np.sqrt(segments.shape[2])


def select_typical_beats(candidates: np.ndarray, corr: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """Candidates correlating above ``template_min_corr``; the better-correlated half when too few do."""
    typical = candidates & (corr > settings.template_min_corr)
    if typical.sum() >= settings.min_template_beats:
        return typical
    return candidates & (corr >= np.median(corr[candidates]))


def median_of_beats(windows: np.ndarray, mask: np.ndarray, max_beats: int) -> np.ndarray:
    """Per-sample median of the selected windows (at most ``max_beats``, evenly spaced), float32."""
    index = spread_indices(np.flatnonzero(mask), max_beats)
    return np.median(windows[index], axis=0).astype(np.float32)


def spread_indices(index: np.ndarray, most: int) -> np.ndarray:
    """At most ``most`` of ``index``, evenly spaced over it (all of them when fewer)."""
    if len(index) <= most:
        return index
    return index[np.linspace(0, len(index) - 1, most).round().astype(int)]


def mean_template_correlation(windows: np.ndarray, template: np.ndarray, qrs: slice, chunk: int) -> np.ndarray:
    """Mean over leads of each beat's QRS correlation with the template (NaN samples read as 0)."""
    out = np.empty(len(windows))
    for part in chunk_slices(len(windows), chunk):
        segment = np.nan_to_num(windows[part, qrs])
        out[part] = correlate_with_template(segment, template[qrs]).mean(axis=1)
    return out


# --------------------------------------------------------------------------------------------- 2. morphology


def compute_morphology_features(windows: np.ndarray, template: np.ndarray, pre: int, fs_hz: float,
                                settings: FeatureSettings) -> tuple[np.ndarray, tuple[str, ...]]:
    """Morphology of each beat relative to the record template (de Chazal 2004; Mar 2011).

    Per lead j: QRS correlation, log2 peak-to-peak ratio, R-amplitude difference, RMS and mean
    differences over the QRS and the T-wave regions, polarity flip; all amplitudes relative
    to the template's QRS peak-to-peak (floored at 0.05 mV). Across leads: QRS width and its
    difference from the template's width (ms). Missing samples take the template's values.
    """
    n_leads = windows.shape[2]
    names = morphology_feature_names(n_leads)
    out = np.empty((len(windows), len(names)), np.float32)
    template_width = estimate_qrs_width_ms(template[None], pre, fs_hz, settings)[0]
    for part in chunk_slices(len(windows), settings.chunk_beats):
        chunk = fill_missing_samples(windows[part], template)
        out[part] = measure_morphology(chunk, template, template_width, pre, fs_hz, settings)
    return out, names


def morphology_feature_names(n_leads: int) -> tuple[str, ...]:
    """Column names of :func:`compute_morphology_features` for ``n_leads`` leads."""
    per_lead = ("qrs_corr", "qrs_ptp_log2_ratio", "r_amp_diff_rel", "qrs_diff_rms_rel", "qrs_diff_mean_rel",
                "t_diff_rms_rel", "t_diff_mean_rel", "qrs_polarity_flip")
    return tuple(f"{name}_lead{j}" for name in per_lead for j in range(n_leads)) + ("qrs_width_ms",
                                                                                    "qrs_width_diff_ms")


def fill_missing_samples(windows: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Copy of ``windows`` with NaN samples replaced by the template's value at that sample."""
    missing = np.isnan(windows)
    if not missing.any():
        return windows
    return np.where(missing, template[None], windows)


def measure_morphology(windows: np.ndarray, template: np.ndarray, template_width_ms: float, pre: int,
                       fs_hz: float, settings: FeatureSettings) -> np.ndarray:
    """Columns of :func:`morphology_feature_names` for a chunk of complete windows."""
    length = windows.shape[1]
    qrs = qrs_slice(pre, fs_hz, settings.qrs_half_s, length)
    t_wave = after_peak_slice(pre, fs_hz, settings.t_start_s, settings.t_stop_s, length)
    beats, template_t = to_lead_major(windows), np.ascontiguousarray(template.T)  # reductions over samples: last axis
    beat_qrs, template_qrs = beats[:, :, qrs], template_t[:, qrs]
    scale = np.maximum(np.ptp(template_qrs, axis=1), 0.05)
    qrs_diff = beat_qrs - template_qrs
    t_diff = beats[:, :, t_wave] - template_t[:, t_wave]
    ptp_ratio = np.log2(np.maximum(np.ptp(beat_qrs, axis=2), 1e-3) / scale)
    width = estimate_qrs_width_ms(windows, pre, fs_hz, settings)
    columns = [
        correlate_lead_major(beat_qrs, template_qrs),
        np.clip(ptp_ratio, -4.0, 4.0),
        np.clip((windows[:, pre] - template[pre]) / scale, -10.0, 10.0),
        np.clip(np.sqrt((qrs_diff ** 2).mean(axis=2)) / scale, 0.0, 10.0),
        np.clip(qrs_diff.mean(axis=2) / scale, -10.0, 10.0),
        np.clip(np.sqrt((t_diff ** 2).mean(axis=2)) / scale, 0.0, 10.0),
        np.clip(t_diff.mean(axis=2) / scale, -10.0, 10.0),
        detect_polarity_flip(windows, template, pre, fs_hz, settings.polarity_half_s),
    ]
    return np.concatenate(columns + [width[:, None], (width - template_width_ms)[:, None]], axis=1)


def to_lead_major(segments: np.ndarray) -> np.ndarray:
    """(n, samples, leads) -> contiguous (n, leads, samples).

    numpy reduces the middle axis of an (n, samples, 2) array with an inner loop of length 2,
    about 15 times slower than over a contiguous last axis: reductions over samples use this layout.
    """
    return np.ascontiguousarray(segments.transpose(0, 2, 1))


def correlate_with_template(segments: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Pearson correlation of each (samples, leads) segment with the template, per lead; 0 when constant.

    Examples
    --------
    >>> t = np.sin(np.linspace(0, 3, 20))[:, None]
    >>> correlate_with_template(np.stack([t, -t, 2 * t + 1]), t).ravel().round(6).tolist()
    [1.0, -1.0, 1.0]
    """
    return correlate_lead_major(to_lead_major(segments), np.ascontiguousarray(template.T))


def correlate_lead_major(segments: np.ndarray, template: np.ndarray) -> np.ndarray:
    """:func:`correlate_with_template` of (n, leads, samples) segments and a (leads, samples) template."""
    x = segments - segments.mean(axis=2, keepdims=True)
    t = template - template.mean(axis=1, keepdims=True)
    numerator = np.einsum("nls,ls->nl", x, t)
    denominator = np.sqrt((x ** 2).sum(axis=2) * (t ** 2).sum(axis=1))
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 1e-12)


def estimate_qrs_width_ms(windows: np.ndarray, pre: int, fs_hz: float, settings: FeatureSettings) -> np.ndarray:
    """QRS width (ms): span holding the central ``width_energy_fraction`` of the slope energy near R.

    The slope energy is the squared first difference summed over leads (a spatial velocity,
    as in the QRS-width measures of Mar et al. 2011), within +-``width_search_s`` of the R peak;
    its cumulative sum is cut at (1 - f) / 2 and (1 + f) / 2. A wider or slurred QRS spreads the
    energy and gives a larger width; a flat window gives 0.
    """
    half = int(round(settings.width_search_s * fs_hz))
    start, stop = max(pre - half, 0), min(pre + half + 1, windows.shape[1])
    slope = np.diff(windows[:, start:stop], axis=1)
    energy = (slope.astype(np.float64) ** 2).sum(axis=2)
    cumulative = np.cumsum(energy, axis=1)
    total = cumulative[:, -1:]
    low_fraction = (1.0 - settings.width_energy_fraction) / 2.0
    cut = np.divide(cumulative, total, out=np.zeros_like(cumulative), where=total > 0)
    first = (cut >= low_fraction).argmax(axis=1)
    last = (cut >= 1.0 - low_fraction).argmax(axis=1)
    width = (last - first + 1) * 1000.0 / fs_hz
    return np.where(total[:, 0] > 0, width, 0.0)


def detect_polarity_flip(windows: np.ndarray, template: np.ndarray, pre: int, fs_hz: float,
                         half_s: float) -> np.ndarray:
    """1.0 per lead where the largest QRS deflection has the opposite sign to the template's, else 0.0."""
    region = qrs_slice(pre, fs_hz, half_s, windows.shape[1])
    beat = windows[:, region]
    beat_sign = np.sign(np.take_along_axis(beat, np.abs(beat).argmax(axis=1)[:, None], axis=1)[:, 0])
    tpl = template[region]
    template_sign = np.sign(tpl[np.abs(tpl).argmax(axis=0), np.arange(tpl.shape[1])])
    return (beat_sign * template_sign < 0).astype(np.float32)


def qrs_slice(pre: int, fs_hz: float, half_s: float, length: int) -> slice:
    """Samples within ``half_s`` of the R peak (index ``pre``), clipped to the window."""
    half = max(int(round(half_s * fs_hz)), 1)
    return slice(max(pre - half, 0), min(pre + half, length))


def after_peak_slice(pre: int, fs_hz: float, start_s: float, stop_s: float, length: int) -> slice:
    """Samples from ``start_s`` to ``stop_s`` after the R peak, clipped to the window (at least one)."""
    start = min(pre + int(round(start_s * fs_hz)), length - 1)
    return slice(start, max(min(pre + int(round(stop_s * fs_hz)), length), start + 1))


def chunk_slices(n: int, size: int) -> list[slice]:
    """Consecutive slices of at most ``size`` covering ``range(n)``."""
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


# --------------------------------------------------------------------------------------------- 3. rhythm

RHYTHM_FEATURE_NAMES = (
    "rhythm_rr_cv",
    "rhythm_rmssd_rel",
    "rhythm_pnn50_frac",
    "rhythm_rr_entropy_bits",
    "rhythm_af_score_rel",
    "rhythm_pre_rr_robust_z",
    "rhythm_post_rr_robust_z",
)
"""Columns of :func:`compute_rhythm_features`."""


def compute_rhythm_features(peaks: np.ndarray, beats: Beats, fs_hz: float,
                            settings: FeatureSettings) -> tuple[np.ndarray, tuple[str, ...]]:
    """Irregularity of the RR intervals within +-``rhythm_half_window_s`` of each beat.

    Columns (:data:`RHYTHM_FEATURE_NAMES`):

    - ``rhythm_rr_cv``: standard deviation over mean of the window's RR (Tateno and Glass 2001).
    - ``rhythm_rmssd_rel``: root mean square of successive RR differences over mean RR.
    - ``rhythm_pnn50_frac``: fraction of successive differences above ``pnn_threshold_s``.
    - ``rhythm_rr_entropy_bits``: Shannon entropy of the histogram of RR / local median RR
      (``entropy_bins`` bins; a binned stand-in for the sample entropy of Lake and Moorman 2011).
    - ``rhythm_af_score_rel``: :func:`compute_af_scores`.
    - ``rhythm_pre_rr_robust_z``, ``rhythm_post_rr_robust_z``: (RR - window median) over the
      window's robust spread (IQR / 1.349, floored at ``robust_z_floor`` x median), clipped to
      +-20.

    The pre/post RR and the local median come from the beats' RR features
    (:func:`pipeline.rr.compute_rr_features`, with its fills at the record edges). Fewer than
    3 beats: all 0. A window without successive differences: 0 for those.
    """
    n = len(peaks)
    out = np.zeros((n, len(RHYTHM_FEATURE_NAMES)), np.float32)
    if n < 3:
        return out, RHYTHM_FEATURE_NAMES
    rr_s = np.diff(peaks) / float(fs_hz)
    first, count = interval_ranges(peaks, settings.rhythm_half_window_s * fs_hz)
    mean, std = windowed_mean_std(rr_s, first, count)
    rmssd, pnn = windowed_successive_differences(rr_s, first, count, settings.pnn_threshold_s)
    entropy = windowed_entropy(rr_s / rr_column(beats, "rr_local_median_s")[1:], first, count, settings)
    quartiles = windowed_quantiles(rr_s, first, count, (0.25, 0.5, 0.75), settings.chunk_beats)
    median = quartiles[:, 1]
    spread = np.maximum((quartiles[:, 2] - quartiles[:, 0]) / _IQR_TO_SIGMA, settings.robust_z_floor * median)
    columns = (std / mean, rmssd / mean, pnn, entropy,
               compute_af_scores(rr_s, first, count, median, settings),
               np.clip((rr_column(beats, "rr_pre_s") - median) / spread, -20, 20),
               np.clip((rr_column(beats, "rr_post_s") - median) / spread, -20, 20))
    return np.stack(columns, axis=1).astype(np.float32), RHYTHM_FEATURE_NAMES


def interval_ranges(peaks: np.ndarray, half_window_samples: float) -> tuple[np.ndarray, np.ndarray]:
    """First index and count of the RR intervals overlapping ``peak +- half_window`` of each beat.

    Interval j spans ``[peaks[j], peaks[j + 1]]``; every beat's window holds at least one.
    """
    first = np.searchsorted(peaks[1:], peaks - half_window_samples, side="left")
    stop = np.searchsorted(peaks[:-1], peaks + half_window_samples, side="right")
    first = np.minimum(first, len(peaks) - 2)
    return first, np.maximum(stop - first, 1)


def windowed_sum(values: np.ndarray, first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Sum of ``values[first : first + count]`` for each row (cumulative sums, O(n))."""
    cumulative = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    stop = np.clip(first + count, 0, len(values))
    start = np.clip(first, 0, len(values))
    return cumulative[stop] - cumulative[start]


def windowed_mean_std(rr_s: np.ndarray, first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the RR intervals in each window (Tateno and Glass 2001)."""
    mean = windowed_sum(rr_s, first, count) / count
    shifted = rr_s - np.median(rr_s)  # centred sums keep float64 variance accurate
    variance = windowed_sum(shifted ** 2, first, count) / count - (windowed_sum(shifted, first, count) / count) ** 2
    return mean, np.sqrt(np.maximum(variance, 0.0))


def windowed_successive_differences(rr_s: np.ndarray, first: np.ndarray, count: np.ndarray,
                                    threshold_s: float) -> tuple[np.ndarray, np.ndarray]:
    """RMSSD (s) and the fraction of |successive differences| above ``threshold_s`` in each window.

    Difference k is ``rr[k + 1] - rr[k]``; a window of c intervals holds c - 1 of them; 0 when none.
    """
    differences = np.diff(rr_s)
    pairs = count - 1
    if len(differences) == 0:
        return np.zeros(len(first)), np.zeros(len(first))
    squares = windowed_sum(differences ** 2, first, pairs)
    large = windowed_sum((np.abs(differences) > threshold_s).astype(np.float64), first, pairs)
    safe = np.maximum(pairs, 1)
    return np.where(pairs > 0, np.sqrt(squares / safe), 0.0), np.where(pairs > 0, large / safe, 0.0)


def windowed_entropy(rr_ratio: np.ndarray, first: np.ndarray, count: np.ndarray,
                     settings: FeatureSettings) -> np.ndarray:
    """Shannon entropy (bits) of the histogram of RR / local median RR in each window.

    Values outside ``[entropy_min_ratio, entropy_max_ratio)`` go to the end bins. Bin counts of
    any window come from cumulative counts per bin (O(n x bins)). Sinus rhythm fills one or two
    bins (near 0 bits), bigeminy two, atrial fibrillation many (Lake and Moorman 2011 use the
    sample entropy for the same purpose).
    """
    bins = settings.entropy_bins
    scaled = (rr_ratio - settings.entropy_min_ratio) / (settings.entropy_max_ratio - settings.entropy_min_ratio)
    index = np.clip(np.floor(scaled * bins), 0, bins - 1).astype(np.int64)
    one_hot = np.zeros((len(index) + 1, bins))
    one_hot[np.arange(1, len(index) + 1), index] = 1.0
    cumulative = np.cumsum(one_hot, axis=0)
    counts = cumulative[first + count] - cumulative[first]
    p = counts / count[:, None]
    logs = np.log2(p, out=np.zeros_like(p), where=p > 0)
    return -(p * logs).sum(axis=1)


def windowed_quantiles(values: np.ndarray, first: np.ndarray, count: np.ndarray, quantiles: tuple[float, ...],
                       chunk: int) -> np.ndarray:
    """Quantiles (lower order statistic) of ``values[first : first + count]`` per row, (n, len(quantiles)).

    Each chunk of rows becomes a table of the window's values padded with +inf and sorted;
    O(n x widest window) time, bounded memory. Rows with count 0 get 0.
    """
    out = np.zeros((len(first), len(quantiles)))
    if len(values) == 0:
        return out
    width = max(int(count.max()), 1)
    offsets = np.arange(width)
    rows = max(1, (chunk * 64) // width)
    for part in chunk_slices(len(first), rows):
        index = np.minimum(first[part, None] + offsets, len(values) - 1)
        table = np.where(offsets < count[part, None], values[index], np.inf)
        table.sort(axis=1)
        for k, q in enumerate(quantiles):
            position = np.clip(np.floor(q * (count[part] - 1)).astype(int), 0, width - 1)
            out[part, k] = np.where(count[part] > 0, table[np.arange(len(position)), position], 0.0)
    return out


def compute_af_scores(rr_s: np.ndarray, first: np.ndarray, count: np.ndarray, median_rr_s: np.ndarray,
                      settings: FeatureSettings) -> np.ndarray:
    """AF-likeness: how badly recent intervals predict each RR interval, relative to the median RR.

    Each interval's prediction error is ``min over lag in 1..af_max_lag of |rr[k] - rr[k - lag]|``;
    the score is the median error over the window divided by the window's median RR. Sinus
    rhythm is predicted at lag 1, bigeminy at lag 2, trigeminy at lag 3 and any mixture of them
    by one of these (score near 0); atrial fibrillation by none. The median ignores isolated
    ectopic beats. Scoring unpredictability rather than dispersion follows Tateno and Glass
    2001 (deltaRR histograms) and Lake and Moorman 2011 (entropy); this robust form is ours.
    The first interval has no predecessor and counts as error 0.
    """
    error = np.full(len(rr_s), np.inf)
    for lag in range(1, min(settings.af_max_lag, len(rr_s) - 1) + 1):
        error[lag:] = np.minimum(error[lag:], np.abs(rr_s[lag:] - rr_s[:-lag]))
    error[~np.isfinite(error)] = 0.0
    median_error = windowed_quantiles(error, first, count, (0.5,), settings.chunk_beats)[:, 0]
    return median_error / np.maximum(median_rr_s, 1e-3)


# --------------------------------------------------------------------------------------------- 4. P wave


def p_wave_feature_names(n_leads: int) -> tuple[str, ...]:
    """Column names of :func:`compute_p_wave_features` for ``n_leads`` leads."""
    per_lead = ("p_corr", "p_energy_log2_ratio", "p_amp_rel")
    return tuple(f"{name}_lead{j}" for name in per_lead for j in range(n_leads)) + (
        "p_corr_best", "p_lag_ms", "p_corr_local_median", "p_template_quality", "p_template_rms_mv")


def compute_p_wave_features(signal: np.ndarray, peaks: np.ndarray, typical: np.ndarray, fs_hz: float,
                            settings: FeatureSettings) -> tuple[np.ndarray, tuple[str, ...], np.ndarray, int]:
    """P-wave features against the patient's own sinus P template, robust to T-wave overlap.

    1. Long-RR beats: typical beats (after a typical beat when enough are) whose pre-RR is in
       the top ``p_long_rr_fraction``: their preceding T wave has ended, so their P region
       shows the sinus P wave alone.
    2. T-wave template: median of the signal after the R peak of the beats preceding them, up
       to the earliest start of their P search region (never a P wave), shifted to end at 0.
    3. Each beat's P region (``p_start_s`` to ``p_stop_s`` before R, widened by ``p_max_lag_s``
       on both sides) minus the T-wave template aligned at the previous R peak
       (``subtract_previous_t``), then detrended (least-squares line removed, cancelling what
       remains of a T-wave tail).
    4. Sinus P template: the median of step 3's result over the long-RR beats.

    Per beat: per lead, the zero-lag correlation with the P template, log2 energy ratio, and the
    template-shaped amplitude (projection coefficient at the best lag: 1 = sinus-like P,
    0 = none or inverted); across leads, the best correlation over shifts of up to
    +-``p_max_lag_s`` and its shift ``p_lag_ms`` (positive: P later, i.e. closer to the QRS,
    than sinus P; later P waves are underestimated, see :func:`match_p_template`). Record-level:
    ``p_template_quality`` (median zero-lag correlation of the long-RR beats with their
    template, mean over leads: low in atrial fibrillation) and ``p_template_rms_mv``. Local:
    ``p_corr_local_median``, the median over the beats within +-``rhythm_half_window_s`` of
    their zero-lag correlation (mean over leads): high where sinus P waves are the rule, low in
    atrial fibrillation, so that an abnormal P wave can be read against its surroundings.

    Fills: missing samples read as 0 mV; no template (fewer than ``min_p_template_beats``
    beats): all columns 0; zero energy: correlation 0, energy ratio -8.

    References
    ----------
    de Chazal et al. 2004 (P-wave presence and timing as features); Moody and Mark 1982
    (template matching). Template of the longest-RR beats and T-wave subtraction: this project.
    """
    names = p_wave_feature_names(signal.shape[1])
    geometry = p_geometry(fs_hz, settings)
    out = np.zeros((len(peaks), len(names)), np.float32)
    long_beats = select_long_rr_beats(peaks, typical, settings)
    if len(long_beats) < settings.min_p_template_beats:
        logger.debug("No sinus P template: %d long-RR typical beats", len(long_beats))
        return out, names, np.zeros((geometry["length"], signal.shape[1]), np.float32), 0
    p_template, t_template, _ = build_sinus_p_template(signal, peaks, long_beats, geometry, fs_hz, settings)
    p_template = p_template.astype(np.float32)
    for part in chunk_slices(len(peaks), settings.chunk_beats):
        chunk = p_segments(signal, peaks, np.arange(part.start, part.stop), t_template, geometry)
        out[part, :-3] = match_p_template(chunk, p_template, geometry, fs_hz)
    lead_corr = out[:, [names.index(f"p_corr_lead{j}") for j in range(signal.shape[1])]].mean(axis=1)
    out[:, -3] = local_median(lead_corr, peaks, settings.rhythm_half_window_s * fs_hz, settings.chunk_beats)
    out[:, -2] = np.median(lead_corr[long_beats])
    out[:, -1] = np.sqrt(np.mean(p_template ** 2))
    return out, names, p_template, len(long_beats)


def local_median(values: np.ndarray, peaks: np.ndarray, half_window_samples: float, chunk: int) -> np.ndarray:
    """Median of ``values`` over the beats within ``half_window_samples`` of each beat (itself included)."""
    first = np.searchsorted(peaks, peaks - half_window_samples, side="left")
    stop = np.searchsorted(peaks, peaks + half_window_samples, side="right")
    count = stop - first
    low = windowed_quantiles(values, first, count, (0.5,), chunk)[:, 0]
    high = -windowed_quantiles(-values, first, count, (0.5,), chunk)[:, 0]
    return 0.5 * (low + high)


def p_geometry(fs_hz: float, settings: FeatureSettings) -> dict[str, int]:
    """Sample counts of the P region: ``start`` (before R), ``length``, ``lag`` (largest shift), ``tail``."""
    start = int(round(settings.p_start_s * fs_hz))
    stop = int(round(settings.p_stop_s * fs_hz))
    return {"start": start, "length": max(start - stop, 3), "lag": int(round(settings.p_max_lag_s * fs_hz)),
            "tail": int(round(settings.t_tail_s * fs_hz))}


def select_long_rr_beats(peaks: np.ndarray, typical: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """Indices of the typical beats with the longest pre-RR (top ``p_long_rr_fraction``).

    Beats following a typical beat are preferred (their predecessor's T wave is the template's);
    when fewer than ``min_p_template_beats`` such beats exist, any typical beat qualifies.
    """
    if len(peaks) < 2:
        return np.zeros(0, np.int64)
    pre_rr = np.concatenate([[0], np.diff(peaks)])
    eligible = typical.copy()
    eligible[0] = False
    after_typical = eligible & np.concatenate([[False], typical[:-1]])
    if after_typical.sum() >= settings.min_p_template_beats:
        eligible = after_typical
    index = np.flatnonzero(eligible)
    if len(index) == 0:
        return index
    threshold = np.quantile(pre_rr[index], 1.0 - settings.p_long_rr_fraction)
    return index[pre_rr[index] >= threshold]


def build_sinus_p_template(signal: np.ndarray, peaks: np.ndarray, long_beats: np.ndarray, geometry: dict[str, int],
                           fs_hz: float, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 2-4 of :func:`compute_p_wave_features` for the long-RR beats ``long_beats``: the sinus P template
    (length, leads; detrended median, float64), the T-wave template (:func:`build_t_template`) and the beats' P regions
    it was formed from (n, length, leads). Also :func:`pipeline.conduction.build_p_template`'s."""
    t_template = build_t_template(signal, peaks, long_beats, geometry, fs_hz, settings)
    segments = p_segments(signal, peaks, long_beats, t_template, geometry)
    core = segments[:, geometry["lag"]:geometry["lag"] + geometry["length"]]
    return detrend_segments(np.median(core, axis=0)[None])[0], t_template, core


def build_t_template(signal: np.ndarray, peaks: np.ndarray, long_beats: np.ndarray, geometry: dict[str, int],
                     fs_hz: float, settings: FeatureSettings) -> np.ndarray:
    """Median T wave (n_tail, n_leads) from the beats preceding the long-RR beats, ending at 0.

    Covers offsets 0 to the earliest start of those beats' widened P regions (at most
    ``t_tail_s``), so it never holds the following P wave; its last 20 ms are the zero level.
    Empty (0 samples) when ``subtract_previous_t`` is off or no room is left.
    """
    gaps = peaks[long_beats] - peaks[long_beats - 1]
    n_tail = int(min(geometry["tail"], gaps.min() - geometry["start"] - geometry["lag"]))
    end = max(int(round(0.02 * fs_hz)), 1)
    if not settings.subtract_previous_t or n_tail <= end:
        return np.zeros((0, signal.shape[1]), np.float32)
    segments = gather_segments(signal, peaks[long_beats - 1], n_tail)
    median = np.median(segments, axis=0)
    return (median - median[-end:].mean(axis=0)).astype(np.float32)


def p_segments(signal: np.ndarray, peaks: np.ndarray, index: np.ndarray, t_template: np.ndarray,
               geometry: dict[str, int]) -> np.ndarray:
    """Widened P regions of the beats ``index`` (n, length + 2 lag, leads), previous T wave subtracted."""
    width = geometry["length"] + 2 * geometry["lag"]
    starts = peaks[index] - geometry["start"] - geometry["lag"]
    segments = gather_segments(signal, starts, width)
    if len(t_template):
        segments -= previous_t_wave(peaks, index, starts, width, t_template)
    return segments


def gather_segments(signal: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``signal[s : s + width]`` for each start, float64 (n, width, leads); edge values past the ends, NaN as 0."""
    index = np.clip(starts[:, None] + np.arange(width), 0, len(signal) - 1)
    return np.nan_to_num(signal[index].astype(np.float64))


def previous_t_wave(peaks: np.ndarray, index: np.ndarray, starts: np.ndarray, width: int,
                    t_template: np.ndarray) -> np.ndarray:
    """The T-wave template placed at each beat's previous R peak, over its segment (0 elsewhere, and for beat 0)."""
    previous = peaks[np.maximum(index - 1, 0)]
    offsets = starts[:, None] + np.arange(width) - previous[:, None]
    inside = (offsets >= 0) & (offsets < len(t_template)) & (index[:, None] > 0)
    values = t_template[np.clip(offsets, 0, len(t_template) - 1)]
    return np.where(inside[:, :, None], values, 0.0)


def detrend_segments(segments: np.ndarray) -> np.ndarray:
    """Each (samples, leads) segment minus its least-squares straight line, per lead."""
    basis = line_basis(segments.shape[1])
    coefficients = np.einsum("sb,nsl->nbl", basis, segments)
    return segments - np.einsum("sb,nbl->nsl", basis, coefficients)


def line_basis(length: int) -> np.ndarray:
    """Orthonormal basis (length, 2) of constants and straight lines."""
    constant = np.full(length, 1.0 / np.sqrt(length))
    ramp = np.arange(length) - (length - 1) / 2.0
    norm = np.sqrt((ramp ** 2).sum())
    return np.stack([constant, ramp / norm if norm > 0 else ramp], axis=1)


def match_p_template(segments: np.ndarray, p_template: np.ndarray, geometry: dict[str, int],
                     fs_hz: float) -> np.ndarray:
    """Per-lead correlation, energy ratio and amplitude, then the best correlation and its lag.

    Zero-lag correlation and energy ratio use the P region itself; the best correlation over
    shifts of +-``lag`` samples gives the lag, and the amplitude is taken at that shift. Shifts
    towards the QRS take in its onset, which pulls large positive lags towards 0; a search
    that avoided it (template shortened by the lag) made ``p_amp_rel`` and ``p_lag_ms`` less
    discriminating on DS1 (``benchmarks/feature_check.py``), so the onset stays in.
    """
    lag = geometry["lag"]
    dot, energy = detrended_match(segments, p_template)
    template_energy = (p_template.astype(np.float64) ** 2).sum(axis=0)
    combined = safe_divide(dot.sum(axis=2), np.sqrt(energy.sum(axis=2) * template_energy.sum()))
    best = combined.argmax(axis=1)
    rows = np.arange(len(segments))
    per_lead_corr = safe_divide(dot[:, lag], np.sqrt(energy[:, lag] * template_energy))
    energy_ratio = np.log2(np.maximum(safe_divide(energy[:, lag], template_energy), 2.0 ** -8))
    amplitude = np.clip(safe_divide(dot[rows, best], template_energy), -3.0, 3.0)
    return np.concatenate([per_lead_corr, np.minimum(energy_ratio, 8.0), amplitude, combined[rows, best][:, None],
                           ((best - lag) * 1000.0 / fs_hz)[:, None]], axis=1)


def detrended_match(segments: np.ndarray, template: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dot products with a detrended template and detrended energies of every template-long shift.

    The template is detrended, so the dot product of a raw shifted window with it equals that
    of the detrended window; the detrended energy is the raw energy minus the projections on a
    constant and a line. Returns two (n, shifts, leads) arrays.
    """
    length = template.shape[0]
    projections = sliding_projections(segments, template, length)  # (n, shifts, leads, 3)
    energy = sliding_energy(segments, length) - (projections[..., 1:] ** 2).sum(axis=3)
    return projections[..., 0], np.maximum(energy, 0.0)


def sliding_projections(segments: np.ndarray, p_template: np.ndarray, length: int) -> np.ndarray:
    """Dot products of every ``length``-sample shift of each segment with the P template, a constant and a line.

    Returns (n, shifts, leads, 3): template, constant, line (the last two orthonormal).
    """
    view = np.lib.stride_tricks.sliding_window_view(segments, length, axis=1)  # (n, shifts, leads, length)
    line = line_basis(length)
    return np.stack([view[:, :, j, :] @ np.column_stack([p_template[:, j], line])
                     for j in range(segments.shape[2])], axis=2)


def sliding_energy(segments: np.ndarray, length: int) -> np.ndarray:
    """Sum of squares of every ``length``-sample shift of each segment, (n, shifts, leads)."""
    cumulative = np.cumsum(segments ** 2, axis=1)
    cumulative = np.concatenate([np.zeros_like(cumulative[:, :1]), cumulative], axis=1)
    return cumulative[:, length:] - cumulative[:, :-length]


def safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with 0 where the denominator is (almost) 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.broadcast_to(np.asarray(denominator, dtype=np.float64), numerator.shape)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 1e-12)
