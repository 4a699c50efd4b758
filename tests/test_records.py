"""Reading records: bad input raises its specific error, real records read right, resampling and EDF round-trip.

Corrupt records are built in ``tmp_path`` from the bundled 5-minute excerpt of MIT-BIH record 100
(so these tests run without the full database); reads of whole records use ``mitdb_dir``.
"""

from __future__ import annotations

import re
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import wfdb

from pipeline.errors import (
    AnnotationMismatchError,
    CorruptRecordError,
    HeaderMismatchError,
    MissingSignalFileError,
    NoEcgLeadError,
    RecordTooLargeError,
    RecordNotFoundError,
    SamplingRateError,
    SignalTooShortError,
    TruncatedSignalError,
    UnsupportedFormatError,
)
from pipeline.edf import write_edf
from pipeline.quality import find_quality_spans
from pipeline.records import find_leads_with_signal, keep_leads, read_record, write_annotations, write_record
from pipeline.types import Annotations
from tests.made_records import TWELVE_LEADS, write_multi_segment, write_twelve_lead_record

FS_HZ = 360.0
EXCERPT_SAMPLES = 108_000  # the bundled excerpts hold the first 5 minutes


def copy_record(source_dir: Path, name: str, out_dir: Path, new_name: str) -> Path:
    """Copy record ``name`` (header, signal, annotations) to ``out_dir/new_name``; return the record path."""
    header = (source_dir / f"{name}.hea").read_text()
    header = re.sub(rf"^{name}\b", new_name, header)
    (out_dir / f"{new_name}.hea").write_text(header.replace(f"{name}.dat", f"{new_name}.dat"))
    shutil.copy(source_dir / f"{name}.dat", out_dir / f"{new_name}.dat")
    shutil.copy(source_dir / f"{name}.atr", out_dir / f"{new_name}.atr")
    return out_dir / new_name


def edit_header(record: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must occur) by ``new`` in the record's header."""
    header_path = record.parent / f"{record.name}.hea"
    text = header_path.read_text()
    assert old in text
    header_path.write_text(text.replace(old, new))


@pytest.fixture
def excerpt_copy(excerpts_dir, tmp_path) -> Path:
    return copy_record(excerpts_dir, "100", tmp_path, "rec")


@pytest.fixture(scope="module")
def excerpt_100(excerpts_dir):
    return read_record(excerpts_dir / "100")


@pytest.fixture(scope="module")
def record_100(mitdb_dir):
    return read_record(mitdb_dir / "100")


# --- files that cannot be read as they claim ---------------------------------------------------------------


def test_truncated_signal_file_raises(excerpt_copy):
    dat = excerpt_copy.parent / "rec.dat"
    with open(dat, "r+b") as f:
        f.truncate(100_000)
    with pytest.raises(TruncatedSignalError, match=r"holds 100000 bytes .*declares 108000 samples \(324000 bytes\): "
                                                   r"the file was cut short"):
        read_record(excerpt_copy)


@pytest.mark.parametrize("old, new, cause", [
    ("rec.dat 212", "rec.dat 16", r"the file's size fits format 212 exactly: check the header's format \(16\)"),
    ("rec.dat 212", "rec.dat 212+999999", r"the header's byte offset \(999999\) lies past the file's end")])
def test_a_header_format_or_offset_that_does_not_fit_its_file_is_named(excerpt_copy, old, new, cause):
    """A QA pass (session 65) found both read as a file cut short ("copy or download it again")."""
    edit_header(excerpt_copy, old, new)
    with pytest.raises(TruncatedSignalError, match=cause):
        read_record(excerpt_copy)


def test_checksum_that_disagrees_with_the_data_raises(excerpt_copy):
    edit_header(excerpt_copy, " 995 45435 ", " 995 45436 ")
    with pytest.raises(HeaderMismatchError, match=r"MLII has checksum .*the header declares 45436"):
        read_record(excerpt_copy)


def test_header_shorter_than_its_data_raises(excerpt_copy):
    edit_header(excerpt_copy, "rec 2 360 108000", "rec 2 360 100000")
    with pytest.raises(HeaderMismatchError, match=r"holds 324000 bytes \(about 108000 samples.*declares 100000"):
        read_record(excerpt_copy)


def test_header_with_more_signals_than_its_data_says_so(excerpt_copy):
    """A third signal line for a file of two: the file is not cut short, the header is wrong (a QA pass of session 47
    was told to copy the file again)."""
    header = excerpt_copy.parent / "rec.hea"
    lines = header.read_text().splitlines()
    lines[0] = lines[0].replace("rec 2 ", "rec 3 ")
    lines.insert(3, lines[2].replace(" V5", " V2"))
    header.write_text("\n".join(lines) + "\n")
    with pytest.raises(HeaderMismatchError,
                       match=r"exactly 108000 samples of 2 signals; the header declares 3 signals"):
        read_record(excerpt_copy)


def test_header_longer_than_its_data_raises(excerpt_copy):
    edit_header(excerpt_copy, "rec 2 360 108000", "rec 2 360 120000")
    with pytest.raises(TruncatedSignalError, match=r"declares 120000 samples"):
        read_record(excerpt_copy)


def test_unknown_storage_format_raises(excerpt_copy):
    edit_header(excerpt_copy, "rec.dat 212 ", "rec.dat 999 ")
    with pytest.raises(UnsupportedFormatError, match=r"uses WFDB format 999; expected one of \[.*'212'"):
        read_record(excerpt_copy)


def test_missing_signal_file_raises(excerpt_copy):
    (excerpt_copy.parent / "rec.dat").unlink()
    with pytest.raises(MissingSignalFileError, match=r"names signal file rec.dat, which does not exist"):
        read_record(excerpt_copy)


def test_missing_header_raises(tmp_path):
    with pytest.raises(RecordNotFoundError, match=r"nothing.hea does not exist; expected a WFDB header"):
        read_record(tmp_path / "nothing")


