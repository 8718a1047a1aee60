"""The public Falcon endpoint (`azctl serve`) over `azctl.services` (docs/architecture.md).

Like `commands/` and `tui/`, it imports services and models and no other front end.
"""
