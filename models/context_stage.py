"""Beat-context stage: divides the network's supraventricular probability between N and S from the beats around.

The network classifies each beat from its own window and features. Whether a narrow beat is sinus (N) or atrial (S)
often shows only in its neighbours: a beat in a run of S calls, a premature beat between two sinus beats whose P wave
half-matches, a record whose sinus beats the network already calls with confidence. This stage reads, per beat, the
network's log-probabilities for the beat and the beats at offsets -2, -1, +1 and +2 of the same recording, the beat's
features, and its neighbours' relative RR, QRS correlations and QRS width difference (:func:`context_inputs`), and
gives the probability that a supraventricular beat is S rather than N. The network's N + S probability is then divided
in that ratio; p(V), p(F) and p(Q) stay the network's (:meth:`ContextStage.split`). The decision rules of
:mod:`models.atrial_rule` run after it as before.

The stage is a histogram gradient-boosting classifier (scikit-learn) fitted on DS1 beats labelled N or S, with the
network's **nested out-of-fold** probabilities (:func:`models.train.nested_oof_probabilities`: for each patient, the
probabilities of an ensemble that never saw them, as the delivered ensemble produces on a new patient), classes
weighted as the network's training. Chosen on DS1 nested cross-validation at two seeds and confirmed at a third
(``experiments/context_split_study.py``, EXPERIMENTS.md row AH).

It is saved in the model's settings (``context_stage``) as a skops archive (scikit-learn's secure format: no pickle),
base64-encoded with its SHA-256; loading refuses any object type outside :data:`TRUSTED_TYPES`, as Keras's safe mode
refuses unknown code.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from threadpoolctl import threadpool_limits

from models.errors import CorruptModelError
from pipeline.labels import AAMI_CLASSES

SETTINGS_KEY = "context_stage"
OFFSETS = (-2, -1, 1, 2)
"""Neighbours read, in beats, within the same recording."""
NEIGHBOUR_FEATURES = ("rr_pre_local_ratio", "qrs_corr_lead0", "qrs_corr_lead1", "qrs_width_diff_ms")
"""Features read from each neighbour (the beat's own features are all read)."""
TRUSTED_TYPES = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)
"""Types a saved stage may hold beyond skops's defaults (:func:`skops.io.get_untrusted_types`)."""
FORMAT = "skops"
PROBABILITY_FLOOR = 1e-4
_N, _S = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("S")


def context_inputs(probabilities: np.ndarray, features: np.ndarray, feature_names) -> np.ndarray:
    """One recording's stage rows (beats in time order): own log-probabilities, own features, then per neighbour
    offset its log-probabilities, its :data:`NEIGHBOUR_FEATURES` and a flag set past the recording's ends (where the
    neighbour's values are 0).

    >>> p = np.full((3, 5), 0.2); f = np.zeros((3, 43)); names = ["x"] * 39 + list(NEIGHBOUR_FEATURES)
    >>> context_inputs(p, f, names).shape
    (3, 88)
    """
    names = list(feature_names)
    missing = [n for n in NEIGHBOUR_FEATURES if n not in names]
    if missing:
        raise ValueError(f"Received features without {', '.join(missing)}; expected the model's feature set.")
    logp = np.log(np.clip(probabilities, PROBABILITY_FLOOR, 1.0))
    neighbour = features[:, [names.index(n) for n in NEIGHBOUR_FEATURES]]
    parts = [logp, features]
    n = len(probabilities)
    for offset in OFFSETS:
        index = np.arange(n) + offset
        inside = (index >= 0) & (index < n)
        clipped = np.clip(index, 0, max(n - 1, 0))
        parts += [np.where(inside[:, None], logp[clipped], 0.0), np.where(inside[:, None], neighbour[clipped], 0.0),
                  (~inside).astype(float)[:, None]]
    return np.concatenate(parts, axis=1)


def context_inputs_by_record(probabilities: np.ndarray, features: np.ndarray, feature_names,
                             record_names: np.ndarray) -> np.ndarray:
    """:func:`context_inputs` recording by recording over a beat table (each recording's beats contiguous, in
    time order)."""
    width = len(AAMI_CLASSES) * (1 + len(OFFSETS)) + features.shape[1] + len(OFFSETS) * (len(NEIGHBOUR_FEATURES) + 1)
    out = np.empty((len(probabilities), width))
    for name in dict.fromkeys(record_names.tolist()):
        rows = np.flatnonzero(record_names == name)
        out[rows] = context_inputs(probabilities[rows], features[rows], feature_names)
    return out


PREDICT_THREADS = 1
"""OpenMP threads of the stage's prediction (the same figures whatever their number: each beat's trees are summed in
one order). Gradient boosting's OpenMP threads wait for each other by spinning, and on the 2-core machine, with
anything else running, one hour of beats (5,000) took 0.04-0.6 s with two threads and 0.011 s with one; 50,000
beats 0.8-1.0 s and 0.2-0.25 s (session 65, measured while another job ran; the 0.6 s was a fifth of a beat edit on
a 24-h record)."""


