"""The bundled excerpts are the first 5 minutes of their MIT-BIH records, samples and labels unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.records import read_record

EXCERPT_RECORDS = ("100", "106", "119", "201", "208", "217", "232")
EXCERPT_SAMPLES = 300 * 360


@pytest.mark.parametrize("name", EXCERPT_RECORDS)
def test_excerpt_reads_as_a_five_minute_two_lead_record(excerpts_dir, name):
    excerpt = read_record(excerpts_dir / name)
    assert excerpt.signal_mv.shape == (EXCERPT_SAMPLES, 2)
    assert excerpt.lead_names[excerpt.primary_lead] == "MLII"
    assert excerpt.annotations is not None and len(excerpt.annotations) > 0


@pytest.mark.parametrize("name", EXCERPT_RECORDS)
def test_excerpt_equals_the_start_of_the_original(excerpts_dir, mitdb_dir, name):
    excerpt = read_record(excerpts_dir / name)
    original = read_record(mitdb_dir / name)
    np.testing.assert_array_equal(excerpt.signal_mv, original.signal_mv[:EXCERPT_SAMPLES])
    inside = original.annotations.select(original.annotations.samples < EXCERPT_SAMPLES)
    np.testing.assert_array_equal(excerpt.annotations.samples, inside.samples)
    np.testing.assert_array_equal(excerpt.annotations.symbols, inside.symbols)
    np.testing.assert_array_equal(excerpt.annotations.aux_notes, inside.aux_notes)


def test_rhythm_labels_survive_in_the_excerpts(excerpts_dir):
    # Record 201 opens in atrial fibrillation; the rhythm change carries its aux note.
    excerpt = read_record(excerpts_dir / "201")
    assert "(AFIB" in excerpt.annotations.aux_notes[excerpt.annotations.symbols == "+"].tolist()
