"""``python -m suite`` runs the CLI."""

from suite.cli import main

main()
