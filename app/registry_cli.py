"""``ecg models``: see the registry's versions of the beat classifier and move the champion by hand.

Training moves the ``champion`` alias only when a candidate beats the champion on DS1 (``ecg train``); these commands
are the documented way to look at what is registered and to promote a version, or roll back to an earlier one (the
shipped bundled model included), without the MLflow UI.
"""

from __future__ import annotations

from pathlib import Path

import click

_CONTEXT = {"help_option_names": ["-h", "--help"]}

MLRUNS_OPTION = click.option("--mlruns", "mlruns_dir", type=click.Path(file_okay=False, path_type=Path),
                             default=None, help="MLflow directory (default $ECG_MLRUNS_DIR, else <repo>/mlruns).")


@click.group("models", context_settings=_CONTEXT)
def models_group() -> None:
    """List the registered versions of the beat classifier; promote one to champion (or roll back)."""


SCORE_NOTE = ("DS1 score: mean of the S and V F1 of the networks' out-of-fold predictions, before the context stage "
              "and the rules (which it does not see); the champion moves to a trained version that scores higher.")


FIRST_USE_HINT = ("the first command that loads the default model creates it and registers the shipped bundled model "
                  "as champion, e.g. `ecg score data/excerpts/100` (a sample that ships with the project) or the "
                  "dashboard (`make run`)")
"""How a fresh clone's registry comes to exist: commands that need no MIT-BIH download (``ecg evaluate`` does)."""


def open_registry(mlruns_dir: Path | None):
    """The registry module, pointed at ``mlruns_dir``; a folder that does not exist is refused, not created (a
    mistyped path would otherwise be a new, empty registry). None for the default registry before its first use
    (a fresh clone): nothing is registered yet, which is not an error."""
    from models import registry

    root = registry.resolve_mlruns_dir(mlruns_dir)
    if not (root / "mlflow.db").is_file():
        if mlruns_dir is None:
            return None
        raise click.BadParameter(f"No registry at {root} (no mlflow.db there); expected the folder of an MLflow "
                                 f"registry, e.g. <repo>/mlruns ({FIRST_USE_HINT}).", param_hint="--mlruns")
    registry.configure_tracking(root)
    return registry


def describe_missing_registry() -> str:
    """What ``ecg models`` says about the default registry before its first use."""
    from models import registry

    return (f"No registry yet at {registry.resolve_mlruns_dir(None)}, so no version is registered: {FIRST_USE_HINT}. "
            "Until then every command uses that bundled model.")


def format_version_rows(versions, bundled_versions: set[str]) -> list[str]:
    """One line per version: its number, aliases, the DS1 score it was selected on, and whether it is a shipped
    bundled model.

    >>> from models.registry import ModelVersionInfo
    >>> rows = format_version_rows([ModelVersionInfo("m", "1", ("champion",), "cv_selection_score", 0.6926, "r"),
    ...                             ModelVersionInfo("m", "2", (), None, None, "s")], {"1"})
    >>> print("\\n".join(rows))
    version  aliases   DS1 score  source
          1  champion     0.6926  shipped bundled model
          2  -                 -  trained
    """
    lines = [f"{'version':>7}  {'aliases':<8}  {'DS1 score':>9}  source"]
    for v in versions:
        score = f"{v.metric:.4f}" if v.metric is not None else "-"
        lines.append(f"{v.version:>7}  {', '.join(v.aliases) or '-':<8}  {score:>9}  "
                     f"{'shipped bundled model' if v.version in bundled_versions else 'trained'}")
    return lines


@models_group.command("list", context_settings=_CONTEXT)
@MLRUNS_OPTION
def list_command(mlruns_dir: Path | None) -> None:
    """The versions of ecg-beat-classifier, oldest first, with their aliases and DS1 out-of-fold score.

    Example: ecg models list
    """
    registry = open_registry(mlruns_dir)
    if registry is None:
        click.echo(describe_missing_registry())
        return
    from models.bundled import BUNDLED_TAG

    versions = registry.list_model_versions(registry.MODEL_NAME)
    if not versions:
        click.echo(f"No version of {registry.MODEL_NAME} is registered yet; the first command that loads the default "
                   "model registers the shipped bundled model.")
        return
    bundled = {v.version for v in versions if BUNDLED_TAG in registry.read_version_tags(registry.MODEL_NAME, v.version)}
    click.echo("\n".join(format_version_rows(versions, bundled)))
    click.echo(SCORE_NOTE)


@models_group.command("promote", context_settings=_CONTEXT)
@click.argument("version")
@MLRUNS_OPTION
def promote_command(version: str, mlruns_dir: Path | None) -> None:
    """Make VERSION the champion, whatever the scores: every command without --model then uses it. To roll back,
    promote the earlier version (`ecg models list` shows which is the shipped bundled model).

    Example: ecg models promote 1
    """
    registry = open_registry(mlruns_dir)
    if registry is None:
        raise click.BadParameter(f"received version {version}; {describe_missing_registry()}", param_hint="VERSION")
    known = [v.version for v in registry.list_model_versions(registry.MODEL_NAME)]
    if version not in known:
        listed = ", ".join(known) or "none (the registry is empty)"
        raise click.BadParameter(f"received version {version}; expected one of {listed} (see `ecg models list`).",
                                 param_hint="VERSION")
    previous = registry.find_alias_target(registry.MODEL_NAME)
    registry.check_registry_writable(mlruns_dir)
    registry.set_alias(registry.MODEL_NAME, version)
    if previous == version:
        click.echo(f"champion: version {version} (it already was)")
    else:
        click.echo(f"champion: version {version} (was {'none' if previous is None else f'version {previous}'})")
