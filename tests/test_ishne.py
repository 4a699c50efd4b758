"""ISHNE Holter files (pipeline.ishne): read as records by every command and the dashboard, checked field by field,
told apart from the product's own WFDB ``NAME.ecg`` files, and the patient's details never kept."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from app.batch import find_record_sources
from app.cli import cli
from pipeline.errors import CorruptRecordError, HeaderMismatchError, TruncatedSignalError, UnsupportedFormatError
from pipeline.ishne import (HEADER_BYTES, format_ishne_annotations, header_crc, read_ishne, read_ishne_annotations,
                            write_ishne, write_ishne_annotations)
from pipeline.records import read_annotations, read_record
from tests.score_runs import copy_record, run_score

START = datetime.time(8, 15, 30)


@pytest.fixture(scope="module")
def excerpt(excerpts_dir):
    return read_record(excerpts_dir / "119", annotator=None)


@pytest.fixture()
def holter(excerpt, tmp_path) -> Path:
    """Excerpt 119 (MLII and V1 at 360 Hz) as an ISHNE file: leads II and V1, started at 08:15:30."""
    return write_ishne(tmp_path / "holter.ecg", excerpt.signal_mv, excerpt.fs_hz, ("II", "V1"), START)


def patch_header(path: Path, offset: int, value: bytes, fix_crc: bool = True) -> None:
    """Overwrite header bytes (offset in the file) and, unless told not to, write the CRC again."""
    data = bytearray(path.read_bytes())
    data[offset:offset + len(value)] = value
    if fix_crc:
        data[8:10] = header_crc(bytes(data[10:HEADER_BYTES])).to_bytes(2, "little")
    path.write_bytes(bytes(data))


def test_the_crc_is_the_standard_s_ccitt_variant():
    assert header_crc(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value


def test_an_ishne_file_reads_as_the_record_it_was_made_from(excerpt, holter):
    record = read_record(holter)
    assert record.name == "holter" and record.lead_names == ("II", "V1") and record.primary_lead_name == "II"
    assert record.start_time == START and record.fs_hz == excerpt.fs_hz and record.annotations is None
    assert np.allclose(record.signal_mv, excerpt.signal_mv, rtol=0, atol=1e-6)  # 5 uV steps: whole 2.5 uV units


def test_a_three_lead_holter_with_generic_leads_is_analysed_on_two(excerpt, tmp_path):
    signal = np.column_stack([excerpt.signal_mv, excerpt.signal_mv[:, 0] * 0.5])
    path = write_ishne(tmp_path / "generic.ecg", signal, excerpt.fs_hz, ("ECG", "ECG", "ECG"))
    assert read_ishne(path).lead_names == ("ECG1", "ECG2", "ECG3")
    record = read_record(path)
    assert record.lead_names == ("ECG1", "ECG2") and record.unused_leads == ("ECG3",)
    assert record.start_time is None


def test_the_patient_s_details_in_the_header_are_never_kept(holter, tmp_path):
    patch_header(holter, 28, b"Jane".ljust(40, b"\0"))  # first name
    patch_header(holter, 108, b"PID-0042".ljust(20, b"\0"))  # patient identifier
    out = tmp_path / "out"
    code, output = run_score(str(holter), "--out", str(out), "--format", "csv,json,wfdb")
    assert code == 0, output
    written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"Jane" not in written and b"PID-0042" not in written
    assert "Jane" not in repr(read_record(holter))


@pytest.mark.parametrize("damage, error, message", [
    (lambda p: patch_header(p, 30, b"X", fix_crc=False), HeaderMismatchError, "checksum"),
    (lambda p: p.write_bytes(p.read_bytes()[:-1000]), TruncatedSignalError, "truncated"),
    (lambda p: patch_header(p, 156, (0).to_bytes(2, "little")), CorruptRecordError, "received 0 leads"),
    (lambda p: patch_header(p, 22, (600).to_bytes(4, "little")), HeaderMismatchError, "variable block"),
    (lambda p: p.write_bytes(p.read_bytes()[:300]), CorruptRecordError, "expected a header of 522 bytes"),
])
def test_a_damaged_ishne_file_gets_a_specific_error(holter, damage, error, message):
    damage(holter)
    with pytest.raises(error, match=message):
        read_record(holter)


def test_a_header_counting_the_samples_of_every_lead_is_understood(excerpt, holter):
    patch_header(holter, 14, (excerpt.n_samples * 2).to_bytes(4, "little"))  # the total over both leads
    assert read_record(holter).n_samples == excerpt.n_samples


def test_the_product_s_own_annotation_file_is_not_taken_for_an_ishne_record(excerpts_dir, tmp_path):
    """A folder with record 119 and the 119.ecg a review saved: one record, the WFDB one; the .ecg given alone is
    refused with what to give instead."""
    copy_record(excerpts_dir, "119", tmp_path)
    shutil.copy(excerpts_dir / "119.atr", tmp_path / "119.ecg")  # a WFDB annotation file named like ours
    assert [s.key for s in find_record_sources([str(tmp_path)])] == ["119"]
    with pytest.raises(UnsupportedFormatError, match="not an ISHNE Holter file"):
        read_record(tmp_path / "119.ecg")


def test_score_finds_ishne_files_in_a_folder_and_gets_the_excerpt_s_beats(excerpts_dir, holter, tmp_path):
    """The ISHNE copy of excerpt 119 is scored like the excerpt itself (same signal, same beats and classes), with
    the start time; --labels-from ecg does not take the ISHNE file for its own review file."""
    folder = holter.parent
    copy_record(excerpts_dir, "119", folder)
    out = tmp_path / "out"
    code, output = run_score(str(folder), "--out", str(out), "--format", "json", "--labels-from", "ecg")
    assert code == 0, output
    from_ishne = json.loads((out / "holter" / "holter_summary.json").read_text())
    from_wfdb = json.loads((out / "119" / "119_summary.json").read_text())
    assert from_ishne["beat_counts"] == from_wfdb["beat_counts"] and from_ishne["n_beats"] > 300
    assert from_ishne["start_time"] == "08:15:30" and from_ishne["reviewed_beats"] == 0


def test_the_dashboard_takes_an_uploaded_ishne_file(holter, excerpt):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from app.analysis import analyse_record
    from models.bundled import load_default_model

    app = Path(__file__).resolve().parents[1] / "app" / "dashboard" / "main.py"
    at = AppTest.from_file(str(app), default_timeout=180)
    at.run()
    at.file_uploader(key="upload").set_value([("holter.ecg", holter.read_bytes(), "application/octet-stream")])
    at.run()
    assert not at.exception and not at.error
    assert at.subheader[0].value == "Record holter"
    assert any("started at 08:15:30" in caption.value for caption in at.caption)
    expected = analyse_record(excerpt, load_default_model()).summary.beat_counts
    shown = {m.label.split()[0]: int(m.value) for m in at.metric if m.label.endswith(" beats")}
    assert list(shown.values()) == list(expected)


def test_ingest_names_the_start_time(holter):
    result = CliRunner().invoke(cli, ["ingest", str(holter)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("holter: 300.0 s from 08:15:30, leads II*, V1")


def test_a_pacemaker_in_the_header_is_said_in_the_summary(excerpt, tmp_path):
    from app.analysis import analyse_record
    from models.bundled import load_default_model

    path = write_ishne(tmp_path / "paced.ecg", excerpt.signal_mv, excerpt.fs_hz, ("II", "V1"), pacemaker_code=5)
    record = read_record(path)
    assert record.pacemaker == "dual chamber bipolar"
    summary = analyse_record(record, load_default_model()).summary
    assert summary.notes[0].startswith("pacemaker (dual chamber bipolar): the classifier was not trained on paced")
    # 119's beats are its own (none found paced): HRV is measured on them as without a pacemaker (since session 46)
    assert summary.notes[1].startswith("the pacemaker paced under 10 % of the beats")
    assert "has a pacemaker" not in summary.hrv.note
    assert read_record(write_ishne(tmp_path / "none.ecg", excerpt.signal_mv, excerpt.fs_hz, ("II", "V1"),
                                   pacemaker_code=0)).pacemaker is None


ISHNE_LABELS = {"N": "N", "L": "B", "R": "B", "A": "S", "a": "S", "J": "S", "S": "S", "V": "V", "E": "V", "F": "F",
                "/": "P", "Q": "U"}


@pytest.fixture()
def annotated_holter(excerpts_dir, excerpt, holter) -> Path:
    """The ISHNE copy of excerpt 119 with its reference beats as an ISHNE annotation file, less those from 30 s to
    250 s, so that a gap longer than the 16-bit field (65,535 samples) needs time-out entries; a ``~`` becomes X."""
    atr = read_annotations(excerpts_dir / "119", "atr", source_fs_hz=360.0, target_fs_hz=360.0)
    keep = np.isin(atr.symbols, list(ISHNE_LABELS) + ["~"])
    keep &= (atr.samples < 30 * 360) | (atr.samples > 250 * 360)
    samples, symbols = atr.samples[keep], atr.symbols[keep]
    labels = [ISHNE_LABELS.get(s, "X") for s in symbols]
    write_ishne_annotations(holter.with_suffix(".ann"), samples, labels, 360.0, excerpt.n_samples)
    return holter


def test_an_ishne_annotation_file_gives_the_reference_labels(excerpts_dir, annotated_holter):
    content = annotated_holter.with_suffix(".ann").read_bytes()
    assert content[:8] == b"ANN  1.0" and content.count(b"!\x00\xff\xff") == 1  # one time-out across the gap
    record = read_record(annotated_holter)
    atr = read_record(excerpts_dir / "119").annotations
    beats = atr.select(np.isin(atr.symbols, list(ISHNE_LABELS)))
    kept = (beats.samples < 30 * 360) | (beats.samples > 250 * 360)
    got = record.annotations.select(record.annotations.symbols != "~")
    assert got.samples.tolist() == beats.samples[kept].tolist()
    assert got.symbols.tolist() == [{"B": "B", "P": "/", "U": "Q"}.get(ISHNE_LABELS[s], ISHNE_LABELS[s])
                                    for s in beats.symbols[kept]]
    assert set(record.annotations.symbols) >= {"N", "V"}
    assert read_record(annotated_holter, annotator=None).annotations is None


def test_a_damaged_or_foreign_annotation_file_is_refused_with_a_reason(annotated_holter, excerpt, tmp_path):
    path = annotated_holter.with_suffix(".ann")
    good = path.read_bytes()
    path.write_bytes(good[:-2])
    with pytest.raises(CorruptRecordError, match="4 bytes each"):
        read_record(annotated_holter)
    path.write_bytes(good[:HEADER_BYTES + 4] + b"Z\x00\x10\x00" + good[HEADER_BYTES + 8:])
    with pytest.raises(CorruptRecordError, match=r"labels \['Z'\] are not in the standard"):
        read_record(annotated_holter)
    write_ishne_annotations(path, np.array([100, excerpt.n_samples + 10]), ["N", "N"], 360.0, excerpt.n_samples)
    with pytest.raises(HeaderMismatchError, match="ends at sample"):
        read_record(annotated_holter)
    write_ishne_annotations(path, np.array([100, 400]), ["N", "N"], 250.0, excerpt.n_samples)
    with pytest.raises(HeaderMismatchError, match="250 Hz"):
        read_record(annotated_holter)
    path.write_bytes(good[:40] + b"x" + good[41:])  # a byte of the name field changed, the CRC not
    with pytest.raises(HeaderMismatchError, match="checksum"):
        read_ishne_annotations(path)


def test_the_dashboard_compares_an_uploaded_ishne_file_with_its_annotation_file(annotated_holter):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parents[1] / "app" / "dashboard" / "main.py"
    at = AppTest.from_file(str(app), default_timeout=180)
    at.run()
    files = [(p.name, p.read_bytes(), "application/octet-stream") for p in (annotated_holter,
                                                                             annotated_holter.with_suffix(".ann"))]
    at.file_uploader(key="upload").set_value(files).run()
    assert not at.exception and not at.error
    assert any("with reference annotations" in caption.value for caption in at.caption)
    shown = {m.label: m.value for m in at.metric}
    assert float(shown["Beat detection Se"].rstrip(" %")) > 99


def test_score_writes_the_beat_labels_as_an_ishne_annotation_file_that_reads_back(holter, tmp_path):
    """``--format ishne``: NAME.ann holds every beat of the beat table at its sample with its class (F as U, with
    the class as the second label), a header that describes the recording and not the patient, and it reads back as
    the record's reference labels."""
    out = tmp_path / "out"
    code, output = run_score(str(holter), "--out", str(out), "--format", "ishne,csv")
    assert code == 0, output
    written = out / "holter" / "holter.ann"
    beats = pd.read_csv(out / "holter" / "holter_beats.csv")
    samples, symbols, fs_hz = read_ishne_annotations(written)
    assert fs_hz == 360.0 and len(beats) > 300 and set(beats["class"]) >= {"N", "V"}
    assert samples.tolist() == beats["sample"].tolist()
    assert symbols.tolist() == [{"F": "Q"}.get(c, c) for c in beats["class"]]  # U (unknown beat) reads as Q
    content = written.read_bytes()
    entries = np.frombuffer(content[HEADER_BYTES + 4:], dtype=[("label", "S1"), ("internal", "S1"), ("toc", "<u2")])
    assert [v.decode() for v in entries["internal"]] == beats["class"].tolist()  # the AAMI class, F included
    header = read_ishne(holter)  # the recording's own header, for comparison
    assert content[:8] == b"ANN  1.0" and content[8:10] == header_crc(content[10:HEADER_BYTES]).to_bytes(2, "little")
    # the annotation block's offset is where the checksummed header ends, as other readers take it (QA, session 50)
    assert int(np.frombuffer(content, dtype="<i4", count=1, offset=22)[0]) == HEADER_BYTES
    assert int(np.frombuffer(content, dtype="<i4", count=1, offset=14)[0]) == len(header.samples)
    assert int(np.frombuffer(content, dtype="<i2", count=1, offset=156)[0]) == 2  # leads
    assert np.frombuffer(content, dtype="<i2", count=2, offset=158).tolist() == [6, 11]  # II, V1 (Table 1)
    assert np.frombuffer(content, dtype="<i2", count=3, offset=150).tolist() == [8, 15, 30]  # start time
    assert content[28:128].strip(b"\x00") == b""  # the patient's names and identifier left empty
    shutil.copy(written, holter.with_suffix(".ann"))
    reference = read_record(holter).annotations
    assert reference.samples.tolist() == beats["sample"].tolist()


def test_an_ishne_annotation_file_needs_whole_hertz_and_ordered_beats():
    with pytest.raises(ValueError, match="whole number of Hz"):
        format_ishne_annotations(np.array([10, 20]), ["N", "N"], 128.5, 1000)
    with pytest.raises(ValueError, match="ascending"):
        format_ishne_annotations(np.array([20, 10]), ["N", "N"], 360.0, 1000)