def test_unparsable_header_raises(tmp_path):
    (tmp_path / "bad.hea").write_text("bad two 360 1000\n")
    with pytest.raises(CorruptRecordError, match=r"bad.hea cannot be parsed: .*\(line 1: 'bad two 360 1000' is not the "
                       r"record line\)\. Expected a WFDB header: a record line"):
        read_record(tmp_path / "bad")
    (tmp_path / "bad.hea").write_text("# a comment\nbad 2 360 1000\nbad.dat 16 200 16 0 0 0 0 I\n@@ xx 16\n")
    with pytest.raises(CorruptRecordError, match=r"\(line 4: '@@ xx 16' is not a signal line\)"):
        read_record(tmp_path / "bad")


@pytest.mark.parametrize("record_line, error, message", [
    ("100 2 -360 108000", SamplingRateError, "sampling rate as '-360', which wfdb would read as 250 Hz"),
    ("100 2 abc 108000", SamplingRateError, "sampling rate as 'abc', which wfdb would read as 250 Hz"),
    ("100 2 3.6e2 108000", SamplingRateError, "sampling rate as '3.6e2', which wfdb would read as 3.6 Hz"),
    ("100 2 360 1e5", CorruptRecordError, "number of samples as '1e5'; expected a whole number"),
])
def test_a_record_line_wfdb_would_misread_raises(tmp_path, excerpts_dir, record_line, error, message):
    """wfdb reads a rate of '-360' or 'abc' as its default 250 Hz, '3.6e2' as 3.6 Hz and '1e5' samples as 1: refused,
    not analysed at a wrong rate or length."""
    lines = (excerpts_dir / "100.hea").read_text().splitlines()
    (tmp_path / "100.hea").write_text("\n".join([record_line] + lines[1:]) + "\n")
    (tmp_path / "100.dat").write_bytes((excerpts_dir / "100.dat").read_bytes())
    with pytest.raises(error, match=re.escape(message)):
        read_record(tmp_path / "100")


def test_header_without_its_signal_lines_raises(tmp_path):
    (tmp_path / "short.hea").write_text("short 2 360 650000\nshort.dat 212 200 11 1024 995 -22131 0 MLII\n")
    with pytest.raises(CorruptRecordError, match=r"short.hea declares 2 signals but describes 1"):
        read_record(tmp_path / "short")


def test_record_without_ecg_signals_raises(tmp_path, excerpt_100):
    write_record(tmp_path, "abp", excerpt_100.signal_mv[:3600], FS_HZ, ("ABP", "RESP"))
    with pytest.raises(NoEcgLeadError, match=r"received signals \['ABP', 'RESP'\]; expected at least one ECG lead"):
        read_record(tmp_path / "abp")


def test_a_header_whose_gain_is_1000_times_too_small_is_refused(tmp_path, excerpt_100):
    """Values in microvolts under a header saying mV read as QRS complexes of a volt: refused, with what to fix,
    rather than analysed into ST episodes of 11 mV (QA pass, session 37)."""
    write_record(tmp_path, "scaled", excerpt_100.signal_mv[:36000], FS_HZ, excerpt_100.lead_names)
    header = (tmp_path / "scaled.hea").read_text().replace("212 200.0(1024)", "212 0.2(1024)")
    (tmp_path / "scaled.hea").write_text(header)
    with pytest.raises(HeaderMismatchError, match=r"lead MLII spans about [\d,]+ mV in a typical 10 s .* The header's "
                       r"gain or units are probably wrong"):
        read_record(tmp_path / "scaled")
    (tmp_path / "scaled.hea").write_text(header.replace("212 0.2(1024)", "212 200.0(1024)"))
    assert read_record(tmp_path / "scaled").signal_mv.shape == (36000, 2)


def test_a_record_too_long_for_the_memory_is_refused_before_its_signal_is_read(excerpts_dir, monkeypatch):
    """A 14-day header made the reader fill 11 GB of memory in two minutes with no word (QA pass, session 37): the
    analysis's memory is estimated from the header and a record needing more than is available is refused."""
    from pipeline import records
    from pipeline.records import ANALYSIS_BYTES_PER_SAMPLE, check_memory_need

    day_need = ANALYSIS_BYTES_PER_SAMPLE * 2 * 86400 * 360  # 24 hours of two leads: about 1.7 GB
    check_memory_need(86400 * 128, 128.0, 2, "holter", available_bytes=day_need + 1)
    with pytest.raises(RecordTooLargeError, match=r"holter: 336.0 hours \(14.0 days\) of 2 leads; analysing it at "
                       r"once needs about 24.4 GB of memory and 8.0 GB are available. Split it"):
        check_memory_need(14 * 86400 * 250, 250.0, 2, "holter", available_bytes=8 * 10**9)
    monkeypatch.setattr(records, "read_available_memory", lambda: 10**6)  # 1 MB left: a 5-minute excerpt needs 6
    with pytest.raises(RecordTooLargeError, match=r"Record 100: 0.1 hours"):
        read_record(excerpts_dir / "100")


def test_unknown_lead_request_raises(excerpts_dir):
    with pytest.raises(NoEcgLeadError, match=r"received lead 'V9'; expected one of \['MLII', 'V5'\]"):
        read_record(excerpts_dir / "100", lead="V9")


def test_zero_length_record_raises(tmp_path):
    (tmp_path / "empty.hea").write_text("empty 1 360 0\nempty.dat 212 200 11 1024 0 0 0 MLII\n")
    (tmp_path / "empty.dat").write_bytes(b"")
    with pytest.raises(SignalTooShortError, match=r"declares 0 samples"):
        read_record(tmp_path / "empty")


def test_writing_a_zero_length_record_raises(tmp_path):
    with pytest.raises(SignalTooShortError, match=r"received 0 samples"):
        write_record(tmp_path, "empty", np.zeros((0, 2), np.float32), FS_HZ, ("MLII", "V5"))


def test_too_short_signal_raises(tmp_path, excerpt_100):
    write_record(tmp_path, "short", excerpt_100.signal_mv[:360], FS_HZ, excerpt_100.lead_names)
    with pytest.raises(SignalTooShortError, match=r"received 360 samples \(1.00 s at 360 Hz\); expected at least 2 s"):
        read_record(tmp_path / "short")


