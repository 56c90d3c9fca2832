"""`aibplan generate`: resource files written from what the cloud holds, so an existing setup becomes a
stack (then `aibplan import --all` adopts it and `aibplan plan` says "No changes").

- `body`: the part of a cloud body a person would write (what the service fills in and its defaults left
  out, by the catalog's facts);
- `references`: ids of other generated resources written as `[resourceId(...)]` expressions, where the
  plan cannot tell the difference;
- `files`: one file per resource, its name and its text, and the stack's aibplan.json.
"""

from .body import declared_body
from .files import GeneratedFile, config_text, generated_files, main_location
from .references import resource_id_expression

__all__ = [
    "GeneratedFile",
    "config_text",
    "declared_body",
    "generated_files",
    "main_location",
    "resource_id_expression",
]
