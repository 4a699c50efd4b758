"""The dashboard page driven through ``streamlit.testing.v1.AppTest`` on real records and the default model."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from app.analysis import analyse_record, change_region_settings  # noqa: E402
from app.dashboard import charts, tables, views  # noqa: E402
from models.bundled import load_default_model  # noqa: E402
from pipeline.edf import write_edf  # noqa: E402
from pipeline.hrt import HrtSettings  # noqa: E402
from pipeline.labels import AAMI_CLASSES  # noqa: E402
from pipeline.records import read_record, write_record  # noqa: E402
from pipeline.regions import REGION_KINDS, RegionSettings  # noqa: E402

APP = Path(__file__).resolve().parents[1] / "app" / "dashboard" / "main.py"
TIMEOUT_S = 180


@pytest.fixture(scope="module")
def model():
    return load_default_model()


@pytest.fixture(scope="module")
def analyses(model, excerpts_dir):
    return {name: analyse_record(read_record(excerpts_dir / name), model) for name in ("100", "119", "208", "232")}


def start_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    return at


def shown_counts(at: AppTest) -> dict[str, int]:
    return {m.label.split()[0]: int(m.value) for m in at.metric if m.label.endswith(" beats")}


def frame_with(at: AppTest, column: str):
    """The first table shown that has ``column`` (tables without selection carry no key in AppTest)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def picker(at: AppTest, label: str):
    """The selectbox with this label (per-record widgets carry a key derived from the record)."""
    return next(box for box in at.selectbox if box.label == label)


def files_of(directory: Path, name: str, extensions=("hea", "dat", "atr")) -> list[tuple[str, bytes, str]]:
    return [(f"{name}.{ext}", (directory / f"{name}.{ext}").read_bytes(), "application/octet-stream")
            for ext in extensions]


def upload(at: AppTest, files) -> AppTest:
    at.file_uploader(key="upload").set_value(files)
    at.run()
    return at


def test_default_sample_shows_the_summary_of_the_first_excerpt(analyses):
    at = start_app()
    assert at.selectbox(key="sample_record").value == "100"
    assert not at.error
    expected = analyses["100"].summary
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, expected.beat_counts))
    assert any(m.label == "Heart rate mean" and m.value == tables.format_rate(expected.heart_rate_mean_bpm)
               for m in at.metric)
    assert expected.hrv.sdnn_ms > 0  # 5 minutes of sinus rhythm: HRV is assessed and shown
    assert any(m.label == "SDNN" and m.value == tables.format_ms(expected.hrv.sdnn_ms) for m in at.metric)
    assert expected.hrv.spectral_segments == 1  # the 5-minute excerpt is one short-term spectrum
    assert any(m.label == "LF/HF" and m.value == f"{expected.hrv.lf_hf_ratio:.2f}" for m in at.metric)
    assert analyses["100"].model_source in " ".join(c.value for c in at.caption)
    assert len(at.get("plotly_chart")) >= 2  # overview, detail (a 5-minute record has one trend value)
    keys = {b.key for b in at.get("download_button")}
    assert expected.st.assessed and expected.qt.assessed and not expected.hrt.assessed  # one PVC: no HRT table
    assert keys == {"download_beat_table_csv", "download_region_table_csv", "download_annotation_file_bytes",
                    "download_ishne_annotation_bytes", "download_pdf_report_bytes", "download_full_disclosure_bytes",
                    "download_two_lead_disclosure_bytes", "download_summary_json", "download_hourly_table_csv",
                    "download_st_table_csv", "download_st_episode_table_csv", "download_qt_table_csv"}


def test_a_champion_that_cannot_be_used_is_said_on_the_page(tmp_path, monkeypatch):
    """When the registry's champion cannot be used the bundled model stands in for it; that was said only in the
    server's log (a QA pass, session 53), so a lab whose own champion was skipped would not notice."""
    from app.dashboard import loading
    from models import bundled, registry

    root = tmp_path / "mlruns"
    registry.configure_tracking(root)
    bundled.register_bundled_model()
    stored = next(root.rglob("model.keras"))
    stored.write_bytes(stored.read_bytes()[:10000])
    monkeypatch.setenv("ECG_MLRUNS_DIR", str(root))
    caches = (loading.load_model_cached, loading.list_model_choices, loading.review_sample)
    for cache in caches:  # the module's other tests analysed the sample with the real champion
        cache.clear()
    try:
        at = start_app()
        assert not at.error
        warned = [w.value for w in at.sidebar.warning if w.value.startswith("The registry's champion cannot be used")]
        assert len(warned) == 1 and "is not a .keras archive" in warned[0] and "Choose another model here" in warned[0]
        assert "Model used: models/bundled/model.keras (shipped with the product)" in [c.value for c in at.caption]
    finally:
        for cache in caches:
            cache.clear()


def test_choosing_another_sample_shows_its_ventricular_beats_and_events(analyses):
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    assert not at.exception and not at.error
    expected = analyses["208"]
    counts = shown_counts(at)
    assert counts == dict(zip(AAMI_CLASSES, expected.summary.beat_counts))
    assert counts["V"] > 100
    assert at.subheader[0].value == "Record 208"
    events = frame_with(at, "confidence")
    assert len(events) == len(expected.regions)
    assert "Ventricular couplet" in set(events["event"])
    tally = at.table[0].value
    couplets = expected.summary.event("ventricular_couplet").count
    assert couplets > 0 and int(tally.loc["Ventricular couplet", "count"]) == couplets
    assert tables.describe_extremes(expected) in [c.value for c in at.caption]
    forms = expected.summary.ventricular_forms.describe()  # uniform or multiform, as the report's burden line
    assert any(c.value.startswith(f"Ventricular ectopic beats: {forms}.") for c in at.caption)
    assert "noise flagged on" in events.columns
    hourly = frame_with(at, "HR mean")  # the "By hour" table: one row for a 5-minute excerpt
    assert len(hourly) == 1 and hourly.loc[0, "V beats"] == expected.summary.beat_counts[2]
    comparison = frame_with(at, "Se %").set_index("class")  # as the reader sees it: undefined figures as a dash
    assert comparison.loc["V", "reference beats"] > 100 and float(comparison.loc["V", "Se %"]) > 80
    assert comparison.loc["Q", "reference beats"] == 0 and comparison.loc["Q", "Se %"] == "—"
    expected_table = tables.comparison_table(tables.compare_with_reference(expected)).set_index("class")
    assert comparison.loc["V", "+P %"] == f"{expected_table.loc['V', '+P %']:.1f}"


def test_a_longest_run_of_two_beats_is_called_a_couplet(analyses):
    """A couplet is not a run (3 beats or more): the overview's sentence and the report's line say which (QA pass,
    session 37: "longest ventricular run 2 beats")."""
    from dataclasses import replace

    from app.report import describe_longest_run

    assert [describe_longest_run(n) for n in (0, 1, 2, 4)] == ["none", "none", "2 beats (a couplet)", "4 beats"]
    analysis = analyses["208"]  # couplets, no run
    assert analysis.summary.longest_ventricular_run == 2
    assert "longest ventricular run 2 beats (a couplet: no run of 3 or more) at" in tables.describe_extremes(analysis)
    longer = replace(analysis, summary=replace(analysis.summary, longest_ventricular_run=4))
    assert "longest ventricular run 4 beats at" in tables.describe_extremes(longer)


def test_selecting_an_event_moves_the_detail_window(analyses):
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    analysis = analyses["208"]
    index = next(i for i, r in enumerate(analysis.regions) if r.start / analysis.record.fs_hz > 60)
    at.selectbox(key="event_choice").select(index).run()
    assert not at.exception
    expected = tables.event_window_start(analysis.regions[index], analysis.record.fs_hz, 10, analysis.record.duration_s)
    assert expected > 50
    assert at.number_input(key="window_start_s").value == pytest.approx(expected)
    first = analysis.regions[index].first_beat
    assert at.selectbox(key="beat_choice").value == first
    samples = analysis.predictions.samples  # the beat panel's RR in ms, as the chart writes it (session 61)
    rr_ms = 1000 * (samples[first] - samples[first - 1]) / analysis.record.fs_hz
    assert next(m.value for m in at.metric if m.label == "RR before") == f"{rr_ms:.0f} ms"


def test_with_advance_on_a_relabel_or_a_confirmation_chooses_the_next_beat(analyses):
    """Keyboard relabelling with auto-advance, which Holter review software offers (left by a clinical read of the
    dashboard, session 61): a class's button (or key) relabels the beat and chooses the next one; the beat's own class
    confirms it and moves on; the window follows past its edge."""
    analysis = analyses["100"]
    at = start_app()
    first = at.selectbox(key="beat_choice").value
    assert at.button(key=f"relabel_as_{analysis.classes[first]}").disabled  # no advance: its own class is off
    at.toggle(key="advance_after_relabel").set_value(True).run()
    assert not at.button(key=f"relabel_as_{analysis.classes[first]}").disabled
    other = next(c for c in "VSN" if c != analysis.classes[first])
    at.button(key=f"relabel_as_{other}").click().run()
    assert not at.exception
    assert at.selectbox(key="beat_choice").value == first + 1
    assert any("1 beat label corrected" in i.value for i in at.info)
    at.button(key=f"relabel_as_{analysis.classes[first + 1]}").click().run()  # confirmed: no correction
    assert at.selectbox(key="beat_choice").value == first + 2
    assert any("1 beat label corrected" in i.value for i in at.info)
    listed = frame_with(at, "reader")  # the corrections, listed on the Review labels tab
    assert listed.to_dict("records") == [{"beat": first, "time": charts.format_hms(
        analysis.predictions.samples[first] / analysis.record.fs_hz, 2), "model": analysis.classes[first],
        "reader": other}]
    samples, fs_hz = analysis.predictions.samples, analysis.record.fs_hz
    last = int(np.searchsorted(samples, 10 * fs_hz)) - 1  # the window's last beat (the window opens at 0 s, 10 s long)
    at.selectbox(key="beat_choice").select(last).run()
    at.button(key=f"relabel_as_{analysis.classes[last]}").click().run()
    assert at.selectbox(key="beat_choice").value == last + 1
    start = at.number_input(key="window_start_s").value
    assert start > 0 and start <= samples[last + 1] / fs_hz < start + 10  # the window followed the beat


