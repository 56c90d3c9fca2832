"""The state backends' test helpers: real agent processes, places (a backend + its working folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from azure.storage.blob import BlobServiceClient

from state import ResourceState, State
from state.backends import StateBackend, backend_settings, open_backend
from tests.helpers.azurite import ROOT, Azurite

# Azure's shortest finite lease: the tests that wait for a lease to run out wait this long.
TEST_LEASE_SECONDS = 15


@dataclass
class Agent:
    """A real process working on the shared state (tests/state/backends/agent.py)."""

    process: subprocess.Popen[str]

    def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def reply(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the agent stopped (exit {self.process.poll()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, **command: Any) -> dict[str, Any]:
        self.send(**command)
        return self.reply()

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=60)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()


@dataclass
class Place:
    """Where one shared state lives, and how a process (this one or another) opens a backend on it."""

    kind: str
    config: dict[str, Any]
    env: dict[str, str]
    stack: Path
    agents: list[Agent] = field(default_factory=list)

    @property
    def state_path(self) -> Path:
        return self.stack / "aibplan.state.json"

    @property
    def runtime_dir(self) -> Path:
        return self.stack / ".aibplan"

    def open(self) -> StateBackend:
        """A backend object of its own, as another run (or machine) would have."""
        settings = backend_settings(self.config, self.env)
        return open_backend(settings, state_path=self.state_path, runtime_dir=self.runtime_dir)

    def agent(self, workdir: Path) -> Agent:
        """Another process, in its own working folder, on this state."""
        workdir.mkdir(parents=True, exist_ok=True)
        spec = {"backend": self.config, "state": str(self.state_path), "runtime": str(self.runtime_dir)}
        env = {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.state.backends.agent", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=workdir,
            env=env,
        )
        agent = Agent(process)
        self.agents.append(agent)
        return agent


def blob_place(azurite: Azurite, stack: Path, **config: Any) -> Place:
    """A fresh container on Azurite and the backend settings that point at it."""
    container = f"state-{uuid.uuid4().hex[:12]}"
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        service.create_container(container)
    settings = {
        "type": "azureblob",
        "container": container,
        "key": "team/aibplan.state.json",
        "leaseSeconds": TEST_LEASE_SECONDS,
        **config,
    }
    return Place(
        "azureblob", settings, {"AIBPLAN_BACKEND_CONNECTION_STRING": azurite.connection_string}, stack
    )


def state_at(serial: int, lineage: str, *resources: ResourceState) -> State:
    """A state as stored at `serial`: its resources written then (and, for the serial to show without
    them, a resource removed then)."""
    entries = [replace(r, serial=serial) for r in resources]
    removed = {} if entries else {"gallery.retired": serial}
    return State(lineage=lineage, removed=removed).with_resources(entries)
