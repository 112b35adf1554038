"""Fenced code blocks of a markdown answer: fences, tags, file names.

Fences are ``` or ~~~ of any length >= 3, possibly indented (inside lists); a block closes at a fence of the same
character at least as long, so a ```` fence can hold ``` lines. A fence still open at the end (a truncated answer)
yields its block. File names come from the info string, the line just before the fence, or the block's first-line
comment; each is made safe (see paths.safe_path).
"""

from __future__ import annotations

import re

from core.extraction.model import CodeBlock
from core.extraction.paths import language_of_path, looks_like_filename, safe_path
from core.extraction.sniff import is_cpp, is_svg_document, is_vue_sfc, sniff_language

_OPEN = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")
_CLOSE = re.compile(r"^([ \t]*)(`{3,}|~{3,})[ \t]*$")

# fmt: off
TAG_ALIASES = {
    "py": "python", "python": "python", "python3": "python", "python2": "python", "py3": "python",
    "ipython": "python", "ipython3": "python", "jupyter": "python", "sage": "python", "js": "javascript",
    "javascript": "javascript", "node": "javascript", "nodejs": "javascript", "mjs": "javascript",
    "cjs": "javascript", "es6": "javascript", "es": "javascript", "ecmascript": "javascript", "ts": "typescript",
    "typescript": "typescript", "mts": "typescript", "cts": "typescript", "jsx": "jsx", "react": "jsx",
    "javascriptreact": "jsx", "tsx": "tsx", "typescriptreact": "tsx", "html": "html", "htm": "html", "xhtml": "html",
    "html5": "html", "svg": "html", "css": "css", "css3": "css", "scss": "scss", "sass": "sass", "less": "less",
    "c": "c", "h": "c", "cpp": "cpp", "c++": "cpp", "cc": "cpp", "cxx": "cpp", "hpp": "cpp", "hxx": "cpp",
    "hh": "cpp", "h++": "cpp", "cplusplus": "cpp", "java": "java", "go": "go", "golang": "go", "rust": "rust",
    "rs": "rust", "bash": "bash", "sh": "bash", "shell": "bash", "console": "bash", "zsh": "bash",
    "shell-session": "bash", "shellsession": "bash", "terminal": "bash", "fish": "bash", "ksh": "bash", "cmd": "bat",
    "bat": "bat", "batch": "bat", "powershell": "powershell", "ps1": "powershell", "pwsh": "powershell",
    "mermaid": "mermaid", "mmd": "mermaid", "vue": "vue", "json": "json", "json5": "json", "jsonc": "json",
    "md": "markdown", "markdown": "markdown", "text": "text", "txt": "text", "plaintext": "text", "plain": "text",
    "output": "text", "out": "text", "log": "text", "stdout": "text", "result": "text", "none": "text",
    "nohighlight": "text", "yaml": "yaml", "yml": "yaml", "toml": "toml", "xml": "xml", "csv": "csv", "sql": "sql",
    "ini": "ini", "dockerfile": "dockerfile", "makefile": "makefile", "make": "makefile",
    "requirements": "requirements", "pip-requirements": "requirements", "diff": "diff", "csharp": "csharp",
    "cs": "csharp", "c#": "csharp", "kotlin": "kotlin", "kt": "kotlin", "swift": "swift", "ruby": "ruby",
    "rb": "ruby", "php": "php", "pycon": "pycon", "dotenv": "dotenv", "env": "dotenv",
}
# fmt: on
_JS_FAMILY = {"javascript", "jsx", "typescript", "tsx"}
_COMPATIBLE = [
    _JS_FAMILY,
    {"c", "cpp"},
    {"html", "xml", "vue"},
    {"text", "requirements", "csv"},
    {"yaml"},
    {"ini", "dotenv"},
]
_KEYED = re.compile(
    r"""\b(title|file|filename|name|path|src)\s*[=:]\s*("([^"]*)"|'([^']*)'|([^\s"'{},]+))""", re.IGNORECASE
)


def normalize_tag(token: str | None) -> str | None:
    """A fence tag's language token, normalized (py -> python, golang -> go, c++ -> cpp...); None when empty."""
    if not token:
        return None
    token = token.strip().strip("{}.").lower()
    if not token:
        return None
    token = token.removeprefix("language-")
    if token not in TAG_ALIASES:
        token = re.sub(r"^([a-z+#]+?)[\d.]+$", r"\1", token)  # python3.11, es2020, node18
    return TAG_ALIASES.get(token, token)


