"""Beat datasets of the MIT-BIH inter-patient split (DS1/DS2) on reference beat positions.

Each record goes through the same stages as inference: :func:`pipeline.records.read_record`
-> :func:`pipeline.clean.clean_signal` -> :func:`pipeline.segment.segment_beats` ->
:func:`pipeline.features.compute_beat_context`, with the reference beat annotations in place of
detected R peaks. Beats are labelled with their AAMI EC57
class (:data:`pipeline.labels.AAMI_CLASSES` order); non-beat annotations are not beats, and beat
symbols without an AAMI class are excluded and counted in ``BeatDataset.excluded_symbols``.

Each record's arrays are cached as ``.npz`` in a caller-given directory, under a key that
hashes the record's files, the segmentation, cleaning and feature settings and
:data:`DATASET_VERSION`.

References
----------
de Chazal P, O'Dwyer M, Reilly RB, "Automatic classification of heartbeats using ECG morphology
and heartbeat interval features", IEEE Trans Biomed Eng 51(7):1196-1206, 2004 (DS1/DS2).
ANSI/AAMI EC57:2012 (beat classes).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pipeline.clean import CleaningSettings, clean_signal
from pipeline.errors import DataDirectoryError
from pipeline.features import FeatureSettings, compute_beat_context, subtract_template
from pipeline.labels import AAMI_CLASSES, map_symbols_to_aami, select_reference_beats
from pipeline.records import read_record
from pipeline.segment import segment_beats
from pipeline.splits import DS1, DS2, PACED, SAME_PATIENT
from pipeline.types import Beats, Record, SegmentationSettings

logger = logging.getLogger(__name__)

DATASET_VERSION = 3
"""Bump when the way beats are built changes (code, not settings), to invalidate caches."""

SPLIT_RECORDS = {"ds1": DS1, "ds2": DS2}


@dataclass(frozen=True)
class BeatDataset:
    """Labelled beats of several records, concatenated in record order.

    Attributes
    ----------
    windows_mv : np.ndarray
        float32 (n_beats, window_samples, n_leads); column 0 is each record's primary lead (MLII).
    rr_features : np.ndarray
        float32 (n_beats, n_features), see :func:`pipeline.rr.compute_rr_features`.
    rr_feature_names : tuple of str
    labels : np.ndarray
        int8 class index into :data:`pipeline.labels.AAMI_CLASSES`.
    record_names : np.ndarray
        Record of each beat (``<U16``).
    samples : np.ndarray
        int64 reference R-peak sample of each beat (at ``settings.fs_hz``).
    truncated, has_gap : np.ndarray
        bool flags of each beat (see :class:`pipeline.types.Beats`).
    records : tuple of str
        Records included, in order.
    lead_names : tuple of tuple of str
        Leads of each record, in window column order.
    excluded_symbols : dict of str to int
        Beat annotations left out because their symbol has no AAMI class, by symbol.
    settings : SegmentationSettings
    cleaning : CleaningSettings
    context_features : np.ndarray or None
        float32 (n_beats, n_context_features): record-relative morphology, rhythm and P-wave
        features (:func:`pipeline.features.compute_beat_context`, computed over all of each
        record's beats), never NaN.
    context_feature_names : tuple of str
    record_templates_mv : np.ndarray or None
        float32 (n_records, window_samples, n_leads): each record's dominant beat, in
        ``records`` order; see :meth:`template_channels_mv`.
    features : FeatureSettings
    """

    windows_mv: np.ndarray
    rr_features: np.ndarray
    rr_feature_names: tuple[str, ...]
    labels: np.ndarray
    record_names: np.ndarray
    samples: np.ndarray
    truncated: np.ndarray
    has_gap: np.ndarray
    records: tuple[str, ...]
    lead_names: tuple[tuple[str, ...], ...]
    excluded_symbols: dict[str, int]
    settings: SegmentationSettings
    cleaning: CleaningSettings
    context_features: np.ndarray | None = None
    context_feature_names: tuple[str, ...] = ()
    record_templates_mv: np.ndarray | None = None
    features: FeatureSettings = field(default_factory=FeatureSettings)

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> dict[str, int]:
        """Number of beats of each AAMI class, in :data:`AAMI_CLASSES` order (zeros included)."""
        counts = np.bincount(self.labels, minlength=len(AAMI_CLASSES))
        return {cls: int(count) for cls, count in zip(AAMI_CLASSES, counts)}

    def patient_ids(self) -> np.ndarray:
        """Patient of each beat: the record name, with records of one patient (201/202) merged.

        Use these as groups for any patient-wise split (e.g. validation folds inside DS1).
        """
        ids = self.record_names.copy()
        for first, *others in SAME_PATIENT:
            ids[np.isin(ids, others)] = first
        return ids

    def template_channels_mv(self) -> np.ndarray:
        """Each beat window minus its record's template, float32, 0 where the window is missing.

        The same channels as :attr:`pipeline.features.BeatContext.template_channels_mv`, built on
        demand (they are as large as ``windows_mv``).
        """
        if self.record_templates_mv is None:
            raise ValueError("Received a dataset without record templates; expected one built by "
                             "build_beat_dataset (DATASET_VERSION >= 2).")
        position = {name: index for index, name in enumerate(self.records)}
        index = np.fromiter((position[name] for name in self.record_names), dtype=np.int64,
                            count=len(self.record_names))
        return subtract_template(self.windows_mv, self.record_templates_mv[index])


def build_split_dataset(
    split: str,
    data_dir: str | Path,
    cache_dir: str | Path,
    *,
    settings: SegmentationSettings = SegmentationSettings(),
    cleaning: CleaningSettings = CleaningSettings(),
    features: FeatureSettings = FeatureSettings(),
    progress: bool = True,
) -> BeatDataset:
    """Beat dataset of the inter-patient split ``"ds1"`` (training) or ``"ds2"`` (test).

    The paced records (102, 104, 107, 217) are in neither split. Records 201 (DS1) and 202 (DS2)
    come from one patient; the published split keeps them apart and so does this one.

    Parameters
    ----------
    split : {"ds1", "ds2"}
    data_dir : str or Path
        Directory holding the MIT-BIH records (read only).
    cache_dir : str or Path
        Directory for cached arrays (required; must not be inside ``data_dir``).
    settings : SegmentationSettings
    cleaning : CleaningSettings
    features : FeatureSettings
        Settings of the beat-context features.
    progress : bool
        Show a tqdm progress bar over records.

    Examples
    --------
    >>> ds1 = build_split_dataset("ds1", "../shared/data/mitdb", "out/cache")  # doctest: +SKIP
    >>> ds1.class_counts()  # doctest: +SKIP
    {'N': 45866, 'S': 944, 'V': 3788, 'F': 415, 'Q': 8}
    """
    key = split.lower()
    if key not in SPLIT_RECORDS:
        raise ValueError(f"Received split={split!r}; expected one of {sorted(SPLIT_RECORDS)}.")
    records = SPLIT_RECORDS[key]
    paced = sorted(set(records) & set(PACED))
    if paced:
        raise ValueError(f"Split {key} lists paced records {paced}; expected none of {PACED}.")
    return build_beat_dataset(records, data_dir, cache_dir, settings=settings, cleaning=cleaning,
                              features=features, progress=progress, description=key.upper())


def build_beat_dataset(
    records: tuple[str, ...] | list[str],
    data_dir: str | Path,
    cache_dir: str | Path,
    *,
    settings: SegmentationSettings = SegmentationSettings(),
    cleaning: CleaningSettings = CleaningSettings(),
    features: FeatureSettings = FeatureSettings(),
    progress: bool = True,
    description: str = "records",
) -> BeatDataset:
    """Beat dataset of any list of annotated records, built or loaded from the cache per record."""
    data_dir, cache_dir = check_directories(data_dir, cache_dir)
    parts = [load_or_build_record(data_dir / name, cache_dir, settings, cleaning, features)
             for name in tqdm(list(records), desc=description, unit="record", disable=not progress)]
    return concatenate_parts(parts, tuple(records), settings, cleaning, features)


def check_directories(data_dir: str | Path, cache_dir: str | Path) -> tuple[Path, Path]:
    """Resolve both directories; refuse a missing data directory or a cache inside it."""
    data_dir, cache_dir = Path(data_dir).resolve(), Path(cache_dir).resolve()
    if not data_dir.is_dir():
        raise DataDirectoryError(f"Received data_dir={str(data_dir)!r}, which is not a directory; expected the "
                                 "directory of the MIT-BIH records.")
    if cache_dir == data_dir or data_dir in cache_dir.parents:
        raise DataDirectoryError(f"Received cache_dir={str(cache_dir)!r}, inside the data directory; expected a "
                                 "cache directory away from the records (they are read only).")
    return data_dir, cache_dir


def load_or_build_record(record_path: Path, cache_dir: Path, settings: SegmentationSettings,
                         cleaning: CleaningSettings,
                         features: FeatureSettings = FeatureSettings()) -> dict[str, np.ndarray]:
    """Arrays of one record from the cache when its key matches, otherwise built and cached."""
    key = compute_cache_key(record_path, settings, cleaning, features)
    cache_path = cache_dir / f"beats-{record_path.name}-{key}.npz"
    if cache_path.exists():
        logger.debug("using a record's cached beats")  # no record name in a log line: it may be the patient's
        with np.load(cache_path, allow_pickle=False) as cached:
            return dict(cached)
    logger.info("building a record's beats (then cached)")
    arrays = build_record_arrays(record_path, settings, cleaning, features)
    save_arrays(cache_path, arrays)
    return arrays


def compute_cache_key(record_path: Path, settings: SegmentationSettings, cleaning: CleaningSettings,
                      features: FeatureSettings = FeatureSettings()) -> str:
    """Hash of the record's files, the settings and :data:`DATASET_VERSION` (20 hex digits).

    Header and annotation files are hashed by content; signal files (large) by size and
    modification time.
    """
    payload = {
        "version": DATASET_VERSION,
        "record": record_path.name,
        "files": describe_record_files(record_path),
        "segmentation": settings.to_dict(),
        "cleaning": asdict(cleaning),
        "features": features.to_dict(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def describe_record_files(record_path: Path) -> dict[str, str]:
    """Fingerprint of each ``NAME.*`` file: sha256 for .hea/.atr, size and mtime for others."""
    files = sorted(record_path.parent.glob(f"{record_path.name}.*"))
    if not files:
        raise DataDirectoryError(f"Record {record_path.name}: no files {record_path}.* found; expected a WFDB "
                                 "record (.hea, .dat, .atr).")
    description = {}
    for path in files:
        if path.suffix in (".hea", ".atr"):
            description[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            stat = path.stat()
            description[path.name] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return description


def build_record_arrays(record_path: Path, settings: SegmentationSettings, cleaning: CleaningSettings,
                        features: FeatureSettings = FeatureSettings()) -> dict[str, np.ndarray]:
    """Read, clean and segment one record at its reference beats, with their context; arrays for the cache.

    The beat context (templates, rhythm, P waves) is computed over all of the record's beat
    annotations, before the beats without an AAMI class are removed.
    """
    record = read_record(record_path, target_fs_hz=settings.fs_hz)
    if record.annotations is None:
        raise DataDirectoryError(f"Record {record.name}: no reference annotations (.atr); expected an annotated "
                                 "record.")
    order = order_leads(record.signal_mv.shape[1], record.primary_lead)
    signal = clean_signal(record.signal_mv, record.fs_hz, cleaning)[:, order]
    all_beats, symbols = segment_reference_beats(record, signal, settings)
    context = compute_beat_context(signal, all_beats.samples, record.fs_hz, all_beats, features)
    beats, labels, excluded = select_labelled_beats(record.name, all_beats, symbols)
    labelled = map_symbols_to_aami(symbols) != ""
    return {
        "windows_mv": beats.windows_mv, "rr_features": beats.rr_features,
        "context_features": context.features[labelled],
        "context_feature_names": np.asarray(context.feature_names), "template_mv": context.template_mv,
        "rr_feature_names": np.asarray(beats.rr_feature_names), "labels": labels,
        "samples": beats.samples, "truncated": beats.truncated, "has_gap": beats.has_gap,
        "lead_names": np.asarray([record.lead_names[j] for j in order]),
        "excluded_symbols": np.asarray(list(excluded), dtype="<U2"),
        "excluded_counts": np.asarray(list(excluded.values()), dtype=np.int64),
    }


def label_reference_beats(record: Record, signal: np.ndarray,
                          settings: SegmentationSettings) -> tuple[Beats, np.ndarray, Counter]:
    """Segment every reference beat, keep those with an AAMI class; count the excluded symbols.

    RR features are computed over all beat annotations (an unclassifiable beat still ends the
    previous beat's interval) before the unlabelled beats are removed.
    """
    beats, symbols = segment_reference_beats(record, signal, settings)
    return select_labelled_beats(record.name, beats, symbols)


def segment_reference_beats(record: Record, signal: np.ndarray,
                            settings: SegmentationSettings) -> tuple[Beats, np.ndarray]:
    """Segment every reference beat annotation; return the beats and their MIT-BIH symbols."""
    annotations = record.annotations
    beat = select_reference_beats(record)  # raises when they cannot be this signal's reference
    return segment_beats(signal, annotations.samples[beat], record.fs_hz, settings), annotations.symbols[beat]


def select_labelled_beats(name: str, beats: Beats, symbols: np.ndarray) -> tuple[Beats, np.ndarray, Counter]:
    """Keep the beats whose symbol has an AAMI class; encode their labels and count the excluded symbols."""
    classes = map_symbols_to_aami(symbols)
    labelled = classes != ""
    excluded = Counter(symbols[~labelled].tolist())
    if excluded:
        logger.info("beats without an AAMI class excluded: %s", dict(excluded))
    return beats.select(labelled), encode_classes(classes[labelled]), excluded


def encode_classes(classes: np.ndarray) -> np.ndarray:
    """AAMI class letters -> int8 indices into :data:`AAMI_CLASSES`."""
    labels = np.full(len(classes), -1, dtype=np.int8)
    for index, cls in enumerate(AAMI_CLASSES):
        labels[classes == cls] = index
    return labels


def order_leads(n_leads: int, primary_lead: int) -> list[int]:
    """Column order with the primary lead first (record 114 stores V5 before MLII)."""
    return [primary_lead] + [j for j in range(n_leads) if j != primary_lead]


def save_arrays(cache_path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``cache_path`` atomically (temporary file, then rename)."""
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=cache_path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(temporary, cache_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def concatenate_parts(parts: list[dict[str, np.ndarray]], records: tuple[str, ...],
                      settings: SegmentationSettings, cleaning: CleaningSettings,
                      features: FeatureSettings = FeatureSettings()) -> BeatDataset:
    """Join per-record arrays into one :class:`BeatDataset`."""
    lead_counts = {part["windows_mv"].shape[2] for part in parts}
    if len(lead_counts) > 1:
        raise DataDirectoryError(f"Records {records} have different numbers of leads {sorted(lead_counts)}; "
                                 "expected the same number in every record of a dataset.")
    excluded: Counter = Counter()
    for part in parts:
        excluded.update(dict(zip(part["excluded_symbols"].tolist(), part["excluded_counts"].tolist())))
    names = tuple(str(n) for n in parts[0]["rr_feature_names"]) if parts else ()
    context_names = tuple(str(n) for n in parts[0]["context_feature_names"]) if parts else ()
    n_leads = lead_counts.pop() if lead_counts else 0

    def join(key: str, empty_shape: tuple[int, ...], dtype: type) -> np.ndarray:
        return np.concatenate([p[key] for p in parts]) if parts else np.zeros(empty_shape, dtype)

    return BeatDataset(
        windows_mv=join("windows_mv", (0, settings.window_samples, n_leads), np.float32),
        rr_features=join("rr_features", (0, len(names)), np.float32),
        rr_feature_names=names,
        labels=join("labels", (0,), np.int8),
        record_names=np.repeat(np.asarray(records, dtype="<U16"), [len(p["labels"]) for p in parts]),
        samples=join("samples", (0,), np.int64),
        truncated=join("truncated", (0,), bool),
        has_gap=join("has_gap", (0,), bool),
        records=records,
        lead_names=tuple(tuple(str(n) for n in p["lead_names"]) for p in parts),
        excluded_symbols=dict(excluded),
        settings=settings,
        cleaning=cleaning,
        context_features=join("context_features", (0, len(context_names)), np.float32),
        context_feature_names=context_names,
        record_templates_mv=(np.stack([p["template_mv"] for p in parts]) if parts
                             else np.zeros((0, settings.window_samples, n_leads), np.float32)),
        features=features,
    )
