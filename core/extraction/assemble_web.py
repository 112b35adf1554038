"""Assembling browser programs: HTML pages with their CSS/JS, React and Vue projects."""

from __future__ import annotations

import posixpath
import re

from core.extraction import analysis
from core.extraction.items import Item, pick, safe, unique_path
from core.extraction.sniff import has_jsx, has_typescript

SCRIPT_EXTENSIONS = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".vue")


class Assembly:
    """The files being collected for one program."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.items: dict[str, Item] = {}
        self.notes: list[str] = []
        self.used: set[int] = set()

    def add(self, path: str, item: Item, content: str | None = None) -> str:
        path = safe(path) or "file"
        if path in self.files and self.items.get(path) is not item:
            path = unique_path(path, self.files)
        self.files[path] = item.code if content is None else content
        self.items[path] = item
        self.used.add(item.index)
        item.path = path
        return path

    def has(self, path: str) -> bool:
        return path in self.files


def group_named(items: list[Item], notes: list[str]) -> list[Item]:
    """One item per named path (the alternatives rule among repeats of the same file), in order of appearance."""
    by_path: dict[str, list[Item]] = {}
    for item in items:
        by_path.setdefault(item.path or "", []).append(item)
    chosen = [
        pick(group, notes, f"versions of {path}") if len(group) > 1 else group[0] for path, group in by_path.items()
    ]
    return sorted(chosen, key=lambda item: item.index)


def _find_file(assembly: Assembly, path: str) -> str | None:
    """The collected file an import/reference points at (extension and /index optional)."""
    if path in assembly.files:
        return path
    for ext in SCRIPT_EXTENSIONS + (".css",):
        if path + ext in assembly.files:
            return path + ext
        if f"{path}/index{ext}" in assembly.files:
            return f"{path}/index{ext}"
    return None


def script_extension(item: Item) -> str:
    if item.language == "vue":
        return ".vue"
    typescript = item.language in ("typescript", "tsx") or (item.language is None and has_typescript(item.code))
    jsx = item.language in ("jsx", "tsx") or has_jsx(item.code)
    return (".tsx" if jsx else ".ts") if typescript else (".jsx" if jsx else ".js")


def matches_import(item: Item, specifier: str, default: str | None, names: list[str]) -> bool:
    stem = posixpath.splitext(posixpath.basename(specifier))[0].lower()
    if specifier.endswith((".css", ".scss")):
        return item.role == "style"
    if item.role != "program":
        return False
    if specifier.endswith(".vue") or item.language == "vue":
        if item.language != "vue" and item.env != "vue":
            return False
        declared = re.search(r"\bname\s*:\s*['\"]([\w-]+)['\"]", item.code)
        return declared is None or declared.group(1).replace("-", "").lower() == stem.replace("-", "")
    exported_default, exported = analysis.js_exports(item.code)
    if exported_default and exported_default.lower() == stem:
        return True
    if names and set(names) <= exported:
        return True
    component = re.search(r"(?:function|class|const)\s+([A-Z]\w*)", item.code)
    return bool(default and component and component.group(1).lower() == stem and stem == default.lower())


def resolve_script_imports(assembly: Assembly, pool: list[Item]) -> None:
    """Name unnamed blocks after the relative imports that point at them (`import TodoItem from './TodoItem'`,
    `import './App.css'`, `require('./utils')`), following newly named files too."""
    queue = list(assembly.files)
    while queue:
        importer = queue.pop(0)
        if not importer.endswith(SCRIPT_EXTENSIONS):
            continue
        for specifier, default, names in analysis.js_relative_imports(assembly.files[importer]):
            target = analysis.resolve_relative(importer, specifier)
            if _find_file(assembly, target):
                continue
            for item in pool:
                if item.index in assembly.used or item.path:
                    continue
                if matches_import(item, specifier, default, names):
                    has_ext = posixpath.splitext(target)[1] in SCRIPT_EXTENSIONS + (".css", ".scss")
                    path = assembly.add(target if has_ext else target + script_extension(item), item)
                    assembly.notes.append(f"block {item.index + 1} named {path} after the import in {importer}")
                    queue.append(path)
                    break


def _inject(html: str, tag: str, before: str) -> str:
    match = re.search(before, html, re.IGNORECASE)
    if match:
        return html[: match.start()] + tag + "\n" + html[match.start() :]
    return html + "\n" + tag + "\n"


def assemble_html(items: list[Item], notes: list[str]) -> tuple[dict[str, str], str]:
    assembly = Assembly()
    docs = [i for i in items if i.language == "html" and i.env == "html"]
    full = [i for i in docs if analysis.is_html_document(i.code) or i.path]
    named = group_named([i for i in docs if i.path], notes)
    for item in named:
        assembly.add(item.path, item)
    unnamed_docs = [i for i in full if not i.path] or ([] if named else [i for i in docs if not i.path])
    if unnamed_docs and not named:
        chosen = pick(unnamed_docs, notes, "HTML pages")
        assembly.add("index.html", chosen)
        if chosen.language == "html" and not analysis.is_html_document(chosen.code) and "<svg" in chosen.code[:5000]:
            notes.append("SVG shown as an HTML page")
    elif unnamed_docs:
        notes.append(f"ignored {len(unnamed_docs)} unnamed HTML block(s) beside the named page(s)")
    if not assembly.files:
        page = '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n</head>\n<body>\n</body>\n</html>\n'
        anchor = next(i for i in items if i.role in ("program", "style"))
        assembly.files["index.html"] = page
        assembly.items["index.html"] = anchor
        notes.append("the answer has no HTML page: index.html was generated to host its scripts/styles")
    pages = [path for path in assembly.files if path.endswith((".html", ".htm"))]
    entry = "index.html" if "index.html" in pages else pages[0]
    styles = [i for i in items if i.role == "style"]
    scripts = [i for i in items if i.role == "program" and i.language in ("javascript", "typescript", "jsx", "tsx")]
    for page in pages:
        base = posixpath.dirname(page)
        for kind, reference in analysis.html_references(assembly.files[page]):
            target = safe(posixpath.normpath(posixpath.join(base, reference.split("?")[0])))
            if not target or target in assembly.files:
                continue
            pool = styles if kind == "css" else scripts
            same = [i for i in pool if i.path == target] or [
                i for i in pool if i.basename == posixpath.basename(target)
            ]
            same = [i for i in same if i.index not in assembly.used]
            if same:
                item = pick(same)
                if item.path != target:
                    notes.append(f"{item.path} placed at {target}, where {page} loads it")
                assembly.add(target, item)
                continue
            free = [i for i in pool if not i.path and i.index not in assembly.used]
            if free:
                item = free[0] if kind == "css" else pick(free, notes, "unnamed scripts")
                assembly.add(target, item)
                notes.append(f"block {item.index + 1} named {target}, as {page} references it")
    for item in [i for i in styles + scripts if i.path and i.index not in assembly.used]:
        if family_ok(item):
            assembly.add(item.path, item)
            notes.append(f"{item.path} is not referenced by {entry}")
    loose_styles = [i for i in styles if not i.path and i.index not in assembly.used]
    if loose_styles:
        css = "\n".join(i.code for i in loose_styles)
        assembly.files[entry] = _inject(assembly.files[entry], f"<style>\n{css}</style>", r"</head>|<body\b")
        assembly.used.update(i.index for i in loose_styles)
        notes.append(f"{len(loose_styles)} unnamed CSS block(s) injected into {entry}")
    loose_scripts = [
        i for i in scripts if not i.path and i.index not in assembly.used and i.env in ("dom", "javascript")
    ]
    if loose_scripts:
        item = pick(loose_scripts, notes, "unnamed scripts")
        assembly.files[entry] = _inject(assembly.files[entry], f"<script>\n{item.code}</script>", r"</body>|</html>")
        assembly.used.add(item.index)
        notes.append(f"unnamed script (block {item.index + 1}) injected into {entry}")
    add_referenced_data(assembly, items)
    return assembly.files, entry


def family_ok(item: Item) -> bool:
    return item.role == "style" or item.env in ("dom", "javascript", "html")


def add_referenced_data(assembly: Assembly, items: list[Item]) -> None:
    """Named data files (JSON, CSV, text...) whose name the program's code mentions."""
    data = [item for item in items if item.role == "data" and item.path and item.index not in assembly.used]
    if not data:
        return
    mentioned = analysis.mentioned_files("\n".join(assembly.files.values()))
    for item in data:
        if item.path in mentioned or item.basename in mentioned:
            assembly.add(item.path, item)
            assembly.notes.append(f"data file {item.path} included: the program reads it")
