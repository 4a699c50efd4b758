"""Full disclosure (app.disclosure): the whole record printed, a minute per line, on real records."""

from __future__ import annotations


import numpy as np
import pytest

from app.analysis import add_diary, analyse_record
from app.disclosure import (
    LINE_SPACING_MV,
    LINES_PER_PAGE,
    count_pages,
    draw_disclosure_page,
    page_trace,
    render_full_disclosure,
)
from models.bundled import load_default_model
from pipeline.diary import DiaryEntry
from pipeline.records import read_record
from tests.score_runs import count_pdf_pages, run_score

@pytest.fixture(scope="module")
def analysis_208(excerpts_dir):
    return analyse_record(read_record(excerpts_dir / "208", annotator=None), load_default_model())


def test_pages_hold_thirty_minutes():
    assert [count_pages(s) for s in (10.0, 300.0, 1800.0, 1800.5, 24 * 3600.0)] == [1, 1, 1, 2, 48]


def test_a_page_has_a_line_per_minute_and_labels_every_beat_other_than_n(analysis_208):
    """Excerpt 208 (5 minutes; V and F beats): five lines, and one class label per non-N beat."""
    analysis = add_diary(analysis_208, (DiaryEntry(70.0, "dizzy"),))
    figure = draw_disclosure_page(analysis, 0, 1)
    (ax,) = figure.axes
    texts = [t.get_text() for t in ax.texts]
    assert [t for t in texts if ":" in t] == ["00:00:00", "00:01:00", "00:02:00", "00:03:00", "00:04:00"]
    labels = [t for t in texts if ":" not in t]
    expected = analysis.classes[analysis.classes != "N"]
    assert sorted(labels) == sorted(expected.tolist()) and {"V", "F"} <= set(labels)
    traces = [line for line in ax.lines if line.get_rasterized()]
    assert len(traces) == 5 and len(ax.lines) == 6  # five minutes, and the diary entry's mark
    assert LINES_PER_PAGE == 30


def test_the_trace_is_filtered_so_lines_stay_apart(mitdb_dir):
    """Record 208's baseline wanders over 3 mV in its first 30 minutes (2-second medians); the printed trace's stays
    within a quarter of the line spacing of zero."""
    record = read_record(mitdb_dir / "208", annotator=None)
    trace, start = page_trace(record, 0.0, 1800.0)
    raw = record.signal_mv[:len(trace), record.primary_lead]
    fs = int(record.fs_hz)

    def baseline(x):
        return np.array([np.nanmedian(x[k:k + 2 * fs]) for k in range(0, len(x) - 2 * fs, 2 * fs)])

    assert start == 0 and len(trace) == 1800 * fs + 1
    assert np.ptp(baseline(raw)) > 3.0
    assert np.abs(baseline(trace)).max() < 0.25 * LINE_SPACING_MV


def test_score_writes_the_full_disclosure_only_when_asked(excerpts_dir, tmp_path):
    def score(out, *formats):
        code, output = run_score(str(excerpts_dir / "100"), "--out", str(out), *formats)
        assert code == 0, output

    score(tmp_path / "default")
    assert not (tmp_path / "default" / "100" / "100_full_disclosure.pdf").exists()
    score(tmp_path / "asked", "--format", "pdf,disclosure,disclosure2")
    pdf = (tmp_path / "asked" / "100" / "100_full_disclosure.pdf").read_bytes()
    assert count_pdf_pages(pdf) == 1 and pdf.startswith(b"%PDF")
    both = (tmp_path / "asked" / "100" / "100_full_disclosure_2leads.pdf").read_bytes()
    assert count_pdf_pages(both) == 1 and both != pdf


def test_the_full_disclosure_is_the_same_bytes_each_time(analysis_208):
    assert render_full_disclosure(analysis_208) == render_full_disclosure(analysis_208)


def test_the_two_lead_disclosure_prints_both_leads_for_each_minute(analysis_208):
    """Both leads of excerpt 208 (MLII, V1): ten traces for five minutes, a time on each minute's first, the class
    labels once per minute, and fifteen minutes a page."""
    analysis = add_diary(analysis_208, (DiaryEntry(70.0, "dizzy"),))
    figure = draw_disclosure_page(analysis, 0, 1, (0, 1))
    (ax,) = figure.axes
    texts = [t.get_text() for t in ax.texts]
    assert [t for t in texts if t.endswith(("MLII", "V1"))] == [
        f"{stamp} MLII" if lead == "MLII" else "V1"
        for stamp in ("00:00:00", "00:01:00", "00:02:00", "00:03:00", "00:04:00") for lead in ("MLII", "V1")]
    labels = [t for t in texts if t in ("N", "S", "V", "F", "Q")]
    assert sorted(labels) == sorted(analysis.classes[analysis.classes != "N"].tolist())
    traces = [line for line in ax.lines if line.get_rasterized()]
    assert len(traces) == 10 and len(ax.lines) == 11 + 4  # the diary entry, and a rule between minutes
    record = analysis.record
    first, second = (np.asarray(t.get_ydata()) for t in traces[:2])
    mlii, _ = page_trace(record, 0.0, 60.0, 0)
    v1, _ = page_trace(record, 0.0, 60.0, 1)
    assert np.corrcoef(first, mlii[:len(first)])[0, 1] > 0.99 and np.corrcoef(second, v1[:len(second)])[0, 1] > 0.99
    assert [count_pages(s, 2) for s in (900.0, 900.5, 24 * 3600.0)] == [1, 2, 96]
    pdf = render_full_disclosure(analysis_208, leads=2)
    assert count_pdf_pages(pdf) == 1 and pdf != render_full_disclosure(analysis_208)


