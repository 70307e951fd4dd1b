"""``python -m gdlab.cli``: the ``gdlab`` command."""

from gdlab.cli import main

main()
