"""Streamlit entry point of the clinician dashboard: ``ecg dashboard`` (or ``streamlit run app/dashboard/main.py`` from
the repository's root, where Streamlit reads the project's ``.streamlit/config.toml``).

The page only renders (:mod:`app.dashboard.views`); the work is done by plain modules. It refuses to run where
Streamlit would gather usage statistics (its default, true, applies when ``streamlit run`` starts elsewhere without
the project's settings): no telemetry leaves the machine.
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
    if st.get_option("browser.gatherUsageStats"):  # a code review (session 54): `streamlit run` from elsewhere
        st.error("Streamlit was started without this project's settings and would send usage statistics. Start the "
                 "dashboard with `ecg dashboard` (or `make run`), or run `streamlit run app/dashboard/main.py` from "
                 "the repository's root.")
        st.stop()
    render_page()


if __name__ == "__main__":
    main()
