"""`aibplan emulator`: the simulated Azure cloud served as an HTTPS Azure Resource Manager endpoint."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click

from providers.emulator.faults import server_error, throttling
from providers.emulator.server import ArmEmulator, EmulatorSettings
from providers.simulated.service import TENANT_ID

from ..diagnostics import EngineError
from ..settings import build_minute_seconds
from .common import EXIT_OK, err, fail, out
from .verbose import verbose_option


@click.command()
@click.option(
    "--port", default=8443, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port."
)
@click.option(
    "--state-dir",
    default=".aibplan/emulator",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the emulated cloud, its resource groups and its TLS certificates are kept.",
)
@click.option(
    "--strict-resource-groups",
    is_flag=True,
    help="Refuse writes into resource groups not created first (PUT .../resourcegroups/NAME), as Azure does. "
    "By default the first write creates the group.",
)
@click.option(
    "--throttle",
    "throttle_rate",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Answer this share of requests with 429 TooManyRequests and Retry-After.",
)
@click.option(
    "--retry-after",
    default=1,
    show_default=True,
    type=click.IntRange(0, 3600),
    help="Retry-After (whole seconds) on throttled answers, with --throttle.",
)
@click.option(
    "--server-errors",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Answer this share of requests with 500.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the fault generator (repeatable runs).")
@click.option(
    "--operation-seconds",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0, 3600),
    help="Seconds a long-running operation (create, update, delete) takes before it succeeds, whether or "
    "not anyone polls it.",
)
@click.option(
    "--operation-retry-after",
    default=1,
    show_default=True,
    type=click.IntRange(0, 3600),
    help="Retry-After (whole seconds) on long-running operations' answers, which the SDK waits between "
    "polls; 0 sends none, so the client's polling interval applies.",
)
@click.option(
    "--json", "json_output", is_flag=True, help="Print the endpoint and CA file as one JSON document."
)
@verbose_option
def emulator(
    port: int,
    state_dir: Path,
    strict_resource_groups: bool,
    throttle_rate: float,
    retry_after: int,
    server_errors: float,
    seed: int,
    operation_seconds: float,
    operation_retry_after: int,
    json_output: bool,
) -> None:
    """Serve the simulated Azure cloud as an HTTPS ARM endpoint on 127.0.0.1 for the Azure provider.

    Prints the endpoint and the CA certificate to trust; runs until Ctrl-C. See docs/azure.md."""
    try:
        build_minute = build_minute_seconds(None)
    except EngineError as exc:
        fail(str(exc))
    settings = EmulatorSettings(
        state_dir=state_dir.resolve(),
        port=port,
        auto_resource_groups=not strict_resource_groups,
        operation_seconds=operation_seconds,
        operation_retry_after=operation_retry_after or None,
        seed=seed,
        build_minute=build_minute,
    )
    log = None
    if _verbose():
        log = _request_log
    try:
        server = ArmEmulator(settings, request_log=log)
    except OSError as exc:
        fail(
            f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}; "
            "choose another --port (0 picks a free one)"
        )
    if throttle_rate > 0:
        server.faults.add(throttling(throttle_rate, retry_after=retry_after))
    if server_errors > 0:
        server.faults.add(server_error(server_errors))
    ca_file = str(server.ca_file)
    if json_output:
        document = {
            "format_version": "1",
            "endpoint": server.endpoint,
            "ca_file": ca_file,
            "state_dir": str(settings.state_dir),
            "tenant_id": TENANT_ID,
        }
        out(json.dumps(document) + "\n")
    else:
        out(
            f"ARM emulator listening on {server.endpoint}\n"
            f"CA certificate to trust: {ca_file}\n"
            f"Emulated cloud kept in: {settings.state_dir}\n\n"
            'Point a stack with "provider": "azure" at it (or put these in aibplan.json\'s "azure" object):\n'
            f"  export AIBPLAN_AZURE_BASE_URL={server.endpoint}\n"
            f"  export AIBPLAN_AZURE_CA_BUNDLE={ca_file}\n"
            "  export AIBPLAN_AZURE_CREDENTIAL=emulator\n\n"
            f"The Azure CLI signs in with any service principal at tenant {TENANT_ID} "
            '(docs/azure.md, "The Azure CLI against the emulator").\n\n'
            "Press Ctrl-C to stop.\n"
        )
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        err("\nStopping the emulator.\n")
    finally:
        server.stop()
    sys.exit(EXIT_OK)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the emulator as Ctrl-C does (the database is closed cleanly)."""
    raise KeyboardInterrupt


def _verbose() -> bool:
    import logging

    return logging.getLogger("aibplan").isEnabledFor(logging.INFO)


def _request_log(method: str, path: str, status: int) -> None:
    err(f"{method} {path} -> {status}\n")
