"""Study: a ventricular-neighbour rule for missed beats of ventricular runs, on DS1 out-of-fold predictions only.

Issue 4's V-run figures end to end (REGIONS.md) are far below those on reference labels: a couplet or run is
lost when the classifier misses one of its beats. This study first measures, on DS1 out-of-fold (OOF)
predictions of the bundled configuration, how the beats of the reference V runs are called, then tries a
rule applied after the network (and after the atrial rule): a beat called N or S becomes V when

- a neighbour (the previous or next beat of the same record) is called V by the network,
- its QRS matches that neighbour's QRS (``neighbour_corr >= corr_min``: mean over the leads of the
  Pearson correlation of the scaled beat windows within +-``half_ms`` of R),
- its QRS does not match the record's dominant QRS (``qrs_corr_lead0 <= template_max``),
- and the network gives it some V probability (``p(V) >= p_min``).

Every setting is scored on DS1 OOF: gross beat Se/+P per class and the selection score, and, for the best
settings, EC57 run-by-run V couplet/short/long Se/+P and VT/bigeminy episodes from the region pipeline with
the OOF classes on the reference beat positions (``pipeline.region_eval`` with a labeller built here).
DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/v_run_study.py [--config configs/bundled.toml] [--top 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import tomllib
from pathlib import Path

import numpy as np

from app.config import require_data_dir, resolve_cache_dir
from experiments.s_rule_study import load_oof, write_results
from models.atrial_rule import DecisionRules
from models.train import TrainingConfig, compute_selection_score
from models.training_data import load_labelled_inputs
from pipeline.labels import AAMI_CLASSES
from pipeline.region_eval import evaluate_regions
from pipeline.scoring import count_classes
from pipeline.splits import DS1

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "experiments" / "results" / "v_run_study.json"
N, S, V, F = 0, 1, 2, 3
R_INDEX = 90  # R peak in the 252-sample window (pre_s 0.25 s at 360 Hz)
WINDOW_FS_HZ = 360.0
GRID = {"corr_min": (0.8, 0.9, 0.95), "template_max": (0.6, 0.8, 0.9), "p_min": (0.0, 0.05, 0.2),
        "half_ms": (60.0,)}


def neighbour_correlations(waveform: np.ndarray, record_names: np.ndarray, half_ms: float) -> np.ndarray:
    """(n, 2) mean-over-leads QRS correlation of each beat with its previous and next beat (NaN at record ends)."""
    half = int(round(half_ms * WINDOW_FS_HZ / 1000.0))
    qrs = waveform[:, R_INDEX - half:R_INDEX + half + 1, :2].astype(np.float64)
    qrs = qrs - qrs.mean(axis=1, keepdims=True)
    norm = np.sqrt((qrs ** 2).sum(axis=1))  # (n, leads)
    out = np.full((len(qrs), 2), np.nan)
    same = record_names[1:] == record_names[:-1]
    dot = (qrs[1:] * qrs[:-1]).sum(axis=1)
    denominator = norm[1:] * norm[:-1]
    valid = denominator > 1e-9
    corr = np.where(valid, dot / np.where(valid, denominator, 1.0), np.nan)
    mean = np.nanmean(np.where(valid, corr, np.nan), axis=1) if corr.size else np.zeros(0)
    mean = np.where(same, mean, np.nan)
    out[1:, 0] = mean  # with the previous beat
    out[:-1, 1] = mean  # with the next beat
    return out


def apply_rule(classes: np.ndarray, network: np.ndarray, probabilities: np.ndarray, neighbours: np.ndarray,
               template_corr: np.ndarray, record_names: np.ndarray, corr_min: float, template_max: float,
               p_min: float) -> np.ndarray:
    """``classes`` with N/S beats next to a network-V beat of matching QRS relabelled V."""
    is_v = network == V
    same_prev = np.r_[False, record_names[1:] == record_names[:-1]]
    same_next = np.r_[record_names[:-1] == record_names[1:], False]
    prev_v = np.r_[False, is_v[:-1]] & same_prev & (neighbours[:, 0] >= corr_min)
    next_v = np.r_[is_v[1:], False] & same_next & (neighbours[:, 1] >= corr_min)
    candidate = ((classes == N) | (classes == S)) & (prev_v | next_v) & (template_corr <= template_max)
    candidate &= probabilities[:, V] >= p_min
    return np.where(candidate, V, classes)


def score_beats(labels: np.ndarray, predicted: np.ndarray) -> dict:
    counts = count_classes(labels, predicted)
    out = {"selection_score": compute_selection_score(counts)}
    for k, name in ((N, "N"), (S, "S"), (V, "V")):
        out[f"{name}_se"] = counts.sensitivity(k)
        out[f"{name}_ppv"] = counts.positive_predictivity(k)
    return out


def describe_reference_runs(labels: np.ndarray, predicted: np.ndarray, record_names: np.ndarray) -> dict:
    """How the beats of reference V runs (>= 2 consecutive V/F) are called: counts per (position, class)."""
    out: dict[str, int] = {}
    ventricular = (labels == V) | (labels == F)
    i = 0
    while i < len(labels):
        if not ventricular[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(labels) and ventricular[j + 1] and record_names[j + 1] == record_names[i]:
            j += 1
        if j > i:
            for k in range(i, j + 1):
                position = "first" if k == i else ("last" if k == j else "middle")
                key = f"{position}:{AAMI_CLASSES[predicted[k]]}"
                out[key] = out.get(key, 0) + 1
        i = j + 1
    return dict(sorted(out.items()))


def region_figures(data_dir: Path, samples: np.ndarray, predicted: np.ndarray, record_names: np.ndarray) -> dict:
    """EC57 V-run and rhythm-episode figures, and the pause counts, of the region pipeline with these classes on DS1 (from
    5 minutes)."""
    symbols = np.asarray(AAMI_CLASSES)
    by_record = {str(name): (samples[record_names == name], symbols[predicted[record_names == name]])
                 for name in np.unique(record_names)}
    report = evaluate_regions(data_dir, sorted(by_record), labels="ds1-oof",
                              labeler=lambda record: by_record[record.name])
    runs = report.runs("ventricular")
    out = {}
    for category in ("couplet", "short", "long"):
        tp_s, fn, tp_p, fp = runs.counts(category)
        out[f"V_{category}"] = {"se": runs.sensitivity_of(category), "ppv": runs.predictivity_of(category),
                                "reference": tp_s + fn, "test": tp_p + fp}
    for name in ("vt", "bigeminy", "vf"):
        c = report.episodes(name)
        out[name] = {"episode_se": c.episode_sensitivity, "episode_ppv": c.episode_predictivity,
                     "duration_se": c.duration_sensitivity, "duration_ppv": c.duration_predictivity}
    out["pauses"] = dataclasses.asdict(report.pauses())
    return out


def fmt_regions(figures: dict) -> str:
    runs = " ".join(f"{c} {100 * figures[f'V_{c}']['se']:.1f}/{100 * figures[f'V_{c}']['ppv']:.1f}"
                    f" ({figures[f'V_{c}']['reference']}/{figures[f'V_{c}']['test']})" for c in ("couplet", "short", "long"))
    episodes = " ".join(f"{n} {100 * figures[n]['episode_se']:.1f}/{100 * figures[n]['episode_ppv']:.1f}"
                        for n in ("vt", "bigeminy"))
    return f"V runs {runs} | episodes {episodes}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "configs" / "bundled.toml")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--top", type=int, default=3, help="settings scored with the region pipeline")
    args = parser.parse_args(argv)
    settings = tomllib.loads(args.config.read_text())
    config = TrainingConfig.from_dict(settings)
    data_dir = require_data_dir(args.data_dir)
    data = load_labelled_inputs(DS1, data_dir, resolve_cache_dir() / "model_inputs", config.inputs, progress=False)
    probabilities = load_oof(config, data)
    names = list(data.inputs.feature_names)
    rules = DecisionRules.from_settings({"atrial_rule": settings.get("atrial_rule")})
    classes = rules.decide(probabilities, data.inputs.features, names).classes
    network = np.argmax(probabilities, axis=1)
    template_corr = data.inputs.features[:, names.index("qrs_corr_lead0")]
    record_names = np.asarray(data.record_names)
    print("reference V runs (>= 2 beats), OOF calls:", describe_reference_runs(data.labels, classes, record_names))
    baseline = score_beats(data.labels, classes)
    rows = []
    for half_ms in GRID["half_ms"]:
        neighbours = neighbour_correlations(data.inputs.waveform, record_names, half_ms)
        for corr_min, template_max, p_min in itertools.product(GRID["corr_min"], GRID["template_max"],
                                                                GRID["p_min"]):
            predicted = apply_rule(classes, network, probabilities, neighbours, template_corr, record_names,
                                   corr_min, template_max, p_min)
            rows.append({"corr_min": corr_min, "template_max": template_max, "p_min": p_min, "half_ms": half_ms,
                         "relabelled": int((predicted != classes).sum()),
                         **score_beats(data.labels, predicted)})
    rows.sort(key=lambda r: -r["selection_score"])
    print(f"baseline: {fmt(baseline)}")
    for row in rows[:10]:
        print(fmt(row))
    samples = np.asarray(data.samples)
    baseline["regions"] = region_figures(data_dir, samples, classes, record_names)
    print(f"baseline regions: {fmt_regions(baseline['regions'])}", flush=True)
    for row in rows[:args.top]:
        neighbours = neighbour_correlations(data.inputs.waveform, record_names, row["half_ms"])
        predicted = apply_rule(classes, network, probabilities, neighbours, template_corr, record_names,
                               row["corr_min"], row["template_max"], row["p_min"])
        row["regions"] = region_figures(data_dir, samples, predicted, record_names)
        print(f"{fmt(row)}\n    regions: {fmt_regions(row['regions'])}", flush=True)
    write_results(RESULTS, {"config": str(args.config), "baseline": baseline, "grid": GRID, "ranked": rows})
    return 0


def fmt(row: dict) -> str:
    keys = [k for k in ("corr_min", "template_max", "p_min", "relabelled") if k in row]
    head = " ".join(f"{k}={row[k]}" for k in keys)
    return (f"{head} | score {row['selection_score']:.3f} V {100 * row['V_se']:.1f}/{100 * row['V_ppv']:.1f} "
            f"S {100 * row['S_se']:.1f}/{100 * row['S_ppv']:.1f} N Se {100 * row['N_se']:.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