@pytest.mark.parametrize("fs_hz", [50.0, 5000.0])
def test_sampling_rate_out_of_range_raises(tmp_path, excerpt_100, fs_hz):
    write_record(tmp_path, "odd", excerpt_100.signal_mv[:7200], fs_hz, excerpt_100.lead_names)
    with pytest.raises(SamplingRateError, match=rf"received a sampling rate of {fs_hz:g} Hz; expected 100 to 4096 Hz"):
        read_record(tmp_path / "odd")


# --- problems inside the signal reach the quality report ---------------------------------------------------


def test_invalid_samples_read_as_nan_and_are_reported_missing(tmp_path, excerpt_100):
    signal = excerpt_100.signal_mv[:7200].copy()
    signal[1000:1500, 0] = np.nan
    write_record(tmp_path, "gap", signal, FS_HZ, excerpt_100.lead_names)
    back = read_record(tmp_path / "gap")
    np.testing.assert_array_equal(np.flatnonzero(np.isnan(back.signal_mv[:, 0])), np.arange(1000, 1500))
    assert not np.isnan(back.signal_mv[:, 1]).any()
    np.testing.assert_array_equal(back.signal_mv[:1000], signal[:1000])
    missing = [(s.lead, s.start, s.stop) for s in find_quality_spans(back.signal_mv, back.fs_hz) if s.kind == "missing"]
    assert missing == [(0, 1000, 1500)]


def test_single_dropped_samples_are_filled_and_longer_gaps_kept_missing(tmp_path, excerpt_100):
    """One sample dropped every second of both leads made every beat near one unreadable: 256 of 371 beats left out
    of a record 99.7 % readable (QA pass, session 37). Dropped samples up to 20 ms are now interpolated on reading."""
    signal = excerpt_100.signal_mv[:36000].copy()
    dropped = np.arange(180, 36000, 360)
    signal[dropped, :] = np.nan
    signal[20000:20008, 1] = np.nan  # 22 ms: stays missing
    write_record(tmp_path, "drops", signal, FS_HZ, excerpt_100.lead_names)
    back = read_record(tmp_path / "drops")
    assert np.flatnonzero(np.isnan(back.signal_mv).any(axis=1)).tolist() == list(range(20000, 20008))
    original = excerpt_100.signal_mv[dropped]
    error = np.abs(back.signal_mv[dropped] - original)
    assert np.median(error) < 0.01 and error.max() < 0.2  # mostly within a quantisation step (0.005 mV) or two
    missing = [(s.lead, s.start, s.stop) for s in find_quality_spans(back.signal_mv, back.fs_hz) if s.kind == "missing"]
    assert missing == [(1, 20000, 20008)]


def test_flat_stretch_is_reported(tmp_path, excerpt_100):
    signal = excerpt_100.signal_mv[:7200].copy()
    signal[3600:4320, 1] = 0.25  # two seconds of a disconnected lead
    write_record(tmp_path, "flat", signal, FS_HZ, excerpt_100.lead_names)
    back = read_record(tmp_path / "flat")
    flat = [s for s in find_quality_spans(back.signal_mv, back.fs_hz) if s.kind == "flat"]
    assert [s.lead for s in flat] == [1]
    assert abs(flat[0].start - 3600) <= 10 and abs(flat[0].stop - 4320) <= 10  # merging may take in a few neighbours


def test_clipped_stretches_are_reported_saturated(tmp_path, excerpt_100):
    signal = excerpt_100.signal_mv[:7200].copy()
    rail = float(signal[:, 0].max()) + 1.0
    starts = [720, 2160, 3600, 5040]
    for start in starts:
        signal[start:start + 36, 0] = rail  # 100 ms at the amplifier's limit, four times
    write_record(tmp_path, "clip", signal, FS_HZ, excerpt_100.lead_names)
    back = read_record(tmp_path / "clip")
    saturated = [s for s in find_quality_spans(back.signal_mv, back.fs_hz) if s.kind == "saturated"]
    assert [(s.lead, s.start, s.stop) for s in saturated] == [(0, a, a + 36) for a in starts]


# --- real records ------------------------------------------------------------------------------------------


def test_record_100_reads_with_mlii_primary_and_all_annotations(record_100):
    assert record_100.signal_mv.shape == (650_000, 2)
    assert record_100.signal_mv.dtype == np.float32
    assert record_100.fs_hz == 360.0 and record_100.source_fs_hz == 360.0
    assert record_100.lead_names == ("MLII", "V5") and record_100.primary_lead == 0
    assert not np.isnan(record_100.signal_mv).any()
    # First stored samples are 995 and 1011 with baseline 1024 and 200 adu/mV.
    np.testing.assert_allclose(record_100.signal_mv[0], [-0.145, -0.065], atol=1e-6)
    symbols, counts = np.unique(record_100.annotations.symbols, return_counts=True)
    assert dict(zip(symbols.tolist(), counts.tolist())) == {"+": 1, "A": 33, "N": 2239, "V": 1}
    assert len(record_100.annotations) == 2274


def test_record_100_mlii_r_waves_point_up(record_100):
    lead = record_100.signal_mv[:, 0]
    beats = record_100.annotations.samples[record_100.annotations.symbols == "N"]
    assert np.median(lead[beats] - np.median(lead)) > 0.8


def test_record_114_uses_mlii_although_it_is_the_second_signal(mitdb_dir):
    record = read_record(mitdb_dir / "114")
    assert record.lead_names == ("V5", "MLII")
    assert record.primary_lead == 1


@pytest.mark.parametrize("lead", ["V5", 1, "1"])
def test_lead_can_be_chosen_by_name_or_index(excerpts_dir, lead):
    assert read_record(excerpts_dir / "100", lead=lead).primary_lead == 1


def test_header_path_reads_like_the_record_path(excerpts_dir, excerpt_100):
    np.testing.assert_array_equal(read_record(excerpts_dir / "100.hea").signal_mv, excerpt_100.signal_mv)


