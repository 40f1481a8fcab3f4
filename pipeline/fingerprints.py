"""Fingerprints of what a training session depends on: the input files' bytes and the project's code. The
registry tags and `retrain`'s skip-if-unchanged check use them."""
from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.inputs.data import Inputs

PACKAGES = ("features", "models", "pipeline")


def file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def data_fingerprint(inputs: Inputs) -> str:
    """sha256 over the input files' bytes: identical data, identical fingerprint."""
    parts = "".join(f"{key}:{file_digest(inputs.sources[key])};" for key in sorted(inputs.sources))
    return hashlib.sha256(parts.encode()).hexdigest()[:16]


def code_fingerprint() -> str:
    """sha256 of the project's Python sources: a code change is a reason to retrain."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