def test_relabelling_the_chosen_event_s_beat_leaves_no_other_event_chosen_in_its_place(analyses):
    """A clinical read through a browser (session 62): event 1 of 208, an isolated V, relabelled N from the beat panel;
    the events found again had another event 1, which the caption and outline then showed under the picker's old text,
    and the next step stopped the page. The chosen event is followed by what it is, and is no longer chosen once it
    has gone."""
    analysis = analyses["208"]
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    at.button(key="event_step_1").click().run()
    first = analysis.regions[0]
    assert at.selectbox(key="event_choice").value == 0 and first.kind == "isolated_ventricular"
    assert at.selectbox(key="beat_choice").value == first.first_beat
    at.button(key="relabel_as_N").click().run()
    assert not at.exception
    assert at.selectbox(key="event_choice").value == -1  # the isolated V has gone, nothing stands in for it
    assert not any(c.value.startswith("Chosen event") for c in at.caption)
    at.button(key="event_step_1").click().run()
    assert not at.exception and at.selectbox(key="event_choice").value == 0
    # an event that stays after an edit stays chosen, at its new place in the list
    at.button(key="event_step_1").click().run()
    chosen = at.selectbox(key="event_choice").value
    kept = at.session_state["chosen_region_identity"]
    at.button(key="undo_corrections").click().run()  # the isolated V comes back before it
    assert not at.exception
    assert at.selectbox(key="event_choice").value == chosen + 1
    assert at.session_state["chosen_region_identity"] == kept


def test_previous_and_next_step_through_the_events_of_a_type(analyses):
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    analysis = analyses["208"]
    fs, duration_s = analysis.record.fs_hz, analysis.record.duration_s
    couplets = sorted((i for i, r in enumerate(analysis.regions) if r.kind == "ventricular_couplet"),
                      key=lambda i: analysis.regions[i].start)
    assert len(couplets) > 3
    kinds = sorted({r.kind for r in analysis.regions}, key=REGION_KINDS.index)  # the finder's order (QA, session 49)
    assert at.selectbox(key="event_kind").options == ["All events"] + [views.charts.kind_label(k) for k in kinds]
    at.selectbox(key="event_kind").select("ventricular_couplet").run()
    assert next(b for b in at.button if b.key == "event_step_-1").disabled  # the window opens at the start
    at.button(key="event_step_1").click().run()
    assert not at.exception and at.selectbox(key="event_choice").value == couplets[0]
    assert any(c.value == f"Ventricular couplet 1 of {len(couplets)}" for c in at.caption)
    at.button(key="event_step_1").click().run()
    at.button(key="event_step_1").click().run()
    at.button(key="event_step_-1").click().run()
    assert at.selectbox(key="event_choice").value == couplets[1]
    expected = tables.event_window_start(analysis.regions[couplets[1]], fs, 10, duration_s)
    assert at.number_input(key="window_start_s").value == pytest.approx(expected)
    assert at.selectbox(key="beat_choice").value == analysis.regions[couplets[1]].first_beat


def test_a_chosen_event_s_beats_are_relabelled_at_once(analyses):
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    analysis = analyses["208"]
    couplets = sorted((i for i, r in enumerate(analysis.regions) if r.kind == "ventricular_couplet"),
                      key=lambda i: analysis.regions[i].start)
    first = analysis.regions[couplets[0]]
    beats = list(analysis.classes[first.first_beat:first.first_beat + first.n_beats])
    assert first.n_beats == 2 and "N" not in beats
    at.selectbox(key="event_kind").select("ventricular_couplet").run()
    table = frame_with(at, "heart rate (bpm)")  # the event list, of the picker's type (a clinical read, session 61)
    assert list(table["#"]) == [i + 1 for i in couplets] and set(table["event"]) == {"Ventricular couplet"}
    at.button(key="event_step_1").click().run()
    assert not any(b.label.startswith("Relabel the event") and b.disabled for b in at.button)
    before = shown_counts(at)
    next(b for b in at.button if b.label == "Relabel the event's 2 beats").click().run()  # its beats are N
    assert not at.exception and not at.error
    after = shown_counts(at)
    assert after["N"] == before["N"] + 2
    assert after["V"] == before["V"] - beats.count("V") and after["F"] == before["F"] - beats.count("F")
    assert at.selectbox(key="event_choice").value == -1  # the events were found again: none stays chosen
    assert any(c.value == f"Events of this type in the record: {len(couplets) - 1}; Previous and Next step from "
               "the window shown." for c in at.caption)


def test_the_lowest_and_highest_rate_and_the_longest_rr_can_be_gone_to(analyses):
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    summary, duration_s = analyses["208"].summary, analyses["208"].record.duration_s
    options = at.selectbox(key="event_choice").options
    assert options[1].endswith(f"Lowest heart rate ({summary.heart_rate_min_bpm:.0f} bpm, 1-minute average)")
    assert options[3].endswith(f"Longest RR interval ({summary.longest_rr_s:.2f} s)")
    at.selectbox(key="event_choice").select(-4).run()  # the longest RR interval
    assert not at.exception
    start = at.number_input(key="window_start_s").value
    assert start == pytest.approx(tables.extreme_window_start(summary, -4, 10, duration_s))
    assert start < summary.longest_rr_time_s < summary.longest_rr_time_s + summary.longest_rr_s < start + 10
    at.selectbox(key="event_choice").select(-3).run()  # the highest rate: the middle of its minute
    assert at.number_input(key="window_start_s").value == pytest.approx(summary.heart_rate_max_time_s + 25)


def test_attention_of_the_chosen_beat_is_drawn():
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    n_charts = len(at.get("plotly_chart"))
    at.toggle(key="show_attention").set_value(True).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == n_charts + 1


def test_relabelling_a_family_and_a_beat_updates_the_page_and_undo_restores_it(analyses):
    at = start_app()
    at.selectbox(key="sample_record").select("119").run()
    analysis = analyses["119"]
    before = dict(zip(AAMI_CLASSES, analysis.summary.beat_counts))
    called_v = analysis.families[analysis.classes == "V"]
    family = int(np.bincount(called_v[called_v >= 0]).argmax())
    members = analysis.families == family
    families = frame_with(at, "family")
    assert int(families.loc[families["family"] == str(family), "V"].iloc[0]) == int(np.sum(analysis.classes[members] == "V"))
    picker(at, "Family").select(family)
    assert picker(at, "Which of its beats").value == "any"
    picker(at, "New class").select("N")
    at.button(key="relabel_family").click().run()
    assert not at.exception and not at.error
    after = shown_counts(at)
    # every beat of the family is now N, whatever the model called it (mostly V; an F or S call among them moves too)
    moved = {c: int(np.sum(analysis.classes[members] == c)) for c in AAMI_CLASSES if c != "N"}
    assert moved["V"] > 50
    assert all(after[c] == before[c] - moved[c] for c in moved) and after["N"] == before["N"] + sum(moved.values())
    corrected = int(np.sum(analysis.classes[members] != "N"))
    assert any(f"{corrected} beat labels corrected" in i.value for i in at.info)
    # one more beat, from the ECG tab's beat picker
    beat = at.selectbox(key="beat_choice").value
    current = [c for c in AAMI_CLASSES if at.button(key=f"relabel_as_{c}").disabled]  # its class's button is off
    assert current == ["N" if members[beat] else analysis.classes[beat]]  # and follows a family relabel
    current = current[0]
    new_class = next(c for c in AAMI_CLASSES if c not in (current, analysis.classes[beat]))
    at.button(key=f"relabel_as_{new_class}").click().run()
    assert not at.exception
    expected = corrected + (0 if current != analysis.classes[beat] else 1)
    assert any(f"{expected} beat labels corrected" in i.value for i in at.info)
    assert shown_counts(at)[new_class] == after[new_class] + 1
    at.button(key="undo_corrections").click().run()
    assert shown_counts(at) == before and not any("corrected" in i.value for i in at.info)
    # a family's beat picker moves the ECG window to the beat and chooses it
    last = int(np.flatnonzero(members)[-1])
    picker(at, "Show one of its beats on the ECG tab").select(last).run()
    assert not at.exception
    expected = tables.beat_window_start(int(analysis.predictions.samples[last]), analysis.record.fs_hz, 10,
                                        analysis.record.duration_s)
    assert expected > 200 and at.number_input(key="window_start_s").value == pytest.approx(expected)
    assert at.selectbox(key="beat_choice").value == last


def test_another_model_keeps_the_reader_s_corrections_and_artefact_marks(analyses):
    """The same beats, classified by another model: a QA pass found a reader's corrections and marks hidden after
    choosing another model, while the diary and conclusion stayed (session 45)."""
    from app.dashboard.loading import BUNDLED_CHOICE
    at = start_app()
    at.selectbox(key="sample_record").select("119").run()
    analysis = analyses["119"]
    called_v = analysis.families[analysis.classes == "V"]
    picker(at, "Family").select(int(np.bincount(called_v[called_v >= 0]).argmax()))
    picker(at, "New class").select("N")
    at.button(key="relabel_family").click().run()
    at.button(key=next(b.key for b in at.button if b.key.startswith("mark_artefact"))).click().run()
    corrected = shown_counts(at)
    assert corrected != dict(zip(AAMI_CLASSES, analysis.summary.beat_counts))
    first_model = at.selectbox(key="model_choice").value
    assert first_model != BUNDLED_CHOICE
    at.selectbox(key="model_choice").set_value(BUNDLED_CHOICE).run()
    assert not at.exception and at.selectbox(key="model_choice").value == BUNDLED_CHOICE
    assert shown_counts(at) == corrected
    assert any(b.key.startswith("remove_artefact") for b in at.button)  # the mark is listed, removable
    at.selectbox(key="model_choice").set_value(first_model).run()
    assert shown_counts(at) == corrected


