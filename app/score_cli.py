"""``ecg score``: score a batch of recordings into per-record reports (see :mod:`app.batch`).

Exit codes: 0 every record scored (or already up to date), 1 some records failed (the others are
scored) or the disk filled up, 2 usage errors found before any work (no record, output folder not
writable, model missing).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import click

from app.batch import (
    BATCH_ERRORS,
    BATCH_SUMMARY,
    DEFAULT_FORMATS,
    FORMATS,
    BatchUsageError,
    DiskFullError,
    ModelIdentity,
    ScoreSettings,
    check_output_dir,
    describe_saved_labels,
    find_record_sources,
    fingerprint_model_settings,
    fingerprint_weights,
    limit_blas_threads,
    score_records,
    start_worker_pool,
    threads_per_process,
)
from app.options import event_options
from pipeline.regions import RegionSettings

logger = logging.getLogger(__name__)

_state = {"finished": False}


def may_skip_teardown() -> bool:
    """True once ``ecg score`` has written everything and joined its workers (see :func:`app.cli.main`)."""
    return _state["finished"]

_CONTEXT = {"help_option_names": ["-h", "--help"]}
DEFAULT_OUT = Path("out/scores")


@click.command("score", context_settings=_CONTEXT)
@click.argument("paths", nargs=-1, required=True)
@click.option("--model", "model_uri", default=None,
              help="models:/NAME@ALIAS, models:/NAME/VERSION or a .keras file (default: the registry's champion, "
                   "else the bundled model).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT,
              show_default=True, help="Output folder: one sub-folder per record, plus batch_summary.csv and "
                                      "errors.csv.")
@click.option("--format", "formats", default=",".join(DEFAULT_FORMATS), show_default=True,
              help=f"Comma-separated outputs among {', '.join(FORMATS)} (csv: beat, region, hourly, QT, ST, heart-rate "
                   "turbulence and diary tables; json: summary; wfdb: annotation file; ishne: the beat labels as an "
                   "ISHNE annotation file, NAME.ann; pdf: report; disclosure: the whole record printed, one minute per "
                   "line, 30 minutes a page; disclosure2: the same with both analysed leads, 15 minutes a page).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Records scored in parallel processes (each loads the model once).")
@click.option("--labels-from", "labels_from", default=None, metavar="ANNOTATOR",
              help="Use the reviewed beat labels of NAME.ANNOTATOR beside each record where it exists (e.g. ecg: the "
                   "annotation file the dashboard saves after a review, with its deleted and added beats and its "
                   "corrections of the atrial rhythm); regions, summary and report follow them.")
@click.option("--lead", default=None,
              help="Primary lead of every record, by name (II, V5, ...) or column index (default: MLII or II, else "
                   "the first ECG lead; a default one flat throughout gives way to the next limb lead); the second "
                   "analysed lead is chosen as usual (V1 first). A record without it fails on its own.")
@click.option("--diary-dir", "diary_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of the patients' diaries, NAME.diary.csv (default: beside each record). Each line: the "
                   "time since the start (hh:mm:ss) or the clock time in brackets ([14:32]), a comma, what the "
                   "patient noted; the outputs give the rhythm at each entry.")
@click.option("--pacemaker", is_flag=True,
              help="The patients have pacemakers: wide beats that come on time, and beats with a pacing spike, are "
                   "labelled paced (Q, written /; the classifier was not trained on paced beats), and the summaries "
                   "say so; where 10 % of the beats or more are paced, HRV, heart-rate turbulence, ST and QT are left "
                   "out and AF is read from the RR intervals alone (an ISHNE header may say it of its own patient).")
@click.option("--force", is_flag=True, help="Rescore records whose outputs are already up to date.")
@click.option("--mlruns", "mlruns_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="MLflow tracking folder, an existing one (default $ECG_MLRUNS_DIR, else <repo>/mlruns).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@event_options
def score_command(paths: tuple[str, ...], model_uri: str | None, out_dir: Path, formats: str, jobs: int,
                  labels_from: str | None, lead: str | None, diary_dir: Path | None, pacemaker: bool, force: bool,
                  mlruns_dir: Path | None, quiet: bool, event_settings: RegionSettings) -> None:
    """Score recordings: beats, classes, flagged regions, summary and report for each record.

    PATH is a WFDB record without extension (DIR/100), a directory (searched recursively for .hea,
    .edf and ISHNE .ecg files), a glob ('DIR/1*.hea') or a RECORDS list file. A rerun skips records already
    scored with the same model and settings (unless --force). Event thresholds (pauses, rate limits, ...)
    come from --events FILE and the single-threshold options, else their clinical defaults. A patient's
    diary, NAME.diary.csv beside the record (or in --diary-dir), adds the rhythm at each of its entries.

    Example: ecg score data/excerpts --out out/scores --jobs 2 --pause-s 3
    """
    _state["finished"] = False
    try:
        settings = ScoreSettings(formats=tuple(f.strip().lower() for f in formats.split(",") if f.strip()),
                                 labels_from=labels_from, regions=event_settings, lead=lead,
                                 diary_dir=None if diary_dir is None else str(diary_dir.resolve()),
                                 pacemaker=pacemaker)
    except ValueError as error:
        hint = ("--labels-from" if "labels_from" in str(error) else "--lead" if "lead=" in str(error)
                else "--format")
        raise click.BadParameter(str(error), param_hint=hint) from None
    try:
        sources = find_record_sources(paths)
        check_output_dir(out_dir)
    except BatchUsageError as error:
        raise click.UsageError(str(error)) from None
    jobs = min(jobs, len(sources))
    pool = start_worker_pool(jobs, preload_path(model_uri))  # workers start up while this process loads the model
    if jobs > 1:
        from models.network import limit_cpu_threads

        limit_cpu_threads(threads_per_process(jobs))
        limit_blas_threads(threads_per_process(jobs))
    try:
        loaded, identity = load_scoring_model(model_uri, mlruns_dir)
    except BaseException:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        raise
    click.echo(f"Scoring {len(sources)} record(s) with {identity.source} into {out_dir} ({jobs} job(s))", err=True)
    if (saved_note := describe_saved_labels(sources, labels_from)):
        click.echo(saved_note, err=True)
    try:
        results = score_records(sources, loaded, identity, settings, out_dir, jobs=jobs, force=force,
                                progress=not quiet, mlruns_dir=None if mlruns_dir is None else str(mlruns_dir),
                                pool=pool)
    except DiskFullError as error:
        click.echo(f"Error: {error.strerror}", err=True)
        sys.exit(1)
    except SystemExit as stop:  # SIGTERM (app.batch.stopping_on_sigterm): say so, then end with its code
        if stop.code == 128 + signal.SIGTERM:
            click.echo(describe_stop("SIGTERM", out_dir), err=True)
        raise
    except KeyboardInterrupt:  # Ctrl-C ended in click's "Aborted!" and exit 1, "a record failed" (QA, session 65)
        click.echo(describe_stop("Ctrl-C", out_dir), err=True)
        sys.exit(128 + signal.SIGINT)
    _state["finished"] = True  # outputs written, workers joined: the process may skip its teardown
    counts = {status: sum(r.status == status for r in results) for status in ("scored", "skipped", "failed")}
    click.echo(f"{counts['scored']} scored, {counts['skipped']} already up to date, {counts['failed']} failed; "
               f"see {out_dir / BATCH_SUMMARY}" + (f" and {out_dir / BATCH_ERRORS}" if counts["failed"] else ""))
    for result in results:
        if result.status == "failed":
            click.echo(f"  {result.source.key}: {result.error_type}: {result.message}", err=True)
        elif result.status == "scored" and result.message:  # scored, but nothing in it to read (no beat found)
            click.echo(f"  {result.source.key}: scored, {result.message}", err=True)
    if counts["failed"]:
        sys.exit(1)


def describe_stop(how: str, out_dir: Path) -> str:
    """What a batch stopped by a signal leaves, and how to go on."""
    return (f"Stopped by {how}: the records done are in {out_dir / BATCH_SUMMARY}; run the same command again to score "
            "the rest (those done are skipped).")


def preload_path(model_uri: str | None) -> str | None:
    """The ``.keras`` file workers can load before this process has: a model given as an existing file."""
    from models.loading import is_registry_uri

    if model_uri is None or is_registry_uri(model_uri):
        return None
    path = Path(model_uri).expanduser()
    return str(path.resolve()) if path.is_file() else None


def load_scoring_model(model_uri: str | None, mlruns_dir: Path | None):
    """Load the model up front (a missing model is a usage error: exit 2 before any work)."""
    loaded = load_chosen_model(model_uri, mlruns_dir)
    uri = loaded.source if loaded.name else str(Path(loaded.source).resolve())
    identity = describe_model_identity(loaded, mlruns_dir)
    return loaded, ModelIdentity(uri=uri, source=loaded.source, weights_sha256=identity["weights_sha256"],
                                 settings_sha256=identity["settings_sha256"], local_path=loaded.local_path)


def describe_model_identity(loaded, mlruns_dir: Path | None) -> dict:
    """Which model this is, whatever registry or file it came from: the weights' and settings' SHA-256, and the
    registry folder of a registry model (a version number names different models in different registries); what
    ``ecg score``'s outputs and the evaluation reports record. MLflow is imported for a registry model only (a model
    file is loaded without it, 1.5 s sooner)."""
    registry = None
    if loaded.name:
        from models.registry import resolve_mlruns_dir

        registry = str(resolve_mlruns_dir(mlruns_dir))
    return {"weights_sha256": fingerprint_weights(loaded.model),
            "settings_sha256": fingerprint_model_settings(loaded.settings), "registry": registry}


def load_chosen_model(model_uri: str | None, mlruns_dir: Path | None):
    """The model of ``--model`` (a file, or a registry URI in ``mlruns_dir``), else the default one
    (:func:`models.bundled.load_default_model`), which falls back to the bundled file when the registry cannot be
    used, unless ``--mlruns`` named it. Shared by ``ecg score``, ``ecg evaluate`` and ``ecg evaluate-regions``: a
    model that cannot be loaded is a usage error, ``Error: Cannot load the model: ...`` (exit 2)."""
    from models.errors import ModelError
    from models.loading import is_registry_uri, load_local

    if model_uri is not None and not model_uri.strip():
        raise click.BadParameter("received an empty value; expected models:/NAME@ALIAS, models:/NAME/VERSION or the "
                                 "path of a .keras file (or leave out --model for the default).", param_hint="--model")
    try:
        if model_uri is not None and not is_registry_uri(model_uri):
            return load_local(Path(model_uri).expanduser())  # a file: no MLflow import (about 1.5 s)
        from models import registry
        from models.bundled import CHAMPION_URI, load_champion, load_default_model

        if mlruns_dir is None and os.environ.get(registry.MLRUNS_ENV) and not registry.resolve_mlruns_dir().exists():
            click.echo(f"Note: {registry.MLRUNS_ENV}={os.environ[registry.MLRUNS_ENV]} does not exist: a new, empty "
                       "registry is made there (check the variable if you meant an existing one; --mlruns refuses a "
                       "folder that does not exist).", err=True)  # a mistyped variable (QA pass, session 47)
        if model_uri is None and mlruns_dir is None:
            return load_default_model(None)  # the default registry, else the bundled file with a warning
        registry.configure_tracking(mlruns_dir)
        if model_uri is None or model_uri == CHAMPION_URI:  # the champion, of a registry named on the command line or
            # by name: an empty registry gets the shipped model first, as by default, but no fall-back to the bundled
            # file when that registry cannot be used (the user asked for it)
            return load_champion()
        return registry.load_model(model_uri)
    except ModelError as error:
        message = str(error)  # the registry's own messages start "Cannot load URI: ..."
        raise click.UsageError(message if message.startswith("Cannot load") else f"Cannot load the model: {message}"
                               ) from None