def parse_info(info: str) -> tuple[str | None, str | None]:
    """(language token, raw file name) from an info string: `python title="app.py"`, `js:src/App.js`,
    `{.python file=x.py}`, `app.py`, `python app.py`."""
    text = info.strip()
    filename = None
    keyed = _KEYED.search(text)
    if keyed:
        value = (keyed.group(3) or keyed.group(4) or keyed.group(5) or "").strip()
        filename = value if looks_like_filename(value) else None  # title="Example usage" is a caption
        text = (text[: keyed.start()] + " " + text[keyed.end() :]).strip()
    text = text.replace("{", " ").replace("}", " ").strip()
    tokens = text.split()
    language = None
    if tokens:
        first = tokens[0].lstrip(".")
        if ":" in first and not first.startswith("c:"):
            lang_part, _, rest = first.partition(":")
            if rest and looks_like_filename(rest) and filename is None:
                filename = rest
            first = lang_part
        if looks_like_filename(first) and normalize_tag(first) not in TAG_ALIASES.values():
            filename = filename or first
            first = ""
        language = first or None
        for token in tokens[1:]:
            token = token.strip("()[]\"'`,")
            if filename is None and looks_like_filename(token):
                filename = token
    return language, filename


_LIST_OR_HEADING = re.compile(r"^\s*(?:>\s*)*(?:#{1,6}\s+|(?:[-*+]|\d+[.)])\s+)?")
_LABEL = re.compile(r"^(?:file|filename|file name|path|name)\s*[:\-–]\s*", re.IGNORECASE)
_MARKED = re.compile(r"`([^`\n]+)`|\*\*([^*\n]+)\*\*|__([^_\n]+)__")


def filename_from_line(line: str) -> str | None:
    """A file name announced by the line before a fence: `**app.py**`, `### main.py`, `File: index.html`,
    `` `src/App.jsx`: ``, "Create `style.css`:" or a heading holding one file name."""
    raw = line.strip()
    if not raw or len(raw) > 200:
        return None
    is_heading = raw.startswith("#")
    body = _LIST_OR_HEADING.sub("", raw, count=1).strip()
    plain = body.replace("**", "").replace("__", " ").strip().strip("*_").strip()
    plain = re.sub(r"\s*[:：]\s*$", "", plain).strip()
    plain = _LABEL.sub("", plain).strip()
    plain = re.sub(r"^\d+[.)]\s+", "", plain).strip()
    candidate = plain.strip("`").strip()
    candidate = re.sub(r"\s*[:：]$", "", candidate)
    if looks_like_filename(candidate):
        return candidate
    marked = []
    for match in _MARKED.finditer(body):
        token = (match.group(1) or match.group(2) or match.group(3) or "").strip().strip("`").strip()
        token = _LABEL.sub("", token).strip()
        if looks_like_filename(token) and token not in marked:
            marked.append(token)
    if len(marked) != 1:
        return None
    starts_with_it = re.match(
        r"^[`*_\s]*(?:file(?:name)?\s*[:\-]\s*)?[`*_]*" + re.escape(marked[0]), body, re.IGNORECASE
    )
    if is_heading or body.rstrip("*_ ").endswith((":", "：")) or starts_with_it:
        return marked[0]
    return None


_FIRST_COMMENT = re.compile(
    r"^\s*(?://+|#+|--|;+|/\*+|<!--|\*)\s*(?:(?:file(?:name)?|path|name)\s*[:=]\s*)?`?([^\s`*]+?)`?"
    r"(?:\s+(?:[-–—(:].*)?)?\s*(?:\*/|-->)?\s*$",
    re.IGNORECASE,
)


def filename_from_first_comment(code: str) -> str | None:
    lines = code.lstrip("\n").splitlines()[:2]
    if not lines:
        return None
    line = lines[0]
    if line.startswith("#!") and len(lines) > 1:
        line = lines[1]
    if re.match(r"^\s*#\s*(?:include|define|pragma|if|ifndef|ifdef|endif|import)\b", line):
        return None
    match = _FIRST_COMMENT.match(line)
    if match and looks_like_filename(match.group(1)):
        return match.group(1)
    return None


def _compatible(tag_language: str | None, path_language: str | None) -> bool:
    if not tag_language or not path_language or tag_language == path_language:
        return True
    if tag_language == "bash" or path_language == "bash":
        return False
    return any(tag_language in family and path_language in family for family in _COMPATIBLE) or (
        path_language == "html" and tag_language == "svg"
    )


