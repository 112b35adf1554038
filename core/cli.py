"""`python -m core`: everything the pages do, scriptable. Each command calls the same functions the pages call."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict

from core import availability, doctor, registry
from core.providers import Message, ProviderError, generation_for

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    from core.secrets import install_log_redaction

    install_log_redaction()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except registry.RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Code Arena from the command line.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    models = commands.add_parser("models", help="list configured and discovered models with reachability")
    models.add_argument("--json", action="store_true", help="print JSON")
    models.add_argument("--no-discover", action="store_true", help="do not add models installed in Ollama")
    models.set_defaults(handler=cmd_models)

    doctor_cmd = commands.add_parser("doctor", help="report Ollama, API keys (names only), sandboxes, toolchains")
    doctor_cmd.add_argument("--json", action="store_true", help="print JSON")
    doctor_cmd.set_defaults(handler=cmd_doctor)

    pull = commands.add_parser("pull", help="pull a model into Ollama, showing progress")
    pull.add_argument("model", help="an Ollama model name, e.g. qwen2.5-coder:1.5b")
    pull.set_defaults(handler=cmd_pull)

    ask = commands.add_parser("ask", help="stream one model's answer to a prompt and store it")
    ask.add_argument("model", help="a registry name (see `models`)")
    ask.add_argument("prompt", help="the prompt; '-' reads it from standard input")
    ask.add_argument("--temperature", type=float)
    ask.add_argument("--max-tokens", type=int)
    ask.add_argument("--seed", type=int)
    ask.add_argument("--no-save", action="store_true", help="do not store the conversation")
    ask.add_argument("--json", action="store_true", help="print the final record as JSON instead of streaming text")
    ask.set_defaults(handler=cmd_ask)

    export = commands.add_parser("export", help="export conversations and votes as JSONL (BigCodeArena fields)")
    export.add_argument("file", help="output file; '-' for standard output")
    export.add_argument("--id", action="append", dest="ids", help="only this conversation (repeatable)")
    export.set_defaults(handler=cmd_export)

    import_cmd = commands.add_parser("import", help="import conversations and votes from a JSONL export")
    import_cmd.add_argument("file", help="input file; '-' for standard input")
    import_cmd.set_defaults(handler=cmd_import)

    from core import run_command

    run_command.add_parser(commands)
    return parser


def cmd_models(args: argparse.Namespace) -> int:
    reg = registry.load()
    ollama = availability.discover(reg) if not args.no_discover else None
    statuses = availability.model_statuses(reg, ollama)
    if args.json:
        print(json.dumps([s.as_dict() for s in statuses], indent=2))
        return 0
    if ollama is not None and not ollama.reachable:
        print(f"note: {ollama.message}\n")
    marks = {True: "ready", False: "UNAVAILABLE", None: "unchecked"}
    width = max(len(s.name) for s in statuses)
    for s in statuses:
        enabled = "" if s.enabled else " (disabled)"
        print(f"{s.name:<{width}}  {s.provider:<8} {marks[s.reachable]:<11} {s.detail}{enabled}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    report = doctor.collect()
    print(json.dumps(report, indent=2) if args.json else doctor.render(report))
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from core.providers.ollama_provider import OllamaProvider

    provider = OllamaProvider(registry.load().ollama_host)
    last = ""
    try:
        for progress in provider.pull(args.model):
            fraction = progress.fraction
            line = progress.status + (f" {fraction:6.1%}" if fraction is not None else "")
            if line != last:
                print(line, flush=True)
                last = line
    except ProviderError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    reg = registry.load()
    entry = reg.get(args.model)
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    generation = generation_for(
        entry,
        [Message("user", prompt)],
        ollama_host=reg.ollama_host,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        seed=args.seed,
    )
    error: ProviderError | None = None
    try:
        for delta in generation:
            if not args.json:
                print(delta, end="", flush=True)
    except ProviderError as caught:
        error = caught
    completion = generation.completion
    if not args.no_save and completion is not None:
        from core.conversations import save_single_answer

        save_single_answer(entry, prompt, completion, system_prompt=generation.request.system_prompt())
    if args.json:
        record = {"model": entry.name, **(asdict(completion) if completion else {})}
        print(json.dumps(record, indent=2))
    else:
        print()
    if error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from core.store import open_store
    from core.store.exchange import export_jsonl

    store = open_store()
    try:
        if args.file == "-":
            count = export_jsonl(store, sys.stdout, args.ids)
        else:
            with open(args.file, "w", encoding="utf-8") as out:
                count = export_jsonl(store, out, args.ids)
    finally:
        store.close()
    print(f"exported {count} conversation(s)", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from core.store import open_store
    from core.store.exchange import import_jsonl

    store = open_store()
    try:
        if args.file == "-":
            report = import_jsonl(store, sys.stdin)
        else:
            with open(args.file, encoding="utf-8") as src:
                report = import_jsonl(store, src)
    finally:
        store.close()
    print(report)
    return 0 if not getattr(report, "invalid", None) else 1
