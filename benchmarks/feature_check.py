"""Which beat-context features help, checked inside DS1 only with linear classifiers (no network).

Leave-one-patient-out cross-validation over the 22 DS1 records (each fold trains on 21 patients
and predicts the held-out one; predictions are pooled into gross figures), on reference beat
positions, with feature sets added one group at a time:

    (a) RR features (pipeline.rr)  (b) + morphology  (c) + rhythm irregularity  (d) + P wave

plus two ablations: RR + P wave alone, and (d) with the P wave measured without subtracting the
preceding T wave. Two classifiers, each a few lines of NumPy/SciPy:

- ``lda``: linear discriminants with a pooled, slightly shrunk covariance and equal class priors
  (de Chazal et al. 2004 used linear discriminants).
- ``logreg``: multinomial logistic regression, L2-penalised, square-root inverse-frequency class
  weights (``../shared/CLASSIFIER-NOTES.md``, lesson 3), fitted with L-BFGS.

The positive RR features (seconds and ratios) enter as logarithms (ratios are skewed; linear
models need it: LDA S Se on RR alone went from 10 % to 47 % with the logarithm). Features are
standardised on each training fold and clipped to +-8 standard deviations. Classes N, S, V, F;
the 8 Q beats of DS1 are left out of training and scoring. DS2 is never read.

Also reported, with no training at all: false S calls in the DS1 atrial-fibrillation records
(201, 203); each feature's pooled ROC AUC for S vs N and V vs N; and the AUC of the P-wave
features for S vs N within strata of prematurity (pre-RR / local median RR), with and without
the T-wave subtraction, which tells whether the P wave adds anything beyond prematurity.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/feature_check.py   # writes benchmarks/results/feature_check.json
    PYTHONPATH=. .venv/bin/python benchmarks/feature_check.py --classifiers lda

References
----------
de Chazal P, O'Dwyer M, Reilly RB, IEEE Trans Biomed Eng 51(7):1196-1206, 2004 (LDA, DS1/DS2).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import scipy.optimize
import scipy.special
import scipy.stats

from benchmarks.common import CACHE_DIR, default_data_dir, format_table, pct, write_results
from pipeline.datasets import BeatDataset, build_split_dataset
from pipeline.features import FeatureSettings, feature_group
from pipeline.labels import AAMI_CLASSES

CLASSES = ("N", "S", "V", "F")
AF_RECORDS = ("201", "203")
FEATURE_SETS = (
    ("a_rr", ("rr",)),
    ("b_rr_morphology", ("rr", "morphology")),
    ("c_rr_morphology_rhythm", ("rr", "morphology", "rhythm")),
    ("d_all", ("rr", "morphology", "rhythm", "p_wave")),
    ("rr_p_wave", ("rr", "p_wave")),
)
NO_T_SUBTRACTION = "d_all_p_without_t_subtraction"
PREMATURITY_STRATA = ((0.0, 0.85), (0.85, 0.95), (0.95, np.inf))
P_FEATURES_RANKED = ("p_corr_lead0", "p_corr_lead1", "p_corr_best", "p_amp_rel_lead0", "p_amp_rel_lead1",
                     "p_energy_log2_ratio_lead0", "p_lag_ms")


def main() -> None:
    args = parse_arguments()
    start = time.perf_counter()
    data = load_ds1(args.data_dir, FeatureSettings())
    no_t = load_ds1(args.data_dir, FeatureSettings(subtract_previous_t=False))
    keep = np.isin(data.labels, [AAMI_CLASSES.index(c) for c in CLASSES])
    labels = remap_labels(data.labels[keep])
    groups = data.patient_ids()[keep]
    matrices = {name: log_rr_features(*select_features(data, parts))[keep] for name, parts in FEATURE_SETS}
    matrices[NO_T_SUBTRACTION] = log_rr_features(*select_features(no_t, ("rr", "morphology", "rhythm", "p_wave")))[keep]
    results = {}
    for classifier in args.classifiers:
        for name, x in matrices.items():
            predicted = cross_validate(x, labels, groups, CLASSIFIERS[classifier])
            results.setdefault(classifier, {})[name] = summarise(labels, predicted, groups, x.shape[1])
            print(f"{classifier:7s} {name:32s} {describe(results[classifier][name])}", flush=True)
    x_all, names = select_features(data, ("rr", "morphology", "rhythm", "p_wave"))
    payload = {
        "protocol": "DS1 only, leave-one-patient-out CV (22 folds), reference beat positions, gross counts; "
                    "classes N/S/V/F (Q left out); DS2 never used",
        "n_beats": int(keep.sum()), "class_counts": {c: int((labels == k).sum()) for k, c in enumerate(CLASSES)},
        "feature_sets": {name: list(parts) for name, parts in FEATURE_SETS} | {
            NO_T_SUBTRACTION: ["rr", "morphology", "rhythm", "p_wave (no T subtraction)"]},
        "results": results,
        "feature_auc": rank_features(x_all[keep], labels, names),
        "p_wave_auc_s_vs_n_by_prematurity": {
            "with_t_subtraction": rank_p_by_prematurity(data, keep, labels),
            "without_t_subtraction": rank_p_by_prematurity(no_t, keep, labels)},
        "feature_settings": FeatureSettings().to_dict(),
        "seconds": round(time.perf_counter() - start, 1),
    }
    print_tables(results)
    print(f"results: {write_results('feature_check', payload)}")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--classifiers", default="lda,logreg",
                        type=lambda text: tuple(t.strip() for t in text.split(",") if t.strip()))
    args = parser.parse_args()
    unknown = set(args.classifiers) - set(CLASSIFIERS)
    if unknown:
        parser.error(f"received classifiers {sorted(unknown)}; expected some of {sorted(CLASSIFIERS)}")
    return args


def load_ds1(data_dir: Path, features: FeatureSettings) -> BeatDataset:
    """DS1 beats with their context features (cached under ``.cache/datasets``)."""
    return build_split_dataset("ds1", data_dir, CACHE_DIR / "datasets", features=features, progress=False)


def remap_labels(labels: np.ndarray) -> np.ndarray:
    """AAMI class indices -> indices into :data:`CLASSES`."""
    mapping = {AAMI_CLASSES.index(c): k for k, c in enumerate(CLASSES)}
    return np.vectorize(mapping.get)(labels).astype(np.int64)


def select_features(data: BeatDataset, parts: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Columns of the named groups: ``"rr"`` (RR features) and the context groups of :func:`feature_group`."""
    columns, names = [], []
    if "rr" in parts:
        columns.append(data.rr_features)
        names += list(data.rr_feature_names)
    chosen = [j for j, n in enumerate(data.context_feature_names) if feature_group(n) in parts]
    columns.append(data.context_features[:, chosen])
    names += [data.context_feature_names[j] for j in chosen]
    return np.concatenate(columns, axis=1).astype(np.float64), names


