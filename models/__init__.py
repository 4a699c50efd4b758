"""Beat classifier: network, training, evaluation and the MLflow registry adapter (planned).

Placeholder package; nothing here yet. It will own everything between the model input built by
:mod:`pipeline` and the model output, and will be the only package to import keras (and mlflow,
in one registry adapter).
"""
