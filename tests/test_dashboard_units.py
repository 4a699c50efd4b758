"""Plain functions of the dashboard (no Streamlit): uploads, chart helpers, tables, the launcher."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from app import disclosure
from app.dashboard import charts, tables
from app.dashboard.uploads import (UploadedData, UploadError, choose_record, collect_files, list_record_names,
                                   read_signal_file_names, read_uploaded_record, read_uploaded_review_labels)
from app.dashboard_cli import build_streamlit_command
from pipeline.edf import write_edf
from pipeline.errors import SignalTooShortError, TruncatedSignalError
from pipeline.records import read_record
from pipeline.regions import Region, find_regions
from pipeline.summary import summarize_record, summary_to_dict
from tests.made_records import write_multi_segment


def upload(excerpts_dir: Path, *names: str) -> list[UploadedData]:
    return [UploadedData(name, (excerpts_dir / name).read_bytes()) for name in names]


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- uploads -------------------------------------------------------------------------------------


def test_read_uploaded_wfdb_files_match_the_record_on_disk(excerpts_dir):
    record = read_uploaded_record(upload(excerpts_dir, "119.hea", "119.dat", "119.atr"))
    assert record.name == "119"
    assert record.n_samples == 108_000
    assert record.annotations is not None and len(record.annotations) > 300


def test_an_uploaded_review_file_is_read_at_the_internal_rate_and_a_bad_one_named(excerpts_dir):
    files = upload(excerpts_dir, "119.hea", "119.dat")
    record = read_uploaded_record(files)
    assert read_uploaded_review_labels(files, record) is None
    # the reference file renamed .ecg stands in for a saved review: same beats, same samples
    saved = read_uploaded_review_labels(files + [UploadedData("119.ecg", (excerpts_dir / "119.atr").read_bytes())],
                                        record)
    reference = read_uploaded_record(upload(excerpts_dir, "119.hea", "119.dat", "119.atr")).annotations
    assert saved.samples.tolist() == reference.samples.tolist()
    zipped = [UploadedData("119.zip", zip_bytes({"119.hea": files[0].data, "119.dat": files[1].data,
                                                 "119.ecg": b"\x00\x01garbage"}))]
    with pytest.raises(UploadError, match="119.ecg could not be read"):
        read_uploaded_review_labels(zipped, record)


def test_an_uploaded_multi_segment_record_is_one_record_and_needs_its_segments(excerpts_dir, tmp_path):
    folder = write_multi_segment(tmp_path, read_record(excerpts_dir / "100")).parent
    files = [UploadedData(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]
    assert list_record_names(files) == ["ms"]
    record = read_uploaded_record(files)
    assert record.name == "ms" and np.isnan(record.signal_mv[int(60 * 360):int(70 * 360)]).all()
    with pytest.raises(UploadError, match="multi-segment record; its segment header ms_2.hea"):
        read_uploaded_record([f for f in files if f.name != "ms_2.hea"], "ms")
    with pytest.raises(UploadError, match="ms_2.dat"):
        read_uploaded_record([f for f in files if f.name != "ms_2.dat"], "ms")


def test_read_uploaded_zip_with_folders(excerpts_dir):
    data = zip_bytes({f"mitdb/208.{ext}": (excerpts_dir / f"208.{ext}").read_bytes() for ext in ("hea", "dat", "atr")}
                     | {"__MACOSX/._208.hea": b"junk"})
    record = read_uploaded_record([UploadedData("208.zip", data)])
    assert record.name == "208" and record.annotations is not None


@pytest.mark.parametrize("keep", ["truncated", "random"])
def test_an_unreadable_reference_file_is_left_out_and_the_signal_still_read(excerpts_dir, keep):
    atr = (excerpts_dir / "119.atr").read_bytes()
    bad = atr[:len(atr) // 2 + 1] if keep == "truncated" else np.random.default_rng(0).bytes(5000)
    record = read_uploaded_record(upload(excerpts_dir, "119.hea", "119.dat") + [UploadedData("119.atr", bad)])
    assert record.annotations is None
    assert "119.atr" in record.annotation_problem
    np.testing.assert_array_equal(record.signal_mv, read_record(excerpts_dir / "119", annotator=None).signal_mv)
    assert read_uploaded_record(upload(excerpts_dir, "119.hea", "119.dat", "119.atr")).annotation_problem is None


def test_a_reference_that_does_not_fit_the_signal_is_left_out_with_the_reason(excerpts_dir):
    from dataclasses import replace

    from app.dashboard.loading import check_reference
    from pipeline.types import Annotations
    record = read_record(excerpts_dir / "119", annotator="atr")
    assert check_reference(record) is record
    ann = record.annotations
    beat = np.flatnonzero(np.isin(ann.symbols, ["N", "V"]))[5]
    order = np.r_[np.arange(beat + 1), beat, np.arange(beat + 1, len(ann.samples))]
    doubled = Annotations(ann.samples[order], ann.symbols[order], ann.aux_notes[order], None)
    checked = check_reference(replace(record, annotations=doubled))
    assert checked.annotations is None and "at or before the previous beat" in checked.annotation_problem


def test_temporary_directory_is_removed(excerpts_dir, monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    read_uploaded_record(upload(excerpts_dir, "119.hea", "119.dat"))
    with pytest.raises(TruncatedSignalError):
        read_uploaded_record([upload(excerpts_dir, "119.hea")[0], UploadedData("119.dat", b"\0" * 3000)])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("files, message", [
    ([UploadedData("notes.txt", b"hello")], "notes.txt: unsupported file type"),
    ([UploadedData("a.zip", b"PK\x03\x04not really")], "not a readable zip archive"),
    ([UploadedData("a.zip", zip_bytes({"readme.txt": b"x"}))], "no record in it"),
    ([], "Received no files"),
])
def test_bad_uploads_raise_specific_errors(files, message):
    with pytest.raises(UploadError, match=message):
        read_uploaded_record(files)


def test_header_without_signal_file_names_the_missing_dat(excerpts_dir):
    with pytest.raises(UploadError, match=r"names the signal file 119\.dat, which was not uploaded"):
        read_uploaded_record(upload(excerpts_dir, "119.hea", "119.atr"))


def test_signal_file_without_header(excerpts_dir):
    with pytest.raises(UploadError, match=r"119\.dat without its header \(119\.hea\)"):
        read_uploaded_record(upload(excerpts_dir, "119.dat"))


def test_size_limit(excerpts_dir):
    with pytest.raises(UploadError, match="the limit is 0.1 MB"):
        read_uploaded_record(upload(excerpts_dir, "119.hea", "119.dat"), max_mb=0.1)


def test_the_size_limit_counts_megabytes_as_streamlit_does():
    """Streamlit's server.maxUploadSize counts 2 ** 20 bytes a megabyte: 300.5 million bytes pass its 300 and must
    pass the app's check too (they were refused, counted as 10 ** 6 bytes a megabyte)."""
    collect_files([UploadedData("big.hea", b"big 1 360 1000\n"), UploadedData("big.dat", b"\0" * 300_500_000)])
    with pytest.raises(UploadError, match="the limit is 300 MB"):
        collect_files([UploadedData("big.dat", b"\0" * (300 * 2 ** 20 + 1))])


