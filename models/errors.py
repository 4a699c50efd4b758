"""Exception types of the beat classifier: finding, loading and checking a trained model.

Every message says what was received, what was expected and what to do next, so that the CLI
and the dashboard can show it as it is.
"""

from __future__ import annotations


class ModelError(Exception):
    """Base class for problems with a trained model (where it is, what it holds, how it was built)."""


class ModelNotFoundError(ModelError, LookupError):
    """A model URI or path does not resolve to a model (unknown name, alias, version or file)."""


class EmptyRegistryError(ModelNotFoundError):
    """The model registry holds no registered model at all (e.g. a fresh clone)."""


class ModelSettingsMismatchError(ModelError, ValueError):
    """The model's input settings (window, channels, features, sampling rate) do not match the data."""


class CorruptModelError(ModelError, ValueError):
    """A model file exists but cannot be read as a Keras model (truncated, not a .keras file, unsafe)."""


class RegistryUnavailableError(ModelError):
    """The model registry (its database or its folder) cannot be read or created at all."""
