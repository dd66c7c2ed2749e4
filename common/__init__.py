"""Helpers every stage uses: typed configs with their bounds and CLI flags (config), the one
user-error type and the CLI wrapper (errors), atomic writes, hashes and the free-space check
(files), output-folder ownership (owner), run folders published by one symlink swap (runs).
Imports nothing from the stages."""
