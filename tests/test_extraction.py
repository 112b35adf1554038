"""Extraction: fenced blocks, file names, companions, install commands, dependencies, path safety, robustness."""

from __future__ import annotations

import random
import time
from pathlib import Path, PurePosixPath

import pytest

from core.extraction import CodeBlock, Program, extract_program, parse_blocks
from core.extraction.blocks import filename_from_line, normalize_tag, parse_info
from core.extraction.dependencies import commands_from_code, commands_from_shell, packages_of_command
from core.extraction.imports import distribution_for, infer_npm_packages, infer_python_packages, npm_package
from core.extraction.paths import safe_path
from core.extraction.sniff import sniff_language


def fence(tag: str, code: str, ticks: str = "```") -> str:
    return f"{ticks}{tag}\n{code.strip()}\n{ticks}\n"


# --- fences ----------------------------------------------------------------------------------------------------


def test_basic_block_fields():
    blocks = parse_blocks("Intro\n\n```python\nprint(1)\n```\n\nOutro\n")
    assert blocks == [CodeBlock(language="python", tag="python", filename=None, code="print(1)\n", line=3)]


def test_four_backtick_fence_keeps_inner_fences():
    answer = "````markdown\n# Title\n```python\nprint(1)\n```\nafter\n````\n\n```js\nx\n```\n"
    blocks = parse_blocks(answer)
    assert len(blocks) == 2
    assert blocks[0].language == "markdown"
    assert blocks[0].code == "# Title\n```python\nprint(1)\n```\nafter\n"
    assert blocks[1].language == "javascript"


def test_tilde_fences_and_mixed_characters():
    answer = "~~~python\nprint('~')\n```\nstill inside\n~~~\n~~~~\nfour\n~~~\nstill\n~~~~\n"
    blocks = parse_blocks(answer)
    assert [b.code for b in blocks] == ["print('~')\n```\nstill inside\n", "four\n~~~\nstill\n"]


def test_closing_fence_must_be_at_least_as_long():
    blocks = parse_blocks("`````\na\n```\nb\n`````\n")
    assert blocks[0].code == "a\n```\nb\n"


def test_fence_with_info_does_not_close():
    blocks = parse_blocks("```\nouter\n```python\ninner\n```\n")
    assert len(blocks) == 1
    assert blocks[0].code == "outer\n```python\ninner\n"


def test_inline_triple_backticks_are_not_a_fence():
    blocks = parse_blocks("Use ```inline``` code here.\n```py\nx = 1\n```\n")
    assert [b.language for b in blocks] == ["python"]
    assert parse_blocks("```not`a`fence\ntext\n") == []


def test_indented_fences_in_lists_are_dedented():
    answer = (
        "1. Install:\n\n   ```bash\n   pip install rich\n   ```\n\n2. Code:\n\n"
        "    ```python\n    def f():\n        return 1\n    print(f())\n    ```\n"
    )
    blocks = parse_blocks(answer)
    assert [b.language for b in blocks] == ["bash", "python"]
    assert blocks[0].code == "pip install rich\n"
    assert blocks[1].code == "def f():\n    return 1\nprint(f())\n"


def test_deeply_indented_fence_line_does_not_close_a_top_level_block():
    answer = "```python\ns = '''\n        ```\n'''\nprint(s)\n```\n"
    assert parse_blocks(answer)[0].code == "s = '''\n        ```\n'''\nprint(s)\n"


def test_unclosed_final_fence_yields_the_block():
    blocks = parse_blocks("Text\n```python\ndef f():\n    return 2\n")
    assert len(blocks) == 1
    assert blocks[0].code == "def f():\n    return 2\n"
    program = extract_program("Text\n```cpp\n#include <iostream>\nint main() {\n  std::cout << 1;\n")
    assert (program.environment, program.entry) == ("cpp", "main.cpp")


def test_windows_line_endings():
    blocks = parse_blocks("```py\r\nprint(1)\r\n```\r\n")
    assert blocks[0].code == "print(1)\n"


