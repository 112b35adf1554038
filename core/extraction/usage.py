"""Usage examples and tests shown after a program.

Answers often give a module of definitions, then "Example usage:" in a small block that calls them. Run alone, the
definitions print nothing, so such usage blocks are appended to the chosen program. Test blocks (unittest/pytest)
are kept out of the choice of the program itself.
"""

from __future__ import annotations

import re

from core.extraction import analysis
from core.extraction.items import Item

_M = re.MULTILINE
_PY_TEST = re.compile(
    r"^\s*(?:import\s+(?:unittest|pytest)\b|from\s+(?:unittest|pytest)\b|def\s+test_\w*\s*\(|class\s+Test\w*\s*[(:])",
    _M,
)
_JS_DEFINED = re.compile(
    r"^\s*(?:export\s+)?(?:async\s+)?(?:function\s*\*?\s*|class\s+|(?:const|let|var)\s+)([\w$]+)", _M
)


def is_python_test(code: str) -> bool:
    return bool(_PY_TEST.search(code))


def python_usage(chosen: Item, later: list[Item]) -> list[Item]:
    """Later unnamed Python blocks that only call what the chosen block defines, when the chosen block itself runs
    nothing."""
    tree = analysis.parse_python(chosen.code)
    if tree is None or analysis.python_runs_something(tree):
        return []
    defined = analysis.python_top_level_names(tree)
    for node in tree.body:
        if hasattr(node, "names") and node.__class__.__name__ in ("Import", "ImportFrom"):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    found = []
    for item in later:
        other = analysis.parse_python(item.code)
        if other is None or not analysis.python_runs_something(other) or is_python_test(item.code):
            continue
        undefined = analysis.python_undefined_names(other)
        redefined = analysis.python_top_level_names(other) & defined
        if undefined and undefined <= defined and not redefined:
            found.append(item)
    return found


def script_usage(chosen: Item, later: list[Item]) -> list[Item]:
    """Later unnamed JS/TS blocks that log results of what the chosen block defines (which logs nothing itself)."""
    if "console." in chosen.code:
        return []
    defined = set(_JS_DEFINED.findall(chosen.code))
    if not defined:
        return []
    found = []
    for item in later:
        own = set(_JS_DEFINED.findall(item.code))
        uses = any(re.search(rf"(?<![\w$.]){re.escape(name)}\b", item.code) for name in defined)
        if (
            "console." in item.code
            and uses
            and not own & defined
            and not re.search(r"\brequire\s*\(|\bimport\b", item.code)
        ):
            found.append(item)
    return found


def append_usage(code: str, usage: list[Item], comment: str) -> str:
    parts = [code.rstrip("\n") + "\n"]
    for item in usage:
        parts.append(f"\n{comment} Example usage from the answer (block {item.index + 1})\n{item.code}")
    return "".join(parts)
