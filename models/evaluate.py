"""EC57-style evaluation of a beat classifier on MIT-BIH records, two ways.

- **Reference positions** (what papers report): the beats at the reference annotation positions,
  classified; every labelled beat of each record counts.
- **End to end** (what users get): the project's own detector finds the beats, which are
  classified and matched to the reference within 150 ms; missed beats count against their
  class's Se, extra detections against the +P of the class they were given. Reported over the
  whole record (comparable with the reference-position figures) and under the EC57 convention
  of scoring from 5 minutes.

Predicted labels are written as WFDB annotation files (MIT-BIH symbols N, S, V, F, Q at the
detected beats) so that the WFDB tool ``bxb`` can re-score them.

References
----------
ANSI/AAMI EC57:2012; de Chazal P, O'Dwyer M, Reilly RB, IEEE Trans Biomed Eng 51(7), 2004.
Guo C, Pleiss G, Sun Y, Weinberger KQ, "On calibration of modern neural networks", ICML 2017
(expected calibration error).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from pipeline.detect import DetectorSettings, detect_record_peaks
from pipeline.labels import AAMI_CLASSES, encode_beat_symbols, is_beat_symbol, map_symbols_to_aami
from pipeline.datasets import encode_classes
from pipeline.quality import find_quality_spans
from pipeline.records import ANALYSIS_LEADS, read_record, write_annotations
from pipeline.regions import RegionSettings
from pipeline.segment import time_beats
from pipeline.scoring import (NO_BEAT, ClassificationCounts, compare_beats, compare_classes, count_classes,
                              require_reference_beats)
from pipeline.types import STATED_PACEMAKER, Annotations, Record
from models.af_rule import apply_af_rule_to_record
from models.atrial_rule import DecisionRules
from models.family_rule import apply_family_rule_to_record
from models.inputs import ModelInputs
from models.network import predict_probabilities
from models.pacing_rule import PacingRule, find_prepared_paced_beats
from models.predict import BeatPredictions
from models.prepare import InputSettings, clean_record, prepare_beats, prepare_reference_beats
from models.train import summarize_counts

logger = logging.getLogger(__name__)

MODES = ("reference", "end_to_end", "end_to_end_ec57")
"""Report sections: reference positions, detector over the whole record, detector from 5 min."""


@dataclass
class EvaluationReport:
    """Pooled and per-record classification matrices of each mode, and calibration."""

    records: list[str] = field(default_factory=list)
    per_record: dict[str, dict[str, ClassificationCounts]] = field(default_factory=dict)
    confidences: list[np.ndarray] = field(default_factory=list)
    correct: list[np.ndarray] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    def gross(self, mode: str) -> ClassificationCounts:
        total = ClassificationCounts.empty()
        for counts in self.per_record.values():
            total = total + counts[mode]
        return total

    def calibration_error(self, n_bins: int = 15) -> float | None:
        """Expected calibration error over every scored beat (reference N, S, V and F beats:
        :func:`evaluate_record`); None when no beat was scored (every record failed or none held such a beat), which
        no figure describes."""
        confidence = np.concatenate(self.confidences) if self.confidences else np.empty(0)
        if len(confidence) == 0:
            return None
        return expected_calibration_error(confidence, np.concatenate(self.correct), n_bins)

    def reliability(self) -> list[dict]:
        """:func:`reliability_table` over every scored beat (empty when none was scored)."""
        if not self.confidences:
            return []
        return reliability_table(np.concatenate(self.confidences), np.concatenate(self.correct))


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> float:
    """Top-label ECE: beat-weighted mean |accuracy - confidence| over equal-width confidence bins."""
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            total += in_bin.sum() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(total / max(len(confidence), 1))


RELIABILITY_EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
"""Confidence bins of the reliability table: what "90 % sure" means is read from the 0.9-0.95 row."""


def reliability_table(confidence: np.ndarray, correct: np.ndarray,
                      edges: tuple[float, ...] = RELIABILITY_EDGES) -> list[dict]:
    """Per confidence bin [from, to) (the last one closed) holding beats: beats, mean confidence and accuracy.

    >>> rows = reliability_table(np.array([0.55, 0.58, 0.97, 0.98, 1.0]), np.array([True, False, True, False, True]))
    >>> [(r["confidence_from"], r["beats"], round(r["mean_confidence"], 3), r["accuracy"]) for r in rows]
    [(0.5, 2, 0.565, 0.5), (0.95, 2, 0.975, 0.5), (0.99, 1, 1.0, 1.0)]
    """
    bins = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in np.unique(bins):
        in_bin = bins == b
        rows.append({"confidence_from": edges[b], "confidence_to": edges[b + 1], "beats": int(in_bin.sum()),
                     "mean_confidence": float(confidence[in_bin].mean()), "accuracy": float(correct[in_bin].mean())})
    return rows


def predict_beats(model: keras.Model, inputs: ModelInputs) -> np.ndarray:
    """Class probabilities of prepared beats (an empty input gives an empty (0, 5) array)."""
    if len(inputs) == 0:
        return np.zeros((0, len(AAMI_CLASSES)), dtype=np.float32)
    return predict_probabilities(model, inputs.waveform, inputs.features)


def reference_classes(annotations: Annotations) -> np.ndarray:
    """Class index of each annotation (``NO_BEAT`` for non-beats and beats without an AAMI class)."""
    classes = np.full(len(annotations), NO_BEAT, dtype=np.int64)
    beat = is_beat_symbol(annotations.symbols)
    encoded = encode_classes(map_symbols_to_aami(annotations.symbols[beat])).astype(np.int64)
    classes[np.flatnonzero(beat)] = np.where(encoded >= 0, encoded, NO_BEAT)
    return classes


def classify_prepared(model: keras.Model, inputs: ModelInputs, decisions: DecisionRules | None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and final class indices (the model's decision rules applied when given, and the probabilities
    then those the classes were decided from: :meth:`models.atrial_rule.DecisionRules.decide`)."""
    probabilities = predict_beats(model, inputs)
    if decisions is None:
        return probabilities, np.argmax(probabilities, axis=1) if len(probabilities) else np.empty(0, np.int64)
    decision = decisions.decide(probabilities, inputs.features, inputs.feature_names)
    return decision.probabilities, decision.classes


