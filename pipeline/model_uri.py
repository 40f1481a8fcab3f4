"""Which model a command may load, checked before anything is read or imported (no MLflow here).

Models load only from the configured registry / tracking store (`models:/NAME@ALIAS`,
`models:/NAME/VERSION`, `runs:/RUN_ID/PATH`) or from a local model folder the user names explicitly;
any other scheme (http(s), s3, gs, dbfs, `models://profile@host`, ...) is refused, so a config or
environment can never make batch scoring fetch and unpickle a model from somewhere unexpected.
Loading itself is `pipeline.tracking.load_model`.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from pipeline.config import Config
from pipeline.errors import InputError, LeadscoreError

CHAMPION = "champion"
NO_STORE_HINT = ("no champion yet, nothing trained with this store: run `leadscore retrain` (train + promotion gate) or "
                 "`leadscore train` and `leadscore promote --version N`; after `make demo`, run from the project root "
                 "or set MLFLOW_TRACKING_URI")


def default_model_uri(cfg: Config) -> str:
    """The registered model's champion: what batch scoring uses without --model-uri."""
    return f"models:/{cfg.mlflow.registered_model}@{CHAMPION}"


def check_model_uri(uri: str) -> None:
    """Refuse model URIs outside the configured registry / tracking store or an explicit local folder."""
    if uri.startswith(("models:/", "runs:/")) and not uri.startswith(("models://", "runs://")):
        if not uri.split(":/", 1)[1].strip("/"):
            raise InputError(f"{uri}: incomplete model URI; use models:/NAME@ALIAS, models:/NAME/VERSION "
                             "or runs:/RUN_ID/model")
        return
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file") or len(parsed.scheme) == 1:  # a path (or a Windows drive letter)
        path = Path(parsed.path if parsed.scheme == "file" else uri)
        if not path.exists():
            raise InputError(f"{uri}: no model there (no such file or folder)")
        if not (path / "MLmodel").is_file():
            raise InputError(f"{uri}: not an MLflow model folder (no MLmodel file in it)")
        return
    raise InputError(
        f"{uri}: models load only from the configured registry (models:/NAME@ALIAS, models:/NAME/VERSION), "
        f"its tracking store (runs:/RUN_ID/model) or a local model folder; '{parsed.scheme}:' is not allowed"
    )


def require_store(tracking_uri: str, model_uri: str) -> None:
    """A registry URI against a local SQLite store that does not exist: say so without creating one."""
    if tracking_uri.startswith("sqlite:///") and model_uri.startswith(("models:/", "runs:/")):
        db = Path(tracking_uri.removeprefix("sqlite:///"))
        if not db.exists():
            raise LeadscoreError(f"{model_uri}: cannot load model ({NO_STORE_HINT}): no tracking store at {db}")
