"""From a model's markdown answer to the program to run: which environment, which files, which entry.

How the environment is chosen: every block gets a role (program, style, header, install, output, data, deps,
config) and, for programs, an environment; program blocks are grouped in families (python, web, react, vue, node,
ts, c, cpp, java, go, rust, mermaid). A page's <script src>/<link href> claims those blocks for the web family, a
React/Vue page shell (id="root"/"app") joins its app, and the family with the most code wins (mermaid counts for a
fifth: a diagram beside a program is an illustration). A compatible environment hint (the user's choice) decides
instead. The family's assembler then collects files (assemble_web, assemble_code).
"""

from __future__ import annotations

import posixpath
import re

from core.extraction import analysis
from core.extraction.assemble_apps import assemble_component_app
from core.extraction.assemble_code import (
    assemble_c_family,
    assemble_java,
    assemble_mermaid,
    assemble_script,
    assemble_single_main,
)
from core.extraction.assemble_python import assemble_python, local_python_modules
from core.extraction.assemble_web import assemble_html
from core.extraction.blocks import split_answer
from core.extraction.dependencies import (
    commands_from_code,
    commands_from_prose,
    commands_from_shell,
    packages_of_command,
    packages_of_package_json,
    packages_of_requirements,
)
from core.extraction.environments import normalize_hint, python_environment
from core.extraction.imports import infer_npm_packages, infer_python_packages, merge_names, without_magics
from core.extraction.items import FAMILY_OF_ENV, Item, family, make_item
from core.extraction.model import ENVIRONMENT_LANGUAGE, Program
from core.extraction.sniff import has_jsx

FAMILY_ENV = {
    "web": "html",
    "react": "react",
    "vue": "vue",
    "node": "javascript",
    "ts": "typescript",
    "c": "c",
    "cpp": "cpp",
    "java": "java",
    "go": "go",
    "rust": "rust",
    "mermaid": "mermaid",
}
ROLE_NOTES = {
    "install": "shell block(s) (install/run commands)",
    "output": "sample output / text block(s)",
    "other": "block(s) in languages without an environment",
    "data": "data block(s) the program does not read",
    "deps": "dependency list block(s) (read for packages)",
    "config": "config block(s)",
}


def _claims(items: list[Item]) -> dict[int, str]:
    """Blocks that belong to another block's family: scripts and styles a page loads, page shells of apps, web
    files a Python/Node server serves."""
    claimed: dict[int, str] = {}
    pages = [i for i in items if i.language == "html" and i.env == "html"]
    scripts_by_name: dict[str, list[Item]] = {}
    for item in items:
        if item.basename and item.env in ("react", "vue", "javascript", "dom"):
            scripts_by_name.setdefault(item.basename, []).append(item)
    loose_scripts = [i for i in items if not i.path and i.env in ("javascript", "dom") and i.language == "javascript"]
    for page in pages:
        references = analysis.html_references(page.code)
        for _kind, reference in references:
            for item in scripts_by_name.get(posixpath.basename(reference.split("?")[0]), []):
                if item.env in ("react", "vue") and not re.search(r"text/babel|unpkg|cdn|jsdelivr", page.code):
                    continue
                claimed[item.index] = "web"
        if any(kind == "js" for kind, _ in references):  # the page loads a script the answer gives unnamed
            for item in loose_scripts:
                claimed.setdefault(item.index, "web")
    apps = {family(i) for i in items if family(i) in ("react", "vue")}
    for page in pages:
        if (
            apps
            and re.search(r"id=[\"'](?:root|app)[\"']", page.code)
            and (
                len(page.code) < 1500 or re.search(r"<script[^>]+src=[\"'][^\"']*\.(?:jsx|tsx|vue)|src/main", page.code)
            )
        ):
            claimed[page.index] = "react" if "react" in apps else "vue"
    served = [i for i in items if i.path and i.language == "html" and i.index not in claimed]
    if served:
        for name in ("python", "node"):
            code = "\n".join(i.code for i in items if family(i) == name)
            if not code:
                continue
            mentioned = analysis.mentioned_files(code)
            for item in served:
                if item.index not in claimed and (
                    item.path.startswith(("templates/", "static/", "public/", "views/"))
                    or item.path in mentioned
                    or item.basename in mentioned
                ):
                    claimed[item.index] = name
    return claimed