def test_line_numbers():
    answer = "a\n\n```c\nint x;\n```\n\nb\n~~~go\npackage main\n~~~\n"
    assert [b.line for b in parse_blocks(answer)] == [3, 8]


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("py", "python"),
        ("python3", "python"),
        ("Python", "python"),
        ("golang", "go"),
        ("c++", "cpp"),
        ("cc", "cpp"),
        ("cxx", "cpp"),
        ("hpp", "cpp"),
        ("js", "javascript"),
        ("node", "javascript"),
        ("mjs", "javascript"),
        ("ts", "typescript"),
        ("jsx", "jsx"),
        ("tsx", "tsx"),
        ("sh", "bash"),
        ("shell", "bash"),
        ("console", "bash"),
        ("bash", "bash"),
        ("zsh", "bash"),
        ("htm", "html"),
        ("svg", "html"),
        ("mmd", "mermaid"),
        ("rs", "rust"),
        ("{.python}", "python"),
        ("python3.11", "python"),
        ("es2020", "javascript"),
        ("language-ts", "typescript"),
        ("plaintext", "text"),
        ("output", "text"),
    ],
)
def test_tag_normalization(tag, language):
    assert normalize_tag(tag) == language


def test_xml_tag_with_svg_is_html_and_plain_xml_stays_xml():
    assert parse_blocks(fence("xml", "<svg xmlns='http://www.w3.org/2000/svg'/>"))[0].language == "html"
    assert parse_blocks(fence("xml", "<note><to>you</to></note>"))[0].language == "xml"


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("#!/usr/bin/env python3\nprint('x')", "python"),
        ("#!/usr/bin/env node\nconsole.log(1)", "javascript"),
        ("#include <stdio.h>\nint main() { return 0; }", "c"),
        ("#include <vector>\nint main() { std::vector<int> v; }", "cpp"),
        ("package main\n\nfunc main() {}", "go"),
        ('fn main() {\n    println!("x");\n}', "rust"),
        ("public class A {\n  public static void main(String[] a) {}\n}", "java"),
        ("def f(x):\n    return x * 2", "python"),
        ("import os\nprint(os.getcwd())", "python"),
        ("<!DOCTYPE html>\n<html></html>", "html"),
        ("<html>\n<body></body>\n</html>", "html"),
        ("graph TD\n  A-->B", "mermaid"),
        ("sequenceDiagram\n  A->>B: hi", "mermaid"),
        ("flowchart LR\n  a --> b", "mermaid"),
        ('const App = () => <div className="x">hi</div>;', "jsx"),
        ("console.log('hi');", "javascript"),
        ("interface User { name: string }\nconst u: User = { name: 'a' };", "typescript"),
        ("const el = document.querySelector('#a');\nel.innerHTML = `<div>${1}</div>`;", "javascript"),
        ("function f<T>(x: T): T { return x; }", "typescript"),
        ("pip install numpy\npython main.py", "bash"),
        ("$ npm install\n$ npm start", "bash"),
        ("body {\n  margin: 0;\n}", "css"),
        ('{"name": "x", "version": "1.0.0"}', "json"),
        ("Hello, World!\nDone.", None),
        ("", None),
    ],
)
def test_unlabeled_language_inference(code, language):
    assert sniff_language(code) == language
    if code:
        assert parse_blocks(fence("", code))[0].language == language


# --- file names ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "language", "filename"),
    [
        ('python title="app.py"', "python", "app.py"),
        ("go file=main.go", "go", "main.go"),
        ("js:src/App.js", "js", "src/App.js"),
        ('python {title="x.py"}', "python", "x.py"),
        ('{.python title="x.py"}', "python", "x.py"),
        ("filename=utils.ts", None, "utils.ts"),
        ("app.py", None, "app.py"),
        ("python app.py", "python", "app.py"),
        ("python", "python", None),
        ("python {linenos=true}", "python", None),
        ('python title="Example usage"', "python", None),
    ],
)
def test_parse_info(info, language, filename):
    assert parse_info(info) == (language, filename)


def test_filename_in_fence_refines_language():
    block = parse_blocks(fence("js:src/App.jsx", "export default () => null;"))[0]
    assert (block.language, block.filename) == ("jsx", "src/App.jsx")
    block = parse_blocks(fence("", "x = 1", ticks="```").replace("```\n", '``` title="a.py"\n', 1))[0]
    assert (block.language, block.filename) == ("python", "a.py")