def test_zip_bomb_limit_uses_uncompressed_size():
    data = zip_bytes({"big.dat": b"\0" * 2_000_000, "big.hea": b"big 1 360 1000\n"})
    with pytest.raises(UploadError, match="uncompressed"):
        collect_files([UploadedData("big.zip", data)], max_mb=1.0)


def test_several_records_must_be_chosen(excerpts_dir):
    files = upload(excerpts_dir, "119.hea", "119.dat", "100.hea", "100.dat")
    with pytest.raises(UploadError, match="several records"):
        choose_record(files)
    assert read_uploaded_record(files, "100").name == "100"


def test_too_short_edf(tmp_path):
    path = write_edf(tmp_path / "short.edf", np.full((360, 1), 0.1, np.float32), 360.0, ("ECG",))
    with pytest.raises(SignalTooShortError, match="expected at least 2 s"):
        read_uploaded_record([UploadedData("short.edf", path.read_bytes())])


def test_signal_file_names_from_header(excerpts_dir):
    assert read_signal_file_names((excerpts_dir / "208.hea").read_bytes()) == ["208.dat"]


# --- charts --------------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds, decimals, text", [(0, 0, "00:00:00"), (3725, 0, "01:02:05"),
                                                     (86399.6, 0, "23:59:59"), (90000, 0, "25:00:00"),
                                                     (1.94, 0, "00:00:01"), (0.3, 1, "00:00:00.3"),
                                                     (61.256, 2, "00:01:01.25"), (float("nan"), 0, "--:--:--")])
def test_format_hms(seconds, decimals, text):
    """A time in the record is rounded down, as the PDF report gives it (they differed by a second)."""
    assert charts.format_hms(seconds, decimals) == text


def test_format_hms_agrees_with_the_report_and_durations_round():
    from app.report import format_clock

    for seconds in (1.94, 113.525, 1488.7, 3599.99):
        assert charts.format_hms(seconds) == format_clock(seconds)
    from pipeline.wording import format_duration

    assert format_duration(5.8) == "00:00:06" and format_duration(0.26, decimals=1) == "00:00:00.3"


def test_decimation_keeps_every_bin_extreme():
    rng = np.random.default_rng(0)
    values = rng.normal(size=100_003)
    values[12_345] = 50.0
    values[99_999] = -60.0
    indices, envelope = charts.decimate_minmax(values, n_bins=1000)
    assert len(indices) <= 2000
    assert np.all(np.diff(indices) >= 0)
    np.testing.assert_array_equal(envelope, values[indices])
    assert envelope.max() == 50.0 and envelope.min() == -60.0
    bin_size = int(np.ceil(len(values) / 1000))
    n_bins_used = int(np.ceil(len(values) / bin_size))
    for b in (0, 123, n_bins_used - 1):
        block = values[b * bin_size:(b + 1) * bin_size]
        kept = envelope[(indices >= b * bin_size) & (indices < (b + 1) * bin_size)]
        assert kept.max() == block.max() and kept.min() == block.min()


def test_decimation_shows_missing_signal_as_gaps_and_keeps_short_signals():
    values = np.sin(np.arange(10_000) / 10.0)
    values[2000:4000] = np.nan
    indices, envelope = charts.decimate_minmax(values, n_bins=100)
    assert np.isnan(envelope[(indices >= 2100) & (indices < 3900)]).all()
    assert np.isfinite(envelope[indices < 2000]).all()
    short_indices, short = charts.decimate_minmax(values[:150], n_bins=100)
    assert len(short) == 150


def test_detail_figure_sends_only_the_window():
    fs_hz = 360.0
    signal = np.zeros((int(3600 * fs_hz), 2), np.float32)
    beats = np.arange(100, signal.shape[0], 300)
    classes = np.where(np.arange(len(beats)) % 5 == 0, "V", "N")
    region = Region("ventricular_couplet", int(100.5 * fs_hz), int(102 * fs_hz), 0, 2, 120.0, 0.9)
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 100.0, 10.0, beats, classes, (region,),
                                  disagreements=[(int(101 * fs_hz), "ref N")])
    lead_traces = [t for t in figure.data if t.name in ("MLII", "V1")]
    assert [len(t.y) for t in lead_traces] == [3600, 3600]
    # Plotly.js reads small numbers on a date axis as years: times must be large ms values, in order
    x = np.asarray(lead_traces[0].x)
    assert x[0] == charts.to_axis_ms(100.0) and x[0] > 1e11 and np.all(np.diff(x) > 0)
    assert lead_traces[1].y.flags["C_CONTIGUOUS"]  # a strided lead view would be sent interleaved
    names = {t.name for t in figure.data}
    assert {"N (normal)", "V (ventricular ectopic)", "Ventricular couplet", "Reference disagrees"} <= names
    assert len(figure.layout.shapes) == 2  # the region shaded on both leads
    paper = figure.layout.xaxis  # ECG paper: 0.2-s large squares, 0.04-s small ones, a time label each second
    assert len(paper.tickvals) == 51 and np.allclose(np.diff(paper.tickvals), 200.0)
    assert [t for t in paper.ticktext if t] == [f"00:01:{s:02d}" for s in range(40, 51)]
    assert paper.minor.dtick == 40 and paper.minor.showgrid and figure.layout.yaxis.dtick == 0.5
    assert figure.layout.yaxis.minor.dtick == 0.1 and figure.layout.yaxis2.dtick == 0.5  # every lead
    reviewed = np.zeros(len(beats), bool)
    reviewed[[np.flatnonzero(beats >= 100 * fs_hz)[0]]] = True  # the first beat of the window: a reader's label
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 100.0, 10.0, beats, classes, (region,),
                                  reviewed=reviewed)
    texts = [text for t in figure.data if t.text is not None for text in t.text]
    assert len(texts) == int(np.sum((beats >= 100 * fs_hz) & (beats < 110 * fs_hz)))
    assert sum(text.endswith("*") for text in texts) == 1


