"""From a model's markdown answer to a program: fenced blocks, environment, files, entry and dependencies.

No execution happens here; runtimes/ runs what `extract_program` returns.

    ENVIRONMENTS      the environment ids
    CodeBlock         one fenced block (language, tag, filename, code, line)
    Program           environment, language, files, entry, install_commands, python_packages, npm_packages, notes
    parse_blocks      markdown -> list[CodeBlock]
    extract_program   markdown (+ the user's environment choice) -> Program
    detect_environment  markdown or bare code -> environment id

Program.language by environment: python/streamlit/gradio/pygame -> "python"; html -> "html"; react/vue ->
"javascript", or "typescript" when the entry is .ts/.tsx or a Vue SFC with <script lang="ts">; mermaid -> "markdown"
(a diagram written in a markdown fence, kept within the ten product languages); markdown (no code) -> "markdown";
every other environment -> its own id.
"""

from core.extraction.blocks import parse_blocks
from core.extraction.model import DEFAULT_ENTRY, ENVIRONMENT_LANGUAGE, ENVIRONMENTS, LANGUAGES, CodeBlock, Program
from core.extraction.program import detect_environment, extract_program

__all__ = [
    "DEFAULT_ENTRY",
    "ENVIRONMENTS",
    "ENVIRONMENT_LANGUAGE",
    "LANGUAGES",
    "CodeBlock",
    "Program",
    "detect_environment",
    "extract_program",
    "parse_blocks",
]
