"""ST and QT of a record, measured once for what they are measured from.

A reader who changes an event threshold (a pause of 2.5 s instead of 2, a bradycardia limit) changes no beat class,
no unreadable stretch and no AF episode, so the ST and QT analyses would give the same result again: on a 24-hour
record they take 1.25 of the 1.6 s such a change costs (BENCHMARKS.md section 7, session 47). The last few results
are kept with a fingerprint of their inputs (beat positions and classes, the stretches left out, the pacemaker, the
settings) and the record's signal itself (a weak reference, so that a result is never taken for another record's
signal, even one that reuses the freed memory), and given back when a call brings the same.
"""

from __future__ import annotations

import hashlib

import numpy as np

from pipeline.kept_results import KeptResults
from pipeline.qt import QtSettings, QtSummary, analyse_qt
from pipeline.st import StSettings, StSummary, analyse_st
from pipeline.types import Record

_KEPT = KeptResults()
"""The ST and QT results of the last few records (:mod:`pipeline.kept_results`)."""


def measure_repolarisation(record: Record, samples: np.ndarray, classes: np.ndarray, kept_spans: list,
                           unreadable: np.ndarray, left_out: np.ndarray, pacemaker: str | None,
                           st_settings: StSettings, qt_settings: QtSettings) -> tuple[StSummary, QtSummary]:
    """The ST analysis (:func:`pipeline.st.analyse_st`) and the QT analysis on it (:func:`pipeline.qt.analyse_qt`,
    ``left_out`` the stretches its windows skip), or the result kept from a call with the same inputs."""
    fingerprint = fingerprint_inputs(record, samples, classes, kept_spans, unreadable, left_out, pacemaker,
                                     st_settings, qt_settings)

    def measure() -> tuple[StSummary, QtSummary]:
        st = analyse_st(record.signal_mv, record.fs_hz, samples, classes, kept_spans, record.lead_names,
                        pacemaker=pacemaker, unreadable=unreadable, settings=st_settings)
        return st, analyse_qt(record.signal_mv, record.fs_hz, samples, classes, st, kept_spans, left_out,
                              pacemaker=pacemaker, st_settings=st_settings, settings=qt_settings)
    return _KEPT.recall(record.signal_mv, fingerprint, measure)


def forget_repolarisation() -> None:
    """Drop every kept result (a benchmark's "before": each call measures again)."""
    _KEPT.forget()


def fingerprint_inputs(record: Record, samples: np.ndarray, classes: np.ndarray, kept_spans: list,
                       unreadable: np.ndarray, left_out: np.ndarray, pacemaker: str | None,
                       st_settings: StSettings, qt_settings: QtSettings) -> bytes:
    """A digest of everything but the signal that the ST and QT analyses read.

    >>> from pipeline.types import Record
    >>> r = Record("r", np.zeros((10, 1)), 360.0, ("MLII",), 0, 360.0)
    >>> a = fingerprint_inputs(r, np.array([1, 5]), np.array(["N", "N"]), [], np.empty((0, 2)), np.empty((0, 2)),
    ...                        None, StSettings(), QtSettings())
    >>> b = fingerprint_inputs(r, np.array([1, 5]), np.array(["N", "V"]), [], np.empty((0, 2)), np.empty((0, 2)),
    ...                        None, StSettings(), QtSettings())
    >>> a == b, len(a)
    (False, 32)
    """
    digest = hashlib.blake2b(digest_size=32)
    arrays = [np.ascontiguousarray(array, dtype=np.int64) for array in (samples, unreadable, left_out)]
    for array in arrays:
        digest.update(array.tobytes())
    digest.update(np.ascontiguousarray(np.asarray(classes).astype("U1")).tobytes())
    digest.update(repr((record.fs_hz, record.lead_names, record.signal_mv.shape, [a.shape for a in arrays],
                        np.shape(classes), tuple(kept_spans), pacemaker, st_settings, qt_settings)).encode())
    return digest.digest()
