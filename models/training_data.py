"""Network inputs of labelled MIT-BIH beats at their reference positions, cached per record.

The cache lives in the project's cache directory (never next to the records) and is keyed by the
record's files, the input settings and :data:`INPUTS_VERSION`, so it is rebuilt when any of them
change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pipeline.database import find_mitdb_copies
from pipeline.datasets import describe_record_files
from pipeline.errors import DataDirectoryError, EcgInputError
from pipeline.labels import AAMI_CLASSES
from pipeline.records import ANALYSIS_LEADS, read_record
from pipeline.splits import list_directory_records
from models.errors import ModelSettingsMismatchError
from models.inputs import ModelInputs, concatenate_inputs as join_model_inputs
from models.prepare import InputSettings, prepare_reference_beats

logger = logging.getLogger(__name__)

INPUTS_VERSION = 3
"""Bump when the preparation code changes in a way the settings do not capture (3: stretches held at one value are
cleaned as gaps, session 30; on MIT-BIH this changes records 116 and 223 only)."""


@dataclass(frozen=True)
class LabelledInputs:
    """Network inputs and labels of the labelled beats of several records (rows aligned)."""

    inputs: ModelInputs
    labels: np.ndarray
    record_names: np.ndarray
    samples: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def select(self, mask: np.ndarray) -> "LabelledInputs":
        return LabelledInputs(self.inputs.select(mask), self.labels[mask], self.record_names[mask], self.samples[mask])


def load_labelled_inputs(records: tuple[str, ...], data_dir: str | Path, cache_dir: str | Path,
                         settings: InputSettings, progress: bool = True,
                         primary_lead_only: bool = False) -> LabelledInputs:
    """Labelled beats of ``records`` (names in ``data_dir``), from the cache or freshly prepared.

    ``primary_lead_only``: each record cut to its primary lead first, so that its beats are prepared as the product
    prepares a one-lead recording's (the lead read as both, :func:`models.prepare.fill_missing_leads`); the same beats
    in the same order as without it."""
    data_dir, cache_dir = Path(data_dir), Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    desc = "one-lead model inputs" if primary_lead_only else "model inputs"
    parts = [label_record_arrays(load_or_prepare_record(data_dir / name, cache_dir, settings, primary_lead_only), name)
             for name in tqdm(records, desc=desc, unit="record", disable=not progress)]
    return concatenate_inputs(parts)


def label_record_arrays(arrays: dict[str, np.ndarray], record_name: str) -> LabelledInputs:
    """One record's cached arrays (:func:`load_or_prepare_record`) as :class:`LabelledInputs` named ``record_name``."""
    return LabelledInputs(ModelInputs(arrays["waveform"], arrays["features"], tuple(arrays["feature_names"].tolist())),
                          arrays["labels"].astype(np.int64), np.full(len(arrays["labels"]), record_name),
                          arrays["samples"])


def concatenate_inputs(parts: list[LabelledInputs]) -> LabelledInputs:
    """Several :class:`LabelledInputs` as one, rows in order; their feature columns must agree.

    Raises
    ------
    ModelSettingsMismatchError
        When the parts' feature names differ (the message names the records of each).
    """
    if not parts:
        raise ValueError("Received no records' inputs; expected at least one to join.")
    records_of = {}  # feature names -> the records holding them, in order
    for part in parts:
        records_of.setdefault(part.inputs.feature_names, {}).update(dict.fromkeys(part.record_names.astype(str)))
    if len(records_of) > 1:
        received = "; ".join(f"{list(names)} for record(s) {', '.join(list(records)[:5])}"
                             f"{', ...' if len(records) > 5 else ''}" for names, records in records_of.items())
        raise ModelSettingsMismatchError(f"Received feature names {received}; expected the same feature names for "
                                         "every record (inputs cached by another version?): clear the cache "
                                         "directory.")
    return LabelledInputs(
        inputs=join_model_inputs([p.inputs for p in parts]),
        labels=np.concatenate([p.labels for p in parts]),
        record_names=np.concatenate([p.record_names.astype(str) for p in parts]),
        samples=np.concatenate([p.samples for p in parts]),
    )


NO_LABELLED_BEAT = "no labelled beat"
"""The kind of reason of an extra record skipped for holding no labelled beat (a rhythm-only reference)."""


@dataclass(frozen=True)
class ExtraTrainingData:
    """Labelled beats of other databases that join every fold's training set (never a validation fold).

    ``inputs.record_names`` are ``DATABASE/RECORD`` (the directory's name), so that they never collide with DS1's;
    ``databases`` describes each directory (records used, beats per class) and ``skipped`` lists the records left
    out as (``DATABASE/RECORD``, kind of reason, message), for the terminal only: a site's record names can be patient
    identifiers (a name, a medical record number), so what a run logs and a model keeps counts them by kind.
    """

    inputs: LabelledInputs
    databases: tuple[dict, ...]
    skipped: tuple[tuple[str, str, str], ...]

    def describe(self) -> dict:
        """What a run logs and a model's settings keep about its extra training data: no record name, no path."""
        kinds = [kind for _, kind, _ in self.skipped]
        return {"databases": list(self.databases),
                "skipped": {"records": len(kinds), "reasons": {kind: kinds.count(kind) for kind in sorted(set(kinds))}}}


