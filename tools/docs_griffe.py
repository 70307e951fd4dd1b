"""A griffe extension for the docs site: Sphinx roles in gdlab's docstrings become links.

It also reads an ``Example:`` section as ``Examples:``, so its doctests show as code.

gdlab's docstrings name other objects as Sphinx does (``:func:`gdlab.descend```,
``:class:`~gdlab.Trajectory```). Markdown has no roles, so each becomes a cross-reference
when it names a public name (one of ``gdlab.__all__``, whose API page mkdocstrings writes),
and plain code otherwise (a private helper has no page to link to).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", flags=re.M)
_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj):`~?([^`]+)`")
_INIT = Path(__file__).resolve().parent.parent / "src" / "gdlab" / "__init__.py"


def public_names() -> set[str]:
    """The keys of ``_EXPORTS`` in ``gdlab/__init__.py``: the names in ``gdlab.__all__``."""
    for node in ast.parse(_INIT.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_EXPORTS":
            return set(ast.literal_eval(node.value))
    raise RuntimeError("no _EXPORTS in gdlab/__init__.py")


def linked(text: str, public: set[str]) -> str:
    """``text`` with each role a link to a public name's entry, or plain code."""

    def one(match: re.Match[str]) -> str:
        target = match.group(1)
        name = target.rsplit(".", 1)[-1]
        if name in public and (target == name or target.startswith("gdlab.")):
            return f"[`{name}`][gdlab.{name}]"
        return f"`{target}`"

    return _ROLE.sub(one, text)


class SphinxRoles(griffe.Extension):
    """Rewrites the roles of every docstring griffe loads."""

    def __init__(self) -> None:
        super().__init__()
        self.public = public_names()

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            # griffe reads "Examples:" as doctests shown as code; "Example:" would be prose.
            text = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
            obj.docstring.value = linked(text, self.public)
