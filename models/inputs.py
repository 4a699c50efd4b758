"""From segmented beats and their record context to the network's two inputs.

``waveform`` (n_beats, window_samples, 2 * N_LEADS): each lead's beat window and the same window
minus the record's dominant beat, both divided by the template's peak-to-peak amplitude and
turned so that the template's largest deflection is positive. The network therefore sees beats
relative to the patient's own normal beat, in the same units for every recording, whatever the
amplifier gain or electrode polarity.

``features`` (n_beats, n_features): patient-relative RR ratios (absolute RR seconds are left out:
they tie the model to the training patients' heart rates) and the morphology, rhythm and
P-wave features of :mod:`pipeline.features`.

References
----------
CLASSIFIER-NOTES.md (project): lessons 1-2, patient-relative RR and morphology.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.features import BeatContext
from pipeline.types import Beats

N_LEADS = 2
"""Leads the network takes; a one-lead record's lead is read as both (:func:`models.prepare.fill_missing_leads`)."""

MIN_TEMPLATE_PTP_MV = 0.05
"""Floor of a template's peak-to-peak amplitude used for scaling (a flat template is not scaled up)."""


@dataclass(frozen=True)
class ModelInputs:
    """Arrays fed to the network, and the names of the feature columns."""

    waveform: np.ndarray
    features: np.ndarray
    feature_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.features)

    def as_dict(self) -> dict[str, np.ndarray]:
        return {"waveform": self.waveform, "features": self.features}

    def select(self, mask: np.ndarray) -> "ModelInputs":
        return ModelInputs(self.waveform[mask], self.features[mask], self.feature_names)


def read_feature_columns(features: np.ndarray, feature_names, required: tuple[str, ...]):
    """A function returning the float64 column of a feature by name, after checking ``required`` are all there.

    Raises ``ValueError`` naming the missing ones (e.g. features of another model's layout).
    """
    names = list(feature_names)
    missing = [name for name in required if name not in names]
    if missing:
        raise ValueError(f"Received features without {missing}; expected the model's input features.")
    return lambda name: np.asarray(features[:, names.index(name)], dtype=np.float64)


def select_rr_columns(names: tuple[str, ...]) -> list[int]:
    """Indices of the relative (unitless) RR features: every column not in seconds."""
    return [i for i, name in enumerate(names) if not name.endswith("_s")]


def compute_lead_scales(template_mv: np.ndarray) -> np.ndarray:
    """Per-lead factor: sign of the template's largest deflection over its peak-to-peak amplitude."""
    centred = template_mv - np.median(template_mv, axis=0, keepdims=True)
    extreme = centred[np.argmax(np.abs(centred), axis=0), np.arange(template_mv.shape[1])]
    ptp = np.maximum(np.ptp(template_mv, axis=0), MIN_TEMPLATE_PTP_MV)
    return (np.where(extreme < 0, -1.0, 1.0) / ptp).astype(np.float32)


def build_waveform(windows_mv: np.ndarray, template_channels_mv: np.ndarray, template_mv: np.ndarray) -> np.ndarray:
    """(n_beats, window, 2 * N_LEADS) float32: scaled leads then scaled template differences."""
    n_beats, window, n_leads = windows_mv.shape
    scales = compute_lead_scales(template_mv)
    if n_leads == N_LEADS:  # one interleaving copy (writing into channel slices was twice as slow)
        waveform = np.concatenate([np.nan_to_num(windows_mv), template_channels_mv], axis=2, dtype=np.float32)
        waveform *= np.concatenate([scales, scales])
        return waveform
    waveform = np.zeros((n_beats, window, 2 * N_LEADS), dtype=np.float32)
    used = min(n_leads, N_LEADS)
    waveform[:, :, :used] = np.nan_to_num(windows_mv[:, :, :used]) * scales[:used]
    waveform[:, :, N_LEADS:N_LEADS + used] = template_channels_mv[:, :, :used] * scales[:used]
    return waveform


def assemble_inputs(beats: Beats, context: BeatContext) -> ModelInputs:
    """Network inputs for the beats of one record (primary lead first in ``beats``)."""
    rr_columns = select_rr_columns(beats.rr_feature_names)
    features = np.concatenate([beats.rr_features[:, rr_columns], context.features], axis=1)
    names = tuple(beats.rr_feature_names[i] for i in rr_columns) + context.feature_names
    waveform = build_waveform(beats.windows_mv, context.template_channels_mv, context.template_mv)
    return ModelInputs(waveform, np.nan_to_num(features).astype(np.float32), names)


def concatenate_inputs(parts: list[ModelInputs]) -> ModelInputs:
    """Stack the inputs of several records (their feature names must agree)."""
    names = {p.feature_names for p in parts}
    if len(names) != 1:
        raise ValueError(f"Received inputs with {len(names)} different feature layouts; expected one.")
    return ModelInputs(np.concatenate([p.waveform for p in parts]), np.concatenate([p.features for p in parts]),
                       parts[0].feature_names)
