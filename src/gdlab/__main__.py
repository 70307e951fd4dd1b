"""``python -m gdlab``: the command line, as the ``gdlab`` script runs it."""

from gdlab.cli import main

if __name__ == "__main__":
    main()
