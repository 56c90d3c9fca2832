"""Two (or more) machines of a team: working copies of one stack in folders of their own, each running
the real `aibplan` command line in processes of its own, sharing a state backend (a blob container on
Azurite) and a cloud (the ARM emulator over HTTPS), as a team shares a storage account and a
subscription."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trustme

from planner.stack.jsonc import load_jsonc
from providers.emulator.server import ArmEmulator, EmulatorSettings
from tests.helpers import BUILD_MINUTE, EXAMPLES, POLLING_INTERVAL, ROOT, SUBSCRIPTION, Emulator, Run

CLI = "from planner.cli import main; main(prog_name='aibplan')"


@contextmanager
def arm_emulator(folder: Path) -> Iterator[Emulator]:
    """An ARM emulator over TLS (a certificate from trustme), served from this process's threads."""
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(folder / "server.pem")
    )
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    settings = EmulatorSettings(
        state_dir=folder / "state",
        auto_resource_groups=False,
        operation_seconds=0.05,
        build_minute=BUILD_MINUTE,
    )
    server = ArmEmulator(settings, server_certificate=folder / "server.pem", ca_file=folder / "ca.pem")
    with server:
        yield Emulator(server, folder / "ca.pem")


@dataclass
class Started:
    """A command still running: its process and what it printed so far."""

    process: subprocess.Popen[str]
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    _readers: list[threading.Thread] = field(default_factory=list)
    _printed: threading.Condition = field(default_factory=threading.Condition)

    def read(self) -> None:
        for stream, into in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr)):
            thread = threading.Thread(target=self._pump, args=(stream, into), daemon=True)
            thread.start()
            self._readers.append(thread)

    def _pump(self, stream: object, into: list[str]) -> None:
        while True:
            chunk = stream.read(1)  # type: ignore[attr-defined]
            if not chunk:
                return
            with self._printed:
                into.append(chunk)
                self._printed.notify_all()

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        """Until `text` was printed (stdout or stderr); AssertionError when the process ended first."""
        with self._printed:
            found = self._printed.wait_for(
                lambda: (
                    text in "".join(self.stdout) + "".join(self.stderr) or self.process.poll() is not None
                ),
                timeout=timeout,
            )
        printed = "".join(self.stdout) + "".join(self.stderr)
        assert found and text in printed, f"{text!r} was not printed:\n{printed[-3000:]}"

    def answer(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line)
        self.process.stdin.flush()

    def finish(self, timeout: float = 300.0) -> Run:
        code = self.process.wait(timeout=timeout)
        for thread in self._readers:
            thread.join(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return Run(code, "".join(self.stdout), "".join(self.stderr))


@dataclass
class Machine:
    """One working copy of the stack: its folder and the environment its commands run with."""

    name: str
    root: Path
    env: dict[str, str]

    def run(self, *args: str, input: str | None = None, timeout: float = 300.0) -> Run:
        done = subprocess.run(
            [sys.executable, "-c", CLI, *args],
            cwd=self.root,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def start(self, *args: str) -> Started:
        process = subprocess.Popen(
            [sys.executable, "-c", CLI, *args],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started = Started(process)
        started.read()
        return started


def team(
    where: Path,
    emulator: Emulator,
    backend: dict[str, object],
    secrets: dict[str, str],
    *,
    group: str,
    names: tuple[str, ...] = ("alice", "ci"),
    example: str = "quickstart",
) -> list[Machine]:
    """Working copies of an example stack, one per machine, on the emulator's `group` and `backend`."""
    env = {
        **os.environ,
        **secrets,
        "AIBPLAN_AZURE_BASE_URL": emulator.endpoint,
        "AIBPLAN_AZURE_CA_BUNDLE": str(emulator.ca_file),
        "AIBPLAN_AZURE_CREDENTIAL": "emulator",
        "AIBPLAN_AZURE_POLLING_INTERVAL": str(POLLING_INTERVAL),
        "AIBPLAN_RETRY_BASE_DELAY": "0.01",
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
    }
    machines = []
    for name in names:
        root = where / name / example
        shutil.copytree(
            EXAMPLES / example, root, ignore=shutil.ignore_patterns(".aibplan", "aibplan.state.json*")
        )
        config_path = root / "aibplan.json"
        config = load_jsonc(config_path.read_text(), str(config_path))
        config.update(subscriptionId=SUBSCRIPTION, resourceGroup=group, provider="azure", backend=backend)
        config_path.write_text(json.dumps(config, indent=2))
        machines.append(Machine(name, root, env))
    return machines
