"""`python -m core run`: run a model's answer (markdown) or a plain source file in the sandbox."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# Plain source files are wrapped in a fence tagged by their extension, so they go through the same extraction.
EXTENSION_TAGS = {
    ".py": "python", ".js": "javascript", ".mjs": "javascript", ".ts": "typescript", ".jsx": "jsx", ".tsx": "tsx",
    ".html": "html", ".htm": "html", ".svg": "svg", ".c": "c", ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp",
    ".java": "java", ".go": "go", ".rs": "rust", ".vue": "vue", ".mmd": "mermaid",
}


def add_parser(commands) -> None:
    run = commands.add_parser("run", help="run a model answer (markdown) or a source file in the sandbox")
    run.add_argument("file", help="a markdown answer or a source file; '-' reads markdown from standard input")
    run.add_argument("--backend", default=None, choices=("auto", "docker", "bwrap"),
                     help="sandbox backend (default: ARENA_SANDBOX, else the first available)")
    run.add_argument("--timeout", type=float, help="wall-clock seconds for the program (default 20)")
    run.add_argument("--memory", type=int, help="memory limit in MiB (default 512)")
    run.add_argument("--environment", help="an environment hint, e.g. python, cpp, react")
    run.add_argument("--stdin", metavar="FILE", help="feed this file to the program's standard input (default: empty)")
    run.add_argument("--json", action="store_true", help="print the result as JSON instead of streaming output")
    run.set_defaults(handler=cmd_run)


def answer_text(path_arg: str) -> str:
    if path_arg == "-":
        return sys.stdin.read()
    path = Path(path_arg)
    text = path.read_text(encoding="utf-8", errors="replace")
    tag = EXTENSION_TAGS.get(path.suffix.lower())
    if tag is None:
        return text
    fence = "````" if "```" in text else "```"
    return f"{fence}{tag} title=\"{path.name}\"\n{text}\n{fence}\n"


def cmd_run(args: argparse.Namespace) -> int:
    from core import sandbox_settings
    from core.extraction import extract_program
    from core.store import open_store
    from runtimes.engine import Engine
    from runtimes.sandbox import NoSandbox, open_backend

    try:
        text = answer_text(args.file)
    except OSError as error:
        print(f"error: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    program = extract_program(text, args.environment)
    with open_store() as store:
        requested = sandbox_settings.chosen_backend(store, args.backend)
        limits = sandbox_settings.saved_limits(store).with_overrides(run_timeout_s=args.timeout,
                                                                     memory_mb=args.memory)
    try:
        backend = open_backend(requested, limits=limits, pool_size=0)
    except NoSandbox as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    try:
        engine = Engine(backend, limits)
        on_output = None if args.json else _print_live
        stdin = Path(args.stdin).read_text(encoding="utf-8", errors="replace") if args.stdin else None
        result = engine.execute(program, on_output=on_output, stdin=stdin)
    finally:
        backend.close()
    if args.json:
        payload = result.as_dict()
        payload["artifacts"] = [a["path"] for a in payload["artifacts"]]
        print(json.dumps(payload, indent=2))
    else:
        summary = f"[{result.environment} · {result.backend}] {result.status}"
        if result.exit_code is not None:
            summary += f" (exit {result.exit_code})"
        summary += f" in {result.duration_ms} ms"
        print(summary + (f": {result.message}" if result.message and result.status != "ok" else ""), file=sys.stderr)
        for artifact in result.artifacts:
            print(f"artifact: {artifact.path}", file=sys.stderr)
    return 0 if result.status == "ok" else 1


def _print_live(stream: str, text: str) -> None:
    target = sys.stdout if stream == "stdout" else sys.stderr
    target.write(text)
    target.flush()
