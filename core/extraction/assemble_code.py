"""Assembling programs that run as scripts or compiled binaries: Node/TypeScript, C/C++, Java, Go, Rust,
and mermaid diagrams."""

from __future__ import annotations

import posixpath
import re

from core.extraction import analysis
from core.extraction.assemble_web import Assembly, add_referenced_data, group_named, resolve_script_imports
from core.extraction.items import Item, pick
from core.extraction.model import DEFAULT_ENTRY
from core.extraction.usage import append_usage, script_usage


def add_claimed(assembly: Assembly, items: list[Item], folders: tuple[str, ...]) -> None:
    """Named web files a server program serves: under templates/ static/ public/, or named in its code."""
    mentioned = analysis.mentioned_files("\n".join(assembly.files.values()))
    for item in items:
        if item.index in assembly.used or not item.path or item.role not in ("program", "style", "data"):
            continue
        if item.language not in ("html", "css", "javascript", "jsx", "typescript", "tsx") and item.role != "style":
            continue
        if item.path.startswith(folders) or item.path in mentioned or item.basename in mentioned:
            assembly.add(item.path, item)
            assembly.notes.append(f"{item.path} included: the program serves or reads it")


def assemble_script(items: list[Item], notes: list[str], env: str) -> tuple[dict[str, str], str]:
    """Node (javascript) or TypeScript scripts, with local modules they require/import."""
    assembly = Assembly()
    languages = ("javascript", "jsx") if env == "javascript" else ("typescript", "tsx", "javascript")
    scripts = [
        i for i in items if i.role == "program" and i.language in languages and i.env in (env, "javascript", "dom")
    ]
    main_like = [i for i in scripts if i.env == env]
    for item in group_named([i for i in scripts if i.path], notes):
        assembly.add(item.path, item)
    for item in items:
        if item.path and item.basename in ("package.json", "tsconfig.json") and item.index not in assembly.used:
            assembly.add(item.path, item)
    resolve_script_imports(assembly, scripts)
    imported = {
        analysis.resolve_relative(p, spec)
        for p, code in assembly.files.items()
        for spec, _, _ in analysis.js_relative_imports(code)
    }
    roots = [
        p
        for p in assembly.files
        if p.endswith((".js", ".ts", ".mjs", ".cjs", ".mts"))
        and posixpath.splitext(p)[0] not in imported
        and p not in imported
    ]
    free = [i for i in main_like if not i.path and i.index not in assembly.used]
    entry = None
    if free and not roots:
        chosen = pick(free, notes, f"{env} programs")
        usage = script_usage(chosen, [i for i in free if i.index > chosen.index])
        entry = assembly.add(DEFAULT_ENTRY[env], chosen, append_usage(chosen.code, usage, "//") if usage else None)
        if usage:
            assembly.used.update(i.index for i in usage)
            notes.append(f"usage example(s) appended to {entry}: blocks {', '.join(str(i.index + 1) for i in usage)}")
        resolve_script_imports(assembly, scripts)
    elif free:
        notes.append(f"ignored {len(free)} unnamed {env} block(s) beside the named files")
    if entry is None:
        preferred = ("main", "index", "app", "server", "script")
        roots.sort(key=lambda p: (posixpath.splitext(posixpath.basename(p))[0] not in preferred, p.count("/")))
        scripts_found = [
            p for p in assembly.files if p.endswith((".js", ".ts", ".mjs", ".cjs", ".mts", ".jsx", ".tsx"))
        ]
        entry = roots[0] if roots else (scripts_found[0] if scripts_found else "")
    add_claimed(assembly, items, ("public/", "static/", "views/"))
    add_referenced_data(assembly, items)
    notes.extend(assembly.notes)
    return assembly.files, entry


def assemble_c_family(items: list[Item], notes: list[str], env: str) -> tuple[dict[str, str], str]:
    assembly = Assembly()
    sources = [i for i in items if i.role == "program" and i.language in ("c", "cpp")]
    headers = [i for i in items if i.role == "header"]
    for item in group_named([i for i in sources + headers if i.path], notes):
        assembly.add(item.path, item)
    ext = ".cpp" if env == "cpp" else ".c"
    with_main = [i for i in sources if not i.path and analysis.has_c_main(i.code)]
    if with_main and not any(analysis.has_c_main(code) for code in assembly.files.values()):
        assembly.add(DEFAULT_ENTRY[env], pick(with_main, notes, f"{env} programs"))
    elif with_main:
        notes.append(f"ignored {len(with_main)} unnamed {env} block(s) beside the named files")
    loose_headers = [i for i in headers if not i.path]
    for _ in range(3):  # headers named by the includes that need them; implementation files after their header
        for path, code in list(assembly.files.items()):
            for include in analysis.local_includes(code):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(path), include))
                if target in assembly.files or posixpath.basename(target) in map(posixpath.basename, assembly.files):
                    continue
                free = [i for i in loose_headers if i.index not in assembly.used]
                guarded = [i for i in free if analysis.header_guard_name(i.code) == posixpath.basename(target).lower()]
                if guarded or free:
                    item = (guarded or free)[0]
                    assembly.add(target, item)
                    assembly.notes.append(f'block {item.index + 1} named {target} after #include "{include}"')
        for item in sources:
            if item.path or item.index in assembly.used or analysis.has_c_main(item.code):
                continue
            for include in analysis.local_includes(item.code):
                if include in assembly.files:
                    path = posixpath.splitext(include)[0] + ext
                    if path not in assembly.files:
                        assembly.add(path, item)
                        assembly.notes.append(f"block {item.index + 1} named {path}: it implements {include}")
                        break
    if not any(path.endswith((".c", ".cpp", ".cc", ".cxx", ".c++")) for path in assembly.files):
        free = [i for i in sources if i.index not in assembly.used]
        if free:  # no main anywhere (a truncated answer): the largest source is still the program
            assembly.add(DEFAULT_ENTRY[env], pick(free, notes, f"{env} sources"))
    leftover = [i for i in sources + headers if i.index not in assembly.used]
    if leftover:
        notes.append(f"ignored {len(leftover)} {env} snippet(s) that no file includes")
    if not assembly.files:
        return {}, ""
    mains = [p for p, code in assembly.files.items() if analysis.has_c_main(code)]
    mains.sort(key=lambda p: posixpath.basename(p) not in ("main.c", "main.cpp"))
    entry = mains[0] if mains else next(iter(assembly.files))
    add_referenced_data(assembly, items)
    notes.extend(assembly.notes)
    return assembly.files, entry


