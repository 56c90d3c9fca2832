"""Where resources live: the catalog of Azure types, the simulated cloud, the emulator and the Azure provider.

This package never imports from `planner` or `state`.
"""