@pytest.mark.parametrize(
    ("line", "filename"),
    [
        ("**app.py**", "app.py"),
        ("**app.py:**", "app.py"),
        ("`src/App.jsx`", "src/App.jsx"),
        ("`src/App.jsx`:", "src/App.jsx"),
        ("### main.py", "main.py"),
        ("### 2. `utils.py`", "utils.py"),
        ("#### `src/components/Button.tsx` (the button)", "src/components/Button.tsx"),
        ("File: index.html", "index.html"),
        ("**File: `server.js`**", "server.js"),
        ("- **styles.css**", "styles.css"),
        ("Create `style.css`:", "style.css"),
        ("1. Save this as `snake.py`:", "snake.py"),
        ("Here's the code:", None),
        ("Run `python app.py`:", None),
        ("Update `App.jsx` to import `Button.jsx`:", None),
        ("Save it as `snake.py` and run it later.", None),
        ("Version 1.2 is e.g. better:", None),
    ],
)
def test_filename_from_preceding_line(line, filename):
    assert filename_from_line(line) == filename


@pytest.mark.parametrize(
    ("code", "filename"),
    [
        ("// filename: utils.js\nexport const a = 1;", "utils.js"),
        ("// src/App.jsx\nexport default () => null;", "src/App.jsx"),
        ("# main.py\nprint(1)", "main.py"),
        ("#!/usr/bin/env python3\n# tool.py - a tool\nprint(1)", "tool.py"),
        ("/* style.css */\nbody { margin: 0; }", "style.css"),
        ("<!-- index.html -->\n<html></html>", "index.html"),
        ("# Main program\nprint(1)", None),
        ("#include <stdio.h>\nint main() {}", None),
    ],
)
def test_filename_from_first_line_comment(code, filename):
    assert parse_blocks(fence("", code))[0].filename == filename


def test_preceding_line_name_is_dropped_when_it_contradicts_the_tag():
    answer = "Install the packages listed in `requirements.txt`:\n\n" + fence("bash", "pip install -r requirements.txt")
    assert parse_blocks(answer)[0].filename is None


def test_preceding_line_name_is_dropped_when_the_block_imports_it():
    answer = "Now the script (save the first block as `geometry.py`):\n\n" + fence(
        "python", "from geometry import area\nprint(area(2))"
    )
    assert parse_blocks(answer)[0].filename is None


def test_preceding_line_only_counts_when_adjacent():
    answer = "**app.py**\n\nSome explanation in between.\n\nAnd more explanation.\n\n" + fence("python", "print(1)")
    assert parse_blocks(answer)[0].filename is None
    answer = "Intro about app.py\n\nSome explanation in between.\n\n" + fence("python", "print(1)")
    assert parse_blocks(answer)[0].filename is None
    answer = "### utils.py\n\nHelper functions used by the app.\n\n" + fence("python", "def f():\n    pass")
    assert parse_blocks(answer)[0].filename == "utils.py"
    answer = "**app.py**\n\n" + fence("python", "print(1)")
    assert parse_blocks(answer)[0].filename == "app.py"


# --- path safety -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "etc/passwd"),
        ("/etc/passwd", "etc/passwd"),
        ("./src/../app.py", "src/app.py"),
        ("C:\\Users\\me\\app.py", "Users/me/app.py"),
        ("~/x.py", "x.py"),
        ("..", None),
        ("", None),
        ("a/\x00b.py", "a"),
    ],
)
def test_safe_path(raw, safe):
    assert safe_path(raw) == safe


def _assert_safe_files(program: Program, root: Path) -> None:
    for path in program.files:
        pure = PurePosixPath(path)
        assert not pure.is_absolute() and ".." not in pure.parts and "\\" not in path, path
        assert root in (root / path).resolve().parents


