"""``ecg train`` and ``ecg evaluate``: the classifier's training and EC57 evaluation."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import tomllib
from pathlib import Path

import click

from app import config
from app.options import pacemaker_records_option, read_pacemaker_records, select_records
from pipeline.region_eval import REFERENCE_ANNOTATOR
from pipeline.splits import DS1, PACED, holds_mitdb

logger = logging.getLogger(__name__)

_CONTEXT = {"help_option_names": ["-h", "--help"]}
SPLITS = ("ds1", "ds2", "all")


def read_training_config(path: Path | None):
    """TrainingConfig from a TOML or JSON file (defaults when ``path`` is None)."""
    from models.train import TrainingConfig

    if path is None:
        return TrainingConfig()
    if path.suffix.lower() not in (".toml", ".json"):
        raise click.BadParameter(f"{path}: received a {path.suffix or 'suffix-less'} file; expected a .toml or .json "
                                 "configuration (e.g. configs/bundled.toml).", param_hint="--config")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        return TrainingConfig.from_dict(data)
    except (ValueError, TypeError, KeyError) as error:
        raise click.BadParameter(f"{path}: {error}", param_hint="--config") from error


@contextlib.contextmanager
def reporting_a_stop(what: str):
    """While inside, SIGTERM (``kill``, a scheduler, ``timeout``) stops ``what`` as Ctrl-C does; either ends the
    command with one line instead of a traceback, exit code 130 (Ctrl-C) or 143 (SIGTERM). The MLflow run, if one
    was open, is marked failed by its own context, and the worker processes are ended
    (:class:`models.training_workers.WorkerTrainer`)."""
    from app.batch import stopping_on_sigterm

    note = "its MLflow run, if one had started, is marked failed; run the command again to start over"
    try:
        with stopping_on_sigterm() as check_stop:
            yield
            check_stop()  # a stop whose exit was lost in a finaliser still ends the command with 143
    except KeyboardInterrupt:
        click.echo(f"\n{what} stopped (Ctrl-C): {note}.", err=True)
        raise SystemExit(128 + signal.SIGINT) from None
    except SystemExit as stop:
        if stop.code == 128 + signal.SIGTERM:
            click.echo(f"\n{what} stopped by SIGTERM: {note}.", err=True)
        raise


def describe_config_path(path: Path) -> str:
    """A configuration's path as the model card records it: relative to the repository when inside it (the card's
    command then runs from any checkout, and names no folder of this machine)."""
    try:
        return path.resolve().relative_to(config.find_repo_root()).as_posix()
    except ValueError:
        return str(path)


def jobs_option(command):
    """``--jobs``: networks trained at once (``ecg train``, ``ecg bundle-model``)."""
    return click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                        help="Networks trained at once, each in its own process on one CPU thread (default: the "
                             "usable CPU cores). The trained networks are the same whatever the number.")(command)


def resolve_training_jobs(jobs: int | None) -> int:
    """``--jobs`` or, by default, the usable CPU cores."""
    from models.training_workers import count_usable_cores

    return jobs or count_usable_cores()


@click.command("train", context_settings=_CONTEXT)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="MIT-BIH directory (default: $ECG_DATA_DIR, else <repo>/data/mitdb).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Training configuration (TOML or JSON; keys of models.train.TrainingConfig).")
@click.option("--mlruns", "mlruns_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="MLflow directory (sqlite registry + artifacts; default $ECG_MLRUNS_DIR, else <repo>/mlruns).")
@click.option("--run-name", default=None, help="Name of the MLflow run.")
@click.option("--save-to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write model.keras + model.json here (e.g. models/bundled).")
@click.option("--extra-data-dir", "extra_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Another annotated WFDB database to train on as well (repeatable; e.g. data/svdb from "
                   "'ecg data fetch --database svdb'): its beats join every fold's training set, never validation. "
                   "MIT-BIH Arrhythmia records are refused.")
@jobs_option
def train_command(data_dir: Path | None, config_path: Path | None, mlruns_dir: Path | None, run_name: str | None,
                  save_to: Path | None, extra_dirs: tuple[Path, ...], jobs: int | None) -> None:
    """Train the beat classifier on DS1 (patient-wise CV), track it in MLflow, register it.

    The new version becomes the champion only if its DS1 out-of-fold score beats the current one. With
    --extra-data-dir, other databases' beats are trained on too; folds, early stopping and the score stay DS1's,
    and the model's settings (model.json) name the databases, so its DS2 figures are not compared with DS1-only
    models' as like for like.

    Example: ecg train --config configs/bundled.toml --extra-data-dir data/svdb
    """
    from models.training_run import run_training, save_model_files

    training_config = read_training_config(config_path)
    if training_config.n_folds > len(DS1):
        raise click.BadParameter(f"{config_path}: received n_folds={training_config.n_folds}; expected at most "
                                 f"{len(DS1)}, DS1's patients (each fold holds whole patients).",
                                 param_hint="--config")
    directory = config.require_data_dir(data_dir)
    with reporting_a_stop("Training"):
        outcome = run_training(directory, config.resolve_cache_dir(), training_config, mlruns_dir=mlruns_dir,
                               run_name=run_name, extra_dirs=extra_dirs, jobs=resolve_training_jobs(jobs))
    metrics = outcome.metrics
    if outcome.extra is not None:
        from models.training_run import describe_databases

        click.echo(f"also trained on {describe_databases(outcome.extra)}"
                   + (f"; {len(outcome.extra.skipped)} records skipped (the run counts them by reason, without "
                      "names):" if outcome.extra.skipped else ""))
        for name, _, reason in outcome.extra.skipped:  # named on the terminal only, never in a log or the run
            click.echo(f"  {name}: {reason}")
    click.echo(f"run {outcome.run_id}: model version {outcome.version} "
               f"({'promoted to champion' if outcome.promoted else 'not promoted'}: {outcome.message})")
    figures = "  ".join(f"{c} Se {100 * metrics[f'cv_{c}_se']:.1f} +P {100 * metrics[f'cv_{c}_ppv']:.1f}"
                        for c in "NSVF")
    click.echo(f"DS1 out-of-fold, networks alone (the champion's score; the context stage and rules come after): "
               f"{figures}  acc {100 * metrics['cv_accuracy']:.2f}  score {metrics['cv_selection_score']:.3f}  "
               f"(networks trained in {outcome.elapsed_s:.0f} s)")
    if save_to is not None:
        from models import registry
        from models.training_run import MODEL_NAME

        loaded = registry.load_model(f"models:/{MODEL_NAME}/{outcome.version}")
        click.echo(f"saved {save_model_files(loaded.model, loaded.settings, save_to)}")


@click.command("evaluate", context_settings=_CONTEXT)
@click.option("--model", "model_uri", default=None,
              help="models:/NAME@ALIAS, models:/NAME/VERSION or a .keras file (default: champion, else bundled).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="MIT-BIH directory (default: $ECG_DATA_DIR, else <repo>/data/mitdb).")
@click.option("--split", type=click.Choice(SPLITS, case_sensitive=False), default=None,
              help="Records to evaluate on (default ds2, the test set; never tune on it). In a directory of "
                   "another database: all of its records.")
@click.option("--records", "record_list", default=None, help="Comma-separated record names instead of --split.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write classification_report.json/.md and REC.<annotator> WFDB files here.")
@click.option("--annotator", default="cls", show_default=True, help="Extension of the written annotation files.")
@click.option("--one-lead", is_flag=True,
              help="Analyse each record from its primary lead alone (MLII or II, else the first ECG lead), as a "
                   "one-lead recording is analysed: what a one-lead Holter or monitor channel would give.")
@click.option("--mlruns", "mlruns_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="MLflow directory, an existing one (default $ECG_MLRUNS_DIR, else <repo>/mlruns).")
@pacemaker_records_option
def evaluate_command(model_uri: str | None, data_dir: Path | None, split: str | None, record_list: str | None,
                     out_dir: Path | None, annotator: str, one_lead: bool, mlruns_dir: Path | None,
                     pacemaker_records: str | None) -> None:
    """EC57 beat classification report: reference positions and end to end with our detector.

    Example: ecg evaluate --model models:/ecg-beat-classifier@champion --split ds2 --out out/ds2
    """
    from app.score_cli import load_chosen_model
    from models.atrial_rule import DecisionRules
    from models.evaluate import evaluate_records, format_markdown, report_to_dict, write_report
    from models.prepare import InputSettings

    directory, names = select_records(record_list, split, data_dir, default_split="ds2")
    paced = read_pacemaker_records(pacemaker_records, names)
    check_annotator_output(out_dir, directory, annotator)
    loaded = load_chosen_model(model_uri, mlruns_dir)
    outside = describe_records_outside_the_test(loaded.settings, names) if holds_mitdb(directory) else []
    warnings = [w for w in (describe_training_overlap(loaded.settings, directory), *outside) if w]
    for warning in warnings:
        click.echo(warning, err=True)
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    report = evaluate_records(loaded.model, settings, directory, names, out_dir, annotator,
                              decisions=DecisionRules.from_settings(loaded.settings), one_lead=one_lead,
                              pacemaker_records=paced)
    scope = (split or "ds2") if holds_mitdb(directory) and not record_list else names
    context = describe_evaluation_context(loaded.source, loaded.version, loaded.settings, scope)
    context |= describe_evaluation_provenance(loaded, mlruns_dir, directory, annotator if out_dir is not None else None)
    if warnings:
        context["warnings"] = warnings
    if paced:
        context["pacemaker_records"] = list(paced)
    if one_lead:
        context["leads"] = "primary lead only"
    result = write_report(report, out_dir, context) if out_dir is not None else report_to_dict(report, context)
    click.echo(format_markdown(result))
    if report.failures:
        sys.exit(1)


def check_annotator_output(out_dir: Path | None, data_dir: Path, annotator: str) -> None:
    """Refuse (usage error, exit 2), before any work, an ``--annotator`` that WFDB cannot name a file with (letters
    only: an empty one wrote ``REC.``, which no tool reads, and ``a/b`` failed every record after its analysis) and
    annotation files that would replace the reference annotations the evaluation reads: ``--out`` in the data
    directory with ``--annotator`` the reference's, ``atr``, in any case (``ATR`` is the same file on the
    case-insensitive file systems of macOS and Windows); and an ``--out`` folder that cannot be created or written
    (:func:`app.batch.check_output_dir`: a QA pass, session 50, saw an evaluation score every record and then end
    in a traceback)."""
    from app.batch import BatchUsageError, check_output_dir

    if not (annotator.isascii() and annotator.isalpha()):
        raise click.BadParameter(f"received {annotator!r}; expected the extension of a WFDB annotation file, letters "
                                 "only (e.g. cls, qrs, rhy).", param_hint="--annotator")
    if out_dir is None:
        return
    if annotator.lower() == REFERENCE_ANNOTATOR and out_dir.resolve() == data_dir.resolve():
        raise click.UsageError(f"Received --out {out_dir} and --annotator {annotator}: the written REC.{annotator} "
                               f"files would replace the reference annotations in {data_dir} that the evaluation "
                               "reads. Expected another --annotator (e.g. its default) or another --out folder.")
    try:
        check_output_dir(out_dir)
    except BatchUsageError as error:
        raise click.UsageError(str(error)) from None


def describe_evaluation_context(source: str, version, settings: dict, scope) -> dict:
    """The context an evaluation report opens with: the model, its version, the records and, for a model trained on
    other databases besides DS1, their names (its figures are not a DS1-only model's).

    >>> describe_evaluation_context("m.keras", None, {"extra_training_data": {"databases": [{"database": "svdb"}]}},
    ...                             "ds2")
    {'model': 'm.keras', 'version': None, 'records': 'ds2', 'extra_training_data': ['svdb']}
    """
    context = {"model": source, "version": version, "records": scope}
    if "extra_training_data" in settings:
        context["extra_training_data"] = [d["database"] for d in settings["extra_training_data"]["databases"]]
    return context


def describe_evaluation_provenance(loaded, mlruns_dir: Path | None, directory: Path, annotator: str | None) -> dict:
    """What a researcher needs to know which model scored which data how (a QA pass of session 47: a registry version
    number names different models in different registries): the weights' and settings' SHA-256 (as ``ecg score``
    records them), the registry folder a registry model came from, the data folder, the code version, the matching
    rules and what the written annotation files hold."""
    from app.score_cli import describe_model_identity
    from pipeline.detector_eval import find_git_commit, find_package_version
    from pipeline.scoring import MATCH_WINDOW_S, SCORE_START_S

    provenance = {**describe_model_identity(loaded, mlruns_dir),
                  "data_dir": str(directory.resolve()), "package_version": find_package_version(),
                  "git_commit": find_git_commit(), "match_window_ms": MATCH_WINDOW_S * 1000.0,
                  "ec57_score_start_s": SCORE_START_S}
    if annotator is not None:
        provenance["annotation_files"] = (f"REC.{annotator}: the beats the project's detector found over the whole "
                                          "record, each with its class as an MIT-BIH symbol (N, S, V, F, Q; / paced), "
                                          "the end-to-end modes' input; re-score with bxb (from 5 minutes, the EC57 "
                                          "mode) or over the whole record")
    return provenance


def describe_training_overlap(settings: dict, directory: Path) -> str | None:
    """A warning when the model was also trained on a database of ``directory``'s name (``ecg train --extra-data-dir``):
    figures on those records are in-sample, not test figures. None otherwise.

    >>> settings = {"extra_training_data": {"databases": [{"database": "svdb", "records": 78}]}}
    >>> describe_training_overlap(settings, Path("data/svdb"))
    'Warning: the model was also trained on 78 records of a database named svdb; figures on them are not test figures.'
    >>> describe_training_overlap(settings, Path("data/incartdb")) is None
    True
    """
    for database in settings.get("extra_training_data", {}).get("databases", []):
        if database["database"] == directory.name:
            return (f"Warning: the model was also trained on {database['records']} records of a database named "
                    f"{directory.name}; figures on them are not test figures.")
    return None


def describe_records_outside_the_test(settings: dict, names: list[str]) -> list[str]:
    """Warnings for the MIT-BIH records among ``names`` whose figures are not inter-patient test figures: those the
    model was trained on (its ``train_records``: in-sample) and the paced ones (left out of both halves of the split;
    the classifier never saw a paced beat, and EC57 leaves their Q beats out of the per-class figures, though not out
    of the accuracy: a QA pass, session 50, found the warning said only the first). For MIT-BIH only:
    another database's records may have the same names.

    >>> describe_records_outside_the_test({"train_records": ["101", "106"]},
    ...                                   ["100", "101", "102"])  # doctest: +NORMALIZE_WHITESPACE
    ['Warning: the model was trained on record 101 (DS1); figures on it are in-sample, not test figures (the test set is
    DS2: --split ds2).', 'Warning: record 102 is paced, outside the inter-patient split: the classifier was not trained
    on paced beats, and EC57 leaves its paced (Q) beats out of the Se and +P of N, S, V and F; the accuracy counts them,
    right only where labelled Q (a stated pacemaker: --pacemaker-records).']
    """
    out = []
    trained = sorted(set(names) & set(settings.get("train_records", [])))
    if trained:
        out.append(f"Warning: the model was trained on record{'s' if len(trained) > 1 else ''} {', '.join(trained)} "
                   f"(DS1); figures on {'them' if len(trained) > 1 else 'it'} are in-sample, not test figures (the "
                   "test set is DS2: --split ds2).")
    paced = sorted(set(names) & set(PACED))
    if paced:
        many = len(paced) > 1
        out.append(f"Warning: record{'s' if many else ''} {', '.join(paced)} {'are' if many else 'is'} paced, outside "
                   "the inter-patient split: the classifier was not trained on paced beats, and EC57 leaves "
                   f"{'their' if many else 'its'} paced (Q) beats out of the Se and +P of N, S, V and F; the accuracy "
                   "counts them, right only where labelled Q (a stated pacemaker: --pacemaker-records).")
    return out


@click.command("bundle-model", context_settings=_CONTEXT)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="MIT-BIH directory (default: $ECG_DATA_DIR, else <repo>/data/mitdb).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=config.find_repo_root() / "configs" / "bundled.toml", show_default="<repo>/configs/bundled.toml",
              help="Training configuration.")
@click.option("--mlruns", "mlruns_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="MLflow directory for the training run (default $ECG_MLRUNS_DIR, else <repo>/mlruns).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: models/bundled).")
@click.option("--rules-only", is_flag=True,
              help="Keep the saved networks; apply the configuration's decision rules (atrial_rule, conduction_rule, "
                   "supraventricular_run_rule, wide_qrs_rule, fusion_rule, af_rule, family_rule, v_min_probability, "
                   "temperature), ensemble size (ensemble_members) and context stage (context_stage: kept when the "
                   "model has one and the ensemble size is unchanged, else refitted on DS1 nested cross-validation, "
                   "which trains networks for it only), test once on DS2 and rewrite the card. The saved networks are "
                   "not retrained.")
@jobs_option
def bundle_model_command(data_dir: Path | None, config_path: Path, mlruns_dir: Path | None,
                         out_dir: Path | None, rules_only: bool, jobs: int | None) -> None:
    """Regenerate the bundled model: train on DS1, save it, test it once on DS2, write its card.

    With --rules-only, the networks already in the output directory are kept and only the rules
    applied after them (chosen on DS1 out-of-fold predictions) and the number of them averaged change.

    Example: ecg bundle-model --config configs/bundled.toml
    """
    with reporting_a_stop("Bundling the model"):
        bundle_model(data_dir, config_path, mlruns_dir, out_dir, rules_only, jobs)


def bundle_model(data_dir: Path | None, config_path: Path, mlruns_dir: Path | None, out_dir: Path | None,
                 rules_only: bool, jobs: int | None) -> None:
    """What ``ecg bundle-model`` does (its docstring)."""
    from models import registry
    from models.atrial_rule import DecisionRules
    from models.bundled import BUNDLED_DIR
    from models.evaluate import evaluate_records, write_report
    from models.model_card import add_ds2_evaluation, write_model_card
    from models.prepare import InputSettings
    from models.atrial_rule import STAGE_CONFIG_KEY
    from models.training_data import load_labelled_inputs
    from models.training_run import (MODEL_NAME, fit_ds1_context_stage, keep_members, load_one_lead_inputs,
                                     replace_post_training_settings, run_training, save_model_files,
                                     write_model_settings)
    from models.training_workers import WorkerTrainer
    from pipeline.splits import DS1, DS2

    directory = config.require_data_dir(data_dir)
    target = out_dir or BUNDLED_DIR
    training = read_training_config(config_path)
    command = f"ecg bundle-model --config {describe_config_path(config_path)}"
    if rules_only:
        loaded = registry.load_model(target / "model.keras")
        try:
            rule_settings = replace_post_training_settings(loaded.settings, training)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--config") from error
        # the stage is fitted on DS1's nested probabilities of the networks' configuration and ensemble size, before
        # any rule: a model's fitted stage is kept when those are unchanged (a change of rules or temperature only)
        same_members = loaded.settings.get("training", {}).get("ensemble_members") == training.ensemble_members
        if training.context_stage and not (STAGE_CONFIG_KEY in loaded.settings and same_members):
            if "extra_training_data" in loaded.settings:
                raise click.BadParameter("the model was trained with other databases, which --rules-only cannot "
                                         "read again to fit its context stage; retrain it with ecg train.",
                                         param_hint="--config")
            inputs_dir = config.resolve_cache_dir() / "model_inputs"
            data = load_labelled_inputs(DS1, directory, inputs_dir, training.inputs)
            one_lead = load_one_lead_inputs(directory, inputs_dir, training)
            with WorkerTrainer(resolve_training_jobs(jobs)) as trainer:
                stage = fit_ds1_context_stage(data, training, trainer=trainer, one_lead=one_lead)
            rule_settings = rule_settings | {STAGE_CONFIG_KEY: stage.to_settings()}
        kept = keep_members(loaded.model, training.n_networks)
        keras_path = target / "model.keras"
        if kept is loaded.model:  # the same networks: the model file stays byte for byte
            write_model_settings(rule_settings, target)
        else:
            save_model_files(kept, rule_settings, target)
        loaded = registry.load_model(keras_path)
    else:
        outcome = run_training(directory, config.resolve_cache_dir(), training, mlruns_dir=mlruns_dir,
                               run_name="bundled-model", jobs=resolve_training_jobs(jobs))
        loaded = registry.load_model(f"models:/{MODEL_NAME}/{outcome.version}")
        keras_path = save_model_files(loaded.model, loaded.settings, target)
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    decisions = DecisionRules.from_settings(loaded.settings)
    report = evaluate_records(loaded.model, settings, directory, DS2, decisions=decisions)
    result = write_report(report, target / "ds2_report", {"model": str(keras_path), "records": "ds2"})
    one_lead = evaluate_records(loaded.model, settings, directory, DS2, decisions=decisions, one_lead=True)
    one_lead_result = write_report(one_lead, target / "ds2_report_one_lead",
                                   {"model": str(keras_path), "records": "ds2", "leads": "primary lead only"})
    full_settings = add_ds2_evaluation(keras_path.with_suffix(".json"), result, one_lead_result)
    card = write_model_card(target, full_settings, command, rules_only=rules_only)
    click.echo(f"model {keras_path} ({keras_path.stat().st_size / 1e6:.2f} MB), card {card}")