def _choose_family(items: list[Item], hint: str | None, notes: list[str]) -> tuple[str | None, str | None]:
    """(family, forced environment)."""
    programs = [i for i in items if i.role == "program"]
    if hint:
        compatible = [i for i in programs if (i.env == "dom" and hint == "html") or i.env == hint]
        if hint == "html" and not compatible:
            compatible = [i for i in programs if i.language == "html"]
        if compatible:
            return FAMILY_OF_ENV[hint], hint
    claimed = _claims(items)
    scores: dict[str, float] = {}
    for item in programs:
        name = claimed.get(item.index) or family(item)
        if name:
            weight = 0.2 if name == "mermaid" else 1.0
            scores[name] = scores.get(name, 0.0) + weight * max(item.size, 1) + item.index * 1e-6
    if not scores:
        if any(i.role == "style" for i in items):
            return "web", None
        if any(i.role == "header" for i in items):
            return ("cpp" if any(i.language == "cpp" for i in items) else "c"), None
        return None, None
    return max(scores, key=scores.get), None


def _assemble(name: str, items: list[Item], notes: list[str], forced: str | None) -> tuple[dict, str, str]:
    if name == "python":
        return assemble_python(items, notes, forced)
    env = FAMILY_ENV[name]
    if name == "web":
        files, entry = assemble_html(items, notes)
    elif name in ("react", "vue"):
        files, entry = assemble_component_app(items, notes, env)
    elif name in ("node", "ts"):
        files, entry = assemble_script(items, notes, env)
    elif name in ("c", "cpp"):
        files, entry = assemble_c_family(items, notes, env)
    elif name == "java":
        files, entry = assemble_java(items, notes)
    elif name in ("go", "rust"):
        files, entry = assemble_single_main(items, notes, env)
    else:
        files, entry = assemble_mermaid(items, notes)
    return files, entry, env


def _markdown_program(markdown: str, notes: list[str]) -> Program:
    files = {"README.md": markdown} if markdown.strip() else {}
    return Program(environment="markdown", language="markdown", files=files, entry=None, notes=notes)


def _language(env: str, files: dict[str, str], entry: str | None) -> str:
    if env in ("react", "vue") and entry:
        code = files.get(entry, "")
        if entry.endswith((".ts", ".tsx")) or re.search(r"<script[^>]*\blang=[\"']ts[\"']", code):
            return "typescript"
    return ENVIRONMENT_LANGUAGE[env]


