"""Which environment one block of code belongs to, and how environment hints are read.

Block environments are the ids of ENVIRONMENTS, plus two markers used while choosing the program:
"css" (a style sheet: a companion of html/react/vue) and "dom" (browser JavaScript without JSX: html when the
answer is chosen as a page).
"""

from __future__ import annotations

import re

from core.extraction.model import ENVIRONMENTS
from core.extraction.sniff import has_jsx, is_vue_sfc, strip_js_strings_and_comments

_M = re.MULTILINE

_STREAMLIT_CALL = re.compile(
    r"\bst\.(?:title|write|header|subheader|markdown|button|sidebar|columns|text_input|number_input|slider|"
    r"selectbox|multiselect|dataframe|table|line_chart|bar_chart|area_chart|session_state|set_page_config|"
    r"plotly_chart|pyplot|altair_chart|metric|tabs|form|form_submit_button|cache_data|cache_resource|cache|"
    r"file_uploader|checkbox|radio|text|code|json|image|success|error|warning|info|expander|container|empty|"
    r"progress|spinner|rerun|experimental_rerun|chat_input|chat_message|caption|toggle|date_input|text_area|"
    r"download_button|map|audio|video|divider|balloons|data_editor|color_picker|time_input|stop)\b"
)
_GRADIO_CALL = re.compile(
    r"\bgr\.(?:Interface|Blocks|Textbox|Button|Slider|Image|Markdown|Row|Column|ChatInterface|"
    r"Dropdown|Number|Checkbox|Radio|File|Audio|Video|Dataframe|Plot|Label|Tab|State)\b"
)
# fmt: off
GUI_TOOLKITS = {
    "tkinter": "tkinter", "Tkinter": "tkinter", "turtle": "turtle", "PyQt5": "PyQt5", "PyQt6": "PyQt6",
    "PySide2": "PySide2", "PySide6": "PySide6", "wx": "wxPython", "kivy": "kivy", "pyglet": "pyglet",
    "arcade": "arcade", "customtkinter": "customtkinter", "ttkbootstrap": "ttkbootstrap",
}
# fmt: on


def _imports(code: str, module: str) -> bool:
    return bool(
        re.search(rf"^\s*(?:import\s+(?:[\w.]+\s*,\s*)*{module}\b|from\s+{module}(?:\.[\w.]+)?\s+import\b)", code, _M)
    )


def _alias_taken(code: str, alias: str, module: str) -> bool:
    """`alias` is bound to some other module (`import statistics as st`)."""
    for match in re.finditer(rf"^\s*(?:import\s+([\w.]+)|from\s+[\w.]+\s+import\s+(\w+))\s+as\s+{alias}\b", code, _M):
        if (match.group(1) or match.group(2)) != module:
            return True
    return False


def python_environment(code: str) -> tuple[str, str | None]:
    """(environment, GUI toolkit or None) of Python code: streamlit > gradio > pygame > python."""
    if _imports(code, "streamlit") or (_STREAMLIT_CALL.search(code) and not _alias_taken(code, "st", "streamlit")):
        return "streamlit", None
    if _imports(code, "gradio") or (_GRADIO_CALL.search(code) and not _alias_taken(code, "gr", "gradio")):
        return "gradio", None
    if _imports(code, "pygame") or _imports(code, "pgzrun") or _imports(code, "pygame_gui"):
        return "pygame", None
    for module, toolkit in GUI_TOOLKITS.items():
        if _imports(code, module):
            return "python", toolkit
    return "python", None