def evaluate_record(model: keras.Model, record: Record, settings: InputSettings,
                    out_dir: Path | None, annotator: str, decisions: DecisionRules | None = None,
                    pacing: PacingRule | None = None) -> tuple[dict[str, ClassificationCounts], np.ndarray, np.ndarray]:
    """Classification matrices of one record in every mode, and its calibration pairs.

    Calibration pairs are the network's own (top probability, whether its top class is right) over the reference
    N, S, V and F beats: reference Q beats (paced or unclassifiable) are left out, since the network is not trained
    to name them (eight Q beats in DS1) and a paced patient's beats, Q by the pacing rule and not by the network,
    would otherwise count as the network's confident mistakes. The matrices use the final classes, with the model's
    decision rules when given, and for a patient with a pacemaker the pacing rule ``pacing`` (:mod:`models.pacing_rule`:
    paced beats Q, written ``/``).
    """
    require_reference_beats(record)
    clean = clean_record(record, settings)
    prepared, labels = prepare_reference_beats(record, settings, clean)
    probabilities, predicted = classify_prepared(model, prepared.inputs, decisions)
    detection = detect_record_peaks(record)
    detected = prepare_beats(record, detection.samples, settings, clean)
    test_probabilities, test_classes = classify_prepared(model, detected.inputs, decisions)
    paced = test_paced = None
    if pacing is not None:
        paced = find_prepared_paced_beats(prepared, pacing, record)
        test_paced = find_prepared_paced_beats(detected, pacing, record)
        predicted = np.where(paced, AAMI_CLASSES.index("Q"), predicted)
        test_classes = np.where(test_paced, AAMI_CLASSES.index("Q"), test_classes)
    timed = time_beats(clean[:, :1], detection.samples, record.fs_hz)  # reported where ecg score reports them
    if decisions is not None and (decisions.af_rule or decisions.family_rule):
        spans = find_quality_spans(record.signal_mv, record.fs_hz)
        predicted = apply_record_rules(record, prepared.beats.samples, probabilities, predicted, decisions, spans,
                                       detection.wave_samples, paced)
        waves = timed if detection.waves is None else time_beats(clean[:, :1], detection.waves, record.fs_hz)
        after = decide_record_rules(record, timed, test_probabilities, test_classes, decisions, spans, waves,
                                    test_paced)
        test_classes, test_paced = after.class_indices, after.paced
    labelled = labels >= 0
    counts = {"reference": count_classes(labels[labelled], predicted[labelled])}
    ref_classes = reference_classes(record.annotations)
    for mode, start_s in (("end_to_end", 0.0), ("end_to_end_ec57", 300.0)):
        match = compare_beats(record.annotations, timed, record.fs_hz, record.n_samples, start_s=start_s)
        counts[mode] = compare_classes(match, ref_classes, test_classes)
    if out_dir is not None:
        write_predicted_annotations(out_dir, record, timed, test_classes, annotator, test_paced)
    calibrated = labelled & (labels != AAMI_CLASSES.index("Q"))
    confidence = probabilities[calibrated].max(axis=1)
    return counts, confidence, np.argmax(probabilities, axis=1)[calibrated] == labels[calibrated]


