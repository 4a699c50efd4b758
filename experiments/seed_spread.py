"""How much the bundled configuration's DS2 figures move with the training seed: a spread for the model card.

The bundled model is one training of ``configs/bundled.toml`` (seed 0, on an earlier machine; trainings are not
bit-reproducible across machines). Row AA of EXPERIMENTS.md showed DS1 nested scores moving by up to 0.04 from one
seed to another, so the card's DS2 figures are one draw. Here the same configuration is trained afresh from each
seed with the product's own commands (``ecg train --config FILE --save-to DIR`` into a throw-away MLflow folder, then
``ecg evaluate --model DIR/model.keras --split ds2 --out DIR``) and the gross DS2 figures of each are collected, both
ways, beside the bundled model's.

This reads DS2, so **nothing may be chosen from it**: not the seed, not the configuration. The bundled model stays
what it is whatever these figures say (decided before the first run, session 18); they only say how far one training
is from another.

With ``--regions`` each model's DS2 event figures are collected as well (``ecg evaluate-regions --split ds2 --labels
model``: V runs, and VT, bigeminy and AF+AFL over the records with that rhythm), for issue 4's statement of how far they
move between trainings (about 2 minutes a model more).

Usage: PYTHONPATH=. .venv/bin/python experiments/seed_spread.py [--seeds 0 1 2] [--work DIR] [--regions]
(about 6 minutes a seed on the Intel 2-core machine; results: experiments/results/seed_spread.json, which
``ecg bundle-model`` puts on the model card while the configuration is the card's)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from experiments.s_rule_study import BUNDLED_CONFIG, REPO_ROOT, write_results
from models.model_card import SEED_SPREAD, training_without_seed
from models.train import TrainingConfig

FIGURES = ("accuracy", "N_se", "S_se", "S_ppv", "V_se", "V_ppv", "F_se")
"""Gross figures kept per mode (``classification_report.json``)."""
MODES = ("reference", "end_to_end")
BUNDLED_REPORT = REPO_ROOT / "models" / "bundled" / "ds2_report" / "classification_report.json"


def seed_config_text(seed: int) -> str:
    """The bundled configuration with ``seed``, as TOML text (the keys ``ecg train`` reads)."""
    text = BUNDLED_CONFIG.read_text()
    values = tomllib.loads(text)
    if "seed" not in values:
        raise ValueError(f"{BUNDLED_CONFIG} has no seed key to change.")
    changed = "\n".join(f"seed = {seed}" if line.strip().startswith("seed =") else line
                        for line in text.splitlines()) + "\n"
    if tomllib.loads(changed) != values | {"seed": seed}:
        raise ValueError("Changing the seed changed other keys of the configuration.")
    return changed


def run_ecg(*args: str) -> None:
    """Run an ``ecg`` command of this checkout in a fresh process; fail loudly."""
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ecg {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def read_gross(report_path: Path) -> dict:
    """The gross figures of both modes, in %, from a ``classification_report.json``."""
    report = json.loads(report_path.read_text())
    return {mode: {key: round(100 * report["modes"][mode]["gross"][key], 1) for key in FIGURES} for mode in MODES}


def train_and_test(seed: int, work: Path) -> dict:
    """Train the bundled configuration from ``seed`` and return its gross DS2 figures. A seed already trained and
    tested in ``work`` (same configuration) is read back, not trained again, so an interrupted run resumes."""
    folder = work / f"seed{seed}"
    config, report = folder / f"bundled_seed{seed}.toml", folder / "ds2" / "classification_report.json"
    text = seed_config_text(seed)
    if report.exists() and config.exists() and config.read_text() == text:
        return read_gross(report)
    folder.mkdir(parents=True, exist_ok=True)
    config.write_text(text)
    run_ecg("train", "--config", str(config), "--mlruns", str(folder / "mlruns"), "--run-name", f"seed-spread-{seed}",
            "--save-to", str(folder / "model"))
    run_ecg("evaluate", "--model", str(folder / "model" / "model.keras"), "--split", "ds2", "--out",
            str(folder / "ds2"), "--mlruns", str(folder / "mlruns"))
    return read_gross(report)


REGION_FIGURES = (("V couplets", "ventricular_runs", "couplet"), ("V short runs", "ventricular_runs", "short"),
                  ("V long runs", "ventricular_runs", "long"), ("VT episodes, records with VT", "episodes", "vt"),
                  ("bigeminy episodes, records with bigeminy", "episodes", "bigeminy"),
                  ("AF+AFL duration, records with AF", "episodes", "af"))
"""Region figures kept per model: (name, group, kind) of ``regions_report.json``'s gross figures; Se and +P of runs
(all records) and episodes (records with the rhythm), duration Se and +P of AF+AFL."""


def read_regions(report_path: Path) -> dict:
    """Issue 4's DS2 figures, in %, from a ``regions_report.json``."""
    report = json.loads(report_path.read_text())
    rows = {}
    for name, group, kind in REGION_FIGURES:
        gross = report["gross"]
        figures = gross[group][kind] if group != "episodes" else gross["episodes_records_with_rhythm"][kind]
        if kind == "af":
            keys = ("duration_sensitivity", "duration_positive_predictivity")
        elif group == "episodes":
            keys = ("episode_sensitivity", "episode_positive_predictivity")
        else:
            keys = ("sensitivity", "positive_predictivity")
        rows[name] = [None if figures[k] is None else round(100 * figures[k], 1) for k in keys]
    return rows


