"""The rows of a Holter report's hourly table: clock hours when the recording's start time is known.

A Holter report tabulates by clock hour (10:00-11:00, 11:00-12:00, ...), the first row running from the start of the
recording to the first full hour (a recording started at 10:45:30 has a first row of 14 min 30 s); without a start
time, hours are counted from the start of the recording. The last row ends with the recording. A first part shorter
than :data:`MIN_FIRST_ROW_S` joins the next hour (started at 09:59:59, the first row runs to 11:00), so that no row
holds a few beats and figures measured over windows that lie mostly in the next hour (a QA pass of session 46); a last
part as short joins the hour before it (a recording of 24:00:07 has 24 rows, the last 3,607 s long, not a 25th of 7 s
whose lowest, mean and highest rate are one minute's: a QA pass of session 50).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import numpy as np

HOUR_S = 3600.0
LONG_TERM_S = 18 * HOUR_S
"""Less than this makes a recording short for figures whose norms come from 24-hour Holter recordings: HRV's
(:func:`pipeline.hrv.describe_hrv_span`, on the NN intervals' span) and heart-rate turbulence's categories
(:func:`pipeline.hrt.describe_hrt_span`); 18 hours is the least most Holter studies accept as one."""
MIN_FIRST_ROW_S = 300.0
"""The shortest first row on clock hours, and the shortest last row (5 minutes: HRV's segment, and five of the heart
rate's 1-minute windows)."""


@dataclass(frozen=True)
class HourGrid:
    """Row boundaries of the hourly table: the first row is ``first_s`` long (more than 0, and under ``hour_s`` +
    :data:`MIN_FIRST_ROW_S`), every later one ``hour_s``, counted from the start of the recording (seconds).

    >>> grid = HourGrid(first_s=870.0)  # started at 10:45:30
    >>> grid.count(7200.0), grid.bounds(7200.0)
    (3, [(0.0, 870.0), (870.0, 4470.0), (4470.0, 7200.0)])
    >>> grid.index(np.array([0.0, 869.9, 870.0, 4470.0, 7199.0]), 3).tolist()
    [0, 0, 1, 2, 2]
    >>> HourGrid().bounds(5400.0), HourGrid().bounds(7207.0)
    ([(0.0, 3600.0), (3600.0, 5400.0)], [(0.0, 3600.0), (3600.0, 7207.0)])
    """

    first_s: float = HOUR_S
    hour_s: float = HOUR_S

    def count(self, duration_s: float) -> int:
        """Rows of a recording of ``duration_s`` (at least one): a last part under :data:`MIN_FIRST_ROW_S` is not a
        row of its own."""
        n_rows = 1 + max(int(math.ceil((duration_s - self.first_s) / self.hour_s - 1e-9)), 0)
        if n_rows > 1 and duration_s - self.start_s(n_rows - 1) < MIN_FIRST_ROW_S:
            n_rows -= 1
        return n_rows

    def start_s(self, row: int) -> float:
        """Where row ``row`` starts."""
        return 0.0 if row == 0 else self.first_s + (row - 1) * self.hour_s

    def bounds(self, duration_s: float) -> list[tuple[float, float]]:
        """[start, stop) seconds of each row; the last one ends at ``duration_s``."""
        n_rows = self.count(duration_s)
        return [(self.start_s(k), duration_s if k == n_rows - 1 else self.start_s(k + 1)) for k in range(n_rows)]

    def index(self, seconds: np.ndarray, n_rows: int) -> np.ndarray:
        """The row of each time (seconds from the start), the last row taking any time past it."""
        seconds = np.asarray(seconds, dtype=np.float64)
        later = 1 + np.floor((seconds - self.first_s) / self.hour_s)
        return np.minimum(np.where(seconds < self.first_s, 0, later), n_rows - 1).astype(np.int64)


def clock_hour_grid(start_time: datetime.time | None, hour_s: float = HOUR_S) -> HourGrid:
    """The grid of a recording started at ``start_time`` (its header's clock time, to the second: a start with a
    fraction of a second has its rows begin that fraction after the clock hour, which their clock time, rounded down as
    :func:`pipeline.diary.format_clock_time` gives it, still reads): rows on clock hours, a first part under
    :data:`MIN_FIRST_ROW_S` joined to the next hour; hours from the start when the start time is unknown or on the hour.

    >>> clock_hour_grid(datetime.time(10, 45, 30))
    HourGrid(first_s=870.0, hour_s=3600.0)
    >>> clock_hour_grid(datetime.time(9, 59, 59)).first_s, clock_hour_grid(datetime.time(14, 59, 59, 600000)).first_s
    (3601.0, 3601.0)
    >>> clock_hour_grid(None).first_s, clock_hour_grid(datetime.time(9)).first_s
    (3600.0, 3600.0)
    """
    if start_time is None:
        return HourGrid(hour_s, hour_s)
    into_hour_s = (start_time.minute * 60 + start_time.second) % hour_s
    first_s = hour_s - into_hour_s if into_hour_s > 0 else hour_s
    return HourGrid(first_s + hour_s if first_s < MIN_FIRST_ROW_S else first_s, hour_s)
