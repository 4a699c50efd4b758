"""The ``ecg`` command line.

Exit codes: 0 success, 1 when a record or a check failed (the others still ran), 2 for usage errors.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from app import config
from app.dashboard_cli import dashboard_command
from app.ingest import format_summary, summarize_record, summary_to_dict, write_detections
from app.logging_setup import configure_logging
from app.model_cli import bundle_model_command, check_annotator_output, evaluate_command, train_command
from app.event_settings import format_event_settings
from app.options import event_options, select_records
from app.regions_cli import evaluate_regions_command
from app.registry_cli import models_group
from app import score_cli
from app.score_cli import score_command
from models.errors import ModelError
from pipeline.database import MITDB_NAME, check_database_name, fetch_database, fetch_mitdb, verify_mitdb
from pipeline.datasets import BeatDataset, build_split_dataset
from pipeline.detector_eval import evaluate_detector, format_table, write_report
from pipeline.errors import EcgInputError
from pipeline.regions import RegionSettings

logger = logging.getLogger(__name__)

SPLIT_CHOICES = ("all", "ds1", "ds2")
DATASET_SPLITS = ("ds1", "ds2")
_CONTEXT = {"help_option_names": ["-h", "--help"]}
_data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help=f"MIT-BIH directory (default: ${config.DATA_DIR_ENV}, else <repo>/data/mitdb).",
)


class EcgGroup(click.Group):
    """Command group that reports input errors (missing data, bad records) and model or registry errors (an unusable
    registry met by ``ecg train``) as a message and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (EcgInputError, ModelError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=EcgGroup, context_settings=_CONTEXT)
@click.option("-v", "--verbose", count=True, help="Log more: -v for progress messages, -vv for debugging.")
def cli(verbose: int) -> None:
    """Clinical ECG arrhythmia analysis: read recordings, detect beats, evaluate against MIT-BIH.

    Not a medical device: results are for research and review by qualified people.
    """
    configure_logging(verbose)


@cli.group(context_settings=_CONTEXT)
def data() -> None:
    """Get and check the MIT-BIH Arrhythmia Database (or another PhysioNet database with --database)."""


@data.command("fetch", context_settings=_CONTEXT)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Directory to fill (default: MIT-BIH's, ${config.DATA_DIR_ENV} else <repo>/data/mitdb; another "
                   "database's, <repo>/data/NAME).")
@click.option("--database", default=MITDB_NAME, show_default=True,
              help="PhysioNet database to fetch, e.g. svdb (MIT-BIH Supraventricular Arrhythmia), afdb (Atrial "
                   "Fibrillation), incartdb (St Petersburg INCART 12-lead), nsrdb (Normal Sinus Rhythm).")
@click.option("--from", "source_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Local mirror to link (or copy) the files from instead of downloading.")
@click.option("--copy", is_flag=True, help="With --from: copy the files instead of creating symbolic links.")
def data_fetch(data_dir: Path | None, database: str, source_dir: Path | None, copy: bool) -> None:
    """Download a database from PhysioNet (or take it from --from DIR) and verify its checksums: MIT-BIH's
    published ones, or the SHA256SUMS.txt PhysioNet releases with any other database.

    Examples: ecg data fetch --from ../shared/data/mitdb;  ecg data fetch --database svdb
    """
    if database == MITDB_NAME:
        report = fetch_mitdb(config.resolve_data_dir(data_dir), source_dir, copy=copy, progress=True)
    else:
        dest = data_dir or config.find_repo_root() / "data" / check_database_name(database).split("/")[0]
        report = fetch_database(database, dest, source_dir, copy=copy, progress=True)
    click.echo(report.describe())


@data.command("verify", context_settings=_CONTEXT)
@_data_dir_option
def data_verify(data_dir: Path | None) -> None:
    """Check that all 48 records are present with their published SHA-256 (PhysioNet v1.0.0).

    Example: ecg data verify --data-dir ../shared/data/mitdb
    """
    directory = config.require_data_dir(data_dir)
    report = verify_mitdb(directory, progress=True)
    click.echo(report.describe())
    if not report.ok:
        sys.exit(1)


@cli.command(context_settings=_CONTEXT)
@click.argument("records", nargs=-1, required=True)
@click.option("--lead", default=None,
              help="Primary lead name (e.g. MLII, V1) or column index; default MLII, else II, else the first ECG lead "
                   "(a default one flat throughout gives way to the next limb lead).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write NAME.json summaries and NAME.qrs beat annotations here.")
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as one JSON document.")
def ingest(records: tuple[str, ...], lead: str | None, out_dir: Path | None, as_json: bool) -> None:
    """Read, clean and detect beats in RECORDS (WFDB paths without extension, .edf files or ISHNE .ecg files).

    A record that fails is reported and the others go on; the exit code is 1 if any failed.

    Example: ecg ingest data/excerpts/100 data/excerpts/208
    """
    summaries, errors = [], []
    for path in records:
        try:
            summary = summarize_record(path, lead=lead)
            if out_dir is not None:  # writing too: a name wfdb refused stopped the records after it (QA, session 65)
                write_detections(summary, out_dir)
                _write_json(out_dir / f"{summary.name}.json", summary_to_dict(summary))
        except Exception as exc:  # batch boundary: one bad record never stops the others
            errors.append({"record": path, "error": _describe_error(exc)})
            click.echo(f"error: {path}: {errors[-1]['error']}", err=True)
            continue
        summaries.append(summary)
        if not as_json:
            click.echo(format_summary(summary))
    if as_json:
        click.echo(json.dumps({"records": [summary_to_dict(s) for s in summaries], "errors": errors}, indent=2))
    if errors:
        sys.exit(1)


