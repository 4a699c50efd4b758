"""Study: giving trains of like beats back from the noise spans, on DS1 only (REGIONS.md, session 4).

The noise rule of :mod:`pipeline.quality` flags runs of wide ventricular beats as noise, and no event is claimed
inside noise, so ventricular runs and VT episodes were lost even with perfect beat labels.
:func:`pipeline.quality.spare_beat_trains` cuts out of the noise spans every train of at least 3 beats whose
successive QRS complexes correlate at least ``train_min_corr``. This study scores the region pipeline on the 22
DS1 records with sparing off and with ``train_min_corr`` 0.8, 0.9 and 0.95, under two labellers:

- ``reference``: the reference beats and classes (the region rules alone);
- ``oof``: the reference beat positions with the classes of the bundled configuration's DS1 out-of-fold
  predictions (4-fold patient-wise cross-validation, atrial rule applied; cached in ``.cache/oof``), i.e. a
  classifier's errors on patients it did not see.

DS2 is not read. Results: ``experiments/results/noise_span_study.json`` and a Markdown table on stdout.

Usage: PYTHONPATH=. .venv/bin/python experiments/noise_span_study.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import math
import tomllib
from dataclasses import replace
from pathlib import Path

from app.config import require_data_dir, resolve_cache_dir
from experiments.nested_oof import labels_by_record
from experiments.s_rule_study import load_oof, write_results
from models.atrial_rule import DecisionRules
from models.train import TrainingConfig
from models.training_data import load_labelled_inputs
from pipeline.quality import QualitySettings
from pipeline.region_eval import RegionReport, evaluate_regions, label_with_reference
from pipeline.splits import DS1

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "experiments" / "results" / "noise_span_study.json"
SETTINGS = {"off": replace(QualitySettings(), train_sparing=False),
            **{f"corr {c}": replace(QualitySettings(), train_min_corr=c) for c in (0.8, 0.9, 0.95)}}
EPISODES = ("vt", "bigeminy", "af")


def build_oof_labeler(data_dir: Path, config_path: Path):
    """(Record -> reference beat samples, OOF classes) for the DS1 records."""
    settings = tomllib.loads(config_path.read_text())
    config = TrainingConfig.from_dict(settings)
    data = load_labelled_inputs(DS1, data_dir, resolve_cache_dir() / "model_inputs", config.inputs, progress=False)
    probabilities = load_oof(config, data)
    rules = DecisionRules.from_settings({"atrial_rule": settings.get("atrial_rule")})
    classes = rules.decide(probabilities, data.inputs.features, list(data.inputs.feature_names)).classes
    by_record = labels_by_record(data, classes)
    return lambda record: by_record[record.name]


def summarize(report: RegionReport) -> dict:
    """V and S run Se/+P per length category and episode/duration Se/+P of VT, bigeminy and AF."""
    out = {}
    for family in ("ventricular", "supraventricular"):
        runs = report.runs(family)
        for category in ("couplet", "short", "long"):
            out[f"{family[0].upper()}_{category}"] = (runs.sensitivity_of(category), runs.predictivity_of(category))
    for name in EPISODES:
        c = report.episodes(name)
        out[name] = (c.episode_sensitivity, c.episode_predictivity, c.duration_sensitivity, c.duration_predictivity)
    return out


def percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.1f}"


def format_row(labels: str, setting: str, figures: dict) -> str:
    runs = [f"{percent(figures[k][0])}/{percent(figures[k][1])}" for k in
            ("V_couplet", "V_short", "V_long", "S_short", "S_long")]
    episodes = [f"{percent(figures[n][0])}/{percent(figures[n][1])}" for n in ("vt", "bigeminy")]
    af = f"{percent(figures['af'][2])}/{percent(figures['af'][3])}"
    return f"| {labels} | {setting} | " + " | ".join(runs + episodes + [af]) + " |"


def parse_study_args(description: str, argv=None) -> tuple[Path, dict]:
    """``--data-dir`` and ``--config`` of a DS1 region study: the data folder and the two labellers by name."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "configs" / "bundled.toml")
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)
    return data_dir, {"reference": label_with_reference, "oof": build_oof_labeler(data_dir, args.config)}


def main(argv=None) -> int:
    data_dir, labelers = parse_study_args(__doc__.splitlines()[0], argv)
    results = {}
    print("| labels | sparing | V couplet Se/+P | V short | V long | S short | S long | VT episodes | "
          "bigeminy episodes | AF duration |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for labels, labeler in labelers.items():
        for name, quality in SETTINGS.items():
            report = evaluate_regions(data_dir, list(DS1), labels=labels, labeler=labeler, quality=quality)
            figures = summarize(report)
            results[f"{labels} / {name}"] = figures
            print(format_row(labels, name, figures), flush=True)
    write_results(RESULTS, {"records": list(DS1), "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
