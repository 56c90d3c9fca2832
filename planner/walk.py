"""Walk a DAG with a bounded worker pool: a node runs once everything before it succeeded.

A failure marks every node downstream as skipped ("upstream failed") and independent branches go on.
When `stop` is set no new node starts; nodes in flight finish and the rest are reported as not started.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import networkx as nx

N = TypeVar("N", bound=Hashable)


@dataclass
class WalkResult(Generic[N]):
    succeeded: list[N] = field(default_factory=list)
    failed: dict[N, BaseException] = field(default_factory=dict)
    skipped: dict[N, str] = field(default_factory=dict)
    not_started: list[N] = field(default_factory=list)


def walk(
    graph: nx.DiGraph,
    visit: Callable[[N], None],
    *,
    parallelism: int = 10,
    stop: threading.Event | None = None,
    on_skip: Callable[[N, str], None] | None = None,
    describe: Callable[[N], str] = str,
) -> WalkResult[N]:
    """Run `visit(node)` for every node in dependency order, at most `parallelism` at once."""
    result: WalkResult[N] = WalkResult()
    waiting: dict[N, int] = {node: graph.in_degree(node) for node in graph.nodes}
    ready: list[N] = sorted((n for n, d in waiting.items() if d == 0), key=describe)
    done: set[N] = set()
    running: dict[Future[None], N] = {}

    def skip_downstream(node: N, reason: str) -> None:
        for later in sorted(nx.descendants(graph, node), key=describe):
            if later not in done and later not in result.skipped:
                result.skipped[later] = reason
                done.add(later)
                if on_skip is not None:
                    on_skip(later, reason)

    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="aibplan-walk") as pool:
        while ready or running:
            while ready and len(running) < max(1, parallelism) and not (stop is not None and stop.is_set()):
                node = ready.pop(0)
                if node in done:
                    continue
                running[pool.submit(visit, node)] = node
            if not running:
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                node = running.pop(future)
                done.add(node)
                error = future.exception()
                if error is not None:
                    result.failed[node] = error
                    skip_downstream(node, f"upstream failed: {describe(node)}")
                    continue
                result.succeeded.append(node)
                for later in graph.successors(node):
                    waiting[later] -= 1
                    if waiting[later] == 0 and later not in done:
                        ready.append(later)
                ready.sort(key=describe)
            if stop is not None and stop.is_set() and not running:
                break
    result.not_started = sorted((n for n in graph.nodes if n not in done), key=describe)
    return result
