"""The package's import rules hold (tools/check_imports.py reads them from the source)."""

import ast
import importlib.util
import shutil
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "check_imports.py"


def _checker():
    spec = importlib.util.spec_from_file_location("check_imports", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_circles_no_private_names_across_modules_and_one_opener_of_sources():
    checker = _checker()
    report = checker.check()
    for rule in checker.RULES:
        assert report[rule] == [], f"{rule}: {report[rule]}"


def test_only_the_opener_names_the_parquet_and_dask_sources():
    checker = _checker()
    known = checker.modules()
    assert {"gdlab.data._open", "gdlab.data._parquet", "gdlab.data._dask", "gdlab.fitting._fit"} <= set(known)
    importers = {
        importer
        for name, path in known.items()
        for importer, imported, _, _ in checker.edges(name, ast.parse(path.read_text()), known)
        if imported in checker.SOURCES and importer != imported
    }
    assert importers == {"gdlab.data._open"}


def _imports(checker, prefix):
    """Every gdlab module imported by the modules whose names start with ``prefix``."""
    known = checker.modules()
    return {
        imported
        for name, path in known.items()
        if name.startswith(prefix)
        for importer, imported, _, _ in checker.edges(name, ast.parse(path.read_text()), known)
        if importer != imported
    }


def test_the_fits_import_no_drawing_and_no_front_end_and_the_data_no_fits():
    checker = _checker()
    fits = _imports(checker, "gdlab.fitting")
    assert fits and not {m for m in fits if m.startswith(("gdlab.render", "gdlab.cli", "gdlab.web"))}
    assert not {m for m in _imports(checker, "gdlab.data") if m.startswith("gdlab.fitting")}
    assert checker._crosses_a_layer("gdlab.fitting._fit", "gdlab.cli._app")
    assert checker._crosses_a_layer("gdlab._engine", "gdlab.web._app")
    assert checker._crosses_a_layer("gdlab.data._open", "gdlab.fitting._fit")
    assert not checker._crosses_a_layer("gdlab.cli._app", "gdlab.fitting._fit")


def test_no_type_only_circle_through_the_fits_or_the_command_line():
    circles = _checker().check()["type-only circles"]
    assert not [c for c in circles if any(m.startswith(("gdlab.fitting", "gdlab.cli")) for m in c)]


def test_only_the_public_names_import_the_drawing_code(tmp_path):
    """The CLI, the demo and the web page draw through ``gdlab.plot`` and its siblings; the rule
    catches a front end reaching into ``render/`` (shown on a copy of the source that does)."""
    checker = _checker()
    for name in ("gdlab.cli", "gdlab._demo", "gdlab.web", "gdlab.fitting", "gdlab._engine"):
        assert not {m for m in _imports(checker, name) if m.startswith("gdlab.render")}, name
    shutil.copytree(checker.ROOT / "gdlab", tmp_path / "gdlab")
    app = tmp_path / "gdlab" / "cli" / "_app.py"
    app.write_text(app.read_text() + "\n\ndef _drawn():\n    from gdlab.render._palette import COLORS\n")
    checker.ROOT = tmp_path
    assert [f for f in checker.check()["render"] if "cli/_app.py" in f and "gdlab.render._palette" in f]


def test_one_rule_for_did_you_mean():
    """Every "did you mean" comes from ``gdlab._checks.closest``: no other module calls difflib."""
    src = Path(__file__).resolve().parent.parent / "src" / "gdlab"
    calling = sorted(str(p.relative_to(src)) for p in src.rglob("*.py") if "difflib" in p.read_text())
    assert calling == ["_checks.py"], calling