@pytest.mark.parametrize("fs_hz", [128.0, 250.0, 1024.0, 2000.0])
def test_record_at_another_rate_is_resampled_to_360_hz(tmp_path, excerpt_100, fs_hz):
    n = 60 * 360
    original = excerpt_100.signal_mv[:n]
    ratio = Fraction(fs_hz / FS_HZ).limit_denominator(1000)
    low = scipy.signal.resample_poly(original, ratio.numerator, ratio.denominator, axis=0).astype(np.float32)
    annotations = excerpt_100.annotations.select(excerpt_100.annotations.samples < n)
    low_samples = np.round(annotations.samples * fs_hz / FS_HZ).astype(np.int64)
    write_record(tmp_path, "low", low, fs_hz, excerpt_100.lead_names, fmt="16", adc_gain=1000.0)
    write_annotations(tmp_path, "low", "atr", Annotations(low_samples, annotations.symbols, annotations.aux_notes),
                      fs_hz=fs_hz)

    back = read_record(tmp_path / "low")

    assert back.fs_hz == 360.0 and back.source_fs_hz == fs_hz
    assert back.n_samples == int(np.ceil(low.shape[0] * FS_HZ / fs_hz)) == n
    assert np.abs(back.annotations.samples - annotations.samples).max() <= 1
    inner = slice(100, n - 100)
    assert np.corrcoef(back.signal_mv[inner, 0], original[inner, 0])[0, 1] > 0.998
    beats = annotations.samples[(annotations.symbols == "N") & (annotations.samples > 20)]
    peaks_back = [s - 10 + np.argmax(back.signal_mv[s - 10:s + 11, 0]) for s in beats]
    peaks_original = [s - 10 + np.argmax(original[s - 10:s + 11, 0]) for s in beats]
    assert np.abs(np.subtract(peaks_back, peaks_original)).max() <= 1


def test_edf_round_trip_keeps_values_within_quantisation(tmp_path, excerpt_100):
    signal = excerpt_100.signal_mv[:20 * 360]
    path = write_edf(tmp_path / "rec.edf", signal, FS_HZ, excerpt_100.lead_names)

    back = read_record(path)

    assert back.name == "rec" and back.lead_names == ("MLII", "V5") and back.primary_lead == 0
    assert back.fs_hz == 360.0 and back.source_fs_hz == 360.0
    assert back.signal_mv.shape == signal.shape and back.annotations is None
    step_mv = 2 * np.abs(signal).max(axis=0) * 1.0001 / 65535
    assert np.all(np.abs(back.signal_mv - signal).max(axis=0) <= step_mv)


def test_an_edf_start_time_is_kept_unless_it_is_the_placeholder_midnight(tmp_path, excerpt_100):
    import datetime

    path = write_edf(tmp_path / "rec.edf", excerpt_100.signal_mv[:20 * 360], FS_HZ, excerpt_100.lead_names)
    assert read_record(path).start_time is None  # written as 00.00.00, as anonymised files do
    data = bytearray(path.read_bytes())
    data[176:184] = b"14.05.30"  # the header's start time field
    path.write_bytes(bytes(data))
    assert read_record(path).start_time == datetime.time(14, 5, 30)


def test_an_edf_plus_annotation_channel_is_left_out_silently(tmp_path, excerpt_100, capsys):
    """EDF+ files carry an "EDF Annotations" signal, which is no lead and prints nothing to stdout."""
    signal = np.concatenate([excerpt_100.signal_mv[:20 * 360], np.zeros((20 * 360, 1), np.float32)], axis=1)
    path = write_edf(tmp_path / "plus.edf", signal, FS_HZ, (*excerpt_100.lead_names, "EDF Annotations"))
    content = bytearray(path.read_bytes())
    content[192:236] = b"EDF+C".ljust(44)  # the reserved field of an EDF+ file
    units = 256 + 3 * 16 + 3 * 80 + 2 * 8  # the annotation signal's physical dimension: none
    content[units:units + 8] = b" " * 8
    path.write_bytes(bytes(content))

    record = read_record(path)

    assert record.lead_names == excerpt_100.lead_names and not record.unused_leads
    assert capsys.readouterr().out == ""


def test_an_edf_heart_rate_channel_without_a_unit_is_left_out_of_the_leads(tmp_path, excerpt_100):
    """A monitor's "ECG HR" channel at 1 Hz with a blank unit (read as mV, as wfdb reads one) looked like an ECG lead,
    and its rate failed a file whose two ECG leads were good (a QA pass, session 65)."""
    import edfio

    leads = excerpt_100.signal_mv[:20 * 360]
    signals = [edfio.EdfSignal(leads[:, k].astype(np.float64), sampling_frequency=FS_HZ, label=name,
                               physical_dimension="mV", physical_range=(-10, 10))
               for k, name in enumerate(excerpt_100.lead_names)]
    signals.append(edfio.EdfSignal(np.full(20, 75.0), sampling_frequency=1, label="ECG HR", physical_dimension="",
                                   physical_range=(0, 300)))
    edfio.Edf(signals).write(tmp_path / "monitor.edf")
    record = read_record(tmp_path / "monitor.edf")
    assert record.lead_names == excerpt_100.lead_names and not record.unused_leads
    assert np.abs(record.signal_mv - leads).max() < 0.01


def test_truncated_edf_raises(tmp_path, excerpt_100):
    path = write_edf(tmp_path / "rec.edf", excerpt_100.signal_mv[:20 * 360], FS_HZ, excerpt_100.lead_names)
    path.write_bytes(path.read_bytes()[:20_000])
    with pytest.raises(TruncatedSignalError, match=r"holds 20000 bytes; its header declares 20 data records"):
        read_record(path)


def test_an_edf_signal_without_samples_in_a_data_record_is_refused(tmp_path, excerpt_100):
    """0 samples per data record gave edfio's ZeroDivisionError, reported as an unexpected error (QA pass, session
    45)."""
    path = write_edf(tmp_path / "rec.edf", excerpt_100.signal_mv[:20 * 360, :1], FS_HZ, excerpt_100.lead_names[:1])
    header = bytearray(path.read_bytes())
    counts = 256 + 216  # one signal: its field of samples per data record follows 216 bytes of other fields
    header[counts:counts + 8] = b"0".ljust(8)
    path.write_bytes(bytes(header))
    with pytest.raises(SamplingRateError, match=r"EDF file rec.edf gives signal 1 0 samples per data record"):
        read_record(path)