def test_a_minute_window_is_the_primary_lead_in_stacked_ten_second_rows_at_one_scale():
    fs_hz = 360.0
    t = np.arange(int(300 * fs_hz)) / fs_hz
    signal = np.stack([np.sin(2 * np.pi * t), 3 + 0.1 * np.cos(2 * np.pi * t)], axis=1).astype(np.float32)
    beats = np.arange(100, signal.shape[0], 300)
    classes = np.where(np.arange(len(beats)) % 5 == 0, "V", "N")
    region = Region("ventricular_couplet", int(118 * fs_hz), int(122 * fs_hz), 0, 2, 120.0, 0.9)  # across rows 2, 3
    diary = ((135.0, "dizzy"),)
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 100.0, 60.0, beats, classes, (region,),
                                  primary_lead=1, disagreements=[(int(101 * fs_hz), "ref N")], diary=diary)
    lead_traces = [t for t in figure.data if t.name in ("MLII", "V1")]
    assert [t.name for t in lead_traces] == ["V1"] * 6 and [len(t.y) for t in lead_traces] == [3600] * 6
    assert np.array_equal(np.concatenate([t.y for t in lead_traces]), signal[36000:57600, 1])  # the window, whole
    for row, trace in enumerate(lead_traces, start=1):
        axis = figure.layout[f"xaxis{'' if row == 1 else row}"]
        start_ms = charts.to_axis_ms(100.0 + 10 * (row - 1))
        assert trace.x[0] == start_ms and list(axis.range) == [start_ms, start_ms + 10_000.0]
        assert axis.minor.showgrid and axis.minor.dtick == 40  # small squares on every row
        assert [x for x in axis.ticktext if x][0] == charts.format_hms(100.0 + 10 * (row - 1))
    letters = [t for t in figure.data if t.name in ("N (normal)", "V (ventricular ectopic)")]
    assert sum(len(t.x) for t in letters) == int(np.sum((beats >= 100 * fs_hz) & (beats < 160 * fs_hz)))
    assert all(np.asarray(t.y).max() > 2.5 for t in letters)  # on V1 (3 mV), the primary lead
    assert [t.name for t in figure.data if t.showlegend is not False].count("V (ventricular ectopic)") == 1
    assert [t.name for t in figure.data if t.showlegend is not False].count("Ventricular couplet") == 1
    legend = sorted((t.legendrank, t.name) for t in figure.data if t.showlegend is not False)
    assert [name for _, name in legend] == ["N (normal)", "V (ventricular ectopic)", "Reference disagrees",
                                            "Ventricular couplet"]  # classes, the reference, then the regions
    shades = [s for s in figure.layout.shapes if s.type == "rect"]
    assert sorted((s.xref, s.x0, s.x1) for s in shades) == [
        ("x2", charts.to_axis_ms(118.0), charts.to_axis_ms(120.0)),
        ("x3", charts.to_axis_ms(120.0), charts.to_axis_ms(122.0))]
    (line,) = [s for s in figure.layout.shapes if s.line.dash == "dash"]
    assert line.xref == "x4" and line.x0 == charts.to_axis_ms(135.0)
    ranges = {tuple(figure.layout[f"yaxis{'' if r == 1 else r}"].range) for r in range(1, 7)}
    assert len(ranges) == 1 and next(iter(ranges))[1] > 3.0  # one scale for every row
    assert figure.layout.height == 6 * charts.ROW_HEIGHT_PX + 110
    short = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 100.0, 15.0, beats, classes, ())
    assert [len(t.y) for t in short.data if t.name == "V1" or t.name == "MLII"] == [3600, 1800]  # last row shorter
    for start_s, window_s, rows in ((100.37, 60.0, 6), (50.01, 20.0, 2), (121.61, 30.0, 3)):  # "Go to event" starts
        figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), start_s, window_s, beats, classes, (),
                                      disagreements=[(int(s * fs_hz), "ref N") for s in (start_s + 1, start_s + 15)])
        assert sum(t.name == "MLII" for t in figure.data) == rows  # no one-sample row from the start's rounding
        crosses = [t for t in figure.data if t.name == "Reference disagrees"]
        assert len(crosses) == 2 and {t.legendgroup for t in crosses} == {"reference_disagrees"}  # hidden together


def test_the_detail_chart_keeps_one_amplitude_scale_from_window_to_window():
    """A QA pass (session 49) found each window scaled to its own trace (1 mV 106 px in one window, 59 px in another)
    and the squares 2.8 times taller than wide. Now every window of a record is drawn at one gain on a fixed number of
    pixels per millimetre (25 mm/s across a 1,100-px row), the grid's large square 5 mm whatever the gain; a window
    whose trace does not fit its rows at the record's gain takes the next lower standard gain."""
    fs_hz = 360.0
    t = np.arange(int(60 * fs_hz)) / fs_hz
    spikes = (np.sin(2 * np.pi * t) > 0.99).astype(np.float32)
    lead = np.where(t < 20, 1.0, np.where(t < 40, 2.0, 11.0)) * spikes - 0.3
    signal = np.stack([lead, 0.5 * lead], axis=1)
    none = (np.array([], np.int64), np.array([]), ())
    spans = []
    for start_s in (0.0, 20.0):  # 1-mV and 2-mV complexes: the same scale
        gain = charts.window_gain_mm_per_mv(signal, fs_hz, start_s, 10.0, 0)
        figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), start_s, 10.0, *none, gain_mm_per_mv=gain)
        low, high = figure.layout.yaxis.range
        spans.append((gain, round(high - low, 6), round(np.subtract(*figure.layout.yaxis2.range[::-1]), 6)))
        assert low < float(signal[int(start_s * fs_hz):int((start_s + 10) * fs_hz), 0].min()) and high > 1.0
    assert spans[0] == spans[1] and spans[0][0] == 10.0 and spans[0][1] == spans[0][2]
    row_px = charts.row_span_mv(figure.layout.height, 2, 0.03, 10.0) * 10.0 * charts.PX_PER_MM
    assert abs(spans[0][1] * 10.0 * charts.PX_PER_MM - row_px) < 1e-3  # 1 mV = 10 mm = 44 px
    assert figure.layout.yaxis.dtick == 0.5 and figure.layout.yaxis.minor.dtick == 0.1
    tall = charts.window_gain_mm_per_mv(signal, fs_hz, 45.0, 10.0, 0)  # 11-mV complexes fit neither 10 nor 5
    assert tall == 2.5 and charts.window_gain_mm_per_mv(signal, fs_hz, 45.0, 10.0, 0, 5.0) == 2.5
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 45.0, 10.0, *none, gain_mm_per_mv=tall)
    assert figure.layout.yaxis.dtick == 2.0 and figure.layout.yaxis.minor.dtick == 0.4  # 5-mm and 1-mm squares
    minute = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 0.0, 60.0, *none)  # stacked rows: one gain for all
    assert minute.layout.yaxis.dtick == 2.0