@dataclass(frozen=True)
class ContextStage:
    """A fitted stage (module docstring)."""

    model: object
    """A fitted :class:`sklearn.ensemble.HistGradientBoostingClassifier`, classes False (N) and True (S)."""

    def probability_s(self, probabilities: np.ndarray, features: np.ndarray, feature_names) -> np.ndarray:
        """Per beat of one recording (time order), the probability that a supraventricular beat is S."""
        if len(probabilities) == 0:
            return np.empty(0)
        inputs = context_inputs(probabilities, features, feature_names)
        with threadpool_limits(limits=PREDICT_THREADS, user_api="openmp"):
            return self.model.predict_proba(inputs)[:, 1]

    def split(self, probabilities: np.ndarray, features: np.ndarray, feature_names) -> np.ndarray:
        """The network's probabilities with p(N) + p(S) divided as :meth:`probability_s` says (one recording, beats in
        time order); the other classes' unchanged. Float32, as the network's."""
        return split_supraventricular(probabilities, self.probability_s(probabilities, features, feature_names))

    def to_settings(self) -> dict:
        """What the model's settings keep: the skops archive, base64, and its SHA-256."""
        import skops.io

        archive = skops.io.dumps(self.model, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
        return {"format": FORMAT, "sha256": hashlib.sha256(archive).hexdigest(),
                "offsets": list(OFFSETS), "neighbour_features": list(NEIGHBOUR_FEATURES),
                "archive": base64.b64encode(archive).decode("ascii")}

    @classmethod
    def from_settings(cls, settings: dict) -> "ContextStage | None":
        """The stage saved with a model, or None when the model has none.

        Raises
        ------
        CorruptModelError
            The saved stage is damaged, of another format or layout, or holds object types outside
            :data:`TRUSTED_TYPES`.
        """
        saved = settings.get(SETTINGS_KEY)
        if not saved:
            return None
        if not isinstance(saved, dict) or saved.get("format") != FORMAT or "archive" not in saved:
            raise CorruptModelError(f"The model's {SETTINGS_KEY} settings are not a saved stage of format {FORMAT!r}. "
                                    "Restore the settings file or retrain the model.")
        if (tuple(saved.get("offsets", ())) != OFFSETS
                or tuple(saved.get("neighbour_features", ())) != NEIGHBOUR_FEATURES):
            raise CorruptModelError(f"The model's {SETTINGS_KEY} reads neighbours {saved.get('offsets')} and features "
                                    f"{saved.get('neighbour_features')}; this version reads {list(OFFSETS)} and "
                                    f"{list(NEIGHBOUR_FEATURES)}. Retrain the model with this version.")
        return cls(read_archive(saved["archive"], saved.get("sha256", "")))


@lru_cache(maxsize=4)
def read_archive(encoded: str, sha256: str):
    """The stage's classifier from its base64 skops archive, checked against ``sha256`` and :data:`TRUSTED_TYPES`
    (read once per process per archive: batch scoring loads the settings for every record)."""
    import skops.io

    try:
        archive = base64.b64decode(encoded, validate=True)
    except (ValueError, TypeError) as error:
        raise CorruptModelError(f"The model's {SETTINGS_KEY} archive is not valid base64 ({error}). Restore the "
                                "settings file or retrain the model.") from None
    if hashlib.sha256(archive).hexdigest() != sha256:
        raise CorruptModelError(f"The model's {SETTINGS_KEY} archive does not match its SHA-256 (damaged or edited). "
                                "Restore the settings file or retrain the model.")
    try:
        untrusted = sorted(set(skops.io.get_untrusted_types(data=archive)) - set(TRUSTED_TYPES))
        if untrusted:
            raise CorruptModelError(f"The model's {SETTINGS_KEY} holds object types this version does not trust "
                                    f"({', '.join(untrusted)}); it was not written by this program. Retrain the model.")
        model = skops.io.loads(archive, trusted=list(TRUSTED_TYPES))
    except CorruptModelError:
        raise
    except Exception as error:  # skops raises many kinds for a damaged archive
        raise CorruptModelError(f"The model's {SETTINGS_KEY} archive cannot be read ({type(error).__name__}: "
                                f"{str(error)[:200]}). Restore the settings file or retrain the model.") from error
    if not hasattr(model, "predict_proba") or list(getattr(model, "classes_", [])) != [False, True]:
        raise CorruptModelError(f"The model's {SETTINGS_KEY} is not an N-versus-S classifier. Retrain the model.")
    return model


def split_supraventricular(probabilities: np.ndarray, q_s: np.ndarray) -> np.ndarray:
    """``probabilities`` with p(N) + p(S) divided as ``q_s`` (per beat, the share that is S) says.

    >>> print(split_supraventricular(np.array([[0.6, 0.2, 0.2, 0, 0]]), np.array([0.75])).round(2))
    [[0.2 0.6 0.2 0.  0. ]]
    """
    out = np.array(probabilities, dtype=np.float32, copy=True)
    mass = out[:, _N] + out[:, _S]
    out[:, _N], out[:, _S] = mass * (1.0 - q_s), mass * q_s
    return out


def fit_context_stage(probabilities: np.ndarray, features: np.ndarray, feature_names, labels: np.ndarray,
                      record_names: np.ndarray, class_weights: np.ndarray, seed: int) -> ContextStage:
    """Fit the stage on a labelled beat table (recordings contiguous, beats in time order): rows labelled N or S,
    each weighted by ``class_weights[label]``.

    ``probabilities`` must be out-of-patient (nested out-of-fold) probabilities, or the stage learns to trust the
    network as much as it may be trusted on patients it was trained on.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    rows = context_inputs_by_record(probabilities, features, feature_names, record_names)
    keep = np.isin(labels, (_N, _S))
    if not (np.any(labels[keep] == _N) and np.any(labels[keep] == _S)):
        raise ValueError("Received training beats without both N and S; expected both to fit the context stage.")
    model = HistGradientBoostingClassifier(random_state=seed)
    model.fit(rows[keep], labels[keep] == _S, sample_weight=np.asarray(class_weights)[labels[keep]])
    return ContextStage(model)
