"""The data that extraction produces: fenced code blocks and the program chosen from them."""

from __future__ import annotations

from dataclasses import dataclass, field

# fmt: off
ENVIRONMENTS = (
    "python", "streamlit", "gradio", "pygame", "html", "react", "vue", "mermaid", "javascript", "typescript", "c",
    "cpp", "java", "go", "rust", "markdown",
)
# fmt: on

# The ten product languages a Program's `language` is one of.
LANGUAGES = ("python", "javascript", "typescript", "html", "c", "cpp", "java", "go", "rust", "markdown")

# Environment -> program language. React and Vue are "javascript" unless their source is TypeScript (decided per
# program); mermaid diagrams are written in a markdown fence, so their language is "markdown" like a no-code answer.
# fmt: off
ENVIRONMENT_LANGUAGE = {
    "python": "python", "streamlit": "python", "gradio": "python", "pygame": "python", "html": "html",
    "react": "javascript", "vue": "javascript", "mermaid": "markdown", "javascript": "javascript",
    "typescript": "typescript", "c": "c", "cpp": "cpp", "java": "java", "go": "go", "rust": "rust",
    "markdown": "markdown",
}
# fmt: on

# Entry file names used when the answer names none.
# fmt: off
DEFAULT_ENTRY = {
    "python": "main.py", "pygame": "main.py", "streamlit": "app.py", "gradio": "app.py", "html": "index.html",
    "react": "App.jsx", "vue": "App.vue", "mermaid": "diagram.mmd", "javascript": "main.js", "typescript": "main.ts",
    "c": "main.c", "cpp": "main.cpp", "java": "Main.java", "go": "main.go", "rust": "main.rs",
}
# fmt: on


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block of an answer.

    language: normalized (python, javascript, typescript, jsx, tsx, html, css, c, cpp, java, go, rust, bash,
        mermaid, vue, json, markdown, text, ...), taken from the tag, refined by the filename's extension, or
        inferred from the content when the fence has no tag; None when nothing tells.
    tag: the raw info string after the fence ("" for an unlabeled fence).
    filename: a safe relative path given in the fence, on the line before it, or in the block's first-line
        comment; None when the answer names no file.
    code: the content, with the fence's own indentation removed.
    line: 1-based line number of the opening fence in the answer.
    """

    language: str | None
    tag: str
    filename: str | None
    code: str
    line: int


@dataclass
class Program:
    """What the answer asks to run.

    environment: one of ENVIRONMENTS.
    language: one of LANGUAGES; python for python/streamlit/gradio/pygame, html for html, javascript or typescript
        for react/vue (per the entry's source), markdown for mermaid and for answers without code, the environment
        id otherwise.
    files: relative path -> content; paths are safe (no '..', not absolute).
    entry: the main file within files; None for markdown.
    """

    environment: str
    language: str
    files: dict[str, str] = field(default_factory=dict)
    entry: str | None = None
    install_commands: list[str] = field(default_factory=list)
    python_packages: list[str] = field(default_factory=list)
    npm_packages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