def test_the_detail_chart_writes_each_rr_interval_under_its_middle():
    """A clinical read of the dashboard (session 60) found no RR values on the chart. Each interval whose middle lies
    in the window is written in ms at the foot of the row it falls in: on the primary lead's row of a short window,
    on every row of a long one."""
    fs_hz = 360.0
    signal = np.zeros((int(120 * fs_hz), 2), np.float32)
    beats = np.r_[np.arange(100, int(20 * fs_hz), 288), int(21.5 * fs_hz), int(24 * fs_hz)]  # 800 ms, then a pause

    def rr_texts(figure, yref=None):
        return [(a.text, a.x) for a in figure.layout.annotations
                if a.font.color == charts.RR_TEXT_COLOUR and (yref is None or a.yref == yref)]

    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 0.0, 10.0, beats, np.full(len(beats), "N"), ())
    texts = rr_texts(figure)
    middles = (beats[:-1] + beats[1:]) / 2
    assert len(texts) == int(((middles >= 0) & (middles < 10 * fs_hz)).sum()) > 10
    assert {t for t, _ in texts} == {"800"} and all(a.yref == "y domain" for a in figure.layout.annotations
                                                     if a.font.color == charts.RR_TEXT_COLOUR)
    assert texts[0][1] == charts.to_axis_ms(middles[0] / fs_hz)
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 10.0, 20.0, beats, np.full(len(beats), "N"), ())
    assert [t for t, _ in rr_texts(figure, "y2 domain")][-2:] == [f"{1000 * (beats[-2] - beats[-3]) / fs_hz:.0f}",
                                                                  "2500"]  # the pause, on the second row
    unreadable = Region("unreadable", int(21 * fs_hz), int(25 * fs_hz), -1, 0, float("nan"), 1.0)
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 10.0, 20.0, beats, np.full(len(beats), "N"),
                                  (unreadable,))
    assert "2500" not in [t for t, _ in rr_texts(figure)]  # an interval across unreadable signal is no pause


def test_the_chosen_event_is_outlined_on_every_row_it_crosses():
    """A clinical read through a browser (session 61): the chosen event looked the same as its neighbours."""
    fs_hz = 360.0
    signal = np.zeros((int(120 * fs_hz), 2), np.float32)
    beats = np.arange(100, signal.shape[0], 288)
    run = Region("ventricular_tachycardia", int(18 * fs_hz), int(23 * fs_hz), 60, 9, 130.0, 0.9)

    def outlines(figure):
        return [shape for shape in figure.layout.shapes if shape.line.dash == charts.CHOSEN_OUTLINE["dash"]]

    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 10.0, 20.0, beats, np.full(len(beats), "V"), (run,),
                                  chosen=run)
    assert len(outlines(figure)) == 2  # the run crosses from the first 10-s row into the second
    assert {shape.yref for shape in outlines(figure)} == {"y domain", "y2 domain"}
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 60.0, 10.0, beats, np.full(len(beats), "V"), (run,),
                                  chosen=run)
    assert outlines(figure) == []  # outside the window
    assert outlines(charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 15.0, 10.0, beats, np.full(len(beats), "V"),
                                         (run,))) == []  # none chosen


def test_the_chosen_beat_and_the_calipers_are_drawn_and_a_click_finds_its_beat():
    """A clinical read of the dashboard (session 60): no calipers, and a beat chosen only from a picker. The chart now
    marks the chosen beat, draws the calipers with their length on every row they cross, lets a drag measure again while
    they are shown, and gives each beat letter its sample for a click."""
    fs_hz = 360.0
    signal = np.zeros((int(120 * fs_hz), 2), np.float32)
    beats = np.arange(100, signal.shape[0], 288)
    classes = np.where(np.arange(len(beats)) % 5 == 0, "V", "N")

    def caliper_lines(figure):
        return [shape for shape in figure.layout.shapes if shape.type == "line"
                and shape.line.color == charts.CALIPER_COLOUR]

    def bands(figure):
        return [shape for shape in figure.layout.shapes if shape.fillcolor == charts.CHOSEN_BEAT_FILL]

    plain = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 10.0, 10.0, beats, classes, ())
    assert caliper_lines(plain) == [] and bands(plain) == [] and plain.layout.dragmode == "zoom"
    letters = [trace for trace in plain.data if trace.mode == "markers+text"]
    in_window = beats[(beats >= 10 * fs_hz) & (beats < 20 * fs_hz)]
    assert sorted(np.concatenate([trace.customdata for trace in letters]).tolist()) == in_window.tolist()
    assert all(trace.unselected.marker.opacity == 1 for trace in letters)  # a click greys no letter
    chosen = int(in_window[2])
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 10.0, 10.0, beats, classes, (), chosen_beat=chosen,
                                  calipers_s=(12.0, 12.8))
    assert [band.yref for band in bands(figure)] == ["y domain", "y2 domain"]  # on both leads, over the paper
    assert {band.layer for band in bands(figure)} == {"above"}
    assert charts.from_axis_value(bands(figure)[0].x0) < chosen / fs_hz < charts.from_axis_value(bands(figure)[0].x1)
    assert len(caliper_lines(figure)) == 4  # each end on both leads
    assert [a.text for a in figure.layout.annotations if a.text == "800 ms, 75 bpm"] == ["800 ms, 75 bpm"]
    assert figure.layout.dragmode == "select"  # a drag measures again
    stacked = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 10.0, 30.0, beats, classes, (),
                                   calipers_s=(18.0, 21.5))
    assert [shape.yref for shape in caliper_lines(stacked)] == ["y domain", "y2 domain"]  # from row 1 into row 2
    assert [a.text for a in stacked.layout.annotations if "bpm" in str(a.text)] == ["3500 ms, 17 bpm"]
    assert caliper_lines(charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 40.0, 10.0, beats, classes, (),
                                              calipers_s=(12.0, 12.8))) == []  # outside the window
    assert tables.find_nearest_beat(beats, fs_hz, (chosen + 30) / fs_hz) == int(np.flatnonzero(beats == chosen)[0])
    assert tables.find_nearest_beat(beats, fs_hz, (chosen + 144) / fs_hz) is None  # between two beats 0.8 s apart
    # a click on any letter finds its beat: the sample, not seconds and back (a code review, session 62, found 1 beat
    # in 8 lost that way at 360 Hz, e.g. samples 370 and 1809)
    odd = np.array([370, 1809, *range(2000, 40000, 331)])
    analysis = SimpleNamespace(predictions=SimpleNamespace(samples=odd), record=SimpleNamespace(fs_hz=fs_hz))
    assert [tables.find_clicked_beat(analysis, {"customdata": int(sample), "x": "ignored"}) for sample in odd] == list(
        range(len(odd)))
    cross = {"x": charts.to_axis_ms((odd[5] + 20) / fs_hz).item()}  # a disagreement's cross, beside its beat
    assert tables.find_clicked_beat(analysis, cross) == 5 and tables.find_clicked_beat(analysis, {}) is None


