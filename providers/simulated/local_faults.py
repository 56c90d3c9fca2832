"""Fault injection for the local simulated cloud: latency, transient and permanent faults, reproducible.

Configured in aibplan.json under `local.faults`, or with the environment variable AIBPLAN_LOCAL_FAULTS
holding the same JSON object (the environment wins):

    {
      "seed": 7,                       // same seed, same faults
      "transientRate": 0.1,            // share of calls that fail with a transient error
      "permanentRate": 0.0,            // share of calls that fail with a permanent error
      "lostRate": 0.0,                 // share of writes carried out whose answer is then lost
      "operations": ["create", "update", "delete"],   // which calls the rates apply to (default)
      "latencyMs": {"create": 20},     // extra latency per operation (or one number for every call)
      "retryAfterSeconds": 0.05,       // the Retry-After that injected 429s carry
      "rules": [                       // faults aimed at resources: id substring, operation, kind, rate,
        {"match": "imageTemplates/web", "operation": "create", "kind": "permanent", "rate": 1.0},
        {"match": "galleries/", "kind": "lost", "times": 1}   // and at most how many times
      ]
    }

Transient faults are, in turn: 503 ServiceUnavailable, 500 InternalServerError, 429 TooManyRequests with
Retry-After, 409 AnotherOperationInProgress and a dropped connection; each is raised before the service
acts, so nothing changed. A lost answer (`lostRate`, kind "lost", writes only) is the other way round: the
service carries the write out and commits it, then the connection is reset before the answer arrives, so
the caller cannot tell whether anything changed (the provider calls `after_commit` once the write is
done). Whether a call fails is decided by a hash of (seed, operation, resource id, how many times this call
was made), never by thread timing, so a parallel apply sees the same faults on every run with the same
seed.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalog.arm_ids import fold_id
from .service import ServiceError

ENV_FAULTS = "AIBPLAN_LOCAL_FAULTS"
OPERATIONS = ("read", "create", "update", "delete")
KINDS = ("transient", "permanent", "throttle", "busy", "unavailable", "dropped", "lost")
WRITES = ("create", "update", "delete")
_TRANSIENT_CYCLE = ("unavailable", "internal", "throttle", "busy", "dropped")


class FaultConfigError(ValueError):
    """The fault settings are wrong; the message names the setting."""


@dataclass(frozen=True)
class FaultRule:
    """A fault aimed at resources: an id substring, an operation (None: any), a kind and a rate."""

    match: str
    operation: str | None
    kind: str
    rate: float = 1.0
    # At most this many times (None: no limit).
    times: int | None = None


@dataclass(frozen=True)
class FaultSettings:
    """The local cloud's fault settings (`local.faults` or AIBPLAN_LOCAL_FAULTS), read and checked."""

    seed: int = 0
    transient_rate: float = 0.0
    permanent_rate: float = 0.0
    lost_rate: float = 0.0
    operations: tuple[str, ...] = ("create", "update", "delete")
    latency_ms: Mapping[str, float] = field(default_factory=dict)
    retry_after: float = 0.05
    rules: tuple[FaultRule, ...] = ()

    @property
    def active(self) -> bool:
        return bool(
            self.transient_rate or self.permanent_rate or self.lost_rate or self.rules or self.latency_ms
        )


