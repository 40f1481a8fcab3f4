"""MLflow: tracking URI resolution, experiments with artifacts beside the store, registry helpers, and
loading a scoring model (`load_model`; which URIs may be loaded is `pipeline.model_uri`, checked before
this module, and so MLflow, is imported)."""
from __future__ import annotations

import logging
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from pipeline.config import Config
from pipeline.errors import LeadscoreError
from pipeline.model_uri import CHAMPION, require_store

log = logging.getLogger(__name__)
CHALLENGER = "challenger"  # CHAMPION: pipeline.model_uri
RUNTIME_PACKAGES = ("mlflow", "lightgbm", "scikit-learn", "pandas", "numpy", "pyarrow", "joblib",
                    "disposable-email-domains", "pydantic", "pyyaml")


DEMO_STORE = Path("demo") / "mlflow.db"  # where `make demo` (leadscore demo's default workdir) keeps its store


def resolve_tracking_uri(cfg: Config, workdir: str | Path | None = None, demo_fallback: bool = False) -> str:
    """MLFLOW_TRACKING_URI, else the config's, else an absolute sqlite:/// URI of mlflow.db in `workdir` (cwd).

    With `demo_fallback` (commands that use models already trained: predict, compare, promote,
    rollback), when there is no ./mlflow.db but `make demo` left demo/mlflow.db, that store is used
    (with one line saying so), so the README's commands work from the project root after `make demo`.
    Training never falls back: it creates ./mlflow.db."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or cfg.mlflow.tracking_uri
    if not uri:
        here = Path(workdir or ".") / "mlflow.db"
        if demo_fallback and workdir is None and not here.exists() and DEMO_STORE.is_file():
            log.info("Using the demo's tracking store %s (there is no ./mlflow.db; set MLFLOW_TRACKING_URI to "
                     "choose another)", DEMO_STORE)
            here = DEMO_STORE
        return "sqlite:///" + str(here.resolve())
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).resolve())
    return uri


def setup(cfg: Config, workdir: str | Path | None = None, demo_fallback: bool = False) -> str:
    uri = resolve_tracking_uri(cfg, workdir, demo_fallback)
    if not log.isEnabledFor(logging.DEBUG):
        quiet_mlflow()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def quiet_mlflow() -> None:
    """MLflow's own lines stay out of leadscore's output (unless --debug): its loggers (and alembic's,
    which MLflow reconfigures on import) and the stream its `eprint` writes to ("Successfully
    registered model ...", "Created version ..."); leadscore says what happened in its own words."""
    from mlflow.utils.logging_utils import disable_logging

    disable_logging()
    for name in ("mlflow", "alembic", "sqlalchemy", "huey"):
        logging.getLogger(name).setLevel(logging.ERROR)


def no_champion_hint(name: str) -> str:
    """What to do when `models:/NAME@champion` does not exist yet: after `train` there is a challenger."""
    challenger = alias_version(name, CHALLENGER)
    if challenger:
        return (f"no champion yet: `leadscore train` registered version {challenger} as challenger; promote it with "
                f"`leadscore promote --version {challenger}`, score with --model-uri models:/{name}@{CHALLENGER}, "
                f"or run `leadscore retrain` (train + promotion gate)")
    return (f"no champion yet: run `leadscore retrain` (train + promotion gate), or `leadscore train` and then "
            f"`leadscore promote --version N` (or --model-uri models:/{name}@{CHALLENGER})")


def artifact_root(uri: str) -> str | None:
    """Artifacts beside a local SQLite store (mlartifacts/ next to mlflow.db)."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").resolve().as_uri()
    return None


def ensure_experiment(name: str, uri: str) -> str:
    client = MlflowClient()
    exp = client.get_experiment_by_name(name)
    if exp is None:
        exp_id = client.create_experiment(name, artifact_location=artifact_root(uri))
    else:
        exp_id = exp.experiment_id
    mlflow.set_experiment(experiment_id=exp_id)
    return exp_id


def pip_requirements() -> list[str]:
    reqs = []
    for pkg in RUNTIME_PACKAGES:
        try:
            reqs.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:
            reqs.append(pkg)
    return reqs


def alias_version(name: str, alias: str) -> str | None:
    """The version number an alias points at, or None if the model or alias does not exist."""
    try:
        return str(MlflowClient().get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def set_alias(name: str, alias: str, version: str) -> None:
    MlflowClient().set_registered_model_alias(name, alias, version)


def load_pyfunc(uri: str):  # noqa: ANN201 - mlflow's PyFuncModel
    """Load a model; a missing model, version or alias is a user error (exit 2)."""
    import mlflow.pyfunc

    try:
        return mlflow.pyfunc.load_model(uri)
    except (MlflowException, OSError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        hint = ""
        if uri.startswith("models:/") and uri.endswith(f"@{CHAMPION}"):
            hint = f" ({no_champion_hint(uri.removeprefix('models:/').rsplit('@', 1)[0])})"
        elif "@" in uri:
            hint = " (no such alias yet? `leadscore train` sets challenger, `leadscore promote` / `retrain` champion)"
        raise LeadscoreError(f"{uri}: cannot load model{hint}: {first}") from None


def resolve_version(uri: str) -> str:
    """Registry version behind a models:/ URI ('' for other URIs)."""
    if not uri.startswith("models:/"):
        return ""
    ref = uri.removeprefix("models:/")
    if "@" in ref:
        name, alias = ref.split("@", 1)
        return alias_version(name, alias) or ""
    parts = ref.split("/")
    return parts[1] if len(parts) > 1 and parts[1].isdigit() else ""


def load_model(cfg: Config, model_uri: str, workdir: str | Path | None = None) -> tuple[str, Any, str]:
    """(tracking URI, the pyfunc, its registry version) for a model URI checked by
    `pipeline.model_uri.check_model_uri`; a registry URI against a missing local store is a one-line error."""
    uri = setup(cfg, workdir, demo_fallback=True)
    require_store(uri, model_uri)
    return uri, load_pyfunc(model_uri), resolve_version(model_uri)
