"""Packages a program imports: Python modules mapped to PyPI distributions, JS/TS specifiers to npm packages."""

from __future__ import annotations

import ast
import re
import sys

from core.extraction.sniff import strip_js_comments

_M = re.MULTILINE
MAX_AST_CHARS = 300_000  # larger code is scanned with regular expressions (a parse would take seconds)

# Import name (or dotted prefix) -> PyPI distribution, where they differ.
# fmt: off
PYTHON_DISTRIBUTIONS = {
    "PIL": "pillow", "cv2": "opencv-python-headless", "sklearn": "scikit-learn", "yaml": "pyyaml",
    "bs4": "beautifulsoup4", "skimage": "scikit-image", "dateutil": "python-dateutil", "dotenv": "python-dotenv",
    "Crypto": "pycryptodome", "Cryptodome": "pycryptodomex", "OpenGL": "PyOpenGL", "serial": "pyserial",
    "jwt": "PyJWT", "attr": "attrs", "google.protobuf": "protobuf", "docx": "python-docx", "pptx": "python-pptx",
    "fitz": "pymupdf", "magic": "python-magic", "wx": "wxPython", "gi": "PyGObject",
    "Levenshtein": "python-Levenshtein", "sentence_transformers": "sentence-transformers",
    "mpl_toolkits": "matplotlib", "pkg_resources": "setuptools", "OpenSSL": "pyOpenSSL",
    "telegram": "python-telegram-bot", "discord": "discord.py", "Bio": "biopython", "cairo": "pycairo",
    "usb": "pyusb", "zmq": "pyzmq", "websocket": "websocket-client", "github": "PyGithub", "jose": "python-jose",
    "multipart": "python-multipart", "slugify": "python-slugify", "win32api": "pywin32", "win32con": "pywin32",
    "Xlib": "python-xlib", "google.generativeai": "google-generativeai",
    "google.cloud.storage": "google-cloud-storage", "googleapiclient": "google-api-python-client",
    "dash_bootstrap_components": "dash-bootstrap-components", "lxml": "lxml", "tensorflow": "tensorflow",
    "torch": "torch", "pygame": "pygame", "pgzrun": "pgzero", "speech_recognition": "SpeechRecognition",
    "pydub": "pydub", "nacl": "PyNaCl", "kafka": "kafka-python", "psycopg2": "psycopg2-binary",
    "MySQLdb": "mysqlclient", "ruamel": "ruamel.yaml", "faiss": "faiss-cpu", "umap": "umap-learn",
    "tkcalendar": "tkcalendar", "markdown": "markdown", "sympy": "sympy", "plotly": "plotly",
    "st_aggrid": "streamlit-aggrid",
}
# fmt: on
STDLIB_MODULES = set(getattr(sys, "stdlib_module_names", ())) | {
    "__future__",
    "__main__",
    "_thread",
    "tkinter",
    "turtle",
}

# fmt: off

# --- Python imports -------------------------------------------------------------------------------------------

_MAGIC = re.compile(r"^(\s*)((?:![^=\s]|%{1,2}[A-Za-z]).*)$", _M)  # !pip ..., %matplotlib ...; not `!= x`, `% 2`


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
        for match in re.finditer(
            r"^\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w.]+(?:\s+as\s+\w+)?"
            r"(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*))",
            code,
            _M,
        ):
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

# fmt: off
NODE_BUILTINS = {
    "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto", "dgram",
    "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2", "https", "inspector", "module", "net",
    "os", "path", "perf_hooks", "process", "punycode", "querystring", "readline", "repl", "stream", "string_decoder",
    "sys", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib",
    "test", "sea", "sqlite",
}
# fmt: on
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