def _dependencies(program: Program, items: list[Item], prose: str, used: set[int]) -> None:
    commands: list[str] = []
    for item in items:
        if item.role == "install":
            commands.extend(commands_from_shell(item.code))
    for path, code in program.files.items():
        if not path.endswith((".md", ".json", ".txt", ".csv")):
            commands.extend(commands_from_code(code))
    commands.extend(commands_from_prose(prose))
    program.install_commands = list(dict.fromkeys(commands))
    explicit_py: list[str] = []
    explicit_npm: list[str] = []
    requirement_files: list[str] = []
    for command in program.install_commands:
        manager, names, files = packages_of_command(command)
        if manager == "pip":
            explicit_py.extend(names)
            requirement_files.extend(files)
        elif manager == "npm":
            explicit_npm.extend(names)
    for item in items:
        if item.basename == "package.json" or (
            item.language == "json" and item.index in used and '"dependencies"' in item.code
        ):
            explicit_npm.extend(packages_of_package_json(item.code))
        elif (
            item.basename == "requirements.txt"
            or item.language == "requirements"
            or (item.basename and item.basename in map(posixpath.basename, requirement_files))
        ):
            explicit_py.extend(packages_of_requirements(item.code))
    py_sources = [code for path, code in program.files.items() if path.endswith((".py", ".pyw"))]
    inferred_py = infer_python_packages(py_sources, local_python_modules(program.files))
    program.python_packages = merge_names(explicit_py, inferred_py)
    js_sources = [
        code
        for path, code in program.files.items()
        if path.endswith((".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".vue"))
    ]
    program.npm_packages = merge_names(explicit_npm, infer_npm_packages(js_sources))


def _note_ignored(items: list[Item], used: set[int], notes: list[str]) -> None:
    counts: dict[str, int] = {}
    for item in items:
        if item.index not in used:
            key = item.role if item.role in ROLE_NOTES else "alternative"
            counts[key] = counts.get(key, 0) + 1
    for key, count in counts.items():
        if key == "alternative":
            notes.append(f"ignored {count} other code block(s) (snippets, alternatives or other languages)")
        else:
            notes.append(f"ignored {count} {ROLE_NOTES[key]}")


def _environment_note(program: Program) -> None:
    env, files, entry = program.environment, program.files, program.entry
    code = files.get(entry or "", "")
    reasons = {
        "streamlit": "the code imports streamlit",
        "gradio": "the code imports gradio",
        "pygame": "the code imports pygame",
        "html": "an HTML page",
        "react": "React components (JSX/hooks)",
        "vue": "a Vue component",
        "mermaid": "a mermaid diagram",
        "javascript": "a Node.js script",
        "typescript": "a TypeScript script",
        "c": "a C program",
        "cpp": "a C++ program",
        "java": "a Java program",
        "go": "a Go program",
        "rust": "a Rust program",
        "python": "a Python script",
    }
    program.notes.insert(0, f"environment {env}: {reasons.get(env, env)}" + (f" ({entry})" if entry else ""))
    if env == "python":
        toolkits = sorted({python_environment(c)[1] for p, c in files.items() if p.endswith(".py")} - {None})
        if toolkits:
            program.notes.append(f"gui: uses {', '.join(toolkits)}; needs a virtual display to be seen")
    if env == "react" and entry and entry.endswith((".js", ".ts")) and has_jsx(code):
        program.notes.append(f"{entry} holds JSX under a .js/.ts name")


def extract_program(markdown: str, environment_hint: str | None = None) -> Program:
    """The program an answer gives (see the module docstring); never raises on odd input."""
    markdown = markdown if isinstance(markdown, str) else ""
    blocks, prose = split_answer(markdown)
    items = [make_item(index, block) for index, block in enumerate(blocks)]
    notes: list[str] = []
    hint = normalize_hint(environment_hint)
    if environment_hint and hint is None and environment_hint.strip().lower() not in ("auto", ""):
        notes.append(f"unknown environment hint {environment_hint!r} ignored")
    if hint == "markdown":
        program = _markdown_program(markdown, [f"environment markdown: chosen by the hint {environment_hint!r}"])
        _dependencies(program, items, prose, set())
        return program
    name, forced = _choose_family(items, hint, notes)
    if hint and forced is None:
        notes.append(f"environment hint {hint!r} does not fit the code; detected instead")
    if name is None:
        reason = "no runnable code block" if items else "no code"
        program = _markdown_program(markdown, [f"environment markdown: {reason}", *notes])
        _note_ignored(items, set(), program.notes)
        _dependencies(program, items, prose, set())
        return program
    files, entry, env = _assemble(name, items, notes, forced)
    if not files or not entry:
        program = _markdown_program(
            markdown, [f"environment markdown: no complete {FAMILY_ENV.get(name, name)} program", *notes]
        )
        _note_ignored(items, set(), program.notes)
        _dependencies(program, items, prose, set())
        return program
    if hint and forced is None:
        notes[notes.index(f"environment hint {hint!r} does not fit the code; detected instead")] = (
            f"environment hint {hint!r} does not fit the code; used {env!r}"
        )
    for path in [p for p in files if p.endswith(".py")]:
        if without_magics(files[path]) == files[path]:
            continue
        files[path] = without_magics(files[path])
        notes.append(f"Jupyter !/% lines in {path} commented out (their installs are in install_commands)")
    contents = "\n".join(files.values())
    used = {i.index for i in items if (i.path and i.path in files) or (i.code.strip() and i.code.strip() in contents)}
    program = Program(environment=env, language=_language(env, files, entry), files=files, entry=entry, notes=notes)
    _note_ignored(items, used, notes)
    _environment_note(program)
    _dependencies(program, items, prose, used)
    return program


def detect_environment(markdown_or_code: str, environment_hint: str | None = None, language: str | None = None) -> str:
    """The environment of an answer, or of bare code (fenced here, with `language` as its tag when given)."""
    text = markdown_or_code if isinstance(markdown_or_code, str) else ""
    if not re.search(r"^[ \t]*(?:```|~~~)", text, re.MULTILINE):
        fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
        text = f"{fence}{language or ''}\n{text}\n{fence}\n"
    return extract_program(text, environment_hint).environment
