"""A stack as the engine loads it: JSON with comments, the model, the loader, expressions,
positions in files, the dependency graph."""
