"""Guessing a block's language from its content, for fences without a tag (and for refining some tags)."""

from __future__ import annotations

import ast
import json
import re

_M = re.MULTILINE

# Strings and comments of C-like languages, matched left to right so that a '//' inside a string is not a comment.
_JS_TOKENS = re.compile(r"`(?:\\.|[^`\\])*`|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|//[^\n]*|/\*.*?\*/", re.DOTALL)


def strip_js_strings_and_comments(code: str) -> str:
    """The code with string/template literal contents and comments blanked (quotes kept, so `"x"` becomes `""`)."""

    def blank(match: re.Match) -> str:
        text = match.group(0)
        if text[0] in "`'\"":
            return text[0] * 2
        return " "

    return _JS_TOKENS.sub(blank, code)


def strip_js_comments(code: str) -> str:
    """The code with comments removed and strings kept."""
    return _JS_TOKENS.sub(lambda m: " " if m.group(0)[0] == "/" else m.group(0), code)


_JSX_OPEN = re.compile(r"(?<![\w$.\])])<([A-Za-z][\w.\-]*)(?:\s+[\w\-:]+(?:\s*=\s*(?:\"\"|''|\{))?|\s*/?>)")
_JSX_CLOSE = re.compile(r"</[A-Za-z][\w.\-]*\s*>|/>|<>|</>")
_JSX_RETURN = re.compile(r"(?:\breturn|=>)\s*\(?\s*<(?:[A-Za-z]|>)")


def has_jsx(code: str) -> bool:
    """JSX elements outside of strings and comments (a TypeScript generic is not an element)."""
    text = strip_js_strings_and_comments(code)
    if _JSX_RETURN.search(text) and _JSX_CLOSE.search(text):
        return True
    for match in _JSX_OPEN.finditer(text):
        after = text[match.end() : match.end() + 1]
        if after == "(":  # an arrow function's type parameters: <T>(x: T) => ...
            continue
        if _JSX_CLOSE.search(text, match.end()):
            return True
    return False


_TS_SIGNALS = [
    re.compile(
        r"^\s*(?:export\s+)?(?:declare\s+)?(?:interface|enum)\s+[A-Za-z_]\w*\s*(?:<[^>\n]*>)?\s*(?:\{|extends)", _M
    ),
    re.compile(r"^\s*(?:export\s+)?type\s+[A-Za-z_]\w*\s*(?:<[^>\n]*>)?\s*=", _M),
    re.compile(r"\b(?:let|const|var)\s+[A-Za-z_$][\w$]*\s*:\s*[A-Za-z_\[{(]"),
    re.compile(r"\(\s*[A-Za-z_$][\w$]*\??\s*:\s*(?:string|number|boolean|any|unknown|void|never|[A-Z]\w*|\{|\[)"),
    re.compile(
        r"\)\s*:\s*(?:string|number|boolean|void|any|unknown|never|Promise<|[A-Z]\w*(?:<[^>\n]*>)?(?:\[\])?)\s*(?:\{|=>)"
    ),
    re.compile(r"^\s*(?:public|private|protected|readonly)\s+[A-Za-z_$][\w$]*\s*[:;(=?]", _M),
    re.compile(r"\bas\s+(?:const|string|number|any|unknown|[A-Z]\w*(?:<[^>\n]*>)?)\b"),
    re.compile(r":\s*(?:string|number|boolean)(?:\[\])?\s*[;,)=]"),
    re.compile(r"\bimplements\s+[A-Z]\w*"),
]


def has_typescript(code: str) -> bool:
    text = strip_js_strings_and_comments(code)
    return any(pattern.search(text) for pattern in _TS_SIGNALS)


_MERMAID_START = re.compile(
    r"^(?:graph|flowchart)\s+(?:TD|TB|BT|RL|LR)\b|^(?:graph|flowchart)\s*$|^(?:sequenceDiagram|classDiagram(?:-v2)?|"
    r"stateDiagram(?:-v2)?|erDiagram|gantt|pie(?:\s+title\b.*)?|journey|gitGraph|mindmap|timeline|quadrantChart|"
    r"requirementDiagram|C4Context|C4Container|sankey-beta|xychart-beta|block-beta|packet-beta|architecture-beta)\s*$"
)