@pytest.mark.parametrize(
    "answer",
    [
        "**../../etc/passwd.py**\n\n" + fence("python", "print('x')"),
        fence('python title="../../../tmp/evil.py"', "print('x')"),
        fence("js:/etc/evil.js", "console.log(1)"),
        fence("python", "# ../../outside.py\nprint(1)"),
        fence("html", "<!DOCTYPE html><html><head><link rel='stylesheet' href='../../../../etc/x.css'></head></html>")
        + fence("css", "body { color: red; }"),
        fence("jsx", "import A from '../../../../evil/A';\nexport default function App() { return <A/>; }")
        + fence("jsx", "export default function A() { return <p/>; }"),
    ],
)
def test_program_paths_never_escape(answer, tmp_path):
    program = extract_program(answer)
    assert program.files
    _assert_safe_files(program, tmp_path.resolve())


# --- choosing the program and its companions -------------------------------------------------------------------


def test_html_reference_in_a_folder_places_the_named_file_there():
    answer = (
        "**index.html**\n"
        + fence(
            "html",
            '<!DOCTYPE html><html><head><link rel="stylesheet" '
            'href="css/style.css"></head><body><script src="js/app.js">'
            "</script></body></html>",
        )
        + "**style.css**\n"
        + fence("css", "body { margin: 0; }")
        + fence("javascript", "document.body.append('hi');")
    )
    program = extract_program(answer)
    assert sorted(program.files) == ["css/style.css", "index.html", "js/app.js"]
    assert program.files["js/app.js"].startswith("document.body")


def test_unreferenced_unnamed_css_and_js_are_injected():
    answer = (
        fence("html", "<!DOCTYPE html><html><head><title>t</title></head><body><p>x</p></body></html>")
        + fence("css", "p { color: red; }")
        + fence("js", "document.querySelector('p').textContent = 'y';")
    )
    program = extract_program(answer)
    page = program.files["index.html"]
    assert list(program.files) == ["index.html"]
    assert page.index("<style>") < page.index("</head>") < page.index("<script>") < page.index("</body>")


def test_python_module_named_by_import():
    answer = fence("python", "def helper(x):\n    return x + 1") + fence(
        "python", "from mytools import helper\n\nprint(helper(1))"
    )
    program = extract_program(answer)
    assert sorted(program.files) == ["main.py", "mytools.py"]
    assert program.entry == "main.py"
    assert program.python_packages == []


def test_named_python_modules_and_entry():
    answer = (
        "**utils.py**\n"
        + fence("python", "import requests\n\ndef get():\n    return requests")
        + "**main.py**\n"
        + fence("python", "from utils import get\n\nif __name__ == '__main__':\n    get()")
    )
    program = extract_program(answer)
    assert program.entry == "main.py"
    assert sorted(program.files) == ["main.py", "utils.py"]
    assert program.python_packages == ["requests"]


def test_java_classes_named_after_public_class_and_entry_has_main():
    answer = fence("java", "public class Util {\n  static int two() { return 2; }\n}") + fence(
        "java", "public class App {\n  public static void main(String[] a) { System.out.println(Util.two()); }\n}"
    )
    program = extract_program(answer)
    assert sorted(program.files) == ["App.java", "Util.java"]
    assert program.entry == "App.java"


def test_cpp_header_named_by_include_guard():
    answer = (
        fence("cpp", "#pragma once\nint twice(int x);")
        + fence("cpp", '#include "math_utils.h"\nint twice(int x) { return 2 * x; }')
        + fence("cpp", '#include <iostream>\n#include "math_utils.h"\nint main() { std::cout << twice(2); }')
    )
    program = extract_program(answer)
    assert sorted(program.files) == ["main.cpp", "math_utils.cpp", "math_utils.h"]
    assert program.entry == "main.cpp"


def test_shell_output_and_json_blocks_are_ignored():
    answer = (
        fence("bash", "python3 main.py")
        + fence("python", "print('hello')")
        + fence("text", "hello")
        + fence("json", '{"irrelevant": true}')
        + fence("console", "$ python3 main.py\nhello")
    )
    program = extract_program(answer)
    assert program.files == {"main.py": "print('hello')\n"}
    assert any("ignored 2 shell" in note for note in program.notes)


def test_repl_sessions_and_mistagged_install_lines_are_not_programs():
    answer = (
        fence("python", "pip install streamlit")
        + fence("python", "import streamlit as st\n\nst.write(sum(range(4)))")
        + fence("python", ">>> sum(range(4))\n6")
    )
    program = extract_program(answer)
    assert (program.environment, list(program.files)) == ("streamlit", ["app.py"])
    assert program.install_commands == ["pip install streamlit"]