@cli.command("evaluate-detector", context_settings=_CONTEXT)
@_data_dir_option
@click.option("--records", "record_list", default=None, help="Comma-separated record names, e.g. 100,101.")
@click.option("--split", type=click.Choice(SPLIT_CHOICES, case_sensitive=False), default=None,
              help="Record set: all records (default: MIT-BIH's 48, or every record of another database's "
                   "directory), or MIT-BIH's DS1 or DS2 of the inter-patient split.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write detector_report.json, detector_report.md and REC.<annotator> files here.")
@click.option("--annotator", default="qrs", show_default=True, help="Extension of the written annotation files.")
def evaluate_detector_command(data_dir: Path | None, record_list: str | None, split: str | None,
                              out_dir: Path | None, annotator: str) -> None:
    """Score the R-peak detector on MIT-BIH (EC57: 150 ms window, from 5 min, VF excluded).

    Example: ecg evaluate-detector --split ds2 --out out/detector
    """
    directory, names = select_records(record_list, split, data_dir)
    check_annotator_output(out_dir, directory, annotator)
    report = evaluate_detector(directory, names, progress=True)
    click.echo(format_table(report))
    if out_dir is not None:
        write_report(report, out_dir, annotator)
        click.echo(f"report written to {out_dir}")
    if report.failures:
        sys.exit(1)


@cli.command("build-datasets", context_settings=_CONTEXT)
@_data_dir_option
@click.option("--split", "splits", type=click.Choice(DATASET_SPLITS, case_sensitive=False), multiple=True,
              help="Split to build (repeatable); default both DS1 and DS2.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Where the beat arrays are cached (default: ${config.CACHE_DIR_ENV}, else <repo>/.cache).")
def build_datasets_command(data_dir: Path | None, splits: tuple[str, ...], cache_dir: Path | None) -> None:
    """Build the inter-patient beat datasets (reference beat positions) and print their class counts.

    Example: ecg build-datasets --split ds1
    """
    directory = config.require_data_dir(data_dir)
    cache = cache_dir or config.resolve_cache_dir() / "datasets"
    for split in splits or DATASET_SPLITS:
        dataset = build_split_dataset(split, directory, cache, progress=True)
        click.echo(format_dataset(split, dataset))


@cli.command("event-settings", context_settings=_CONTEXT)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the settings to this file instead of printing them.")
@event_options
def event_settings_command(out_file: Path | None, event_settings: RegionSettings) -> None:
    """Print every event threshold (pauses, rate limits, runs, AF, flutter detector) as TOML, to edit.

    The defaults, or those of --events FILE (checked) with the single-threshold options over them.
    The output is a file for --events of 'ecg score' and 'ecg evaluate-regions'; keys left out of
    such a file keep their defaults.

    Example: ecg event-settings --pause-s 3 --out my_events.toml
    """
    text = format_event_settings(event_settings)
    if out_file is None:
        click.echo(text, nl=False)
        return
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(text, encoding="utf-8")
    click.echo(f"event settings written to {out_file}", err=True)


def format_dataset(split: str, dataset: BeatDataset) -> str:
    """One line: records, beats and AAMI class counts of a dataset."""
    counts = " / ".join(f"{cls} {n}" for cls, n in dataset.class_counts().items())
    excluded = f"; excluded symbols {dataset.excluded_symbols}" if dataset.excluded_symbols else ""
    return f"{split.upper()}: {len(dataset.records)} records, {len(dataset)} beats: {counts}{excluded}"


def _describe_error(exc: Exception) -> str:
    if isinstance(exc, EcgInputError):
        return str(exc)
    logger.debug("unexpected error", exc_info=True)
    return f"unexpected {type(exc).__name__}: {exc} (run with -vv for the traceback)"


def _write_json(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


MODEL_COMMANDS = {"score", "evaluate", "evaluate-regions", "train", "bundle-model"}
"""Commands that load TensorFlow: :func:`main` imports it first, quietly."""


def find_command_name(arguments: list[str]) -> str | None:
    """The subcommand of an ``ecg`` command line: its first argument that is not an option (``ecg -v score ...``).

    >>> find_command_name(["-vv", "score", "x"]), find_command_name(["--help"])
    ('score', None)
    """
    return next((a for a in arguments if not a.startswith("-")), None)


def main() -> None:
    """Console-script entry point (``ecg``). TensorFlow's C++ start-up notices are hidden
    (:func:`models.quiet_import.import_tensorflow_quietly`, for the commands that load it).

    After ``ecg score`` has written and synced every output and joined its workers, the process
    ends without the interpreter's teardown, which takes about 2 s once TensorFlow is loaded (5 %
    of scoring the 48 MIT-BIH records). Other commands (MLflow runs, the dashboard) exit normally.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # MLflow's own INFO lines (tables created, input
    # example validated) on every command that opens the registry; -v shows them (app.logging_setup)
    if find_command_name(sys.argv[1:]) in MODEL_COMMANDS:
        from models.quiet_import import import_tensorflow_quietly

        import_tensorflow_quietly()
    try:
        cli(prog_name="ecg")
    except SystemExit as stop:
        if score_cli.may_skip_teardown():
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if not isinstance(stop.code, (int, type(None))):
                print(stop.code, file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
            logging.shutdown()
            os._exit(code)
        raise


cli.add_command(evaluate_regions_command)
cli.add_command(models_group)
cli.add_command(score_command)
cli.add_command(train_command)
cli.add_command(evaluate_command)
cli.add_command(bundle_model_command)
cli.add_command(dashboard_command)


if __name__ == "__main__":
    main()