def is_mermaid(code: str) -> bool:
    lines = [line.strip() for line in code.splitlines()[:60]]
    index = 0
    if lines and lines[0] == "---":  # front matter (title, config)
        try:
            index = lines.index("---", 1) + 1
        except ValueError:
            return False
    for line in lines[index:]:
        if not line or line.startswith("%%"):
            continue
        return bool(_MERMAID_START.match(line))
    return False


_CPP_SIGNALS = re.compile(
    r"#\s*include\s*<(?:iostream|vector|string|map|unordered_map|set|unordered_set|algorithm|memory|sstream|"
    r"fstream|iomanip|queue|stack|deque|list|array|utility|functional|numeric|thread|mutex|chrono|random|tuple|"
    r"optional|variant|bitset|cmath|cstdio|cstdlib|cstring|climits|cassert|cctype|ctime|iterator|regex|limits|"
    r"bits/stdc\+\+\.h)>|\bstd::|\busing\s+namespace\b|\bcout\s*<<|\bcin\s*>>|\btemplate\s*<|\bnullptr\b|"
    r"^\s*(?:public|private|protected)\s*:|\bclass\s+\w+\s*(?::\s*public\b|\{)|\bnamespace\s+\w+\s*\{|\w::\w+\s*\(",
    _M,
)


def is_cpp(code: str) -> bool:
    return bool(_CPP_SIGNALS.search(code))


# fmt: off
_SHELL_COMMANDS = {
    "pip", "pip3", "python", "python3", "py", "npm", "npx", "yarn", "pnpm", "node", "cd", "mkdir", "ls", "cp", "mv",
    "rm", "echo", "export", "source", "sudo", "apt", "apt-get", "brew", "curl", "wget", "git", "gcc", "g++", "clang",
    "clang++", "javac", "java", "go", "cargo", "rustc", "chmod", "touch", "cat", "streamlit", "uvicorn", "flask",
    "docker", "conda", "make", "cmake", "tsc", "ts-node", "deno", "bun", "pytest", "virtualenv", "set", "uv",
    "pipenv", "poetry", "gradio", "rustup", "dotnet", "open", "start", "code", "vite", "tsx", "esbuild",
}
# fmt: on
_PROMPT = re.compile(r"^(?:\$|>|%|PS>|PS [^>]*>|[A-Za-z]:\\[^>]*>|\w+@[\w.-]+:[^$]*\$)\s+")


def looks_like_shell(code: str) -> bool:
    """Every meaningful line is a shell command (pip install..., cd app, ./main, $ python app.py)."""
    lines = [line.strip() for line in code.splitlines() if line.strip() and not line.strip().startswith("#")]
    if not lines or len(lines) > 60:
        return False
    commands = 0
    for line in lines:
        if _PROMPT.match(line):
            commands += 1
            continue
        word = line.split()[0]
        if word in _SHELL_COMMANDS or word.startswith(("./", ".\\")) or re.match(r"^[A-Z_]+=\S*$", word):
            commands += 1
    return commands == len(lines) or (commands >= 1 and _PROMPT.match(lines[0]) is not None)


_PY_STRONG = re.compile(
    r"^\s*def\s+\w+\s*\(.*\)\s*(?:->\s*[^:]+)?:\s*$|^\s*from\s+[\w.]+\s+import\s+[\w*(]|^import\s+[\w.]+(?:\s+as\s+\w+)?"
    r"(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*\s*$|^if\s+__name__\s*==|^\s*class\s+\w+(?:\([^)]*\))?\s*:\s*$|^\s*elif\s.*:\s*$|"
    r"\bprint\s*\(|^\s*async\s+def\s",
    _M,
)
_JS_SIGNALS = re.compile(
    r"\bconsole\.\w+\s*\(|\bfunction\s*\*?\s*[\w$]*\s*\(|=>|^\s*(?:const|let|var)\s+[\w${\[]|\brequire\s*\(|"
    r"^\s*import\s+[^\n]*\s+from\s+['\"]|^\s*import\s+['\"]|^\s*export\s+(?:default|const|function|class|async)\b|"
    r"\bdocument\.\w+|\bmodule\.exports\b|\bprocess\.(?:argv|stdin|stdout|exit)\b",
    _M,
)
_CSS_DECL = re.compile(r"^\s*-?[a-z][a-z-]*\s*:\s*[^;{}\n]+;\s*$", _M)
_CSS_SELECTOR = re.compile(r"^\s*[^\n{};=]*\{\s*$|^\s*[^\n{};=]*\{[^{}]*\}\s*$", _M)
_NOT_CSS = re.compile(
    r"^\s*(?:function|const|let|var|return|if|for|while|def|import|#include|public|class|fn|func)\b", _M
)
_HTML_START = re.compile(
    r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|div|section|main|canvas|p|h[1-6]|"
    r"form|table|ul|script|style|link|meta|button|header|nav|article|span|img|input)\b",
    re.IGNORECASE | re.DOTALL,
)
_SVG_START = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE svg[^>]*>\s*)?<svg\b", re.IGNORECASE | re.DOTALL
)
_VUE_SFC = re.compile(r"^\s*(?:<!--.*?-->\s*)*<(?:template|script\s+setup)\b", re.DOTALL)


