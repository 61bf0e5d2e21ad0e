"""pyproject.toml declares every distribution the code imports, and the runtime list holds nothing only tests use.

A package that arrives only as another package's dependency can vanish when that
package changes its own; declaring what we import keeps an upgrade from breaking us.
"""
import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Runtime packages the app uses without importing them: the WSGI server it runs under, and eth-keys' fast backend.
USED_WITHOUT_IMPORT = {"gunicorn", "coincurve"}


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement such as ``psycopg[binary]==3.3.9`` (PEP 503)."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group()).lower()


RUNTIME = {_name(r) for r in PROJECT["dependencies"]}
TEST = {_name(r) for r in PROJECT["optional-dependencies"]["test"]}


def _imported_distributions(*folders: str) -> dict[str, set[str]]:
    """Distribution name -> the files under ``folders`` that import it (absolute imports of installed packages)."""
    owners = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top == "phr" or top not in owners:
                        continue  # not installed: a local module (tests' helpers, bench)
                    for dist in owners[top]:
                        found.setdefault(_name(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_app_imports_only_declared_runtime_packages():
    undeclared = {d: sorted(f) for d, f in _imported_distributions("phr").items() if d not in RUNTIME}
    assert undeclared == {}, "add these to [project] dependencies in pyproject.toml"


def test_tests_and_bench_import_only_declared_packages():
    undeclared = {d: sorted(f) for d, f in _imported_distributions("tests", "bench").items()
                  if d not in RUNTIME | TEST}
    assert undeclared == {}, "add these to the test extra in pyproject.toml"


def test_runtime_packages_are_used_by_the_app():
    unused = RUNTIME - set(_imported_distributions("phr")) - USED_WITHOUT_IMPORT
    assert unused == set(), "only tests use these: move them to the test extra"


@pytest.mark.parametrize("requirement", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"])
def test_requirements_are_pinned(requirement):
    assert "==" in requirement
