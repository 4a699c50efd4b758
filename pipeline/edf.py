"""EDF and EDF+C files: reading one into the project's :class:`~pipeline.types.Record` (signal by signal, with
edfio), checking its header before edfio sees it, and writing a signal as a 16-bit EDF file.

Reading refuses what it cannot read faithfully, with a :mod:`pipeline.errors` exception that says why: a file that is
not EDF (text, BDF) or is EDF+D, a header whose numeric fields are not numbers or that declares more data records
than the file holds, an ECG signal with no calibration range. EDF+ annotation signals and the signals that are not
ECG are left out (with a log line); the ECG leads go through the same lead choice, checks and resampling as a WFDB
record (:mod:`pipeline.records`, which dispatches ``.edf`` paths here).

References
----------
Kemp B, Varri A, Rosa AC, Nielsen KD, Gade J, "A simple format for exchange of digitized polygraphic recordings",
Electroencephalogr Clin Neurophysiol 82(5):391-393, 1992; Kemp B, Olivan J, "European data format 'plus' (EDF+)",
Clin Neurophysiol 114(9):1755-1761, 2003.
"""

from __future__ import annotations

import datetime
import logging
import warnings
from dataclasses import replace
from pathlib import Path

import edfio
import numpy as np

from pipeline.errors import (
    CorruptRecordError,
    HeaderMismatchError,
    NoEcgLeadError,
    RecordNotFoundError,
    SamplingRateError,
    SignalTooShortError,
    TruncatedSignalError,
    UnsupportedFormatError,
)
from pipeline.records import (
    MAX_FS_HZ,
    MIN_FS_HZ,
    check_sampling_rate,
    name_signals,
    record_from_columns,
    resample_signal,
    select_ecg_columns,
)
from pipeline.types import Record

logger = logging.getLogger(__name__)


def read_edf(path: Path, *, lead: str | int | None, target_fs_hz: float, min_duration_s: float,
             max_leads: int | None) -> Record:
    """An EDF or EDF+C file, read signal by signal with edfio: its ECG leads at their own rate.

    EDF+ annotation signals ("EDF Annotations") are not signals and are left out; so are the signals that are not
    ECG (by label and unit, :func:`select_ecg_columns`: a pulse oximeter's Pleth at 100 Hz beside ECG at 500 Hz),
    whatever their rate, with a log line. ECG leads recorded at different rates are each resampled to the highest of
    their rates (the record's ``source_fs_hz``) and then, like any record, to ``target_fs_hz``. A blank physical
    dimension is read as mV, as wfdb reads it.
    """
    if not path.exists():
        raise RecordNotFoundError(f"EDF file {path} does not exist; expected an EDF file NAME.edf.")
    check_edf_header(path)
    edf = _open_edf(path)
    signals = edf.signals
    names = name_signals([s.label for s in signals], len(signals), "The EDF file")
    units = ["mV" if not s.physical_dimension.strip() else s.physical_dimension for s in signals]
    ecg_columns = select_ecg_columns(names, units)
    rated = [c for c in ecg_columns if MIN_FS_HZ <= float(signals[c].sampling_frequency) <= MAX_FS_HZ]
    if rated:  # a heart-rate channel with a blank unit ("ECG HR", 1 Hz) failed a file of good leads (QA, session 65);
        ecg_columns = rated  # left out and logged as the other signals are. None rated: refused for their rates
    for c in ecg_columns:
        check_sampling_rate(signals[c].sampling_frequency, f"{path.name} (lead {names[c]})")
        _check_edf_calibration(signals[c], names[c], path.name)
    fs_hz = max((float(signals[c].sampling_frequency) for c in ecg_columns), default=0.0)
    if ecg_columns:
        _log_left_out_signals("The EDF file", names, [float(s.sampling_frequency) for s in signals], ecg_columns)
    n_samples = int(round(edf.num_data_records * edf.data_record_duration * fs_hz))
    record = record_from_columns(
        path.stem, f"EDF {path.name}", names, units, n_samples, fs_hz,
        lambda columns: np.column_stack([_read_edf_lead(signals[c], fs_hz, n_samples) for c in columns]),
        lead=lead, target_fs_hz=target_fs_hz, min_duration_s=min_duration_s, max_leads=max_leads, annotations=None,
        start_time=_edf_start_time(edf, path.name), ecg_columns=ecg_columns)
    # EDF requires a start time; anonymised files and writers without a clock put 00.00.00 there
    return replace(record, start_time=None) if record.start_time == datetime.time(0, 0) else record


