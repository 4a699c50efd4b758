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

from pipeline.datasets import describe_record_files
from pipeline.records import read_record
from models.inputs import ModelInputs
from models.prepare import InputSettings, prepare_reference_beats

logger = logging.getLogger(__name__)

INPUTS_VERSION = 2
"""Bump when the preparation code changes in a way the settings do not capture."""


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
                         settings: InputSettings, progress: bool = True) -> LabelledInputs:
    """Labelled beats of ``records`` (names in ``data_dir``), from the cache or freshly prepared."""
    data_dir, cache_dir = Path(data_dir), Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    parts = [load_or_prepare_record(data_dir / name, cache_dir, settings)
             for name in tqdm(records, desc="model inputs", unit="record", disable=not progress)]
    names = {tuple(p["feature_names"].tolist()) for p in parts}
    if len(names) != 1:
        raise ValueError("Cached records disagree on feature names; clear the cache directory.")
    inputs = ModelInputs(np.concatenate([p["waveform"] for p in parts]),
                         np.concatenate([p["features"] for p in parts]), names.pop())
    return LabelledInputs(
        inputs=inputs,
        labels=np.concatenate([p["labels"] for p in parts]).astype(np.int64),
        record_names=np.concatenate([np.full(len(p["labels"]), name) for p, name in zip(parts, records)]),
        samples=np.concatenate([p["samples"] for p in parts]),
    )


def compute_inputs_key(record_path: Path, settings: InputSettings) -> str:
    """Hash of the record's files, the input settings and :data:`INPUTS_VERSION`."""
    payload = {"version": INPUTS_VERSION, "record": record_path.name,
               "files": describe_record_files(record_path), "settings": settings.to_dict()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def load_or_prepare_record(record_path: Path, cache_dir: Path, settings: InputSettings) -> dict[str, np.ndarray]:
    """Arrays of one record's labelled beats, read from or written to the cache."""
    cache_path = cache_dir / f"{record_path.name}-{compute_inputs_key(record_path, settings)}.npz"
    if cache_path.exists():
        with np.load(cache_path) as cached:
            return dict(cached)
    arrays = prepare_record_arrays(record_path, settings)
    temporary = cache_path.with_name(f".{cache_path.name}.{os.getpid()}.tmp.npz")
    np.savez(temporary, **arrays)
    os.replace(temporary, cache_path)
    return arrays


def prepare_record_arrays(record_path: Path, settings: InputSettings) -> dict[str, np.ndarray]:
    """Prepare one record at its reference beats and keep the labelled ones."""
    record = read_record(record_path, target_fs_hz=settings.segmentation.fs_hz)
    prepared, labels = prepare_reference_beats(record, settings)
    keep = labels >= 0
    return {
        "waveform": prepared.inputs.waveform[keep],
        "features": prepared.inputs.features[keep],
        "feature_names": np.asarray(prepared.inputs.feature_names),
        "labels": labels[keep].astype(np.int8),
        "samples": prepared.beats.samples[keep],
    }
