"""Fusion rule: an F call with no V call near it becomes N.

A fusion beat is one ventricular activation shaped by two wavefronts: the sinus impulse conducted down the bundle
branches and an ectopic ventricular one firing at about the same moment. It needs a ventricular focus that fires, so
it belongs to a recording's ventricular ectopy: a fusion-led couplet (``F V``), a late-coupled premature beat in
bigeminy that fuses (``N F N V``). The networks of the shipped configuration almost never call a DS1 patient's
fusion beats F when they have not seen the patient (DS1 nested, seeds 6-15: none of the 415 reference F beats, at any
seed); their F calls are mostly conducted beats whose shape has drifted from the record's dominant one (record 109's
left bundle branch block beats, grown to about twice their early amplitude after 26 minutes: 11-200 F calls at six
seeds of ten, in runs that EC57's run comparison and the region finder count as ventricular couplets and runs).

After the per-beat rules, an F call none of whose :data:`NEIGHBOUR_BEATS` beats before and after is called V becomes
N. Two beats reach the ventricular beat of bigeminy with a fusion beat in it. Fixed from that pattern before any
figure was taken, not scanned. F calls next to a V call keep their class, so no ventricular couplet or run the model
calls loses a beat. What it would cost: by the reference labels, 310 of DS1's 415 fusion beats have a ventricular
beat within two beats (record 208: 296 of 373); the others sit between conducted beats, farther from the
ventricular ones, and an F call on them would become N, were the networks to make one. A model's settings switch it
on (``"fusion_rule": true``, from the training configuration's
``fusion_rule = true``); a model saved without the key is used without it. Adopted on DS1 nested cross-validation
end to end (EXPERIMENTS.md row BF, ``experiments/fusion_call_study.py``: false ventricular runs 383 -> 299 over seeds
8-13, every reference run found kept); the shipped model has it (``configs/bundled.toml``).
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

from pipeline.labels import AAMI_CLASSES

SETTINGS_KEY = "fusion_rule"
NEIGHBOUR_BEATS = 2
"""An F call keeps its class when a V call lies within this many beats before or after it."""
_F, _V = AAMI_CLASSES.index("F"), AAMI_CLASSES.index("V")


def find_lone_fusion_calls(class_indices: np.ndarray, neighbour_beats: int = NEIGHBOUR_BEATS) -> np.ndarray:
    """Boolean per beat (one recording's beats in time order): called F with no V call within ``neighbour_beats``
    beats before or after it.

    Examples
    --------
    >>> find_lone_fusion_calls(np.array([0, 3, 3, 0, 0, 0, 3, 0, 0, 2, 0, 3, 2])).tolist()
    [False, True, True, False, False, False, True, False, False, False, False, False, False]
    """
    classes = np.asarray(class_indices)
    if isinstance(neighbour_beats, bool) or not (isinstance(neighbour_beats, int) and neighbour_beats >= 1):
        raise ValueError(f"Received neighbour_beats={neighbour_beats!r}; expected a whole number, 1 or more.")
    if len(classes) == 0:
        return np.zeros(0, bool)
    # a V call within the window centred on each beat (beyond the record's ends: none)
    v_near = scipy.ndimage.maximum_filter1d((classes == _V).astype(np.uint8), 2 * neighbour_beats + 1,
                                            mode="constant", cval=0)
    return (classes == _F) & (v_near == 0)
