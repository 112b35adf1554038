"""File names taken from an answer, made safe: relative, inside the workspace, printable."""

from __future__ import annotations

import posixpath
import re

MAX_COMPONENT = 120
MAX_PATH = 400
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f<>\"|?*]")
_DRIVE = re.compile(r"^[A-Za-z]:")

# Extension -> block language. ".h" is C unless the content says C++ (decided by the block parser).
# fmt: off
EXTENSION_LANGUAGE = {
    ".py": "python", ".pyw": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "jsx", ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx", ".html": "html",
    ".htm": "html", ".svg": "html", ".css": "css", ".scss": "scss", ".sass": "sass", ".less": "less", ".c": "c",
    ".h": "c", ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp", ".c++": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".java": "java", ".go": "go", ".rs": "rust", ".sh": "bash", ".bash": "bash", ".zsh": "bash", ".mmd": "mermaid",
    ".mermaid": "mermaid", ".vue": "vue", ".json": "json", ".md": "markdown", ".txt": "text", ".csv": "csv",
    ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".xml": "xml", ".sql": "sql", ".ini": "ini", ".cfg": "ini",
    ".env": "dotenv", ".mod": "gomod",
}
# fmt: on
SPECIAL_NAMES = {
    "Makefile": "makefile",
    "Dockerfile": "dockerfile",
    "requirements.txt": "text",
    "package.json": "json",
    "Cargo.toml": "toml",
    "go.mod": "gomod",
    ".env": "dotenv",
    ".gitignore": "text",
}


def safe_path(raw: str | None) -> str | None:
    """A relative POSIX path that cannot leave the workspace, or None when nothing usable remains.

    Backslashes become slashes; drive letters, leading slashes, '~', '.' and '..' components are dropped.
    """
    if not raw:
        return None
    text = raw.strip().strip("`'\"").strip()
    text = text.replace("\\", "/")
    text = _DRIVE.sub("", text)
    parts = []
    for part in text.split("/"):
        part = part.strip()
        if part in ("", ".", "..", "~") or _BAD_CHARS.search(part):
            continue
        parts.append(part[:MAX_COMPONENT])
    if not parts:
        return None
    path = posixpath.join(*parts)
    return path[:MAX_PATH] if len(path) <= MAX_PATH else None


def extension(path: str) -> str:
    base = posixpath.basename(path)
    if base in SPECIAL_NAMES:
        return ""
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def language_of_path(path: str | None) -> str | None:
    if not path:
        return None
    base = posixpath.basename(path)
    if base in SPECIAL_NAMES:
        return SPECIAL_NAMES[base]
    return EXTENSION_LANGUAGE.get(extension(path))


_FILENAME = re.compile(
    r"^[\w@.+\-/\\]*[\w\-+@]\.[A-Za-z+]{1,10}$|^(?:[\w.\-/]*/)?(?:Makefile|Dockerfile|\.env|\.gitignore)$"
)


def looks_like_filename(token: str) -> bool:
    """A path whose base name has a known extension (so 'e.g.' or 'v1.2' are not file names)."""
    token = token.strip()
    if not token or len(token) > MAX_PATH or " " in token or "://" in token:
        return False
    if not _FILENAME.match(token):
        return False
    return language_of_path(token.replace("\\", "/")) is not None