def test_unnamed_plain_script_loaded_by_a_page_stays_with_the_page():
    page = "<!DOCTYPE html><html><body><p id=o></p><script src='logic.js'></script></body></html>"
    script = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n" * 30
    program = extract_program(fence("html", page) + fence("javascript", script))
    assert program.environment == "html"
    assert sorted(program.files) == ["index.html", "logic.js"]


def test_data_file_is_kept_when_the_program_reads_it():
    answer = (
        "**config.json**\n"
        + fence("json", '{"n": 3}')
        + fence("python", "import json\nprint(json.load(open('config.json'))['n'])")
    )
    program = extract_program(answer)
    assert sorted(program.files) == ["config.json", "main.py"]


def test_snippet_then_full_program_takes_the_full_one():
    full = "import math\n\ndef area(r):\n    return math.pi * r * r\n\nfor r in range(1, 4):\n    print(area(r))\n"
    program = extract_program(fence("python", "return math.pi * r * r") + fence("python", full))
    assert program.files["main.py"] == full


def test_full_program_then_usage_snippet_keeps_the_full_one():
    full = (
        "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n"
        "for i in range(10):\n    print(i, fib(i))\n"
    )
    program = extract_program(fence("python", full) + "Usage:\n" + fence("python", "print(fib(20))"))
    assert program.files["main.py"] == full


def test_python_usage_example_is_appended_to_definitions():
    definitions = "def double(x):\n    return 2 * x\n\n\ndef triple(x):\n    return 3 * x\n"
    program = extract_program(
        fence("python", definitions) + "Usage:\n" + fence("python", "print(double(2), triple(2))")
    )
    code = program.files["main.py"]
    assert code.startswith(definitions) and code.rstrip().endswith("print(double(2), triple(2))")


def test_python_usage_is_not_appended_when_the_program_already_runs():
    full = "def double(x):\n    return 2 * x\n\nprint(double(5))\n"
    program = extract_program(fence("python", full) + fence("python", "print(double(7))"))
    assert program.files["main.py"] == full


def test_python_test_blocks_are_not_the_program():
    program = extract_program(
        fence("python", "def add(a, b):\n    return a + b\n\nprint(add(1, 2))")
        + fence(
            "python",
            "import unittest\nfrom calc import add\n\nclass T(unittest.TestCase):\n"
            "    def test_add(self):\n        self.assertEqual(add(1, 2), 3)\n\nunittest.main()",
        )
    )
    assert list(program.files) == ["main.py"]
    assert "unittest" not in program.files["main.py"]


def test_js_usage_example_is_appended_and_alternatives_still_take_the_last():
    definitions = "function add(a, b) {\n  return a + b;\n}\n"
    program = extract_program(fence("js", definitions) + fence("js", "console.log(add(2, 3));"))
    assert program.files["main.js"].startswith(definitions) and "console.log(add(2, 3));" in program.files["main.js"]
    first = "const greet = (name) => `Hello ${name}`;\nconsole.log(greet('a'));\n"
    second = "function greet(name) {\n  return 'Hi ' + name;\n}\nconsole.log(greet('b'));\n"
    assert extract_program(fence("js", first) + fence("js", second)).files == {"main.js": second}


def test_alternatives_take_the_last_complete_one():
    first = '#include <stdio.h>\nint main(void) { puts("first"); return 0; }'
    second = '#include <stdio.h>\nint main(void) { puts("second"); return 0; }'
    program = extract_program(fence("c", first) + fence("c", second))
    assert "second" in program.files["main.c"]
    assert list(program.files) == ["main.c"]


def test_repeated_named_file_takes_the_last_complete_version():
    answer = (
        "**app.py**\n"
        + fence("python", "print('v1')")
        + "Updated **app.py**:\n"
        + fence("python", "print('v2 with more')")
    )
    assert extract_program(answer).files == {"app.py": "print('v2 with more')\n"}