def test_an_uploaded_review_file_restores_the_corrections_until_undone(analyses, excerpts_dir):
    from app.analysis import edit_analysis
    from app.outputs import annotation_file_bytes

    analysis = analyses["119"]
    called_v = np.flatnonzero(analysis.classes == "V")
    fs = analysis.record.fs_hz
    edited = edit_analysis(analysis, labels={int(i): "N" for i in called_v[:20]}, artefacts=[(60 * fs, 90 * fs)])
    at = upload(start_app(), files_of(excerpts_dir, "119") + [("119.ecg", annotation_file_bytes(edited),
                                                               "application/octet-stream")])
    assert not at.exception and not at.error
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, edited.summary.beat_counts))
    assert any("119.ecg uploaded: its 20 beat labels" in i.value and "1 artefact mark restored" in i.value
               for i in at.sidebar.info)
    assert len(frame_with(at, "confidence")) == len(edited.regions)
    assert any("20 beat labels corrected" in i.value for i in at.info)
    at.button(key="undo_corrections").click().run()  # undo wins over the file: it is not read back in
    marked_only = edit_analysis(analysis, artefacts=[(60 * fs, 90 * fs)])  # the artefact mark stays (removed apart)
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, marked_only.summary.beat_counts))
    assert sum(marked_only.summary.beat_counts) < sum(analysis.summary.beat_counts)  # its beats are not counted
    at.run()
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, marked_only.summary.beat_counts))


def test_an_uploaded_review_file_brings_back_its_event_thresholds(analyses, excerpts_dir):
    """A review saved with a 2.5 s pause limit, no flutter detection and a changed AF rule key resumes with the first
    two in the sidebar; the key the sidebar has no widget for is named as not applied."""
    from dataclasses import replace

    from app.analysis import edit_analysis
    from app.outputs import annotation_file_bytes

    analysis = analyses["232"]
    settings = replace(analysis.region_settings, pause_s=2.5, af_threshold=0.25,
                       fibrillation=replace(analysis.region_settings.fibrillation, enabled=False))
    edited = edit_analysis(analysis, settings=settings)
    at = upload(start_app(), files_of(excerpts_dir, "232") + [("232.ecg", annotation_file_bytes(edited),
                                                               "application/octet-stream")])
    assert not at.exception and not at.error
    assert at.number_input(key="event_pause_s").value == 2.5 and at.checkbox(key="event_vf_detection").value is False
    assert any("event thresholds are restored" in i.value and "af_threshold" in i.value for i in at.sidebar.info)
    sidebar = replace(analysis.region_settings, pause_s=2.5, fibrillation=settings.fibrillation)
    expected = edit_analysis(analysis, settings=sidebar).summary.event("pause").count
    assert 0 < expected < analysis.summary.event("pause").count
    assert int(at.table[0].value.loc["Pause", "count"]) == expected
    at.button(key="event_defaults").click().run()
    assert at.number_input(key="event_pause_s").value == 2.0


def test_v_calls_the_family_rule_made_n_are_listed_and_undone_in_one_click(analyses):
    from app.dashboard.tables import family_rule_reviews, family_suggestions

    analysis = analyses["208"]
    reviews = family_rule_reviews(analysis)
    assert reviews, "208's excerpt has a V call in a mostly normal family, which the model's family rule made N"
    assert not family_suggestions(analysis)  # the rule took what the review used to suggest
    made_n = int(analysis.predictions.in_family_mask.sum())
    assert sum(r["made_n"] for r in reviews) == made_n >= 1
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    assert any(md.value.startswith("**Made N by the family rule**") for md in at.markdown)
    buttons = [b for b in at.button if b.label == "Relabel them V"]
    assert len(buttons) == min(len(reviews), 5)
    before = dict(zip(AAMI_CLASSES, analysis.summary.beat_counts))
    buttons[0].click().run()
    assert not at.exception
    assert shown_counts(at)["V"] == before["V"] + reviews[0]["made_n"]
    assert not any(b.label == "Relabel them V" for b in at.button) or len(reviews) > 1  # undone: no longer listed
    assert not any(b.label == "Relabel them N" for b in at.button)  # and not suggested back to N (QA, session 37)


def test_st_analysis_is_shown_with_its_trend_or_why_it_was_not_assessed(analyses):
    at = start_app()  # sample 100: narrow QRS complexes, a steady ST segment
    assert analyses["100"].summary.st.assessed and analyses["100"].summary.st.episodes == ()
    assert any(md.value == "**ST segment**: no depression episode; no elevation episode" for md in at.markdown)
    assert any(chart.proto.id and "ST change (mV)" in chart.proto.spec for chart in at.get("plotly_chart"))
    qt = analyses["100"].summary.qt
    assert any(m.label == "QTc Fridericia" and m.value == tables.format_ms(qt.median(qt.qtc_fridericia_ms))
               for m in at.metric)
    assert any("QTc (ms)" in chart.proto.spec for chart in at.get("plotly_chart"))
    at.selectbox(key="sample_record").set_value("232").run()  # right bundle branch block: ST criteria do not apply
    note = analyses["232"].summary.st.note
    assert note.startswith("ST not assessed: the dominant QRS is")
    assert any(md.value.startswith("**ST segment**: not assessed") for md in at.markdown)
    assert any(md.value.startswith("**QT interval**: not assessed") for md in at.markdown)
    assert not any(m.label == "QTc Fridericia" for m in at.metric)
    # the notes below say why, in the wide-beat note that gives the width (session 60: not in a note of its own)
    assert any("The dominant beats are wide" in md.value and "ST and QT are not assessed on such beats" in md.value
               for md in at.markdown)


def test_an_st_episode_is_listed_compared_with_the_dominant_beat_and_can_be_gone_to(excerpts_dir, tmp_path):
    from tests.made_records import write_st_depression_record

    write_st_depression_record(excerpts_dir, tmp_path, name="st100")  # 0.25 mV depression in V5 from 1:00 to 3:00
    at = upload(start_app(), files_of(tmp_path, "st100"))
    assert not at.exception and not at.error
    assert any(md.value.startswith("**ST segment**: 1 depression episode (largest -0.2") for md in at.markdown)
    episodes = frame_with(at, "largest change (mV)")
    assert list(episodes["lead"]) == ["V5"] and list(episodes["QRS changed too"]) == ["no"]
    assert at.selectbox(key="st_episode").value == 0
    assert any("record's dominant beat" in chart.proto.spec for chart in at.get("plotly_chart"))
    label = next(option for option in at.selectbox(key="event_choice").options if " ST depression in V5" in option)
    peak_s = sum(int(part) * 60 ** k for k, part in enumerate(reversed(label.split()[0].split(":"))))
    at.selectbox(key="event_choice").select(tables.ST_CHOICE).run()
    assert not at.exception
    window_s = at.session_state["window_s"]
    assert at.session_state["window_start_s"] == pytest.approx(peak_s - window_s / 2, abs=1.0)
    at.select_slider(key="window_s").set_value(30).run()  # stacked rows show the episode's lead, not the primary one
    assert not at.exception and any("; V5 alone, in rows of 10 s" in c.value for c in at.caption)
    at.number_input(key="window_start_s").set_value(10.0).run()  # the reader moved on: the primary lead again
    assert any("; MLII alone, in rows of 10 s" in c.value for c in at.caption)
    assert at.session_state["event_choice"] == views.NO_EVENT  # so that choosing the episode again goes back to it
    at.selectbox(key="event_choice").select(tables.ST_CHOICE).run()
    assert at.session_state["window_start_s"] != 10.0 and any("; V5 alone" in c.value for c in at.caption)
    # a record with two episodes, the second chosen; then back to one episode: the choice starts again
    write_st_depression_record(excerpts_dir, tmp_path, name="st2", stretches_s=((30, 90), (210, 270)))
    at = upload(at, files_of(tmp_path, "st2"))
    assert len(at.selectbox(key="st_episode").options) == 2
    at.selectbox(key="st_episode").select(1).run()
    at = upload(at, files_of(tmp_path, "st100"))
    assert not at.exception and at.selectbox(key="st_episode").value == 0
    at.number_input(key="event_st.threshold_mv").set_value(0.3).run()  # the laboratory's stricter ST rule
    assert not at.exception and not at.error
    assert any(md.value == "**ST segment**: no depression episode; no elevation episode" for md in at.markdown)
    # a depression over most of the record (2:05 to 4:55) becomes the median reference; the first 2 minutes do not
    at.number_input(key="event_st.threshold_mv").set_value(0.1).run()
    write_st_depression_record(excerpts_dir, tmp_path, name="st3", stretches_s=((125, 295),))
    at = upload(at, files_of(tmp_path, "st3"))
    assert not any(md.value.startswith("**ST segment**: 1 depression episode") for md in at.markdown)
    at.number_input(key="event_st.reference_duration_s").set_value(120.0).run()
    assert not at.exception and not at.error
    assert any(md.value.startswith("**ST segment**: 1 depression episode (largest -0.2") for md in at.markdown)
    assert any("The reference, the ST level of 00:00:00-00:02:00" in c.value for c in at.caption)


def test_hrv_not_assessed_is_one_line_with_the_reason_in_the_notes(analyses):
    at = start_app()
    at.selectbox(key="sample_record").set_value("208").run()  # frequent PVCs: under 4 minutes of NN intervals
    note = analyses["208"].summary.hrv.note
    assert note.startswith("HRV not assessed")
    assert not any(m.label == "SDNN" for m in at.metric)
    assert any(md.value.startswith("**Heart-rate variability**: not assessed") for md in at.markdown)
    assert any(note in md.value for md in at.markdown)  # under "Notes: what could not be assessed, ..."


def test_hrv_says_how_much_of_the_readable_time_its_intervals_cover(analyses):
    at = start_app()
    at.selectbox(key="sample_record").set_value("100").run()
    s = analyses["100"].summary
    share = 100 * s.hrv.nn_total_s / (s.duration_s * s.readable_fraction)
    assert any(f"({s.hrv.nn_total_s / 60:.1f} min, {share:.0f} % of the readable time)" in c.value
               for c in at.caption)
    assert any(md.value.startswith("**Heart-rate variability** (normal-to-normal intervals; short-term: not "
                                   "comparable with 24-hour norms)") for md in at.markdown)  # 30 minutes (s57)


def test_uploading_a_real_record(analyses, excerpts_dir):
    at = upload(start_app(), files_of(excerpts_dir, "119"))
    assert not at.exception and not at.error
    assert at.subheader[0].value == "Record 119"
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, analyses["119"].summary.beat_counts))
    assert len(at.get("download_button")) == 12  # no diary uploaded: no diary table; no HRT (too few PVCs)