def load_extra_inputs(directories: tuple[Path, ...], cache_dir: str | Path, settings: InputSettings,
                      progress: bool = True) -> ExtraTrainingData:
    """Labelled beats of every annotated record of ``directories`` (e.g. the MIT-BIH Supraventricular Arrhythmia or
    INCART databases), prepared as DS1's are: resampled to the input rate, the same leads chosen, AAMI classes.

    A directory holding copies of MIT-BIH Arrhythmia records (compared by content, whatever their names) is refused:
    DS2 is the test set and DS1 already trains and validates. A record that cannot be read, or that holds no labelled
    beat (a rhythm-only reference, as the Atrial Fibrillation Database's), is skipped and listed; a directory
    with no usable record at all is an error.
    """
    if not directories:
        raise ValueError("Received no directory; expected at least one database to train on as well.")
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    parts, databases, skipped = [], [], []
    for directory in map(Path, directories):
        names = list_directory_records(directory)
        if not names:
            raise DataDirectoryError(f"{directory} holds no WFDB record (no RECORDS list, no .hea file); expected "
                                     "a directory of annotated records to train on.")
        copies = find_mitdb_copies(directory, names)
        if copies:
            raise DataDirectoryError(
                f"{directory} holds MIT-BIH Arrhythmia Database records ({', '.join(copies[:8])}"
                f"{', ...' if len(copies) > 8 else ''}); expected another database: extra training data must not "
                "repeat MIT-BIH patients (DS2 is the test set, DS1 already trains and validates).")
        used = []
        for name in tqdm(names, desc=f"extra inputs ({directory.name})", unit="record", disable=not progress):
            try:
                arrays = load_or_prepare_record(directory / name, cache_dir, settings)
            except (EcgInputError, OSError, ValueError) as error:
                skipped.append((f"{directory.name}/{name}", type(error).__name__, str(error)))
                logger.warning("an extra training record was skipped (%s)", type(error).__name__)  # named by the CLI
                continue
            if len(arrays["labels"]) == 0:
                skipped.append((f"{directory.name}/{name}", NO_LABELLED_BEAT,
                                "no labelled beat in its reference annotations"))
                logger.warning("an extra training record was skipped (no labelled beat)")
                continue
            used.append(label_record_arrays(arrays, f"{directory.name}/{name}"))
        if not used:
            raise DataDirectoryError(f"{directory}: none of its {len(names)} records has labelled beats that could "
                                     "be read; expected annotated records (MIT-BIH beat symbols in .atr).")
        counts = np.bincount(np.concatenate([p.labels for p in used]), minlength=len(AAMI_CLASSES))
        databases.append({"database": directory.name, "records": len(used),
                          "beats": {c: int(n) for c, n in zip(AAMI_CLASSES, counts)}})
        parts.extend(used)
    return ExtraTrainingData(concatenate_inputs(parts), tuple(databases), tuple(skipped))


def compute_inputs_key(record_path: Path, settings: InputSettings, primary_lead_only: bool = False) -> str:
    """Hash of the record's files, the input settings and :data:`INPUTS_VERSION` (and of ``primary_lead_only`` when
    set, so that two-lead keys are as they were)."""
    payload = {"version": INPUTS_VERSION, "record": record_path.name,
               "files": describe_record_files(record_path), "settings": settings.to_dict()}
    if primary_lead_only:
        payload["leads"] = "primary only"
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def load_or_prepare_record(record_path: Path, cache_dir: Path, settings: InputSettings,
                           primary_lead_only: bool = False) -> dict[str, np.ndarray]:
    """Arrays of one record's labelled beats, read from or written to the cache."""
    key = compute_inputs_key(record_path, settings, primary_lead_only)
    cache_path = cache_dir / f"{record_path.name}-{key}.npz"
    if cache_path.exists():
        with np.load(cache_path) as cached:
            return dict(cached)
    arrays = prepare_record_arrays(record_path, settings, primary_lead_only)
    temporary = cache_path.with_name(f".{cache_path.name}.{os.getpid()}.tmp.npz")
    np.savez(temporary, **arrays)
    os.replace(temporary, cache_path)
    return arrays


def prepare_record_arrays(record_path: Path, settings: InputSettings,
                          primary_lead_only: bool = False) -> dict[str, np.ndarray]:
    """Prepare one record at its reference beats (cut to its primary lead first with ``primary_lead_only``) and keep
    the labelled ones."""
    record = read_record(record_path, target_fs_hz=settings.segmentation.fs_hz,
                         max_leads=1 if primary_lead_only else ANALYSIS_LEADS)
    prepared, labels = prepare_reference_beats(record, settings)
    keep = labels >= 0
    return {
        "waveform": prepared.inputs.waveform[keep],
        "features": prepared.inputs.features[keep],
        "feature_names": np.asarray(prepared.inputs.feature_names),
        "labels": labels[keep].astype(np.int8),
        "samples": prepared.beats.samples[keep],
    }