def assemble_java(items: list[Item], notes: list[str]) -> tuple[dict[str, str], str]:
    assembly = Assembly()
    by_path: dict[str, list[Item]] = {}
    for item in [i for i in items if i.role == "program" and i.language == "java"]:
        public, first = analysis.java_type_names(item.code)
        name = public or first
        path = item.path
        if public and (path is None or posixpath.basename(path) != f"{public}.java"):
            if path:
                notes.append(f"{path} renamed {public}.java after its public class")
            path = posixpath.join(posixpath.dirname(path or ""), f"{public}.java")
        elif path is None and name:
            path = f"{name}.java"
        if path is None:
            notes.append(f"ignored Java snippet without a class (block {item.index + 1})")
            continue
        by_path.setdefault(path, []).append(item)
    for path, group in by_path.items():
        assembly.add(path, pick(group, notes, f"versions of {path}") if len(group) > 1 else group[0])
    if not assembly.files:
        return {}, ""
    mains = [p for p, code in assembly.files.items() if analysis.java_has_main(code)]
    mains.sort(key=lambda p: posixpath.basename(p) != "Main.java")
    entry = mains[0] if mains else next(iter(assembly.files))
    add_referenced_data(assembly, items)
    notes.extend(assembly.notes)
    return assembly.files, entry


def assemble_single_main(items: list[Item], notes: list[str], env: str) -> tuple[dict[str, str], str]:
    """Go and Rust: named files kept; unnamed blocks with a main are alternatives; Rust `mod x;` names a block."""
    assembly = Assembly()
    has_main = analysis.go_has_main if env == "go" else analysis.rust_has_main
    sources = [i for i in items if i.role == "program" and i.language == env]
    for item in group_named([i for i in sources if i.path], notes):
        assembly.add(item.path, item)
    with_main = [i for i in sources if not i.path and has_main(i.code)]
    if with_main and not any(has_main(code) for code in assembly.files.values()):
        assembly.add(DEFAULT_ENTRY[env], pick(with_main, notes, f"{env} programs"))
    elif with_main:
        notes.append(f"ignored {len(with_main)} unnamed {env} block(s) beside the named files")
    if env == "rust":
        for path, code in list(assembly.files.items()):
            for module in analysis.rust_modules(code):
                target = posixpath.join(posixpath.dirname(path), f"{module}.rs")
                free = [i for i in sources if not i.path and i.index not in assembly.used and not has_main(i.code)]
                if target not in assembly.files and free:
                    chosen = next((i for i in free if re.search(rf"//.*\b{module}\b", i.code)), free[0])
                    assembly.add(target, chosen)
                    assembly.notes.append(f"block {chosen.index + 1} named {target} after `mod {module};`")
    if not assembly.files and sources:  # no main anywhere (a truncated answer): the largest block is the program
        assembly.add(DEFAULT_ENTRY[env], pick(sources, notes, f"{env} sources"))
    leftover = [i for i in sources if i.index not in assembly.used]
    if leftover:
        notes.append(f"ignored {len(leftover)} {env} snippet(s) without a main function")
    mains = [p for p, code in assembly.files.items() if has_main(code)]
    mains.sort(key=lambda p: posixpath.basename(p) != DEFAULT_ENTRY[env])
    entry = mains[0] if mains else next(iter(assembly.files))
    add_referenced_data(assembly, items)
    notes.extend(assembly.notes)
    return assembly.files, entry


def assemble_mermaid(items: list[Item], notes: list[str]) -> tuple[dict[str, str], str]:
    assembly = Assembly()
    diagrams = [i for i in items if i.env == "mermaid"]
    for number, item in enumerate(diagrams, start=1):
        path = item.path or ("diagram.mmd" if number == 1 else f"diagram_{number}.mmd")
        assembly.add(path, item)
    if len(diagrams) > 1:
        notes.append(f"{len(diagrams)} diagrams kept; the first is the entry")
    return assembly.files, next(iter(assembly.files))
