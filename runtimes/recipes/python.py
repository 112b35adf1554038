"""Python programs, with a preamble that turns `plt.show()`, Plotly's `fig.show()` and PIL's `Image.show()`
into saved figures, since there is no screen in the sandbox."""

from __future__ import annotations

from pathlib import Path

from runtimes.recipes.base import ARENA_DIR, FIGURES_DIR, Recipe

# Loaded by Python at start-up (sitecustomize on PYTHONPATH). It patches libraries lazily, when the program
# imports them, so a program that never plots pays nothing.
SITECUSTOMIZE = '''
import atexit, importlib.abc, importlib.util, os, sys

_FIGURES = os.path.join(os.getcwd(), "FIGURES_DIR")
_count = [0]

def _next_path(ext):
    os.makedirs(_FIGURES, exist_ok=True)
    _count[0] += 1
    return os.path.join(_FIGURES, "figure_%d.%s" % (_count[0], ext))

def _patch_pyplot(plt):
    def show(*args, **kwargs):
        for number in plt.get_fignums():
            plt.figure(number).savefig(_next_path("png"), bbox_inches="tight")
        plt.close("all")
    plt.show = show
    atexit.register(show)  # figures drawn but never shown are kept too

def _patch_plotly(pio):
    def show(fig, *args, **kwargs):
        pio.write_html(fig, _next_path("html"), include_plotlyjs=True, full_html=True)
    pio.show = show
    import plotly.basedatatypes as base
    base.BaseFigure.show = lambda self, *a, **k: show(self)

def _patch_pil(image_module):
    image_module.Image.show = lambda self, *a, **k: self.save(_next_path("png"))

_PATCHES = {"matplotlib.pyplot": _patch_pyplot, "plotly.io": _patch_plotly, "PIL.Image": _patch_pil}

class _PatchOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in _PATCHES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader, patch = spec.loader, _PATCHES[name]
        original_exec = loader.exec_module
        def exec_module(module):
            original_exec(module)
            try:
                patch(module)
            except Exception:
                pass
        loader.exec_module = exec_module
        return spec

def _seed_matplotlib_cache():
    # The sandbox's font cache was built ahead of time (read-only); copying it spares every plot a rebuild.
    target = os.environ.get("MPLCONFIGDIR")
    for source in ("/opt/mplconfig", "/opt/venv/mplconfig"):
        if target and os.path.isdir(source) and not os.path.isdir(target):
            import shutil
            try:
                shutil.copytree(source, target)
            except OSError:
                pass
            return

_seed_matplotlib_cache()
os.environ.setdefault("MPLBACKEND", "Agg")
sys.meta_path.insert(0, _PatchOnImport())
'''.replace("FIGURES_DIR", FIGURES_DIR)


def prepare(program, workspace: Path) -> None:
    target = workspace / ARENA_DIR / "sitecustomize.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(SITECUSTOMIZE, encoding="utf-8")


# tkinter and turtle programs need a screen: they get a virtual one (the previews stream it to the page).
VIRTUAL_DISPLAY = ["xvfb-run", "--auto-servernum", "--server-args=-screen 0 1024x768x24 -nolisten tcp"]


def run(program) -> list[str]:
    command = ["python3", program.entry]
    if any(note.startswith("gui:") for note in program.notes):
        return [*VIRTUAL_DISPLAY, *command]
    return command


RECIPE = Recipe(
    environment="python",
    language="python",
    prepare=prepare,
    run=run,
    env={"PYTHONPATH": f"/work/{ARENA_DIR}", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
         "MPLCONFIGDIR": "/tmp/matplotlib"},
    needs=("python3",),
)
