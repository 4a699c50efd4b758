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