def test_an_uploaded_strip_of_flutter_alone_is_shown_as_flutter(mitdb_dir, tmp_path):
    """100 s of record 207's ventricular flutter: no beat is found in it, and the page stopped at "No beats found ...
    nothing else can be reported" (a QA pass of session 51 found the flutter lost on such a strip; the analysis now
    finds it). The page says what the signal holds and shows the ECG and the event."""
    whole = read_record(mitdb_dir / "207", annotator=None)
    fs = whole.fs_hz
    write_record(tmp_path, "vfl", whole.signal_mv[int(1540 * fs):int(1640 * fs)], fs, whole.lead_names, fmt="16")
    at = upload(start_app(), files_of(tmp_path, "vfl", ("hea", "dat")))
    assert not at.exception
    assert [e.value for e in at.error] == ["No beats found in record vfl: no QRS complexes distinguishable from noise; "
                                           "but its signal holds ventricular flutter/fibrillation: 1.5-98.5 s "
                                           "(97.0 s). Review the ECG."]
    events = frame_with(at, "event")
    assert "Ventricular flutter/fibrillation" in events["event"].tolist()


def test_full_disclosure_follows_the_window_and_a_page_moves_the_window(mitdb_dir):
    """The full disclosure on screen (session 62; a clinical read of session 60 found it only in the PDF): a page of
    ten minutes holds the detail window; choosing another page moves the window to its start."""
    at = upload(start_app(), files_of(mitdb_dir, "208"))
    assert not at.exception
    at.toggle(key="show_disclosure").set_value(True).run()
    assert not at.exception
    pages = at.selectbox(key="disclosure_page")
    assert len(pages.options) == 4 and pages.value == 0  # 30 min 5 s; the window opens at the start
    assert pages.options[-1] == "00:30:00 to 00:30:05"
    pages.select(2).run()
    assert not at.exception
    assert at.number_input(key="window_start_s").value == pytest.approx(1200.0)
    at.number_input(key="window_start_s").set_value(700.0).run()
    assert at.selectbox(key="disclosure_page").value == 1  # the page follows the window
    at.selectbox(key="disclosure_page").select(3).run()  # the last 5.6 s: the window ends with the record
    assert at.selectbox(key="disclosure_page").value == 3  # and the page stays (a code review, session 62)
    assert at.number_input(key="window_start_s").value == pytest.approx(1805.56 - 10, abs=0.01)


def test_upper_case_extensions_are_read_as_their_lower_case_names(analyses, excerpts_dir):
    """A Windows export's 119.HEA and 119.DAT were refused as 'no header 119.hea' (QA pass, session 45)."""
    files = [(name.replace(".hea", ".HEA").replace(".dat", ".DAT").replace(".atr", ".Atr"), data, kind)
             for name, data, kind in files_of(excerpts_dir, "119")]
    at = upload(start_app(), files)
    assert not at.exception and not at.error
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, analyses["119"].summary.beat_counts))
    assert any("with reference annotations" in c.value for c in at.caption)  # the .Atr is read as the reference


def test_a_review_file_of_another_record_or_name_is_not_used_and_says_so(analyses, excerpts_dir):
    """A QA pass found bytes of garbage read as 14 beats and 4 corrections, another record's labels taken as 90
    corrections, and '119 (1).ecg' (a browser's second download) ignored without a word (session 45)."""
    for review in (b"\x00\x01garbage" * 10, (excerpts_dir / "208.atr").read_bytes()):
        at = upload(start_app(), files_of(excerpts_dir, "119") + [("119.ecg", review, "application/octet-stream")])
        assert not at.exception
        assert any("does not fit this recording" in e.value for e in at.sidebar.error)
        assert shown_counts(at) == dict(zip(AAMI_CLASSES, analyses["119"].summary.beat_counts))  # the model's
    at = upload(start_app(), files_of(excerpts_dir, "119") + [("119 (1).ecg", b"", "application/octet-stream")])
    assert not at.exception and not at.error
    assert any(w.value.startswith("Not used: 119 (1).ecg.") for w in at.sidebar.warning)


def test_a_reference_of_another_record_is_said_not_to_fit(analyses, excerpts_dir):
    hea, dat, _ = files_of(excerpts_dir, "119")
    other = ("119.atr", (excerpts_dir / "208.atr").read_bytes(), "application/octet-stream")  # another record's
    at = upload(start_app(), [hea, dat, other])
    assert not at.exception and any("The reference annotations fit this signal poorly" in w.value for w in at.warning)
    at = upload(start_app(), files_of(excerpts_dir, "119"))
    assert not any("fit this signal poorly" in w.value for w in at.warning)


def test_an_unreadable_reference_file_is_named_and_the_record_still_analysed(analyses, excerpts_dir):
    hea, dat, atr = files_of(excerpts_dir, "119")
    at = upload(start_app(), [hea, dat, (atr[0], atr[1][:len(atr[1]) // 2 + 1], atr[2])])
    assert not at.exception and not at.error
    assert any("Reference annotations left out" in w.value and "119.atr" in w.value for w in at.warning)
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, analyses["119"].summary.beat_counts))


def test_an_uploaded_twelve_lead_record_can_be_read_on_another_primary_lead(excerpts_dir, tmp_path, analyses):
    from tests.made_records import TWELVE_LEADS, write_twelve_lead_record

    write_twelve_lead_record(excerpts_dir, tmp_path, name="twelve")
    at = upload(start_app(), files_of(tmp_path, "twelve"))
    assert not at.exception and not at.error
    lead_picker = picker(at, "Primary lead")
    assert lead_picker.value == "II" and sorted(lead_picker.options) == sorted(TWELVE_LEADS)
    assert any("leads II, V1 (of 12 ECG leads; not analysed: I, III" in c.value for c in at.caption)
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, analyses["119"].summary.beat_counts))  # II and V1 are 119's
    lead_picker.select("V5").run()
    assert not at.exception and not at.error
    assert picker(at, "Primary lead").value == "V5"
    assert any("leads V1, V5 (of 12 ECG leads" in c.value for c in at.caption)


def test_an_uploaded_one_lead_record_is_analysed_and_the_notes_say_so(excerpts_dir, tmp_path, analyses):
    """A Holter channel alone: classified from its one lead, its V beats found, the notes saying how it was read."""
    excerpt = read_record(excerpts_dir / "119")
    write_record(tmp_path, "mlii", excerpt.signal_mv[:, :1], excerpt.fs_hz, excerpt.lead_names[:1])
    at = upload(start_app(), files_of(tmp_path, "mlii", extensions=("hea", "dat")))
    assert not at.exception and not at.error
    assert shown_counts(at)["V"] >= 0.9 * analyses["119"].summary.beat_counts[AAMI_CLASSES.index("V")]
    assert any("Beats classified from one lead" in m.value for m in at.markdown)  # a bullet, capitalised


def test_uploading_several_records_asks_which_one(analyses, excerpts_dir):
    at = upload(start_app(), files_of(excerpts_dir, "100") + files_of(excerpts_dir, "119"))
    assert not at.exception
    assert at.selectbox(key="upload_record").options == ["100", "119"]
    at.selectbox(key="upload_record").select("119").run()
    assert at.subheader[0].value == "Record 119"
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, analyses["119"].summary.beat_counts))


def short_edf(tmp_path: Path) -> list[tuple[str, bytes, str]]:
    path = write_edf(tmp_path / "short.edf", np.full((360, 1), 0.1, np.float32), 360.0, ("ECG",))
    return [("short.edf", path.read_bytes(), "application/octet-stream")]


def flat_record(tmp_path: Path) -> list[tuple[str, bytes, str]]:
    write_record(tmp_path, "flat", np.zeros((3600, 2), np.float32), 360.0, ("MLII", "V1"))
    return [(p.name, p.read_bytes(), "application/octet-stream") for p in sorted(tmp_path.glob("flat.*"))]


def noise_record(tmp_path: Path) -> list[tuple[str, bytes, str]]:
    """30 s of noise in both leads: signal, but no QRS complex standing out of it."""
    noise = 0.2 * np.random.default_rng(1).normal(size=(30 * 360, 2))
    write_record(tmp_path, "noise", noise.astype(np.float32), 360.0, ("MLII", "V1"))
    return [(p.name, p.read_bytes(), "application/octet-stream") for p in sorted(tmp_path.glob("noise.*"))]


def no_ecg_record(tmp_path: Path) -> list[tuple[str, bytes, str]]:
    write_record(tmp_path, "resp", np.random.default_rng(0).normal(size=(3600, 1)).astype(np.float32), 360.0,
                 ("RESP",))
    return [(p.name, p.read_bytes(), "application/octet-stream") for p in sorted(tmp_path.glob("resp.*"))]


def truncated(excerpts_dir: Path) -> list[tuple[str, bytes, str]]:
    hea, dat = files_of(excerpts_dir, "119", ("hea", "dat"))
    return [hea, (dat[0], dat[1][:30_000], dat[2])]


def corrupt_zip() -> list[tuple[str, bytes, str]]:
    return [("record.zip", b"PK\x03\x04 this is not a zip archive", "application/zip")]


ERROR_CASES = {
    "header without .dat": (lambda d, t: files_of(d, "119", ("hea", "atr")), "names the signal file 119.dat"),
    ".dat without header": (lambda d, t: files_of(d, "119", ("dat",)), "without its header (119.hea)"),
    "text file": (lambda d, t: [("notes.txt", b"not an ECG", "text/plain")], "notes.txt: unsupported file type"),
    "truncated .dat": (lambda d, t: truncated(d), "the header declares 108000 samples"),
    "corrupt zip": (lambda d, t: corrupt_zip(), "not a readable zip archive"),
    "too short EDF": (lambda d, t: short_edf(t), "expected at least 2 s"),
    "no ECG lead": (lambda d, t: no_ecg_record(t), "expected at least one ECG lead"),
    "flat record": (lambda d, t: flat_record(t), "every lead analysed (MLII, V1) is missing or flat throughout"),
    "no beats": (lambda d, t: noise_record(t), "No beats found in record noise"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_user_errors_show_a_specific_message_and_the_next_upload_works(case, excerpts_dir, tmp_path, analyses):
    make_files, message = ERROR_CASES[case]
    at = upload(start_app(), make_files(excerpts_dir, tmp_path))
    assert not at.exception, at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    if case == "no beats":
        return
    at = upload(at, files_of(excerpts_dir, "119"))
    assert not at.exception and not at.error
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, analyses["119"].summary.beat_counts))


