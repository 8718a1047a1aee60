"""The public Falcon endpoint (`azctl serve`) over `azctl.services`: built in its own issue.

Like `commands/` and `tui/`, it imports services and models and no other front end.
"""