def _check_edf_calibration(signal: edfio.EdfSignal, name: str, file_name: str) -> None:
    """Refuse an ECG signal whose header gives no range to convert its digital values to physical ones (edfio would
    return them uncalibrated, with a warning, and every figure in mV would be wrong)."""
    for kind in ("physical", "digital"):
        low, high = getattr(signal, f"{kind}_min"), getattr(signal, f"{kind}_max")
        if low == high:
            raise HeaderMismatchError(
                f"EDF {file_name}: signal {name} has {kind} minimum = maximum ({low:g}), so its values cannot be "
                f"converted to mV; expected a range (e.g. -32768 to 32767 digital, -5 to 5 mV physical). Correct "
                "the header's ranges, or export the file again.")


def _open_edf(path: Path) -> edfio.Edf:
    """The EDF file as edfio reads it (signal data loaded when asked for), with its warnings (a header giving -1 data
    records, a partial last data record) logged."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            edf = edfio.read_edf(path, lazy_load_data=True, header_encoding="latin-1")
        except (ValueError, IndexError, UnicodeDecodeError) as exc:
            raise CorruptRecordError(f"EDF file {path.name} cannot be read ({exc}); expected an EDF or EDF+C file "
                                     "(Kemp et al. 1992, 2003).") from exc
    for warning in caught:
        logger.info("EDF: %s", warning.message)
    return edf


def _log_left_out_signals(described: str, names: list[str], rates_hz: list[float], ecg_columns: list[int]) -> None:
    """Log the signals of a file that are not read as ECG leads, with their rates."""
    left_out = [f"{name} ({rate:g} Hz)" for c, (name, rate) in enumerate(zip(names, rates_hz)) if c not in ecg_columns]
    if left_out:
        logger.info("%s: signals not read (not ECG, or at a rate no ECG lead is recorded at): %s", described,
                    ", ".join(left_out))


def _read_edf_lead(signal: edfio.EdfSignal, fs_hz: float, n_samples: int) -> np.ndarray:
    """One EDF signal in its physical unit (float32), resampled to ``fs_hz`` when recorded at another rate, cut or
    NaN-padded to ``n_samples`` (a sample of rounding at most)."""
    data = np.asarray(signal.data, dtype=np.float32)
    if float(signal.sampling_frequency) != fs_hz:
        data = resample_signal(data[:, None], float(signal.sampling_frequency), fs_hz)[:, 0]
    lead = np.full(n_samples, np.nan, dtype=np.float32)
    lead[: min(n_samples, data.size)] = data[:n_samples]
    return lead


def _edf_start_time(edf: edfio.Edf, name: str) -> datetime.time | None:
    """The EDF header's start time (to the microsecond in EDF+ files); None when it cannot be read."""
    try:
        return edf.starttime
    except (ValueError, IndexError) as exc:
        logger.info("EDF: start time not read (%s)", exc)
        return None


EDF_VERSION = b"0       "
"""The first field of every EDF header: the format's version, "0" padded to 8 bytes."""