def test_zip_upload(excerpts_dir, analyses):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, _ in files_of(excerpts_dir, "208"):
            archive.writestr(f"208/{name}", data)
    at = upload(start_app(), [("208.zip", buffer.getvalue(), "application/zip")])
    assert not at.exception and not at.error
    assert shown_counts(at) == dict(zip(AAMI_CLASSES, analyses["208"].summary.beat_counts))


def test_event_type_narrows_the_event_list(analyses):
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    at.selectbox(key="event_kind").select("ventricular_couplet").run()
    assert not at.exception
    options = at.selectbox(key="event_choice").options
    couplets = analyses["208"].summary.event("ventricular_couplet").count
    assert len(options) == couplets + 1 and all("Ventricular couplet" in o for o in options[1:])


def tallied(at: AppTest, label: str) -> int:
    """Count of one event type in the overview's tally (0 when the type is not listed)."""
    tally = at.table[0].value
    return int(tally.loc[label, "count"]) if label in tally.index else 0


def test_event_thresholds_change_the_events_until_restored(model, excerpts_dir):
    """Record 232's excerpt has pauses of 2-3 s: at 3 s fewer are flagged, and the defaults bring them back."""
    analysis = analyse_record(read_record(excerpts_dir / "232"), model)
    raised = change_region_settings(analysis, RegionSettings(pause_s=3.0))
    assert analysis.summary.event("pause").count > raised.summary.event("pause").count
    at = start_app()
    at.selectbox(key="sample_record").select("232").run()
    assert tallied(at, "Pause") == analysis.summary.event("pause").count
    at.number_input(key="event_pause_s").set_value(3.0).run()
    assert not at.exception and not at.error
    assert tallied(at, "Pause") == raised.summary.event("pause").count
    assert any("pause RR over 3 s" in c.value for c in at.caption)
    assert len(frame_with(at, "confidence")) == len(raised.regions)
    at.number_input(key="event_vt_rate_bpm").set_value(150.0).run()
    assert any("3 or more beats over 150/100 bpm" in c.value for c in at.caption)
    at.number_input(key="event_tachycardia_bpm").set_value(60.0).run()
    at.number_input(key="event_bradycardia_bpm").set_value(70.0).run()
    expected = '"Bradycardia: heart rate under (bpm)" < "Tachycardia: heart rate over (bpm)"'  # the inputs' labels
    assert not at.exception and any(expected in w.value for w in at.warning)
    # one threshold left out, not the reader's others (all were dropped before session 37): pause and VT rate stay
    # ... and the warning names the one left out, whose box still shows the value typed (QA pass, session 45)
    assert any('"Tachycardia: heart rate over (bpm)" is left at its default, 100.0, not the 60.0 shown; the others '
               'are used' in w.value for w in at.warning)
    assert tallied(at, "Pause") == raised.summary.event("pause").count
    assert any("3 or more beats over 150/" in c.value for c in at.caption)
    at.button(key="event_defaults").click().run()
    assert not at.exception and not at.warning
    assert at.number_input(key="event_pause_s").value == RegionSettings().pause_s
    assert tallied(at, "Pause") == analysis.summary.event("pause").count


def test_changing_the_window_length_keeps_its_middle_in_view():
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    at.number_input(key="window_start_s").set_value(100.0).run()  # 10 s: 105 s in the middle
    at.select_slider(key="window_s").set_value(60).run()
    assert at.number_input(key="window_start_s").value == pytest.approx(80.0)  # 105 s in the third row's middle
    at.select_slider(key="window_s").set_value(10).run()
    assert at.number_input(key="window_start_s").value == pytest.approx(100.0)
    assert "Detail window 00:01:40 to 00:01:50 of 00:05:00" in [c.value for c in at.caption]
    at.select_slider(key="window_s").set_value(5).run()  # 105 s in the middle: a start of 102.5 s, said so
    assert "Detail window 00:01:42.5 to 00:01:47.5 of 00:05:00" in [c.value for c in at.caption]
    assert not at.exception


def test_a_stale_start_sent_with_a_length_change_does_not_move_the_window():
    """Arrow keys held on the length slider: a rerun is cut short before the start box shows its new start, and the
    browser's next request carries the next length with the start it still shows. The window must land where one
    change at a time puts it (it landed 10 s off), and a chosen event stays chosen."""
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    at.number_input(key="window_start_s").set_value(100.0).run()  # 10 s: 105 s in the middle
    at.select_slider(key="window_s").set_value(30).run()
    assert at.number_input(key="window_start_s").value == pytest.approx(90.0)  # 105 s in the second row's middle
    at.select_slider(key="window_s").set_value(60)
    at.number_input(key="window_start_s").set_value(100.0)  # the start the browser showed before, sent back
    at.run()
    assert at.number_input(key="window_start_s").value == pytest.approx(80.0)
    at.number_input(key="window_start_s").set_value(200.0).run()  # typed alone: the reader's start
    assert at.number_input(key="window_start_s").value == pytest.approx(200.0)
    at.select_slider(key="window_s").set_value(10).run()
    at.selectbox(key="event_choice").select(at.selectbox(key="event_choice").options[-1]).run()  # the last event
    chosen, shown = at.selectbox(key="event_choice").value, at.number_input(key="window_start_s").value
    at.select_slider(key="window_s").set_value(20)
    at.number_input(key="window_start_s").set_value(200.0)  # the start shown before the jump, sent back
    at.run()
    assert at.selectbox(key="event_choice").value == chosen and shown != pytest.approx(200.0)
    stale = at.number_input(key="window_start_s").value
    at.select_slider(key="window_s").set_value(10).run()
    at.select_slider(key="window_s").set_value(20).run()  # one change at a time: placed on the event again
    assert at.number_input(key="window_start_s").value == pytest.approx(stale) and not at.exception


def test_an_event_jumped_to_stays_in_view_when_the_window_shrinks(analyses):
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    analysis = analyses["208"]
    fs, duration = analysis.record.fs_hz, analysis.record.duration_s
    index = next(i for i, r in enumerate(analysis.regions) if r.start / fs > 80)
    at.select_slider(key="window_s").set_value(60).run()
    at.selectbox(key="event_choice").select(index).run()
    for window_s in (20, 5, 60):  # placed again as the jump places it (keeping the middle lost it when shrinking)
        at.select_slider(key="window_s").set_value(window_s).run()
        expected = tables.event_window_start(analysis.regions[index], fs, window_s, duration)
        assert at.number_input(key="window_start_s").value == pytest.approx(expected)
        assert expected <= analysis.regions[index].start / fs < expected + window_s
    at.number_input(key="window_start_s").set_value(100.0).run()  # placed by the reader: the middle is kept
    at.select_slider(key="window_s").set_value(20).run()
    assert at.number_input(key="window_start_s").value == pytest.approx(120.0)  # 125 s: first row's middle
    assert not at.exception


def test_marking_the_window_as_artefact_removes_its_events_until_the_mark_is_removed(analyses):
    from app.analysis import mark_artefacts

    analysis = analyses["208"]
    fs = analysis.record.fs_hz
    marked = mark_artefacts(analysis, [(int(60 * fs), int(80 * fs))])
    assert len(marked.regions) < len(analysis.regions)
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    at.select_slider(key="window_s").set_value(20).run()
    at.number_input(key="window_start_s").set_value(60.0).run()
    assert any("alone, in rows of 10 s" in c.value for c in at.caption)  # a 20-s window: the primary lead's rows
    next(b for b in at.button if b.label == "Mark this window as artefact").click().run()
    assert not at.exception and not at.error
    assert len(frame_with(at, "confidence")) == len(marked.regions)
    assert any(m.label == "Readable signal" and m.value == tables.format_percent(100 * marked.summary.readable_fraction)
               for m in at.metric)
    assert any("Artefact 00:01:00 to 00:01:20" in md.value for md in at.markdown)
    next(b for b in at.button if b.label == "Remove").click().run()
    assert not at.exception
    assert len(frame_with(at, "confidence")) == len(analysis.regions)
    assert not any(b.label == "Remove" for b in at.button)


def af_burden_shown(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "AF/flutter burden")


def test_an_af_episode_ruled_out_by_the_reader_leaves_the_burden_until_the_correction_is_removed():
    """201's excerpt, atrial fibrillation throughout: chosen in the event list, the episode is ruled out with one
    button (before, only 'Mark this window as artefact' removed it, which took its beats out of the readable time)."""
    at = start_app()
    at.selectbox(key="sample_record").select("201").run()
    before = af_burden_shown(at)
    assert float(before.rstrip(" %")) > 95
    at.selectbox(key="event_kind").select("atrial_fibrillation").run()
    at.button(key="event_step_1").click().run()
    next(b for b in at.button if b.label == "Rule out atrial fibrillation/flutter").click().run()
    assert not at.exception and not at.error
    assert af_burden_shown(at) == "0.0 %"
    assert next(m.value for m in at.metric if m.label == "Readable signal") == "100.0 %"
    assert any(md.value.startswith("Atrial fibrillation/flutter ruled out: 00:00:00 to") for md in at.markdown)
    assert any(c.value.startswith("Atrial rhythm corrected by the reader: atrial fibrillation/flutter ruled out at "
                                  "00:00:00-") for c in at.caption)  # the overview says so (a clinical read)
    at.button(key=next(b.key for b in at.button if b.key.startswith("remove_af_edit"))).click().run()
    assert not at.exception and af_burden_shown(at) == before


def test_a_window_ruled_free_of_af_trims_the_episode_around_it():
    """A clinical read (session 63): only a whole episode could be ruled out, so a wrong onset could not be trimmed.
    201's excerpt (AF throughout) with 60-70 s ruled free of AF: two episodes, on either side."""
    at = start_app()
    at.selectbox(key="sample_record").select("201").run()
    at.number_input(key="window_start_s").set_value(60.0).run()
    next(b for b in at.button if b.label == "No atrial fibrillation/flutter in this window").click().run()
    assert not at.exception and not at.error
    events = frame_with(at, "confidence")
    af = events[events["event"].str.startswith("Atrial fibrillation")]
    assert len(af) == 2 and list(af["start"]) == ["00:00:00", "00:01:09"], af  # the interval across 70 s is AF
    assert any(md.value == "Atrial fibrillation/flutter ruled out: 00:01:00 to 00:01:10" for md in at.markdown)
    assert any("flutter ruled out by the reader" in chart.proto.spec for chart in at.get("plotly_chart"))  # barred


