"""Models, sample records and analyses for the dashboard, cached across reruns.

A model is loaded once per process (``st.cache_resource``); the bundled samples' analyses are
shared by every session (they are public MIT-BIH excerpts); an upload's analysis is kept in its
own session only, one at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from app.analysis import (RecordAnalysis, ReviewFileMismatchError, analyse_record, apply_saved_af_edits,
                          apply_saved_beat_edits, edit_analysis, edit_beats, read_artefacts, read_corrections,
                          read_listed_af_edits, state_pacemaker, state_reviewed_pacemaker)
from app.conclusion import read_conclusion_notes
from app.reader_strips import ReaderStrip, read_strip_notes
from app.event_settings import read_settings_notes
from app.dashboard.tables import ReferenceComparison, compare_with_reference
from app.dashboard.uploads import UploadedData, read_uploaded_diary, read_uploaded_record, read_uploaded_review_labels
from models import registry
from models.bundled import BUNDLED_MODEL, CHAMPION_URI, load_default_model
from models.registry import LoadedModel
from pipeline.diary import DIARY_SUFFIX, format_diary, read_diary_notes
from pipeline.errors import AnnotationMismatchError
from pipeline.labels import select_reference_beats
from pipeline.reader_rhythm import AfEdit
from pipeline.reader_beats import BeatEdit
from pipeline.records import read_record
from pipeline.regions import RegionSettings
from pipeline.types import Record

logger = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "excerpts"
BUNDLED_CHOICE = "bundled"
"""Model choice meaning the model file shipped in ``models/bundled``."""

_UPLOAD_STATE = "upload_review"


@dataclass(frozen=True)
class Review:
    """What one page shows: the analysis and, when the record has reference labels, the comparison.

    ``saved_labels`` holds the corrections of an earlier review uploaded with the record (``NAME.ecg``),
    ``saved_artefacts`` its artefact marks, ``saved_settings`` its event thresholds (None when they were the
    defaults) and ``unmatched_saved`` how many of that file's beats matched no detected beat; None, (), None and
    0 otherwise.
    """

    analysis: RecordAnalysis
    comparison: ReferenceComparison | None
    saved_labels: dict[int, str] | None = None
    unmatched_saved: int = 0
    saved_artefacts: tuple[tuple[int, int], ...] = ()
    saved_settings: RegionSettings | None = None
    saved_diary: str | None = None
    """The diary's text uploaded with the record (``NAME.diary.csv``, else the diary entries of ``NAME.ecg``)."""
    saved_conclusion: str = ""
    """The reader's conclusion in the uploaded ``NAME.ecg``."""
    saved_strips: tuple[ReaderStrip, ...] = ()
    """The strips the reader chose for the report, in the uploaded ``NAME.ecg``."""
    saved_af_edits: tuple[AfEdit, ...] = ()
    """The reader's words on the atrial rhythm in the uploaded ``NAME.ecg``
    (:func:`app.analysis.apply_saved_af_edits`)."""
    saved_beat_edits: tuple[BeatEdit, ...] = ()
    """The reader's edits of the beat list in the uploaded ``NAME.ecg`` (:func:`app.analysis.apply_saved_beat_edits`);
    its labels (``saved_labels``) number the beats as edited."""
    saved_problem: str = ""
    """Why the uploaded ``NAME.ecg`` was not used (its beats do not fit the record's); ``""`` when it was, or when none
    came."""


def list_sample_records(samples_dir: Path = SAMPLES_DIR) -> list[str]:
    """Names of the bundled sample records (``data/excerpts``), sorted."""
    return sorted(path.stem for path in samples_dir.glob("*.hea"))


@st.cache_data(ttl=60, show_spinner=False)
def list_model_choices() -> list[tuple[str, str]]:
    """(label, reference) of each model the user can pick: the champion, each registered version, the bundled file.

    An unusable registry leaves the champion and the bundled file (the champion then falls back
    to the bundled model, see :func:`models.bundled.load_default_model`).
    """
    choices = [("Champion (registry default)", CHAMPION_URI)]
    try:
        registry.configure_tracking()
        versions = registry.list_model_versions(registry.DEFAULT_MODEL_NAME)
    except Exception as error:  # noqa: BLE001 - any registry failure leaves the defaults usable
        logger.warning("Model registry not readable (%s); offering the defaults only", type(error).__name__)
        versions = []
    for info in reversed(versions):
        aliases = f" ({', '.join(info.aliases)})" if info.aliases else ""
        choices.append((f"{info.name} version {info.version}{aliases}", f"models:/{info.name}/{info.version}"))
    choices.append(("Bundled model file", BUNDLED_CHOICE))
    return choices


@st.cache_resource(show_spinner="Loading the model...", max_entries=4)
def load_model_cached(reference: str) -> LoadedModel:
    """The model for a choice of :func:`list_model_choices` (loaded once per process)."""
    if reference == CHAMPION_URI:
        return name_shipped_file(load_default_model())
    if reference == BUNDLED_CHOICE:
        return name_shipped_file(registry.load_model(BUNDLED_MODEL))
    return registry.load_model(reference)


def name_shipped_file(loaded: LoadedModel) -> LoadedModel:
    """``loaded``, its source shown as ``models/bundled/model.keras (shipped with the product)`` when it is the bundled
    file read directly: the page, its reports and downloads name the model without the server's folders."""
    if loaded.name is None and Path(loaded.source).resolve() == BUNDLED_MODEL.resolve():
        return replace(loaded, source=f"{BUNDLED_MODEL.relative_to(BUNDLED_MODEL.parents[2]).as_posix()} "
                                      "(shipped with the product)")
    return loaded


