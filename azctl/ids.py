"""Bounds on record ids, known without loading the database layer.

The CLI bounds its id options with this before any command runs, and `azctl --help` must not
pay for SQLAlchemy to draw them; `azctl.models` re-exports it for everything else.
"""

# The largest id an INTEGER primary key holds on PostgreSQL: front ends refuse larger ones as
# input rather than let the database fail on them.
MAX_ID = 2**31 - 1
