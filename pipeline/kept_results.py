"""Results of a costly measure of a record, kept for the record on screen and given back for the same inputs.

A reader's edit (an event threshold, an artefact mark, a word on the atrial rhythm) finds the regions and the summary
again, and with them measures that read the signal around every beat: on a 24-hour record, the blocked P waves took
0.45 s and the pacing-spike share 0.16 s of the 1.0 s a threshold change cost (session 64's profile), though neither
depends on a threshold. A :class:`KeptResults` keeps the last few results with the record's signal (a weak reference,
so that a result is never taken for another record's signal, even one that reuses the freed memory) and a digest of
the other inputs (:func:`digest_inputs`), and gives one back when a call brings the same.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable
from typing import TypeVar

import numpy as np

T = TypeVar("T")

KEPT_RESULTS = 4
"""Results kept per measure: the record on screen and the few before it."""


class KeptResults:
    """The last :data:`KEPT_RESULTS` results of one measure, each with its signal (weakly) and inputs' digest."""

    def __init__(self, size: int = KEPT_RESULTS) -> None:
        self._size = size
        self._kept: list[tuple[weakref.ReferenceType, bytes, object]] = []
        self._lock = threading.Lock()

    def recall(self, signal: np.ndarray, fingerprint: bytes, measure: Callable[[], T]) -> T:
        """The result kept for ``signal`` (the same object) and ``fingerprint``, else ``measure()``, then kept.

        >>> kept, signal, calls = KeptResults(), np.zeros(3), []
        >>> [kept.recall(signal, b"a", lambda: calls.append(1) or len(calls)) for _ in range(2)], len(calls)
        ([1, 1], 1)
        >>> kept.recall(np.zeros(3), b"a", lambda: "another signal")
        'another signal'
        """
        try:
            reference = weakref.ref(signal)
        except TypeError:  # not an array that can be referred to weakly: measured every time
            return measure()
        with self._lock:
            for kept_signal, kept_fingerprint, result in self._kept:
                if kept_signal() is signal and kept_fingerprint == fingerprint:
                    return result
        result = measure()
        with self._lock:
            self._kept.insert(0, (reference, fingerprint, result))
            del self._kept[self._size:]
        return result

    def forget(self) -> None:
        """Drop every kept result (a benchmark's "before": each call measures again)."""
        with self._lock:
            self._kept.clear()


def digest_inputs(*inputs) -> bytes:
    """A digest of a measure's inputs other than the signal: arrays by their values (integers as int64, text as
    one-character strings, else as themselves) and shapes, anything else by its ``repr``.

    >>> a = digest_inputs(np.array([1, 5]), np.array(["N", "N"]), 360.0)
    >>> a == digest_inputs(np.array([1, 5]), np.array(["N", "V"]), 360.0), len(a)
    (False, 32)
    """
    digest = hashlib.blake2b(digest_size=32)
    for value in inputs:
        if isinstance(value, np.ndarray):
            array = value.astype("U1") if value.dtype.kind in "US" else (
                value.astype(np.int64) if value.dtype.kind in "iub" else value)
            digest.update(repr((array.dtype.str, array.shape)).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.digest()
