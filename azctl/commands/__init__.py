"""The admin CLI: one Typer sub-app per noun, all printing through `output`."""
