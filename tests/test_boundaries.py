"""Package boundaries, read from the source: corenn's private names stay inside corenn, and the
dependency arrows point one way (rl never imports agents_zoo; corenn imports none of our packages).

Every import statement and every attribute access on a name bound to corenn is checked, so
`corenn.Tensor._node`, `from corenn.ops.common import node` style reaches into private modules
(`corenn._x`) and names (`_x`) are caught wherever they appear outside corenn/ and tests/corenn/.
"""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("corenn", "rl", "envs", "agents_zoo", "classical_ml", "generative", "scripts", "tests")


def python_files(*folders):
    for folder in folders:
        for base, dirs, files in os.walk(os.path.join(ROOT, folder)):
            dirs[:] = [d for d in dirs if not d.startswith((".", "__pycache__"))]
            for name in files:
                if name.endswith(".py"):
                    yield os.path.join(base, name)


def relpath(path):
    return os.path.relpath(path, ROOT)


def imported_modules(tree):
    """(module, names) for every import in a syntax tree."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, tuple(a.name for a in node.names)


def is_private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_corenn_uses(tree):
    """Private corenn names a module imports or reaches through attributes of corenn objects."""
    found = []
    corenn_aliases = set()
    for module, names in imported_modules(tree):
        if module.split(".")[0] != "corenn":
            continue
        found += [module for part in module.split(".") if is_private(part)]
        found += [f"{module}.{n}" for n in names if is_private(n)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            corenn_aliases |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("corenn")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("corenn"):
            corenn_aliases |= {a.asname or a.name for a in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in corenn_aliases:
                found.append(ast.unparse(node))
    return found


OUTSIDE_CORENN = [p for p in python_files(*PACKAGES)
                  if not relpath(p).startswith(("corenn" + os.sep, os.path.join("tests", "corenn") + os.sep))
                  and relpath(p) != os.path.join("tests", "test_boundaries.py")]


def test_no_module_outside_corenn_uses_a_private_corenn_name():
    offenders = {}
    for path in OUTSIDE_CORENN:
        uses = private_corenn_uses(ast.parse(open(path, encoding="utf-8").read()))
        if uses:
            offenders[relpath(path)] = sorted(set(uses))
    assert not offenders, f"private corenn names used outside corenn: {offenders}"


@pytest.mark.parametrize("package, forbidden", [
    ("rl", ("agents_zoo", "classical_ml", "generative", "scripts")),
    ("corenn", ("rl", "envs", "agents_zoo", "classical_ml", "generative", "scripts")),
    ("envs", ("rl", "agents_zoo", "classical_ml", "generative", "scripts")),
    ("classical_ml", ("rl", "envs", "agents_zoo", "generative", "scripts")),
])
def test_dependencies_point_one_way(package, forbidden):
    offenders = {}
    for path in python_files(package):
        bad = [m for m, _ in imported_modules(ast.parse(open(path, encoding="utf-8").read()))
               if m.split(".")[0] in forbidden]
        if bad:
            offenders[relpath(path)] = bad
    assert not offenders, f"{package} must not import {forbidden}: {offenders}"


def test_the_checker_sees_private_uses():
    tree = ast.parse("import corenn\nfrom corenn.ops.common import _x\nimport corenn._y\n"
                     "corenn.Tensor._node(1, (), None)\nfrom corenn import Tensor as T\nT._node\n")
    assert sorted(private_corenn_uses(tree)) == sorted(
        ["corenn.ops.common._x", "corenn._y", "corenn.Tensor._node", "T._node"])
