"""Signal-processing stages: read, clean, assess quality, detect, segment, label, build datasets.

Each stage is a module with small functions that take the previous stage's output.
This package imports numpy, scipy and (in :mod:`pipeline.records` only) wfdb and edfio; it never
imports keras, mlflow or streamlit.
"""

INTERNAL_FS_HZ = 360.0
"""Every record is resampled to this rate on entry (the MIT-BIH rate, so its records pass unchanged)."""
