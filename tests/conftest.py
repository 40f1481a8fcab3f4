"""Shared fixtures: a small sample world and a trained registry, built once per session through the
real CLI in a subprocess, with a temporary SQLite tracking store."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by where they live: tests/e2e -> e2e; the Spark engine's -> spark (see pyproject markers)."""
    for item in items:
        path = Path(str(item.fspath))
        if "e2e" in path.parts:
            item.add_marker(pytest.mark.e2e)
        if "spark" in path.name:
            item.add_marker(pytest.mark.spark)
CLI = [sys.executable, "-m", "pipeline.cli"]


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one JSON line on stdout, got: {self.stdout!r}"
        return json.loads(lines[0])


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> CliResult:
    # mlflow.set_tracking_uri / set_registry_uri in an in-process test export these: never let them leak
    full_env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")} | (env or {})
    proc = subprocess.run([*CLI, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-lead sample world written by `leadscore generate`."""
    root = tmp_path_factory.mktemp("world")
    result = run_cli("generate", "--out", str(root / "data"), "--leads", "2000", "--seed", "7", "--quiet", cwd=root)
    assert result.code == 0, result.stderr
    return root / "data"


@dataclass
class Trained:
    workdir: Path
    uri: str
    summary: dict
    data: Path

    @property
    def env(self) -> dict[str, str]:
        return {"MLFLOW_TRACKING_URI": self.uri}


@pytest.fixture(scope="session")
def trained(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """`leadscore retrain --json` once on the small world: registry has a champion."""
    workdir = tmp_path_factory.mktemp("trained")
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    result = run_cli("retrain", "--data", str(world), "--json", "--config", str(REPO / "configs/default.yaml"),
                     cwd=workdir, env={"MLFLOW_TRACKING_URI": uri})
    assert result.code == 0, result.stderr
    return Trained(workdir, uri, result.json(), world)


def assert_proceeds_with_warnings(result: CliResult, *needles: str) -> list[str]:
    """Exit 0, no traceback, and each needle on exactly one stderr line (one warning per kind)."""
    assert result.code == 0, (result.code, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    for needle in needles:
        hits = [line for line in lines if needle in line]
        assert len(hits) == 1, (needle, result.stderr)
    return lines


def run_cli_many(calls: dict[str, dict], workers: int | None = None) -> dict[str, CliResult]:
    """Run many independent `run_cli(**kwargs)` calls in parallel subprocesses; results by key."""
    from concurrent.futures import ThreadPoolExecutor

    workers = workers or max(2, os.cpu_count() or 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {key: pool.submit(lambda kw: run_cli(*kw.pop("args"), **kw), dict(kwargs))
                   for key, kwargs in calls.items()}
        return {key: future.result() for key, future in futures.items()}


FAST = {"models": {"points": {"enabled": False}, "points_suggested": {"enabled": False},
                   "logreg": {"C": 0.1}, "lightgbm": {"search_budget": 1}},
        # a 2,000-lead world has small, noisy test periods: floors that such a world can pass
        "promotion": {"min_test_roc_auc": 0.55, "max_test_ece": 0.1}}


def write_config(folder: Path, overrides: dict | None = None) -> Path:
    """The default config with FAST settings (no search, fixed C, no points) and `overrides`."""
    import yaml

    cfg = yaml.safe_load((REPO / "configs/default.yaml").read_text())
    for section, values in {**FAST, **(overrides or {})}.items():
        for key, value in values.items():
            merged = {**cfg[section].get(key, {}), **value} if isinstance(value, dict) else value
            cfg.setdefault(section, {})[key] = merged
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    (folder / "scoring_rules.yaml").write_text((REPO / "configs/scoring_rules.yaml").read_text())
    return path


