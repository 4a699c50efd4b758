"""One preparation path for training, evaluation and prediction.

record -> clean -> (R peaks: reference or detected) -> segment + RR -> record context -> inputs.
The settings of every step travel with a trained model (:class:`InputSettings`), so inference
prepares beats exactly as training did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from pipeline.clean import CleaningSettings, clean_signal
from pipeline.detect import find_held_samples
from pipeline.datasets import encode_classes, order_leads
from pipeline.features import BeatContext, FeatureSettings, compute_beat_context
from pipeline.labels import map_symbols_to_aami, select_reference_beats
from pipeline.segment import anchor_beats, segment_beats
from pipeline.types import Beats, Record, SegmentationSettings, settings_values
from models.inputs import N_LEADS, ModelInputs, assemble_inputs


@dataclass(frozen=True)
class InputSettings:
    """Everything that shapes the network's input; saved with the model."""

    segmentation: SegmentationSettings = field(default_factory=SegmentationSettings)
    cleaning: CleaningSettings = field(default_factory=CleaningSettings)
    features: FeatureSettings = field(default_factory=FeatureSettings)

    def to_dict(self) -> dict:
        return {"segmentation": self.segmentation.to_dict(), "cleaning": asdict(self.cleaning),
                "features": self.features.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "InputSettings":
        """Inverse of :meth:`to_dict`; a missing section (e.g. in a training configuration file) takes its defaults."""
        unknown = sorted(set(data) - {"segmentation", "cleaning", "features"})
        if unknown:
            raise ValueError(f"Received unknown input section(s) {', '.join(unknown)}; expected segmentation, "
                             "cleaning and features.")
        cleaning = settings_values(CleaningSettings, data.get("cleaning", {}))  # keys left out keep their defaults
        segmentation = data.get("segmentation")
        return cls(SegmentationSettings() if segmentation is None else SegmentationSettings.from_dict(segmentation),
                   CleaningSettings(**cleaning), FeatureSettings.from_dict(data.get("features", {})))


@dataclass(frozen=True)
class PreparedBeats:
    """Beats of one record with their context and network inputs (rows aligned); ``one_lead``: bool per beat, its
    inputs read from one lead because the other was missing around it (:func:`read_lead_gaps_from_one_lead`; None:
    none was)."""

    beats: Beats
    context: BeatContext
    inputs: ModelInputs
    one_lead: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.beats)


def clean_record(record: Record, settings: InputSettings) -> np.ndarray:
    """Cleaned signal with the primary lead first. Stretches where a lead holds one value (flat, or clipped at its
    rail: :func:`pipeline.detect.find_held_samples`) are cleaned as gaps and come out missing, as the detector reads
    them: filtered as signal, the steps into and out of a rail rang through the baseline filter for seconds, and the
    beats after it were called V."""
    order = order_leads(record.signal_mv.shape[1], record.primary_lead)
    signal_mv = record.signal_mv
    held = find_held_samples(np.asarray(signal_mv).reshape(len(signal_mv), -1), record.fs_hz)
    if held.any():
        signal_mv = np.where(held.reshape(np.shape(signal_mv)), np.nan, signal_mv).astype(np.float32)
    return clean_signal(signal_mv, record.fs_hz, settings.cleaning)[:, order]


def prepare_beats(record: Record, r_peaks: np.ndarray, settings: InputSettings,
                  clean_mv: np.ndarray | None = None, template_excluded: np.ndarray | None = None) -> PreparedBeats:
    """Segment the beats at ``r_peaks`` (all the record's beats) and build their network inputs; beats in
    ``template_excluded`` take no part in the record's dominant beat (:func:`pipeline.features.compute_beat_context`).

    With anchoring on (``settings.segmentation.anchor_search_s > 0``) windows, RR intervals and
    context are taken at the anchored positions (:func:`pipeline.segment.anchor_beats`); the
    returned beats keep the positions as given, which are what outputs and scoring report.
    """
    if record.fs_hz != settings.segmentation.fs_hz:
        raise ValueError(f"Record {record.name}: received fs_hz={record.fs_hz:g}; the model expects "
                         f"{settings.segmentation.fs_hz:g} Hz (read the record with read_record).")
    clean_mv = clean_record(record, settings) if clean_mv is None else clean_mv
    given = np.asarray(r_peaks, dtype=np.int64)
    prepared = prepare_leads(record.fs_hz, given, settings, fill_missing_leads(clean_mv), template_excluded)
    return read_lead_gaps_from_one_lead(record.fs_hz, given, settings, clean_mv, prepared, template_excluded)


