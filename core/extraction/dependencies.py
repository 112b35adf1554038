"""Install commands an answer gives, and the packages a program needs (explicit ones and inferred from imports)."""

from __future__ import annotations

import ast
import json
import re
import shlex
import sys

from core.extraction.sniff import strip_js_comments

_M = re.MULTILINE
MAX_AST_CHARS = 300_000  # larger code is scanned with regular expressions (a parse would take seconds)

# Import name (or dotted prefix) -> PyPI distribution, where they differ.
PYTHON_DISTRIBUTIONS = {
    "PIL": "pillow", "cv2": "opencv-python-headless", "sklearn": "scikit-learn", "yaml": "pyyaml",
    "bs4": "beautifulsoup4", "skimage": "scikit-image", "dateutil": "python-dateutil", "dotenv": "python-dotenv",
    "Crypto": "pycryptodome", "Cryptodome": "pycryptodomex", "OpenGL": "PyOpenGL", "serial": "pyserial",
    "jwt": "PyJWT", "attr": "attrs", "google.protobuf": "protobuf", "docx": "python-docx", "pptx": "python-pptx",
    "fitz": "pymupdf", "magic": "python-magic", "wx": "wxPython", "gi": "PyGObject",
    "Levenshtein": "python-Levenshtein", "sentence_transformers": "sentence-transformers", "mpl_toolkits": "matplotlib",
    "pkg_resources": "setuptools", "OpenSSL": "pyOpenSSL", "telegram": "python-telegram-bot", "discord": "discord.py",
    "Bio": "biopython", "cairo": "pycairo", "usb": "pyusb", "zmq": "pyzmq", "websocket": "websocket-client",
    "github": "PyGithub", "jose": "python-jose", "multipart": "python-multipart", "slugify": "python-slugify",
    "win32api": "pywin32", "win32con": "pywin32", "Xlib": "python-xlib", "google.generativeai": "google-generativeai",
    "google.cloud.storage": "google-cloud-storage", "googleapiclient": "google-api-python-client",
    "dash_bootstrap_components": "dash-bootstrap-components", "lxml": "lxml", "tensorflow": "tensorflow",
    "torch": "torch", "pygame": "pygame", "pgzrun": "pgzero", "speech_recognition": "SpeechRecognition",
    "pydub": "pydub", "nacl": "PyNaCl", "kafka": "kafka-python", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
    "ruamel": "ruamel.yaml", "faiss": "faiss-cpu", "umap": "umap-learn", "tkcalendar": "tkcalendar",
    "markdown": "markdown", "sympy": "sympy", "plotly": "plotly", "st_aggrid": "streamlit-aggrid",
}
STDLIB_MODULES = set(getattr(sys, "stdlib_module_names", ())) | {"__future__", "__main__", "_thread", "tkinter", "turtle"}

_PIP_ARG_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url", "-f",
    "--find-links", "-t", "--target", "--prefix", "--root", "--src", "--platform", "--python-version",
    "--implementation", "--abi", "--upgrade-strategy", "--progress-bar", "--cache-dir", "--log", "--proxy",
    "--timeout", "--retries", "--trusted-host", "--python",
}
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
    joined = re.sub(r"\\\n\s*", " ", code)
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
    args = tokens[verb + 1:]
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


# --- Python imports -------------------------------------------------------------------------------------------

_MAGIC = re.compile(r"^(\s*)([!%].*)$", _M)


def without_magics(code: str) -> str:
    """Jupyter `!cmd` / `%magic` lines turned into comments so the code parses (and runs) as a script."""
    return _MAGIC.sub(r"\1# \2", code)


