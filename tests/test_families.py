"""Morphology families (pipeline.families) on synthetic beats and on annotated MIT-BIH records."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.families import (UNGROUPED, FamilySettings, VentricularForms, find_ventricular_forms, group_beat_families,
                               number_by_size, summarize_families)
from pipeline.records import read_record
from pipeline.region_eval import label_with_reference
from pipeline.splits import DS1, DS2

FS_HZ = 360.0


def synthetic_beats(kinds: list[str], rr_samples: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two leads of narrow (``n``), wide inverted (``v``) or small narrow (``s``, a third of ``n``) beats plus noise."""
    rng = np.random.default_rng(seed)
    peaks = (np.arange(len(kinds)) + 1) * rr_samples
    x = rng.normal(0, 0.01, (peaks[-1] + rr_samples, 2))
    narrow, wide = np.hanning(24), np.hanning(60)
    for kind, r in zip(kinds, peaks):
        if kind == "v":
            x[r - 30:r + 30, 0] -= 1.2 * wide
            x[r - 30:r + 30, 1] += 0.8 * wide
        else:
            scale = 1.0 if kind == "n" else 0.3
            x[r - 12:r + 12, 0] += scale * narrow
            x[r - 12:r + 12, 1] -= 0.5 * scale * narrow
    return x, peaks


def test_like_beats_share_a_family_numbered_by_size():
    kinds = ["n", "n", "v", "n", "n", "v", "n", "s", "n", "v", "n"]
    signal, peaks = synthetic_beats(kinds)
    families = group_beat_families(signal, peaks, FS_HZ)
    kinds = np.array(kinds)
    assert set(families[kinds == "n"]) == {0}  # 7 beats: the largest family
    assert set(families[kinds == "v"]) == {1}
    assert set(families[kinds == "s"]) == {2}  # same shape as n, a third of the amplitude


def test_amplitude_limit_and_correlation_limit_are_honoured():
    signal, peaks = synthetic_beats(["n", "s", "n", "s"])
    loose = FamilySettings(max_amplitude_ratio=4.0)
    assert len(set(group_beat_families(signal, peaks, FS_HZ, loose))) == 1
    assert len(set(group_beat_families(signal, peaks, FS_HZ))) == 2
    # an impossible correlation leaves every beat alone in its family
    strict = FamilySettings(min_correlation=0.99999)
    assert len(set(group_beat_families(signal, peaks, FS_HZ, strict))) == 4


def test_beats_without_a_complete_window_and_beyond_the_cap_are_ungrouped():
    signal, peaks = synthetic_beats(["n", "v", "s", "n"])
    signal[peaks[0] - 5, 0] = np.nan  # a gap inside the first QRS window
    edge = np.concatenate([[10], peaks])  # a beat 10 samples into the record
    families = group_beat_families(signal, edge, FS_HZ)
    assert families[0] == UNGROUPED and families[1] == UNGROUPED
    clean, _ = synthetic_beats(["n", "v", "s", "n"])
    capped = group_beat_families(clean, peaks, FS_HZ, FamilySettings(max_families=1))
    assert capped.tolist() == [0, UNGROUPED, UNGROUPED, 0]  # one family formed: the first beat's


def test_one_lead_input_and_empty_input():
    signal, peaks = synthetic_beats(["n", "v", "n"])
    assert group_beat_families(signal[:, 0], peaks, FS_HZ).tolist() == [0, 1, 0]
    assert group_beat_families(signal, np.array([], dtype=np.int64), FS_HZ).size == 0


@pytest.mark.parametrize("kwargs", [{"half_width_s": 0}, {"min_correlation": 1.0}, {"max_amplitude_ratio": 0.5},
                                    {"max_families": 0}])
def test_settings_are_validated(kwargs):
    with pytest.raises(ValueError, match="Received"):
        FamilySettings(**kwargs)


def test_bad_inputs_are_refused():
    signal, peaks = synthetic_beats(["n", "n"])
    with pytest.raises(ValueError, match="sampling rate"):
        group_beat_families(signal, peaks, 0.0)
    with pytest.raises(ValueError):
        group_beat_families(signal, peaks[::-1], FS_HZ)


def test_renumbering_puts_the_largest_family_first():
    assert number_by_size(np.array([0, 1, 1, -1, 2, 1, 0])).tolist() == [1, 0, 0, -1, 2, 0, 1]


def test_summary_counts_classes_per_family():
    rows = summarize_families(np.array([1, 0, 0, -1, 0]), np.array(["V", "N", "S", "N", "N"]), ("N", "S", "V"))
    assert rows == [{"family": 0, "n_beats": 3, "N": 2, "S": 1, "V": 0},
                    {"family": 1, "n_beats": 1, "N": 0, "S": 0, "V": 1},
                    {"family": -1, "n_beats": 1, "N": 1, "S": 0, "V": 0}]


