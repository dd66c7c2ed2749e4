"""Helpers every stage uses: typed configs and CLI flags (config), the one user-error type and
the CLI wrapper (errors), atomic writes and hashes (files). Imports nothing from the stages."""