def python_imports(code: str) -> list[str]:
    """Absolute module names imported by the code (AST; a regex when the code does not parse)."""
    modules: list[str] = []
    try:
        if len(code) > MAX_AST_CHARS:
            raise ValueError("too large to parse quickly")
        tree = ast.parse(without_magics(code))
    except Exception:  # noqa: BLE001 - any unparsable code falls back to the regex
        for match in re.finditer(r"^\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w.]+(?:\s+as\s+\w+)?"
                                 r"(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*))", code, _M):
            if match.group(1):
                modules.append(match.group(1))
            else:
                modules.extend(part.split()[0] for part in match.group(2).split(","))
        return [module for module in modules if module and not module.startswith(".")]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
            modules.extend(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
    return modules


def distribution_for(module: str) -> str | None:
    """The PyPI distribution providing `module`; None for the standard library."""
    top = module.split(".")[0]
    if not top or top in STDLIB_MODULES:
        return None
    parts = module.split(".")
    for length in range(len(parts), 1, -1):
        dotted = ".".join(parts[:length])
        if dotted in PYTHON_DISTRIBUTIONS:
            return PYTHON_DISTRIBUTIONS[dotted]
    if top == "google":
        return None
    return PYTHON_DISTRIBUTIONS.get(top, top)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def merge_names(*groups: list[str]) -> list[str]:
    """Names deduplicated by their canonical form (first spelling kept), sorted case-insensitively."""
    seen: dict[str, str] = {}
    for group in groups:
        for name in group:
            seen.setdefault(canonical(name), name)
    return sorted(seen.values(), key=lambda name: name.lower())


def infer_python_packages(sources: list[str], local_modules: set[str]) -> list[str]:
    found = []
    for code in sources:
        for module in python_imports(code):
            top = module.split(".")[0]
            if top in local_modules:
                continue
            distribution = distribution_for(module)
            if distribution and distribution not in found:
                found.append(distribution)
    # "from google.protobuf import x" also yields "google.protobuf.x": one name per distribution is enough.
    return merge_names(found)


# --- JavaScript imports ---------------------------------------------------------------------------------------

NODE_BUILTINS = {
    "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto", "dgram",
    "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2", "https", "inspector", "module", "net",
    "os", "path", "perf_hooks", "process", "punycode", "querystring", "readline", "repl", "stream",
    "string_decoder", "sys", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi",
    "worker_threads", "zlib", "test", "sea", "sqlite",
}
_SPECIFIERS = [
    re.compile(r"\bimport\s+(type\s+)?[\w$*{}\s,]*?\bfrom\s*['\"]([^'\"\n]+)['\"]"),
    re.compile(r"\bimport\s*()['\"]([^'\"\n]+)['\"]"),
    re.compile(r"\bexport\s+(type\s+)?[\w$*{}\s,]*?\bfrom\s*['\"]([^'\"\n]+)['\"]"),
    re.compile(r"\brequire\s*\(\s*()['\"]([^'\"\n]+)['\"]\s*\)"),
    re.compile(r"\bimport\s*\(\s*()['\"]([^'\"\n]+)['\"]\s*\)"),
]
_NPM_NAME = re.compile(r"^(?:@[a-z0-9~][a-z0-9._~-]*/)?[a-z0-9~][a-z0-9._~-]*$")


def import_specifiers(code: str) -> list[str]:
    """Module specifiers of import/export/require/import() (type-only imports left out), in order."""
    text = strip_js_comments(code)
    found = []
    for pattern in _SPECIFIERS:
        for match in pattern.finditer(text):
            if not match.group(1):
                found.append((match.start(), match.group(2)))
    return [spec for _, spec in sorted(found)]


def npm_package(specifier: str) -> str | None:
    """The npm package of an import specifier (`@scope/pkg/sub` -> `@scope/pkg`, `lodash/fp` -> `lodash`); None for
    relative paths, URLs and Node builtins."""
    spec = specifier.strip().split("?")[0].split("#")[0]
    if not spec or spec.startswith((".", "/", "~", "#")) or ":" in spec:
        return None
    parts = spec.split("/")
    if spec.startswith("@"):
        if len(parts) < 2 or not parts[1]:
            return None
        name = "/".join(parts[:2])
    else:
        name = parts[0]
    if name in NODE_BUILTINS or not _NPM_NAME.match(name):
        return None
    return name


def npm_name_of_install_arg(token: str) -> str | None:
    text = token.strip().strip("'\"")
    if text.startswith("@"):
        scope, _, rest = text[1:].partition("/")
        name = "@" + scope + "/" + rest.split("@", 1)[0] if rest else None
    else:
        name = text.split("@", 1)[0]
    if not name or "://" in text or text.startswith(("git+", "github:", "file:", ".", "/")):
        return None
    return name if _NPM_NAME.match(name) else None


def infer_npm_packages(sources: list[str]) -> list[str]:
    found = []
    for code in sources:
        for spec in import_specifiers(code):
            name = npm_package(spec)
            if name and name not in found:
                found.append(name)
    return found
