"""``ecg evaluate-regions``: score flagged regions against the MIT-BIH reference rhythm and run labels.

Registered in :mod:`app.cli` with ``cli.add_command(evaluate_regions_command)``.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from app import config
from app.model_cli import check_annotator_output
from app.options import event_options, pacemaker_records_option, read_pacemaker_records, select_records
from models.pacing_rule import PacingRule
from pipeline.quality import QUALITY_KINDS
from pipeline.region_eval import LABELERS, evaluate_regions, format_markdown, format_record_table, write_outputs
from pipeline.regions import RegionSettings

_CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.command("evaluate-regions", context_settings=_CONTEXT)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"MIT-BIH directory (default: ${config.DATA_DIR_ENV}, else <repo>/data/mitdb).")
@click.option("--split", type=click.Choice(("all", "ds1", "ds2"), case_sensitive=False), default=None,
              help="Record set: all records (default: MIT-BIH's 48, or every record of another database's "
                   "directory), or MIT-BIH's DS1 or DS2 of the inter-patient split.")
@click.option("--records", "record_list", default=None, help="Comma-separated record names instead of --split.")
@click.option("--labels", type=click.Choice(sorted(LABELERS) + ["model"], case_sensitive=False), default="reference",
              show_default=True,
              help="Beat positions and classes: 'reference' (the .atr beats and classes, an oracle classifier: "
                   "measures the region rules alone), 'detector' (detected beats, all labelled N) or 'model' "
                   "(detected beats classified by --model: the end-to-end system).")
@click.option("--model", "model_uri", default=None,
              help="With --labels model: models:/NAME@ALIAS, models:/NAME/VERSION or a .keras file (default: "
                   "champion, else bundled).")
@click.option("--mlruns", "mlruns_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="With --labels model: MLflow directory, an existing one (default $ECG_MLRUNS_DIR, else "
                   "<repo>/mlruns).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write regions_report.json/.md and, per record, REC.<annotator>, REC_regions.csv, "
                   "REC_summary.json here.")
@click.option("--annotator", default="rhy", show_default=True, help="Extension of the written annotation files.")
@click.option("--unreadable-kinds", default=None,
              help="Quality-span kinds that make a stretch unreadable (no event is claimed there; default "
                   f"{','.join(QUALITY_KINDS)}; overrides --events).")
@click.option("--per-record", is_flag=True, help="Also print the per-record table.")
@pacemaker_records_option
@event_options
def evaluate_regions_command(data_dir: Path | None, split: str | None, record_list: str | None, labels: str,
                             model_uri: str | None, mlruns_dir: Path | None, out_dir: Path | None, annotator: str,
                             unreadable_kinds: str | None, per_record: bool, pacemaker_records: str | None,
                             event_settings: RegionSettings) -> None:
    """Find regions (runs, bigeminy, AF, pauses, ...) and score them against the reference .atr.

    EC57 run-by-run Se/+P for V and S couplets, short and long runs (WFDB rxr rules),
    episode/duration Se/+P per rhythm (WFDB epicmp rules) and pause Se/+P against the reference
    beats' intervals over the pause threshold, from 5 minutes into each record.
    With --labels reference the figures measure the region rules on perfect beat labels, not the
    end-to-end system.

    Example: ecg evaluate-regions --split ds2 --labels reference --out out/regions
    """
    settings = event_settings
    if unreadable_kinds is not None:
        kinds = tuple(k.strip() for k in unreadable_kinds.split(",") if k.strip())
        try:
            settings = dataclasses.replace(settings, unreadable_kinds=kinds)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--unreadable-kinds") from exc
    directory, names = select_records(record_list, split, data_dir)
    check_annotator_output(out_dir, directory, annotator)
    paced = read_pacemaker_records(pacemaker_records, names)
    labeler = build_model_labeler(model_uri, settings, mlruns_dir) if labels.lower() == "model" else None
    unused = [name for name, value in (("--model", model_uri), ("--mlruns", mlruns_dir)) if value is not None]
    if labeler is None and unused:  # a QA pass (session 53): a model file that does not exist passed without a word
        click.echo(f"Note: {' and '.join(unused)} {'are' if len(unused) > 1 else 'is'} used with --labels model only; "
                   f"these figures use the {labels.lower()} labels.", err=True)
    report = evaluate_regions(directory, names, labels.lower(), settings, progress=True, labeler=labeler,
                              pacemaker_records=paced)
    if labeler is not None:  # which model labelled the beats (as ecg evaluate's report says it)
        report.settings["model"] = labeler.provenance
    click.echo(format_markdown(report, f"Regions, {split or 'selected records'}, labels={labels}"))
    if per_record:
        click.echo(format_record_table(report))
    if out_dir is not None:
        write_outputs(report, out_dir, annotator)
        click.echo(f"report written to {out_dir}")
    if report.failures:
        sys.exit(1)


def build_model_labeler(model_uri: str | None, settings: RegionSettings = RegionSettings(),
                        mlruns_dir: Path | None = None, pacing: PacingRule | None = PacingRule()):
    """Record -> (detected beats, classes, beats the family rule made N, paced beats) with the model (its decision rules
    included; the atrial-fibrillation rule with ``settings`` and the record's quality spans, then the morphology-family
    rule, as ``ecg score`` applies them; the region finder's AF evidence leaves out the family rule's beats, as there);
    for a patient with a pacemaker, the pacing rule ``pacing`` (:mod:`models.pacing_rule`; None for none). Its
    ``provenance`` names the model: source, version, weights' and settings' SHA-256, registry folder."""
    from app.score_cli import describe_model_identity, load_chosen_model
    from models.af_rule import apply_af_rule_to_record
    from models.atrial_rule import DecisionRules
    from models.family_rule import apply_family_rule_to_record
    from models.predict import classify_record
    from models.prepare import InputSettings
    from pipeline.detect import detect_record_peaks

    loaded = load_chosen_model(model_uri, mlruns_dir)
    input_settings = InputSettings.from_dict(loaded.settings["inputs"])
    decisions = DecisionRules.from_settings(loaded.settings)

    def label_with_model(record):
        stated = None if record.pacemaker is None else pacing
        detection = detect_record_peaks(record)
        predictions = classify_record(loaded.model, input_settings, record, detection.samples, decisions=decisions,
                                      pacing=stated)
        if decisions.af_rule:  # the flutter finder counts the detector's waves, as in ecg score
            predictions = apply_af_rule_to_record(record, predictions, settings, detected_samples=detection.waves)
        if decisions.family_rule:
            predictions = apply_family_rule_to_record(record, predictions)
        return predictions.samples, predictions.classes, predictions.in_family_mask, predictions.paced

    label_with_model.provenance = {"source": loaded.source, "version": loaded.version,
                                   **describe_model_identity(loaded, mlruns_dir)}
    return label_with_model
