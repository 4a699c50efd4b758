"""Patient-wise validation folds inside DS1 and class weights.

Folds are made of whole records (one patient each in DS1, records 201 and 202 being the same
patient but on opposite sides of the de Chazal split), balanced so that every fold holds some
supraventricular and ventricular beats: in DS1, S beats come from a handful of patients.

References
----------
de Chazal P, O'Dwyer M, Reilly RB, IEEE Trans Biomed Eng 51(7):1196-1206, 2004 (inter-patient
evaluation). Cui Y, Jia M, Lin TY, Song Y, Belongie S, "Class-balanced loss based on effective
number of samples", CVPR 2019 (softened inverse-frequency weights).
"""

from __future__ import annotations

import numpy as np

from pipeline.labels import AAMI_CLASSES

MINORITY_ORDER = (1, 2, 3)
"""Classes used to balance folds, in priority order: S, V, F (indices of AAMI_CLASSES)."""


def assign_patient_folds(record_names: np.ndarray, labels: np.ndarray, n_folds: int) -> dict[str, int]:
    """Assign each record to one of ``n_folds`` folds, balancing S, then V, then F beats.

    Records are placed greedily, largest minority-class count first, into the fold that holds
    the fewest beats of that class so far (ties: fewest beats overall). Deterministic.

    Parameters
    ----------
    record_names : np.ndarray
        Record name of each beat.
    labels : np.ndarray
        Class index of each beat.
    n_folds : int
        Number of folds (at least 2, at most the number of records).

    Returns
    -------
    dict
        Record name -> fold index.
    """
    records = sorted(set(np.asarray(record_names).tolist()))
    if not 2 <= n_folds <= len(records):
        raise ValueError(f"Received n_folds={n_folds}; expected 2 to {len(records)} (the number of records).")
    counts = {r: np.bincount(labels[record_names == r], minlength=5) for r in records}
    order = sorted(records, key=lambda r: tuple(-counts[r][k] for k in MINORITY_ORDER) + (r,))
    totals = np.zeros((n_folds, 5), dtype=np.int64)
    folds: dict[str, int] = {}
    for record in order:
        key_class = next((k for k in MINORITY_ORDER if counts[record][k] > 0), None)
        load = totals[:, key_class] if key_class is not None else np.zeros(n_folds)
        fold = int(np.lexsort((np.arange(n_folds), totals.sum(axis=1), load))[0])
        folds[record] = fold
        totals[fold] += counts[record]
    return folds


def compute_class_weights(labels: np.ndarray, n_classes: int = 5, power: float = 0.5,
                          max_ratio: float = 10.0) -> np.ndarray:
    """Per-class loss weights proportional to ``frequency ** -power`` (0.5: square-root inverse).

    No class weighs more than ``max_ratio`` times the most frequent class (DS1 holds 8 Q beats:
    an uncapped weight would make the network call Q on any odd beat). Weights are scaled so
    that the average weight over the training beats is 1; absent classes get weight 0.
    """
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = np.zeros(n_classes)
    present = counts > 0
    weights[present] = counts[present] ** -power
    weights = np.minimum(weights, max_ratio * weights[present].min())
    return weights / (weights[labels].mean() if labels.size else 1.0)


V_CLASS = AAMI_CLASSES.index("V")


def find_ventricular_run_beats(labels: np.ndarray, record_names: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """True for the V beats whose previous or next labelled beat of the same record is V too: the beats of
    ventricular couplets and runs. Rows may come in any order and repeat a beat (one-lead copies share their beat's
    record and sample): runs are read over the distinct beats in time order.

    >>> labels = np.array([0, 2, 2, 0, 2, 0, 2, 2, 2, 2])
    >>> names = np.array(list("aaaaaabbba") )
    >>> samples = np.array([1, 2, 3, 4, 5, 6, 1, 2, 3, 2])
    >>> find_ventricular_run_beats(labels, names, samples).astype(int).tolist()
    [0, 1, 1, 0, 0, 0, 1, 1, 1, 1]
    """
    keys, index = np.unique(np.rec.fromarrays([record_names, samples]), return_index=True)
    beat = np.searchsorted(keys, np.rec.fromarrays([record_names, samples]))
    distinct_v, distinct_names = labels[index] == V_CLASS, record_names[index]
    same_record = distinct_names[1:] == distinct_names[:-1]
    pair = distinct_v[1:] & distinct_v[:-1] & same_record
    member = np.zeros(len(keys), bool)
    member[1:] |= pair
    member[:-1] |= pair
    return member[beat]


def weight_ventricular_runs(weights: np.ndarray, labels: np.ndarray, runs: np.ndarray, factor: float) -> np.ndarray:
    """Per-beat ``weights`` with the V beats of ``runs`` weighing ``factor`` times the other V beats, the V class's
    total weight unchanged.

    >>> w = weight_ventricular_runs(np.full(4, 2.0), np.array([0, 2, 2, 2]), np.array([0, 1, 1, 0], bool), 3.0)
    >>> w.round(3).tolist(), round(float(w[1:].sum()), 9)
    ([2.0, 2.571, 2.571, 0.857], 6.0)
    """
    v = labels == V_CLASS
    share = np.where(runs & v, factor, 1.0)
    if not v.any():
        return weights.astype(np.float64)
    scale = weights[v].sum() / (weights[v] * share[v]).sum()
    return np.where(v, weights * share * scale, weights)