def test_an_edf_whose_header_length_field_is_wrong_is_refused(tmp_path, excerpt_100):
    """The header's length field tells a reader where the samples start: 512 given for a two-signal header (768) was
    read with no word, every sample shifted and the leads mixed (a QA pass, session 65)."""
    path = write_edf(tmp_path / "rec.edf", excerpt_100.signal_mv[:20 * 360], FS_HZ, excerpt_100.lead_names)
    header = bytearray(path.read_bytes())
    assert header[184:192] == b"768".ljust(8)
    header[184:192] = b"512".ljust(8)
    path.write_bytes(bytes(header))
    with pytest.raises(CorruptRecordError, match=r"rec.edf gives its header's length as 512 bytes, but a header of 2 "
                                                 r"signals takes 768"):
        read_record(path)


def test_an_edf_signal_without_a_physical_range_is_refused(tmp_path, excerpt_100):
    """Physical minimum = maximum: edfio returns the digital values uncalibrated (with a warning that reached the
    console), and they were analysed as mV (QA pass, session 37)."""
    path = write_edf(tmp_path / "rec.edf", excerpt_100.signal_mv[:20 * 360, :1], FS_HZ, excerpt_100.lead_names[:1])
    header = bytearray(path.read_bytes())
    first = 256 + 16 + 80 + 8  # one signal: label, transducer, dimension, then the physical minimum and maximum
    header[first + 8:first + 16] = header[first:first + 8]
    path.write_bytes(bytes(header))
    with pytest.raises(HeaderMismatchError, match=r"EDF rec.edf: signal MLII has physical minimum = maximum .* cannot "
                       r"be converted to mV"):
        read_record(path)


def test_a_record_with_upper_case_extensions_is_refused_with_the_rename_to_do(tmp_path, excerpts_dir):
    """100.HEA and 100.DAT (a copy from Windows or a FAT stick): a folder scan finds the header, then reading it said
    100.hea does not exist, which the user could see did (a QA pass, session 65)."""
    for ext in ("hea", "dat"):
        (tmp_path / f"100.{ext.upper()}").write_bytes((excerpts_dir / f"100.{ext}").read_bytes())
    with pytest.raises(RecordNotFoundError, match=r"100.hea does not exist, but 100.HEA does: .* rename the record's "
                                                  r"files to lower case"):
        read_record(tmp_path / "100")


@pytest.mark.parametrize("name, suggested", [("rec.v2", "rec_v2"), ("rec 1", "rec_1"), ("récord", "record")])
def test_a_wfdb_record_named_outside_wfdb_s_characters_is_refused_with_a_name_to_use(tmp_path, excerpts_dir, name,
                                                                                      suggested):
    """wfdb's parser failed such records on its own terms ("invalid syntax in record line", "signal file rcord.dat
    does not exist", "unconverted data remains"; a QA pass, session 65)."""
    header = (excerpts_dir / "100.hea").read_text().replace("100", name)
    (tmp_path / f"{name}.hea").write_text(header, encoding="utf-8")
    (tmp_path / f"{name}.dat").write_bytes((excerpts_dir / "100.dat").read_bytes())
    with pytest.raises(UnsupportedFormatError, match=rf"Record name '{name}' holds characters a WFDB record name "
                                                     rf"cannot .* e.g. to '{suggested}'"):
        read_record(tmp_path / name)


def test_a_folder_named_as_a_header_is_refused_as_one(tmp_path):
    """A folder named x.hea was reported as an unexpected IsADirectoryError (a QA pass, session 65)."""
    (tmp_path / "x.hea").mkdir()
    with pytest.raises(RecordNotFoundError, match=r"x.hea is a folder; expected a WFDB header file"):
        read_record(tmp_path / "x")


def test_a_header_file_named_with_a_dot_that_names_a_valid_record_still_reads(tmp_path, excerpts_dir):
    """The refusal above looks at the name the header gives (or at the file's name when wfdb cannot parse it): a copy
    saved as 100.v2.hea whose header names record 100 and 100.dat read before the refusal came, and still does (a code
    review, session 65)."""
    (tmp_path / "100.v2.hea").write_bytes((excerpts_dir / "100.hea").read_bytes())
    (tmp_path / "100.dat").write_bytes((excerpts_dir / "100.dat").read_bytes())
    assert read_record(tmp_path / "100.v2").signal_mv.shape == (108000, 2)


def test_missing_edf_raises(tmp_path):
    with pytest.raises(RecordNotFoundError, match=r"nothing.edf does not exist"):
        read_record(tmp_path / "nothing.edf")


def test_microvolt_header_is_read_in_millivolts(tmp_path, excerpt_100):
    signal = excerpt_100.signal_mv[:3600]
    write_record(tmp_path, "uv", signal, FS_HZ, excerpt_100.lead_names, fmt="16")
    record = tmp_path / "uv"
    edit_header(record, "200.0(0)/mV", "0.2(0)/uV")  # 0.2 adu per uV is 200 adu per mV

    back = read_record(record)

    assert back.lead_names == ("MLII", "V5")
    np.testing.assert_allclose(back.signal_mv, signal, atol=1e-6)
    assert 0.5 < back.signal_mv[:, 0].max() < 5.0  # R waves still point up, in mV rather than uV


# --- records with more leads than the analysis takes -------------------------------------------------------------


def test_a_twelve_lead_record_is_read_as_ii_and_v1_with_the_others_named(tmp_path, excerpts_dir):
    path = write_twelve_lead_record(excerpts_dir, tmp_path)
    excerpt = read_record(excerpts_dir / "119")

    record = read_record(path)

    assert record.lead_names == ("II", "V1") and record.primary_lead == 0
    assert record.unused_leads == tuple(lead for lead in TWELVE_LEADS if lead not in ("II", "V1"))
    np.testing.assert_allclose(record.signal_mv, excerpt.signal_mv, atol=0.006)  # one 212-format step: 5 mV / 1000
    every = read_record(path, max_leads=None)
    assert every.lead_names == TWELVE_LEADS and every.lead_names[every.primary_lead] == "II" and not every.unused_leads


