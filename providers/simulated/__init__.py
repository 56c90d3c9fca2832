"""The simulated Azure cloud: the service, its rules and SQLite store, builds, the local
provider and its fault injection."""
