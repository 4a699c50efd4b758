"""Option handling shared by the CLI commands."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from app import config
from app.event_settings import EventSettingsError, override_event_settings, read_event_settings
from pipeline.regions import RegionSettings
from pipeline.splits import DS1, PACED, holds_mitdb, list_directory_records, records_for_split

pacemaker_records_option = click.option(
    "--pacemaker-records", default=None,
    help=f"Comma-separated records whose patients have a pacemaker (MIT-BIH's paced records are {','.join(PACED)}): "
         "stated for them as 'ecg score --pacemaker' states it, so that the pacing rule labels their paced beats.")
"""The evaluation commands' ``--pacemaker-records`` (read with :func:`read_pacemaker_records`)."""


def read_pacemaker_records(text: str | None, names: tuple[str, ...]) -> tuple[str, ...]:
    """The record names of ``--pacemaker-records``, each among ``names`` (the records evaluated), else a usage
    error."""
    paced = tuple(dict.fromkeys(n.strip() for n in (text or "").split(",") if n.strip()))
    if text is not None and not paced:
        raise click.BadParameter(f"Received {text!r}; expected comma-separated record names such as 102,217.",
                                 param_hint="--pacemaker-records")
    outside = [n for n in paced if n not in names]
    if outside:
        raise click.BadParameter(f"{', '.join(outside)}: not among the records evaluated; expected names of records "
                                 "in --split or --records.", param_hint="--pacemaker-records")
    return paced


def select_records(record_list: str | None, split: str | None, data_dir: Path | None, default_split: str = "all"
                   ) -> tuple[Path, tuple[str, ...]]:
    """The data directory and the record names from ``--records`` or ``--split`` (not both; ``default_split`` when
    neither is given). The options are checked before the directory is looked at.

    DS1 and DS2 are MIT-BIH's. In a directory of another database "all" (and the default) means its records (its
    ``RECORDS`` file, else its headers), and asking for DS1 or DS2 is a usage error.
    """
    if record_list and split:
        raise click.UsageError("Received both --records and --split; expected at most one of them.")
    names = tuple(n.strip() for n in (record_list or "").split(",") if n.strip())
    if record_list is not None and not names:
        raise click.BadParameter(f"received {record_list!r}; expected names such as 100,101.", param_hint="--records")
    directory = config.require_data_dir(data_dir)
    return directory, names or select_split(directory, split, default_split)


def select_split(directory: Path, split: str | None, default_split: str) -> tuple[str, ...]:
    """Record names of ``split`` (or ``default_split``) in ``directory``: MIT-BIH's lists, or another database's."""
    if holds_mitdb(directory):
        return records_for_split(split or default_split)
    if split is not None and split.lower() != "all":
        raise click.UsageError(f"Received --split {split}; DS1 and DS2 are the MIT-BIH Arrhythmia Database's "
                               f"inter-patient split, and {directory} does not hold its 48 records. Expected "
                               "--split all (every record of the directory, the default there) or --records.")
    names = list_directory_records(directory)
    click.echo(f"{directory} does not hold the 48 MIT-BIH records: evaluating its {len(names)} records.", err=True)
    trained = [name for name in names if name in DS1]
    if trained:
        several = len(trained) > 1
        named = "have the names of MIT-BIH DS1 records" if several else "has the name of an MIT-BIH DS1 record"
        click.echo(f"Warning: {', '.join(trained)} {named}, on which the bundled model was trained; if "
                   f"{'they are' if several else 'it is'} MIT-BIH's, the classifier's figures on "
                   f"{'them' if several else 'it'} are not test figures.", err=True)
    return names


_EVENT_OPTIONS = (
    click.option("--events", "events_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="TOML file of event thresholds; keys left out keep their defaults ('ecg event-settings' "
                      "prints every key with its default)."),
    click.option("--pause-s", type=float, default=None,
                 help="An RR interval longer than this is a pause (default 2.0 s; overrides --events)."),
    click.option("--bradycardia-bpm", type=float, default=None,
                 help="Heart rate under which a stretch is bradycardia (default 50; overrides --events)."),
    click.option("--tachycardia-bpm", type=float, default=None,
                 help="Heart rate over which a stretch is tachycardia (default 100; overrides --events)."),
    click.option("--vf-detection/--no-vf-detection", "vf_detection", default=None,
                 help="Find ventricular flutter/fibrillation in the signal (default on; overrides --events)."),
)


def event_options(command):
    """Add the event-threshold options to a command; it receives them as ``event_settings`` (RegionSettings)."""
    @functools.wraps(command)
    def wrapper(*args, events_file, pause_s, bradycardia_bpm, tachycardia_bpm, vf_detection, **kwargs):
        settings = read_event_options(events_file, pause_s=pause_s, bradycardia_bpm=bradycardia_bpm,
                                      tachycardia_bpm=tachycardia_bpm, vf_detection=vf_detection)
        return command(*args, event_settings=settings, **kwargs)

    for option in reversed(_EVENT_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def read_event_options(events_file: Path | None, **overrides) -> RegionSettings:
    """The settings of ``--events`` (defaults without it) with the single-threshold options over them."""
    try:
        settings = read_event_settings(events_file) if events_file is not None else RegionSettings()
    except EventSettingsError as error:
        raise click.BadParameter(str(error), param_hint="--events") from None
    try:
        return override_event_settings(settings, **overrides)
    except ValueError as error:
        given = [f"--{name.replace('_', '-')}" for name, value in overrides.items() if value is not None]
        raise click.BadParameter(str(error), param_hint="/".join(given) or "--events") from None
