"""Renderers turn engine results into text (human, json, markdown, dot/mermaid). They never print."""
