"""Beat classifier: network, training, evaluation, decision rules and the MLflow registry adapter.

It owns everything between the model input built by :mod:`pipeline` and the model output, and is the only package
to import keras (and mlflow, in :mod:`models.registry` only).
"""
