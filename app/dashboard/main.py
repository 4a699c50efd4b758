"""Streamlit entry point of the clinician dashboard: ``streamlit run app/dashboard/main.py`` (or ``ecg dashboard``).

The page only renders (:mod:`app.dashboard.views`); the work is done by plain modules.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

REPO_ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    """Render the dashboard."""
    if str(REPO_ROOT) not in sys.path:  # streamlit puts only this script's folder on sys.path
        sys.path.insert(0, str(REPO_ROOT))
    from app.dashboard.views import render_page

    st.set_page_config(page_title="ECG arrhythmia review", layout="wide", menu_items={})
    render_page()


if __name__ == "__main__":
    main()
