"""Carrying a plan out and everything else that writes the cloud or the state: apply, retries,
cancel, the state's lock and journal recovery, state edits, refresh, the local portal."""