def test_a_page_s_traces_make_one_image_whatever_is_drawn_between_them(analysis_208):
    """Each unbroken run of rasterized traces becomes an image that keeps a whole-page raster in memory until the PDF
    is closed: the rules between a two-lead page's minutes and the diary lines, drawn among the traces, made 14 images
    a page and 55 MB (a QA pass, session 50, measured 2.7 GB for 6 hours). One image a page, rules and diary drawn."""
    analysis = add_diary(analysis_208, (DiaryEntry(70.0, "dizzy"), DiaryEntry(200.0, "short of breath")))
    for leads in (1, 2):
        pdf = render_full_disclosure(analysis, leads=leads)
        images = pdf.count(b"/Subtype /Image") - pdf.count(b"/SMask ")  # an image's alpha is an image of its own
        assert images == count_pdf_pages(pdf) == 1


def test_episodes_are_shaded_and_named_times_are_clock_times_and_the_scale_is_stated(excerpts_dir, analysis_208):
    """A clinical read (session 48) found none of the analysis's events marked on the full disclosure, flutter waves
    labelled V one by one, elapsed times only under a header with a start time, and no print scale: episodes are shaded
    and named where they start (a pause with its length), no beat label inside flutter/fibrillation, line times are
    clock times when the header gives the start, and the header states mm/s and mm/mV."""
    import dataclasses
    import datetime

    from app.disclosure import AXES_BOX, EPISODE_SHADES, lead_scale
    from pipeline.regions import Region

    fs = analysis_208.record.fs_hz
    called = analysis_208.predictions.samples[analysis_208.classes != "N"]
    flutter = Region("ventricular_flutter_fibrillation", int(called[0]) - 10, int(called[3]) + 10, 0, 4, 250.0, 0.9)
    pause = Region("pause", int(200 * fs), int(203.4 * fs), 0, 2, 17.6, 0.9)
    analysis = dataclasses.replace(analysis_208, regions=analysis_208.regions + (flutter, pause),
                                   record=dataclasses.replace(analysis_208.record, start_time=datetime.time(8, 30)))
    figure = draw_disclosure_page(analysis, 0, 1)
    (ax,) = figure.axes
    texts = [t.get_text() for t in ax.texts]
    assert "VF" in texts and "pause 3.4 s" in texts
    labels = [t for t in texts if t in ("S", "V", "F", "Q")]
    assert len(labels) == int(np.sum(analysis.classes != "N")) - 4  # the four inside the flutter left unlabelled
    assert [t for t in texts if ":" in t][:2] == ["08:30:00", "08:31:00"]
    header = " ".join(t.get_text() for t in figure.texts).replace("\n", " ")
    scale = lead_scale(analysis.record, analysis.record.primary_lead)
    mm_per_mv = 25.4 * 11.69 * AXES_BOX[3] / ((LINES_PER_PAGE + 0.1) * LINE_SPACING_MV)
    assert f"(3.1 mm/s; MLII {mm_per_mv * scale.factor:.1f} mm/mV)" in header
    assert "(08:30:00)" in figure._suptitle.get_text()
    assert {short for short, _ in EPISODE_SHADES.values()} <= set(header.replace(",", " ").split())


def test_each_lead_is_scaled_so_that_its_complexes_fit_their_line(mitdb_dir):
    """Record 208's tall MLII complexes were clipped at the fixed scale (2,340 of 2,956 QRS complexes: a clinical read,
    session 48): each lead now prints at the scale that fits its typical 10 s into its line's band, so that most of its
    beats' complexes are whole, and the labels have a band of their own above it."""
    from app.disclosure import LABEL_OFFSET_MV, TRACE_BAND_MV, lead_scale

    record = read_record(mitdb_dir / "208")
    scale = lead_scale(record, record.primary_lead)
    assert 0.3 < scale.factor < 1.0
    trace, _ = page_trace(record, 0.0, 1800.0)
    samples = record.annotations.samples
    beats = samples[(samples > 36) & (samples < len(trace) - 36)]
    assert len(beats) > 2000

    def whole_share(printed, low, high):  # beats whose +-0.1 s lie inside the band
        return np.mean([low < printed[k - 36:k + 36].min() and printed[k - 36:k + 36].max() < high for k in beats])

    before = whole_share(trace - np.nanmedian(trace), -1.25, 1.5)  # the former fixed scale and clip
    now = whole_share(scale.factor * trace + scale.shift_mv, *TRACE_BAND_MV)
    assert before < 0.3 and now > 0.9
    assert TRACE_BAND_MV[1] < LABEL_OFFSET_MV and LABEL_OFFSET_MV + 0.4 < LINE_SPACING_MV + TRACE_BAND_MV[0]
