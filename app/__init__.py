"""Application layer: the ``ecg`` command line (and, later, the dashboard).

Wires :mod:`pipeline` and :mod:`models` together; the only package that configures logging handlers.
"""