def test_a_flat_v1_gives_way_to_the_next_precordial_lead(tmp_path, excerpts_dir):
    record = read_record(write_twelve_lead_record(excerpts_dir, tmp_path, flat=("V1",)))
    assert record.lead_names == ("II", "V2") and "V1" in record.unused_leads


def test_a_flat_ii_gives_way_to_lead_i_as_the_main_lead(tmp_path, excerpts_dir, caplog):
    path = write_twelve_lead_record(excerpts_dir, tmp_path, flat=("II",))
    with caplog.at_level("WARNING", logger="pipeline.records"):
        record = read_record(path)
    assert record.lead_names == ("I", "V1") and record.lead_names[record.primary_lead] == "I"
    assert "II" in record.unused_leads and "lead II is flat or missing throughout" in caplog.text
    assert find_leads_with_signal(record.signal_mv) == (True, True)
    chosen = read_record(path, lead="II")  # the user's choice stands; the analysis then reads it as missing
    assert chosen.lead_names == ("II", "V1") and chosen.primary_lead == 0


def test_only_the_chosen_leads_are_read_from_the_signal_file(tmp_path, excerpts_dir, monkeypatch):
    """A 24-hour 12-lead Holter file holds about 1e9 samples: the ten leads left out are never decoded."""
    from pipeline import records

    complete = write_twelve_lead_record(excerpts_dir, tmp_path / "a")
    flat_v1 = write_twelve_lead_record(excerpts_dir, tmp_path / "b", flat=("V1",))
    read_columns = []
    decode = records._read_signal_mv
    monkeypatch.setattr(records, "_read_signal_mv",
                        lambda path, header, columns, *rate: read_columns.append(columns) or decode(path, header,
                                                                                                     columns, *rate))
    read_record(complete)
    assert read_columns == [[1, 6]]  # II and V1
    read_columns.clear()
    read_record(flat_v1)
    assert read_columns == [[1, 6], [1, 7]]  # V1 found flat, then V2


def test_a_chosen_primary_lead_is_kept_with_v1(tmp_path, excerpts_dir):
    record = read_record(write_twelve_lead_record(excerpts_dir, tmp_path), lead="V5")
    assert record.lead_names == ("V1", "V5") and record.primary_lead == 1


def test_a_three_lead_holter_edf_keeps_the_primary_and_the_v1_like_lead(tmp_path, excerpts_dir):
    excerpt = read_record(excerpts_dir / "119")
    mlii, v1 = excerpt.signal_mv[:20 * 360, 0], excerpt.signal_mv[:20 * 360, 1]
    path = write_edf(tmp_path / "holter.edf", np.stack([0.9 * mlii, v1, mlii], axis=1), FS_HZ, ("CM5", "CM1", "ML2"))

    record = read_record(path)

    assert record.lead_names == ("CM1", "ML2") and record.lead_names[record.primary_lead] == "ML2"
    assert record.unused_leads == ("CM5",)
    assert np.corrcoef(record.signal_mv[:, record.primary_lead], mlii)[0, 1] > 0.999


def test_keep_leads_on_a_record_in_memory_matches_reading(tmp_path, excerpts_dir):
    path = write_twelve_lead_record(excerpts_dir, tmp_path)
    kept, read = keep_leads(read_record(path, max_leads=None)), read_record(path)
    assert (kept.lead_names, kept.primary_lead, kept.unused_leads) == (read.lead_names, read.primary_lead,
                                                                       read.unused_leads)
    np.testing.assert_array_equal(kept.signal_mv, read.signal_mv)
    assert keep_leads(read) is read


# --- multi-segment records -----------------------------------------------------------------------------------


def test_a_multi_segment_record_is_read_as_one_signal_with_its_gap_missing(tmp_path, excerpt_100):
    path = write_multi_segment(tmp_path, excerpt_100)
    n, gap = int(60 * FS_HZ), int(10 * FS_HZ)

    record = read_record(path)

    assert record.lead_names == excerpt_100.lead_names and record.n_samples == 2 * n + gap
    np.testing.assert_allclose(record.signal_mv[:n], excerpt_100.signal_mv[:n], atol=1e-3)
    np.testing.assert_allclose(record.signal_mv[n + gap:, 0], excerpt_100.signal_mv[n:2 * n, 0], atol=1e-3)
    assert np.isnan(record.signal_mv[n:n + gap]).all() and np.isnan(record.signal_mv[n + gap:, 1]).all()
    missing = [(s.lead, s.start, s.stop) for s in find_quality_spans(record.signal_mv, record.fs_hz)
               if s.kind == "missing"]
    assert missing == [(0, n, n + gap), (1, n, 2 * n + gap)]


def test_a_fixed_layout_multi_segment_record_with_a_gap_is_read_too(tmp_path, excerpt_100):
    """No layout segment, every segment with both leads, a gap between: wfdb itself fails to join it (a QA pass of
    session 47 got an internal error), so the reader joins it, the gap missing in both leads."""
    n, gap = int(60 * FS_HZ), int(10 * FS_HZ)
    for name, part in (("fx_1", excerpt_100.signal_mv[:n]), ("fx_2", excerpt_100.signal_mv[n:2 * n])):
        write_record(tmp_path, name, part, FS_HZ, excerpt_100.lead_names, fmt="16", adc_gain=1000.0)
    (tmp_path / "fx.hea").write_text(f"fx/3 2 {FS_HZ:g} {2 * n + gap}\nfx_1 {n}\n~ {gap}\nfx_2 {n}\n")

    record = read_record(tmp_path / "fx")

    assert record.lead_names == excerpt_100.lead_names and record.n_samples == 2 * n + gap
    np.testing.assert_allclose(record.signal_mv[:n], excerpt_100.signal_mv[:n], atol=1e-3)
    np.testing.assert_allclose(record.signal_mv[n + gap:], excerpt_100.signal_mv[n:2 * n], atol=1e-3)
    assert np.isnan(record.signal_mv[n:n + gap]).all() and not np.isnan(record.signal_mv[n + gap:]).any()
    write_record(tmp_path, "fx_2", excerpt_100.signal_mv[n:2 * n, :1], FS_HZ, excerpt_100.lead_names[:1], fmt="16",
                 adc_gain=1000.0)
    with pytest.raises(HeaderMismatchError, match="segment fx_2 holds signals"):
        read_record(tmp_path / "fx")


