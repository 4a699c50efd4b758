"""Shared fixtures: the bundled excerpts and the full MIT-BIH database.

``mitdb_dir`` comes from ``ECG_DATA_DIR`` or ``../shared/data/mitdb``. Locally, tests that need it
are skipped when it is absent; in CI (``CI=true``) they fail instead, so CI always runs them.
Tests that use the fixture are marked ``mitdb`` automatically.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXCERPTS_DIR = REPO_ROOT / "data" / "excerpts"
SHARED_MITDB_DIR = REPO_ROOT.parent / "shared" / "data" / "mitdb"


def find_mitdb_dir() -> Path | None:
    """``ECG_DATA_DIR`` when set, else ``../shared/data/mitdb``, if it holds all 48 headers."""
    candidate = Path(os.environ.get("ECG_DATA_DIR") or SHARED_MITDB_DIR)
    if candidate.is_dir() and len(list(candidate.glob("*.hea"))) >= 48:
        return candidate
    return None


@pytest.fixture(scope="session")
def mitdb_dir() -> Path:
    """Directory of the full MIT-BIH Arrhythmia Database (read-only: never write into it)."""
    found = find_mitdb_dir()
    if found is not None:
        return found
    message = ("MIT-BIH database not found: set ECG_DATA_DIR or provide ../shared/data/mitdb "
               "(ecg data fetch --from DIR, or ecg data fetch).")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def excerpts_dir() -> Path:
    """Directory of the bundled 5-minute MIT-BIH excerpts (``data/excerpts``)."""
    return EXCERPTS_DIR


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses ``mitdb_dir`` with ``mitdb``."""
    for item in items:
        if "mitdb_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.mitdb)
