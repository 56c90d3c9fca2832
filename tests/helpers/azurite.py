"""Azurite, the Azure Storage emulator from the npm registry, run as a real process for the tests.

Found as `azurite-blob` (or `azurite`) on PATH or in `.ci/node` (where `.ci/run` installs it), else run
through `npx` at the version in `.ci/azurite-version`. Each run gets a free port, a temporary data
folder and an account with a random key (AZURITE_ACCOUNTS), so no well-known key is used anywhere.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSION = (ROOT / ".ci" / "azurite-version").read_text(encoding="utf-8").strip()
ACCOUNT = "aibplantests"
# How long Azurite may take to answer: npx may first fetch the package.
_START_SECONDS = {"installed": 60.0, "npx": 600.0}


@dataclass(frozen=True)
class Azurite:
    """A running Azurite: where it listens and the account's credentials."""

    port: int
    account: str
    key: str

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.account}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};"
            f"BlobEndpoint={self.account_url};"
        )


def command() -> tuple[list[str], str] | None:
    """How to start Azurite's blob service here, and which way it was found; None when it cannot be."""
    local_bin = ROOT / ".ci" / "node" / "node_modules" / ".bin"
    for name in ("azurite-blob", "azurite"):
        found = shutil.which(name) or (str(local_bin / name) if (local_bin / name).exists() else None)
        if found:
            return [found], "installed"
    npx = shutil.which("npx")
    if npx:
        return [npx, "--yes", "--package", f"azurite@{VERSION}", "azurite-blob"], "npx"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(data_dir: Path) -> Iterator[Azurite]:
    """Start Azurite, wait until it answers, and stop it at the end."""
    found = command()
    if found is None:
        raise RuntimeError("neither azurite nor npx is installed")
    argv, how = found
    key = base64.b64encode(secrets.token_bytes(64)).decode()
    env = {**os.environ, "AZURITE_ACCOUNTS": f"{ACCOUNT}:{key}"}
    log_path = data_dir / "azurite.log"
    # A free port can be taken by another process before Azurite binds it: then try another.
    for attempt in range(3):
        azurite = Azurite(free_port(), ACCOUNT, key)
        args = [*argv, "--blobHost", "127.0.0.1", "--blobPort", str(azurite.port)]
        if Path(argv[-1]).name == "azurite":
            # The all-services command also opens queue and table ports: keep them off the usual ones.
            args += ["--queuePort", str(free_port()), "--tablePort", str(free_port())]
        args += ["--location", str(data_dir), "--loose", "--skipApiVersionCheck", "--disableTelemetry"]
        args += ["--silent"]
        with log_path.open("wb") as log:
            # A session of its own, so that stopping it stops what npx started beneath it too.
            process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=data_dir, start_new_session=True
            )
        try:
            answered = _wait_until_answering(azurite, process, _START_SECONDS[how], log_path)
        except BaseException:
            _stop(process)
            raise
        if answered:
            break
        if attempt == 2:
            raise RuntimeError(f"azurite found no free port: {log_path.read_text(errors='replace')[-2000:]}")
    try:
        yield azurite
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Azurite and every process of its group (npx runs node as a child that would outlive it)."""
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _wait_until_answering(
    azurite: Azurite, process: subprocess.Popen[bytes], limit: float, log: Path
) -> bool:
    """True once Azurite answers; False when it stopped because its port was taken."""
    deadline = time.monotonic() + limit
    while True:
        if process.poll() is not None:
            said = log.read_text(errors="replace")
            if "EADDRINUSE" in said:
                return False
            raise RuntimeError(f"azurite stopped at start (exit {process.returncode}): {said[-2000:]}")
        try:
            urllib.request.urlopen(f"{azurite.account_url}?comp=list", timeout=2)
            return True
        except urllib.error.HTTPError:
            return True  # it answers (an unsigned request is refused): it is up
        except OSError as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"azurite did not answer on port {azurite.port}: {log.read_text()[-2000:]}"
                ) from exc
            time.sleep(0.1)
