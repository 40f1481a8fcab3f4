"""Issue #7, data safety: SIGKILL never leaves a partial output or a broken registry, and no e-mail
address, phone number or full name of the input reaches the MLflow store or its artifacts.

Kills happen on a private copy of the session registry (SQLite + artifacts, paths rewritten), so
the session's `trained` fixture is never changed. Most kill points are chosen by watching the
command's own progress lines; two use fault injection: a driver script wraps one function of the
real code so the process parks exactly inside the atomic write (data written, not yet renamed) or
exactly before the promotion gate records its decision, and the test kills it there.
"""
from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import REPO, Trained, run_cli

CONFIG = str(REPO / "configs/default.yaml")
PREVIOUS = b"previous scores: a killed predict must leave this file byte-identical"
HOOK = "LEADSCORE-TEST-HOOK-REACHED"

DRIVER = f'''
import contextlib, os, sys, time

hook = os.environ.get("KILL_HOOK", "")
if hook == "write":
    import pipeline.inputs.io as io
    real = io.atomic_file

    @contextlib.contextmanager
    def parked(target):
        with real(target) as handle:
            yield handle
            handle.flush()
            sys.stderr.write("{HOOK}\\n"); sys.stderr.flush()
            time.sleep(120)
    io.atomic_file = parked
elif hook == "promote":
    import pipeline.stages.promote as promote

    def parked(*args, **kwargs):
        sys.stderr.write("{HOOK}\\n"); sys.stderr.flush()
        time.sleep(120)
    promote.record = parked

from pipeline.cli import app
app(prog_name="leadscore")
'''


# ---------------------------------------------------------------- a private registry


