"""AAMI EC57 classes of MIT-BIH symbols, exactly as ../shared/EVALUATION.md states them, and the beat counts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pipeline.errors import AnnotationMismatchError
from pipeline.labels import (AAMI_CLASSES, BEAT_SYMBOLS, SYMBOL_TO_AAMI, is_beat_symbol, map_symbols_to_aami,
                             select_reference_beats)
from pipeline.records import read_annotations, read_record
from pipeline.types import Annotations
from pipeline.splits import DS1, DS2

# The table of EVALUATION.md, class by class.
EVALUATION_TABLE = {
    "N": "N L R e j",
    "S": "A a J S",
    "V": "V E",
    "F": "F",
    "Q": "/ f Q",
}
NON_BEATS = ["+", "~", "|", "x", "[", "]", "!", '"', "=", "p", "t", "u", "`", "'", "^", "s", "T", "*", "D", "@"]


def test_class_order_is_n_s_v_f_q():
    assert AAMI_CLASSES == ("N", "S", "V", "F", "Q")


def test_mapping_is_exactly_the_evaluation_table():
    expected = {symbol: cls for cls, symbols in EVALUATION_TABLE.items() for symbol in symbols.split()}
    assert SYMBOL_TO_AAMI == expected


@pytest.mark.parametrize("cls", AAMI_CLASSES)
def test_each_table_symbol_maps_to_its_class(cls):
    symbols = np.array(EVALUATION_TABLE[cls].split())
    assert map_symbols_to_aami(symbols).tolist() == [cls] * symbols.size


def test_non_beats_map_to_no_class_and_are_not_beats():
    symbols = np.array(NON_BEATS)
    assert map_symbols_to_aami(symbols).tolist() == [""] * symbols.size
    assert not is_beat_symbol(symbols).any()


def test_beats_outside_the_table_are_beats_without_a_class():
    # B (unspecified bundle branch block), r (R-on-T), n (supraventricular escape), ? (unclassifiable):
    # beats for QRS detection, but the table gives them no class.
    symbols = np.array(["B", "r", "n", "?"])
    assert is_beat_symbol(symbols).all()
    assert map_symbols_to_aami(symbols).tolist() == ["", "", "", ""]


def test_every_mapped_symbol_is_a_beat():
    assert is_beat_symbol(np.array(list(SYMBOL_TO_AAMI))).all()
    assert set(SYMBOL_TO_AAMI) <= set(BEAT_SYMBOLS.tolist())


def test_mapping_keeps_shape():
    symbols = np.array([["N", "+"], ["V", "/"]])
    assert map_symbols_to_aami(symbols).tolist() == [["N", ""], ["V", "Q"]]


def count_classes(mitdb_dir, names: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(AAMI_CLASSES, 0)
    for name in names:
        classes = map_symbols_to_aami(read_annotations(mitdb_dir / name, "atr", source_fs_hz=360.0).symbols)
        for cls in AAMI_CLASSES:
            counts[cls] += int(np.sum(classes == cls))
    return counts


@pytest.mark.parametrize("split, names, expected", [
    ("DS1", DS1, {"N": 45_866, "S": 944, "V": 3_788, "F": 415, "Q": 8}),
    ("DS2", DS2, {"N": 44_259, "S": 1_837, "V": 3_221, "F": 388, "Q": 7}),
])
def test_split_beat_counts_match_the_published_figures(mitdb_dir, split, names, expected):
    assert count_classes(mitdb_dir, names) == expected


def test_reference_beats_must_fit_their_signal(excerpts_dir):
    """Beats past the signal's end (a signal cut short) and beats repeated at one position are refused with the time
    of the trouble; the excerpt's own annotations pass and every beat symbol is kept."""
    record = read_record(excerpts_dir / "119")
    mask = select_reference_beats(record)
    assert mask.sum() == is_beat_symbol(record.annotations.symbols).sum() > 300
    cut = dataclasses.replace(record, signal_mv=record.signal_mv[: 60 * 360])
    with pytest.raises(AnnotationMismatchError, match=r"run to 298\.8 s, past the end of its signal \(60\.0 s\)"):
        select_reference_beats(cut)
    a = record.annotations
    samples = np.concatenate([a.samples, a.samples[:3]])  # the first three annotations written twice
    order = np.argsort(samples, kind="stable")
    doubled = dataclasses.replace(record, annotations=Annotations(
        samples[order], np.concatenate([a.symbols, a.symbols[:3]])[order],
        np.concatenate([a.aux_notes, a.aux_notes[:3]])[order]))
    with pytest.raises(AnnotationMismatchError, match=r"holds \d beat\(s\) at or before the previous beat's position"):
        select_reference_beats(doubled)
