"""Option handling shared by the CLI commands."""

from __future__ import annotations

import click

from pipeline.splits import records_for_split


def select_records(record_list: str | None, split: str | None, default_split: str = "all") -> tuple[str, ...]:
    """Record names from ``--records`` or ``--split`` (not both); ``default_split`` when neither is given."""
    if record_list and split:
        raise click.UsageError("Received both --records and --split; expected at most one of them.")
    if record_list:
        names = tuple(n.strip() for n in record_list.split(",") if n.strip())
        if not names:
            raise click.BadParameter(f"received {record_list!r}; expected names such as 100,101.",
                                     param_hint="--records")
        return names
    return records_for_split(split or default_split)