def test_react_split_into_components_and_css():
    answer = (
        fence(
            "jsx",
            "import Header from './components/Header';\nimport './App.css';\n"
            'export default function App() { return <Header title="x" />; }',
        )
        + fence("jsx", "export default function Header({ title }) { return <h1>{title}</h1>; }")
        + fence("css", "h1 { color: teal; }")
    )
    program = extract_program(answer)
    assert sorted(program.files) == ["App.css", "App.jsx", "components/Header.jsx"]
    assert program.entry == "App.jsx"


def test_unnamed_mount_file_is_not_taken_for_the_app():
    answer = fence("jsx", "export default function App() { return <h1>Hi</h1>; }") + fence(
        "jsx",
        "import ReactDOM from 'react-dom/client';\nimport App from './App';\n"
        "ReactDOM.createRoot(document.getElementById('root')).render(<App />);",
    )
    program = extract_program(answer)
    assert program.entry == "App.jsx"
    assert "export default function App" in program.files["App.jsx"]
    assert "createRoot" in program.files["main.jsx"]


def test_python_test_file_is_not_the_entry():
    answer = (
        "**app.py**\n"
        + fence("python", "def add(a, b):\n    return a + b\n\nprint(add(1, 2))")
        + "**test_app.py**\n"
        + fence("python", "from app import add\n\ndef test_add():\n    assert add(1, 2) == 3")
    )
    program = extract_program(answer)
    assert program.entry == "app.py"
    assert sorted(program.files) == ["app.py", "test_app.py"]


def test_server_templates_stay_with_the_python_program():
    answer = (
        "**app.py**\n"
        + fence(
            "python",
            "from flask import Flask, render_template\napp = Flask(__name__)\n"
            "@app.route('/')\ndef index():\n    return render_template('index.html')\n",
        )
        + "**templates/index.html**\n"
        + fence("html", "<!DOCTYPE html><html><body>" + "<p>hi</p>" * 200 + "</body></html>")
    )
    program = extract_program(answer)
    assert (program.environment, program.entry) == ("python", "app.py")
    assert sorted(program.files) == ["app.py", "templates/index.html"]
    assert program.python_packages == ["flask"]


# --- install commands and dependencies -------------------------------------------------------------------------


def test_install_commands_from_shell_blocks():
    shell = (
        '$ pip install -U "pandas>=2" numpy==1.26  # data\npython -m pip install requests\n'
        "cd app && pip3 install flask\nnpm i -D @types/node lodash@4\nyarn add react-router-dom@6\n"
        "sudo apt-get install -y libsdl2-dev\npip install \\\n    rich\npython main.py\n"
    )
    assert commands_from_shell(shell) == [
        'pip install -U "pandas>=2" numpy==1.26',
        "python -m pip install requests",
        "pip3 install flask",
        "npm i -D @types/node lodash@4",
        "yarn add react-router-dom@6",
        "sudo apt-get install -y libsdl2-dev",
        "pip install rich",
    ]


def test_install_commands_from_code():
    code = "!pip install seaborn\n%pip install plotly\n# pip install tqdm\n// npm install axios\nprint(1)\n"
    assert commands_from_code(code) == [
        "pip install seaborn",
        "pip install plotly",
        "pip install tqdm",
        "npm install axios",
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("pip install -U \"pandas>=2\" numpy==1.26 'uvicorn[standard]'", ("pip", ["pandas", "numpy", "uvicorn"], [])),
        ("pip install -r requirements.txt", ("pip", [], ["requirements.txt"])),
        ("pip install git+https://github.com/x/y.git ./local", ("pip", [], [])),
        ("python3 -m pip install --index-url https://example.org/simple pkg", ("pip", ["pkg"], [])),
        ("npm install --save-dev @types/node lodash@4.17.21", ("npm", ["@types/node", "lodash"], [])),
        ("pnpm add @scope/pkg@^1.2", ("npm", ["@scope/pkg"], [])),
        ("sudo apt-get install -y python3-tk", ("apt", [], [])),
    ],
)
def test_packages_of_command(command, expected):
    assert packages_of_command(command) == expected


