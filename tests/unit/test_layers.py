"""The layers of docs/architecture.md, read off the imports: the contract and the protocol
below both sides, neither side importing the other, the product never importing the lab,
and every import through ``is21``."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

# What each folder may import of the project; anything else is a layering error.
ALLOWED = {
    "schemas": {"schemas"},
    "protocol": {"schemas", "protocol"},
    "producer": {"schemas", "protocol", "producer"},
    "workers": {"schemas", "protocol", "workers"},
    "ops": {"schemas", "protocol", "producer", "workers", "ops"},
    # The lab measures and attacks the product; nothing of the product imports it.
    "lab": {"schemas", "protocol", "producer", "workers", "ops", "lab"},
}
OURS = set(ALLOWED)


def imported(path: Path) -> set[str]:
    """The project's top-level names a module imports, bare or under is21."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        for module in modules:
            parts = module.split(".")
            if parts[0] in OURS:
                names.add(f"bare {parts[0]}")
            elif parts[0] == "is21" and len(parts) > 1:
                names.add(parts[1])
    return names


def test_each_layer_imports_only_what_is_below_it() -> None:
    wrong = []
    for folder, allowed in ALLOWED.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in imported(path) - allowed:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_the_package_links_every_folder() -> None:
    for folder in [*ALLOWED, "models"]:
        link = ROOT / "is21" / folder
        assert link.is_symlink() and link.resolve() == (ROOT / folder).resolve(), link