def parse_settings(data: Any, where: str) -> FaultSettings:
    """Check and read a `faults` object; `where` names it in errors (aibplan.json: local.faults, ...)."""
    if not isinstance(data, dict):
        raise FaultConfigError(f"{where} must be an object")
    known = {
        "seed",
        "transientRate",
        "permanentRate",
        "lostRate",
        "operations",
        "latencyMs",
        "retryAfterSeconds",
        "rules",
    }
    for key in data:
        if key not in known:
            raise FaultConfigError(f"{where}: unknown setting '{key}' (allowed: {', '.join(sorted(known))})")
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise FaultConfigError(f"{where}.seed must be an integer")
    rates = {}
    for key in ("transientRate", "permanentRate", "lostRate"):
        rates[key] = _rate(data.get(key, 0.0), f"{where}.{key}")
    if rates["transientRate"] + rates["permanentRate"] + rates["lostRate"] > 1:
        raise FaultConfigError(f"{where}: transientRate + permanentRate + lostRate must be at most 1")
    operations = data.get("operations", ["create", "update", "delete"])
    if not isinstance(operations, list) or any(op not in OPERATIONS for op in operations):
        raise FaultConfigError(f"{where}.operations must be a list of {', '.join(OPERATIONS)}")
    latency = data.get("latencyMs", {})
    if isinstance(latency, (int, float)) and not isinstance(latency, bool):
        latency = dict.fromkeys(OPERATIONS, latency)
    if not isinstance(latency, dict) or any(
        op not in OPERATIONS or not isinstance(v, (int, float)) or v < 0 for op, v in latency.items()
    ):
        raise FaultConfigError(
            f"{where}.latencyMs must be a number >= 0 or an object of {', '.join(OPERATIONS)} to numbers"
        )
    retry_after = data.get("retryAfterSeconds", 0.05)
    if not isinstance(retry_after, (int, float)) or retry_after < 0:
        raise FaultConfigError(f"{where}.retryAfterSeconds must be a number >= 0")
    rules = []
    for index, rule in enumerate(data.get("rules", [])):
        at = f"{where}.rules[{index}]"
        if not isinstance(rule, dict) or not isinstance(rule.get("match", ""), str):
            raise FaultConfigError(f"{at} must be an object with a 'match' string")
        operation = rule.get("operation")
        if operation is not None and operation not in OPERATIONS:
            raise FaultConfigError(f"{at}.operation must be one of {', '.join(OPERATIONS)}")
        kind = rule.get("kind", "permanent")
        if kind not in KINDS:
            raise FaultConfigError(f"{at}.kind must be one of {', '.join(KINDS)}")
        if kind == "lost" and operation not in (None, *WRITES):
            raise FaultConfigError(f"{at}: a lost answer needs a write ({', '.join(WRITES)}), not a read")
        times = rule.get("times")
        if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
            raise FaultConfigError(f"{at}.times must be a whole number of 1 or more")
        rule_rate = _rate(rule.get("rate", 1.0), at)
        rules.append(FaultRule(str(rule.get("match", "")), operation, kind, rule_rate, times))
    return FaultSettings(
        seed=seed,
        transient_rate=rates["transientRate"],
        permanent_rate=rates["permanentRate"],
        lost_rate=rates["lostRate"],
        operations=tuple(operations),
        latency_ms={k: float(v) for k, v in latency.items()},
        retry_after=float(retry_after),
        rules=tuple(rules),
    )


def settings_from(config: Any, environ: Mapping[str, str]) -> FaultSettings | None:
    """The fault settings from aibplan.json's `local.faults` and the environment (which wins)."""
    text = environ.get(ENV_FAULTS)
    if text:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FaultConfigError(f"{ENV_FAULTS} is not valid JSON ({exc.msg})") from None
        return parse_settings(data, ENV_FAULTS)
    if config is None:
        return None
    return parse_settings(config, "aibplan.json: local.faults")