def test_a_full_disclosure_page_draws_a_minute_a_row_its_letters_episodes_and_the_window():
    fs_hz = 360.0
    minutes = 3
    trace = np.sin(np.arange(int(minutes * 60 * fs_hz)) / 30.0)
    samples = np.array([int(605 * fs_hz), int(690 * fs_hz)])  # row 0 at 5 s, row 1 at 30 s (page from 600 s)
    vt = Region("ventricular_tachycardia", int(650 * fs_hz), int(670 * fs_hz), 0, 20, 150.0, 0.9)
    figure = charts.disclosure_figure(trace, fs_hz, 600.0, ["00:10:00", "00:11:00", "00:12:00"],
                                      (samples, np.array(["V", "S"])), (vt,), (655.0, 10.0), ((725.5, "dizzy"),))
    lines = [t for t in figure.data if t.mode == "lines"]
    assert len(lines) == minutes and all(len(t.x) <= 2 * charts.DISCLOSURE_BINS for t in lines)
    letters = {t.text[0]: (list(t.x), list(t.y)) for t in figure.data if t.mode == "text"}
    assert letters == {"V": ([5.0], [disclosure.LABEL_OFFSET_MV]),
                       "S": ([30.0], [disclosure.LABEL_OFFSET_MV - disclosure.LINE_SPACING_MV])}
    shaded = [s for s in figure.layout.shapes if s.fillcolor == disclosure.EPISODE_SHADES["ventricular_tachycardia"][1]]
    assert [(s.x0, s.x1) for s in shaded] == [(50.0, 60.0), (0.0, 10.0)]  # across the end of a row
    outlined = [s for s in figure.layout.shapes if s.line.color == charts.WINDOW_OUTLINE["color"]]
    assert [(s.x0, s.x1) for s in outlined] == [(55.0, 60.0), (0.0, 5.0)]
    assert [a.text for a in figure.layout.annotations] == ["VT"]
    diary = [s for s in figure.layout.shapes if s.type == "line"]
    assert [(s.x0, s.y1) for s in diary] == [(5.5, -2 * disclosure.LINE_SPACING_MV + disclosure.LINE_SPACING_MV / 2)]
    assert list(figure.layout.yaxis.ticktext) == ["00:10:00", "00:11:00", "00:12:00"]
    targets = next(t for t in figure.data if t.mode == "markers")  # a click on a row gives a point, and its time
    assert charts.disclosure_time(targets.x[-1], targets.y[-1], 600.0) == pytest.approx(600.0 + 180.0 - 0.25)


def test_detail_figure_draws_the_primary_lead_on_top_with_the_beat_letters():
    fs_hz = 360.0
    signal = np.stack([np.zeros(3600), np.linspace(0, 1, 3600), 2 + np.zeros(3600)], axis=1).astype(np.float32)
    beats = np.arange(100, 3600, 300)
    figure = charts.detail_figure(signal, fs_hz, ("I", "II", "V1"), 0.0, 10.0, beats, np.full(len(beats), "N"), (),
                                  primary_lead=2)
    rows = {t.name: t.yaxis for t in figure.data if t.name in ("I", "II", "V1")}
    assert rows == {"V1": "y", "I": "y2", "II": "y3"}
    (letters,) = [t for t in figure.data if t.name == "N (normal)"]
    assert letters.yaxis == "y" and np.all(np.asarray(letters.y) >= 2)  # on V1's trace (2 mV), not on I's
    assert figure.layout.yaxis.title.text == "V1 (mV)"


def test_overview_figure_is_small_for_a_long_record():
    fs_hz = 360.0
    signal = np.random.default_rng(1).normal(size=int(24 * 3600 * fs_hz / 8)).astype(np.float32)
    figure = charts.overview_figure(signal, fs_hz / 8, "MLII", (), (60.0, 10.0))
    assert sum(len(t.x) for t in figure.data) <= 2 * charts.OVERVIEW_BINS


def test_the_event_lane_draws_overlapping_events_as_one_bar():
    # a 24-h Holter with 20,000 isolated V beats drew 73,000 lane points (1.9 MB sent with every window move) where
    # the widened bars overlap anyway (session 46's profile)
    from pipeline.regions import Region

    fs_hz, duration_s = 360.0, 24 * 3600.0
    starts = np.cumsum(np.r_[60.0, np.full(19_999, 4.0)]) * fs_hz  # every 4 s from the first minute
    isolated = [Region("isolated_ventricular", int(t), int(t) + 1, k, 1, float("nan"), 1.0)
                for k, t in enumerate(starts)]
    far = Region("isolated_ventricular", int(23 * 3600 * fs_hz), int(23 * 3600 * fs_hz) + 1, 20_000, 1, 0.0, 1.0)
    pause = Region("pause", int(100 * fs_hz), int(103 * fs_hz), 10, 2, 20.0, 1.0)
    lanes = {t.name: t for t in charts.event_lane_traces(tuple(isolated + [far, pause]), fs_hz, duration_s)}
    assert set(lanes) == {charts.kind_label("isolated_ventricular"), charts.kind_label("pause")}
    bars = np.asarray(lanes[charts.kind_label("isolated_ventricular")].x, dtype=float).reshape(-1, 3)[:, :2]
    assert len(bars) == 2  # the 20,000 joined, the one 22 hours later apart
    seconds = (bars - charts.AXIS_ORIGIN_MS) / 1000.0  # the chart's axis: milliseconds on a date axis
    assert seconds[0, 0] == pytest.approx(60.0) and seconds[0, 1] >= starts[-1] / fs_hz
    assert seconds[1, 0] == pytest.approx(23 * 3600.0) and seconds[1, 1] - seconds[1, 0] >= duration_s / 500 - 1


def test_diary_entries_are_marked_on_the_overview_and_in_the_detail_window():
    fs_hz = 360.0
    signal = np.zeros((int(120 * fs_hz), 2), dtype=np.float32)
    regions = (Region("pause", int(30 * fs_hz), int(33 * fs_hz), 10, 2, 20.0, 1.0),)
    diary = ((20.0, "dizzy"), (95.0, "palpitations while climbing the stairs to the second floor"))
    overview = charts.overview_figure(signal[:, 0], fs_hz, "MLII", regions, (90.0, 10.0), diary=diary)
    (marks,) = [t for t in overview.data if t.name == "Diary"]
    assert list(marks.text) == ["dizzy", diary[1][1]] and len(marks.x) == 2
    assert marks.y[0] == -1.0  # under the one event lane
    detail = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 90.0, 10.0, np.array([], dtype=np.int64),
                                  np.array([], dtype="<U1"), regions, diary=diary)
    lines = [shape for shape in detail.layout.shapes if shape.line.dash == "dash"]
    notes = [note.text for note in detail.layout.annotations if note.text.startswith("Diary")]
    assert len(lines) == 2 and {shape.x0 for shape in lines} == {charts.to_axis_ms(95.0)}  # across both leads
    assert notes == ["Diary: palpitations while climbing the [...]"]
    (note,) = [note for note in detail.layout.annotations if note.text.startswith("Diary")]
    assert note.y == 0.0 and note.yanchor == "bottom"  # under the trace: the beat letters are at the top


def test_clamp_window():
    assert charts.clamp_window(-5, 10, 300) == (0.0, 10.0)
    assert charts.clamp_window(295, 10, 300) == (290.0, 10.0)
    assert charts.clamp_window(0, 600, 300) == (0.0, charts.MAX_WINDOW_S)
    assert charts.clamp_window(3, 10, 4) == (0.0, 4.0)