def test_families_follow_the_reference_classes_on_mitdb(mitdb_dir):
    """On every record, a family's beats almost all carry its majority reference class (QRS shape decides
    V against N well; S beats share the N shape, and so do their families: that is the expected impurity)."""
    total = minority = ventricular_minority = ventricular = 0
    for name in sorted(DS1 + DS2):
        record = read_record(mitdb_dir / name)
        samples, classes = label_with_reference(record)
        families = group_beat_families(record.signal_mv, samples, record.fs_hz)
        assert (families == UNGROUPED).mean() < 0.1, name
        for family in set(families.tolist()) - {UNGROUPED}:
            members = classes[families == family]
            values, counts = np.unique(members, return_counts=True)
            majority = values[np.argmax(counts)]
            minority += len(members) - counts.max()
            ventricular += int(np.sum(members == "V"))
            if majority != "V":
                ventricular_minority += int(np.sum(members == "V"))
        total += len(samples)
    assert minority / total < 0.03
    # nearly every PVC sits in a family of PVCs: relabelling families corrects ventricular calls at once
    assert ventricular_minority / ventricular < 0.02


def test_ventricular_forms_count_the_families_of_counted_v_beats_holding_two_or_more():
    """Uniform: one family holds the repeated V shapes (a lone odd beat is no shape: noise or a misplaced detection);
    multiform: two or more; V beats in unreadable signal (not counted) and N beats play no part."""
    families = np.array([0, 1, 1, 1, 2, 3, 3, 0, 3])
    classes = np.array(list("NVVVVVVNV"))
    counted = np.ones(9, bool)
    assert find_ventricular_forms(families, classes, counted) == VentricularForms(True, 7, (3, 3), 2)
    assert find_ventricular_forms(families, classes, counted).name == "multiform"
    counted[[5, 6]] = False  # family 3 keeps one counted V beat: no shape
    uniform = find_ventricular_forms(families, classes, counted)
    assert (uniform.name, uniform.n_beats, uniform.form_sizes) == ("uniform", 5, (3,))
    assert find_ventricular_forms(families, classes, counted, min_beats=4).name == "not determined"
    assert find_ventricular_forms(families, np.array(list("NNNNNNNNN")), counted).name == "none"
    assert VentricularForms().name == "not assessed"  # a summary made without families
    with pytest.raises(ValueError, match="expected one of each per beat"):
        find_ventricular_forms(families, classes[:-1], counted)


@pytest.mark.mitdb
def test_the_summary_says_119_uniform_and_106_multiform_as_their_headers_do(mitdb_dir):
    """MIT-BIH's headers: 119 "The PVCs are uniform", 106 "The PVCs are multiform" (the product's word end to end;
    experiments/ventricular_forms_study.py reads all 31 headers that say)."""
    from app.analysis import analyse_record
    from app.report import summary_lines
    from models.bundled import load_default_model
    from pipeline.summary import summary_to_dict

    model = load_default_model()
    for name, word in (("119", "uniform"), ("106", "multiform")):
        analysis = analyse_record(read_record(mitdb_dir / name), model)
        forms = analysis.summary.ventricular_forms
        assert forms.name == word and forms.n_beats == analysis.summary.beat_counts[2]
        assert summary_to_dict(analysis.summary)["ventricular_forms"]["name"] == word
        burden = next(line for line in summary_lines(analysis) if line.startswith("Ectopic burden"))
        burden_pct = analysis.summary.ventricular_burden_pct
        assert burden.startswith(f"Ectopic burden: ventricular {burden_pct:.2f} % ({word}),")


def test_a_few_beats_deleted_or_added_group_as_grouping_every_beat_again(excerpts_dir, monkeypatch):
    """A reader's beat edits (session 64) are grouped from the last grouping of the same signal (session 65): 40 edits
    in turn on 208's excerpt (two QRS shapes and fusion beats), each a beat deleted or a beat added (on a T wave, in
    noise, or a deleted one back), give the families that grouping every beat of a copy of the signal gives, and most
    of them are grouped without comparing every beat again."""
    import pipeline.families as families_module

    record = read_record(excerpts_dir / "208")
    signal, fs = record.signal_mv, record.fs_hz
    base = label_with_reference(record)[0]
    full_calls = []
    assign = families_module.assign_leaders
    monkeypatch.setattr(families_module, "assign_leaders", lambda *a: full_calls.append(1) or assign(*a))
    beats = base.copy()
    group_beat_families(signal, beats, fs)
    rng = np.random.default_rng(65)
    leader_deleted, regrouped = False, 0
    for step in range(40):
        if step == 20:  # the first beat leads family 0: grouped in full, and equal all the same
            beats, leader_deleted = beats[1:], True
        elif rng.random() < 0.5:
            beats = np.delete(beats, rng.integers(1, len(beats)))
        else:
            added = int(rng.choice(np.setdiff1d(base, beats))) if rng.random() < 0.3 and len(beats) < len(base) \
                else int(beats[rng.integers(0, len(beats) - 1)] + 0.3 * fs)
            if np.abs(beats - added).min() >= 0.15 * fs:
                beats = np.sort(np.append(beats, added))
        before = len(full_calls)
        kept = group_beat_families(signal, beats, fs)
        regrouped += len(full_calls) - before
        assert np.array_equal(kept, group_beat_families(signal.copy(), beats, fs)), step
    assert leader_deleted and 1 <= regrouped <= 8, regrouped  # the leader's deletion, and a few added beats
