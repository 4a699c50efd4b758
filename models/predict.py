"""Beat classification of a whole record with a loaded model: the path the CLI and dashboard share."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from models.atrial_rule import DecisionRules
from models.pacing_rule import PacingRule, find_prepared_paced_beats
from models.prepare import InputSettings, clean_record, prepare_beats
from pipeline.detect import detect_record_peaks
from pipeline.labels import AAMI_CLASSES
from pipeline.segment import time_beats
from pipeline.types import Record


@dataclass(frozen=True)
class BeatPredictions:
    """Classified beats of one record.

    Attributes
    ----------
    samples : np.ndarray
        int64 beat positions at the record's internal rate, as reported (:func:`pipeline.segment.time_beats`: the
        same point of every QRS, where annotators mark it).
    probabilities : np.ndarray
        float32 (n_beats, 5) class probabilities in :data:`AAMI_CLASSES` order.
    reason : str
        Empty when beats were found, else why there are none (from the detector).
    relabelled : np.ndarray or None
        Boolean per beat: the network said N and the atrial-origin rule (:mod:`models.atrial_rule`)
        made the beat S. None when no rule was applied.
    conducted : np.ndarray or None
        Boolean per beat: the network said V and the sinus-conduction rule
        (:mod:`models.conduction_rule`) made the beat N. None when no rule was applied.
    in_run : np.ndarray or None
        Boolean per beat: the network or the atrial-origin rule said N and the supraventricular run
        rule (:mod:`models.run_rule`) made the beat S, as part of a run. None when no rule was applied.
    decided : np.ndarray or None
        Final class indices from the model's decision rules (:class:`DecisionRules`); None: the
        network's top class.
    in_af : np.ndarray or None
        Boolean per beat: the rules said S and the atrial-fibrillation rule (:mod:`models.af_rule`) made the beat
        N, inside an AF or flutter episode of the record. None when that rule was not applied.
    in_family : np.ndarray or None
        Boolean per beat: the rules said V and the morphology-family rule (:mod:`models.family_rule`) made the beat N,
        its QRS matching a family of mostly non-ventricular beats. None when that rule was not applied.
    one_lead : np.ndarray or None
        Boolean per beat: one lead of a two-lead record was missing around the beat, which was classified from the
        other lead alone (:func:`models.prepare.read_lead_gaps_from_one_lead`). None when no beat was.
    wide : np.ndarray or None
        Boolean per beat: the rules said S and the wide-QRS rule (:mod:`models.wide_qrs_rule`) made the beat V, its
        QRS wide and unlike the patient's dominant one. None when no rule was applied.
    fused : np.ndarray or None
        Boolean per beat: the rules said F and the fusion rule (:mod:`models.fusion_rule`) made the beat N, no V call
        being within two beats of it. None when no rule was applied.
    paced : np.ndarray or None
        Boolean per beat: with a pacemaker stated, the pacing rule (:mod:`models.pacing_rule`) found the beat paced
        (wide and on time, or with a pacing spike) and made it Q, whatever the networks and the other rules said.
        None when no pacemaker was stated.
    detected : np.ndarray or None
        int64 positions the classifier's inputs were taken at (the detector's R peaks), one per beat; None: the
        same as ``samples``. :func:`models.explain.explain_beats` needs these.
    paceable : np.ndarray or None
        Boolean per beat: what the default pacing rule would find paced (wide and on time, or with a pacing spike),
        whether or not a pacemaker is stated, so that a pacemaker stated afterwards needs no second classification
        (:func:`undo_record_rules`, :func:`mark_paced_beats`). None when not computed.
    """

    samples: np.ndarray
    probabilities: np.ndarray
    reason: str = ""
    relabelled: np.ndarray | None = None
    decided: np.ndarray | None = None
    conducted: np.ndarray | None = None
    in_run: np.ndarray | None = None
    in_af: np.ndarray | None = None
    in_family: np.ndarray | None = None
    one_lead: np.ndarray | None = None
    detected: np.ndarray | None = None
    wide: np.ndarray | None = None
    fused: np.ndarray | None = None
    paced: np.ndarray | None = None
    paceable: np.ndarray | None = None

    @property
    def class_indices(self) -> np.ndarray:
        """Predicted class indices into :data:`AAMI_CLASSES` (decision rules included)."""
        if self.decided is not None:
            return self.decided
        return np.argmax(self.probabilities, axis=1) if len(self.probabilities) else np.empty(0, np.int64)

    @property
    def classes(self) -> np.ndarray:
        """Predicted class letters (the rule's relabelling included)."""
        if len(self.samples) == 0:
            return np.empty(0, dtype="<U1")
        return np.asarray(AAMI_CLASSES)[self.class_indices]

    @property
    def relabelled_mask(self) -> np.ndarray:
        """Boolean per beat (all False without a rule)."""
        return np.zeros(len(self.samples), bool) if self.relabelled is None else self.relabelled

    @property
    def conducted_mask(self) -> np.ndarray:
        """Boolean per beat: V -> N by the sinus-conduction rule (all False without it)."""
        return np.zeros(len(self.samples), bool) if self.conducted is None else self.conducted

    @property
    def in_run_mask(self) -> np.ndarray:
        """Boolean per beat: N -> S by the supraventricular run rule (all False without it)."""
        return np.zeros(len(self.samples), bool) if self.in_run is None else self.in_run

    @property
    def wide_mask(self) -> np.ndarray:
        """Boolean per beat: S -> V by the wide-QRS rule (all False without it)."""
        return np.zeros(len(self.samples), bool) if self.wide is None else self.wide

    @property
    def fused_mask(self) -> np.ndarray:
        """Boolean per beat: F -> N by the fusion rule (all False without it)."""
        return np.zeros(len(self.samples), bool) if self.fused is None else self.fused

    @property
    def paced_mask(self) -> np.ndarray:
        """Boolean per beat: made Q by the pacing rule (all False without a stated pacemaker)."""
        return np.zeros(len(self.samples), bool) if self.paced is None else self.paced

    @property
    def in_af_mask(self) -> np.ndarray:
        """Boolean per beat: S -> N by the atrial-fibrillation rule (all False without it)."""
        return np.zeros(len(self.samples), bool) if self.in_af is None else self.in_af

    @property
    def in_family_mask(self) -> np.ndarray:
        """Boolean per beat: V -> N by the morphology-family rule (all False without it)."""
        return np.zeros(len(self.samples), bool) if self.in_family is None else self.in_family

    @property
    def one_lead_mask(self) -> np.ndarray:
        """Boolean per beat: classified from one lead because the other was missing around it (all False when none
        was)."""
        return np.zeros(len(self.samples), bool) if self.one_lead is None else self.one_lead

    @property
    def detected_samples(self) -> np.ndarray:
        """Positions the classifier's inputs were taken at (``samples`` when not recorded apart)."""
        return self.samples if self.detected is None else self.detected

    def __len__(self) -> int:
        return len(self.samples)


_S, _V, _Q = AAMI_CLASSES.index("S"), AAMI_CLASSES.index("V"), AAMI_CLASSES.index("Q")

CHUNK_S = 3600.0
"""Records longer than :data:`CHUNK_S` + :data:`CHUNK_MARGIN_S` are classified one hour at a time."""
CHUNK_MARGIN_S = 60.0
"""Signal kept on each side of a chunk, so that beats near its borders have their full context
(neighbouring RR intervals, windows, baseline) exactly as inside it."""


def classify_record(model, settings: InputSettings, record: Record, r_peaks: np.ndarray | None = None,
                    *, chunk_s: float = CHUNK_S, margin_s: float = CHUNK_MARGIN_S,
                    decisions: DecisionRules | None = None, pacing: PacingRule | None = None,
                    kept: BeatPredictions | None = None, changed: np.ndarray | None = None) -> BeatPredictions:
    """Detect (unless ``r_peaks`` are given), prepare and classify every beat of ``record``.

    Long records (Holter recordings) are prepared and classified in chunks of ``chunk_s`` with
    ``margin_s`` of extra signal on each side, so that memory stays bounded whatever the length;
    each beat is classified in the chunk whose core holds it, so none is dropped or repeated. The
    patient's dominant-beat template is then taken per chunk (an hour of signal) rather than over
    the whole recording. Records up to ``chunk_s + margin_s`` (MIT-BIH's 30 minutes) are prepared
    in one piece. ``decisions`` (the model's, :meth:`DecisionRules.from_settings`) turn probabilities
    into classes: V threshold, sinus-conduction rule, atrial-origin rule, supraventricular run rule, wide-QRS rule.
    ``pacing`` (for a patient with a stated pacemaker) finds the paced beats and makes them Q, with its
    ``own_template`` option after classifying the other beats against their own dominant beat
    (:mod:`models.pacing_rule`). ``kept``: this record's predictions as this function gave them for other beat
    positions, where only those near the ``changed`` samples differ (a reader's added or deleted beats,
    :mod:`pipeline.reader_beats`): a chunk that none of them reaches, margins included, is taken from ``kept`` as it
    is, the same as classifying it again, so that an edit classifies an hour again rather than a whole Holter
    recording.
    """
    reason = ""
    if r_peaks is None:
        detection = detect_record_peaks(record)
        r_peaks, reason = detection.samples, detection.reason
    r_peaks = np.asarray(r_peaks, dtype=np.int64)
    if len(r_peaks) == 0:
        return empty_predictions(reason)
    chunk, margin = int(round(chunk_s * record.fs_hz)), int(round(margin_s * record.fs_hz))
    if record.n_samples <= chunk + margin:
        return classify_piece(model, settings, record, r_peaks, reason, decisions, pacing)
    changed = np.asarray([] if changed is None else changed, np.int64)
    parts = []
    for start in range(0, record.n_samples, chunk):
        stop = min(start + chunk, record.n_samples)
        if kept is not None and not np.any((changed >= start - margin) & (changed < stop + margin)):
            detected = kept.detected_samples
            parts.append(take_beats(kept, (detected >= start) & (detected < stop)))
        else:
            parts.append(classify_chunk(model, settings, record, r_peaks, start, stop, margin, decisions, pacing))
    return BeatPredictions(np.concatenate([p.samples for p in parts]),
                           np.concatenate([p.probabilities for p in parts]), reason,
                           None if decisions is None else np.concatenate([p.relabelled_mask for p in parts]),
                           None if decisions is None and pacing is None
                           else np.concatenate([p.class_indices for p in parts]),
                           None if decisions is None else np.concatenate([p.conducted_mask for p in parts]),
                           None if decisions is None else np.concatenate([p.in_run_mask for p in parts]),
                           one_lead=np.concatenate([p.one_lead_mask for p in parts]),
                           detected=np.concatenate([p.detected_samples for p in parts]),
                           wide=None if decisions is None else np.concatenate([p.wide_mask for p in parts]),
                           fused=None if decisions is None else np.concatenate([p.fused_mask for p in parts]),
                           paced=None if pacing is None else np.concatenate([p.paced_mask for p in parts]),
                           paceable=np.concatenate([p.paceable for p in parts]))


def empty_predictions(reason: str = "") -> BeatPredictions:
    return BeatPredictions(np.empty(0, np.int64), np.zeros((0, len(AAMI_CLASSES)), np.float32), reason,
                           paceable=np.zeros(0, bool))


def classify_piece(model, settings: InputSettings, record: Record, r_peaks: np.ndarray,
                   reason: str = "", decisions: DecisionRules | None = None,
                   pacing: PacingRule | None = None) -> BeatPredictions:
    """Prepare and classify the beats of a whole (short enough) record; report them at their timed positions
    (:func:`pipeline.segment.time_beats` on the cleaned primary lead)."""
    from models.evaluate import predict_beats  # Keras on first use: this module stays light to import

    clean_mv = clean_record(record, settings)
    prepared = prepare_beats(record, r_peaks, settings, clean_mv)
    paceable = find_prepared_paced_beats(prepared, PacingRule(), record)
    paced = None
    if pacing is not None:  # the default rule's beats are those found already
        paced = paceable if pacing == PacingRule() else find_prepared_paced_beats(prepared, pacing, record)
        if pacing.own_template and paced.any():  # the patient's own beats read against their own dominant beat
            prepared = prepare_beats(record, r_peaks, settings, clean_mv, template_excluded=paced)
    probabilities = predict_beats(model, prepared.inputs)
    detected = prepared.beats.samples
    timed = time_beats(clean_mv[:, :1], detected, record.fs_hz)
    if decisions is None:
        predictions = BeatPredictions(timed, probabilities, reason, one_lead=prepared.one_lead, detected=detected,
                                      paceable=paceable)
    else:
        decision = decisions.decide(probabilities, prepared.inputs.features, prepared.inputs.feature_names)
        predictions = BeatPredictions(timed, decision.probabilities, reason, decision.atrial, decision.classes,
                                      decision.conducted, decision.run, one_lead=prepared.one_lead, detected=detected,
                                      wide=decision.wide, fused=decision.fusion, paceable=paceable)
    return predictions if paced is None else mark_paced_beats(predictions, paced)


def undo_record_rules(predictions: BeatPredictions) -> BeatPredictions:
    """``predictions`` as :func:`classify_record` gave them, before an analysis's record-level rules: the beats the
    atrial-fibrillation rule made N are S again, those the morphology-family rule made N are V again (``in_af`` and
    ``in_family`` then None). Beats a family rule made paced stay so (``paced``)."""
    decided = np.where(predictions.in_af_mask, _S, np.where(predictions.in_family_mask, _V, predictions.class_indices))
    return replace(predictions, decided=decided, in_af=None, in_family=None)


def mark_paced_beats(predictions: BeatPredictions, paced: np.ndarray) -> BeatPredictions:
    """``predictions`` with the ``paced`` beats Q and flagged paced, and no other rule's flag on them."""
    def unflag(mask):
        return None if mask is None else mask & ~paced
    return replace(predictions, decided=np.where(paced, _Q, predictions.class_indices), paced=paced,
                   relabelled=unflag(predictions.relabelled), conducted=unflag(predictions.conducted),
                   in_run=unflag(predictions.in_run), wide=unflag(predictions.wide), fused=unflag(predictions.fused))


def classify_chunk(model, settings: InputSettings, record: Record, r_peaks: np.ndarray, start: int, stop: int,
                   margin: int, decisions: DecisionRules | None = None,
                   pacing: PacingRule | None = None) -> BeatPredictions:
    """Beats with ``start <= sample < stop``, classified on the signal from ``start - margin`` to ``stop + margin``."""
    lo, hi = max(start - margin, 0), min(stop + margin, record.n_samples)
    piece = replace(record, signal_mv=record.signal_mv[lo:hi], annotations=None)
    peaks = r_peaks[(r_peaks >= lo) & (r_peaks < hi)] - lo
    if len(peaks) == 0:
        return empty_predictions()
    predictions = classify_piece(model, settings, piece, peaks, decisions=decisions, pacing=pacing)
    detected = predictions.detected_samples + lo
    core = (detected >= start) & (detected < stop)  # by the detector's positions, which split the record exactly
    return take_beats(predictions, core, lo)


def take_beats(predictions: BeatPredictions, mask: np.ndarray, offset: int = 0) -> BeatPredictions:
    """The beats of ``predictions`` where ``mask`` is true, their positions moved by ``offset`` samples."""
    n = len(predictions)
    picked = {f.name: getattr(predictions, f.name)[mask] for f in fields(predictions)
              if isinstance(getattr(predictions, f.name), np.ndarray) and len(getattr(predictions, f.name)) == n}
    picked["samples"] = picked["samples"] + offset
    picked["detected"] = predictions.detected_samples[mask] + offset
    return replace(predictions, **picked)
