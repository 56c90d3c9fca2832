"""`aibplan generate SCOPE... --out DIR`: resource files written from what the cloud holds.

The scopes (a resource group by name or id, or resource ids: a resource and its children) must lie in one
resource group, since a stack is one group. The cloud is read through the provider the stack in `--out`
would use: its aibplan.json's when it has one (its settings, its local cloud), else `--provider` (azure by
default) in the scope's subscription; then aibplan.json is written too. Nothing is overwritten: resources
the stack there already declares are left out, and a file that exists stops the command before any is
written.
"""

from __future__ import annotations

from pathlib import Path

from providers.base import ProviderError
from providers.catalog.arm_ids import fold_id, parse_resource_id

from ..generate import config_text, generated_files, main_location
from ..hooks import Hooks
from ..stack.loader import load_config, load_stack
from ..stack.model import CONFIG_FILE, Stack, StackConfig
from .control import OperationError, StackRejected
from .provider_errors import one_line
from .requests import GenerateRequest
from .results import Generated
from .workspace import provider_for

_GROUP_ID = "/subscriptions/{}/resourceGroups/{}"


def generate(request: GenerateRequest, hooks: Hooks | None = None) -> Generated:
    """Read the resources in the scopes and write one file per resource (and aibplan.json when missing)."""
    hooks = hooks or Hooks()
    if not request.scopes:
        raise OperationError("name what to generate: a resource group (name or id) or resource ids")
    existing = request.out / CONFIG_FILE
    config = _existing_config(request.out) if existing.is_file() else None
    subscription, group, prefixes = _scopes(request, config)
    if config is None:
        if request.provider == "local":
            raise OperationError(
                f"the local cloud belongs to a stack folder, and {request.out} has no {CONFIG_FILE}: give "
                "--out the stack whose local cloud (.aibplan/local-cloud.db) holds the resources"
            )
        config = StackConfig(subscription, group, "", provider=request.provider or "azure")
    elif request.provider is not None:
        config = StackConfig(**{**config.__dict__, "provider": request.provider})
    shown_group = _GROUP_ID.format(subscription, group)
    with provider_for(Stack(root=request.out, config=config, resources=()), hooks) as provider:
        try:
            listed = provider.list_resources(subscription, group)
        except ProviderError as exc:
            raise OperationError(f"reading {shown_group} failed: {one_line(exc)}") from None
    chosen = [b for b in listed if _inside(str(b.get("id", "")), prefixes)]
    files = generated_files(chosen, subscription=config.subscription_id, resource_group=config.resource_group)
    declared_ids = _declared(request.out) if existing.is_file() else {}
    skipped = tuple(declared_ids[fold_id(f.arm_id)] for f in files if fold_id(f.arm_id) in declared_ids)
    files = [f for f in files if fold_id(f.arm_id) not in declared_ids]
    if not files and not skipped:
        raise OperationError(
            f"found no identities, galleries, image definitions or image templates in "
            f"{', '.join(request.scopes)} ({provider_name(config)})"
        )
    in_the_way = [f.name for f in files if (request.out / f.name).exists()]
    if in_the_way:
        raise OperationError(
            f"{', '.join(in_the_way)} already exist(s) in {request.out}; nothing was written. Generate into "
            "another folder, or move them away first"
        )
    request.out.mkdir(parents=True, exist_ok=True)
    config_written = False
    if not existing.is_file():
        location = main_location(files) or ""
        existing.write_text(config_text(subscription, group, location, config.provider), encoding="utf-8")
        config_written = True
    for f in files:
        (request.out / f.name).write_text(f.text, encoding="utf-8")
    return Generated(request.out, tuple(f.name for f in files), config_written, skipped, shown_group)


def provider_name(config: StackConfig) -> str:
    return "the local cloud" if config.provider == "local" else f"Azure subscription {config.subscription_id}"


def _existing_config(out: Path) -> StackConfig:
    config, diagnostics = load_config(out)
    if config is None:
        raise StackRejected(diagnostics)
    return config


def _declared(out: Path) -> dict[str, str]:
    """Folded id -> address of what the stack in `out` declares (what loads of it: a partial load)."""
    stack, _diagnostics = load_stack(out, partial=True)
    return {} if stack is None else {fold_id(r.arm_id): r.address for r in stack.resources}


def _scopes(request: GenerateRequest, config: StackConfig | None) -> tuple[str, str, tuple[str, ...]]:
    """(subscription, resource group, folded id prefixes: () for the whole group) of the scopes."""
    default_subscription = request.subscription or (config.subscription_id if config else None)
    groups: set[tuple[str, str]] = set()
    prefixes: list[str] = []
    whole = False
    names: dict[tuple[str, str], tuple[str, str]] = {}
    for scope in request.scopes:
        subscription, group, prefix = _scope(scope, default_subscription)
        key = (subscription.lower(), group.lower())
        groups.add(key)
        names.setdefault(key, (subscription, group))
        if prefix is None:
            whole = True
        else:
            prefixes.append(prefix)
    if len(groups) > 1:
        shown = ", ".join(_GROUP_ID.format(*names[k]) for k in sorted(groups))
        raise OperationError(
            f"a stack is one resource group, and the scopes lie in {len(groups)} ({shown}); run generate "
            "once for each, each into its own --out folder"
        )
    (key,) = groups
    subscription, group = names[key]
    if config is not None and key != (config.subscription_id.lower(), config.resource_group.lower()):
        theirs = _GROUP_ID.format(config.subscription_id, config.resource_group)
        raise OperationError(
            f"the stack in {request.out} is for {theirs}, not {_GROUP_ID.format(subscription, group)}; "
            "generate into another folder"
        )
    if config is not None:
        subscription, group = config.subscription_id, config.resource_group
    return subscription, group, () if whole else tuple(prefixes)


def _scope(scope: str, default_subscription: str | None) -> tuple[str, str, str | None]:
    """(subscription, group, folded resource id or None for the whole group) of one SCOPE."""
    text = scope.strip().rstrip("/")
    parts = text.split("/")
    is_group = len(parts) == 5 and not parts[0] and parts[1].lower() == "subscriptions"
    if is_group and parts[3].lower() == "resourcegroups" and parts[4]:
        return parts[2], parts[4], None
    if text.startswith("/"):
        rid = parse_resource_id(text)
        if rid is None:
            raise OperationError(
                f"'{scope}' is neither a resource group nor a resource id "
                "(/subscriptions/SUB/resourceGroups/GROUP[/providers/...])"
            )
        return rid.subscription, rid.resource_group, fold_id(text)
    if "/" in text or not text:
        raise OperationError(f"'{scope}' is not a resource group name or id")
    if default_subscription is None:
        raise OperationError(
            f"'{scope}' is a resource group name: give its subscription with --subscription ID, or the "
            f"group's id (/subscriptions/SUB/resourceGroups/{text})"
        )
    return default_subscription, text, None


def _inside(arm_id: str, prefixes: tuple[str, ...]) -> bool:
    """Whether a listed resource is in the scopes: the whole group, or one of the resources or below it."""
    if not prefixes:
        return True
    folded = fold_id(arm_id)
    return any(folded == p or folded.startswith(p + "/") for p in prefixes)