def apply_record_rules(record: Record, samples: np.ndarray, probabilities: np.ndarray, classes: np.ndarray,
                       decisions: DecisionRules, spans: list, detected_samples: np.ndarray,
                       paced: np.ndarray | None = None) -> np.ndarray:
    """``classes`` after the model's record-level rules (:func:`decide_record_rules`)."""
    return decide_record_rules(record, samples, probabilities, classes, decisions, spans, detected_samples,
                               paced).class_indices


def decide_record_rules(record: Record, samples: np.ndarray, probabilities: np.ndarray, classes: np.ndarray,
                        decisions: DecisionRules, spans: list, detected_samples: np.ndarray,
                        paced: np.ndarray | None = None) -> BeatPredictions:
    """The beats after the model's record-level rules, as ``ecg score`` applies them: the atrial-fibrillation rule
    (:func:`models.af_rule.apply_af_rule_to_record`, default event settings), then the morphology-family rule
    (:func:`models.family_rule.apply_family_rule_to_record`), each when the model has it. ``paced``: the pacing rule's
    beats (None without a stated pacemaker), which the family rule extends to the V calls of paced families."""
    predictions = BeatPredictions(np.asarray(samples, dtype=np.int64), probabilities, decided=classes, paced=paced)
    if decisions.af_rule:
        predictions = apply_af_rule_to_record(record, predictions, RegionSettings(), spans, detected_samples)
    if decisions.family_rule:
        predictions = apply_family_rule_to_record(record, predictions)
    return predictions


def write_predicted_annotations(out_dir: Path, record: Record, samples: np.ndarray, classes: np.ndarray,
                                annotator: str, paced: np.ndarray | None = None) -> Path:
    """WFDB annotation file of the predicted beat labels (MIT-BIH symbols; ``/`` for the Q beats in ``paced``), at
    the file's own rate."""
    symbols = encode_beat_symbols(classes, paced)
    scale = record.source_fs_hz / record.fs_hz
    positions = np.round(samples * scale).astype(np.int64)
    annotations = Annotations(positions, symbols, np.full(len(samples), "", dtype=object))
    return write_annotations(out_dir, record.name, annotator, annotations, fs_hz=record.source_fs_hz)


def evaluate_records(model: keras.Model, settings: InputSettings, data_dir: str | Path, records: tuple[str, ...],
                     out_dir: str | Path | None = None, annotator: str = "cls",
                     progress: bool = True, decisions: DecisionRules | None = None,
                     one_lead: bool = False, pacemaker_records: tuple[str, ...] = ()) -> EvaluationReport:
    """Evaluate ``model`` on ``records``; one failing record is reported and the others go on. ``one_lead``: each
    record read with its primary lead only, as a one-lead recording is analysed (detection and classification).
    The patients of ``pacemaker_records`` have a stated pacemaker: the pacing rule labels their paced beats."""
    report = EvaluationReport()
    out = Path(out_dir) if out_dir is not None else None
    for name in tqdm(records, desc="evaluate", unit="record", disable=not progress):
        try:
            record = read_record(Path(data_dir) / name, target_fs_hz=settings.segmentation.fs_hz,
                                 max_leads=1 if one_lead else ANALYSIS_LEADS)
            pacing = None
            if name in pacemaker_records:
                record, pacing = replace(record, pacemaker=STATED_PACEMAKER), PacingRule()
            counts, confidence, correct = evaluate_record(model, record, settings, out, annotator, decisions, pacing)
        except Exception as exc:  # batch boundary: report and go on
            logger.error("a record failed (%s); the report lists it", type(exc).__name__)  # no name: the patient's?
            report.failures[name] = f"{type(exc).__name__}: {exc}"
            continue
        report.records.append(name)
        report.per_record[name] = counts
        report.confidences.append(confidence)
        report.correct.append(correct)
    return report


def report_to_dict(report: EvaluationReport, context: dict) -> dict:
    """JSON-ready report: gross and per-record metrics and matrices of each mode, calibration, and the detector's
    settings (the end-to-end figures depend on them)."""
    result = {"context": context, "calibration": {"ece_top_label": report.calibration_error(), "n_bins": 15,
                                                  "beats": int(sum(len(c) for c in report.confidences)),
                                                  "beat_classes": "reference N, S, V and F (Q left out)",
                                                  "reliability": report.reliability()},
              "failures": report.failures, "detector": asdict(DetectorSettings()), "modes": {}}
    for mode in MODES:
        gross = report.gross(mode)
        result["modes"][mode] = {
            "gross": summarize_counts(gross) | {"beats": int(gross.matrix[:-1].sum())},
            "confusion": {"rows_reference": list(AAMI_CLASSES) + ["none"], "matrix": gross.matrix.tolist()},
            "per_record": {name: summarize_counts(c[mode]) | {"beats": int(c[mode].matrix[:-1].sum()),
                                                                "matrix": c[mode].matrix.tolist()}
                           for name, c in report.per_record.items()},
        }
    return result


