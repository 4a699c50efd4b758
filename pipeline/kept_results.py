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
        found = self._take(signal, fingerprint)
        if found is not None:
            return found[0]
        result = measure()
        if isinstance(result, np.ndarray):  # one array handed to every caller: none may change it
            result.flags.writeable = False
        with self._lock:
            if not any(kept[0]() is signal and kept[1] == fingerprint for kept in self._kept):  # another thread's
                self._kept.insert(0, (reference, fingerprint, result))
                del self._kept[self._size:]
        return result

    def _take(self, signal: np.ndarray, fingerprint: bytes) -> tuple[object] | None:
        """The result kept for ``signal`` and ``fingerprint`` (in a 1-tuple), moved to the front, so that the record
        on screen stays while others come and go (several sessions share the results); None when none is."""
        with self._lock:
            for k, (kept_signal, kept_fingerprint, result) in enumerate(self._kept):
                if kept_signal() is signal and kept_fingerprint == fingerprint:
                    self._kept.insert(0, self._kept.pop(k))
                    return (result,)
        return None

    def forget(self) -> None:
        """Drop every kept result (a benchmark's "before": each call measures again)."""
        with self._lock:
            self._kept.clear()


def digest_inputs(*inputs) -> bytes:
    """A digest of a measure's inputs other than the signal: arrays by their values (integers and booleans as int64,
    text as text) and shapes, anything else by its ``repr``, each input apart (its kind and length first). An array
    of objects, or one inside another value, would be digested by its address or a shortened ``repr``: refused.

    >>> a = digest_inputs(np.array([1, 5]), np.array(["N", "N"]), 360.0)
    >>> a == digest_inputs(np.array([1, 5]), np.array(["N", "V"]), 360.0), len(a)
    (False, 32)
    >>> digest_inputs(360.0, 360.0) == digest_inputs(360.036, 0.0)  # "360.0360.0" either way, if run together
    False
    """
    digest = hashlib.blake2b(digest_size=32)
    for value in inputs:
        if isinstance(value, np.ndarray):
            if value.dtype.kind == "O":
                raise TypeError("Received an array of objects; expected numbers or text, digested by value.")
            array = value.astype(str) if value.dtype.kind in "US" else (
                value.astype(np.int64) if value.dtype.kind in "iub" else value)
            data = np.ascontiguousarray(array).tobytes()
            header = repr(("array", array.dtype.str, array.shape, len(data)))
        else:
            data = repr(value).encode()
            if "array(" in data.decode(errors="replace"):
                raise TypeError(f"Received {type(value).__name__} holding an array; expected the array itself.")
            header = repr((type(value).__name__, len(data)))
        digest.update(header.encode())
        digest.update(data)
    return digest.digest()
