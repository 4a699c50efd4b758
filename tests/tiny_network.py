"""A tiny classifier configuration and random inputs shared by the network and registry tests."""

from __future__ import annotations

import numpy as np

from models.network import NetworkConfig

TINY = NetworkConfig(window_samples=64, n_channels=2, n_features=3, conv_filters=(4, 8), conv_strides=(2, 2),
                     gru_units=8, attention_units=4, feature_units=4, dense_units=8)


def random_inputs(config: NetworkConfig = TINY, n: int = 6, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded standard-normal ``waveform`` and ``features`` arrays shaped for ``config``."""
    rng = np.random.default_rng(seed)
    return {"waveform": rng.normal(size=(n, config.window_samples, config.n_channels)).astype("float32"),
            "features": rng.normal(size=(n, config.n_features)).astype("float32")}
