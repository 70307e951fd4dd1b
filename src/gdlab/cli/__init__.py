"""The ``gdlab`` command line: parse the options, call one library function, print.

``_app`` holds the typer commands, ``_options`` reads their values (parameter settings, ranges,
data) and spells the library's words for its arguments as options. ``main`` is the console
script; ``python -m gdlab.cli`` runs it too.
"""

from gdlab.cli._app import app, main

__all__ = ["app", "main"]
