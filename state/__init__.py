"""The state file: what aibplan last applied and observed, written for git.

This package never imports from `planner` or `providers`.
"""

from .model import FORMAT_VERSION, ResourceState, State
from .store import StateError, dumps_state, load_state, save_state

__all__ = [
    "FORMAT_VERSION",
    "ResourceState",
    "State",
    "StateError",
    "dumps_state",
    "load_state",
    "save_state",
]