def test_a_fixed_layout_record_of_gaps_or_of_unlike_segments_says_what_was_expected(tmp_path, excerpt_100):
    """Joining a fixed layout raised a bare ValueError ("every segment is a gap"), read as a CorruptRecordError
    naming neither what was received nor what was expected (a code review of session 54)."""
    from pipeline.records import join_fixed_segments

    (tmp_path / "gaps.hea").write_text(f"gaps/2 2 {FS_HZ:g} 7200\n~ 3600\n~ 3600\n")
    with pytest.raises(HeaderMismatchError, match=r"Record gaps: received 2 segments, every one a gap \(~\); "
                       r"expected at least one segment record holding samples"):
        read_record(tmp_path / "gaps")
    n = int(10 * FS_HZ)
    write_record(tmp_path, "fx_1", excerpt_100.signal_mv[:n], FS_HZ, excerpt_100.lead_names, fmt="16", adc_gain=1000.0)
    write_record(tmp_path, "fx_2", excerpt_100.signal_mv[:n, :1], FS_HZ, excerpt_100.lead_names[:1], fmt="16",
                 adc_gain=1000.0)
    (tmp_path / "fx.hea").write_text(f"fx/3 2 {FS_HZ:g} {3 * n}\nfx_1 {n}\n~ {n}\nfx_2 {n}\n")
    expected = (f"Record fx: segment fx_2 holds signals {list(excerpt_100.lead_names[:1])}; expected "
                f"{list(excerpt_100.lead_names)} as segment fx_1 does")
    with pytest.raises(HeaderMismatchError, match=re.escape(expected)):  # check_segments stops read_record first
        join_fixed_segments(tmp_path / "fx", wfdb.rdheader(str(tmp_path / "fx")))


def test_a_multi_segment_record_with_a_missing_segment_says_which(tmp_path, excerpt_100):
    path = write_multi_segment(tmp_path, excerpt_100)
    (tmp_path / "ms_2.dat").unlink()
    with pytest.raises(MissingSignalFileError, match="ms_2.dat"):
        read_record(path)