# --- tables and launcher -------------------------------------------------------------------------

def test_event_window_start_shows_the_event_with_a_lead_in():
    region = Region("pause", 3600, 4320, 5, 2, 40.0, 1.0)
    assert tables.event_window_start(region, 360.0, 10.0, 300.0) == 8.0
    assert tables.event_window_start(Region("pause", 100, 200, 0, 2, 40.0, 1.0), 360.0, 10.0, 300.0) == 0.0
    assert tables.event_window_start(Region("pause", 107_900, 107_990, 0, 2, 40.0, 1.0), 360.0, 10.0, 300.0) == 290.0


def test_beat_window_start_centres_the_beat_within_the_record():
    assert tables.beat_window_start(3600, 360.0, 10.0, 300.0) == 5.0
    assert tables.beat_window_start(360, 360.0, 10.0, 300.0) == 0.0
    assert tables.beat_window_start(360 * 299, 360.0, 10.0, 300.0) == 290.0
    # a minute in 10-s rows: the beat in the middle of the third row, not on the fourth row's left edge
    assert tables.beat_window_start(360 * 100, 360.0, 60.0, 300.0) == 75.0
    assert tables.centred_window_start(100.0, 20.0, 300.0) == 95.0


def test_beats_in_window_and_default_beat():
    samples = np.array([100, 500, 900, 1300, 4000])
    indices = tables.beats_in_window(samples, 360.0, 1.0, 3.0)
    assert indices.tolist() == [1, 2, 3]
    assert tables.default_beat(np.array(["N", "N", "N", "V", "N"]), indices) == 3
    assert tables.default_beat(np.array(["N"] * 5), indices) == 1


def test_dashboard_command_binds_localhost_without_usage_statistics():
    command = build_streamlit_command(8765, "localhost")
    flags = dict(zip(command[5::2], command[6::2]))
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("app/dashboard/main.py")
    assert flags["--server.port"] == "8765" and flags["--server.address"] == "localhost"
    assert flags["--browser.gatherUsageStats"] == "false" and flags["--server.headless"] == "true"


def test_dashboard_command_says_when_its_port_is_taken(monkeypatch):
    """A second ``ecg dashboard`` on a port in use printed the address to open, then Streamlit's "Port ... is not
    available" (a QA pass, session 53): it now stops first, exit 2, and says how to choose another port."""
    import socket

    from click.testing import CliRunner

    from app import dashboard_cli
    from app.cli import cli

    started = []
    monkeypatch.setattr(dashboard_cli.os, "execv", lambda path, argv: started.append(argv))
    monkeypatch.setattr(dashboard_cli.os, "chdir", lambda path: None)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        result = CliRunner().invoke(cli, ["dashboard", "--port", str(port), "--address", "127.0.0.1"])
        assert result.exit_code == 2 and not started, result.output
        assert f"port {port} is already in use on 127.0.0.1" in result.output and "--port 8502" in result.output
    assert dashboard_cli.find_port_in_use("127.0.0.1", port) is None  # free again once that server stopped
    result = CliRunner().invoke(cli, ["dashboard", "--port", str(port), "--address", "127.0.0.1"])
    assert result.exit_code == 0 and len(started) == 1, result.output


def test_streamlit_config_keeps_data_local():
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["address"] == "localhost" and config["server"]["headless"] is True
    assert config["server"]["maxUploadSize"] == 300


def test_filter_events_by_kind_with_a_limit():
    regions = tuple(Region(kind, 10 * i, 10 * i + 5, i, 1, 60.0, 1.0)
                    for i, kind in enumerate(["pause", "isolated_ventricular", "pause", "pause"]))
    assert tables.filter_events(regions, "all", 10) == [0, 1, 2, 3]
    assert tables.filter_events(regions, "pause", 2) == [0, 2]


def test_dashboard_is_an_ecg_command():
    from click.testing import CliRunner

    from app.cli import cli

    result = CliRunner().invoke(cli, ["dashboard", "--help"])
    assert result.exit_code == 0 and "--port" in result.output and "localhost" in result.output



def test_event_tally_shows_one_duration_column_with_tenths():
    rr_samples = np.full(199, 288)  # 75 bpm, with a three-beat ventricular run at 150 bpm from beat 100
    rr_samples[99:102] = 144
    rr_samples[130] = 900  # a 2.5-s pause: its length is its measure, and lengths do not add up to a time (s60)
    samples = np.concatenate([[100], 100 + np.cumsum(rr_samples)])
    classes = np.full(200, "N")
    classes[100:103] = "V"
    classes[150] = "V"  # an isolated beat: an event without a stretch, no duration
    classes[170:172] = "V"  # a couplet: counted, not timed either
    n_samples = int(samples[-1]) + 360
    summary = summarize_record(find_regions(samples, classes, 360.0, [], n_samples), samples, classes, 360.0, [],
                               n_samples)
    table = tables.event_tally_table(summary).set_index("event")
    assert list(table.columns) == ["count", "total duration"]
    assert table.loc[tables.kind_label("ventricular_tachycardia")].tolist() == [1, "00:00:00.8"]  # 2 RR of 0.4 s
    assert table.loc[tables.kind_label("isolated_ventricular")].tolist() == [1, "–"]
    assert table.loc[tables.kind_label("ventricular_couplet")].tolist() == [1, "–"]
    assert table.loc[tables.kind_label("pause")].tolist() == [1, "–"]
    events = summary_to_dict(summary)["events"]  # the summary JSON: a sum of couplet or single-beat lengths is no time
    assert events["ventricular_couplet"] == {"count": 1, "total_s": None}
    assert events["isolated_ventricular"]["total_s"] is None and events["ventricular_tachycardia"]["total_s"] > 0


def test_family_corrections_can_be_limited_to_one_current_class():
    from types import SimpleNamespace

    analysis = SimpleNamespace(families=np.array([0, 0, 1, 0, -1, 0]), classes=np.array(["N", "S", "V", "V", "N", "N"]))
    assert tables.family_labels_for(analysis, 0, "V") == {0: "V", 1: "V", 3: "V", 5: "V"}
    assert tables.family_labels_for(analysis, 0, "V", only="N") == {0: "V", 5: "V"}
    assert tables.family_labels_for(analysis, -1, "Q") == {4: "Q"}
    assert tables.family_labels_for(SimpleNamespace(families=None, classes=analysis.classes), 0, "V") == {}