def clone_registry(src: Path, dst: Path) -> Trained:
    """Copy mlflow.db and mlartifacts/ and rewrite every absolute path in the store to the copy."""
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src / "mlartifacts", dst / "mlartifacts")
    shutil.copy2(src / "mlflow.db", dst / "mlflow.db")
    old, new = str(src), str(dst)
    with sqlite3.connect(dst / "mlflow.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for _, column, kind, *_ in db.execute(f"PRAGMA table_info('{table}')").fetchall():
                if kind.upper() in ("TEXT", "VARCHAR", "") or "CHAR" in kind.upper():
                    db.execute(f"UPDATE '{table}' SET \"{column}\" = replace(\"{column}\", ?, ?) "
                               f"WHERE \"{column}\" LIKE ?", (old, new, f"%{old}%"))
    return Trained(dst, f"sqlite:///{dst / 'mlflow.db'}", {}, Path())


@pytest.fixture(scope="module")
def registry(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    copy = clone_registry(trained.workdir, tmp_path_factory.mktemp("registry") / "store")
    copy.summary, copy.data = trained.summary, trained.data
    return copy


def registry_state(uri: str) -> dict[str, str]:
    # explicit registry_uri: MlflowClient otherwise follows a process-global mlflow.set_registry_uri()
    client = MlflowClient(uri, registry_uri=uri)
    return {"champion": client.get_model_version_by_alias("lead-scorer", "champion").version}


def assert_registry_intact(reg: Trained, champion: str) -> None:
    with sqlite3.connect(reg.workdir / "mlflow.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert registry_state(reg.uri)["champion"] == champion
    # load the champion's files without touching mlflow's process-global URIs (other tests rely on them)
    location = MlflowClient(reg.uri, registry_uri=reg.uri).get_model_version_download_uri("lead-scorer", champion)
    model = mlflow.pyfunc.load_model(location)
    assert model.unwrap_python_model().scorer is not None


# ---------------------------------------------------------------- kill helpers


def start(args: list[str], cwd: Path, env: dict[str, str], hook: str = "") -> tuple[subprocess.Popen, queue.Queue]:
    driver = cwd / "driver.py"
    driver.write_text(DRIVER)
    full_env = ({k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
                | env | {"KILL_HOOK": hook})
    proc = subprocess.Popen([sys.executable, str(driver), *args], cwd=cwd, env=full_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    return proc, lines


def kill_when(proc: subprocess.Popen, lines: queue.Queue, trigger: str | float, timeout: float = 240,
              sig: int = signal.SIGKILL) -> str:
    """Signal the process (SIGKILL) when a stderr line contains `trigger` (or after `trigger` seconds)."""
    seen: list[str] = []
    deadline = time.monotonic() + (trigger if isinstance(trigger, float) else timeout)
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.05)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if isinstance(trigger, str) and trigger in line:
            break
    else:
        if isinstance(trigger, str):
            proc.kill()
            pytest.fail(f"never saw {trigger!r}; stderr: {''.join(seen)}")
    assert proc.poll() is None, f"finished before the kill point {trigger!r}: {''.join(seen)}"
    proc.send_signal(sig)
    proc.wait(timeout=30)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    return "".join(seen)


def drain(lines: queue.Queue, timeout: float = 2) -> list[str]:
    """The stderr lines still to come from a finished process."""
    out = []
    with contextlib.suppress(queue.Empty):
        while True:
            out.append(lines.get(timeout=timeout))
    return out


# ---------------------------------------------------------------- SIGKILL during predict


@pytest.mark.parametrize("point", [1.0, "Scoring with", "hook:write"])
def test_sigkill_during_predict_leaves_previous_output_and_registry(registry: Trained, tmp_path: Path, point):
    champion = registry_state(registry.uri)["champion"]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "scores.parquet"
    target.write_bytes(PREVIOUS)
    args = ["predict", "--leads", str(registry.data / "leads.parquet"), "--events", str(registry.data / "events.parquet"),
            "--as-of", "2026-06-01", "--output", str(target), "--config", CONFIG]
    hook = point.removeprefix("hook:") if isinstance(point, str) and point.startswith("hook:") else ""
    proc, lines = start(args, tmp_path, {"MLFLOW_TRACKING_URI": registry.uri}, hook)
    kill_when(proc, lines, HOOK if hook else point)
    assert sorted(p.name for p in out_dir.iterdir()) == ["scores.parquet"], "temp or partial files beside the target"
    assert target.read_bytes() == PREVIOUS
    assert registry_state(registry.uri)["champion"] == champion


def test_sigterm_inside_the_write_unwinds_cleanly(registry: Trained, tmp_path: Path):
    """SIGTERM (cron timeouts, `kill`, container stop) unwinds: one line, exit 143, nothing replaced."""
    target = tmp_path / "out" / "scores.parquet"
    target.parent.mkdir()
    target.write_bytes(PREVIOUS)
    args = ["predict", "--leads", str(registry.data / "leads.parquet"), "--as-of", "2026-06-01", "--output", str(target),
            "--config", CONFIG, "--quiet"]
    proc, lines = start(args, tmp_path, {"MLFLOW_TRACKING_URI": registry.uri}, "write")
    kill_when(proc, lines, HOOK, sig=signal.SIGTERM)
    assert proc.returncode == 128 + signal.SIGTERM
    rest = drain(lines)
    assert rest == ["leadscore: interrupted (SIGTERM); no output was replaced\n"], rest
    assert os.listdir(target.parent) == ["scores.parquet"] and target.read_bytes() == PREVIOUS


def test_predict_after_the_kills_replaces_the_output_atomically(registry: Trained, tmp_path: Path):
    target = tmp_path / "scores.parquet"
    target.write_bytes(PREVIOUS)
    result = run_cli("predict", "--leads", str(registry.data / "leads.parquet"), "--as-of", "2026-06-01",
                     "--events", str(registry.data / "events.parquet"), "--output", str(target), "--config", CONFIG,
                     "--quiet", cwd=tmp_path, env={"MLFLOW_TRACKING_URI": registry.uri})
    assert result.code == 0, result.stderr
    assert len(pd.read_parquet(target)) > 0
    # the scores, and the drift reports beside them; no temp file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.accounts.parquet", "scores.drift.html",
                                                          "scores.drift.json", "scores.parquet"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask()), "scores must be readable like any new file"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------- SIGKILL during retrain

def fast_config(folder: Path) -> Path:
    """The default config with logistic regression as the only model, so a retrain reaches the gate
    sooner; beside a copy of the other files in configs/, which the config may name by relative path."""
    from pipeline.config import ModelsConfig

    shutil.copytree(Path(CONFIG).parent, folder)
    path = folder / Path(CONFIG).name
    cfg = yaml.safe_load(path.read_text())
    models = cfg.setdefault("models", {}) or {}
    for name, spec in ModelsConfig.model_fields.items():
        if name != "logreg" and "enabled" in getattr(spec.annotation, "model_fields", {}):
            models.setdefault(name, {})["enabled"] = False
    cfg["models"] = models
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize("point", ["Building point-in-time", "Training ", "hook:promote"])
def test_sigkill_during_retrain_keeps_champion(registry: Trained, tmp_path: Path, point: str):
    champion = registry_state(registry.uri)["champion"]
    cfg = fast_config(tmp_path / "configs")
    hook = point.removeprefix("hook:") if point.startswith("hook:") else ""
    proc, lines = start(["retrain", "--data", str(registry.data), "--config", str(cfg)], tmp_path,
                        {"MLFLOW_TRACKING_URI": registry.uri}, hook)
    kill_when(proc, lines, HOOK if hook else point)
    assert_registry_intact(registry, champion)
    assert not list(registry.workdir.rglob("*.tmp")), "temporary files left in the store"


# ---------------------------------------------------------------- personal data never reaches tracking

EMAIL_TOKEN = re.compile(rb"[a-z0-9._%+'-]+@[a-z0-9.-]+")
PHONE_TOKEN = re.compile(rb"(?<![\d.])\+?\d[\d \-()]{7,22}\d(?![\d])")
WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


class PersonalData:
    """Every e-mail, phone and full name of the input, matched against a file in one pass per kind:
    the file's e-mail-like, phone-like and two-word tokens are extracted with a regex and looked up
    in sets (tolerating neighbouring bytes glued to a token inside binary files)."""

    def __init__(self, leads: pd.DataFrame):
        emails = {m.group() for e in leads["email"].dropna().str.lower() for m in EMAIL_TOKEN.finditer(e.encode())}
        self.emails = emails
        self.locals = {e.split(b"@")[0] for e in emails}
        digits = leads["phone"].dropna().astype(str).str.replace(r"\D", "", regex=True)
        # shorter junk ('123') and filler ('000-000-0000') would match any number or byte run
        self.phones = {d for d in digits if len(d) >= 9 and len(set(d)) >= 3}
        self.phone_lengths = sorted({len(p) for p in self.phones})
        names = (leads["first_name"].astype(str) + " " + leads["last_name"].astype(str)).str.lower()
        self.names = set(names[leads["first_name"].notna() & leads["last_name"].notna()])
        assert len(self.emails) > 1000 and len(self.phones) > 1000 and len(self.names) > 1000

    def find(self, blob: bytes) -> list[str]:
        low = blob.lower()
        found = []
        for m in EMAIL_TOKEN.finditer(low):
            local, _, domain = m.group().partition(b"@")
            for i in range(len(local)):
                if local[i:] in self.locals:
                    found += [(local[i:] + b"@" + domain[:j]).decode() for j in range(len(domain), 0, -1)
                              if local[i:] + b"@" + domain[:j] in self.emails]
        for m in PHONE_TOKEN.finditer(blob):
            digits = re.sub(rb"\D", b"", m.group()).decode()
            found += [digits[i:i + n] for n in self.phone_lengths for i in range(len(digits) - n + 1)
                      if digits[i:i + n] in self.phones]
        words = WORD.findall(blob.decode("utf-8", errors="ignore").lower())
        found += [f"{a} {b}" for a, b in zip(words, words[1:]) if f"{a} {b}" in self.names]
        return found


def test_pii_scanner_finds_what_it_should():
    leads = pd.DataFrame({"email": ["Ana.Lee@Example.com"] + [f"u{i}@x{i}.io" for i in range(1200)],
                          "phone": ["+1 565-842-4303"] + [f"+44 20 7946 {i:04d}" for i in range(1200)],
                          "first_name": ["Ana"] + [f"N{i}" for i in range(1200)],
                          "last_name": ["Lee"] + [f"Zed{chr(97 + i % 26)}{i}" for i in range(1200)]})
    scanner = PersonalData(leads)
    blob = b'\x00\x13xana.lee@example.comq {"p": "15658424303", "n": "Ana Lee"} 0.15658424303 +1 (565) 842-4303'
    found = scanner.find(blob)
    assert "ana.lee@example.com" in found and "ana lee" in found
    assert found.count("15658424303") == 2  # the bare digits and the formatted number, not the float
    assert scanner.find(b"nothing personal here 0.1234567890123 run 9f8e7d6c5b4a") == []


def test_no_personal_data_in_tracking_store_or_artifacts(registry: Trained, tmp_path: Path):
    # a batch run too, so the prediction experiment is scanned as well
    result = run_cli("predict", "--leads", str(registry.data / "leads.parquet"), "--as-of", "2026-06-01",
                     "--output", str(tmp_path / "s.parquet"), "--config", CONFIG, "--quiet", cwd=tmp_path,
                     env={"MLFLOW_TRACKING_URI": registry.uri})
    assert result.code == 0, result.stderr
    scanner = PersonalData(pd.read_parquet(registry.data / "leads.parquet"))
    files = [p for p in registry.workdir.rglob("*") if p.is_file()]
    assert any(p.name == "mlflow.db" for p in files) and any(p.name == "MLmodel" for p in files)
    assert any(p.name == "input_example.json" for p in files)
    leaks = {str(p.relative_to(registry.workdir)): hits[:3] for p in files if (hits := scanner.find(p.read_bytes()))}
    assert not leaks, f"personal data in the tracking store: {leaks}"