def check_edf_header(path: Path) -> None:
    """Refuse, with a message that says why, a file that is not an EDF file we read: empty, of another kind (text,
    BDF, EDF+D), a header whose fields are not numbers, or fewer bytes than the data records its header declares.

    Raises
    ------
    CorruptRecordError
        The file is empty, or a numeric header field is not a number.
    UnsupportedFormatError
        The file does not start with EDF's version field, or is EDF+D.
    SamplingRateError
        The duration of a data record is not positive, or a signal has no sample in a data record.
    NoEcgLeadError
        The header declares no signal.
    TruncatedSignalError
        The file is shorter than its header, or than the data records the header declares.
    """
    size = path.stat().st_size
    if size == 0:
        raise CorruptRecordError(f"EDF file {path.name}: the file is empty; expected an EDF file (a 256-byte header, "
                                 "256 bytes more per signal, then the data records).")
    with open(path, "rb") as f:
        fixed = f.read(256)
        if fixed[:8] == b"\xffBIOSEMI":  # BDF, EDF's 24-bit sibling (BioSemi), often named .edf
            raise UnsupportedFormatError(f"File {path.name} is a BDF file (24-bit samples, BioSemi's variant of EDF), "
                                         "which is not read; expected an EDF or EDF+C file (16-bit samples): convert "
                                         "it, e.g. with MNE or EDFbrowser.")
        if fixed[:8] != EDF_VERSION:
            raise UnsupportedFormatError(f"File {path.name} is not an EDF file (its header does not start with the EDF "
                                         "version field, 0); expected an EDF or EDF+C file.")
        if len(fixed) < 256:
            raise TruncatedSignalError(f"EDF file {path.name} holds {size} bytes, fewer than the 256 of an EDF "
                                       "header's fixed part.")
        if fixed[192:197] == b"EDF+D":
            raise UnsupportedFormatError(f"EDF file {path.name} is EDF+D (data records with gaps between them), which "
                                         "is not supported; expected EDF or EDF+C (export it as continuous).")
        n_signals = _edf_field(fixed[252:256], "number of signals", path.name)
        n_records = _edf_field(fixed[236:244], "number of data records", path.name)
        duration_s = _edf_field(fixed[244:252], "duration of a data record", path.name, float)
        if duration_s <= 0:
            raise SamplingRateError(f"EDF file {path.name} gives the duration of a data record as {duration_s:g} s; "
                                    "expected a positive number of seconds (a signal's rate is its samples per data "
                                    "record over that duration).")
        if n_signals < 1:
            raise NoEcgLeadError(f"EDF file {path.name} declares {n_signals} signals; expected at least one ECG lead.")
        if size < 256 * (n_signals + 1):
            raise TruncatedSignalError(f"EDF file {path.name} holds {size} bytes, fewer than the "
                                       f"{256 * (n_signals + 1)} of its header ({n_signals} signals).")
        header_bytes = _edf_field(fixed[184:192], "number of bytes in the header", path.name)
        if header_bytes != 256 * (n_signals + 1):  # the data are read from there: a wrong one shifted them silently,
            raise CorruptRecordError(  # mixing the leads (a QA pass, session 65)
                f"EDF file {path.name} gives its header's length as {header_bytes} bytes, but a header of "
                f"{n_signals} signals takes {256 * (n_signals + 1)} (256 per signal and 256 more): the file is damaged "
                "or was written wrongly, and its samples would be read from the wrong place. Export it again.")
        f.seek(256 + n_signals * 216)
        counts = [_edf_field(f.read(8), "number of samples in a data record", path.name) for _ in range(n_signals)]
        if min(counts) < 1:
            raise SamplingRateError(f"EDF file {path.name} gives signal {counts.index(min(counts)) + 1} "
                                    f"{min(counts)} samples per data record; expected a positive number (a signal's "
                                    "rate is its samples per data record over the record's duration).")
        per_record = sum(counts)
    expected = 256 * (n_signals + 1) + n_records * per_record * 2
    if size < expected and n_records >= 0:
        raise TruncatedSignalError(
            f"EDF file {path.name} holds {size} bytes; its header declares {n_records} data records "
            f"({expected} bytes): the file was cut short (copy or export it again)."
        )


def _edf_field(raw: bytes, field: str, name: str, kind: type = int) -> int | float:
    """A numeric field of an EDF header, as ``kind``."""
    try:
        return kind(raw.decode("latin-1").strip())
    except ValueError:
        raise CorruptRecordError(f"EDF file {name} gives the {field} as {raw.decode('latin-1').strip()!r}; expected "
                                 "a number (Kemp et al. 1992).") from None