def test_family_charts_draw_the_median_of_complete_windows_only():
    fs = 360.0
    lead = np.zeros(3600)
    samples = np.array([50, 700, 1400, 2100, 3590])  # the first and last windows are incomplete
    for s in samples[1:4]:
        lead[s - 5:s + 5] = 1.0
    lead[2100 + 20] = np.nan  # one missing sample: the median ignores it
    windows = charts.beat_windows(lead, samples, 108, max_beats=60)
    assert windows.shape == (3, 217)
    median = charts.median_beat(windows)
    assert median[108] == 1.0 and np.isfinite(median).all()
    figure = charts.family_overlay_figure(lead, fs, samples, "MLII")
    assert [t.name for t in figure.data] == ["beats", "median"]
    assert len(figure.data[0].x) == 3 * 218  # three beats, each followed by a break
    grid = charts.family_templates_figure(lead, fs, samples, np.array([0, 0, 0, 1, 1]), [0, 1], ["a", "b"], "MLII")
    assert len(grid.data) == 2


def test_family_table_shows_the_model_confidence_and_the_corrections():
    rows = [{"family": 0, "n_beats": 3, "N": 3, "S": 0, "V": 0, "F": 0, "Q": 0, "confidence": 0.98765, "corrected": 0},
            {"family": -1, "n_beats": 1, "N": 0, "S": 0, "V": 1, "F": 0, "Q": 0, "confidence": 0.5, "corrected": 1}]
    table = tables.family_table(rows)
    assert table["family"].tolist() == ["0", "-"]
    assert table["model confidence %"].tolist() == [98.8, 50.0] and table["corrected"].tolist() == [0, 1]


def test_the_bundled_file_is_named_without_the_server_s_folders():
    from app.dashboard.loading import name_shipped_file
    from models import registry
    from models.bundled import BUNDLED_MODEL

    loaded = registry.load_model(BUNDLED_MODEL)
    assert loaded.source == str(BUNDLED_MODEL)  # as loaded: the server's absolute path
    shown = name_shipped_file(loaded)
    assert shown.source == "models/bundled/model.keras (shipped with the product)"
    assert shown.model is loaded.model and shown.local_path == loaded.local_path
    registered = replace_source(loaded, "models:/ecg-beat-classifier/1", "ecg-beat-classifier")
    assert name_shipped_file(registered) is registered


def replace_source(loaded, source: str, name: str):
    from dataclasses import replace
    return replace(loaded, source=source, name=name, version="1")


def test_the_event_list_numbers_events_as_the_event_picker_does():
    regions = (Region("ventricular_couplet", 3600, 3900, 10, 2, 120.0, 0.9),
               Region("pause", 7200, 8100, 20, 2, 24.0, 1.0))
    table = tables.region_table(regions, 360.0)
    assert table["#"].tolist() == [1, 2]
    assert [tables.event_label(regions, k, 360.0).split()[0] for k in range(2)] == ["#1", "#2"]
    assert tables.event_label(regions, 1, 360.0) == "#2 00:00:20 Pause (2.50 s)"  # a length, not 24 bpm
    # with the header's start time, the clock time follows the time into the recording (24-h QA pass, session 45)
    import datetime
    assert tables.event_label(regions, 1, 360.0, datetime.time(23, 59, 50)) == (
        "#2 00:00:20 (clock 00:00:10) Pause (2.50 s)")
    assert table["heart rate (bpm)"].tolist() == [120, "–"]  # a pause has no rate: "–", not "None" (QA, session 49)
    assert table["noise flagged on"].tolist() == ["", ""]
    assert tables.region_table(regions, 360.0, [("MLII",), ()])["noise flagged on"].tolist() == ["MLII", ""]
    hidden = (Region("unreadable", 3600, 4320, 10, 4, float("nan"), 1.0),)
    assert tables.region_table(hidden, 360.0, hidden_runs={0: 4})["event"].tolist() == [
        "Unreadable (4 beats called V in a row: check)"]
    isolated = (Region("isolated_ventricular", 3600, 3601, 10, 1, 80.0, 0.9),)
    assert tables.region_table(isolated, 360.0)["duration (s)"].tolist() == ["–"]
    run = (Region("ventricular_tachycardia", 0, 720, 0, 4, 140.0, 0.9),)
    assert tables.region_table(run, 360.0)["event"].tolist() == ["Non-sustained ventricular tachycardia"]
    # flutter/fibrillation: its detections are waves, so its length, no beats or rate (QA, session 49)
    flutter = (Region("ventricular_flutter_fibrillation", 3600, 3600 + 36 * 360, 10, 36, 136.0, 0.9),)
    assert tables.event_label(flutter, 0, 360.0) == "#1 00:00:10 Ventricular flutter/fibrillation (36.0 s)"
    row = tables.region_table(flutter, 360.0).iloc[0]
    assert (row["duration (s)"], row["beats"], row["heart rate (bpm)"]) == (36.0, "–", "–")


def test_an_isolated_beat_s_region_is_shaded_wide_enough_to_see():
    fs_hz = 360.0
    signal = np.zeros((int(20 * fs_hz), 2), np.float32)
    one_beat = Region("isolated_supraventricular", int(5 * fs_hz), int(5 * fs_hz) + 1, 7, 1, 80.0, 0.9)
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 0.0, 10.0, np.array([int(5 * fs_hz)]),
                                  np.array(["S"]), (one_beat,))
    (shape, *_) = figure.layout.shapes
    assert float(shape.x1) - float(shape.x0) == pytest.approx(1000 * charts.MIN_SHADE_S, abs=1.0)
    assert float(shape.x0) < charts.to_axis_ms(5.0) < float(shape.x1)


def test_quick_window_length_changes_keep_the_middle_when_a_rerun_is_cut_short(monkeypatch):
    """Arrow keys held on the window slider: the second change's callback can run before the rerun after the first one
    has drawn the controls. The window must still end where one change at a time puts it (it landed 10 s off)."""
    from types import SimpleNamespace

    from app.dashboard import views

    state = {"window_start_s": 100.0, "shown_window_s": 10, "window_s": 60}  # 10 s window at 100 s, then 60 s
    monkeypatch.setattr(views, "st", SimpleNamespace(session_state=state))
    views.change_window_length(None)
    assert state["window_start_s"] == pytest.approx(80.0)  # 105 s in the third row's middle
    state["window_s"] = 10  # no rerun drew the controls in between
    views.change_window_length(None)
    assert state["window_start_s"] == pytest.approx(100.0)


