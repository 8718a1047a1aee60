"""The door screen (`azctl tui`): a Textual app over the check-in, capacity and reservation
services; `app.run()` is what the CLI calls.

Like `commands/` and `http/`, it imports services and models and no other front end.
"""
