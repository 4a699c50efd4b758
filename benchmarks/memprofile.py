"""Which functions allocate the most memory: per-call peak of traced allocations, by function.

A ``sys.setprofile`` hook keeps a stack of the calls under way and records, for each function,
how far the traced memory (``tracemalloc``; numpy reports its array buffers to it) rose above
its level at the call's entry, at most, during one call. Only functions whose file path
contains one of ``prefixes`` are tracked; everything runs slower while profiling.

Examples
--------
>>> with MemoryProfile(("memprofile",)) as prof:
...     _ = _example_alloc()
>>> name, rise = prof.top(1)[0]
>>> name.endswith("_example_alloc"), rise >= 8_000_000
(True, True)
"""

from __future__ import annotations

import sys
import tracemalloc
from collections import defaultdict


class MemoryProfile:
    """Context manager recording, per function, the largest rise in traced memory during one call."""

    def __init__(self, prefixes: tuple[str, ...]):
        self.prefixes = prefixes
        self.peak_rise: dict[str, int] = defaultdict(int)
        self._stack: list[list] = []  # [code, memory at entry, highest peak seen so far]

    def __enter__(self) -> "MemoryProfile":
        tracemalloc.start()
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc) -> None:
        sys.setprofile(None)
        tracemalloc.stop()

    def top(self, n: int = 15) -> list[tuple[str, int]]:
        """The ``n`` functions with the largest rise, as (module.function, bytes)."""
        return sorted(self.peak_rise.items(), key=lambda item: -item[1])[:n]

    def _hook(self, frame, event, arg) -> None:
        if event not in ("call", "return") or not any(p in frame.f_code.co_filename for p in self.prefixes):
            return
        current, peak = tracemalloc.get_traced_memory()
        if event == "call":
            if self._stack:
                self._stack[-1][2] = max(self._stack[-1][2], peak)
            self._stack.append([frame.f_code, current, current])
            tracemalloc.reset_peak()
        elif self._stack and self._stack[-1][0] is frame.f_code:
            code, entry, seen = self._stack.pop()
            call_peak = max(seen, peak)
            name = f"{frame.f_globals.get('__name__', '?')}.{code.co_qualname}"
            self.peak_rise[name] = max(self.peak_rise[name], call_peak - entry)
            if self._stack:
                self._stack[-1][2] = max(self._stack[-1][2], call_peak)
            tracemalloc.reset_peak()


def _example_alloc() -> float:
    import numpy as np

    return float(np.ones(1_000_000).sum())
