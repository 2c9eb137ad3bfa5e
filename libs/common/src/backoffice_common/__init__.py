"""Shared plumbing of the back-office services (design §1: config, tokens, errors,
DB sessions, the internal HTTP client, logging, health). Nothing service-specific."""
