"""The door screen (`azctl tui`), a Textual app over the check-in service: its own issue.

Like `commands/` and `http/`, it imports services and models and no other front end.
"""