def test_charts_past_24_hours_name_the_day_and_shorter_ones_do_not():
    """A date axis's hh:mm:ss starts again at 00:00:00 after 24 h: a QA pass found a 26-h trend reading 21:00:00 then
    00:00:00 (session 45). Past 24 h the ticks, hover times and axis title name the day."""
    trend = tuple(70.0 + np.zeros(26 * 12))
    long = charts.heart_rate_trend_figure(trend, 300.0, 26 * 3600.0)
    short = charts.heart_rate_trend_figure(trend[:12 * 23], 300.0, 23 * 3600.0)
    assert long.layout.xaxis.tickformat == "day %-d, %H:%M:%S"
    assert "day 1 is the first 24 h" in long.layout.xaxis.title.text
    assert long.data[0].hovertemplate.startswith("%{x|day %-d, %H:%M:%S.%L}")
    assert short.layout.xaxis.tickformat == "%H:%M:%S" and short.data[0].hovertemplate.startswith("%{x|%H:%M:%S.%L}")
    fs = 100.0
    signal = np.zeros((int(25 * 3600 * fs), 1), np.float32)
    detail = charts.detail_figure(signal, fs, ("MLII",), 24.5 * 3600, 10.0, np.array([], np.int64), np.array([]), ())
    overview = charts.overview_figure(signal[:, 0], fs, "MLII", ())
    assert detail.layout.xaxis.tickformat.startswith("day") and overview.layout.xaxis.tickformat.startswith("day")
    early = charts.detail_figure(signal, fs, ("MLII",), 600.0, 10.0, np.array([], np.int64), np.array([]), ())
    assert early.layout.xaxis.tickformat is None  # a window within the first day reads hh:mm:ss as before


def test_the_heart_rate_trend_draws_the_one_minute_rates_under_the_five_minute_means(excerpts_dir):
    """A QA pass (session 49) found six 5-minute values the whole trend of a 30-minute record; the 1-minute rates the
    minimum and maximum come from are drawn under them, in grey."""
    from app.analysis import analyse_record
    from models.bundled import load_default_model
    from pipeline.records import read_record

    summary = analyse_record(read_record(excerpts_dir / "119"), load_default_model()).summary
    minutes = np.asarray(summary.heart_rate_minutes_bpm)
    assert len(minutes) == int(np.ceil(summary.duration_s / 60)) and summary.hr_window_s == 60.0
    assert np.nanmin(minutes) == pytest.approx(summary.heart_rate_min_bpm, abs=0.05)
    assert np.nanmax(minutes) == pytest.approx(summary.heart_rate_max_bpm, abs=0.05)
    figure = charts.heart_rate_trend_figure(summary.heart_rate_trend_bpm, summary.trend_window_s, summary.duration_s,
                                            summary.heart_rate_minutes_bpm, summary.hr_window_s)
    fine, coarse = figure.data
    assert (fine.name, coarse.name) == ("1-min mean", "5-min mean") and fine.line.color == "#9e9e9e"
    assert len(fine.x) == len(minutes) and fine.x[0] == charts.to_axis_ms(30.0)
    alone = charts.heart_rate_trend_figure(summary.heart_rate_trend_bpm, summary.trend_window_s, summary.duration_s)
    assert [t.name for t in alone.data] == ["5-min mean"]


@pytest.mark.parametrize("row", ["all", 2])
def test_span_shapes_are_the_rectangles_plotly_s_add_vrect_draws(row):
    """The detail chart's shading, outlines and chosen-beat band are built as plain shapes (session 63: Plotly's
    add_vrect took a third of the chart's time on every beat step); they must stay what add_vrect drew, including that
    "all" skips a subplot without a trace."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    def grid():
        figure = make_subplots(rows=3, cols=1, shared_xaxes=True)
        for r in (1, 2):  # the third subplot holds no trace
            figure.add_trace(go.Scatter(x=[0, 10], y=[0, 1]), row=r, col=1)
        return figure

    style = {"fillcolor": "#ff0000", "opacity": 0.3, "line": {"width": 2, "color": "#000000"}, "layer": "below"}
    plotly_way, ours = grid(), grid()
    plotly_way.add_vrect(x0=1, x1=2, row=row, col=1, **style)
    plotly_way.add_vrect(x0=4, x1=6, row=row, col=1, **style)
    charts.add_shapes(ours, charts.span_shapes(ours, 1, 2, row, **style)
                      + charts.span_shapes(ours, 4, 6, row, **style))
    assert [s.to_plotly_json() for s in ours.layout.shapes] == [s.to_plotly_json() for s in plotly_way.layout.shapes]
    assert len(ours.layout.shapes) == (4 if row == "all" else 2)


def test_beats_the_reader_added_or_deleted_are_marked_on_the_detail_chart():
    """A clinical read of session 64: a deleted detection left an unlettered QRS like a detector's miss, and an added
    beat looked like any other; an added beat's letter now gets a +, a deletion a grey cross and "deleted"."""
    fs_hz = 360.0
    signal = np.zeros((int(60 * fs_hz), 2), np.float32)
    beats = np.arange(100, signal.shape[0], 300)
    classes = np.full(len(beats), "N")
    added = np.arange(len(beats)) == 15
    in_window = beats[(beats >= 10 * fs_hz) & (beats < 20 * fs_hz)]
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 10.0, 10.0, beats, classes, (),
                                  added=added, deleted_samples=np.array([int(12.5 * fs_hz), int(40 * fs_hz)]))
    (letters,) = [t for t in figure.data if t.name == "N (normal)"]
    assert len(letters.text) == len(in_window)
    assert [text for text in letters.text if text != "N"] == ["N+"] and 10 * fs_hz <= beats[15] < 20 * fs_hz
    (deleted,) = [t for t in figure.data if t.name == "Deleted by the reader"]
    assert list(deleted.text) == ["deleted"] and deleted.x[0] == charts.to_axis_ms(12.5)  # the one in the window
    plain = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 10.0, 10.0, beats, classes, ())
    assert "Deleted by the reader" not in {t.name for t in plain.data}


def test_the_reader_s_words_on_the_atrial_rhythm_are_barred_on_the_detail_chart():
    """Session 63's notes: a stretch the reader stated AF/flutter was drawn as the analysis's own episode and one ruled
    out not at all; each now has a bar at the top of the primary lead's rows, named in the legend."""
    fs_hz = 360.0
    signal = np.zeros((int(60 * fs_hz), 2), np.float32)
    beats = np.arange(100, signal.shape[0], 300)
    words = {True: np.array([[int(12 * fs_hz), int(14 * fs_hz)]]),
             False: np.array([[int(15 * fs_hz), int(40 * fs_hz)], [int(50 * fs_hz), int(55 * fs_hz)]])}
    figure = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 10.0, 10.0, beats, np.full(len(beats), "N"), (),
                                  af_words=words)
    named = [t.name for t in figure.data if "by the reader" in (t.name or "")]
    assert named == ["Atrial fib./flutter stated by the reader", "Atrial fib./flutter ruled out by the reader"]
    bars = [s for s in figure.layout.shapes if s.y0 == 0.965]
    assert [(s.x0, s.x1) for s in bars] == [(charts.to_axis_ms(12.0), charts.to_axis_ms(14.0)),
                                            (charts.to_axis_ms(15.0), charts.to_axis_ms(20.0))]  # cut at the window
    stacked = charts.detail_figure(signal, fs_hz, ("MLII", "V1"), 0.0, 60.0, beats, np.full(len(beats), "N"), (),
                                   af_words=words)
    assert len([s for s in stacked.layout.shapes if s.y0 == 0.965]) == 5  # 12-14 s, 15-40 s over 3 rows, 50-55 s