def is_svg_document(code: str) -> bool:
    return bool(_SVG_START.match(code[:4000]))


def is_vue_sfc(code: str) -> bool:
    head = code[:20000]
    return bool(_VUE_SFC.match(head)) and ("<script" in head or "<template" in head)


def python_parses(code: str) -> bool:
    try:
        ast.parse(code)
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError
        return False
    return True


def sniff_language(code: str) -> str | None:
    """The language of unlabeled code, or None when nothing tells (sample output, prose)."""
    text = code.strip()
    if not text:
        return None
    first = text.splitlines()[0].strip()
    if first.startswith("#!"):
        for needle, language in (
            ("python", "python"),
            ("node", "javascript"),
            ("deno", "typescript"),
            ("ts-node", "typescript"),
            ("bash", "bash"),
            ("/sh", "bash"),
            ("zsh", "bash"),
        ):
            if needle in first:
                return language
    head = text[:20000]
    if is_vue_sfc(head):
        return "vue"
    if is_svg_document(head) or _HTML_START.match(head):
        return "html"
    if is_mermaid(text):
        return "mermaid"
    if re.search(r"^\s*#\s*include\s*[<\"]", head, _M) or re.search(r"^\s*int\s+main\s*\(", head, _M):
        return "cpp" if is_cpp(head) else "c"
    if re.search(r"^package\s+\w+\s*$", head, _M) and re.search(r"^func\s", head, _M):
        return "go"
    if re.search(r"\bfn\s+main\s*\(\s*\)", head) or (
        re.search(r"^\s*(?:pub\s+)?fn\s+\w+\s*[<(]", head, _M)
        and re.search(r"\blet\s+mut\b|\bprintln!|->|\buse\s+std::|\bimpl\b|&str|\bVec<", head)
    ):
        return "rust"
    if re.search(r"\bpublic\s+static\s+void\s+main\s*\(|\bSystem\.out\.print|^\s*import\s+java\.", head, _M) or (
        re.search(r"^\s*(?:public\s+)?(?:final\s+|abstract\s+)?class\s+\w+", head, _M)
        and re.search(r";\s*$", head, _M)
        and not _PY_STRONG.search(head)
        and not re.search(r"\bconstructor\s*\(", head)
    ):
        if re.search(r"^\s*using\s+System\b|\bConsole\.Write", head, _M):
            return "csharp"
        return "java"
    if looks_like_shell(text):
        return "bash"
    if text[0] in "{[":
        try:
            json.loads(text)
            return "json"
        except ValueError:
            pass
    if _PY_STRONG.search(head) and not re.search(r"^\s*(?:const|let|var)\s+\w+\s*=|\bfunction\s+\w+\s*\(", head, _M):
        return "python"
    if _JS_SIGNALS.search(head) or has_jsx(head) or has_typescript(head):
        jsx, ts = has_jsx(head), has_typescript(head)
        return ("tsx" if ts else "jsx") if jsx else ("typescript" if ts else "javascript")
    if _CSS_DECL.search(head) and _CSS_SELECTOR.search(head) and not _NOT_CSS.search(head):
        return "css"
    if len(text.splitlines()) >= 1 and re.search(r"[=(]", text) and python_parses(text):
        return "python"
    return None
