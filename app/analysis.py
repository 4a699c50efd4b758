"""Analyse one record end to end: the path shared by ``ecg score`` and the dashboard.

read (done by the caller) -> signal quality -> beat detection -> beat classification -> regions ->
record summary. Nothing here writes files or logs patient details; :mod:`app.outputs` turns a
:class:`RecordAnalysis` into files (the WFDB annotations among them).

A reader's corrections (:func:`relabel_beats`, e.g. one morphology family relabelled at once from
the dashboard) replace the classes of the beats concerned and the regions and summary are found
again from the corrected classes; the model's own classes stay in ``predictions``. A reader's
artefact marks (:func:`mark_artefacts`) make stretches unreadable the same way, and other event
thresholds (:func:`change_region_settings`) find the events again too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from app.conclusion import check_conclusion
from app.reader_strips import READER_STRIP_S, ReaderStrip, check_reader_strips
from models.af_rule import apply_af_rule
from models.atrial_rule import DecisionRules
from models.family_rule import apply_family_rule
from models.pacing_rule import PacingRule
from models.predict import BeatPredictions, classify_record, mark_paced_beats, undo_record_rules
from models.prepare import InputSettings
from models.inputs import N_LEADS
from models.loading import LoadedModel
from pipeline.detect import detect_record_peaks
from pipeline.errors import EcgInputError
from pipeline.diary import DiaryEntry, DiaryFinding, correlate_diary, finding_to_dict, format_clock_time
from pipeline.families import find_split_families, group_beat_families, summarize_families
from pipeline.fibrillation import FibrillationSettings
from pipeline.labels import AAMI_CLASSES
from pipeline.quality import ARTEFACT_KIND, find_record_quality_spans, mask_runs
from pipeline.records import PREFERRED_PRIMARY_LEADS, blank_dead_leads, find_leads_with_signal, keep_leads
from pipeline.regions import (BLOCKED_KINDS, MIN_BEAT_INTERVAL_MS, WAVE_KINDS, Region, RegionSettings, beats_in_kind,
                              describe_region, find_blocked_intervals, find_noisy_leads, is_within_refractory,
                              merge_intervals, regions_to_rows, subtract_intervals)
from pipeline.region_eval import (RhythmEvidence, annotated_beats, find_record_blocked_p_waves, find_record_regions,
                                  flag_record_regions, measure_rhythm_evidence, paces_often, reads_as_paced,
                                  st_exclusions, summarize_labelled_record)
from pipeline.reader_rhythm import AfEdit, check_af_edits
from pipeline.reader_beats import (BeatEdit, MissedBeatError, apply_beat_edits, check_beat_edits, compare_beat_lists,
                                   keep_effective_beat_edits, place_missed_beat)
from pipeline.rhythm_annotations import (find_af_intervals, is_review_file, quality_mark_intervals, read_af_edit_notes,
                                         read_beat_edit_notes, read_written_af)
from pipeline.scoring import match_beats
from pipeline.qt import dominant_t_wave
from pipeline.st import dominant_template, episode_beats
from pipeline.summary import RecordSummary, hour_to_dict, summary_context, summary_to_dict
from pipeline.types import Annotations, QualitySpan, Record
from pipeline.wording import count_noun, format_duration, format_hms


_S = AAMI_CLASSES.index("S")

CONFIDENT_EVENT_MIN = 0.5
"""An event's confidence (:mod:`pipeline.regions`: the clean-lead share times the weakest beat-label confidence) from
which the report shows it as a clear example (:data:`app.report.STRIP_CONFIDENCE_MIN`) and quotes a headline run
without a doubt (:func:`describe_doubtful_run`)."""
MIN_ARTEFACT_S = 0.5
"""Shortest artefact mark recovered from a saved review file (shorter pieces are rounding at the edges of the
product's own unreadable stretches)."""


@dataclass(frozen=True)
class KeptEvidence:
    """An analysis's rhythm evidence (:func:`pipeline.region_eval.measure_rhythm_evidence`: the P-wave similarity and
    the VF filter, 3.8 s on a 24-hour record) with what it depends on besides the record and its beats, which a
    reader's edits leave as they are: the spans the regions are found from (the quality spans and the reader's
    artefact marks), the flutter/fibrillation settings, and whether the record reads as a paced patient's
    (:func:`pipeline.region_eval.reads_as_paced`)."""

    spans: tuple[QualitySpan, ...]
    fibrillation: FibrillationSettings
    as_paced: bool
    evidence: RhythmEvidence


@dataclass(frozen=True)
class RecordAnalysis:
    """Everything the product reports about one record.

    Attributes
    ----------
    record : Record
        The record as read (signal at the internal rate).
    predictions : BeatPredictions
        Detected beats with their class probabilities.
    quality_spans : tuple of QualitySpan
        Missing, flat, saturated and noisy stretches per lead.
    regions : tuple of Region
        Flagged events (:func:`pipeline.regions.find_regions`).
    summary : RecordSummary
        Heart rate, counts, burdens, events, notes.
    model_source : str
        What scored the record (``models:/NAME/VERSION`` or a file path).
    timings_s : dict
        Seconds per stage.
    families : np.ndarray or None
        Morphology family of each beat (:func:`pipeline.families.group_beat_families`; 0 the largest,
        -1 ungrouped); None when not formed.
    region_settings : RegionSettings
        The settings the regions were found with (used again after a reader's corrections).
    reviewed_classes : np.ndarray or None
        Class letter of every beat after a reader's corrections (:func:`relabel_beats`); None when
        nothing was corrected.
    artefacts : tuple of (int, int)
        Stretches a reader marked as artefact (:func:`mark_artefacts`), [start, stop) samples at the internal
        rate, sorted and disjoint: unreadable, so no event is claimed there.
    af_edits : tuple of (int, int, bool)
        A reader's word on the atrial rhythm (:func:`edit_analysis`, :mod:`pipeline.reader_rhythm`): stretches
        stated atrial fibrillation/flutter (True) or not (False), in the order made; the AF episodes, the AF rule and
        every figure built on them follow it.
    diary : tuple of DiaryEntry
        The patient's diary (:mod:`pipeline.diary`), in time order; what the ECG showed at each entry is
        :func:`diary_findings`.
    conclusion : str
        The reader's conclusion (:mod:`app.conclusion`), ``""`` when none was written.
    reader_strips : tuple of ReaderStrip
        Strips the reader chose for the report (:mod:`app.reader_strips`), in time order.
    rhythm_evidence : KeptEvidence or None
        The rhythm evidence the regions were found with and what it was measured from, so that an edit that changes
        none of that reuses it (:func:`keep_rhythm_evidence`).
    waves : np.ndarray or None
        The detector's placed beats with those its refractory check removed (:attr:`pipeline.types.Detection.waves`),
        which the flutter finder's rate check counts; None when it removed none (the beats are the waves).
    """

    record: Record
    predictions: BeatPredictions
    quality_spans: tuple[QualitySpan, ...]
    regions: tuple[Region, ...]
    summary: RecordSummary
    model_source: str
    timings_s: dict = field(default_factory=dict)
    families: np.ndarray | None = None
    region_settings: RegionSettings = field(default_factory=RegionSettings)
    reviewed_classes: np.ndarray | None = None
    artefacts: tuple[tuple[int, int], ...] = ()
    af_edits: tuple[AfEdit, ...] = ()
    beat_edits: tuple[BeatEdit, ...] = ()
    diary: tuple[DiaryEntry, ...] = ()
    conclusion: str = ""
    reader_strips: tuple[ReaderStrip, ...] = ()
    rhythm_evidence: KeptEvidence | None = None
    waves: np.ndarray | None = None

    @property
    def classes(self) -> np.ndarray:
        """Class letter per beat: the reader's where corrected, else the model's."""
        return self.predictions.classes if self.reviewed_classes is None else self.reviewed_classes

    @property
    def reviewed_mask(self) -> np.ndarray:
        """Boolean per beat: a reader gave it another class than the model's."""
        if self.reviewed_classes is None:
            return np.zeros(len(self.predictions), bool)
        return self.reviewed_classes != self.predictions.classes


def analyse_record(record: Record, model: LoadedModel, settings: RegionSettings = RegionSettings()
                   ) -> RecordAnalysis:
    """Quality, beats, classes, regions and summary of ``record`` with ``model`` (on two of its leads at most)."""
    record = keep_leads(record)
    with_signal = find_leads_with_signal(record.signal_mv)
    record = replace(record, signal_mv=blank_dead_leads(record.signal_mv, with_signal))  # a lead flat throughout
    timings = {}
    started = time.perf_counter()
    detection = detect_record_peaks(record)
    timings["detect"] = time.perf_counter() - started
    started = time.perf_counter()
    # noise spans over a train of like beats (e.g. ventricular tachycardia) are signal, not noise; noise from end to
    # end, where the detector finds no QRS, is noise
    spans = tuple(find_record_quality_spans(record.signal_mv, record.fs_hz, detection.samples, detection.noise_only))
    spans += flat_record_spans(record, spans, with_signal)
    timings["quality"] = time.perf_counter() - started
    return classify_detected_beats(record, model, detection.samples, detection.reason, spans, settings, timings,
                                   waves=detection.waves)


def classify_detected_beats(record: Record, model: LoadedModel, r_peaks: np.ndarray, reason: str,
                            spans: tuple[QualitySpan, ...], settings: RegionSettings, timings: dict,
                            families: np.ndarray | None = None,
                            classified: BeatPredictions | None = None,
                            waves: np.ndarray | None = None) -> RecordAnalysis:
    """:func:`analyse_record` from its detected beats ``r_peaks`` (with the detector's ``reason`` when it found none)
    and quality ``spans`` on: classes (``classified``, what :func:`models.predict.classify_record` gives for these
    beats, when known), families (``families`` when already grouped for these beats), regions and summary.
    ``timings`` (seconds per stage) gets the stages run here; ``waves`` (:attr:`RecordAnalysis.waves`) go to the
    flutter finder's rate check."""
    timings = dict(timings)
    started = time.perf_counter()
    decisions = DecisionRules.from_settings(model.settings)
    if classified is None:
        input_settings = InputSettings.from_dict(model.settings["inputs"])
        pacing = None if record.pacemaker is None else PacingRule()  # a stated pacemaker: its paced beats are Q
        classified = classify_record(model.model, input_settings, record, r_peaks, decisions=decisions, pacing=pacing)
    predictions = replace(classified, reason=reason)
    timings["classify"] = time.perf_counter() - started
    started = time.perf_counter()
    evidence = measure_rhythm_evidence(record, predictions.samples, list(spans), settings, waves,
                                       paced_beats=predictions.paced)
    kept = KeptEvidence(tuple(spans), settings.fibrillation, reads_as_paced(record, predictions.paced), evidence)
    if decisions.af_rule:  # a record-level rule: S calls inside the record's AF episodes become N
        predictions = apply_af_rule(record, predictions, list(spans), settings, evidence)
    families_started = time.perf_counter()
    if families is None:
        families = group_beat_families(record.signal_mv, predictions.samples, record.fs_hz)
    timings["families"] = time.perf_counter() - families_started
    if decisions.family_rule:  # the model's last rule: V calls of a mostly non-ventricular family become N
        predictions = apply_family_rule(predictions, families)
    regions = flag_record_regions(record, predictions.samples, predictions.classes, list(spans), settings,
                                  beat_confidence(predictions), evidence=evidence,
                                  af_excluded_beats=predictions.in_family_mask, paced_beats=predictions.paced_mask)
    timings["regions"] = time.perf_counter() - started - timings["families"]
    started = time.perf_counter()
    summary = add_classifier_notes(summarize_labelled_record(record, regions, predictions.samples,
                                                             predictions.classes, list(spans), settings,
                                                             predictions.in_family_mask, predictions.paced_mask,
                                                             families=families),
                                   predictions,
                                   record.signal_mv.shape[1], primary_lead=record.primary_lead_name, families=families)
    timings["summary"] = time.perf_counter() - started
    return RecordAnalysis(record, predictions, spans, tuple(regions), summary, model_source=model.source,
                          timings_s=timings, families=families, region_settings=settings, rhythm_evidence=kept,
                          waves=waves)


REFRACTORY_MARK = f"beats under {MIN_BEAT_INTERVAL_MS:.0f} ms apart: artefact?"
"""The mark of a headline run or a tally whose beats come closer than any heart's
(:func:`pipeline.regions.is_within_refractory`)."""


def describe_doubtful_run(analysis: RecordAnalysis, start_s: float, kinds: tuple[str, ...]) -> str:
    """`` (low confidence, 0.29)`` after a headline run (the fastest) whose region, the run of 3 beats or more of
    ``kinds`` starting at ``start_s``, is less than :data:`CONFIDENT_EVENT_MIN` sure (beats in noise, doubtful labels:
    the figure needs checking before it is quoted); `` (beats under 200 ms apart: artefact?)`` when its beats come
    closer than any heart's (:func:`pipeline.regions.is_within_refractory`; since session 58 the strips and the event
    list said so, and a second read that session found page 1's headline runs silent); both in one bracket; empty
    otherwise."""
    runs = find_runs_at(analysis, start_s, kinds)
    if not runs:
        return ""
    marks = list_run_marks(min(r.confidence for r in runs), any(is_within_refractory(r) for r in runs))
    return f" ({'; '.join(marks)})" if marks else ""


def describe_run_kind(analysis: RecordAnalysis, start_s: float, kinds: tuple[str, ...]) -> str:
    """`` (idioventricular rhythm, 59 bpm)`` after a headline run (the longest) of 3 beats or more: the rhythm the run
    of ``kinds`` starting at ``start_s`` was called and its rate, as its strip names it; empty otherwise. A clinical
    read of session 51 read record 207's "longest runs: ventricular 55 beats" as sustained ventricular tachycardia: it
    was an escape rhythm at 59 bpm. A run or a couplet whose beats come closer than any heart's is marked
    (:data:`REFRACTORY_MARK`), and one less than :data:`CONFIDENT_EVENT_MIN` sure says so, as the fastest run does (a
    clinical read of session 60 found 116's "longest" ventricular run, 3 beats at confidence 0.18 on a lead off its
    scale, quoted plain)."""
    runs = find_runs_at(analysis, start_s, kinds, min_beats=2)
    if not runs:
        return ""
    run = max(runs, key=lambda r: r.n_beats)
    marks = list_run_marks(run.confidence, is_within_refractory(run))
    if run.n_beats < 3:  # a couplet: named by the count ("2 beats (a couplet)"), only its marks
        return f" ({'; '.join(marks)})" if marks else ""
    rate = f", {run.heart_rate_bpm:.0f} bpm" if np.isfinite(run.heart_rate_bpm) else ""
    return f" ({'; '.join([describe_region(run, analysis.record.fs_hz) + rate] + marks)})"


def list_run_marks(confidence: float, refractory: bool) -> list[str]:
    """The marks of a headline run: ``"low confidence, 0.29"`` under :data:`CONFIDENT_EVENT_MIN`, and
    :data:`REFRACTORY_MARK` where its beats come closer than any heart's; in that order, either or both or none.

    >>> list_run_marks(0.29, True)
    ['low confidence, 0.29', 'beats under 200 ms apart: artefact?']
    >>> list_run_marks(0.9, False)
    []
    """
    return ([f"low confidence, {confidence:.2f}"] if confidence < CONFIDENT_EVENT_MIN else []) + \
        ([REFRACTORY_MARK] if refractory else [])


def find_runs_at(analysis: RecordAnalysis, start_s: float, kinds: tuple[str, ...], min_beats: int = 3
                 ) -> list[Region]:
    """The regions of ``kinds`` of ``min_beats`` or more starting at ``start_s`` (a headline run's time in the
    summary); none when ``start_s`` is NaN."""
    if not np.isfinite(start_s):
        return []
    fs = analysis.record.fs_hz
    return [r for r in analysis.regions
            if r.kind in kinds and r.n_beats >= min_beats and abs(r.start / fs - start_s) < 0.5 / fs]


def flat_record_spans(record: Record, spans: tuple[QualitySpan, ...], with_signal: tuple[bool, ...]
                      ) -> tuple[QualitySpan, ...]:
    """Flat spans over the whole record, one per lead, when no lead has signal (``with_signal``:
    :func:`pipeline.records.find_leads_with_signal`) and the quality spans do not already say so: a record the detector
    calls flat is not readable."""
    if any(with_signal):
        return ()
    n = record.signal_mv.shape[0]
    covered = {s.lead for s in spans if s.start == 0 and s.stop >= n}
    return tuple(QualitySpan("flat", lead, 0, n) for lead in range(record.signal_mv.shape[1]) if lead not in covered)


def relabel_beats(analysis: RecordAnalysis, labels: Mapping[int, str]) -> RecordAnalysis:
    """The analysis with a reader's classes for some beats; regions and summary found again from them.

    ``labels`` maps beat numbers to class letters (:data:`AAMI_CLASSES`) and holds every correction
    made so far, relative to the model's classes (an empty mapping undoes them all). A corrected
    beat's confidence is 1 in the regions.
    """
    return edit_analysis(analysis, labels=labels)


def mark_artefacts(analysis: RecordAnalysis, stretches) -> RecordAnalysis:
    """The analysis with these stretches marked as artefact by a reader (every mark made so far, (start, stop)
    samples at the internal rate; empty removes them all): unreadable, their beats in no event, regions and
    summary found again."""
    return edit_analysis(analysis, artefacts=stretches)


def change_region_settings(analysis: RecordAnalysis, settings: RegionSettings) -> RecordAnalysis:
    """The analysis with its regions and summary found again with other event thresholds (a reader's corrections
    kept); the same analysis when the settings are unchanged."""
    return analysis if settings == analysis.region_settings else edit_analysis(analysis, settings=settings)


def edit_analysis(analysis: RecordAnalysis, *, labels: Mapping[int, str] | None = None, artefacts=None,
                  settings: RegionSettings | None = None, pacemaker: str | None = None,
                  af_edits=None) -> RecordAnalysis:
    """A reader's edits at once (None keeps what the analysis has): every class correction (:func:`relabel_beats`),
    every artefact mark (:func:`mark_artefacts`), the event thresholds, a pacemaker the header did not state
    (``Record.pacemaker``), every word on the atrial rhythm (``af_edits``, :mod:`pipeline.reader_rhythm`: the AF
    rule follows it, so a stretch ruled not AF gets back the model's S calls); one pass of region finding and
    summary."""
    changes = {}
    if pacemaker is not None and analysis.record.pacemaker is None:
        changes["record"] = replace(analysis.record, pacemaker=pacemaker)
    if artefacts is not None:
        changes["artefacts"] = check_artefacts(artefacts, analysis.record.n_samples)
    if af_edits is not None:
        changes["af_edits"] = check_af_edits(af_edits, analysis.record.n_samples)
    edited, settings = replace(analysis, **changes), analysis.region_settings if settings is None else settings
    if labels is not None:
        edited = overlay_labels(edited, labels)
    if (settings != analysis.region_settings or edited.artefacts != analysis.artefacts
            or edited.af_edits != analysis.af_edits):
        kept = keep_rhythm_evidence(edited, settings)  # one evidence for the rule and the regions
        reapplied = reapply_af_rule(edited, settings, kept.evidence)
        if labels is not None:  # over the model's classes as the rule now leaves them: an S call the AF rule gave
            reapplied = overlay_labels(reapplied, labels)  # back and the reader made N stays N (session 63's review)
        return refind_regions(reapplied, settings, kept)
    if "record" not in changes and np.array_equal(edited.classes, analysis.classes):
        return analysis  # nothing to find again (a pacemaker stated by state_pacemaker, which found them already)
    return refind_regions(edited, settings)


def keep_rhythm_evidence(analysis: RecordAnalysis, settings: RegionSettings) -> KeptEvidence:
    """The rhythm evidence for the analysis's current artefact marks, classes (a paced patient's or not) and
    ``settings``: the analysis's own when measured from the same (:class:`KeptEvidence`), else measured again, so that a
    pause threshold or a relabelled beat does not run the VF filter over 24 hours again."""
    spans = tuple(region_spans(analysis))
    paced = find_paced_beats_left(analysis.predictions, analysis.classes)
    as_paced = reads_as_paced(analysis.record, paced)
    kept = analysis.rhythm_evidence
    if (kept is not None and kept.spans == spans and kept.fibrillation == settings.fibrillation
            and kept.as_paced == as_paced):
        return kept
    evidence = measure_rhythm_evidence(analysis.record, analysis.predictions.samples, list(spans), settings,
                                       analysis.waves, paced_beats=paced)
    return KeptEvidence(spans, settings.fibrillation, as_paced, evidence)


REVIEWED_PACEMAKER = "paced beats in the reviewed labels"
"""``Record.pacemaker`` when only a reader's saved labels say the patient is paced
(:func:`state_reviewed_pacemaker`)."""


def state_reviewed_pacemaker(record: Record, saved: Annotations | None) -> Record:
    """``record`` with a pacemaker stated when a reader's saved labels (``saved``, e.g. the ``.ecg`` file of a review)
    hold paced beats (``/``) and no pacemaker is stated: the reader has said the patient is paced, and the analysis
    should treat it so (the pacing rule, no HRV, no ST) rather than write those beats back as unclassifiable."""
    if saved is None or record.pacemaker is not None or not np.any(np.asarray(saved.symbols) == "/"):
        return record
    return replace(record, pacemaker=REVIEWED_PACEMAKER)


def describe_paced_beats(predictions: BeatPredictions, classes: np.ndarray, primary_lead: str | None = None,
                         n_unreadable: int = 0) -> str:
    """The note on the pacing rule's work for a patient with a stated pacemaker: how many of the beats found are
    labelled paced (still Q in ``classes``), or that none was found, with a word that the class counts leave out the
    ``n_unreadable`` beats in unreadable stretches (a QA pass read 299 paced against a Q count of 287); and, when the
    primary lead is not one of
    :data:`pipeline.records.PREFERRED_PRIMARY_LEADS`, that its width limit was set on MLII (record 217 read with V1 as
    its primary lead: 122 beats found paced instead of 1,431, a QA pass of session 44)."""
    paced = find_paced_beats_left(predictions, classes)
    n_paced, n_beats = int(np.sum(paced)), len(predictions)
    if not n_paced:
        text = ("no beat was found paced (wide and on time, or with a pacing spike): the pacemaker did not pace "
                "during the recording, or its paced beats are narrower than the pacing rule's limit on the "
                "classifier's width estimate and show no spike; review the beat classes")
    else:
        text = (f"{n_paced} of the {n_beats} beats found ({100.0 * n_paced / n_beats:.1f} %) are labelled paced (Q; "
                "written / in the annotation file and marked in the beat table): the pacing rule, for a "
                "stated pacemaker, labels a beat paced when it is wide and on time, when a pacing spike precedes it "
                "(where a quarter of the beats show one), or when it is called V in a family of mostly paced beats")
        if n_unreadable:
            text += (f"; the class counts leave out the {count_noun(n_unreadable, 'beat')} in or next to unreadable "
                     "stretches or in ventricular flutter/fibrillation, paced or not")
    if paces_often(paced):  # under that share the summary's note says how the record is read
        text += ("; atrial fibrillation is read from the RR intervals alone, the P-wave segments of a paced rhythm "
                 "being no evidence")
    if primary_lead is not None and primary_lead.strip().upper() not in PREFERRED_PRIMARY_LEADS:
        text += (f"; its width limit was set with MLII as the primary lead, and with {primary_lead} it may find far "
                 "fewer paced beats")
    return text


def state_pacemaker(analysis: RecordAnalysis, model: LoadedModel, pacemaker: str,
                    settings: RegionSettings | None = None) -> RecordAnalysis:
    """The record classified again with a pacemaker its header did not state, so that the pacing rule finds its paced
    beats (:mod:`models.pacing_rule`): the detected beats, quality spans and morphology families, which a pacemaker
    does not change, are kept, and classification, regions and summary are done again. The reader's diary,
    conclusion and strips are kept (corrections, artefact marks and event thresholds are the caller's to apply again,
    :func:`edit_analysis`); ``settings``, the event thresholds, the analysis's by default. The same analysis when a
    pacemaker is stated already."""
    if analysis.record.pacemaker is not None:
        return analysis
    predictions = analysis.predictions
    classified = None
    if predictions.paceable is not None and not PacingRule().own_template:  # the networks' inputs are the same
        classified = mark_paced_beats(undo_record_rules(predictions), predictions.paceable)
    again = classify_detected_beats(replace(analysis.record, pacemaker=pacemaker), model,
                                    predictions.detected_samples, predictions.reason, analysis.quality_spans,
                                    analysis.region_settings if settings is None else settings, analysis.timings_s,
                                    families=analysis.families, classified=classified, waves=analysis.waves)
    return replace(again, diary=analysis.diary, conclusion=analysis.conclusion, reader_strips=analysis.reader_strips)


def edit_beats(analysis: RecordAnalysis, model: LoadedModel, beat_edits, settings: RegionSettings | None = None,
               pacemaker: str | None = None) -> RecordAnalysis:
    """The analysis with a reader's edits of its beat list (every edit so far, in order, :mod:`pipeline.reader_beats`:
    detections that are no QRS deleted, missed QRS complexes added) applied to the detector's beats of ``analysis``
    (one without such edits): the beats classified again (on a Holter recording, only the hours an edit reaches,
    :func:`models.predict.classify_record`'s ``kept``), their families grouped and their events found again with
    ``settings`` (the analysis's by default); with ``pacemaker``, one the header did not state, classified for it as
    :func:`state_pacemaker` does. The reader's diary, conclusion and strips are kept; corrections, artefact marks and
    words on the atrial rhythm are the caller's to apply again (:func:`edit_analysis`: a correction's beat number is
    one of the edited beats)."""
    if analysis.beat_edits:
        raise ValueError("Received an analysis with beat edits already; expected the detector's beats, to which every "
                         "edit so far is applied.")
    record, predictions = analysis.record, analysis.predictions
    detected = predictions.detected_samples
    edits = keep_effective_beat_edits(detected, check_beat_edits(beat_edits, record.n_samples), record.fs_hz)
    positions = apply_beat_edits(detected, edits, record.fs_hz)
    if np.array_equal(positions, detected):  # the edits undo one another
        base = analysis if pacemaker is None else state_pacemaker(analysis, model, pacemaker, settings)
        return replace(base, beat_edits=edits)
    kept = undo_record_rules(predictions)
    if pacemaker is not None and record.pacemaker is None:  # the beats found paced become Q, as state_pacemaker does
        record = replace(record, pacemaker=pacemaker)
        own = predictions.paceable is None or PacingRule().own_template  # every beat classified for the pacing rule
        kept = None if own else mark_paced_beats(kept, predictions.paceable)
    started = time.perf_counter()
    classified = classify_record(model.model, InputSettings.from_dict(model.settings["inputs"]), record, positions,
                                 decisions=DecisionRules.from_settings(model.settings),
                                 pacing=None if record.pacemaker is None else PacingRule(), kept=kept,
                                 changed=np.setxor1d(positions, detected))
    classify_s = time.perf_counter() - started
    waves = None if analysis.waves is None else apply_beat_edits(analysis.waves, edits, record.fs_hz)
    reason = predictions.reason or ("" if len(positions) else DELETED_ALL_REASON)
    again = classify_detected_beats(record, model, positions, reason, analysis.quality_spans,
                                    analysis.region_settings if settings is None else settings,
                                    analysis.timings_s, classified=classified, waves=waves)
    return replace(again, beat_edits=edits, diary=analysis.diary, conclusion=analysis.conclusion,
                   reader_strips=analysis.reader_strips, timings_s={**again.timings_s, "classify": classify_s})


DELETED_ALL_REASON = "every beat found was deleted by the reader"
"""The detection note of a record whose every beat a reader deleted (:func:`edit_beats`)."""


MAX_TIMED_BEAT_EDITS = 3
"""Up to this many deleted (or added) beats, :func:`describe_beat_edits` gives their times; more, the first's."""


def describe_beat_edits(beat_edits, fs_hz: float) -> str:
    """The line on a reader's edits of the beat list (:mod:`pipeline.reader_beats`), for the report and the
    dashboard's overview: how many detections were deleted and missed beats added, with their times up to
    :data:`MAX_TIMED_BEAT_EDITS` of each; an edit its opposite took back counts as neither.

    >>> describe_beat_edits(((3600, False), (7200, True)), 360.0)
    'Beats edited by the reader: 1 detection deleted (00:00:10), 1 missed beat added (00:00:20); every count, \
interval and event uses them'
    >>> describe_beat_edits(((7200, True), (7200, False)), 360.0)
    ''
    """
    added, deleted = [], []
    for sample, is_added in beat_edits:  # an edit taken back by its opposite at the same place counts as neither
        done, undone = (added, deleted) if is_added else (deleted, added)
        if sample in undone:
            undone.remove(sample)
        else:
            done.append(sample)
    parts = []
    for samples, noun, done in ((sorted(deleted), "detection", "deleted"), (sorted(added), "missed beat", "added")):
        if samples:
            times = (", ".join(format_hms(s / fs_hz) for s in samples) if len(samples) <= MAX_TIMED_BEAT_EDITS
                     else f"the first at {format_hms(samples[0] / fs_hz)}")
            parts.append(f"{count_noun(len(samples), noun)} {done} ({times})")
    if not parts:
        return ""
    return f"Beats edited by the reader: {', '.join(parts)}; every count, interval and event uses them"


def reapply_af_rule(analysis: RecordAnalysis, settings: RegionSettings,
                    evidence: RhythmEvidence | None = None) -> RecordAnalysis:
    """The model's labels with its atrial-fibrillation rule (:mod:`models.af_rule`) applied again for these event
    settings and the reader's artefact marks, which decide the AF episodes (``evidence``, the rhythm evidence, when
    already measured with them); the reader's corrections are kept. The same analysis when the model has no such rule
    or nothing changes."""
    predictions = analysis.predictions
    if predictions.in_af is None:
        return analysis
    before_rule = replace(undo_record_rules(predictions), in_family=predictions.in_family)
    after = apply_af_rule(analysis.record, before_rule, region_spans(analysis), settings, evidence,
                          af_edits=analysis.af_edits)
    if np.array_equal(after.in_af, predictions.in_af):
        return analysis
    if predictions.in_family is not None:  # the family rule follows the AF rule, as in analyse_record
        after = apply_family_rule(after, analysis.families)
    reviewed = analysis.reviewed_classes
    if reviewed is not None:
        reviewed = np.where(analysis.reviewed_mask, reviewed, after.classes)
        reviewed = reviewed if np.any(reviewed != after.classes) else None
    return replace(analysis, predictions=after, reviewed_classes=reviewed)


MAX_TIMED_AF_EDITS = 3
"""Up to this many stretches of one kind (stated, ruled out), :func:`describe_af_edits` gives their times; more, their
total length."""


def net_af_edits(af_edits) -> dict[bool, np.ndarray]:
    """The stretches a reader's words on the atrial rhythm leave stated AF/flutter (True) and ruled out (False), once
    later words have overridden earlier ones: (n, 2) [start, stop) samples each, merged and in order.

    >>> {k: v.tolist() for k, v in net_af_edits(((0, 100, True), (50, 150, False), (140, 200, True))).items()}
    {True: [[0, 50], [140, 200]], False: [[50, 140]]}
    """
    said = {True: np.empty((0, 2), np.int64), False: np.empty((0, 2), np.int64)}
    for a, b, is_af in af_edits:  # a later word counts where two overlap
        said[is_af] = merge_intervals(np.concatenate([said[is_af], [[a, b]]]))
        said[not is_af] = subtract_intervals(said[not is_af], np.array([[a, b]]))
    return said


def describe_af_edits(af_edits, fs_hz: float) -> str:
    """The line on a reader's words on the atrial rhythm (:mod:`pipeline.reader_rhythm`), for the report and the
    dashboard's overview: the stretches that stand once later words have overridden earlier ones, with their times
    (a clinical read of session 63 found a length alone, "ruled out over 00:00:31", and overridden words added in).

    >>> describe_af_edits(((0, 3600, False), (7200, 28800, True)), 360.0)  # doctest: +ELLIPSIS
    'Atrial rhythm corrected by the reader: atrial fibrillation/flutter stated at 00:00:20-00:01:20, ruled out at ...'
    >>> describe_af_edits(((7200, 28800, True), (7200, 28800, False)), 360.0)  # doctest: +ELLIPSIS
    'Atrial rhythm corrected by the reader: atrial fibrillation/flutter ruled out at 00:00:20-00:01:20; the AF ...'
    >>> describe_af_edits(tuple((k * 3600, k * 3600 + 360, False) for k in range(4)), 360.0)  # doctest: +ELLIPSIS
    '... ruled out in 4 stretches, 00:00:04 in all; ...'
    """
    said = net_af_edits(af_edits)
    parts = []
    for is_af, word in ((True, "stated"), (False, "ruled out")):
        rows = said[is_af]
        if len(rows) > MAX_TIMED_AF_EDITS:
            parts.append(f"{word} in {len(rows)} stretches, {format_duration(np.sum(np.diff(rows, axis=1)) / fs_hz)} "
                         "in all")
        elif len(rows):
            parts.append(f"{word} at " + ", ".join(f"{format_duration(a // fs_hz)}-{format_duration(b // fs_hz)}"
                                                   for a, b in rows))  # whole seconds down, as the ECG tab lists them
    return (f"Atrial rhythm corrected by the reader: atrial fibrillation/flutter {', '.join(parts)}; the AF episodes "
            "and burden use it")


def overlay_labels(analysis: RecordAnalysis, labels: Mapping[int, str]) -> RecordAnalysis:
    """The analysis with the reader's ``labels`` over the model's current classes (no region found again)."""
    classes = check_labels(analysis, labels)
    return replace(analysis, reviewed_classes=classes if np.any(classes != analysis.predictions.classes) else None)


def check_labels(analysis: RecordAnalysis, labels: Mapping[int, str]) -> np.ndarray:
    """The model's classes with the reader's ``labels`` (beat number -> class letter) over them, checked."""
    n_beats = len(analysis.predictions)
    classes = analysis.predictions.classes.copy()
    for index, label in labels.items():
        if not 0 <= int(index) < n_beats:
            raise ValueError(f"Received beat number {index}; the record has beats 0 to {n_beats - 1}.")
        if label not in AAMI_CLASSES:
            raise ValueError(f"Received class {label!r} for beat {index}; expected one of {', '.join(AAMI_CLASSES)}.")
        classes[int(index)] = label
    return classes


def check_artefacts(stretches, n_samples: int) -> tuple[tuple[int, int], ...]:
    """Artefact marks as sorted, disjoint (start, stop) samples within the record; ``ValueError`` otherwise."""
    rows = np.asarray(list(stretches), dtype=np.float64).reshape(-1, 2)
    if rows.size and (not np.all(np.isfinite(rows)) or rows.min() < 0 or rows.max() > n_samples
                      or np.any(rows[:, 1] <= rows[:, 0])):
        raise ValueError(f"Received artefact stretches {rows.tolist()}; expected (start, stop) samples with "
                         f"0 <= start < stop <= {n_samples}.")
    return tuple((int(a), int(b)) for a, b in merge_intervals(np.round(rows).astype(np.int64)))


def region_spans(analysis: RecordAnalysis) -> list[QualitySpan]:
    """The quality spans the regions are found from: the signal's, and a reader's artefact marks on every lead."""
    n_leads = analysis.record.signal_mv.shape[1]
    marks = [QualitySpan(ARTEFACT_KIND, lead, start, stop) for start, stop in analysis.artefacts
             for lead in range(n_leads)]
    return list(analysis.quality_spans) + marks


def find_paced_beats_left(predictions: BeatPredictions, classes: np.ndarray) -> np.ndarray:
    """Boolean per beat: found paced by the pacing rule and still Q in ``classes``, a reader's corrections included (a
    reader who relabels 217's paced family N says they are not paced: the paced rhythm, the paced share that decides
    whether HRV, ST and QT are assessed and how AF is read, and the paced-beat note all follow; a QA pass of session
    46 found the note counting 9 paced beats while HRV was left out for 1,561)."""
    return predictions.paced_mask & (np.asarray(classes) == "Q")


def refind_regions(analysis: RecordAnalysis, settings: RegionSettings,
                   kept: KeptEvidence | None = None) -> RecordAnalysis:
    """Regions and summary from the analysis's current classes and marks (a corrected beat's confidence is 1; the AF
    evidence leaves out the family rule's N beats a reader has not corrected, as :func:`analyse_record` does;
    ``kept``, the rhythm evidence for these marks and settings, :func:`keep_rhythm_evidence` when None)."""
    kept = keep_rhythm_evidence(analysis, settings) if kept is None else kept
    confidence = np.where(analysis.reviewed_mask, 1.0, beat_confidence(analysis.predictions))
    af_excluded = analysis.predictions.in_family_mask & ~analysis.reviewed_mask
    regions, summary = find_record_regions(analysis.record, analysis.predictions.samples, analysis.classes,
                                           region_spans(analysis), settings, confidence, af_excluded_beats=af_excluded,
                                           paced_beats=find_paced_beats_left(analysis.predictions, analysis.classes),
                                           evidence=kept.evidence, families=analysis.families,
                                           af_edits=analysis.af_edits)
    summary = add_classifier_notes(summary, analysis.predictions, analysis.record.signal_mv.shape[1], analysis.classes,
                                   primary_lead=analysis.record.primary_lead_name, families=analysis.families)
    return replace(analysis, regions=tuple(regions), summary=summary, region_settings=settings,
                   rhythm_evidence=kept)


ONE_LEAD_DETECTION = ("from one lead the detector can miss normal beats that are small in it beside large ventricular "
                      "ones (MIT-BIH 208 from V1 alone: 73 % of its beats found; BENCHMARKS.md section 14)")
"""The detector's caveat for a record (or most of one) read from one lead (a QA pass of session 47)."""


def add_classifier_notes(summary: RecordSummary, predictions: BeatPredictions, n_leads: int,
                         classes: np.ndarray | None = None, *, primary_lead: str | None = None,
                         families: np.ndarray | None = None) -> RecordSummary:
    """The summary with notes on the classifier's work: a one-lead record (the network reads two leads), beats of a
    two-lead record classified from one lead where the other was missing, the beats the pacing rule labelled paced
    (of ``classes``, the final ones, a reader's where corrected; the model's by default; ``primary_lead``, the
    record's, says whether its width limit applies as measured), the beats its
    atrial-fibrillation and morphology-family rules labelled N, when they did, and, given the beats' morphology
    ``families``, the families labelled both N and V (:func:`pipeline.families.find_split_families`)."""
    notes = []
    if n_leads < N_LEADS:
        notes.append("beats classified from one lead: the classifier reads this lead as both of its two, and from one "
                     "lead it finds fewer ectopic beats than from two (the model card's one-lead figures); review "
                     f"them, and check the beat marks: {ONE_LEAD_DETECTION}")
    n_one_lead = int(predictions.one_lead_mask.sum())
    if n_one_lead and n_leads >= N_LEADS:
        mostly = n_one_lead > len(predictions) / 2  # the detector's caveat too, when most of the record is one lead's
        notes.append(f"{count_noun(n_one_lead, 'beat')} where one lead was missing or flat "
                     f"{'was' if n_one_lead == 1 else 'were'} classified from the other lead alone, from which the "
                     "classifier finds fewer ectopic beats than from two (the beat table marks them); review "
                     f"them{', and check the beat marks: ' + ONE_LEAD_DETECTION if mostly else ''}")
    if predictions.paced is not None:  # a stated pacemaker
        notes.append(describe_paced_beats(predictions, predictions.classes if classes is None else classes,
                                          primary_lead, summary.n_beats_unreadable))
    n_in_af = int(predictions.in_af_mask.sum())
    if n_in_af:
        lie, are = ("lies", "is") if n_in_af == 1 else ("lie", "are")
        notes.append(f"{count_noun(n_in_af, 'beat')} the classifier called supraventricular ectopic {lie} inside "
                     f"atrial fibrillation or flutter and {are} labelled N: no beat is an atrial premature beat in AF "
                     "(supraventricular ectopy is counted outside AF only)")
    n_in_family = int(predictions.in_family_mask.sum())
    if n_in_family:
        is_, them, its = ("is", "it", "its") if n_in_family == 1 else ("are", "them", "their")
        notes.append(f"{count_noun(n_in_family, 'beat')} first called ventricular {is_} counted as normal (N), "
                     f"because {its} QRS matches a family of like beats mostly not called ventricular: review {them} "
                     "with that family on the dashboard")
    split = [] if families is None else find_split_families(families, predictions.classes if classes is None
                                                                 else classes)
    if split:
        listed = ", ".join(f"family {family} ({n} beats: N {n_normal}, V {n_ventricular})"
                           for family, n, n_normal, n_ventricular in split)
        notes.append(f"{count_noun(len(split), 'morphology family', 'morphology families')} of one QRS shape each "
                     f"{'is' if len(split) == 1 else 'are'} labelled both N and V, {listed}: the classifier reads "
                     "like beats two ways; review each family at once, under Review labels")
    return replace(summary, notes=summary.notes + tuple(notes)) if notes else summary


def read_artefacts(analysis: RecordAnalysis, annotations: Annotations) -> tuple[tuple[int, int], ...]:
    """A reader's artefact marks recovered from an annotation file saved after a review (``NAME.ecg``).

    The file marks every unreadable stretch between ``~`` annotations; those the product finds unreadable itself
    (in ``analysis``, without marks) are taken out, and what is left, in pieces of at least
    :data:`MIN_ARTEFACT_S`, was marked by the reader.
    """
    fs = analysis.record.fs_hz
    saved = quality_mark_intervals(annotations, analysis.record.n_samples)
    own = merge_intervals([(r.start, r.stop) for r in analysis.regions if r.kind == "unreadable"])
    left = subtract_intervals(saved, own)
    return tuple((int(a), int(b)) for a, b in left if b - a >= MIN_ARTEFACT_S * fs)


REVIEW_MAX_UNMATCHED = 0.2
"""Largest share of a saved review file's beats that may match no detected beat: the file the product saved for a
record holds the detected beats themselves, so more than this means the file is another record's, or not a review
file at all (a QA pass found a few bytes of garbage read as 14 beats, and another record's labels taken as 90
corrections)."""


class ReviewFileMismatchError(EcgInputError):
    """A saved review file (``NAME.ecg``) whose beats do not fit the record's."""


def apply_saved_beat_edits(analysis: RecordAnalysis, model: LoadedModel, annotations: Annotations) -> RecordAnalysis:
    """The analysis with the reader's edits of the beat list kept in a saved review file's notes
    (:func:`pipeline.rhythm_annotations.read_beat_edit_notes`, :func:`edit_beats`), first of all a review's edits:
    the file's beats are the edited ones, which its labels (:func:`read_corrections`) are then paired with.
    Edits made in another program, which leaves no note (:func:`read_listed_beat_edits`), follow the noted ones.
    """
    record = analysis.record
    noted = read_beat_edit_notes(annotations.samples, annotations.aux_notes, record.fs_hz, record.n_samples)
    edited = edit_beats(analysis, model, noted) if noted else analysis
    listed = read_listed_beat_edits(edited, annotations)
    return edit_beats(analysis, model, noted + listed) if listed else edited


def read_listed_beat_edits(analysis: RecordAnalysis, annotations: Annotations) -> tuple[BeatEdit, ...]:
    """Edits of the beat list that a review file's beats show but its notes do not, as when a reader edited the saved
    ``NAME.ecg`` in WAVE or another annotation editor (a gap of session 64): a beat of the analysis that no beat of
    the file pairs with (within 150 ms, inside the span of the file's annotations, or anywhere for a file the product
    wrote, whose end note says it lists every beat: the last beat deleted in WAVE was missed, a code review) was
    deleted; a beat of the file
    that pairs with none of the analysis's was added, on its QRS as the dashboard adds one
    (:func:`pipeline.reader_beats.place_missed_beat`; where no QRS can take it, it is left out, and counted by
    :func:`read_corrections`). The deletions come first, so that a beat moved by more than 150 ms is both.

    Raises
    ------
    ReviewFileMismatchError
        More than :data:`REVIEW_MAX_UNMATCHED` of the file's beats, or of the analysis's within its span, pair with
        none: the file is another record's, or covers part of this one.
    """
    samples, _ = annotated_beats(annotations)
    if not len(samples):
        return ()
    record, predictions = analysis.record, analysis.predictions
    whole = is_review_file(annotations.aux_notes)  # the product's file: every beat, to the end
    span = (0, record.n_samples) if whole else (int(annotations.samples.min()), int(annotations.samples.max()))
    unlisted, unfound = compare_beat_lists(samples, predictions.samples, record.fs_hz, span)
    check_review_fit(record.name, len(unfound), len(samples), "of its {total} beats match no beat found in it")
    inside = (predictions.samples >= span[0]) & (predictions.samples <= span[1])
    if not whole:  # another program's file, a reference .atr: no beats in noise or ventricular flutter (207's '!')
        unmarked = ~(beats_in_kind(analysis.regions, "unreadable", len(inside))
                     | beats_in_kind(analysis.regions, "ventricular_flutter_fibrillation", len(inside)))
        unlisted, inside = unlisted[unmarked[unlisted]], inside & unmarked
    inside = int(np.count_nonzero(inside))
    check_review_fit(record.name, len(unlisted), inside, "of the {total} beats found in it have no beat in the file")
    detected = predictions.detected_samples
    kept = np.delete(detected, unlisted)
    deleted = tuple((int(detected[i]), False) for i in unlisted)
    added = []
    for sample in samples[unfound]:
        try:
            placed = place_missed_beat(record.signal_mv, record.fs_hz, record.primary_lead, int(sample), kept)
        except MissedBeatError:
            continue
        kept = np.sort(np.append(kept, placed))
        added.append((placed, True))
    return deleted + tuple(added)


def check_review_fit(name: str, unmatched: int, total: int, what: str) -> None:
    """Raise :class:`ReviewFileMismatchError` when more than :data:`REVIEW_MAX_UNMATCHED` of ``total`` beats are
    ``unmatched`` (``what``, with ``{total}``, says which)."""
    if unmatched > REVIEW_MAX_UNMATCHED * total:
        raise ReviewFileMismatchError(
            f"The review file of {name} does not fit this recording: {unmatched} {what.format(total=total)} (at most "
            f"{100 * REVIEW_MAX_UNMATCHED:g} % may), so it is another record's labels, not a saved review, or one that "
            "covers part of the recording; its labels were not used. Give the file saved for this recording.")


def apply_saved_af_edits(analysis: RecordAnalysis, annotations: Annotations) -> RecordAnalysis:
    """The analysis with the reader's words on the atrial rhythm kept in a saved review file's notes
    (:func:`pipeline.rhythm_annotations.read_af_edit_notes`), before its beat labels are read
    (:func:`read_corrections`): the S calls the AF rule then gives back or takes are not the reader's corrections.
    Words made in another program, which leaves no note, are read last (:func:`read_listed_af_edits`)."""
    record = analysis.record
    return edit_analysis(analysis, af_edits=read_af_edit_notes(annotations.samples, annotations.aux_notes,
                                                               record.fs_hz, record.n_samples))


LISTED_AF_EDIT_MIN_S = 1.0
"""Shortest difference between a review file's AF/flutter and the analysis's that :func:`read_listed_af_edits` reads
as a reader's word: a file written at another rate moves a rhythm annotation by a sample or two."""


def read_listed_af_edits(analysis: RecordAnalysis, annotations: Annotations) -> tuple[AfEdit, ...]:
    """Words on the atrial rhythm that a review file's rhythm annotations show but its notes do not, as when a reader
    edited the saved ``NAME.ecg`` in WAVE (a gap of session 63): where the file's ``(AFIB`` or ``(AFL`` stretches
    differ from those its notes say the product wrote (:func:`pipeline.rhythm_annotations.written_af_notes`),
    AF/flutter is stated where only the annotations have it and ruled out where only the notes do, each difference of
    at least :data:`LISTED_AF_EDIT_MIN_S`. A file without those notes (another program's, a reference ``.atr``, one
    saved before session 65), or without rhythm annotations, says nothing of the rhythm. Only AF/flutter is read: the
    other rhythms follow the beats. (A first version compared the annotations with what the analysis reading the file
    would write, which differs for reasons no reader gave: another primary lead, pacemaker, model or thresholds; a
    code review of session 65.)"""
    record = analysis.record
    n = record.n_samples
    written = read_written_af(annotations.samples, annotations.aux_notes, record.fs_hz, n)
    if written is None or not np.any((annotations.symbols == "+")
                                     & [str(a).startswith("(") for a in annotations.aux_notes]):
        return ()
    listed = find_af_intervals(annotations, n)
    shortest = LISTED_AF_EDIT_MIN_S * record.fs_hz
    edits = [(int(a), int(b), is_af) for is_af, spans in ((False, subtract_intervals(written, listed)),
                                                          (True, subtract_intervals(listed, written)))
             for a, b in spans if b - a >= shortest]
    return tuple(sorted(edits))


def read_corrections(analysis: RecordAnalysis, annotations: Annotations) -> tuple[dict[int, str], int]:
    """A reader's corrections recovered from a beat annotation file, e.g. the ``NAME.ecg`` saved after a review.

    Each beat annotation (MIT-BIH symbols, mapped to the AAMI classes; a beat outside them is Q) is
    paired with a detected beat within 150 ms (EC57 matching); where its class differs from the
    model's, it is a correction. Returns the corrections (beat number -> class) and the number of
    annotated beats that matched no detected beat (left out).

    Raises
    ------
    ReviewFileMismatchError
        More than :data:`REVIEW_MAX_UNMATCHED` of the file's beats match no detected beat.
    """
    samples, classes = annotated_beats(annotations)
    file_index, beat_index = match_beats(samples, analysis.predictions.samples, analysis.record.fs_hz)
    unmatched = len(samples) - len(file_index)
    check_review_fit(analysis.record.name, unmatched, len(samples), "of its {total} beats match no beat found in it")
    model = analysis.predictions.classes
    corrections = {int(b): str(classes[f]) for f, b in zip(file_index, beat_index) if classes[f] != model[b]}
    return corrections, unmatched


ATRIAL_RULE_PRECISION = 0.56
"""Share of the beats the atrial-origin rule makes S that are reference S beats, DS1 nested cross-validation end to
end: the most confidence such a beat gets (:func:`beat_confidence`). Measured for row G's rule, seeds 0-2 pooled (142 of
252; ``PYTHONPATH=. .venv/bin/python experiments/rule_precision.py``). The rule that asks for a premature beat (session
55, EXPERIMENTS.md row BL) added 14 right calls of 22 at seeds 18-20 (``experiments/atrial_prematurity_study.py
--precision``, from the net change of the S column): 0.64, but from so few calls (a 95 % interval of about 0.43-0.80)
that the lower figure of the larger count is kept."""


def beat_confidence(predictions: BeatPredictions) -> np.ndarray:
    """The model's confidence in each beat's delivered class: the network's probability of that class; where a rule
    moved the beat between N and S (the atrial-origin and supraventricular run rules, N -> S; the atrial-fibrillation
    rule, S -> N), p(N) + p(S), the network's confidence that the beat is conducted from above the ventricles, the
    rule having decided which of the two (a browser check found the network's p(S) alone made every S event of 232
    look unsure, 0.01-0.12, though its S beats are right). An N the sinus-conduction rule made of a V call keeps the
    network's p(N), which shows it as unsure, for the reader to check. 1 where the probabilities are NaN (a beat with
    a gap), and for a beat the pacing rule made Q (a stated pacemaker and the beat's width decided it, not the
    networks, which never saw a paced beat).

    A beat the atrial-origin rule made S (and left S) gets at most :data:`ATRIAL_RULE_PRECISION`: that rule reads the
    P wave and the beat's prematurity, and on DS1 nested little more than half of its calls were right, where the run
    rule's all are; three clinical reads of session 54 found "confidence 1.00" on its S events over beats the reference
    calls N (232, 121, 220). Before p(N) + p(S), the top probability was used: a beat the atrial rule made S carried the
    network's confidence in N.
    """
    if len(predictions) == 0:
        return np.empty(0, np.float64)
    probabilities = np.asarray(predictions.probabilities, np.float64)
    confidence = probabilities[np.arange(len(probabilities)), predictions.class_indices]
    supraventricular = probabilities[:, AAMI_CLASSES.index("N")] + probabilities[:, _S]
    moved = predictions.relabelled_mask | predictions.in_run_mask | predictions.in_af_mask
    confidence = np.where(moved, supraventricular, confidence)
    atrial = predictions.relabelled_mask & (predictions.class_indices == _S)
    confidence = np.where(atrial, np.minimum(confidence, ATRIAL_RULE_PRECISION), confidence)
    confidence = np.where(predictions.paced_mask, np.nan, confidence)
    return np.where(np.isfinite(confidence), np.clip(confidence, 0.0, 1.0), 1.0)


def family_rows(analysis: RecordAnalysis) -> list[dict]:
    """Per morphology family (largest first, ungrouped last): beats, beats per current class, the model's mean
    confidence in its classes (:func:`beat_confidence`) over the family, and the beats a reader corrected."""
    if analysis.families is None or len(analysis.families) == 0:
        return []
    rows = summarize_families(analysis.families, analysis.classes, AAMI_CLASSES)
    confidence, corrected = beat_confidence(analysis.predictions), analysis.reviewed_mask
    for row in rows:
        members = analysis.families == row["family"]
        row["confidence"] = float(np.mean(confidence[members]))
        row["corrected"] = int(np.sum(corrected[members]))
    return rows


def beat_table(analysis: RecordAnalysis) -> pd.DataFrame:
    """One row per beat: time, sample (at the file's rate), class, unreadable flag, probabilities, RR before/after.

    ``counted`` marks the beats the summary's beat counts and burdens cover: not those in or next to unreadable
    signal, nor those in ventricular flutter/fibrillation (``unreadable`` marks the first kind only).

    ``class`` is the reader's class where corrected (``reviewed``), ``model_class`` the model's;
    ``family`` the morphology family (-1 ungrouped or not formed). Missing values (the RR before the
    first beat, probabilities of a beat with a signal gap) are NaN.
    """
    record, predictions = analysis.record, analysis.predictions
    samples = predictions.samples
    n = len(samples)
    rr = np.diff(samples) / record.fs_hz
    probabilities = predictions.probabilities.astype(np.float64)
    columns = {
        "beat": np.arange(n),
        "time_s": np.round(samples / record.fs_hz, 4),
        "sample": np.round(samples * (record.source_fs_hz / record.fs_hz)).astype(np.int64),
        "class": analysis.classes,
        "model_class": predictions.classes,
        "reviewed": analysis.reviewed_mask,
        "family": analysis.families if analysis.families is not None else np.full(n, -1, np.int64),
        "unreadable": beats_in_kind(analysis.regions, "unreadable", n),
        "counted": summary_context(list(analysis.regions), samples, analysis.classes, record.fs_hz,
                                   region_spans(analysis), record.n_samples, analysis.region_settings,
                                   record.signal_mv.shape[1]).readable,
        "atrial_rule": predictions.relabelled_mask,
        "conduction_rule": predictions.conducted_mask,
        "run_rule": predictions.in_run_mask,
        "wide_qrs_rule": predictions.wide_mask,
        "fusion_rule": predictions.fused_mask,
        "pacing_rule": predictions.paced_mask,
        "af_rule": predictions.in_af_mask,
        "family_rule": predictions.in_family_mask,
        "one_lead": predictions.one_lead_mask,
    }
    columns.update({f"p_{c}": np.round(probabilities[:, k], 4) for k, c in enumerate(AAMI_CLASSES)})
    columns["rr_before_s"] = np.round(np.concatenate([[np.nan], rr]), 4) if n else np.empty(0)
    columns["rr_after_s"] = np.round(np.concatenate([rr, [np.nan]]), 4) if n else np.empty(0)
    return pd.DataFrame(columns)


def add_diary(analysis: RecordAnalysis, entries) -> RecordAnalysis:
    """The analysis with the patient's diary (entries within the record, put in time order); the same analysis
    object when its diary is that already (the dashboard keeps figures per analysis object across reruns)."""
    entries = tuple(sorted(entries, key=lambda e: e.time_s))
    if entries == analysis.diary:
        return analysis
    duration_s = analysis.record.duration_s
    outside = [e for e in entries if not 0 <= e.time_s <= duration_s]
    if outside:
        raise ValueError(f"Received a diary entry at {outside[0].time_s} s; expected times within the record "
                         f"(0 to {duration_s:.0f} s).")
    return replace(analysis, diary=entries)


def add_summary_notes(analysis: RecordAnalysis, notes) -> RecordAnalysis:
    """The analysis with ``notes`` after its summary's (what the batch learnt of a record beyond its analysis: a diary
    line left out). An edit that finds the summary again drops them."""
    return replace(analysis, summary=replace(analysis.summary, notes=analysis.summary.notes + tuple(notes)))


def add_conclusion(analysis: RecordAnalysis, text: str) -> RecordAnalysis:
    """The analysis with the reader's conclusion (:func:`app.conclusion.check_conclusion`; too long a text raises
    :class:`app.conclusion.ConclusionError`)."""
    return replace(analysis, conclusion=check_conclusion(text))


def add_reader_strips(analysis: RecordAnalysis, strips) -> RecordAnalysis:
    """The analysis with the strips the reader chose for the report (:func:`app.reader_strips.check_reader_strips`;
    a strip outside the record, too long a title or too many strips raise
    :class:`app.reader_strips.ReaderStripError`)."""
    return replace(analysis, reader_strips=check_reader_strips(strips, analysis.record.n_samples))


def reader_strip_rows(analysis: RecordAnalysis) -> list[dict]:
    """The chosen strips as plain rows: start and end (seconds), clock time when the header gives the start, title."""
    fs_hz, start_time = analysis.record.fs_hz, analysis.record.start_time
    rows = []
    for strip in analysis.reader_strips:
        start_s = strip.start / fs_hz
        end_s = min(start_s + READER_STRIP_S, analysis.record.duration_s)
        rows.append({"start_s": round(start_s, 3), "end_s": round(end_s, 3),
                     "clock_time": format_clock_time(start_s, start_time) or None,
                     "title": strip.title})
    return rows


def diary_findings(analysis: RecordAnalysis) -> tuple[DiaryFinding, ...]:
    """What the ECG showed at each diary entry, from the current events (a reader's corrections and marks
    included)."""
    return correlate_diary(analysis.diary, analysis.regions, analysis.predictions.samples, analysis.record.fs_hz)


def diary_rows(analysis: RecordAnalysis) -> list[dict]:
    """The diary entries with their findings as plain rows (:func:`pipeline.diary.finding_to_dict`)."""
    return [finding_to_dict(f, analysis.record.fs_hz, analysis.record.start_time) for f in diary_findings(analysis)]


def repolarisation_exclusions(analysis: RecordAnalysis) -> tuple[list, np.ndarray]:
    """What the summary's ST and QT analyses left out of this analysis (:func:`pipeline.region_eval.st_exclusions`
    of its regions, quality spans and a reader's artefact marks)."""
    return st_exclusions(list(analysis.regions), region_spans(analysis), analysis.region_settings)


def st_template(analysis: RecordAnalysis) -> np.ndarray | None:
    """The dominant beat the ST measurement points were set on (:func:`pipeline.st.dominant_template`, the beats
    the summary's ST analysis measured); None without such beats."""
    spans, unreadable = repolarisation_exclusions(analysis)
    return dominant_template(analysis.record.signal_mv, analysis.record.fs_hz, analysis.predictions.samples,
                             analysis.classes, spans, unreadable, analysis.region_settings.st)


def st_episode_beats(analysis: RecordAnalysis, episode) -> tuple[np.ndarray, np.ndarray] | None:
    """The dominant beat and the beat at an ST episode's largest change, on its lead
    (:func:`pipeline.st.episode_beats`)."""
    spans, unreadable = repolarisation_exclusions(analysis)
    return episode_beats(analysis.record.signal_mv, analysis.record.fs_hz, analysis.predictions.samples,
                         analysis.classes, analysis.summary.st, episode, spans, unreadable, analysis.region_settings.st)


def qt_dominant_beat(analysis: RecordAnalysis) -> tuple[np.ndarray, float] | None:
    """The QT lead's dominant beat and its T end (:func:`pipeline.qt.dominant_t_wave`); None when QT was not
    assessed."""
    spans, unreadable = repolarisation_exclusions(analysis)
    return dominant_t_wave(analysis.record.signal_mv, analysis.record.fs_hz, analysis.predictions.samples,
                           analysis.classes, analysis.summary.st, analysis.summary.qt, spans, unreadable,
                           analysis.region_settings.st, analysis.region_settings.qt)


def region_rows(analysis: RecordAnalysis) -> list[dict]:
    """The flagged regions as plain rows (times in seconds, samples at the internal rate), each with the leads noisy
    over it (``noisy_leads``, names joined by ``;``, empty for none: :func:`noisy_lead_names`)."""
    rows = regions_to_rows(list(analysis.regions), analysis.record.fs_hz)
    return [{**row, "noisy_leads": ";".join(names)} for row, names in zip(rows, noisy_lead_names(analysis))]


MIN_HIDDEN_RUN_BEATS = 3
"""Beats called V in a row inside an unreadable stretch that the report shows for a reader to check: the shortest
ventricular run (EC57)."""


def find_hidden_ventricular_runs(analysis: RecordAnalysis) -> list[tuple[Region, int]]:
    """The unreadable stretches holding :data:`MIN_HIDDEN_RUN_BEATS` or more beats called V in a row, each with its
    longest such run (beats). No event is claimed in unreadable signal, and the noise rule flags a run of wide beats
    of changing shape as noise (:func:`pipeline.quality.spare_beat_trains` gives back only runs of one shape): a
    clinical read (session 54) found real ventricular tachycardias of MIT-BIH 200, 205 and 221 in such stretches, with
    "none found: ventricular tachycardia" on the report. They are shown for checking, not counted."""
    classes = np.asarray(analysis.classes)
    out = []
    for region in analysis.regions:
        if region.kind == "unreadable" and region.n_beats >= MIN_HIDDEN_RUN_BEATS:
            runs = mask_runs(classes[region.beats] == "V")
            longest = int(np.max(runs[:, 1] - runs[:, 0])) if len(runs) else 0
            if longest >= MIN_HIDDEN_RUN_BEATS:
                out.append((region, longest))
    return out


def noisy_lead_names(analysis: RecordAnalysis, regions=None) -> list[tuple[str, ...]]:
    """For each of ``regions`` (the record's by default), the leads with a quality problem over the signal it was read
    from, by name; none when no lead or every lead has one (:func:`pipeline.regions.find_noisy_leads`)."""
    record = analysis.record
    found = find_noisy_leads(analysis.regions if regions is None else regions, list(analysis.quality_spans),
                             record.signal_mv.shape[1], record.fs_hz)
    return [tuple(record.lead_names[lead] for lead in leads) for leads in found]


def hour_rows(analysis: RecordAnalysis) -> list[dict]:
    """The hourly table's rows (:func:`pipeline.summary.hour_to_dict`), each with the clock time it starts at when
    the header gives the start (``clock_time``, hh:mm:ss; None otherwise), as the report and the dashboard label
    them."""
    start = analysis.record.start_time
    return [{"clock_time": format_clock_time(hour.start_s, start) or None, **hour_to_dict(hour)}
            for hour in analysis.summary.hourly]


def summary_dict(analysis: RecordAnalysis) -> dict:
    """The summary as JSON-ready content, with what was analysed and by which model."""
    record = analysis.record
    return {
        "record": record.name,
        "leads": list(record.lead_names),
        "unused_leads": list(record.unused_leads),
        "primary_lead": record.primary_lead_name,
        "fs_hz": record.fs_hz,
        "source_fs_hz": record.source_fs_hz,
        "model": analysis.model_source,
        "detection_note": analysis.predictions.reason,
        "reviewed_beats": int(analysis.reviewed_mask.sum()),
        "reader_beat_edits": [{"time_s": sample / analysis.record.fs_hz, "added": added}
                              for sample, added in analysis.beat_edits],
        "reader_af_edits": [{"start_s": a / analysis.record.fs_hz, "stop_s": b / analysis.record.fs_hz,
                             "atrial_fibrillation": is_af} for a, b, is_af in analysis.af_edits],
        **summary_to_dict(analysis.summary),
        "hourly": hour_rows(analysis),
        "event_settings": analysis.region_settings.to_dict(),
        "start_time": None if record.start_time is None else record.start_time.isoformat(),
        "pacemaker": record.pacemaker,
        "diary": diary_rows(analysis),
        "reader_conclusion": analysis.conclusion or None,
        "reader_strips": reader_strip_rows(analysis),
    }


MAX_LORENZ_POINTS = 20_000
"""Most points of the RR scatter plot: every beat other than N, then evenly spaced N beats up to this."""


UNCOUNTED_KINDS = ("unreadable",) + WAVE_KINDS
"""Stretches whose detections are not counted as beats (noise, flutter or fibrillation waves): the RR scatter and
histogram leave out their intervals, as the summary's counts leave out their beats (a clinical read of the PDF reports,
session 47, found record 207's flutter waves drawn as 457 beats on the rhythm page, which page 1 does not count)."""


def find_blocked_p_samples(analysis: RecordAnalysis) -> np.ndarray:
    """Samples of the non-conducted P waves of the analysis's 2:1 AV block and dropped beats (in the RR intervals of
    its regions of :data:`pipeline.regions.BLOCKED_KINDS`), for the strips, the charts and the annotation file: found
    again (:func:`pipeline.region_eval.find_record_blocked_p_waves`, up to 60 ms for 30 minutes of 2:1 block), not
    kept with the analysis."""
    regions = [r for r in analysis.regions if r.kind in BLOCKED_KINDS]
    samples = analysis.predictions.samples
    if not regions:
        return np.zeros(0, np.int64)
    found = find_record_blocked_p_waves(analysis.record, samples, analysis.classes, analysis.region_settings,
                                        find_paced_beats_left(analysis.predictions, analysis.classes))
    if found is None or not len(found):
        return np.zeros(0, np.int64)
    return found[find_blocked_intervals(regions, len(samples) - 1)[found[:, 0]], 1]


def find_wave_detections(analysis: RecordAnalysis) -> np.ndarray:
    """Boolean per detection: inside ventricular flutter or fibrillation (:data:`pipeline.regions.WAVE_KINDS`), a wave
    and not a beat, which the strips and the full disclosure print without a beat letter."""
    samples = analysis.predictions.samples
    waves = np.zeros(len(samples), bool)
    for region in analysis.regions:
        if region.kind in WAVE_KINDS:
            waves |= (samples >= region.start) & (samples < region.stop)
    return waves


def find_readable_intervals(analysis: RecordAnalysis) -> np.ndarray:
    """Boolean per RR interval (beat i to beat i + 1): True unless it overlaps an unreadable stretch or ventricular
    flutter/fibrillation (:data:`UNCOUNTED_KINDS`)."""
    samples = analysis.predictions.samples
    if len(samples) < 2:
        return np.zeros(0, bool)
    unreadable = merge_intervals([(r.start, r.stop) for r in analysis.regions if r.kind in UNCOUNTED_KINDS])
    # interval i overlaps an unreadable stretch when the first stretch ending after beat i starts before beat i + 1
    after = np.searchsorted(unreadable[:, 1], samples[:-1], side="right")
    crossing = np.zeros(len(samples) - 1, bool)
    inside = after < len(unreadable)
    crossing[inside] = unreadable[after[inside], 0] < samples[1:][inside]
    return ~crossing


RR_HISTOGRAM_BIN_MS = 50.0
"""Width of the RR histogram's bins (at 60-100 bpm, 50 ms is 3-8 bpm)."""
RR_HISTOGRAM_MAX_MS = 4000.0
"""Intervals longer than this are counted in the last bin (pauses are listed one by one in the events)."""


def rr_histogram(analysis: RecordAnalysis, bin_ms: float = RR_HISTOGRAM_BIN_MS,
                 max_ms: float = RR_HISTOGRAM_MAX_MS) -> pd.DataFrame:
    """The RR interval histogram of a Holter report: per ``bin_ms`` bin from 0, the readable intervals between two
    normal beats (``nn``) and those with an ectopic or unclassified beat at either end (``other``); intervals
    longer than ``max_ms`` go into the last bin (``to_ms`` is then infinite). Sinus rhythm gives one narrow peak,
    atrial fibrillation a broad one, 2:1 conduction or bigeminy two peaks. Empty without readable intervals.
    """
    if not 0 < bin_ms < max_ms:
        raise ValueError(f"Received bin_ms={bin_ms!r}, max_ms={max_ms!r}; expected 0 < bin_ms < max_ms.")
    samples, fs_hz = analysis.predictions.samples, analysis.record.fs_hz
    readable = find_readable_intervals(analysis)
    rr_ms = (1000.0 * np.diff(samples) / fs_hz)[readable]
    if len(rr_ms) == 0:
        return pd.DataFrame(columns=["from_ms", "to_ms", "nn", "other"])
    classes = np.asarray(analysis.classes)
    normal = ((classes[:-1] == "N") & (classes[1:] == "N"))[readable]
    overflow = bool(rr_ms.max() >= max_ms)
    n_regular = int(np.ceil(max_ms / bin_ms)) if overflow else int(rr_ms.max() // bin_ms) + 1
    index = np.where(rr_ms >= max_ms, n_regular, rr_ms // bin_ms).astype(np.int64)
    n_bins = n_regular + overflow
    edges = np.append(np.arange(n_regular + 1) * bin_ms, [np.inf] if overflow else [])
    return pd.DataFrame({"from_ms": edges[:-1], "to_ms": edges[1:],
                         "nn": np.bincount(index[normal], minlength=n_bins),
                         "other": np.bincount(index[~normal], minlength=n_bins)})


def lorenz_points(analysis: RecordAnalysis, max_points: int = MAX_LORENZ_POINTS) -> tuple[pd.DataFrame, int]:
    """The RR scatter (Lorenz, or Poincare, plot) of a record: for each beat with readable intervals on both sides,
    the RR before and after it (ms), its class, index and time; and how many such beats there are in all.

    A beat's point sits by its class's rhythm: N beats along the identity line, premature beats followed by a pause
    above it and to the left of the N cloud, atrial fibrillation as a fan. Past ``max_points``, the N beats
    are thinned evenly (every beat of another class stays), so that a 24-hour record still draws quickly.
    """
    samples, fs_hz = analysis.predictions.samples, analysis.record.fs_hz
    n = len(samples)
    if n < 3:
        return pd.DataFrame(columns=["beat", "time_s", "rr_before_ms", "rr_after_ms", "class"]), 0
    crossing = ~find_readable_intervals(analysis)
    middle = np.arange(1, n - 1)
    usable = middle[~crossing[middle - 1] & ~crossing[middle]]
    classes = np.asarray(analysis.classes)[usable]
    other = classes != "N"
    normal = np.flatnonzero(~other)
    room = max(max_points - int(other.sum()), 0)
    if len(normal) > room:
        normal = normal[np.linspace(0, len(normal) - 1, room).round().astype(np.int64)] if room else normal[:0]
    chosen = usable[np.sort(np.concatenate([np.flatnonzero(other), normal]))]
    rr_ms = 1000.0 * np.diff(samples) / fs_hz
    table = pd.DataFrame({"beat": chosen, "time_s": np.round(samples[chosen] / fs_hz, 3),
                          "rr_before_ms": np.round(rr_ms[chosen - 1], 1), "rr_after_ms": np.round(rr_ms[chosen], 1),
                          "class": np.asarray(analysis.classes)[chosen]})
    return table, len(usable)
