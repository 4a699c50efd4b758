"""Importing TensorFlow without its C++ start-up notices on the terminal.

TensorFlow 2.21 prints "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR" and
its oneDNN notice from C++ while it is imported, whatever ``TF_CPP_MIN_LOG_LEVEL`` says; they say nothing a user can
act on, and they come before every command's own output.
"""

from __future__ import annotations

import importlib
import os
import sys


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with the process's standard error (file descriptor 2) sent to the null device, then put it
    back. An import that fails raises as usual once standard error is back; a process that has imported TensorFlow
    already is left as it is."""
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                importlib.import_module("tensorflow")
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
