"""Reading records whose files use what their formats allow: WFDB headers without the optional fields, EDF+ files
with an annotation signal, EDF files with signals at several rates; and the messages for files that are not records.

Inputs are built in ``tmp_path`` from the bundled 5-minute excerpt of MIT-BIH record 100.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import wfdb

from pipeline.errors import CorruptRecordError, SignalTooShortError, UnsupportedFormatError
from pipeline.records import read_record, write_record

FS_HZ = 360.0
N_SECONDS = 20


@pytest.fixture(scope="module")
def excerpt_100(excerpts_dir):
    return read_record(excerpts_dir / "100", annotator=None)


def write_minute(tmp_path: Path, name: str, excerpt) -> Path:
    """``name``.hea and ``name``.dat: the first 20 s of the excerpt as a format-16 WFDB record; the header path."""
    write_record(tmp_path, name, excerpt.signal_mv[:N_SECONDS * 360], FS_HZ, excerpt.lead_names, fmt="16")
    return tmp_path / f"{name}.hea"


def write_edf_signals(path: Path, signals: list[tuple[str, str, np.ndarray]], n_records: int,
                      annotation_samples: int = 0) -> Path:
    """An EDF file of 1 s data records holding ``(label, unit, samples)`` signals, each at its own rate (its samples
    over ``n_records``), physical range +-5, and, when ``annotation_samples`` is set, an EDF+ "EDF Annotations" signal
    of that many 2-byte samples per data record carrying each record's time-keeping annotation."""
    labels = [label for label, _, _ in signals] + ["EDF Annotations"] * bool(annotation_samples)
    units = [unit for _, unit, _ in signals] + [""] * bool(annotation_samples)
    per_record = [len(x) // n_records for _, _, x in signals] + [annotation_samples] * bool(annotation_samples)
    n = len(labels)

    def field(value: object, width: int) -> str:
        return str(value)[:width].ljust(width)

    header = (field(0, 8) + field("X X X X", 80) + field("Startdate 01-JAN-2020 X X X", 80) + field("01.01.20", 8)
              + field("10.00.00", 8) + field(256 * (n + 1), 8) + field("EDF+C" if annotation_samples else "", 44)
              + field(n_records, 8) + field(1, 8) + field(n, 4))
    for values, width in ((labels, 16), ([""] * n, 80), (units, 8), ([-5] * n, 8), ([5] * n, 8), ([-32768] * n, 8),
                          ([32767] * n, 8), ([""] * n, 80), (per_record, 8), ([""] * n, 32)):
        header += "".join(field(value, width) for value in values)
    blocks = []
    for r in range(n_records):
        for _, _, x in signals:
            k = len(x) // n_records
            digital = np.round((x[r * k:(r + 1) * k] + 5) / 10 * 65535 - 32768).clip(-32768, 32767)
            blocks.append(digital.astype("<i2").tobytes())
        if annotation_samples:
            blocks.append(f"+{r}\x14\x14\x00".encode().ljust(2 * annotation_samples, b"\x00"))
    path.write_bytes(header.encode("ascii") + b"".join(blocks))
    return path


# --- WFDB headers without their optional fields -----------------------------------------------------------------


def test_a_header_without_signal_descriptions_is_read_as_ecg_leads_named_by_column(tmp_path, excerpt_100, caplog):
    hea = write_minute(tmp_path, "nodesc", excerpt_100)
    hea.write_text(f"nodesc 2 360 {N_SECONDS * 360}\nnodesc.dat 16 200/mV\nnodesc.dat 16 200/mV\n")

    with caplog.at_level(logging.INFO, logger="pipeline.records"):
        record = read_record(tmp_path / "nodesc")

    assert record.lead_names == ("lead 1", "lead 2") and record.primary_lead == 0
    np.testing.assert_allclose(record.signal_mv, excerpt_100.signal_mv[:N_SECONDS * 360], atol=1e-6)
    assert "gives no name to any of its signals" in caplog.text


def test_an_unnamed_signal_beside_named_ones_is_named_by_its_column(tmp_path, excerpt_100):
    hea = write_minute(tmp_path, "half", excerpt_100)
    lines = hea.read_text().splitlines()
    hea.write_text("\n".join([lines[0], lines[1], lines[2].rsplit(" ", 1)[0]]) + "\n")  # V5's description left out
    assert read_record(tmp_path / "half").lead_names == ("MLII", "lead 2")


def test_a_header_without_the_number_of_samples_counts_them_in_the_signal_file(tmp_path, excerpt_100):
    hea = write_minute(tmp_path, "nolen", excerpt_100)
    lines = hea.read_text().splitlines()
    assert lines[0] == f"nolen 2 360 {N_SECONDS * 360}"
    hea.write_text("\n".join(["nolen 2 360"] + lines[1:]) + "\n")  # checksums kept: they still hold

    record = read_record(tmp_path / "nolen")

    assert record.n_samples == N_SECONDS * 360 and record.lead_names == ("MLII", "V5")
    np.testing.assert_allclose(record.signal_mv, excerpt_100.signal_mv[:N_SECONDS * 360], atol=1e-6)
    assert wfdb.rdrecord(str(tmp_path / "nolen")).sig_len == N_SECONDS * 360  # wfdb counts the same


def test_a_header_without_the_number_of_samples_and_an_empty_signal_file_says_so(tmp_path, excerpt_100):
    hea = write_minute(tmp_path, "nolen", excerpt_100)
    hea.write_text("\n".join(["nolen 2 360"] + hea.read_text().splitlines()[1:]) + "\n")
    (tmp_path / "nolen.dat").write_bytes(b"")
    with pytest.raises(SignalTooShortError, match=r"gives no number of samples and its signal file nolen.dat holds "
                                                  r"none"):
        read_record(tmp_path / "nolen")


@pytest.mark.parametrize("text, said", [("", "the file is empty"),
                                        ("# exported 2024\n\n", "it holds only comments and blank lines")])
def test_a_header_without_a_record_line_says_what_it_holds(tmp_path, text, said):
    (tmp_path / "empty.hea").write_text(text)
    with pytest.raises(CorruptRecordError, match=f"Header empty.hea: {said}; expected a WFDB header"):
        read_record(tmp_path / "empty")


# --- EDF ----------------------------------------------------------------------------------------------------------


def test_an_edf_plus_annotation_signal_at_its_own_rate_is_left_out(tmp_path, excerpt_100):
    """An "EDF Annotations" signal of 30 samples per 1 s data record beside ECG at 360 Hz: wfdb took the greatest
    common rate, 30 Hz, and the file was refused."""
    leads = excerpt_100.signal_mv[:N_SECONDS * 360]
    path = write_edf_signals(tmp_path / "annot.edf", [("ECG MLII", "mV", leads[:, 0]), ("ECG V5", "mV", leads[:, 1])],
                             N_SECONDS, annotation_samples=30)

    record = read_record(path)

    assert record.lead_names == ("ECG MLII", "ECG V5") and record.source_fs_hz == 360.0 and not record.unused_leads
    np.testing.assert_allclose(record.signal_mv, leads, atol=2e-4)  # one 16-bit step of +-5 mV
    assert record.start_time is not None and record.start_time.hour == 10


def test_a_pleth_signal_at_another_rate_is_left_out_and_the_ecg_keeps_its_rate(tmp_path, excerpt_100, caplog):
    """ECG at 500 Hz beside a pulse oximeter's Pleth at 100 Hz: wfdb averaged the ECG down to 100 Hz."""
    ecg_500 = scipy.signal.resample_poly(excerpt_100.signal_mv[:N_SECONDS * 360], 25, 18, axis=0)
    pleth = np.sin(2 * np.pi * 1.2 * np.arange(N_SECONDS * 100) / 100.0)
    path = write_edf_signals(tmp_path / "pleth.edf", [("ECG II", "mV", ecg_500[:, 0]), ("ECG V1", "mV", ecg_500[:, 1]),
                                                      ("Pleth", "", pleth)], N_SECONDS)

    with caplog.at_level(logging.INFO, logger="pipeline.edf"):
        record = read_record(path)

    assert record.source_fs_hz == 500.0 and record.fs_hz == FS_HZ
    assert record.lead_names == ("ECG II", "ECG V1") and not record.unused_leads
    inner = slice(100, N_SECONDS * 360 - 100)
    assert np.abs(record.signal_mv[inner] - excerpt_100.signal_mv[:N_SECONDS * 360][inner]).max() < 0.02
    assert "Pleth (100 Hz)" in caplog.text


def test_ecg_leads_at_different_rates_are_resampled_to_the_highest(tmp_path, excerpt_100):
    leads = excerpt_100.signal_mv[:N_SECONDS * 360]
    v5_180 = scipy.signal.resample_poly(leads[:, 1], 1, 2)
    path = write_edf_signals(tmp_path / "mixed.edf", [("MLII", "mV", leads[:, 0]), ("V5", "mV", v5_180)], N_SECONDS)

    record = read_record(path)

    assert record.source_fs_hz == 360.0 and record.n_samples == N_SECONDS * 360
    np.testing.assert_allclose(record.signal_mv[:, 0], leads[:, 0], atol=2e-4)
    assert np.corrcoef(record.signal_mv[100:-100, 1], leads[100:-100, 1])[0, 1] > 0.99


@pytest.mark.parametrize("content, error, message", [
    (b"", CorruptRecordError, "EDF file rec.edf: the file is empty"),
    (b"this is not an EDF file\n", UnsupportedFormatError,
     "rec.edf is not an EDF file (its header does not start with the EDF version field, 0)"),
    (b"\xffBIOSEMI" + b" " * 248, UnsupportedFormatError,  # a QA pass (session 51) got "not an EDF file" for one
     "rec.edf is a BDF file (24-bit samples, BioSemi's variant of EDF), which is not read"),
])
def test_a_file_that_is_not_edf_says_why(tmp_path, content, error, message):
    (tmp_path / "rec.edf").write_bytes(content)
    with pytest.raises(error, match=re.escape(message)) as raised:
        read_record(tmp_path / "rec.edf")
    assert "invalid literal" not in str(raised.value)