def _rate(value: Any, where: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise FaultConfigError(f"{where} must be a number between 0 and 1")
    return float(value)


class FaultInjector:
    """The `fault_hook` of SimulatedAzure: called before each operation; sleeps and raises as configured."""

    def __init__(self, settings: FaultSettings, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.sleep = sleep
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str], int] = {}
        self._fired: dict[int, int] = {}
        # The write of this thread whose answer is to be lost once it is done (see after_commit).
        self._losing = threading.local()
        self.injected: list[tuple[str, str, str]] = []

    def draw(self, operation: str, arm_id: str, salt: str = "") -> float:
        """A number in [0, 1) fixed by the seed, the call and how often it was made before."""
        key = (operation, fold_id(arm_id))
        with self._lock:
            count = self._calls.get(key, 0)
        text = f"{self.settings.seed}|{operation}|{key[1]}|{count}|{salt}"
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def __call__(self, operation: str, arm_id: str) -> None:
        settings = self.settings
        latency = settings.latency_ms.get(operation, 0.0)
        if latency > 0:
            self.sleep(latency / 1000.0)
        kind = self._choose(operation, arm_id)
        with self._lock:
            key = (operation, fold_id(arm_id))
            self._calls[key] = self._calls.get(key, 0) + 1
            if kind is not None:
                self.injected.append((operation, arm_id, kind))
        self._losing.call = (operation, fold_id(arm_id)) if kind == "lost" else None
        if kind is not None and kind != "lost":
            raise _fault(kind, operation, arm_id, settings)

    def after_commit(self, operation: str, arm_id: str) -> None:
        """Called once a write is done: when its answer was chosen to be lost, the connection "resets"
        now, after the service committed it."""
        if getattr(self._losing, "call", None) != (operation, fold_id(arm_id)):
            return
        self._losing.call = None
        name = arm_id.rsplit("/", 1)[-1]
        raise ConnectionResetError(
            f"connection reset by peer after the {operation} of '{name}' was carried out (injected fault: "
            "the answer was lost)"
        )

    def _choose(self, operation: str, arm_id: str) -> str | None:
        settings = self.settings
        folded = fold_id(arm_id)
        for index, rule in enumerate(settings.rules):
            if rule.operation is not None and rule.operation != operation:
                continue
            if rule.kind == "lost" and operation not in WRITES:
                continue
            if rule.match.lower() not in folded:
                continue
            if self.draw(operation, arm_id, f"rule{index}") < rule.rate and self._may_fire(index, rule):
                return rule.kind
        if operation not in settings.operations:
            return None
        value = self.draw(operation, arm_id)
        bounds = (
            ("permanent", settings.permanent_rate),
            ("transient", settings.transient_rate),
            ("lost", settings.lost_rate if operation in WRITES else 0.0),
        )
        for kind, rate in bounds:
            if value < rate:
                return kind
            value -= rate
        return None

    def _may_fire(self, index: int, rule: FaultRule) -> bool:
        """Count a rule's firing; False once it fired `times` times."""
        with self._lock:
            fired = self._fired.get(index, 0)
            if rule.times is not None and fired >= rule.times:
                return False
            self._fired[index] = fired + 1
            return True


def _fault(kind: str, operation: str, arm_id: str, settings: FaultSettings) -> BaseException:
    name = arm_id.rsplit("/", 1)[-1]
    if kind == "transient":
        digest = hashlib.blake2b(f"{settings.seed}|{arm_id}|{operation}".encode(), digest_size=2).digest()
        kind = _TRANSIENT_CYCLE[int.from_bytes(digest, "big") % len(_TRANSIENT_CYCLE)]
    if kind == "permanent":
        return ServiceError(
            400,
            "InjectedFault",
            f"The {operation} of '{name}' was refused by an injected permanent fault (local.faults).",
        )
    if kind == "throttle":
        return ServiceError(
            429,
            "TooManyRequests",
            "The request is being throttled (injected fault).",
            retry_after=settings.retry_after,
        )
    if kind == "busy":
        return ServiceError(
            409,
            "AnotherOperationInProgress",
            f"Another operation on '{name}' is in progress (injected fault).",
        )
    if kind == "internal":
        return ServiceError(500, "InternalServerError", "An internal error occurred (injected fault).")
    if kind == "dropped":
        return ConnectionResetError(
            f"connection reset by peer during {operation} of '{name}' (injected fault)"
        )
    return ServiceError(503, "ServiceUnavailable", "The service is temporarily unavailable (injected fault).")
