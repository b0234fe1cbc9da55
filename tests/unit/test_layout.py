"""The provider's shape is part of its contract: vendor first, shared layers below, small pieces.

* the shared layers (``http``, ``warehouse``, ``orchestration``) import no vendor, and ``http``
  imports nothing of Airflow;
* one vendor never imports the other, so a DAG file loads only its own vendor's code;
* no type folders (``hooks/``, ``operators/``...) at the top; no module over 450 lines and
  no function over 60 (the provider-info table excepted).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "plugins" / "retail_provider"
VENDORS = ("ocds", "retailnext")
SHARED = ("http", "warehouse", "orchestration")
DATA_TABLES = {"get_provider_info"}


def _module(path: Path) -> str:
    rel = path.relative_to(PROVIDER.parent).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


MODULES = {_module(p): p for p in PROVIDER.rglob("*.py")}


@pytest.mark.parametrize("name", sorted(MODULES), ids=str)
def test_layers_point_down(name):
    package = name.split(".")[1] if name.count(".") else ""
    imported = _imports(MODULES[name])
    if package in SHARED:
        vendors = {m for m in imported if m.split(".")[:2] in (["retail_provider", v] for v in VENDORS)}
        assert not vendors, f"{name} (a shared layer) imports a vendor: {sorted(vendors)}"
    if package == "http":
        assert not {m for m in imported if m.split(".")[0] == "airflow"}, f"{name} imports Airflow"
    for vendor in VENDORS:
        if package == vendor:
            other = next(v for v in VENDORS if v != vendor)
            assert not {m for m in imported if m.startswith(f"retail_provider.{other}")}, \
                f"{name} imports the other vendor ({other})"


def test_no_type_folders_at_the_top():
    folders = {p.name for p in PROVIDER.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders == {*VENDORS, *SHARED}
    assert not folders & {"hooks", "operators", "sensors", "triggers", "models", "loading", "factories", "common"}


@pytest.mark.parametrize("name", sorted(MODULES), ids=str)
def test_modules_and_functions_are_small(name):
    path = MODULES[name]
    lines = path.read_text().count("\n")
    assert lines <= 450, f"{name}: {lines} lines"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name not in DATA_TABLES:
            length = node.end_lineno - node.lineno + 1
            assert length <= 60, f"{name}.{node.name}: {length} lines"


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_dag_file_loads_only_its_own_vendor(vendor):
    """Parse every DAG file of one vendor in a fresh interpreter; the other vendor stays unloaded."""
    files = sorted(str(p) for p in (ROOT / "dags").glob(f"{vendor}_*.py"))
    other = next(v for v in VENDORS if v != vendor)
    code = (
        "import runpy, sys\n"
        f"for f in {files!r}: runpy.run_path(f)\n"
        f"print(sorted(m for m in sys.modules if m.startswith('retail_provider.{other}')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
