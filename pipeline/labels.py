"""MIT-BIH beat symbols and their AAMI EC57 classes.

References
----------
ANSI/AAMI EC57:2012, table of beat classes; de Chazal P, O'Dwyer M, Reilly RB, "Automatic
classification of heartbeats using ECG morphology and heartbeat interval features",
IEEE Trans Biomed Eng 51(7):1196-1206, 2004.
"""

from __future__ import annotations

import numpy as np

from pipeline.errors import AnnotationMismatchError

AAMI_CLASSES = ("N", "S", "V", "F", "Q")
"""Class order used everywhere (model outputs, confusion matrices)."""

SYMBOL_TO_AAMI = {
    "N": "N", "L": "N", "R": "N", "e": "N", "j": "N",
    "A": "S", "a": "S", "J": "S", "S": "S",
    "V": "V", "E": "V",
    "F": "F",
    "/": "Q", "f": "Q", "Q": "Q",
}
"""The EC57 mapping in ../shared/EVALUATION.md. Symbols absent here are not mapped to a class."""

BEAT_SYMBOLS = np.array(
    ["N", "L", "R", "B", "A", "a", "J", "S", "V", "r", "F", "e", "j", "n", "E", "/", "f", "Q", "?"]
)
"""Every MIT-BIH symbol that denotes a beat (what QRS detection is scored against)."""

AAMI_TO_SYMBOL = {"N": "N", "S": "S", "V": "V", "F": "F", "Q": "Q"}
"""MIT-BIH symbol written for each predicted class in output annotation files."""

PACED_SYMBOL = "/"
"""MIT-BIH's paced beat (class Q), written for the Q beats a pacing rule found paced."""


def encode_beat_symbols(class_indices: np.ndarray, paced: np.ndarray | None = None) -> np.ndarray:
    """The MIT-BIH symbol of each class index (:data:`AAMI_TO_SYMBOL`), :data:`PACED_SYMBOL` for the Q beats marked
    in ``paced`` (boolean per beat; None: none).

    Examples
    --------
    >>> encode_beat_symbols(np.array([0, 2, 4, 4]), np.array([False, True, True, False])).tolist()
    ['N', 'V', '/', 'Q']
    """
    symbols = np.array([AAMI_TO_SYMBOL[c] for c in AAMI_CLASSES], dtype="<U2")[np.asarray(class_indices, np.int64)]
    if paced is not None:
        symbols[np.asarray(paced, bool) & (symbols == AAMI_TO_SYMBOL["Q"])] = PACED_SYMBOL
    return symbols


def map_symbols_to_aami(symbols: np.ndarray) -> np.ndarray:
    """Map MIT-BIH beat symbols to AAMI classes; unmapped symbols become ``""``.

    Examples
    --------
    >>> map_symbols_to_aami(np.array(["N", "A", "V", "+", "/"])).tolist()
    ['N', 'S', 'V', '', 'Q']
    """
    symbols = np.asarray(symbols)
    out = np.full(symbols.shape, "", dtype="<U1")
    for symbol, cls in SYMBOL_TO_AAMI.items():
        out[symbols == symbol] = cls
    return out


def is_beat_symbol(symbols: np.ndarray) -> np.ndarray:
    """True where the symbol is a beat annotation (any of :data:`BEAT_SYMBOLS`)."""
    return np.isin(np.asarray(symbols), BEAT_SYMBOLS)


def select_reference_beats(record) -> np.ndarray:
    """Mask of the beat annotations of ``record.annotations`` (a :class:`pipeline.types.Record`), after checking that
    they can be a reference for its signal: every beat inside it, one beat per position, in time order.

    Raises :class:`pipeline.errors.AnnotationMismatchError` otherwise: beats past the end come with a signal cut short
    or another record's annotation file, repeated or unordered ones with a file written by hand or merged.
    """
    beat = is_beat_symbol(record.annotations.symbols)
    samples = record.annotations.samples[beat]
    if len(samples) and samples.max() >= record.n_samples:
        raise AnnotationMismatchError(
            f"Record {record.name}: its reference beats run to {samples.max() / record.fs_hz:.1f} s, past the end of "
            f"its signal ({record.n_samples / record.fs_hz:.1f} s); expected the annotations of this signal (a "
            "truncated signal file, or another record's annotation file?).")
    repeated = np.flatnonzero(np.diff(samples) <= 0)
    if len(repeated):
        at = samples[repeated[0] + 1]
        raise AnnotationMismatchError(
            f"Record {record.name}: its reference annotation file holds {len(repeated)} beat(s) at or before the "
            f"previous beat's position (first at {at / record.fs_hz:.2f} s); expected one beat per position, in time "
            "order.")
    return beat