_REACT = re.compile(
    r"""from\s+['"](?:react|react-dom(?:/client)?|preact|react-native)['"]|"""
    r"""require\(\s*['"]react(?:-dom)?['"]\s*\)|\bimport\s+React\b|\bReactDOM\."""
)
_HOOKS = re.compile(r"\buse(?:State|Effect|Ref|Memo|Callback|Reducer|Context|LayoutEffect)\s*[(<]")
_VUE = re.compile(
    r"""from\s+['"]vue(?:-router)?['"]|require\(\s*['"]vue['"]\s*\)|\bVue\.createApp\s*\(|\bnew\s+Vue\s*\(|"""
    r"""\bdefineComponent\s*\("""
)
_OPTIONS_DEFAULT = re.compile(r"\bexport\s+default\s*\{|\bmodule\.exports\s*=\s*\{")
_OPTIONS_KEYS = {
    "template": re.compile(r"\btemplate\s*:\s*[`'\"]"),
    "data": re.compile(r"\bdata\s*(?:\(\s*\)\s*\{|:\s*(?:function\s*\(|\(\s*\)\s*=>))"),
    "methods": re.compile(r"\b(?:methods|computed|watch|props)\s*:\s*[{\[]"),
    "hooks": re.compile(r"\b(?:mounted|created|beforeMount|unmounted)\s*\(\s*\)\s*\{"),
}
_DOM = re.compile(
    r"\bdocument\.\w|\bwindow\.\w|\baddEventListener\s*\(|\bquerySelector(?:All)?\s*\(|\bgetElementById\s*\(|"
    r"\blocalStorage\.|\brequestAnimationFrame\s*\(|\bgetContext\s*\(\s*['\"](?:2d|webgl)|\bnavigator\."
)
_NODE = re.compile(r"\brequire\s*\(|\bprocess\.\w|\bmodule\.exports\b|__dirname|from\s+['\"]node:")


def is_vue_options_object(code: str) -> bool:
    if not _OPTIONS_DEFAULT.search(code):
        return False
    found = {name for name, pattern in _OPTIONS_KEYS.items() if pattern.search(code)}
    return "template" in found and len(found) >= 2 or {"data", "methods"} <= found


def uses_dom(code: str) -> bool:
    return bool(_DOM.search(strip_js_strings_and_comments(code)))


def script_environment(code: str, language: str) -> str:
    """react, vue, dom (browser JS), javascript or typescript for JS/TS/JSX/TSX code."""
    vue = _VUE.search(code) or is_vue_options_object(code) or (re.search(r"\bcreateApp\s*\(", code) and "Vue" in code)
    if vue and language not in ("jsx", "tsx") and not _REACT.search(code):
        return "vue"
    if language in ("jsx", "tsx") or _REACT.search(code) or has_jsx(code) or _HOOKS.search(code):
        return "react"
    typescript = language == "typescript"
    if not typescript and uses_dom(code) and not _NODE.search(code):
        return "dom"
    return "typescript" if typescript else "javascript"


def is_typescript_source(code: str, language: str | None) -> bool:
    return language in ("typescript", "tsx") or bool(re.search(r"<script[^>]*\blang=[\"']ts[\"']", code))


def block_environment(language: str | None, code: str) -> str | None:
    """The environment (or "css"/"dom" marker) of one block; None for blocks that are not programs."""
    if language == "python":
        return python_environment(code)[0]
    if language in ("javascript", "typescript", "jsx", "tsx"):
        return script_environment(code, language)
    if language == "html":
        return "vue" if is_vue_sfc(code) and not re.search(r"<html|<!doctype", code[:3000], re.IGNORECASE) else "html"
    if language == "vue":
        return "vue"
    if language in ("css", "scss", "sass", "less"):
        return "css"
    if language in ("mermaid", "c", "cpp", "java", "go", "rust"):
        return language
    return None


# fmt: off
_HINT_ALIASES = {
    "py": "python", "python3": "python", "c++": "cpp", "cplusplus": "cpp", "js": "javascript", "node": "javascript",
    "nodejs": "javascript", "ts": "typescript", "golang": "go", "rs": "rust", "reactjs": "react",
    "react.js": "react", "vuejs": "vue", "vue.js": "vue", "vue3": "vue", "md": "markdown", "web": "html",
    "html5": "html", "jsx": "react", "tsx": "react", "pygame-ce": "pygame", "interpreter": "python",
    "code interpreter": "python", "python interpreter": "python", "python runner": "python",
    "javascript runner": "javascript", "mmd": "mermaid",
}
# fmt: on


def normalize_hint(hint: str | None) -> str | None:
    """An environment id from the user's choice ("C++", "React", "PyGame"...); None for auto/unknown."""
    if not hint:
        return None
    key = hint.strip().lower()
    if key in ("", "auto", "automatic", "none", "any", "detect"):
        return None
    key = _HINT_ALIASES.get(key, key)
    return key if key in ENVIRONMENTS else None
