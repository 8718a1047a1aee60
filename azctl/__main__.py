"""`python -m azctl`."""

from azctl.main import main

main()