def write_edf(path: str | Path, signal_mv: np.ndarray, fs_hz: float, lead_names: tuple[str, ...]) -> Path:
    """Write a signal (n_samples, n_leads) in mV as a 16-bit EDF file with 1 s data records.

    Each lead gets a symmetric physical range just wider than its largest magnitude, so the
    quantisation step is that range / 65535. NaN samples and the padding of the last data record
    (EDF holds whole records) are written as the digital minimum, -32768, which no sample uses;
    EDF has no missing-sample code, so readers (ours included) see them as the physical minimum.
    Written with NumPy: wfdb 4.3.1's ``wfdb_to_edf`` appends a spurious padded data record and
    prints to stdout.

    References
    ----------
    Kemp B, Varri A, Rosa AC, Nielsen KD, Gade J, "A simple format for exchange of digitized
    polygraphic recordings", Electroencephalogr Clin Neurophysiol 82(5):391-393, 1992.
    """
    path = Path(path)
    x = np.asarray(signal_mv, dtype=np.float64).reshape(len(signal_mv), -1)
    samples_per_record = int(round(fs_hz))
    if samples_per_record <= 0 or abs(samples_per_record - fs_hz) > 1e-9:
        raise SamplingRateError(f"Received fs_hz={fs_hz}; expected a positive whole number of Hz for EDF.")
    if x.shape[0] == 0:
        raise SignalTooShortError("Received a signal of 0 samples; expected at least one sample to write.")
    n_records = -(-x.shape[0] // samples_per_record)
    limits = [_edf_number(max(float(np.nanmax(np.abs(x[:, j]), initial=0.0)), 1e-3) * 1.0001)
              for j in range(x.shape[1])]
    digital = _edf_digital(x, np.array([float(v) for v in limits]), n_records * samples_per_record)
    blocks = digital.reshape(n_records, samples_per_record, x.shape[1]).transpose(0, 2, 1)
    header = _edf_header(lead_names, limits, samples_per_record, n_records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + blocks.astype("<i2").tobytes())
    return path


def _edf_number(value: float) -> str:
    """Shortest text of at most 8 characters not below ``value`` (EDF's physical range fields)."""
    for decimals in (4, 3, 2, 1, 0):
        text = f"{np.ceil(value * 10**decimals) / 10**decimals:.{decimals}f}"
        if len(text) <= 7:  # room for the minus sign of the minimum
            return text
    raise ValueError(f"Received a signal magnitude of {value:g}; expected less than 1e7 in the signal's unit.")


def _edf_digital(x: np.ndarray, limits: np.ndarray, n_total: int) -> np.ndarray:
    """16-bit codes of ``x`` for physical ranges [-limit, limit], padded to ``n_total`` samples."""
    codes = np.full((n_total, x.shape[1]), -32768, dtype=np.int16)
    scaled = np.round((x + limits) * (65535.0 / (2 * limits)) - 32768.0)
    valid = ~np.isnan(x)
    codes[: x.shape[0]][valid] = np.clip(scaled[valid], -32767, 32767).astype(np.int16)
    return codes


def _edf_header(lead_names: tuple[str, ...], limits: list[str], samples_per_record: int, n_records: int) -> bytes:
    """The EDF header: the fixed 256 bytes, then 256 bytes per signal, field by field."""
    n = len(lead_names)

    def field(text: object, width: int) -> str:
        return str(text)[:width].ljust(width)

    fixed = (field("0", 8) + field("X X X X", 80) + field("Startdate X X X X", 80) + field("01.01.00", 8)
             + field("00.00.00", 8) + field(256 * (n + 1), 8) + field("", 44) + field(n_records, 8)
             + field(1, 8) + field(n, 4))
    columns = [([name for name in lead_names], 16), ([""] * n, 80), (["mV"] * n, 8),
               ([f"-{v}" for v in limits], 8), (limits, 8), (["-32768"] * n, 8), (["32767"] * n, 8),
               ([""] * n, 80), ([samples_per_record] * n, 8), ([""] * n, 32)]
    signals = "".join(field(value, width) for values, width in columns for value in values)
    return (fixed + signals).encode("ascii")