def regions_of(model: Path, out: Path) -> dict:
    """DS2 region figures of ``model`` (``ecg evaluate-regions`` into ``out``; read back when already there)."""
    report = out / "regions_report.json"
    if not report.exists():
        run_ecg("evaluate-regions", "--split", "ds2", "--labels", "model", "--model", str(model), "--out", str(out))
    return read_regions(report)


def summarise_spread(rows: dict) -> dict:
    """Per mode and figure, the lowest and highest value over the fresh trainings."""
    fresh = [r for name, r in rows.items() if name != "bundled"]
    return {mode: {key: [min(r[mode][key] for r in fresh), max(r[mode][key] for r in fresh)] for key in FIGURES}
            for mode in MODES}


def summarise_region_spread(regions: dict) -> dict:
    """Per region figure, the lowest and highest Se and +P over the fresh trainings (figures without events left
    out)."""
    fresh = [r for name, r in regions.items() if name != "bundled"]

    def span(name: str, i: int) -> list[float]:
        values = [r[name][i] for r in fresh if r[name][i] is not None]
        return [min(values), max(values)]

    return {name: [span(name, 0), span(name, 1)] for name in regions["bundled"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--work", type=Path, default=None,
                        help="Folder for the trainings (default: a temporary one); seeds already done there are read.")
    parser.add_argument("--regions", action="store_true", help="also each model's DS2 region figures (issue 4)")
    args = parser.parse_args(argv)
    regions = {}
    with tempfile.TemporaryDirectory(prefix="seed_spread_") as scratch:
        work = args.work or Path(scratch)
        rows = {"bundled": read_gross(BUNDLED_REPORT)}
        if args.regions:
            regions["bundled"] = regions_of(BUNDLED_REPORT.parents[1] / "model.keras", work / "bundled_regions")
        for seed in args.seeds:
            rows[f"seed {seed}"] = train_and_test(seed, work)
            print(f"seed {seed}: " + json.dumps(rows[f"seed {seed}"]), flush=True)
            if args.regions:
                folder = work / f"seed{seed}"
                regions[f"seed {seed}"] = regions_of(folder / "model" / "model.keras", folder / "regions")
                print(f"seed {seed} regions: " + json.dumps(regions[f"seed {seed}"]), flush=True)
    spread = summarise_spread(rows)
    print("figures (%) | " + " | ".join(f"{name}" for name in rows))
    for mode in MODES:
        for key in FIGURES:
            print(f"{mode} {key} | " + " | ".join(f"{r[mode][key]:.1f}" for r in rows.values()))
    extra = {}
    if regions:
        extra = {"regions_ds2": regions, "regions_fresh_range": summarise_region_spread(regions)}
        for name, values in extra["regions_fresh_range"].items():
            print(f"{name}: Se {values[0][0]:.1f}-{values[0][1]:.1f}, +P {values[1][0]:.1f}-{values[1][1]:.1f}")
    training = TrainingConfig.from_dict(tomllib.loads(BUNDLED_CONFIG.read_text())).to_dict()
    write_results(SEED_SPREAD, {"configuration": BUNDLED_CONFIG.name, "seeds": args.seeds, "gross_ds2": rows,
                                "fresh_range": spread, "training": training_without_seed(training), **extra})
    return 0


if __name__ == "__main__":
    sys.exit(main())
