"""Every rule of the domain, as keyword-only functions that take the session first.

Each function is one use case in one transaction, returns models or plain data, never prints,
and raises only `azctl.errors` types.
"""
