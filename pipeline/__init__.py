"""Signal-processing stages: read, clean, assess quality, detect, segment, label, build datasets.

Each stage is a module with small functions that take the previous stage's output.
This package imports numpy, scipy, wfdb (in :mod:`pipeline.records` only) and edfio (in :mod:`pipeline.edf`
only); it never imports keras, mlflow or streamlit.
"""

INTERNAL_FS_HZ = 360.0
"""Every record is resampled to this rate on entry (the MIT-BIH rate, so its records pass unchanged)."""