def format_calibration(ece: float | None) -> str:
    """``2.53 %``, or ``- (no beat scored)``.

    >>> format_calibration(0.02533), format_calibration(None)
    ('2.53 %', '- (no beat scored)')
    """
    return "- (no beat scored)" if ece is None else f"{100 * ece:.2f} %"


def format_reliability(rows: list[dict]) -> list[str]:
    """Markdown lines of a reliability table (:func:`reliability_table`'s rows; none when no beat was scored).

    >>> format_reliability([{"confidence_from": 0.9, "confidence_to": 0.95, "beats": 10, "mean_confidence": 0.93,
    ...                      "accuracy": 0.8}])[-1]
    '| 0.90-0.95 | 10 | 93.0 | 80.0 |'
    """
    if not rows:
        return []
    return ["| top-class probability | beats | mean probability % | right % |", "|---|---:|---:|---:|"] + [
        f"| {r['confidence_from']:.2f}-{r['confidence_to']:.2f} | {r['beats']} | {format_percent(r['mean_confidence'])} | "
        f"{format_percent(r['accuracy'])} |" for r in rows]


def format_markdown(report_dict: dict) -> str:
    """Human-readable report: gross table per mode, confusion matrices, per-record table."""
    lines = ["# Beat classification report", "", f"Context: `{json.dumps(report_dict['context'])}`", "",
             f"Expected calibration error (top label, reference positions): "
             f"{format_calibration(report_dict['calibration']['ece_top_label'])}", ""]
    if report_dict["calibration"].get("beats"):
        lines += [f"Calibration is measured over the {report_dict['calibration']['beats']:,} reference N, S, V and F "
                  "beats; reference Q beats (paced or unclassifiable) are left out, as the network is not trained to "
                  "name them.", ""]
    table = format_reliability(report_dict["calibration"].get("reliability", []))
    if table:
        lines += ["Reliability (reference positions): how often the top class is the reference's, by its probability.",
                  "", *table, ""]
    titles = {"reference": "Reference beat positions (whole records)",
              "end_to_end": "End to end with the project's detector (whole records)",
              "end_to_end_ec57": "End to end, EC57 convention (from 5 minutes)"}
    for mode, section in report_dict["modes"].items():
        g = section["gross"]
        lines += [f"## {titles[mode]}", "", "| beats | acc % | N Se | N +P | S Se | S +P | V Se | V +P | F Se | F +P |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {g['beats']} | {format_percent(g['accuracy'])} | " + " | ".join(
                      format_percent(g[f'{c}_{m}']) for c in "NSVF" for m in ("se", "ppv")) + " |", "",
                  "Confusion (rows reference, columns predicted; last row/column: no beat):", "",
                  "| ref \\ pred | " + " | ".join(section["confusion"]["rows_reference"]) + " |",
                  "|---|" + "---:|" * len(section["confusion"]["rows_reference"])]
        for name, row in zip(section["confusion"]["rows_reference"], section["confusion"]["matrix"]):
            lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
        lines += ["", "| record | beats | acc % | S Se | S +P | V Se | V +P |", "|---|---:|---:|---:|---:|---:|---:|"]
        for name, r in section["per_record"].items():
            lines.append(f"| {name} | {r['beats']} | " + " | ".join(
                format_percent(r[key]) for key in ("accuracy", "S_se", "S_ppv", "V_se", "V_ppv")) + " |")
        lines.append("")
    if report_dict["failures"]:
        lines += ["## Failed records", ""] + [f"- {k}: {v}" for k, v in report_dict["failures"].items()]
    return "\n".join(lines) + "\n"


def replace_nan(value):
    """Copy of a nested dict/list with NaN floats replaced by None (valid JSON)."""
    if isinstance(value, dict):
        return {k: replace_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_nan(v) for v in value]
    return None if isinstance(value, float) and np.isnan(value) else value


def format_percent(value: float) -> str:
    """``12.3`` for 0.123, ``-`` when undefined (NaN)."""
    return "-" if value is None or np.isnan(value) else f"{100 * value:.1f}"


def write_report(report: EvaluationReport, out_dir: str | Path, context: dict) -> dict:
    """Write ``classification_report.json`` and ``.md`` into ``out_dir``; returns the dict."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = replace_nan(report_to_dict(report, context))
    (out / "classification_report.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out / "classification_report.md").write_text(format_markdown(result), encoding="utf-8")
    return result