def test_a_window_the_reader_marks_as_af_is_an_episode_that_a_saved_review_brings_back(analyses, excerpts_dir):
    """100's excerpt, sinus rhythm: the 60-s window from 1 min marked as atrial fibrillation/flutter is an episode
    (a fifth of the excerpt); the review file saved with it restores it on upload."""
    from app.analysis import edit_analysis
    from app.outputs import annotation_file_bytes

    at = start_app()
    at.selectbox(key="sample_record").select("100").run()
    assert af_burden_shown(at) == "0.0 %"
    at.select_slider(key="window_s").set_value(60).run()
    at.number_input(key="window_start_s").set_value(60.0).run()
    next(b for b in at.button if b.label == "Mark this window as atrial fibrillation/flutter").click().run()
    assert not at.exception and not at.error
    fs = analyses["100"].record.fs_hz
    stated = edit_analysis(analyses["100"], af_edits=[(int(60 * fs), int(120 * fs), True)])
    assert af_burden_shown(at) == tables.format_percent(stated.summary.af_burden_pct) != "0.0 %"
    assert len(frame_with(at, "confidence")) == len(stated.regions)
    assert any(md.value == "Atrial fibrillation/flutter stated: 00:01:00 to 00:02:00" for md in at.markdown)
    at = upload(start_app(), files_of(excerpts_dir, "100") + [("100.ecg", annotation_file_bytes(stated),
                                                               "application/octet-stream")])
    assert not at.exception and not at.error
    assert any("no beat label of it differs from the model's; its 1 atrial-rhythm correction restored" in i.value
               for i in at.sidebar.info)
    assert af_burden_shown(at) == tables.format_percent(stated.summary.af_burden_pct)


def test_the_dashboard_starts_from_a_laboratory_s_event_thresholds(tmp_path, monkeypatch):
    """``ecg dashboard --events FILE`` sets ECG_EVENTS_FILE; the sidebar starts from it and restores to it."""
    from app.event_settings import EVENTS_ENV

    path = tmp_path / "lab.toml"
    path.write_text("pause_s = 12.0\nbradycardia_bpm = 40\n[fibrillation]\nenabled = false\n")
    monkeypatch.setenv(EVENTS_ENV, str(path))
    at = start_app()
    assert at.number_input(key="event_pause_s").value == 12.0  # outside the usual range: the range widens
    assert at.number_input(key="event_bradycardia_bpm").value == 40.0
    assert at.checkbox(key="event_vf_detection").value is False
    assert any("Defaults from lab.toml" in c.value for c in at.caption)
    assert any("pause RR over 12 s" in c.value and "detection off" in c.value for c in at.caption)
    at.number_input(key="event_pause_s").set_value(2.0).run()
    at.button(key="event_defaults").click().run()
    assert at.number_input(key="event_pause_s").value == 12.0
    path.write_text("pause_s = -1\n")
    at = start_app()
    assert any("pause_s=-1.0" in e.value and "clinical defaults are used" in e.value for e in at.sidebar.error)
    assert at.number_input(key="event_pause_s").value == 2.0


def test_an_uploaded_diary_is_shown_with_the_rhythm_and_can_be_gone_to(analyses, excerpts_dir):
    diary = b"time,symptom\n00:01:10, dizzy\n00:04:50, chest pain\n"
    at = upload(start_app(), files_of(excerpts_dir, "119") + [("119.diary.csv", diary, "text/csv")])
    assert not at.exception and not at.error
    table = frame_with(at, "noted")
    assert list(table["noted"]) == ["dizzy", "chest pain"] and list(table["time"]) == ["00:01:10", "00:04:50"]
    assert any("2 entries: 2 with an event within 1 min, 0 without" in m.value for m in at.markdown)
    assert all("ventricular" in text and "bpm" not in text for text in table["ECG within a minute"])
    options = at.selectbox(key="event_choice").options
    assert any(option.endswith("Diary: chest pain") for option in options)
    at.selectbox(key="event_choice").select(tables.DIARY_CHOICE - 1).run()
    assert at.number_input(key="window_start_s").value == pytest.approx(285.0)
    box = next(area for area in at.sidebar.text_area if area.label.startswith("One entry per line"))
    box.set_value("00:01:10, dizzy\nlater, tired\n").run()
    assert any("line 2: received time 'later'" in e.value for e in at.sidebar.error)
    assert not any("noted" in frame.value.columns for frame in at.dataframe)  # left out until corrected
    # a line outside the recording is left out and said, the others kept, as the batch does (QA pass, session 50)
    box.set_value("00:01:10, dizzy\n02:00:00, tired\n").run()
    assert not at.sidebar.error
    assert any("line 2: time 02:00:00 is past the end of the recording: outside the recording (00:00:00 to "
               "00:05:00), left out" in w.value for w in at.sidebar.warning)
    assert list(frame_with(at, "noted")["noted"]) == ["dizzy"]


def test_sample_119_opens_with_its_example_diary(analyses):
    at = start_app()
    at.selectbox(key="sample_record").select("119").run()
    assert not at.exception and not at.error
    assert list(frame_with(at, "noted")["noted"]) == ["felt a thump in the chest", "dizzy, sat down", "palpitations"]


def test_the_reader_s_conclusion_comes_back_with_an_uploaded_review(analyses, excerpts_dir):
    from app.analysis import add_conclusion
    from app.conclusion import MAX_CONCLUSION_CHARS
    from app.outputs import annotation_file_bytes

    saved = annotation_file_bytes(add_conclusion(analyses["100"], "Sinus rhythm, no arrhythmia.\nDr A. Reader"))
    at = upload(start_app(), files_of(excerpts_dir, "100") + [("100.ecg", saved, "application/octet-stream")])
    assert not at.exception and not at.error
    box = next(area for area in at.text_area if area.label.startswith("Reader's conclusion"))
    assert box.value == "Sinus rhythm, no arrhythmia.\nDr A. Reader"
    assert any("reader's conclusion is restored" in i.value for i in at.sidebar.info)
    included = "The downloads below include the conclusion saved: \"Sinus rhythm"
    assert any(c.value.startswith(included) for c in at.caption)
    save = next(b for b in at.button if b.label == "Save the conclusion for the downloads")
    box.set_value("x" * (MAX_CONCLUSION_CHARS + 1))
    save.click().run()  # the form sends the text with its button
    assert any(f"expected at most {MAX_CONCLUSION_CHARS}" in e.value for e in at.error)
    box = next(area for area in at.text_area if area.label.startswith("Reader's conclusion"))
    box.set_value("")
    next(b for b in at.button if b.label == "Save the conclusion for the downloads").click().run()
    assert any(c.value.startswith("The downloads below have no conclusion") for c in at.caption)


def strip_rows(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("Strip ")]


def test_a_window_chosen_as_a_strip_is_listed_shown_and_removed(analyses):
    at = start_app()
    at.number_input(key="window_start_s").set_value(40.0).run()
    box = next(t for t in at.text_input if t.label == "Title of the strip (optional)")
    box.set_value("Patient felt a thump")
    next(b for b in at.button if b.label == "Add this window to the report").click().run()  # the form sends both
    assert not at.exception and not at.error
    assert strip_rows(at) == ["Strip 00:00:41: Patient felt a thump"]  # the 10-s window's middle 7.5 s
    assert any(c.value.startswith("1 strip chosen for the report") for c in at.caption)
    assert any(c.value == "The report and the annotation file include the 1 strip chosen on the ECG tab."
               for c in at.caption)  # the downloads hold it
    at.number_input(key="window_start_s").set_value(100.0).run()
    next(b for b in at.button if b.label == "Show").click().run()
    assert at.number_input(key="window_start_s").value == pytest.approx(40.0)
    next(b for b in at.button if b.label == "Remove" and "strip" in b.key).click().run()
    assert strip_rows(at) == [] and any(c.value == "No strip chosen for the report." for c in at.caption)


def test_strips_chosen_in_an_earlier_review_come_back_with_it(analyses, excerpts_dir):
    from app.analysis import add_reader_strips
    from app.outputs import annotation_file_bytes
    from app.reader_strips import ReaderStrip

    fs = analyses["100"].record.fs_hz
    saved = annotation_file_bytes(add_reader_strips(analyses["100"], [ReaderStrip(int(20 * fs), "Sinus rhythm"),
                                                                      ReaderStrip(int(130 * fs), "")]))
    at = upload(start_app(), files_of(excerpts_dir, "100") + [("100.ecg", saved, "application/octet-stream")])
    assert not at.exception and not at.error
    assert strip_rows(at) == ["Strip 00:00:20: Sinus rhythm", "Strip 00:02:10: (no title)"]
    assert any("its 2 strips chosen for the report restored" in i.value for i in at.sidebar.info)


def test_the_pacemaker_checkbox_says_so_and_what_a_pacemaker_that_never_paced_leaves(analyses):
    at = start_app()
    assert any(m.label == "SDNN" for m in at.metric)  # sample 100: five minutes of normal beats
    assert not any("Pacing spikes" in w.value for w in at.warning)
    box = next(b for b in at.sidebar.checkbox if b.label == "The patient has a pacemaker")
    box.check().run()
    assert not at.exception and not at.error
    notes = " ".join(m.value for m in at.markdown)
    assert "Pacemaker (stated by the user): the classifier was not trained on paced beats" in notes  # a bullet
    assert "No beat was found paced" in notes
    # no beat paced: HRV, ST and QT are measured on the intrinsic beats (until session 46 they were left out)
    assert "The pacemaker paced under 10 % of the beats" in notes and any(m.label == "SDNN" for m in at.metric)
    assert "HRV not assessed" not in notes and "ST and QT not assessed" not in notes
    box = next(b for b in at.sidebar.checkbox if b.label == "The patient has a pacemaker")
    box.uncheck().run()
    assert "Pacemaker (stated by the user)" not in " ".join(m.value for m in at.markdown)