def log_rr_features(x: np.ndarray, names: list[str]) -> np.ndarray:
    """Copy of ``x`` with the positive RR features (``rr_*_s``, ``rr_*_ratio``) replaced by their logarithms."""
    x = x.copy()
    for j, name in enumerate(names):
        if name.startswith("rr_") and (name.endswith("_s") or name.endswith("_ratio")):
            x[:, j] = np.log(np.maximum(x[:, j], 1e-3))
    return x


# --------------------------------------------------------------------------------------------- classifiers


def fit_lda(x: np.ndarray, y: np.ndarray, n_classes: int, shrinkage: float = 1e-3):
    """Linear discriminants, pooled covariance shrunk towards its mean variance, equal priors."""
    means = np.stack([x[y == k].mean(axis=0) for k in range(n_classes)])
    centred = x - means[y]
    covariance = centred.T @ centred / max(len(x) - n_classes, 1)
    covariance += shrinkage * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
    weights = np.linalg.solve(covariance, means.T)
    bias = -0.5 * np.einsum("kd,dk->k", means, weights)
    return lambda z: z @ weights + bias


def fit_logistic(x: np.ndarray, y: np.ndarray, n_classes: int, l2: float = 1e-3):
    """Multinomial logistic regression with square-root inverse-frequency class weights (L-BFGS)."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    class_weight = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1.0)), 0.0)
    sample_weight = class_weight[y] / class_weight[y].sum()
    design = np.hstack([x, np.ones((len(x), 1))])
    one_hot = np.eye(n_classes)[y]

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(design.shape[1], n_classes)
        log_p = scipy.special.log_softmax(design @ w, axis=1)
        value = -(sample_weight * (log_p * one_hot).sum(axis=1)).sum() + 0.5 * l2 * (w[:-1] ** 2).sum()
        gradient = design.T @ ((np.exp(log_p) - one_hot) * sample_weight[:, None])
        gradient[:-1] += l2 * w[:-1]
        return value, gradient.ravel()

    start = np.zeros(design.shape[1] * n_classes)
    fitted = scipy.optimize.minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    w = fitted.x.reshape(design.shape[1], n_classes)
    return lambda z: np.hstack([z, np.ones((len(z), 1))]) @ w


CLASSIFIERS = {"lda": fit_lda, "logreg": fit_logistic}


def cross_validate(x: np.ndarray, y: np.ndarray, groups: np.ndarray, fit) -> np.ndarray:
    """Leave-one-group-out predictions: each group predicted by a model fitted on all the others."""
    predicted = np.empty(len(y), np.int64)
    for group in np.unique(groups):
        test = groups == group
        mean, std = x[~test].mean(axis=0), x[~test].std(axis=0)
        std = np.where(std > 1e-9, std, 1.0)
        scale = lambda z: np.clip((z - mean) / std, -8.0, 8.0)  # noqa: E731
        model = fit(scale(x[~test]), y[~test], len(CLASSES))
        predicted[test] = model(scale(x[test])).argmax(axis=1)
    return predicted


# --------------------------------------------------------------------------------------------- scoring


def summarise(y: np.ndarray, predicted: np.ndarray, groups: np.ndarray, n_features: int) -> dict:
    """Gross Se/+P per class, accuracy, S and V F1, and false S calls in the AF records."""
    confusion = np.zeros((len(CLASSES), len(CLASSES)), np.int64)
    np.add.at(confusion, (y, predicted), 1)
    out = {"n_features": n_features, "accuracy_pct": pct(np.trace(confusion) / confusion.sum())}
    for k, c in enumerate(CLASSES):
        tp, reference, called = confusion[k, k], confusion[k].sum(), confusion[:, k].sum()
        se = tp / reference if reference else float("nan")
        ppv = tp / called if called else float("nan")
        out[c] = {"se_pct": pct(se), "ppv_pct": pct(ppv), "f1": round(2 * tp / (reference + called), 4)}
    af = np.isin(groups, AF_RECORDS)
    s, n = CLASSES.index("S"), CLASSES.index("N")
    out["false_s_in_af_records"] = int(((predicted == s) & (y != s) & af).sum())
    out["confusion_rows_reference_cols_predicted"] = confusion.tolist()
    out["n_beats_called_s_among_n"] = int(((predicted == s) & (y == n)).sum())
    return out


def rank_features(x: np.ndarray, y: np.ndarray, names: list[str]) -> dict:
    """Pooled ROC AUC of each feature for S vs N and V vs N (0.5 = useless; < 0.5 = lower in the class)."""
    out = {}
    for cls in ("S", "V"):
        mask = np.isin(y, [CLASSES.index("N"), CLASSES.index(cls)])
        positive = y[mask] == CLASSES.index(cls)
        ranks = scipy.stats.rankdata(x[mask], axis=0)
        n_pos, n_neg = positive.sum(), (~positive).sum()
        auc = (ranks[positive].sum(axis=0) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
        order = np.argsort(-np.abs(auc - 0.5))
        out[f"{cls}_vs_N"] = {names[j]: round(float(auc[j]), 3) for j in order}
    return out


def rank_p_by_prematurity(data: BeatDataset, keep: np.ndarray, labels: np.ndarray) -> dict:
    """AUC of the P-wave features for S vs N among beats of similar prematurity (pre-RR / local median)."""
    prematurity = data.rr_features[keep, data.rr_feature_names.index("rr_pre_local_ratio")]
    x = data.context_features[keep]
    out = {}
    for low, high in PREMATURITY_STRATA:
        mask = (prematurity >= low) & (prematurity < high) & np.isin(labels, [0, 1])
        positive = labels[mask] == CLASSES.index("S")
        columns = [data.context_feature_names.index(name) for name in P_FEATURES_RANKED]
        ranks = scipy.stats.rankdata(x[mask][:, columns], axis=0)
        n_pos, n_neg = positive.sum(), (~positive).sum()
        auc = (ranks[positive].sum(axis=0) - n_pos * (n_pos + 1) / 2) / max(n_pos * n_neg, 1)
        out[f"pre_local_ratio_{low:g}_to_{high:g}"] = {
            "n_N": int(n_neg), "n_S": int(n_pos),
            "auc": {name: round(float(a), 3) for name, a in zip(P_FEATURES_RANKED, auc)}}
    return out


def describe(result: dict) -> str:
    return (f"S {result['S']['se_pct']}/{result['S']['ppv_pct']}  V {result['V']['se_pct']}/{result['V']['ppv_pct']}"
            f"  N Se {result['N']['se_pct']}  acc {result['accuracy_pct']}"
            f"  falseS(AF) {result['false_s_in_af_records']}")


def print_tables(results: dict) -> None:
    headers = ["classifier", "features", "k", "S Se", "S +P", "S F1", "V Se", "V +P", "V F1", "N Se", "acc",
               "false S in 201/203"]
    rows = [[classifier, name, r["n_features"], r["S"]["se_pct"], r["S"]["ppv_pct"], r["S"]["f1"], r["V"]["se_pct"],
             r["V"]["ppv_pct"], r["V"]["f1"], r["N"]["se_pct"], r["accuracy_pct"], r["false_s_in_af_records"]]
            for classifier, by_set in results.items() for name, r in by_set.items()]
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