def prepare_leads(fs_hz: float, given: np.ndarray, settings: InputSettings, clean_mv: np.ndarray,
                  template_excluded: np.ndarray | None = None) -> PreparedBeats:
    """:func:`prepare_beats` from a cleaned signal of the network's leads, as it is (gaps included)."""
    peaks = anchor_beats(clean_mv, given, fs_hz, settings.segmentation)
    beats = segment_beats(clean_mv, peaks, fs_hz, settings.segmentation)
    context = compute_beat_context(clean_mv, peaks, fs_hz, beats, settings.features, template_excluded)
    return PreparedBeats(replace(beats, samples=given), context, assemble_inputs(beats, context))


def find_one_lead_gaps(windows: np.ndarray) -> np.ndarray:
    """(n_beats, n_leads) bool: the beat's window misses signal (NaN) in that lead while every other lead is whole.

    >>> w = np.zeros((3, 4, 2)); w[1, 0, 0] = np.nan; w[2, 0, :] = np.nan
    >>> find_one_lead_gaps(w).tolist()
    [[False, False], [True, False], [False, False]]
    """
    missing = np.isnan(windows).any(axis=1)
    return missing & (missing.sum(axis=1, keepdims=True) == 1)


def read_lead_gaps_from_one_lead(fs_hz: float, given: np.ndarray, settings: InputSettings, clean_mv: np.ndarray,
                                 prepared: PreparedBeats, template_excluded: np.ndarray | None = None
                                 ) -> PreparedBeats:
    """``prepared`` with the beats that miss one lead (a lead-off stretch of one channel) read from the other lead
    alone, as a one-lead recording's beats are (:func:`fill_missing_leads`): their waveform and features come from the
    record prepared from that lead. Left as they were, the missing lead's samples read as the template (waveform) and
    its P-wave and morphology features as no match, which the atrial-origin rule takes for an ectopic P wave
    (``experiments/lead_gap_study.py``). Beats missing both leads, and one-lead records, are left as they are."""
    if clean_mv.shape[1] != N_LEADS or len(prepared) == 0:
        return prepared
    gaps = find_one_lead_gaps(prepared.beats.windows_mv)
    waveform, features = prepared.inputs.waveform, prepared.inputs.features
    for lead in np.flatnonzero(gaps.any(axis=0)):
        rows = gaps[:, lead]
        alone = prepare_leads(fs_hz, given, settings, fill_missing_leads(clean_mv[:, [1 - lead]]),
                              template_excluded).inputs
        waveform = np.where(rows[:, None, None], alone.waveform, waveform)
        features = np.where(rows[:, None], alone.features, features)
    return replace(prepared, inputs=replace(prepared.inputs, waveform=waveform, features=features),
                   one_lead=gaps.any(axis=1))


def fill_missing_leads(clean_mv: np.ndarray) -> np.ndarray:
    """The cleaned signal with its first (primary) lead repeated up to the network's :data:`models.inputs.N_LEADS`
    leads: a one-lead recording is classified from that lead alone, read as both.

    Repeated rather than left flat: a flat lead has no dominant beat and correlates with nothing, which a network
    trained on two real leads never saw. On DS1 cut to its first lead (``experiments/one_lead_study.py``, the bundled
    networks, in-sample) repeating agrees with the two-lead classes on 97.5 % of the beats, a flat lead on 96.4 %.
    Classification from one lead finds fewer ectopic beats than from two; the record summary says so
    (``app.analysis.add_classifier_notes``). Networks can also train on one-lead copies of their training beats,
    prepared this very way (``TrainingConfig.one_lead_fraction``, EXPERIMENTS.md row AI; the bundled model's since session
    24). A stretch where only one lead of a two-lead record is missing is read the same way, beat by beat
    (:func:`read_lead_gaps_from_one_lead`).

    >>> fill_missing_leads(np.array([[1.0], [2.0]], np.float32)).tolist()
    [[1.0, 1.0], [2.0, 2.0]]
    """
    missing = N_LEADS - clean_mv.shape[1]
    return clean_mv if missing <= 0 else np.concatenate([clean_mv] + [clean_mv[:, :1]] * missing, axis=1)


def prepare_reference_beats(record: Record, settings: InputSettings,
                            clean_mv: np.ndarray | None = None) -> tuple[PreparedBeats, np.ndarray]:
    """Prepared beats at the reference beat positions and their AAMI labels (-1: no class).

    Every reference beat shapes the context (RR, templates); labels are -1 for beats whose
    symbol has no AAMI class, which callers drop before training or scoring.
    """
    if record.annotations is None:
        raise ValueError(f"Record {record.name}: no reference annotations; expected an annotated record.")
    beat = select_reference_beats(record)
    samples = record.annotations.samples[beat]
    labels = encode_classes(map_symbols_to_aami(record.annotations.symbols[beat]))
    return prepare_beats(record, samples, settings, clean_mv), labels
