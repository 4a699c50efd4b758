"""Code tests of the benchmark helpers (the benchmarks themselves are run by hand: BENCHMARKS.md)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import detector_noise as noise
from benchmarks.common import format_table, parse_records
from benchmarks.memprofile import MemoryProfile

FS_HZ = 360.0


def test_parse_records_accepts_lists_and_splits():
    assert parse_records("100, 101") == ("100", "101")
    assert len(parse_records("all")) == 48
    assert len(parse_records("ds2")) == 22


def test_parse_records_rejects_unknown_names():
    with pytest.raises(ValueError, match="999"):
        parse_records("100,999")


def test_format_table_aligns_columns():
    lines = format_table(["a", "bb"], [[1, 22], [333, 4]]).splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[1].startswith("|") and lines[1].endswith(":|")


@pytest.mark.parametrize("kind", sorted(noise.NOISE_GENERATORS))
def test_noise_is_scaled_to_the_requested_snr(kind):
    rng = np.random.default_rng(1)
    x = noise.NOISE_GENERATORS[kind](rng, int(600 * FS_HZ), FS_HZ)
    signal_power = 1.5**2 / 8  # a 1.5 mV peak-to-peak QRS
    for snr_db in (12.0, 0.0):
        gain = noise.noise_gain(signal_power, noise.noise_power(x, FS_HZ), snr_db)
        measured = 10 * np.log10(signal_power / noise.noise_power(gain * x, FS_HZ))
        assert measured == pytest.approx(snr_db, abs=1e-6)


def test_noise_is_reproducible_and_independent_per_lead():
    record = SimpleNamespace(name="100", n_samples=3600, fs_hz=FS_HZ)
    first = noise.make_noise("white", record, 0, seed=7)
    assert np.array_equal(first, noise.make_noise("white", record, 0, seed=7))
    assert not np.allclose(first, noise.make_noise("white", record, 1, seed=7))


def test_muscle_noise_is_band_limited_and_bursty():
    x = noise.muscle_noise(np.random.default_rng(2), int(300 * FS_HZ), FS_HZ)
    freqs = np.fft.rfftfreq(x.size, 1 / FS_HZ)
    power = np.abs(np.fft.rfft(x)) ** 2
    assert power[(freqs > 20) & (freqs < 150)].sum() > 0.95 * power.sum()
    chunk_rms = x[: int(300 * FS_HZ)].reshape(300, -1).std(axis=1)
    assert chunk_rms.max() > 2.5 * chunk_rms.min()


def test_baseline_wander_is_low_frequency():
    x = noise.baseline_wander(np.random.default_rng(3), int(600 * FS_HZ), FS_HZ)
    freqs = np.fft.rfftfreq(x.size, 1 / FS_HZ)
    power = np.abs(np.fft.rfft(x)) ** 2
    assert power[freqs < 1.0].sum() > 0.95 * power.sum()


def test_signal_power_follows_the_nst_definition():
    x = np.zeros(int(60 * FS_HZ))
    beats = np.arange(360, x.size - 360, 300)
    x[beats] = 2.0  # 2 mV peak-to-peak spikes
    assert noise.qrs_signal_power(x, beats, FS_HZ) == pytest.approx(2.0**2 / 8)


def test_memory_profile_names_the_allocating_function():
    def allocate():
        return float(np.ones(2_000_000).sum())

    with MemoryProfile(("test_benchmarks",)) as profile:
        allocate()
    name, rise = profile.top(1)[0]
    assert name.endswith("allocate") and rise >= 16_000_000


def test_ideal_group_review_relabels_groups_by_their_reference_majority():
    from benchmarks.family_review import review_groups

    families = np.array([0, 0, 0, 0, 1, 1, 1, -1, 2])
    test = np.array([0, 0, 2, 2, 2, 2, 0, 2, 0])  # N N V V | V V N | V (ungrouped) | N (extra detection)
    matched = np.array([0, 0, 0, 2, 2, 2, 1, 0, -1])  # reference: family 0's V calls are half N, half V
    reviewed, actions = review_groups(families, test, matched)
    # family 0's V group: tie between N and V -> bincount argmax takes N (the lower index); family 1's N group
    # (one beat, reference S) -> S; the ungrouped beat and the unmatched group are left alone
    assert reviewed.tolist() == [0, 0, 0, 0, 2, 2, 1, 2, 0]
    assert actions == 2


def test_intervals_next_to_ventricular_beats_are_measured_raw_and_anchored(excerpts_dir):
    """benchmarks/ectopic_interval_error.py on the first 5 minutes of 208 (frequent PVCs): the detected intervals
    next to ventricular beats are often tens of ms off the reference (the detector's fiducial on wide beats), normal
    ones are not, and anchoring both sets of positions brings them back."""
    from benchmarks.ectopic_interval_error import measure_record, summarise

    pairs = measure_record("208", excerpts_dir)
    normal = summarise(np.asarray(pairs["N-N"]["reference"]), np.asarray(pairs["N-N"]["raw"]), "N-N")
    assert normal["intervals"] > 100 and normal["off_over_50_ms_pct"] < 1
    ectopic = {key: np.asarray(pairs["N-V"][key]) for key in ("reference", "raw", "anchored", "anchored_reference")}
    raw = summarise(ectopic["reference"], ectopic["raw"], "N-V")
    anchored = summarise(ectopic["reference"], ectopic["anchored"], "N-V")
    assert raw["intervals"] > 50 and raw["off_over_50_ms_pct"] > 50 > 10 > anchored["off_over_50_ms_pct"]


def tiny_network_config():
    from models.network import NetworkConfig
    return NetworkConfig(window_samples=64, n_channels=2, n_features=3)


def test_gpu_check_times_training_both_ways_and_sees_no_cudnn_run_on_a_cpu():
    from benchmarks import gpu_check
    config = tiny_network_config()
    inputs, labels = gpu_check.make_inputs(config, 300)
    for allow in (True, False):
        timed = gpu_check.time_training(config, inputs, labels, epochs=2, allow_cudnn=allow)
        assert len(timed["seconds_per_epoch"]) == 2 and all(s > 0 for s in timed["seconds_per_epoch"])
        assert timed["cudnn_gru_runs"] == 0  # Keras calls the cuDNN GRU only where it sees a GPU


def test_gpu_check_counts_the_cudnn_gru_where_keras_would_take_it(monkeypatch):
    # with a GPU made visible to Keras's test, tracing the product's bidirectional GRU takes the cuDNN function once
    # per direction (the graph is built, never run, so no GPU is needed); refused, Keras traces its generic loop
    import importlib

    import tensorflow as tf

    from benchmarks import gpu_check
    from models.network import build_classifier
    tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")  # the package's ``rnn`` is a function
    monkeypatch.setattr(tf_rnn, "_is_gpu_available", lambda: True)
    layer = build_classifier(tiny_network_config()).get_layer("bigru_1")
    spec = tf.TensorSpec((None, *layer.input.shape[1:]), tf.float32)
    with gpu_check.watch_cudnn_gru() as counter:
        allowed = tf.function(lambda x: layer(x)).get_concrete_function(spec)
    assert counter["calls"] == 2
    assert any(op.type.startswith("CudnnRNN") for op in allowed.graph.get_operations())
    with gpu_check.watch_cudnn_gru(allow=False) as refused:
        traced = tf.function(lambda x: layer(x)).get_concrete_function(spec)
    assert refused["calls"] == 0
    assert not any(op.type.startswith("CudnnRNN") for op in traced.graph.get_operations())


def test_edit_speed_times_each_edit_with_the_results_kept_and_measured_again(excerpts_dir):
    """benchmarks/edit_speed.py on a 5-minute excerpt: every edit runs both ways (its figures are timings, written by
    the benchmark, not checked here)."""
    from app.analysis import analyse_record
    from benchmarks.edit_speed import time_edits
    from models.bundled import load_default_model
    from pipeline.records import read_record

    model = load_default_model()
    analysis = analyse_record(read_record(excerpts_dir / "100"), model)
    for forget in (False, True):
        timings = time_edits(analysis, model, repeats=2, forget=forget)
        assert sorted(timings) == ["add one beat", "artefact mark", "bradycardia limit", "delete one beat",
                                   "delete one beat, every hour classified again", "pause threshold",
                                   "relabel one beat"]
        assert all(seconds > 0 for seconds in timings.values())
