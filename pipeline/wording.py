"""Numbers in words, the same in every output (the PDF report, the dashboard, the tables): a count with its noun, a
time in the record and a duration as ``hh:mm:ss``."""

from __future__ import annotations

import math


def count_noun(n: int, singular: str, plural: str | None = None) -> str:
    """``"1 beat"``, ``"3 beats"``; ``plural`` where it is not ``singular + "s"`` (``"1 stretch"``, ``"2 stretches"``).

    >>> count_noun(1, "beat"), count_noun(2, "stretch", "stretches")
    ('1 beat', '2 stretches')
    """
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def format_hms(seconds: float, decimals: int = 0) -> str:
    """A time ``seconds`` from the record start as ``hh:mm:ss`` (hours may exceed 24), rounded down as a clock is and
    as the PDF report gives it (an event at 1.94 s is at 00:00:01); a duration is :func:`format_duration`.

    Examples
    --------
    >>> format_hms(3725.9)
    '01:02:05'
    >>> format_hms(61.256, decimals=2)
    '00:01:01.25'
    """
    return _format_hms(seconds, decimals, math.floor)


def format_duration(seconds: float, decimals: int = 0) -> str:
    """A duration as ``hh:mm:ss``, to the nearest second (or ``decimals``): a 5.8-s episode lasts 00:00:06.

    >>> format_duration(5.8), format_duration(0.26, decimals=1)
    ('00:00:06', '00:00:00.3')
    """
    return _format_hms(seconds, decimals, round)


def _format_hms(seconds: float, decimals: int, to_int) -> str:
    if not math.isfinite(seconds):
        return "--:--:--"
    scale = 10 ** decimals
    total = int(to_int(float(seconds) * scale + (1e-6 if to_int is math.floor else 0.0)))  # 0.3 * 10 is 2.9999...
    whole, fraction = divmod(total, scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{text}.{fraction:0{decimals}d}" if decimals else text


def format_share(value_pct: float, digits: int) -> str:
    """A percentage to ``digits`` decimals that reads 0 or 100 only when it is: ``<0.1`` for a share above 0 that would
    round to 0, ``>99.9`` for one under 100 that would round to 100 (a QA pass, session 51, read an AF burden of 99.95 %
    printed "100.0 %", i.e. continuous AF, beside a short stretch without it).

    >>> [format_share(v, 1) for v in (99.95, 0.04, 100.0, 0.0, 12.36)]
    ['>99.9', '<0.1', '100.0', '0.0', '12.4']
    >>> format_share(0.004, 2)
    '<0.01'
    """
    text = f"{value_pct:.{digits}f}"
    step = 10.0 ** -digits
    if 0 < value_pct and float(text) == 0:
        return f"<{step:.{digits}f}"
    if value_pct < 100 and float(text) >= 100:
        return f">{100 - step:.{digits}f}"
    return text


def capitalise_first(text: str) -> str:
    """``text`` with its first letter upper case and the rest as it is (``str.capitalize`` lowers the rest: "2:1 AV
    block" became "2:1 av block" in the dashboard's legend and event list, session 52).

    >>> capitalise_first("dropped beat (AV block)"), capitalise_first("2:1 AV block")
    ('Dropped beat (AV block)', '2:1 AV block')
    """
    return text[:1].upper() + text[1:]

