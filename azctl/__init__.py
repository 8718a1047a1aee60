"""azctl: the box office of a small theatre company."""

__version__ = "0.1.0"