def test_stating_the_pacemaker_of_sample_217_labels_its_paced_beats(analyses):
    """Sample 217 is a paced patient: ticked, the pacing rule labels the paced beats Q and the V calls drop."""
    at = start_app()
    at.selectbox(key="sample_record").select("217").run()
    before = shown_counts(at)
    # its pacing spikes ask for the checkbox (session 56)
    assert any(w.value.startswith("Pacing spikes before") and "The patient has a pacemaker" in w.value
               for w in at.warning)
    box = next(b for b in at.sidebar.checkbox if b.label == "The patient has a pacemaker")
    box.check().run()
    assert not at.exception and not at.error
    assert not any("Pacing spikes" in w.value for w in at.warning)
    after = shown_counts(at)
    assert after["Q"] > 0.7 * sum(after.values()) and before.get("Q", 0) == 0  # 5 minutes: 301 paced of 372 beats
    assert after["V"] < before["V"]
    assert "labelled paced" in " ".join(m.value for m in at.markdown)
    # the paced stretches are an event of their own (session 45), absent before the pacemaker was stated
    assert tallied(at, "Paced rhythm") >= 1
    assert any('"name":"Paced rhythm"' in chart.proto.spec for chart in at.get("plotly_chart"))  # the event lane


def test_heart_rate_turbulence_is_shown_or_why_not(model, excerpts_dir):
    hrt = analyse_record(read_record(excerpts_dir / "106"), model).summary.hrt
    at = start_app()  # sample 100: no ventricular premature beat
    expected = "**Heart-rate turbulence**: not assessed — no ventricular premature beats."
    assert any(md.value == expected for md in at.markdown)
    at.selectbox(key="sample_record").set_value("106").run()
    assert not at.exception and hrt.assessed
    shown = {m.label: m.value for m in at.metric}
    reliable = hrt.n_qualifying >= HrtSettings().reliable_vpcs  # fewer VPCs: no category headline (QA, session 49)
    assert shown["Turbulence onset"] == f"{hrt.turbulence_onset_pct:.2f} %"
    assert shown["Category"] == (hrt.category if reliable else "no category")
    assert shown["VPCs measured"] == f"{hrt.n_qualifying} of {hrt.n_vpcs}"
    assert any("RR (ms)" in chart.proto.spec and "TS " in chart.proto.spec for chart in at.get("plotly_chart"))
    lorenz = [c for c in at.get("plotly_chart") if "RR before the beat (ms)" in c.proto.spec]  # the ECG tab's
    assert len(lorenz) == 1 and '"name":"V (' in lorenz[0].proto.spec


def test_the_event_picker_says_when_it_lists_only_the_first_events(monkeypatch):
    """A 24-h record has thousands of events and the picker lists the first MAX_EVENT_CHOICES; a QA pass found the cut
    said only in its help (session 45)."""
    monkeypatch.setattr(views, "MAX_EVENT_CHOICES", 5)
    at = start_app()
    at.selectbox(key="sample_record").select("119").run()
    assert not at.exception
    assert any(c.value.startswith("The first 5 of ") and "events are listed" in c.value for c in at.caption)


def test_an_event_past_the_picker_s_first_events_stays_chosen(monkeypatch, analyses):
    """Previous and Next (and a row of the event list) reach every event, but the picker lists the first
    MAX_EVENT_CHOICES: an event past them was un-chosen at the next rerun, so its "Chosen event" line and relabelling
    vanished while the window showed it (a code review, session 61)."""
    monkeypatch.setattr(views, "MAX_EVENT_CHOICES", 2)
    at = start_app()
    at.selectbox(key="sample_record").select("119").run()
    regions = analyses["119"].regions
    kind = next(k for k in {r.kind for r in regions} if sum(r.kind == k for r in regions) >= 4)
    at.selectbox(key="event_kind").select(kind).run()
    for _ in range(3):
        at.button(key="event_step_1").click().run()
    third = sorted((i for i, r in enumerate(regions) if r.kind == kind), key=lambda i: regions[i].start)[2]
    assert at.selectbox(key="event_choice").value == third
    assert any(c.value.startswith("Chosen event: #") for c in at.caption)


def test_the_ecg_window_states_its_paper_speed_and_the_record_s_gain(excerpts_dir):
    """The detail chart is drawn at the record's strip gain (QA pass, session 49: it was rescaled to each window), and
    the caption under it says which: 10 mm/mV for sample 100, 5 mm/mV for 208's tall ventricular beats, as their
    reports' strips."""
    from app.dashboard import charts
    from app.strips import strip_gain_mm_per_mv

    at = start_app()
    for name, expected in (("100", 10.0), ("208", 5.0)):
        if name != "100":
            at.selectbox(key="sample_record").select(name).run()
        record = read_record(excerpts_dir / name)
        record_gain = strip_gain_mm_per_mv(record)
        assert record_gain == expected
        start_s, window_s = at.number_input(key="window_start_s").value, at.session_state["window_s"]
        gain = charts.window_gain_mm_per_mv(record.signal_mv, record.fs_hz, start_s, window_s, record.primary_lead,
                                            record_gain)
        assert any(c.value.startswith(views.describe_paper(gain, record_gain)) for c in at.caption), name
        assert any(c.value.startswith(f"Paper: 25 mm/s, {expected:g} mm/mV") for c in at.caption), name


def test_the_dashboard_refuses_to_run_where_streamlit_would_send_usage_statistics():
    """`streamlit run` started outside the repository reads no `.streamlit/config.toml`, and Streamlit's default
    gathers usage statistics: the page says how to start it instead (code review, session 54)."""
    from streamlit import config

    assert config.get_option("browser.gatherUsageStats") is False  # the project's settings, as `ecg dashboard` has
    config.set_option("browser.gatherUsageStats", True)
    try:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
        at.run()
    finally:
        config.set_option("browser.gatherUsageStats", False)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] and "would send usage statistics" in at.error[0].value
    assert not at.sidebar.selectbox  # nothing of the page was drawn
    normal = start_app()
    assert normal.sidebar.selectbox and "would send usage statistics" not in " ".join(e.value for e in normal.error)


def test_an_event_found_from_the_rhythm_offers_no_relabelling_of_its_beats(analyses):
    """A clinical read of the dashboard (session 60) found "Its beats are N" and "Relabel the event's N beats" offered
    on pauses and AF episodes, whose beats' classes do not make them: 232's pauses say how to correct them instead."""
    at = start_app()
    at.selectbox(key="sample_record").select("232").run()
    regions = analyses["232"].regions
    pauses = [i for i, r in enumerate(regions) if r.kind == "pause"]
    assert pauses
    at.selectbox(key="event_kind").select("pause").run()
    at.button(key="event_step_1").click().run()
    assert at.selectbox(key="event_choice").value in pauses
    assert not any(b.label.startswith("Relabel the event") for b in at.button)
    assert any(c.value.startswith("Chosen event: ") and "not from its beats' classes" in c.value for c in at.caption)
    isolated = [r.kind for r in regions if r.kind.startswith("isolated_")]
    assert isolated  # an ectopic event of the same record still offers it
    at.selectbox(key="event_kind").select(isolated[0]).run()
    at.button(key="event_step_1").click().run()
    assert any(b.label == "Relabel the event's 1 beat" for b in at.button)


def count_runs_of(symbols, members: str, length: int) -> int:
    """Maximal runs of exactly ``length`` beats among ``symbols`` whose symbol is in ``members``."""
    import itertools

    return sum(len(list(group)) == length for inside, group in itertools.groupby(symbols, lambda s: s in members)
               if inside)


def test_the_reference_comparison_scores_the_events_run_by_run_and_by_episode(analyses, excerpts_dir):
    """A clinical read of the dashboard (session 60) found the reference comparison beat by beat only. The couplets of
    208 and the bigeminy episodes of 119 are counted here from the .atr file and the analysis's own labels."""
    from pipeline.labels import is_beat_symbol

    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    assert not at.exception
    runs = frame_with(at, "confirmed").set_index("runs")
    reference = read_record(excerpts_dir / "208").annotations
    beats = [s for s in reference.symbols if is_beat_symbol(np.array([s]))[0]]
    assert runs.loc["Ventricular couplets", "reference"] == count_runs_of(beats, "VErF", 2) > 50
    analysed = count_runs_of(list(analyses["208"].classes), "VF", 2)
    assert runs.loc["Ventricular couplets", "analysis"] == analysed > 0
    found = runs.loc["Ventricular couplets", "found"]
    assert runs.loc["Ventricular couplets", "Se %"] == f"{100 * found / count_runs_of(beats, 'VErF', 2):.1f}"
    at.selectbox(key="sample_record").select("119").run()
    episodes = frame_with(at, "episode Se %").set_index("rhythm")
    notes = read_record(excerpts_dir / "119").annotations.aux_notes
    assert episodes.loc["Ventricular bigeminy", "reference episodes"] == sum(n.strip("\x00") == "(B" for n in notes) > 0
    assert "Events against the reference" in [m.value.strip("*") for m in at.markdown]


def test_a_time_typed_as_hh_mm_ss_centres_the_window_on_it():
    """A clinical read of the dashboard (session 60) found the window's start typed in seconds only, while every time
    on the page reads hh:mm:ss; a time that cannot be read, or lies outside the recording, says so."""
    at = start_app()
    at.text_input(key="go_to_time").input("00:02:30").run()
    assert not at.exception
    assert at.number_input(key="window_start_s").value == pytest.approx(150 - tables.middle_offset_s(10))
    at.text_input(key="go_to_time").input("2:3x").run()
    assert any(c.value.startswith("Go to time: received time '2:3x'; expected") for c in at.caption)
    assert at.number_input(key="window_start_s").value == pytest.approx(150 - tables.middle_offset_s(10))
    at.text_input(key="go_to_time").input("01:00:00").run()
    assert any(c.value == "Go to time: 01:00:00 lies outside the recording, which lasts 00:05:00." for c in at.caption)


def test_a_record_with_a_diary_keeps_its_analysis_from_rerun_to_rerun():
    """Sample 119 opens with a diary: the analysis with it was made anew at every rerun, so every figure and table was
    computed again and the event list got a new key at each click (scrolled back to the top, its sort dropped; a
    clinical read through a browser, session 61)."""
    at = start_app()
    at.selectbox(key="sample_record").select("119").run()
    shown = at.session_state["event_tables_shown"]
    for _ in range(2):
        at.button(key="event_step_1").click().run()
    assert not at.exception
    assert at.session_state["event_tables_shown"] == shown


