"""Clinician dashboard (Streamlit): pages render, the plain modules beside them do the work."""
