"""Making a plan: the desired stack against the state and the cloud (changes, drift,
consequences, targets, external references, saved plans)."""