def test_an_unreadable_stretch_says_what_it_is_when_chosen(tmp_path, excerpts_dir):
    """A clinical read through a browser (session 61): an unreadable stretch's line said it was found from the rhythm
    and "removed with 'Mark this window as artefact'", and one without beats had no line."""
    record = read_record(excerpts_dir / "100")
    signal = record.signal_mv.astype(np.float32).copy()
    lo, hi = int(40 * record.fs_hz), int(70 * record.fs_hz)
    signal[lo:hi] += 1.5 * np.random.default_rng(3).normal(size=(hi - lo, signal.shape[1])).astype(np.float32)
    write_record(tmp_path, "noisy", signal, record.fs_hz, record.lead_names)
    at = upload(start_app(), [(p.name, p.read_bytes(), "application/octet-stream")
                              for p in sorted(tmp_path.glob("noisy.*"))])
    assert not at.exception
    assert "Unreadable" in at.selectbox(key="event_kind").options  # shown by label, selected by kind
    at.selectbox(key="event_kind").select("unreadable").run()
    at.button(key="event_step_1").click().run()
    lines = [c.value for c in at.caption if c.value.startswith("Chosen event: ")]
    assert len(lines) == 1 and "Signal the analysis could not read on any lead" in lines[0], lines
    assert not any(b.label.startswith("Relabel the event") for b in at.button)


def test_a_disagreement_with_the_reference_can_be_gone_to(analyses):
    """A clinical read of the dashboard (session 60): the disagreements were crosses on the chart with no way to step
    through them. Choosing one moves the ECG tab's window to it and chooses the beat for relabelling."""
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    analysis = analyses["208"]
    disagreements = tables.compare_with_reference(analysis).disagreements
    k = next(k for k, (sample, text) in enumerate(disagreements) if text.startswith("ref ") and sample > 60 * 360)
    sample, text = disagreements[k]
    picker = at.selectbox(key="disagreement_choice")
    assert picker.options[k + 1].endswith(f"reference {text[4:]}, analysis "
                                          f"{analysis.classes[np.searchsorted(analysis.predictions.samples, sample)]}")
    picker.select(k).run()
    assert not at.exception
    beat = int(np.searchsorted(analysis.predictions.samples, sample))
    assert at.selectbox(key="beat_choice").value == beat
    start = at.number_input(key="window_start_s").value
    assert start < sample / 360 < start + 10


def test_a_deleted_detection_and_a_missed_beat_added_back_change_the_counts_and_the_corrections_follow(
        analyses, excerpts_dir):
    """Holter editing of the beat list (missing until session 64): the chosen beat deleted (key Delete) leaves one N
    beat fewer and says so on the overview; a correction after it keeps its beat; adding the beat back from a time
    near its QRS takes the deletion back; a time next to a beat is refused with the reason; a saved review brings the
    deletion back."""
    from app.analysis import edit_beats
    from app.outputs import annotation_file_bytes

    analysis = analyses["100"]
    samples, fs = analysis.predictions.detected_samples, analysis.record.fs_hz
    at = start_app()
    before = shown_counts(at)
    at.selectbox(key="beat_choice").select(5).run()
    at.button(key="relabel_as_V").click().run()  # beat 5 corrected, then beat 3 deleted: the correction is beat 4's
    at.selectbox(key="beat_choice").select(3).run()
    next(b for b in at.button if b.label == "Delete chosen beat").click().run()
    assert not at.exception and not at.error
    assert shown_counts(at)["N"] == before["N"] - 2 and shown_counts(at)["V"] == before["V"] + 1
    time_text = charts.format_hms(analysis.predictions.samples[3] / fs, 2)  # where its letter stood
    assert any(s.value.startswith(f"Beat at {time_text} deleted: beats {len(samples)} → {len(samples) - 1}, "
                                  "classified again; ") for s in at.success)
    assert any(md.value == f"Detection deleted at {time_text}" for md in at.markdown)
    assert any(c.value.startswith("Beats edited by the reader: 1 detection deleted (") for c in at.caption)
    listed = frame_with(at, "reader")
    assert listed.to_dict("records")[0]["beat"] == 4 and listed.to_dict("records")[0]["reader"] == "V"
    at.number_input(key=next(n.key for n in at.number_input if n.label == "Missed beat near (s)")).set_value(
        round(samples[4] / fs + 0.05, 2)).run()
    next(b for b in at.button if b.label == "Add beat").click().run()
    assert any("a beat is already marked on the QRS nearest" in w.value for w in at.warning)
    at.number_input(key=next(n.key for n in at.number_input if n.label == "Missed beat near (s)")).set_value(
        round(samples[3] / fs + 0.06, 2)).run()
    next(b for b in at.button if b.label == "Add beat").click().run()
    assert not at.exception and not at.warning
    assert any(s.value.startswith(f"The beat you deleted at {time_text} is back") for s in at.success)
    assert shown_counts(at)["N"] == before["N"] - 1  # the deletion is taken back; beat 5 stays V
    assert frame_with(at, "reader").to_dict("records")[0]["beat"] == 5
    assert not any(md.value.startswith("Detection deleted at") for md in at.markdown)
    at.selectbox(key="beat_choice").select(5).run()  # the corrected beat deleted and brought back keeps its correction
    next(b for b in at.button if b.label == "Delete chosen beat").click().run()
    assert "reader" not in [c for frame in at.dataframe for c in frame.value.columns] or all(
        r["beat"] != 5 for r in frame_with(at, "reader").to_dict("records"))
    at.number_input(key=next(n.key for n in at.number_input if n.label == "Missed beat near (s)")).set_value(
        round(samples[5] / fs, 2)).run()
    next(b for b in at.button if b.label == "Add beat").click().run()
    assert frame_with(at, "reader").to_dict("records")[0]["beat"] == 5
    assert frame_with(at, "reader").to_dict("records")[0]["reader"] == "V"
    middle = round(samples[7] / fs, 2)  # calipers dragged across a QRS offer its time to the field
    at.session_state["detail_calipers"] = ((0.0, 10.0), (middle - 0.1, middle + 0.1), False)
    at.run()
    assert next(n.value for n in at.number_input if n.label == "Missed beat near (s)") == pytest.approx(middle)
    deleted = edit_beats(analysis, load_default_model(), [(int(samples[3]), False)])
    at = upload(start_app(), files_of(excerpts_dir, "100") + [("100.ecg", annotation_file_bytes(deleted),
                                                               "application/octet-stream")])
    assert not at.exception and not at.error
    assert any("its 1 beat edit (deleted or added beats) restored" in i.value for i in at.sidebar.info)
    assert shown_counts(at)["N"] == before["N"] - 1
    assert any(md.value == f"Detection deleted at {time_text}" for md in at.markdown)


def test_a_review_file_edited_in_another_program_brings_its_beat_edits_and_every_one_can_be_removed(
        analyses, excerpts_dir, tmp_path):
    """100's saved review with 25 beats taken out, as a reader deleting false detections in WAVE leaves it (no beat
    notes): on upload the 25 are the reader's deleted detections, and since they are more than a page lists, one
    chosen from all of them in time order is shown and removed (until session 65 only the first 20 were listed)."""
    from app.outputs import output_annotations
    from pipeline.labels import is_beat_symbol
    from pipeline.records import write_annotations

    analysis = analyses["100"]
    saved = output_annotations(analysis)
    beats = np.flatnonzero(is_beat_symbol(saved.symbols))
    taken = beats[10:260:10]
    write_annotations(tmp_path, "100", "ecg", saved.select(~np.isin(np.arange(len(saved)), taken)), fs_hz=360.0)
    at = upload(start_app(), files_of(excerpts_dir, "100") + [("100.ecg", (tmp_path / "100.ecg").read_bytes(),
                                                               "application/octet-stream")])
    assert not at.exception and not at.error
    assert any("its 25 beat edits (deleted or added beats) restored" in i.value for i in at.sidebar.info)
    before = shown_counts(at)["N"]
    chooser = at.selectbox(key=next(s.key for s in at.selectbox if s.label == "All 25, in time order"))
    assert len(chooser.options) == 25 and all(o.startswith("Detection deleted at") for o in chooser.options)
    last = chooser.options[-1]
    assert last == f"Detection deleted at {charts.format_hms(saved.samples[taken[-1]] / 360.0, 2)}"
    chooser.select(24).run()  # the edits' own order is the beats' here: the last in time
    next(b for b in at.button if b.key.startswith("remove_beat_edit_24_")).click().run()
    assert not at.exception
    assert any(s.label == "All 24, in time order" for s in at.selectbox)
    assert shown_counts(at)["N"] == before + 1
    assert not any(o == last for s in at.selectbox if s.label == "All 24, in time order" for o in s.options)


def test_a_family_of_false_detections_is_deleted_at_once_and_every_beat_edit_taken_back_at_once(analyses):
    """Holter review deletes an artefact template at once (session 65): 208's excerpt's family 4 (7 beats) deleted
    from the Review labels tab says what changed there, the ECG tab lists the 7 deletions, and one button takes
    every beat edit back; the dominant family is refused with the reason."""
    analysis = analyses["208"]
    n = len(analysis.predictions)
    assert int(np.sum(analysis.families == 4)) == 7
    at = start_app()
    at.selectbox(key="sample_record").select("208").run()
    before = shown_counts(at)
    picker(at, "Family").select(4).run()
    next(b for b in at.button if b.label == "Delete these beats: no QRS").click().run()
    assert not at.exception and not at.error
    assert any(s.value.startswith(f"7 beats of family 4 deleted: beats {n} → {n - 7}, classified again; ")
               for s in at.success)
    assert sum(shown_counts(at).values()) == sum(before.values()) - 7
    assert any(c.value.startswith("Beats: 7 edits of yours") for c in at.caption)
    next(b for b in at.button if b.label == "Take back every beat edit").click().run()
    assert any(s.value.startswith(f"Every beat edit taken back: beats {n - 7} → {n}, ") for s in at.success)
    assert shown_counts(at) == before
    picker(at, "Family").select(0).run()
    next(b for b in at.button if b.label == "Delete these beats: no QRS").click().run()
    assert any("% of the record's: the patient's own rhythm" in w.value for w in at.warning)
    assert shown_counts(at) == before
