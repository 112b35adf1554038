"""Small per-language facts about a block: is it a whole program, what it defines, exports and references."""

from __future__ import annotations

import ast
import builtins
import posixpath
import re

from core.extraction.imports import MAX_AST_CHARS, without_magics
from core.extraction.sniff import strip_js_comments, strip_js_strings_and_comments

_M = re.MULTILINE
_BUILTINS = set(dir(builtins)) | {
    "__name__",
    "__file__",
    "__doc__",
    "__builtins__",
    "__spec__",
    "__package__",
    "display",
    "get_ipython",
    "__annotations__",
    "__dict__",
    "__class__",
}


def parse_python(code: str) -> ast.Module | None:
    if len(code) > MAX_AST_CHARS:
        return None
    try:
        return ast.parse(without_magics(code))
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError (NUL), RecursionError
        return None


def python_undefined_names(tree: ast.Module) -> set[str]:
    """Names read somewhere but bound nowhere in the module (scopes ignored: a cheap 'is it self-contained')."""
    bound: set[str] = set()
    loaded: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return set()  # a star import may define anything
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.MatchAs) and node.name or isinstance(node, ast.MatchStar) and node.name:
            bound.add(node.name)
    return loaded - bound - _BUILTINS


def python_top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
    return names


def python_runs_something(tree: ast.Module) -> bool:
    """Top-level statements beyond definitions and imports (a call, a loop, a __main__ guard...)."""
    for index, node in enumerate(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
            continue
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and not any(
            isinstance(sub, ast.Call) for sub in ast.walk(node)
        ):
            continue
        return True
    return False


def python_local_imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """(module, names used from it) for absolute imports: `from m import a, b` -> (m, [a, b]);
    `import m` + `m.x` -> (m, [x])."""
    found: list[tuple[str, list[str]]] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level in (0, 1):
            found.append((node.module, [alias.name for alias in node.names if alias.name != "*"]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
    attributes: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            attributes.setdefault(aliases[node.value.id], []).append(node.attr)
    for module in aliases.values():
        found.append((module, sorted(set(attributes.get(module, [])))))
    return found


def python_is_complete(code: str) -> bool:
    tree = parse_python(code)
    if tree is None:
        return len(code) > MAX_AST_CHARS
    return not python_undefined_names(tree)


def python_is_entry(code: str) -> bool:
    tree = parse_python(code)
    if tree is None:
        return bool(re.search(r"^if\s+__name__\s*==", code, _M))
    return python_runs_something(tree)


# --- C-like languages ----------------------------------------------------------------------------------------


def has_c_main(code: str) -> bool:
    return bool(re.search(r"^\s*(?:int|void|signed\s+int|auto)\s+main\s*\(", code, _M))


def local_includes(code: str) -> list[str]:
    return re.findall(r"^\s*#\s*include\s*\"([^\"\n]+)\"", code, _M)


def header_guard_name(code: str) -> str | None:
    """`#ifndef STACK_H` -> stack.h (the guard's spelling of the header's name)."""
    match = re.search(r"^\s*#\s*ifndef\s+_*([A-Za-z][A-Za-z0-9_]*?)_(H|HPP|HH|H_)_*\s*$", code, _M)
    if not match:
        return None
    return f"{match.group(1).lower()}.{'hpp' if match.group(2).startswith('HPP') else 'h'}"


def looks_like_header(code: str) -> bool:
    return bool(re.search(r"^\s*#\s*(?:pragma\s+once|ifndef\s+\w+_H\w*)\b", code, _M))


def java_type_names(code: str) -> tuple[str | None, str | None]:
    """(public top-level type, first top-level type) of a Java source."""
    text = strip_js_strings_and_comments(code)
    public = re.search(
        r"^\s*public\s+(?:(?:abstract|final|sealed|static|strictfp)\s+)*"
        r"(?:class|interface|enum|record|@interface)\s+([A-Za-z_$][\w$]*)",
        text,
        _M,
    )
    first = re.search(
        r"^\s*(?:(?:public|abstract|final|sealed|static|strictfp)\s+)*(?:class|interface|enum|record)\s+"
        r"([A-Za-z_$][\w$]*)",
        text,
        _M,
    )
    return (public.group(1) if public else None), (first.group(1) if first else None)


def java_has_main(code: str) -> bool:
    return bool(re.search(r"\bstatic\s+(?:final\s+)?void\s+main\s*\(|\bvoid\s+main\s*\(\s*\)", code))


def go_has_main(code: str) -> bool:
    return bool(re.search(r"^func\s+main\s*\(\s*\)", code, _M))


def rust_has_main(code: str) -> bool:
    return bool(re.search(r"\bfn\s+main\s*\(\s*\)", code))


def rust_modules(code: str) -> list[str]:
    return re.findall(r"^\s*(?:pub\s+)?mod\s+(\w+)\s*;", code, _M)


# --- JavaScript ------------------------------------------------------------------------------------------------


def js_exports(code: str) -> tuple[str | None, set[str]]:
    """(default export's name, named exports) of a JS/TS module (ES modules and CommonJS)."""
    text = strip_js_comments(code)
    default = None
    match = re.search(r"\bexport\s+default\s+(?:async\s+)?(?:function\s*\*?|class)?\s*([A-Za-z_$][\w$]*)", text)
    if match and match.group(1) not in ("function", "class", "async"):
        default = match.group(1)
    match = re.search(r"\bmodule\.exports\s*=\s*([A-Za-z_$][\w$]*)\s*;?\s*$", text, _M)
    if match and default is None:
        default = match.group(1)
    named = set(
        re.findall(
            r"\bexport\s+(?:async\s+)?(?:function\s*\*?|class|const|let|var|interface|type|enum)\s+"
            r"([A-Za-z_$][\w$]*)",
            text,
        )
    )
    for group in re.findall(r"\bexport\s*\{([^}]*)\}", text):
        named.update(part.split(" as ")[-1].strip() for part in group.split(",") if part.strip())
    for group in re.findall(r"\bmodule\.exports\s*=\s*\{([^}]*)\}", text):
        named.update(re.split(r"\s*:\s*", part.strip())[0] for part in group.split(",") if part.strip())
    named.update(re.findall(r"\b(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=", text))
    if default:
        named.add(default)
    return default, {name for name in named if name}


# fmt: off
JS_GLOBALS = {
    "console", "Math", "JSON", "Number", "String", "Boolean", "Array", "Object", "Date", "Promise", "Set", "Map",
    "WeakMap", "WeakSet", "Symbol", "Error", "TypeError", "RangeError", "SyntaxError", "parseInt", "parseFloat",
    "isNaN", "isFinite", "setTimeout", "setInterval", "clearTimeout", "clearInterval", "setImmediate", "require",
    "fetch", "alert", "prompt", "confirm", "structuredClone", "queueMicrotask", "BigInt", "RegExp", "eval",
    "encodeURIComponent", "decodeURIComponent", "encodeURI", "decodeURI", "Intl", "Reflect", "Proxy", "Buffer",
    "process", "globalThis", "document", "window", "super", "import", "describe", "it", "test", "expect",
    "requestAnimationFrame", "atob", "btoa", "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "Function",
    "AbortController", "Event", "Image", "Audio", "Uint8Array", "Float32Array", "Float64Array", "Int32Array",
    "ArrayBuffer", "DataView", "Record", "Partial", "Readonly", "Exclude", "Omit", "Pick", "ReturnType", "if", "for",
    "while", "switch", "catch", "function", "return", "typeof", "await", "yield", "do", "with", "in", "of", "new",
    "async", "constructor", "get", "set", "static", "else", "delete", "void", "instanceof", "case",
}
# fmt: on
_JS_CALL = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*(?:<[^<>()]*>)?\s*\(")
_JS_DEFINITION = re.compile(
    r"\b(?:function\s*\*?|class|const|let|var|interface|type|enum)\s+([A-Za-z_$][\w$]*)|"
    r"^\s*(?:(?:async|static|get|set|public|private|protected|readonly)\s+)*([A-Za-z_$][\w$]*)\s*(?:<[^<>]*>)?\s*"
    r"\([^()]*\)\s*(?::\s*[^{;=]+)?\{",
    re.MULTILINE,
)
_JS_PARAMS = re.compile(r"\(([^()]*)\)\s*(?::\s*[^{;=]+)?(?:=>|\{)|([A-Za-z_$][\w$]*)\s*=>")


def js_undefined_calls(code: str) -> set[str]:
    """Functions a JS/TS block calls without defining, importing or receiving them (and that are not globals)."""
    text = strip_js_strings_and_comments(code)
    defined = {a or b for a, b in _JS_DEFINITION.findall(text)}
    for group, single in _JS_PARAMS.findall(text):
        defined.update(re.findall(r"[A-Za-z_$][\w$]*", group or single))
    for group in re.findall(r"\b(?:import|const|let|var)\s*\{([^}]*)\}", text):
        defined.update(re.findall(r"[A-Za-z_$][\w$]*", group))
    defined.update(re.findall(r"\bimport\s+([A-Za-z_$][\w$]*)", text))
    defined.update(re.findall(r"\bas\s+([A-Za-z_$][\w$]*)", text))
    return {name for name in _JS_CALL.findall(text) if name not in defined and name not in JS_GLOBALS}


def js_relative_imports(code: str) -> list[tuple[str, str | None, list[str]]]:
    """(specifier, default import name, named imports) for relative imports and requires."""
    text = strip_js_comments(code)
    found = []
    pattern = re.compile(
        r"\bimport\s+(?:type\s+)?([\w$]+)?\s*,?\s*(?:\{([^}]*)\}|\*\s+as\s+[\w$]+)?\s*from\s*['\"]"
        r"(\.{1,2}/[^'\"\n]+)['\"]|\bimport\s*['\"](\.{1,2}/[^'\"\n]+)['\"]|"
        r"(?:(?:const|let|var)\s+(?:([\w$]+)|\{([^}]*)\})\s*=\s*)?require\(\s*['\"](\.{1,2}/[^'\"\n]+)['\"]\s*\)"
    )
    for match in pattern.finditer(text):
        if match.group(3):
            names = [part.split(" as ")[0].strip() for part in (match.group(2) or "").split(",") if part.strip()]
            found.append((match.group(3), match.group(1), names))
        elif match.group(4):
            found.append((match.group(4), None, []))
        else:
            names = [
                re.split(r"\s*:\s*", part.strip())[0] for part in (match.group(6) or "").split(",") if part.strip()
            ]
            found.append((match.group(7), match.group(5), names))
    return found


def html_references(code: str) -> list[tuple[str, str]]:
    """(kind, path) of local files an HTML page loads: ("css", "style.css"), ("js", "app.js")."""
    found = []
    for tag in re.finditer(r"<link\b[^>]*>", code, re.IGNORECASE):
        href = re.search(r"\bhref\s*=\s*[\"']([^\"']+)[\"']", tag.group(0), re.IGNORECASE)
        if (
            href
            and _is_local(href.group(1))
            and ("stylesheet" in tag.group(0).lower() or href.group(1).lower().split("?")[0].endswith(".css"))
        ):
            found.append(("css", href.group(1)))
    for tag in re.finditer(r"<script\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"'][^>]*>", code, re.IGNORECASE):
        if _is_local(tag.group(1)):
            found.append(("js", tag.group(1)))
    return found


def _is_local(reference: str) -> bool:
    return not re.match(r"^(?:[a-z][a-z0-9+.-]*:|//|#|\{)", reference.strip(), re.IGNORECASE)


def resolve_relative(importer: str | None, specifier: str) -> str:
    base = posixpath.dirname(importer or "")
    return posixpath.normpath(posixpath.join(base, specifier.split("?")[0])).lstrip("/")


_QUOTED = re.compile(r"[\"'`]([^\"'`\n]{1,300})[\"'`]")


def mentioned_files(text: str) -> set[str]:
    """Paths and base names that appear as quoted strings in code (`open("data.csv")`, `'templates/index.html'`)."""
    found: set[str] = set()
    for match in _QUOTED.finditer(text):
        value = match.group(1).strip().lstrip("./")
        if value:
            found.add(value)
            found.add(posixpath.basename(value))
    return found


def is_html_document(code: str) -> bool:
    return bool(re.search(r"<!doctype\s+html|<html\b|<body\b|<head\b", code[:20000], re.IGNORECASE))
