"""``python -m promptkit.cli``: the command line."""

from promptkit.cli import main

main()
