"""Install commands an answer gives, and the package names they (and requirements/package.json files) name."""

from __future__ import annotations

import json
import re
import shlex

from core.extraction.imports import npm_name_of_install_arg, npm_package

_PIP_ARG_OPTIONS = {
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--src",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--upgrade-strategy",
    "--progress-bar",
    "--cache-dir",
    "--log",
    "--proxy",
    "--timeout",
    "--retries",
    "--trusted-host",
    "--python",
}
# fmt: on
_NPM_ARG_OPTIONS = {"--prefix", "--registry", "-w", "--workspace", "--cwd", "--tag"}

_INSTALLER = re.compile(
    r"^(?:sudo\s+(?:-\S+\s+)*)?(?:(?:python(?:3(?:\.\d+)?)?|py)\s+-m\s+pip|pip3?(?:\.\d+)?|uv\s+pip|npm|yarn|pnpm|bun|"
    r"apt-get|apt)\s+(?:(?:-\S+\s+)*)(?:install|add|i)\b"
)
_INSTALL_ANYWHERE = re.compile(
    r"(?:sudo\s+)?(?:(?:python3?|py)\s+-m\s+pip|pip3?|uv\s+pip|npm|yarn|pnpm|bun|apt-get|apt)\s+(?:install|add|i)\s+\S[^\n]*"
)
_PROMPT = re.compile(r"^(?:\$|>|%|#|PS>|PS [^>]*>|[A-Za-z]:\\[^>]*>|\w+@[\w.-]+:[^$]*\$)\s+")
_SEPARATORS = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")


def _install_segments(line: str) -> list[str]:
    """The install commands of one shell line (chains split at && ; ||, trailing comments dropped)."""
    line = re.sub(r"\s+#.*$", "", line.strip())
    line = _PROMPT.sub("", line, count=1).strip()
    line = line.lstrip("!%").strip()
    found = []
    for segment in _SEPARATORS.split(line):
        segment = segment.strip().strip("`").strip()
        if _INSTALLER.match(segment):
            found.append(segment)
    return found


def commands_from_shell(code: str) -> list[str]:
    """Install commands of a bash/sh block, line continuations joined."""
    joined = re.sub(r"[ \t]*\\\n\s*", " ", code)
    commands = []
    for line in joined.splitlines():
        commands.extend(_install_segments(line))
    return commands


def commands_from_code(code: str) -> list[str]:
    """`!pip install x` / `%pip install x` lines and install commands inside comments (`# pip install x`,
    `// npm install x`)."""
    commands = []
    for line in code.splitlines():
        stripped = line.strip()
        if stripped[:1] in ("!", "%") and _INSTALL_ANYWHERE.match(stripped[1:].strip()):
            commands.extend(_install_segments(stripped[1:]))
            continue
        comment = re.match(r"^(?:#+|//+|/?\*+|<!--|--)\s*(.*)$", stripped)
        if comment:
            found = _INSTALL_ANYWHERE.search(comment.group(1))
            if found:
                text = re.sub(r"\s*(?:\*/|-->)\s*$", "", found.group(0))
                commands.extend(_install_segments(text))
    return commands


def commands_from_prose(text: str) -> list[str]:
    """Install commands written as inline code in the prose: `pip install pygame`."""
    commands = []
    for match in re.finditer(r"(?<!`)`([^`\n]{6,300})`(?!`)", text):
        if _INSTALL_ANYWHERE.match(match.group(1).strip()):
            commands.extend(_install_segments(match.group(1)))
    return commands


def _split(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def packages_of_command(command: str) -> tuple[str, list[str], list[str]]:
    """(manager, package names, requirement files) of one install command; manager is pip, npm or apt."""
    tokens = _split(command)
    while tokens and tokens[0] == "sudo":
        tokens = tokens[1:]
        while tokens and tokens[0].startswith("-"):
            tokens = tokens[1:]
    if not tokens:
        return "", [], []
    tool = tokens[0]
    if tool in ("apt", "apt-get"):
        return "apt", [], []
    try:
        verb = next(i for i, token in enumerate(tokens) if token in ("install", "add", "i"))
    except StopIteration:
        return "", [], []
    args = tokens[verb + 1 :]
    names: list[str] = []
    files: list[str] = []
    if tool in ("npm", "yarn", "pnpm", "bun"):
        skip = False
        for token in args:
            if skip:
                skip = False
                continue
            if token in _NPM_ARG_OPTIONS:
                skip = True
            elif not token.startswith("-"):
                name = npm_name_of_install_arg(token)
                if name:
                    names.append(name)
        return "npm", names, files
    skip_as = None
    for token in args:
        if skip_as is not None:
            if skip_as in ("-r", "--requirement"):
                files.append(token)
            skip_as = None
            continue
        if token in _PIP_ARG_OPTIONS:
            skip_as = token
        elif token.startswith("--requirement=") or token.startswith("-r") and len(token) > 2:
            files.append(token.split("=", 1)[-1] if "=" in token else token[2:])
        elif not token.startswith("-"):
            name = pip_name(token)
            if name:
                names.append(name)
    return "pip", names, files


def pip_name(requirement: str) -> str | None:
    """The distribution name of a requirement (`pandas>=2`, `"uvicorn[standard]"`); None for paths and URLs."""
    text = requirement.strip().strip("'\"")
    if not text or "://" in text or text.startswith((".", "/", "git+", "~")) or text.endswith((".whl", ".zip", ".gz")):
        return None
    if " @ " in text:
        text = text.split(" @ ", 1)[0]
    match = re.match(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(?:[<>=!~;@,\s]|$)", text)
    return match.group(1) if match else None


def packages_of_requirements(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        line = re.sub(r"(?:^|\s)#.*$", "", line).strip()
        if not line or line.startswith("-"):
            continue
        name = pip_name(line)
        if name:
            names.append(name)
    return names


def packages_of_package_json(text: str) -> list[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    names = []
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        section = data.get(key)
        if isinstance(section, dict):
            names.extend(name for name in section if isinstance(name, str) and npm_package(name))
    return names
