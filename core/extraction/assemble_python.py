"""Assembling Python programs: named modules, unnamed blocks named after the imports that need them, the entry
(framework app, __main__ guard, not imported by others), and the web files a Python server serves."""

from __future__ import annotations

import posixpath
import re

from core.extraction import analysis
from core.extraction.assemble_code import add_claimed
from core.extraction.assemble_web import Assembly, add_referenced_data, group_named
from core.extraction.environments import python_environment
from core.extraction.imports import STDLIB_MODULES
from core.extraction.items import Item, pick
from core.extraction.model import DEFAULT_ENTRY
from core.extraction.usage import append_usage, is_python_test, python_usage

PY_ENV_RANK = {"streamlit": 3, "gradio": 2, "pygame": 1, "python": 0}


FRAMEWORK_MODULE = {"streamlit": "streamlit", "gradio": "gradio", "pygame": "pygame"}


def _module_name(path: str) -> str:
    return posixpath.splitext(path)[0].replace("/", ".")


def local_python_modules(paths) -> set[str]:
    """Top-level names a program's own .py files provide (`pkg/mod.py` gives `pkg`; `src/utils.py` gives `src`
    and `utils`)."""
    names: set[str] = set()
    for path in paths:
        if path.endswith(".py"):
            parts = posixpath.splitext(path)[0].split("/")
            names.add(parts[0])
            names.add(parts[-1])
    return names


def _python_imported_modules(files: dict[str, str]) -> set[str]:
    modules: set[str] = set()
    for code in files.values():
        tree = analysis.parse_python(code)
        if tree is not None:
            for module, _ in analysis.python_local_imports(tree):
                modules.add(module)
                modules.add(module.split(".")[-1])
    return modules


def assemble_python(items: list[Item], notes: list[str], want_env: str | None) -> tuple[dict[str, str], str, str]:
    assembly = Assembly()
    scripts = [i for i in items if i.language == "python" and i.role == "program"]
    for item in group_named([i for i in scripts if i.path], notes):
        assembly.add(item.path, item)
    free = [i for i in scripts if not i.path]
    tests = [i for i in free if is_python_test(i.code)]
    if tests and len(tests) < len(free):
        free = [i for i in free if i not in tests]
        notes.append(f"ignored {len(tests)} unnamed test block(s)")
    _name_python_modules(assembly, free)
    free = [i for i in free if i.index not in assembly.used]
    imported = _python_imported_modules(assembly.files)
    entry_like = [
        p
        for p in assembly.files
        if p.endswith(".py")
        and analysis.python_is_entry(assembly.files[p])
        and _module_name(p) not in imported
        and posixpath.splitext(posixpath.basename(p))[0] not in imported
    ]
    if want_env and want_env != "python":
        entry_like = [p for p in entry_like if python_environment(assembly.files[p])[0] == want_env]
    if free and not entry_like:
        preferred = [i for i in free if want_env and i.env == want_env] or free
        chosen = pick(preferred, notes, "Python programs")
        env = want_env or chosen.env or "python"
        default = DEFAULT_ENTRY.get(env, "main.py")
        path = default if default not in assembly.files else ("main.py" if default != "main.py" else "app.py")
        later = [i for i in free if i.index > chosen.index and i.index not in assembly.used]
        usage = python_usage(chosen, later)
        assembly.add(path, chosen, append_usage(chosen.code, usage, "#") if usage else None)
        if usage:
            assembly.used.update(i.index for i in usage)
            notes.append(f"usage example(s) appended to {path}: blocks {', '.join(str(i.index + 1) for i in usage)}")
        _name_python_modules(assembly, [i for i in free if i is not chosen])
    elif free:
        notes.append(f"ignored {len(free)} unnamed Python block(s) beside the named files")
    envs = [python_environment(code)[0] for path, code in assembly.files.items() if path.endswith(".py")]
    env = want_env or max(envs or ["python"], key=lambda e: PY_ENV_RANK.get(e, 0))
    entry = _python_entry(assembly.files, env)
    add_claimed(assembly, items, ("templates/", "static/", "assets/"))
    add_referenced_data(assembly, items)
    notes.extend(assembly.notes)
    return assembly.files, entry, env


def _python_entry(files: dict[str, str], env: str) -> str:
    paths = [p for p in files if p.endswith(".py")]
    imported = _python_imported_modules(files)

    def rank(path: str) -> tuple:
        code = files[path]
        base = posixpath.basename(path)
        framework = FRAMEWORK_MODULE.get(env)
        is_test = bool(re.match(r"(?:test_.*|.*_test|conftest)\.py$", base)) or path.startswith("tests/")
        return (
            bool(framework) and python_environment(code)[0] == env,
            not is_test,
            _module_name(path) not in imported and posixpath.splitext(base)[0] not in imported,
            bool(re.search(r"^if\s+__name__\s*==", code, re.MULTILINE)),
            base in ("main.py", "app.py", "__main__.py", "streamlit_app.py", "game.py"),
            analysis.python_is_entry(code),
            -path.count("/"),
        )

    return max(paths, key=rank) if paths else next(iter(files))


def _name_python_modules(assembly: Assembly, free: list[Item]) -> None:
    """Unnamed blocks named after the module the other code imports from them (`from geometry import area` and a
    block defining `area` -> geometry.py)."""
    changed = True
    while changed:
        changed = False
        local = local_python_modules(assembly.files)
        importers = list(assembly.files.values()) + [i.code for i in free if i.index not in assembly.used]
        for code in importers:
            tree = analysis.parse_python(code)
            if tree is None:
                continue
            for module, names in analysis.python_local_imports(tree):
                if module.split(".")[0] in local or module.split(".")[0] in STDLIB_MODULES or not names:
                    continue
                for item in free:
                    if item.index in assembly.used or item.code == code:
                        continue
                    other = analysis.parse_python(item.code)
                    if other is not None and set(names) <= analysis.python_top_level_names(other):
                        path = module.replace(".", "/") + ".py"
                        assembly.add(path, item)
                        assembly.notes.append(f"block {item.index + 1} named {path}: the program imports it")
                        changed = True
                        break
                if changed:
                    break
            if changed:
                break
