"""The package's import rules hold (tools/check_imports.py reads them from the source)."""

import ast
import importlib.util
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
