"""What this machine offers Code Arena: model servers, keys (names only), sandboxes and toolchains."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

from core import config, registry, secrets
from core.availability import ollama_status
from core.providers import local_provider
from runtimes import detect, sandbox

# (tool, arguments that print its version). The first line printed is the version shown.
TOOLCHAINS = (
    ("python3", ["--version"]),
    ("node", ["--version"]),
    ("npm", ["--version"]),
    ("gcc", ["--version"]),
    ("g++", ["--version"]),
    ("javac", ["-version"]),
    ("java", ["-version"]),
    ("go", ["version"]),
    ("rustc", ["--version"]),
    ("cargo", ["--version"]),
)


def toolchain_version(tool: str, args: list[str]) -> str | None:
    path = shutil.which(tool)
    if path is None:
        return None
    try:
        done = subprocess.run([path, *args], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else path


def collect() -> dict:
    reg = registry.load()
    with ThreadPoolExecutor(max_workers=6) as pool:
        ollama_future = pool.submit(ollama_status, reg.ollama_host)
        backends_future = pool.submit(detect.check_backends)
        versions = list(pool.map(lambda t: toolchain_version(*t), TOOLCHAINS))
        ollama, backends = ollama_future.result(), backends_future.result()
    local_ready, local_detail = local_provider.status()
    image = runtime_image_status() if any(b.name == "docker" and b.available for b in backends) else None
    chosen = sandbox.effective_backend(backends, None, image["built"] if image else None)
    return {
        "database": str(config.db_path()),
        "registry": str(reg.path),
        "ollama": {
            "host": ollama.host,
            "reachable": ollama.reachable,
            "message": ollama.message,
            "models": [asdict(m) for m in ollama.models],
        },
        "keys_set": secrets.key_names_set(),
        "backends": [asdict(b) for b in backends],
        "sandbox": {"chosen": chosen, "message": None if chosen else detect.no_backend_message()},
        "runtime_image": image,
        "toolchains": [{"name": name, "version": v} for (name, _), v in zip(TOOLCHAINS, versions, strict=True)],
        "local_model": {"installed": local_ready, "detail": local_detail},
    }


def runtime_image_status() -> dict:
    """Whether the container backend's image is built: without it, auto mode runs code with bubblewrap."""
    from runtimes import images

    try:
        client = images.docker_client(timeout=15)
        try:
            built = images.image_exists(client, images.RUNTIME_IMAGE)
        finally:
            client.close()
    except Exception as error:  # noqa: BLE001 - reported, never fatal for the report
        return {"name": images.RUNTIME_IMAGE, "built": False, "detail": str(error)}
    detail = "built" if built else "not built: run `make images` (a few minutes, once)"
    return {"name": images.RUNTIME_IMAGE, "built": built, "detail": detail}


def render(report: dict) -> str:
    """The report as plain text for the terminal."""
    ok, bad = "ok ", "-- "
    lines = [f"Database:  {report['database']}", f"Registry:  {report['registry']}", ""]
    ollama = report["ollama"]
    lines.append(f"{ok if ollama['reachable'] else bad}Ollama: {ollama['message']}")
    for model in ollama["models"]:
        lines.append(f"     {model['name']} ({model.get('parameter_size') or '?'}, {model.get('quantization') or '?'})")
    local = report["local_model"]
    lines.append(f"{ok if local['installed'] else bad}Built-in model: {local['detail']}")
    keys = report["keys_set"]
    lines.append(f"{ok if keys else bad}API keys set: {', '.join(keys) if keys else 'none'}")
    lines.append("")
    for backend in report["backends"]:
        lines.append(f"{ok if backend['available'] else bad}Sandbox {backend['name']}: {backend['detail']}")
    image = report.get("runtime_image")
    if image:
        lines.append(f"{ok if image['built'] else bad}Runtime image {image['name']}: {image['detail']}")
    sandbox = report["sandbox"]
    lines.append(f"   Code runs in: {sandbox['chosen']}" if sandbox["chosen"] else f"   {sandbox['message']}")
    lines.append("")
    for tool in report["toolchains"]:
        lines.append(f"{ok if tool['version'] else bad}{tool['name']}: {tool['version'] or 'not found'}")
    return "\n".join(lines)
