"""DS1/DS2 beat datasets on the full MIT-BIH database: exact EC57 counts, split hygiene, cache."""

import os
import shutil
import time

import numpy as np
import pytest

from pipeline.clean import CleaningSettings
from pipeline.datasets import build_beat_dataset, build_split_dataset, compute_cache_key
from pipeline.errors import DataDirectoryError
from pipeline.labels import AAMI_CLASSES
from pipeline.splits import PACED
from pipeline.types import SegmentationSettings

pytestmark = pytest.mark.mitdb

EXPECTED_COUNTS = {  # ../shared/EVALUATION.md
    "ds1": {"N": 45_866, "S": 944, "V": 3_788, "F": 415, "Q": 8},
    "ds2": {"N": 44_259, "S": 1_837, "V": 3_221, "F": 388, "Q": 7},
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("beat-cache")


@pytest.fixture(scope="module")
def splits(mitdb_dir, cache_dir):
    return {split: build_split_dataset(split, mitdb_dir, cache_dir, progress=False) for split in ("ds1", "ds2")}


@pytest.mark.parametrize("split", ["ds1", "ds2"])
def test_class_counts_match_ec57_reference(splits, split):
    assert splits[split].class_counts() == EXPECTED_COUNTS[split]


@pytest.mark.parametrize("split", ["ds1", "ds2"])
def test_arrays_are_aligned_and_complete(splits, split):
    data = splits[split]
    n = len(data)
    settings = data.settings
    assert data.windows_mv.shape == (n, settings.window_samples, 2) and data.windows_mv.dtype == np.float32
    assert data.rr_features.shape == (n, len(data.rr_feature_names))
    assert np.isfinite(data.rr_features).all()
    assert data.samples.shape == data.record_names.shape == data.truncated.shape == data.has_gap.shape == (n,)
    assert set(np.unique(data.labels)) <= set(range(len(AAMI_CLASSES)))
    assert all(leads[0] == "MLII" for leads in data.lead_names)  # primary lead first (114 stores V5 first)
    assert data.truncated.sum() < 50  # only beats within a window of the record edges
    assert data.excluded_symbols == {}  # every beat symbol of DS1/DS2 has an AAMI class


def test_splits_are_disjoint_and_exclude_paced_records(splits):
    ds1, ds2 = set(splits["ds1"].records), set(splits["ds2"].records)
    assert len(ds1) == len(ds2) == 22
    assert not ds1 & ds2
    assert not (ds1 | ds2) & set(PACED)
    assert set(np.unique(splits["ds1"].record_names)) == ds1


def test_same_patient_records_201_202_are_noted(splits):
    # The published split puts 201 in DS1 and 202 (same patient) in DS2; patient ids expose it.
    assert "201" in splits["ds1"].records and "202" in splits["ds2"].records
    assert set(np.unique(splits["ds2"].patient_ids())) == set(splits["ds2"].records) - {"202"} | {"201"}


def test_beats_are_centred_on_reference_peaks(splits):
    data = splits["ds1"]
    normal = data.labels == AAMI_CLASSES.index("N")
    mean_abs = np.abs(data.windows_mv[normal, :, 0]).mean(axis=0)
    assert abs(int(mean_abs.argmax()) - data.settings.pre_samples) <= 3


def test_cache_is_reused(splits, mitdb_dir, cache_dir):
    start = time.perf_counter()
    again = build_split_dataset("ds1", mitdb_dir, cache_dir, progress=False)
    assert time.perf_counter() - start < 10.0
    first = splits["ds1"]
    assert np.array_equal(again.windows_mv, first.windows_mv)
    assert np.array_equal(again.rr_features, first.rr_features)
    assert np.array_equal(again.labels, first.labels)


def test_cache_is_rebuilt_when_a_setting_changes(mitdb_dir, tmp_path):
    default = build_beat_dataset(["100"], mitdb_dir, tmp_path, progress=False)
    wider = build_beat_dataset(["100"], mitdb_dir, tmp_path, progress=False,
                               settings=SegmentationSettings(pre_s=0.3, post_s=0.5))
    assert wider.windows_mv.shape[1] == wider.settings.window_samples != default.windows_mv.shape[1]
    assert len(list(tmp_path.glob("beats-100-*.npz"))) == 2
    assert wider.class_counts() == default.class_counts()


def test_cache_key_follows_files_and_settings(mitdb_dir, tmp_path):
    copy_dir = tmp_path / "records"
    copy_dir.mkdir()
    for source in mitdb_dir.glob("100.*"):
        shutil.copy2(source, copy_dir / source.name)
    record = copy_dir / "100"
    key = compute_cache_key(record, SegmentationSettings(), CleaningSettings())
    assert compute_cache_key(record, SegmentationSettings(), CleaningSettings()) == key
    assert compute_cache_key(record, SegmentationSettings(local_window_s=60.0), CleaningSettings()) != key
    assert compute_cache_key(record, SegmentationSettings(), CleaningSettings(lowpass_hz=35.0)) != key
    stat = (copy_dir / "100.dat").stat()
    os.utime(copy_dir / "100.dat", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert compute_cache_key(record, SegmentationSettings(), CleaningSettings()) != key


def test_cache_inside_the_data_directory_is_refused(mitdb_dir):
    with pytest.raises(DataDirectoryError, match="cache_dir"):
        build_beat_dataset(["100"], mitdb_dir, mitdb_dir / "cache", progress=False)
