"""Where the application finds its data and keeps its cache.

Resolution order for the MIT-BIH data directory: an explicit ``--data-dir`` option, then the
environment variable ``ECG_DATA_DIR``, then ``<repo root>/data/mitdb``. The cache directory is
``ECG_CACHE_DIR`` or ``<repo root>/.cache``: derived files never go next to the records, whose
directories may be read-only.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.errors import DataDirectoryError

DATA_DIR_ENV = "ECG_DATA_DIR"
CACHE_DIR_ENV = "ECG_CACHE_DIR"

FETCH_HELP = (
    "To get the MIT-BIH Arrhythmia Database, run one of:\n"
    "  ecg data fetch              (downloads it from PhysioNet)\n"
    "  ecg data fetch --from DIR   (links it from a local mirror such as ../shared/data/mitdb)\n"
    f"or point to an existing copy with the environment variable {DATA_DIR_ENV}=DIR or the option --data-dir DIR."
)


def find_repo_root() -> Path:
    """Directory that holds the ``app`` package (the repository root in a checkout)."""
    return Path(__file__).resolve().parent.parent


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """Data directory from the option, else ``ECG_DATA_DIR``, else ``<repo root>/data/mitdb``.

    The directory need not exist (``ecg data fetch`` creates it).
    """
    if data_dir:
        return Path(data_dir).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return find_repo_root() / "data" / "mitdb"


def require_data_dir(data_dir: str | Path | None = None) -> Path:
    """Resolved data directory, checked to exist and hold WFDB headers.

    Raises
    ------
    DataDirectoryError
        When the directory is missing or holds no ``.hea`` file; the message says how to get the data.
    """
    path = resolve_data_dir(data_dir)
    if not path.is_dir():
        raise DataDirectoryError(f"The data directory {path} does not exist.\n{FETCH_HELP}")
    if not any(path.glob("*.hea")):
        raise DataDirectoryError(f"The data directory {path} holds no WFDB record (no .hea file).\n{FETCH_HELP}")
    return path


def resolve_cache_dir() -> Path:
    """Cache directory from ``ECG_CACHE_DIR``, else ``<repo root>/.cache`` (not created here)."""
    from_env = os.environ.get(CACHE_DIR_ENV)
    return Path(from_env).expanduser() if from_env else find_repo_root() / ".cache"
