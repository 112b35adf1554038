"""Assembling React and Vue apps: components named after their imports, the mount file, styles, the page shell,
package.json and config files."""

from __future__ import annotations

import posixpath
import re

from core.extraction import analysis
from core.extraction.assemble_web import (
    SCRIPT_EXTENSIONS,
    Assembly,
    add_referenced_data,
    group_named,
    matches_import,
    resolve_script_imports,
    script_extension,
)
from core.extraction.items import Item, pick
from core.extraction.sniff import has_jsx


def _is_app_shell(item: Item) -> bool:
    return item.language == "html" and bool(re.search(r"id=[\"'](?:root|app)[\"']", item.code))


def assemble_component_app(items: list[Item], notes: list[str], env: str) -> tuple[dict[str, str], str]:
    """React or Vue: components, their CSS, the page shell, package.json and config files."""
    assembly = Assembly()
    scripts = [
        i
        for i in items
        if i.role == "program"
        and (
            i.env == env
            or i.language in ("javascript", "typescript", "jsx", "tsx", "vue")
            and i.env in ("javascript", "typescript", "dom", env)
        )
    ]
    main_like = [i for i in scripts if i.env == env]
    for item in group_named([i for i in scripts if i.path], notes):
        assembly.add(item.path, item)
    for item in items:
        if (
            item.path
            and item.role in ("style", "config", "deps")
            and (item.role != "deps" or item.basename == "package.json")
        ):
            assembly.add(item.path, item)
    shells = [i for i in items if _is_app_shell(i)]
    if shells:
        named_shell = [i for i in shells if i.path]
        shell = pick(named_shell or shells)
        assembly.add(shell.path or "index.html", shell)
    in_src = any(path.startswith("src/") for path in assembly.files)
    for item in scripts:
        if not item.path and item.index not in assembly.used and _is_bootstrap(item):
            path = assembly.add(("src/" if in_src else "") + "main" + _bootstrap_extension(item), item)
            notes.append(f"block {item.index + 1} mounts the app: kept as {path}")
    resolve_script_imports(assembly, scripts + [i for i in items if i.role == "style"])
    entry = _component_entry(assembly, env)
    free = [i for i in main_like if not i.path and i.index not in assembly.used]
    if free and entry is None:
        imported = _imported_by_others(free)
        chosen = pick([i for i in free if i.index not in imported] or free, notes, f"{env} components")
        entry = assembly.add(_default_component_path(chosen, env, assembly), chosen)
        resolve_script_imports(assembly, scripts + [i for i in items if i.role == "style"])
    elif free:
        notes.append(f"ignored {len(free)} unnamed {env} block(s) beside {entry}")
    if entry is None:
        candidates = [p for p in assembly.files if p.endswith(SCRIPT_EXTENSIONS)]
        entry = candidates[0] if candidates else next(iter(assembly.files))
    loose_styles = [i for i in items if i.role == "style" and i.index not in assembly.used]
    for item in loose_styles:
        path = assembly.add(posixpath.join(posixpath.dirname(entry), "styles.css"), item)
        notes.append(f"unnamed CSS (block {item.index + 1}) kept as {path}; no component imports it")
    add_referenced_data(assembly, items)
    notes.extend(assembly.notes)
    return assembly.files, entry


def _is_bootstrap(item: Item) -> bool:
    """A block that only mounts the app (`createRoot(...).render(<App />)`, `createApp(App).mount('#app')`)."""
    code = item.code
    mounts = re.search(r"\bcreateRoot\s*\(|\bReactDOM\.render\s*\(|\bcreateApp\s*\([A-Z]\w*\s*\)", code)
    return bool(mounts) and not re.search(r"\bexport\s+default\b", code) and bool(analysis.js_relative_imports(code))


def _bootstrap_extension(item: Item) -> str:
    ext = script_extension(item)
    return ".ts" if ext == ".ts" else ".js" if ext == ".vue" else ext


def _imported_by_others(free: list[Item]) -> set[int]:
    """Unnamed blocks that another unnamed block imports (so they are not the app's root)."""
    imported: set[int] = set()
    for importer in free:
        for specifier, default, names in analysis.js_relative_imports(importer.code):
            for item in free:
                if (
                    item is not importer
                    and item.index not in imported
                    and matches_import(item, specifier, default, names)
                ):
                    imported.add(item.index)
                    break
    return imported


def _default_component_path(item: Item, env: str, assembly: Assembly) -> str:
    ext = script_extension(item)
    if env == "vue":
        if ext == ".vue" or item.language in ("vue", "html"):
            return "App.vue"
        if re.search(r"\bcreateApp\s*\(", item.code) and not re.search(r"export\s+default", item.code):
            return "main" + (".ts" if ext.startswith(".ts") else ".js")
        return "App" + (".ts" if ext.startswith(".ts") else ".js")
    if ext in (".js", ".ts"):
        ext = ".jsx" if ext == ".js" else ".tsx"
    in_src = any(path.startswith("src/") for path in assembly.files)
    return ("src/App" if in_src else "App") + ext


def _component_entry(assembly: Assembly, env: str) -> str | None:
    paths = [p for p in assembly.files if p.endswith(SCRIPT_EXTENSIONS)]
    apps = [p for p in paths if posixpath.splitext(posixpath.basename(p))[0] == "App"]
    if env == "vue":
        apps.sort(key=lambda p: (not p.endswith(".vue"), p.count("/")))
    else:
        apps.sort(key=lambda p: (p.endswith((".js", ".ts")), p.count("/")))
    if apps:
        return apps[0]
    components = [
        p
        for p in paths
        if (p.endswith(".vue") if env == "vue" else has_jsx(assembly.files[p]))
        and re.search(r"export\s+default", assembly.files[p])
    ]
    imported = {
        analysis.resolve_relative(p, spec)
        for p in paths
        for spec, _, _ in analysis.js_relative_imports(assembly.files[p])
    }
    roots = [p for p in components if posixpath.splitext(p)[0] not in imported and p not in imported]
    if roots:
        return roots[0]
    return components[0] if components else None
