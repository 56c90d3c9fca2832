"""The Azure provider: the real SDK, its settings, credentials, retries and error mapping."""
