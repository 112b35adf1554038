"""Environment detection: the whole corpus manifest, then one focused case per detection rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.extraction import ENVIRONMENTS, LANGUAGES, detect_environment, extract_program

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
RUNNABLE = {"python", "javascript", "typescript", "c", "cpp", "java", "go", "rust"}


def fence(tag: str, code: str) -> str:
    return f"```{tag}\n{code.strip()}\n```\n"


# --- the corpus ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", MANIFEST, ids=[case["file"] for case in MANIFEST])
def test_corpus_answer(case):
    answer = (CORPUS / "answers" / case["file"]).read_text(encoding="utf-8")
    program = extract_program(answer)
    assert program.environment == case["environment"]
    assert program.language == case["language"]
    assert program.entry == case["entry"]
    assert sorted(program.files) == case["files"]
    assert program.python_packages == case["python_packages"]
    assert program.npm_packages == case["npm_packages"]
    for fragment in case.get("notes_contain", []):
        assert any(fragment in note for note in program.notes), (fragment, program.notes)
    if program.entry is not None:
        assert program.entry in program.files


def test_corpus_is_complete():
    """At least 60 answers, every environment at least twice, each of the ten languages, and runtime expectations
    for every runnable answer."""
    assert len(MANIFEST) >= 60
    assert len({case["file"] for case in MANIFEST}) == len(MANIFEST)
    on_disk = sorted(path.name for path in (CORPUS / "answers").glob("*.md"))
    assert on_disk == sorted(case["file"] for case in MANIFEST)
    for environment in ENVIRONMENTS:
        assert sum(case["environment"] == environment for case in MANIFEST) >= 2, environment
    assert {case["language"] for case in MANIFEST} == set(LANGUAGES)
    for case in MANIFEST:
        if case["environment"] in RUNNABLE:
            expect = case["expect"]
            assert expect["status"] in ("ok", "error", "compile_error"), case["file"]
            assert isinstance(expect["stdout_contains"], list) and isinstance(expect["stderr_contains"], list)
            assert case["stdin"] is None or isinstance(case["stdin"], str)
    statuses = {case["expect"]["status"] for case in MANIFEST if case["environment"] in RUNNABLE}
    assert statuses == {"ok", "error", "compile_error"}


# --- rule 7, case by case --------------------------------------------------------------------------------------

PYTHON_CASES = [
    ("import streamlit as st\nst.title('Hi')", "streamlit"),
    ("from streamlit import session_state\nprint(session_state)", "streamlit"),
    ("st.header('Dashboard')\nst.write(42)", "streamlit"),
    ("import statistics as st\nprint(st.mean([1, 2]))", "python"),
    ("import gradio as gr\ngr.Interface(fn=len, inputs='text', outputs='number').launch()", "gradio"),
    ("import pygame\npygame.init()\nscreen = pygame.display.set_mode((100, 100))", "pygame"),
    ("from pygame.locals import QUIT\nprint(QUIT)", "pygame"),
    ("print(sum(range(10)))", "python"),
    ("import tkinter as tk\nroot = tk.Tk()\nroot.mainloop()", "python"),
    ("import turtle\nturtle.forward(100)\nturtle.done()", "python"),
]


@pytest.mark.parametrize(("code", "environment"), PYTHON_CASES)
def test_python_environments(code, environment):
    assert detect_environment(fence("python", code)) == environment
    assert detect_environment(code, language="python") == environment


@pytest.mark.parametrize("code", ["import tkinter as tk\ntk.Tk().mainloop()", "from turtle import *\nforward(10)"])
def test_gui_programs_are_python_with_a_gui_note(code):
    program = extract_program(fence("python", code))
    assert program.environment == "python"
    assert any(note.startswith("gui") for note in program.notes)


def test_plain_python_has_no_gui_note():
    program = extract_program(fence("python", "print('hi')"))
    assert not any(note.startswith("gui") for note in program.notes)


HTML_PAGE = "<!DOCTYPE html>\n<html><body><h1 id='t'>Hi</h1></body></html>"
WEB_CASES = [
    (fence("html", HTML_PAGE), "html"),
    (fence("", "<html>\n<body><p>untagged page</p></body>\n</html>"), "html"),
    (fence("svg", "<svg xmlns='http://www.w3.org/2000/svg'><rect width='5' height='5'/></svg>"), "html"),
    (fence("", "<svg width='10' height='10'><circle r='4'/></svg>"), "html"),
    (fence("xml", "<?xml version='1.0'?>\n<svg xmlns='http://www.w3.org/2000/svg'></svg>"), "html"),
    (fence("jsx", "export default function App() {\n  return <div>Hi</div>;\n}"), "react"),
    (fence("tsx", "const App = (): JSX.Element => <main>hi</main>;\nexport default App;"), "react"),
    (fence("javascript", "import React from 'react';\nexport default function A() { return null; }"), "react"),
    (
        fence("js", "import { useState } from 'react';\nexport function useToggle() { return useState(false); }"),
        "react",
    ),
    (fence("js", "function Counter() {\n  const [n, setN] = useState(0);\n  return null;\n}"), "react"),
    (fence("js", "const App = () => (\n  <ul>\n    <li>one</li>\n  </ul>\n);\nexport default App;"), "react"),
    (
        fence(
            "vue",
            "<template>\n  <p>{{ msg }}</p>\n</template>\n<script>\n"
            "export default { data() { return { msg: 'hi' } } }\n</script>",
        ),
        "vue",
    ),
    (fence("js", "import { createApp } from 'vue';\ncreateApp({ data() { return { a: 1 }; } }).mount('#app');"), "vue"),
    (
        fence(
            "js",
            "export default {\n  data() { return { n: 0 }; },\n  methods: { inc() { this.n++; } },\n"
            '  template: `<button @click="inc">{{ n }}</button>`,\n};',
        ),
        "vue",
    ),
    (fence("mermaid", "graph TD\n  A --> B"), "mermaid"),
    (fence("", "flowchart LR\n  start --> stop"), "mermaid"),
    (
        fence(
            "html",
            "<!DOCTYPE html>\n<html><body><pre class='mermaid'>graph TD\nA-->B</pre>\n"
            "<script src='https://cdn.jsdelivr.net/npm/mermaid/dist/mermaid.min.js'></script></body></html>",
        ),
        "html",
    ),
    (fence("js", "const fs = require('fs');\nconsole.log(fs.existsSync('.'));"), "javascript"),
    (fence("", "console.log([1, 2, 3].map((x) => x * 2));"), "javascript"),
    (
        fence("ts", "function add(a: number, b: number): number { return a + b; }\nconsole.log(add(1, 2));"),
        "typescript",
    ),
    (fence("", "interface P { x: number }\nconst p: P = { x: 1 };\nconsole.log(p.x);"), "typescript"),
]


@pytest.mark.parametrize(("answer", "environment"), WEB_CASES)
def test_web_and_script_environments(answer, environment):
    assert detect_environment(answer) == environment


COMPILED_CASES = [
    ("c", '#include <stdio.h>\nint main(void) { printf("hi\\n"); return 0; }', "c"),
    ("", '#include <stdio.h>\nint main(void) { puts("untagged c"); return 0; }', "c"),
    ("cpp", "#include <iostream>\nint main() { std::cout << 1; }", "cpp"),
    ("", '#include <iostream>\nint main() { std::cout << "untagged"; }', "cpp"),
    ("c", "#include <iostream>\nint main() { std::cout << 1; }", "cpp"),  # C++ under a c tag is compiled as C++
    ("java", "public class A { public static void main(String[] a) { System.out.println(1); } }", "java"),
    ("", "public class B {\n  public static void main(String[] args) {\n    System.out.println(2);\n  }\n}", "java"),
    ("go", 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(1) }', "go"),
    ("", 'package main\n\nfunc main() {\n\tprintln("untagged go")\n}', "go"),
    ("rust", 'fn main() { println!("hi"); }', "rust"),
    ("", 'fn main() {\n    let v: Vec<i32> = vec![1];\n    println!("{:?}", v);\n}', "rust"),
]


@pytest.mark.parametrize(("tag", "code", "environment"), COMPILED_CASES)
def test_compiled_language_environments(tag, code, environment):
    assert detect_environment(fence(tag, code)) == environment


def test_dom_script_with_a_page_is_html():
    answer = fence("html", "<!DOCTYPE html><html><body><button id='b'>go</button></body></html>") + fence(
        "javascript", "document.getElementById('b').addEventListener('click', () => alert('hi'));"
    )
    program = extract_program(answer)
    assert program.environment == "html"
    assert "addEventListener" in program.files["index.html"]


def test_node_script_beside_a_page_it_does_not_use_is_not_pulled_in():
    answer = fence("javascript", "const os = require('os');\n" + "console.log(os.platform());\n" * 30) + fence(
        "html", "<!DOCTYPE html><html><body>tiny</body></html>"
    )
    assert detect_environment(answer) == "javascript"


def test_html_page_that_uses_vue_from_a_cdn_is_html():
    answer = fence(
        "html",
        "<!DOCTYPE html><html><head><script src='https://unpkg.com/vue@3'></script></head>"
        "<body><div id='app'>{{ n }}</div><script>Vue.createApp({data(){return {n:1}}})"
        ".mount('#app')</script></body></html>",
    )
    assert detect_environment(answer) == "html"


def test_react_app_with_page_shell_is_react():
    answer = (
        "**index.html**\n"
        + fence(
            "html",
            '<!DOCTYPE html><html><body><div id="root"></div>'
            '<script type="module" src="/src/main.jsx"></script></body></html>',
        )
        + "**src/main.jsx**\n"
        + fence(
            "jsx",
            "import { createRoot } from 'react-dom/client';\nimport App from "
            "'./App';\ncreateRoot(document.getElementById('root')).render(<App />);",
        )
        + "**src/App.jsx**\n"
        + fence("jsx", "export default function App() { return <h1>Hi</h1>; }")
    )
    program = extract_program(answer)
    assert program.environment == "react"
    assert program.entry == "src/App.jsx"
    assert sorted(program.files) == ["index.html", "src/App.jsx", "src/main.jsx"]
    assert program.npm_packages == ["react-dom"]


# --- hints -----------------------------------------------------------------------------------------------------

TWO_LANGUAGES = (
    fence("python", "def greet(name):\n    return f'hi {name}'\n\nprint(greet('py'))")
    + "And in JavaScript:\n\n"
    + fence("javascript", "const greet = (n) => `hi ${n}`;\nconsole.log(greet('js'));")
)


def test_compatible_hint_wins():
    assert detect_environment(TWO_LANGUAGES, environment_hint="javascript") == "javascript"
    assert detect_environment(TWO_LANGUAGES, environment_hint="python") == "python"
    assert detect_environment(TWO_LANGUAGES, environment_hint="Python") == "python"


def test_incompatible_hint_is_noted_and_detection_used():
    program = extract_program(fence("python", "import pygame\npygame.init()"), environment_hint="react")
    assert program.environment == "pygame"
    assert any("hint 'react'" in note and "pygame" in note for note in program.notes)


def test_python_hint_does_not_turn_a_streamlit_app_into_a_script():
    program = extract_program(fence("python", "import streamlit as st\nst.write('hi')"), environment_hint="python")
    assert program.environment == "streamlit"
    assert any("does not fit" in note for note in program.notes)


def test_hint_aliases_and_auto():
    code = fence("cpp", "#include <iostream>\nint main() { std::cout << 1; }")
    assert detect_environment(code, environment_hint="C++") == "cpp"
    assert detect_environment(code, environment_hint="auto") == "cpp"
    program = extract_program(code, environment_hint="cobol")
    assert program.environment == "cpp"
    assert any("unknown environment hint" in note for note in program.notes)


def test_markdown_hint_keeps_the_answer_as_text():
    program = extract_program(fence("python", "print(1)"), environment_hint="markdown")
    assert (program.environment, program.language, program.entry) == ("markdown", "markdown", None)
    assert program.files == {"README.md": fence("python", "print(1)")}


def test_hint_picks_the_matching_block_among_alternatives():
    answer = fence("python", "import streamlit as st\nst.write('web version')") + fence(
        "python", "import pygame\npygame.init()\nprint('game version')"
    )
    assert detect_environment(answer) == "pygame"  # alternatives: the last complete one
    program = extract_program(answer, environment_hint="streamlit")
    assert program.environment == "streamlit"
    assert "web version" in program.files[program.entry]
    assert "game version" not in "".join(program.files.values())


# --- languages and markdown ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "language"),
    [
        (fence("tsx", "export default function A(): JSX.Element { return <p/>; }"), "typescript"),
        (fence("jsx", "export default function A() { return <p/>; }"), "javascript"),
        (
            fence("vue", '<template><p/></template>\n<script setup lang="ts">\nconst n: number = 1\n</script>'),
            "typescript",
        ),
        (fence("mermaid", "graph LR\n A-->B"), "markdown"),
        (fence("python", "import gradio as gr"), "python"),
        ("No code at all.", "markdown"),
    ],
)
def test_program_language(answer, language):
    assert extract_program(answer).language == language


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "   \n",
        "Only prose, no code.",
        fence("bash", "pip install x"),
        fence("json", '{"a": 1}'),
        fence("text", "Hello, World!"),
    ],
)
def test_no_program_is_markdown(answer):
    program = extract_program(answer)
    assert (program.environment, program.language, program.entry) == ("markdown", "markdown", None)
    assert program.files in ({}, {"README.md": answer})
    assert (program.files == {}) == (answer.strip() == "")


def test_detect_environment_on_bare_code():
    assert detect_environment("#include <stdio.h>\nint main(void) { return 0; }") == "c"
    assert detect_environment("print('hi')") == "python"
    assert detect_environment("SELECT 1;", language="sql") == "markdown"
    assert detect_environment("const a = `x```;\nconsole.log(a);", language="js") == "javascript"