def _imports_itself(path: str, code: str) -> bool:
    """A name announced near a block cannot be right when the block imports that very file (prose such as
    "save the first block as `geometry.py`:" before the block that does `from geometry import ...`)."""
    stem = re.escape(path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    base = re.escape(path.rsplit("/", 1)[-1])
    return bool(
        re.search(rf"^\s*(?:from\s+{stem}\s+import|import\s+{stem}\b)", code, re.MULTILINE)
        or re.search(rf"""(?:from|require\(|import)\s*['"]\./{stem}(?:\.(?:js|jsx|ts|tsx|mjs|cjs|vue))?['"]""", code)
        or re.search(rf'^\s*#\s*include\s*"{base}"', code, re.MULTILINE)
    )


def _refine(language: str | None, filename: str | None, code: str, tag_given: bool) -> str | None:
    path_language = language_of_path(filename)
    if language in (None, "text") and path_language and (language is None or path_language != "text"):
        language = path_language if path_language != "requirements" else "text"
    elif (
        language in _JS_FAMILY
        and path_language in _JS_FAMILY
        or language in ("c", "cpp")
        and path_language in ("c", "cpp")
        and not (filename or "").endswith(".h")
    ):
        language = path_language
    elif language == "html" and path_language == "vue":
        language = "vue"
    if language is None and not tag_given:
        language = sniff_language(code)
    if language == "xml" and is_svg_document(code):
        language = "html"
    elif language == "html" and is_vue_sfc(code) and not re.search(r"<html|<!doctype", code[:3000], re.IGNORECASE):
        language = "vue"
    elif language == "c" and ((filename or "").endswith(".h") or not filename) and is_cpp(code):
        language = "cpp"
    return language


def _announced_name(before: list[str]) -> str | None:
    """The file name the prose just before a block gives: its last line, or a heading/bold line just above a
    one-line description ("### utils.py" / "Helper functions:")."""
    if not before:
        return None
    name = filename_from_line(before[-1])
    if name is None and len(before) > 1 and before[-2].lstrip().startswith(("#", "**", "__")):
        name = filename_from_line(before[-2])
    return name


def _block(tag: str, before: list[str], content: list[str], line: int) -> CodeBlock:
    code = "\n".join(content)
    if content:
        code += "\n"
    if not tag and not code.strip():
        return CodeBlock(language=None, tag=tag, filename=None, code=code, line=line)
    token, fence_name = parse_info(tag)
    language = normalize_tag(token)
    name = safe_path(fence_name) if fence_name else None
    if name is None:
        for candidate in (filename_from_first_comment(code), _announced_name(before)):
            candidate = safe_path(candidate)
            if (
                candidate
                and _compatible(language, language_of_path(candidate))
                and not _imports_itself(candidate, code)
            ):
                name = candidate
                break
    return CodeBlock(language=_refine(language, name, code, bool(token)), tag=tag, filename=name, code=code, line=line)


def _indent_width(text: str) -> int:
    return len(text.expandtabs(4))


def _dedent(line: str, width: int) -> str:
    removed = 0
    index = 0
    while index < len(line) and removed < width and line[index] in " \t":
        removed += 4 if line[index] == "\t" else 1
        index += 1
    return line[index:]


def parse_blocks(markdown: str) -> list[CodeBlock]:
    """Every fenced block of the answer, in order (see the module docstring)."""
    return split_answer(markdown)[0]


def split_answer(markdown: str) -> tuple[list[CodeBlock], str]:
    """(the fenced blocks, the prose: every line outside them)."""
    if not markdown:
        return [], ""
    prose: list[str] = []
    text = markdown.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the text's final newline ends the last line; it does not start another
    blocks: list[CodeBlock] = []
    index = 0
    previous_text: list[str] = []  # the last two non-blank lines since the previous block
    while index < len(lines):
        line = lines[index]
        stripped = line.lstrip(" \t")
        match = _OPEN.match(line) if stripped[:1] in ("`", "~") else None
        if match is None or (match.group(2)[0] == "`" and "`" in match.group(3)):
            if stripped:
                previous_text = [*previous_text[-1:], line]
            prose.append(line)
            index += 1
            continue
        indent, fence, info = match.group(1), match.group(2), match.group(3)
        width = _indent_width(indent)
        start = index
        content: list[str] = []
        index += 1
        while index < len(lines):
            body_line = lines[index]
            body_stripped = body_line.lstrip(" \t")
            if body_stripped[:1] == fence[0]:
                close = _CLOSE.match(body_line)
                if (
                    close
                    and close.group(2)[0] == fence[0]
                    and len(close.group(2)) >= len(fence)
                    and _indent_width(close.group(1)) <= width + 3
                ):
                    break
            content.append(_dedent(body_line, width))
            index += 1
        blocks.append(_block(info.strip(), previous_text, content, start + 1))
        previous_text = []
        index += 1
    return blocks, "\n".join(prose)