def test_program_dependencies_from_every_source():
    answer = (
        "Install with `pip install rich`.\n\n"
        + fence("bash", "pip install -r requirements.txt")
        + "**requirements.txt**\n"
        + fence("", "streamlit==1.30\n# comment\nPyYAML>=6")
        + fence(
            "python",
            "# pip install httpx\nimport streamlit as st\nimport yaml\nimport cv2\nimport os\n"
            "from sklearn.linear_model import LinearRegression\nst.write(1)",
        )
    )
    program = extract_program(answer)
    assert program.install_commands == ["pip install -r requirements.txt", "pip install httpx", "pip install rich"]
    assert program.python_packages == ["httpx", "opencv-python-headless", "PyYAML", "rich", "scikit-learn", "streamlit"]


def test_operator_continuation_lines_are_not_taken_for_magics():
    code = "total = (10\n         % 3)\nsame = (1\n        != 2)\nprint(total, same)\n"
    assert extract_program(fence("python", code)).files["main.py"] == code


def test_jupyter_magics_are_commented_out_in_the_program():
    program = extract_program(fence("python", "!pip install numpy\nimport numpy as np\nprint(np.ones(2))"))
    assert program.install_commands == ["pip install numpy"]
    assert program.files["main.py"].startswith("# !pip install numpy\n")
    assert program.python_packages == ["numpy"]


@pytest.mark.parametrize(
    ("module", "distribution"),
    [
        ("PIL.Image", "pillow"),
        ("cv2", "opencv-python-headless"),
        ("sklearn.cluster", "scikit-learn"),
        ("yaml", "pyyaml"),
        ("bs4", "beautifulsoup4"),
        ("skimage", "scikit-image"),
        ("dateutil.parser", "python-dateutil"),
        ("dotenv", "python-dotenv"),
        ("Crypto.Cipher", "pycryptodome"),
        ("OpenGL.GL", "PyOpenGL"),
        ("serial", "pyserial"),
        ("jwt", "PyJWT"),
        ("attr", "attrs"),
        ("google.protobuf", "protobuf"),
        ("docx", "python-docx"),
        ("pptx", "python-pptx"),
        ("fitz", "pymupdf"),
        ("magic", "python-magic"),
        ("wx", "wxPython"),
        ("gi", "PyGObject"),
        ("Levenshtein", "python-Levenshtein"),
        ("tensorflow", "tensorflow"),
        ("torch.nn", "torch"),
        ("sentence_transformers", "sentence-transformers"),
        ("numpy", "numpy"),
        ("tkinter", None),
        ("turtle", None),
        ("os.path", None),
        ("json", None),
        ("__future__", None),
    ],
)
def test_distribution_for(module, distribution):
    assert distribution_for(module) == distribution


def test_python_inference_excludes_stdlib_local_and_relative_imports():
    code = (
        "import os, sys\nimport numpy as np\nfrom . import sibling\nfrom .pkg import x\nimport helpers\n"
        "from PIL import Image\nfrom google.protobuf import json_format\n"
    )
    assert infer_python_packages([code], {"helpers"}) == ["numpy", "pillow", "protobuf"]


def test_python_inference_falls_back_to_regex_for_broken_code():
    code = "import pandas as pd\nfrom bs4 import BeautifulSoup\ndef broken(:\n    pass\n"
    assert infer_python_packages([code], set()) == ["beautifulsoup4", "pandas"]


@pytest.mark.parametrize(
    ("specifier", "package"),
    [
        ("react", "react"),
        ("react-dom/client", "react-dom"),
        ("@scope/pkg/sub/path", "@scope/pkg"),
        ("lodash/fp", "lodash"),
        ("./App", None),
        ("../utils.js", None),
        ("/abs/x.js", None),
        ("fs", None),
        ("node:fs", None),
        ("path", None),
        ("fs/promises", None),
        ("https://cdn.example.com/x.js", None),
        ("@/components/Button", None),
        ("bootstrap/dist/css/bootstrap.min.css", "bootstrap"),
    ],
)
def test_npm_package(specifier, package):
    assert npm_package(specifier) == package


def test_npm_inference_from_sources():
    code = (
        "import React, { useState } from 'react';\nimport type { Foo } from 'types-only';\n"
        "const _ = require(\"lodash/fp\");\nconst chart = await import('chart.js/auto');\n"
        "// import ignored from 'commented-out';\nexport { x } from '@scope/lib/x';\nimport './local.css';\n"
        "import fs from 'node:fs';\n"
    )
    assert infer_npm_packages([code]) == ["react", "lodash", "chart.js", "@scope/lib"]