def test_an_annotation_file_reaching_past_the_record_is_refused(tmp_path, excerpts_dir):
    """Random bytes uploaded as 119.atr were read as 46 invented reference beats (and a detector Se of 0 %): wfdb
    reads any bytes as annotations. Those with codes no annotation type defines are refused as damaged; well-formed
    ones spread far past the 5-minute record's end are refused too."""
    for ext in ("hea", "dat"):
        shutil.copyfile(excerpts_dir / f"119.{ext}", tmp_path / f"119.{ext}")
    (tmp_path / "119.atr").write_bytes(np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(CorruptRecordError, match=r"119.atr is damaged or not a WFDB annotation file: \d+ of its \d+ "
                       r"annotations have a code no annotation type defines"):
        read_record(tmp_path / "119", annotator="atr")
    wfdb.wrann("119", "atr", np.arange(1, 41) * 36_000, symbol=["N"] * 40, write_dir=str(tmp_path), fs=360)
    with pytest.raises(AnnotationMismatchError, match=r"119: its annotations \(119.atr\) run to .* past the end of its "
                       r"signal \(300.0 s\)"):
        read_record(tmp_path / "119", annotator="atr")
    shutil.copyfile(excerpts_dir / "119.atr", tmp_path / "119.atr")
    assert len(read_record(tmp_path / "119", annotator="atr").annotations.samples) > 300


# --- session 51: a QA pass of reading ------------------------------------------------------------------------------


def write_multi_frequency(folder: Path, excerpt, spf: tuple[int, int]) -> Path:
    """Record ``mf``: the excerpt's first 60 s at 360 Hz in a record framed at 180 Hz, each lead with ``spf`` samples
    per frame (2: its every sample; 1: every other one), and a respiration signal at the frame rate; checksums on
    every sample, as the WFDB library writes them."""
    n = int(60 * FS_HZ)
    digital = [np.round(excerpt.signal_mv[:n:3 - k, lead] * 200).astype(np.int64) for lead, k in enumerate(spf)]
    digital.append(np.round(np.sin(np.arange(n // 2) / 100) * 100).astype(np.int64))
    record = wfdb.Record(record_name="mf", n_sig=3, fs=FS_HZ / 2, sig_len=n // 2, file_name=["mf.dat"] * 3,
                         fmt=["16"] * 3, samps_per_frame=[*spf, 1], adc_gain=[200.0, 200.0, 10.0], baseline=[0] * 3,
                         units=["mV"] * 3, sig_name=[*excerpt.lead_names, "RESP"], e_d_signal=digital,
                         adc_res=[16] * 3, adc_zero=[0] * 3)
    record.init_value = [int(column[0]) for column in digital]
    record.checksum = [int(np.sum(column)) % 65536 for column in digital]
    record.block_size = [0] * 3
    folder.mkdir(parents=True, exist_ok=True)
    record.wrsamp(expanded=True, write_dir=str(folder))
    return folder / "mf"


def test_a_multi_frequency_record_is_read_at_its_ecg_rate(tmp_path, excerpt_100):
    """ECG sampled twice per frame (``16x2`` in the header) was refused for its checksums, taken on wfdb's frame
    averages, and without them read at the frame rate (180 Hz for 360; a QA pass of session 51)."""
    n = int(60 * FS_HZ)

    record = read_record(write_multi_frequency(tmp_path / "a", excerpt_100, (2, 2)), annotator=None)

    assert (record.source_fs_hz, record.n_samples, record.lead_names) == (FS_HZ, n, excerpt_100.lead_names)
    np.testing.assert_allclose(record.signal_mv, excerpt_100.signal_mv[:n], atol=0.003)
    mixed = read_record(write_multi_frequency(tmp_path / "b", excerpt_100, (2, 1)), annotator=None)
    assert (mixed.source_fs_hz, mixed.n_samples) == (FS_HZ, n)  # the slower lead resampled to the faster
    np.testing.assert_allclose(mixed.signal_mv[:, 0], excerpt_100.signal_mv[:n, 0], atol=0.003)
    inner = slice(100, n - 100)
    assert np.corrcoef(mixed.signal_mv[inner, 1], excerpt_100.signal_mv[inner, 1])[0, 1] > 0.99


def test_multi_segment_records_whose_segments_disagree_with_the_record_are_refused(tmp_path, excerpt_100):
    """wfdb joined a 250-Hz segment into a 360-Hz record, and a fixed layout's segments holding other leads when no
    gap came between them (read as the first segment's leads), without a word (a QA pass of session 51)."""
    n = int(60 * FS_HZ)
    for name, part, leads in (("s_1", excerpt_100.signal_mv[:n], excerpt_100.lead_names),
                              ("s_2", excerpt_100.signal_mv[n:2 * n], excerpt_100.lead_names),
                              ("s_v1", excerpt_100.signal_mv[n:2 * n], ("MLII", "V1"))):
        write_record(tmp_path, name, part, FS_HZ, leads, fmt="16", adc_gain=1000.0)
    (tmp_path / "ok.hea").write_text(f"ok/2 2 {FS_HZ:g} {2 * n}\ns_1 {n}\ns_2 {n}\n")
    assert read_record(tmp_path / "ok").n_samples == 2 * n
    (tmp_path / "leads.hea").write_text(f"leads/2 2 {FS_HZ:g} {2 * n}\ns_1 {n}\ns_v1 {n}\n")
    with pytest.raises(HeaderMismatchError, match=r"segment s_v1 holds signals \['MLII', 'V1'\], not \['MLII', 'V5'\]"):
        read_record(tmp_path / "leads")
    (tmp_path / "length.hea").write_text(f"length/2 2 {FS_HZ:g} {2 * n + 100}\ns_1 {n}\ns_2 {n + 100}\n")
    with pytest.raises(HeaderMismatchError, match=rf"segment s_2 holds {n} samples by its header and {n + 100} by the "
                       "record's"):
        read_record(tmp_path / "length")
    edit_header(tmp_path / "s_2", f"s_2 2 {FS_HZ:g}", "s_2 2 250")
    with pytest.raises(HeaderMismatchError, match="segment s_2 is sampled at 250 Hz and the record at 360 Hz"):
        read_record(tmp_path / "ok")


def test_an_empty_annotation_file_is_refused_not_read_as_no_beats(excerpt_copy):
    """wfdb reads a 0-byte file as no annotation: a reference comparison then showed no reference beat at all."""
    (excerpt_copy.parent / f"{excerpt_copy.name}.atr").write_bytes(b"")
    with pytest.raises(CorruptRecordError, match=r"\.atr is empty \(0 bytes\)"):
        read_record(excerpt_copy)
    assert read_record(excerpt_copy, annotator=None).annotations is None


def test_units_in_words_read_and_an_ecg_lead_in_another_unit_is_named(excerpt_copy):
    """Leads named MLII and V5 in ``mmHg`` were refused with "expected at least one ECG lead (names such as MLII ...)",
    blaming the names; ``millivolt`` was not read as mV (a QA pass of session 51)."""
    header = excerpt_copy.parent / f"{excerpt_copy.name}.hea"
    text = header.read_text()
    header.write_text(text.replace("/mV", "/millivolt").replace("MLII", "chan1").replace("V5", "chan2"))
    assert read_record(excerpt_copy).lead_names == ("chan1", "chan2")  # ECG by their unit, as mV would make them
    header.write_text(text.replace("/mV", "/mmHg"))
    with pytest.raises(NoEcgLeadError, match=r"units not read as a voltage \(MLII in 'mmHg', V5 in 'mmHg'\)"):
        read_record(excerpt_copy)


def test_a_signal_file_path_reads_as_its_record(excerpt_copy):
    """``ecg score`` took ``NAME.dat`` for the record and ``ecg ingest`` looked for ``NAME.dat.hea``."""
    assert read_record(excerpt_copy.with_suffix(".dat")).n_samples == read_record(excerpt_copy).n_samples


def test_a_dead_primary_lead_of_a_two_lead_record_gives_way(tmp_path, excerpt_100):
    """MLII missing throughout in a two-lead record: it was still named the primary lead (its amplitude shown as -,
    its T waves "under 0.08 mV in every lead"), as only records of more leads than analysed let it give way."""
    signal = excerpt_100.signal_mv.copy()
    signal[:, 0] = np.nan
    write_record(tmp_path, "dead", signal, FS_HZ, excerpt_100.lead_names, fmt="16")

    record = read_record(tmp_path / "dead")

    assert (record.lead_names, record.primary_lead) == (("MLII", "V5"), 1)
    assert read_record(tmp_path / "dead", lead="MLII").primary_lead == 0  # chosen: kept


def test_the_memory_estimate_counts_every_signal_wfdb_decodes():
    """wfdb decodes every signal of a file to read two of them: a 3-hour 12-lead file at 1,000 Hz peaked at 479 MB
    while read, against 218 MB estimated from its two analysed leads (a QA pass of session 51)."""
    from pipeline.records import READ_BYTES_PER_FILE_SAMPLE, check_memory_need

    frames = 3 * 3600 * 1000
    check_memory_need(frames, 1000.0, 2, "twelve", available_bytes=300 * 10**6)
    with pytest.raises(RecordTooLargeError, match="needs about 0.3 GB"):
        check_memory_need(frames, 1000.0, 2, "twelve", available_bytes=300 * 10**6, file_signals=12)
    assert READ_BYTES_PER_FILE_SAMPLE * 12 * 2 * frames > 605 * 10**6  # BENCHMARKS.md section 11: 6 hours, read
