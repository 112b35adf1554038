"""Blocks in play while choosing a program: their role, environment, assigned path, and the alternatives rule."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from core.extraction import analysis
from core.extraction.environments import block_environment
from core.extraction.model import CodeBlock
from core.extraction.paths import safe_path
from core.extraction.sniff import is_svg_document, looks_like_shell, python_parses

CONFIG_FILE = re.compile(
    r"(?:^|/)(?:[\w-]+\.config\.(?:js|cjs|mjs|ts)|tsconfig(?:\.\w+)?\.json|\.babelrc|"
    r"jsconfig\.json|\.eslintrc(?:\.\w+)?|\.prettierrc(?:\.\w+)?)$"
)
DATA_LANGUAGES = {
    "json",
    "yaml",
    "toml",
    "csv",
    "xml",
    "sql",
    "ini",
    "dotenv",
    "text",
    "markdown",
    "gomod",
    "requirements",
    "makefile",
    "dockerfile",
}
SHELL_LANGUAGES = {"bash", "bat", "powershell"}
STYLE_LANGUAGES = {"css", "scss", "sass", "less"}
# fmt: off
FAMILY_OF_ENV = {
    "python": "python", "streamlit": "python", "gradio": "python", "pygame": "python", "html": "web", "dom": "web",
    "react": "react", "vue": "vue", "javascript": "node", "typescript": "ts", "c": "c", "cpp": "cpp", "java": "java",
    "go": "go", "rust": "rust", "mermaid": "mermaid",
}
# fmt: on


@dataclass
class Item:
    index: int
    block: CodeBlock
    language: str | None
    env: str | None
    role: str  # program, style, header, install, output, data, deps, config, other
    path: str | None
    code: str
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.code.strip())

    @property
    def basename(self) -> str | None:
        return posixpath.basename(self.path) if self.path else None


def make_item(index: int, block: CodeBlock) -> Item:
    language, code, path = block.language, block.code, block.filename
    if language == "python" and not path:
        first = next((line.strip() for line in code.splitlines() if line.strip()), "")
        if first.startswith(">>>"):
            language = "pycon"  # an interactive session: output to read, not a program to run
        elif looks_like_shell(code) and not python_parses(code):
            language = "bash"  # `pip install x` under a python tag
    env = block_environment(language, code)
    base = posixpath.basename(path) if path else ""
    if language in SHELL_LANGUAGES:
        role = "install"
    elif base == "requirements.txt" or language == "requirements" or base == "package.json":
        role = "deps"
    elif path and CONFIG_FILE.search(path):
        role = "config"
    elif language in STYLE_LANGUAGES:
        role = "style"
    elif language in ("c", "cpp") and (
        base.endswith((".h", ".hpp", ".hh", ".hxx"))
        or (not base and analysis.looks_like_header(code) and not analysis.has_c_main(code))
    ):
        role = "header"
    elif env is not None:
        role = "program"
    elif language in DATA_LANGUAGES and path:
        role = "data"
    elif language in (None, "text", "pycon", "diff", "markdown", "output"):
        role = "output"
    elif language in DATA_LANGUAGES:
        role = "data"
    else:
        role = "other"
    return Item(index=index, block=block, language=language, env=env, role=role, path=path, code=code)


def family(item: Item) -> str | None:
    return FAMILY_OF_ENV.get(item.env or "")


def is_complete(item: Item) -> bool:
    """Whether the block looks like a whole program rather than a snippet of one."""
    language, code = item.language, item.code
    if language == "python":
        return analysis.python_is_complete(code)
    if language in ("c", "cpp"):
        return analysis.has_c_main(code)
    if language == "java":
        return analysis.java_has_main(code)
    if language == "go":
        return analysis.go_has_main(code)
    if language == "rust":
        return analysis.rust_has_main(code)
    if language == "html" and item.env == "html":
        return analysis.is_html_document(code) or is_svg_document(code)
    if item.env in ("javascript", "typescript"):
        return not analysis.js_undefined_calls(code)
    if item.env == "react":
        return bool(re.search(r"\bexport\s+default\b|\bcreateRoot\s*\(|\bReactDOM\.render\s*\(|function\s+App\b", code))
    return True


def pick(items: list[Item], notes: list[str] | None = None, what: str = "") -> Item:
    """The alternatives rule: the last complete candidate (at least 40% of the largest one's size); when none is
    complete, the largest."""
    if len(items) == 1:
        return items[0]
    biggest = max(item.size for item in items)
    complete = [item for item in items if is_complete(item) and item.size >= 0.4 * biggest]
    chosen = complete[-1] if complete else max(items, key=lambda item: (item.size, item.index))
    if notes is not None:
        reason = "the last complete one" if complete else "the largest"
        notes.append(
            f"{len(items)} candidate {what or 'blocks'} (blocks {', '.join(str(i.index + 1) for i in items)}): "
            f"used {reason}, block {chosen.index + 1}"
        )
    return chosen


def unique_path(path: str, taken: set[str] | dict) -> str:
    if path not in taken:
        return path
    stem, ext = posixpath.splitext(path)
    number = 2
    while f"{stem}_{number}{ext}" in taken:
        number += 1
    return f"{stem}_{number}{ext}"


def safe(path: str | None) -> str | None:
    return safe_path(path)