def test_package_json_feeds_npm_packages():
    answer = (
        "**package.json**\n"
        + fence("json", '{"dependencies": {"express": "^4"}, "devDependencies": {"nodemon": "^3"}}')
        + "**server.js**\n"
        + fence("js", "const express = require('express');\nexpress().listen(3000);")
    )
    program = extract_program(answer)
    assert program.environment == "javascript"
    assert program.npm_packages == ["express", "nodemon"]
    assert sorted(program.files) == ["package.json", "server.js"]


# --- robustness ------------------------------------------------------------------------------------------------


def _huge_answer() -> str:
    part = (
        "Some prose about the code.\n\n**app.py**\n"
        + fence("python", "import numpy as np\nprint(np.ones(3))\n" * 20)
        + "And a page:\n\n"
        + fence("html", "<!DOCTYPE html><html><body>" + "<p>x</p>" * 50 + "</body></html>")
        + fence("bash", "pip install numpy")
    )
    return (part * (1_000_000 // len(part) + 1))[:1_000_000]


def test_huge_answer_parses_fast():
    answer = _huge_answer()
    assert len(answer) >= 1_000_000
    start = time.perf_counter()
    blocks = parse_blocks(answer)
    assert time.perf_counter() - start < 0.8
    assert len(blocks) > 1000


def test_huge_single_block_parses_fast():
    answer = "```python\n" + "value = compute(1, 2)\nprint(value)\n" * 30000
    start = time.perf_counter()
    blocks = parse_blocks(answer)
    assert time.perf_counter() - start < 0.8
    assert len(blocks) == 1 and len(blocks[0].code) > 900_000


def test_huge_answers_extract_in_bounded_time():
    for answer in (_huge_answer(), "```python\n" + "x = 1\nprint(x)\n" * 70000, "```\n" * 250000):
        start = time.perf_counter()
        program = extract_program(answer)
        assert time.perf_counter() - start < 5
        assert program.environment in ("python", "html", "markdown")


GARBAGE = [
    "",
    " ",
    "\n\n\n",
    "```",
    "````",
    "~~~",
    "```\n",
    "```\n```",
    "``````",
    "`" * 1000,
    "~" * 1000,
    "```python",
    "```python\n",
    "\x00\x01\x02```\x00\n\x00",
    "```\x00py\nprint(1)\n```",
    bytes(range(256)).decode("latin-1"),
    "\ufeff```py\nx\n```",
    "```" + "\n" * 1000,
    "(" * 5000,
    "```python\n" + "(" * 5000 + "\n```",
    "```python\nif True:\n" + " " * 10000 + "x\n```",
    "**../..**\n```\n\n```",
    "```js\nimport x from '\n```",
    "```html\n<link href='\x00'>\n<script src=''>\n```",
    "```java\npublic class {\n```",
    '```cpp\n#include ""\n```',
    "```\u202e\n\u202e\n```",
]


@pytest.mark.parametrize("answer", GARBAGE, ids=[f"garbage-{i}" for i in range(len(GARBAGE))])
def test_garbage_never_raises(answer):
    parse_blocks(answer)
    program = extract_program(answer)
    assert program.environment
    for hint in ("python", "react", "html", "nonsense", None):
        extract_program(answer, environment_hint=hint)


def test_random_fragments_never_raise():
    pieces = [
        "```",
        "~~~",
        "````",
        "py",
        "js",
        "html",
        "\n",
        "   ",
        "**a.py**",
        "import x",
        "<html>",
        "<svg>",
        "def f():",
        "#include <x>",
        "package main",
        "fn main() {",
        '```python title="',
        "\x00",
        "é",
        "`",
        "export default {",
        "<template>",
        "graph TD",
        "$ pip install",
        "!pip install q",
        "../../",
        "{",
        "}",
    ]
    rng = random.Random(1234)
    for _ in range(400):
        answer = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        extract_program(answer)
    assert extract_program(None).environment == "markdown"  # type: ignore[arg-type]