def review_record(record: Record, loaded: LoadedModel) -> Review:
    """Analyse ``record`` and compare it with its reference labels when it has them and they fit its signal."""
    analysis = analyse_record(check_reference(record), loaded)
    logger.info("Analysed %.0f s of signal: %d beats, %d regions (%.2f s)", record.duration_s,
                len(analysis.predictions), len(analysis.regions), sum(analysis.timings_s.values()))
    return Review(analysis, compare_with_reference(analysis))


def check_reference(record: Record) -> Record:
    """``record``, or ``record`` without its reference annotations (``annotation_problem`` saying why) when they
    cannot be a reference for its signal (:func:`pipeline.labels.select_reference_beats`)."""
    if record.annotations is None:
        return record
    try:
        select_reference_beats(record)
    except AnnotationMismatchError as error:
        return replace(record, annotations=None, annotation_problem=str(error))
    return record


@st.cache_resource(show_spinner="Analysing the sample record...", max_entries=12)
def review_sample(name: str, model_reference: str) -> Review:
    """Review of a bundled sample record (shared by every session: public data), with its example diary
    (``NAME.diary.csv``) where there is one."""
    review = review_record(read_record(SAMPLES_DIR / name, annotator="atr"), load_model_cached(model_reference))
    diary = SAMPLES_DIR / f"{name}{DIARY_SUFFIX}"
    return replace(review, saved_diary=diary.read_text(encoding="utf-8")) if diary.is_file() else review


def review_upload(files: list[UploadedData], upload_key: tuple, record_name: str | None,
                  model_reference: str, lead: str | None = None) -> Review:
    """Review of an uploaded record (``lead``: its primary lead, None for the default), kept in this session only
    (the last upload) so reruns are instant."""
    key = (upload_key, record_name, model_reference)
    cached = st.session_state.get(_UPLOAD_STATE)
    if cached is not None and cached[0] == key and lead in (None, cached[1].analysis.record.primary_lead_name):
        return cached[1]
    st.session_state.pop(_UPLOAD_STATE, None)
    with st.spinner("Reading and analysing the uploaded record..."):
        as_read = read_uploaded_record(files, record_name, lead=lead)
        saved = read_uploaded_review_labels(files, as_read)
        diary = read_uploaded_diary(files, as_read)
        record = state_reviewed_pacemaker(as_read, saved)  # a saved review's paced beats (/) say the patient is paced
        review = review_record(record, load_model_cached(model_reference))
        try:  # against the AF rule as the saved words on the atrial rhythm leave it: its S calls are not corrections
            with_beats = None if saved is None else apply_saved_beat_edits(review.analysis,
                                                                           load_model_cached(model_reference), saved)
            with_rhythm = None if saved is None else apply_saved_af_edits(with_beats, saved)
            fitted = None if saved is None else read_corrections(with_rhythm, saved)
        except ReviewFileMismatchError as error:  # the record is shown all the same, with the reason
            if record is not as_read:  # the pacemaker the unfitting file stated is not taken either
                record, review = as_read, review_record(as_read, load_model_cached(model_reference))
            saved, fitted, review = None, None, replace(review, saved_problem=str(error))
    if saved is not None:
        labels, unmatched = fitted
        review = Review(review.analysis, review.comparison, labels, unmatched,
                        read_artefacts(review.analysis, saved), read_settings_notes(saved.aux_notes))
        listed = read_listed_af_edits(with_rhythm, saved)  # words made in WAVE
        noted = read_diary_notes(saved.samples, saved.aux_notes, record.fs_hz)
        diary = format_diary(noted) if diary is None and noted else diary
        review = replace(review, saved_conclusion=read_conclusion_notes(saved.aux_notes),
                         saved_strips=read_strip_notes(saved.samples, saved.aux_notes),
                         saved_af_edits=with_rhythm.af_edits + listed, saved_beat_edits=with_beats.beat_edits)
    review = replace(review, saved_diary=diary)
    st.session_state[_UPLOAD_STATE] = (key, review)
    return review


def edit_review(review: Review, labels: dict[int, str], artefacts, settings: RegionSettings,
                pacemaker: str | None = None, model: LoadedModel | None = None, af_edits=(), beat_edits=()) -> Review:
    """The review with a reader's corrections, artefact marks, event thresholds, a pacemaker the header did not
    state, words on the atrial rhythm and edits of the beat list (regions, summary and comparison found again; with
    ``model``, the beats are classified again for the pacemaker, :func:`app.analysis.state_pacemaker`, and for the
    beat edits, :func:`app.analysis.edit_beats`, which the corrections' beat numbers follow)."""
    analysis = review.analysis
    if beat_edits and model is not None:
        analysis = edit_beats(analysis, model, beat_edits, settings, pacemaker)
    elif pacemaker is not None and model is not None:
        analysis = state_pacemaker(analysis, model, pacemaker, settings)  # regions found once, with the thresholds
    analysis = edit_analysis(analysis, labels=labels, artefacts=artefacts, settings=settings, pacemaker=pacemaker,
                             af_edits=af_edits)
    return replace(review, analysis=analysis, comparison=compare_with_reference(analysis))
