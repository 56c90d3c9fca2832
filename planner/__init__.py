"""aibplan: plan and apply Azure VM Image Builder pipelines from JSON kept in git (docs/architecture.md)."""

# The one place the version is written: pyproject.toml reads it from here (`aibplan --version` prints it
# without reading the installed package's metadata, which costs more than the rest of the start-up).
__version__ = "0.1.0"
