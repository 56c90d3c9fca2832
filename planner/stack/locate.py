"""Turn JSON paths into file, line and column at the edge, only for the diagnostics that need them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from ..diagnostics import Diagnostic, JsonPath
from .jsonc import SourceMap


class Locator:
    """Caches one SourceMap per file; building one costs a scan of the file, so it happens lazily."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = texts
        self._maps: dict[str, SourceMap] = {}

    def position(self, file: str, path: JsonPath) -> tuple[int, int] | None:
        text = self._texts.get(file)
        if text is None:
            return None
        source_map = self._maps.get(file)
        if source_map is None:
            source_map = self._maps[file] = SourceMap(text)
        return source_map.locate_nearest(path)

    def place(self, diagnostic: Diagnostic, file: str, pointer: JsonPath) -> Diagnostic:
        """Fill in file/line/column for a diagnostic whose path is relative to the object at `pointer`."""
        if diagnostic.line is not None:
            return diagnostic
        position = self.position(file, (*pointer, *diagnostic.path))
        if position is None:
            return replace(diagnostic, file=file)
        return replace(diagnostic, file=file, line=position[0], column=position[1])


def place_all(
    diagnostics: Iterable[Diagnostic], locator: Locator, sources: Mapping[str, tuple[str, JsonPath]]
) -> list[Diagnostic]:
    """Place every diagnostic whose address is in `sources` (address → (file, pointer))."""
    out = []
    for d in diagnostics:
        if d.line is None and d.address in sources:
            file, pointer = sources[d.address]  # type: ignore[index]
            d = locator.place(d, file, pointer)
        out.append(d)
    return out
