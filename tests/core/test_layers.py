"""Arrows only downward, read from the source itself: core knows no domain, audit and events only
record, the state-machine engine knows only core and what it writes, and rounds know nothing of
the applications (or sites) built on them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import demosites

PACKAGE = Path(demosites.__file__).parent

# layer → the only packages of demosites it may import
ONLY = {
    "core": {"core"},
    "audit": {"core", "audit"},
    "events": {"core", "events"},
    "statemachine": {"core", "audit", "events", "statemachine"},
}
# layer → packages of demosites it must not import (everything else is allowed)
NEVER = {"rounds": {"applications", "sites"}}


def imported_packages(source: str, module: str) -> set[str]:
    """The demosites packages `source` imports anywhere (also inside functions), as the first
    name after `demosites.`; `module` is its dotted name, for relative imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                names = [".".join([*base, node.module] if node.module else base)]
            else:
                names = [node.module or ""]
            if names == ["demosites"]:
                names = [f"demosites.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "demosites" and len(parts) > 1:
                found.add(parts[1])
    return found


def _arrows(layer: str) -> dict[str, set[str]]:
    """file (relative to the package) → demosites packages it imports, for every file of `layer`."""
    out = {}
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        module = ".".join(("demosites", *path.relative_to(PACKAGE).with_suffix("").parts))
        out[str(path.relative_to(PACKAGE))] = imported_packages(path.read_text("utf-8"), module)
    return out


@pytest.mark.parametrize("layer", sorted(ONLY))
def test_lower_layers_import_only_what_lies_below_them(layer: str) -> None:
    upward = {f: imports - ONLY[layer] for f, imports in _arrows(layer).items()}
    assert {f: up for f, up in upward.items() if up} == {}


@pytest.mark.parametrize("layer", sorted(NEVER))
def test_rounds_do_not_import_what_is_built_on_them(layer: str) -> None:
    upward = {f: imports & NEVER[layer] for f, imports in _arrows(layer).items()}
    assert {f: up for f, up in upward.items() if up} == {}


def test_the_reader_sees_imports_inside_functions_and_relative_ones() -> None:
    source = (
        "import demosites.auth.deps\n"
        "from demosites import sites\n"
        "from . import idempotency\n"
        "from ..applications.models import Action\n"
        "def later():\n"
        "    from demosites.ledger import service\n"
    )
    assert imported_packages(source, "demosites.core.db") == {
        "auth", "sites", "core", "applications", "ledger",
    }  # fmt: skip
