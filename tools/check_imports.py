"""The package's import rules, read from its source (no import runs).

- import circles: sets of modules that import each other, directly or through others (every
  import that runs counts, at the top of a module or inside a function; those under
  ``if TYPE_CHECKING:`` run never and are reported apart, as type-only circles);
- private names imported across modules: ``from gdlab.m import _name`` (not a module) or
  ``m._name`` read from another gdlab module: a name two modules use is a public name of the
  lower one;
- ``render/`` imported from outside ``render/``, except by the package's front door
  (``gdlab/__init__.py``, whose public names ``plot``, ``animate``, ``save_figure``... are the
  drawing code's): the CLI, the demo and the web page draw through those public names, as a user
  does;
- the Parquet and Dask sources imported by anything but ``gdlab/data/_open.py``;
- layers: the front ends ``cli/``, ``web/`` and ``python -m gdlab`` imported by the library
  (anything but the front ends), and ``fitting/`` imported by ``data/``.

Run ``python tools/check_imports.py`` (exit status 1 when a rule is broken); ``tests/test_layout.py``
runs it too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src"
SOURCES = {"gdlab.data._parquet", "gdlab.data._dask"}
FRONT_ENDS = ("gdlab", "gdlab.__main__", "gdlab.cli", "gdlab._demo", "gdlab.web")
DRAWS = "gdlab"  # the one module outside render/ that imports it: the public names
OPENER = "gdlab.data._open"
RULES = ("circles", "private", "render", "sources", "layers")  # each must find nothing


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.joinpath("gdlab").rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The gdlab module ``name`` is, or the module it is a name of."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _type_only(tree: ast.AST) -> set[int]:
    """The lines of the imports under ``if TYPE_CHECKING:``."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, ast.Import | ast.ImportFrom):
                        lines.add(sub.lineno)
    return lines


def edges(name: str, tree: ast.AST, known: dict[str, Path]) -> list[tuple[str, str, int, str | None]]:
    """Every import of a gdlab module: (importer, imported, line, the private name taken or None)."""
    found = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, known)
                if target:
                    found.append((name, target, node.lineno, None))
                    aliases[alias.asname or alias.name] = target
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in known:  # a module
                    found.append((name, full, node.lineno, None))
                    aliases[alias.asname or alias.name] = full
                    continue
                target = _resolve(node.module, known)
                if target:
                    private = alias.name if alias.name.startswith("_") else None
                    found.append((name, target, node.lineno, private))
    for node in ast.walk(tree):  # module._name read from another module
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and f"{aliases[node.value.id]}.{node.attr}" not in known
        ):
            found.append((name, aliases[node.value.id], node.lineno, node.attr))
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _is_package_parent(importer: str, imported: str) -> bool:
    """A package's ``__init__`` that re-exports its own modules, and a module importing its package."""
    return imported.startswith(importer + ".") or importer.startswith(imported + ".")


def _is_front_end(name: str) -> bool:
    return name == "gdlab" or name.startswith(FRONT_ENDS[1:])


def _crosses_a_layer(importer: str, imported: str) -> bool:
    """A front end (the CLI, the web page) imported by the library, or the fits by the data."""
    front = imported.startswith(("gdlab.cli", "gdlab.web")) and not _is_front_end(importer)
    return front or (importer.startswith("gdlab.data") and imported.startswith("gdlab.fitting"))


def check() -> dict[str, list]:
    known = modules()
    graph: dict[str, set[str]] = {}
    typed: dict[str, set[str]] = {}
    report: dict[str, list] = {rule: [] for rule in RULES}
    notes: dict[str, set] = {"type-only circles": set()}
    for name, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        type_only = _type_only(tree)
        for importer, imported, line, private in edges(name, tree, known):
            if imported == importer:
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            if not _is_package_parent(importer, imported):
                typed.setdefault(importer, set()).add(imported)
                if line not in type_only:
                    graph.setdefault(importer, set()).add(imported)
            if private is not None:
                report["private"].append(f"{where} {imported}.{private}")
            draws = importer.startswith("gdlab.render") or importer == DRAWS
            if imported.startswith("gdlab.render") and not draws:
                report["render"].append(f"{where} imports {imported}")
            if imported in SOURCES and importer != OPENER:
                report["sources"].append(f"{where} imports {imported}")
            if _crosses_a_layer(importer, imported):
                report["layers"].append(f"{where} imports {imported}")
    report["circles"] = circles(graph)
    runtime = {tuple(c) for c in report["circles"]}
    notes["type-only circles"] = {tuple(c) for c in circles(typed)} - runtime
    return report | {k: sorted(v) for k, v in notes.items()}


def main() -> int:
    global ROOT
    if len(sys.argv) > 1:  # another checkout's src/, to compare
        ROOT = Path(sys.argv[1]).resolve()
    report = check()
    for rule, found in report.items():
        print(f"{rule}: {len(found)}")
        for item in found:
            print(f"  {item}")
    return 1 if any(report[rule] for rule in RULES) else 0


if __name__ == "__main__":
    raise SystemExit(main())
