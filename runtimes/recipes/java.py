"""Java programs: every class compiled with javac; the class holding `main` is run."""

import re
from pathlib import PurePosixPath

from runtimes.recipes.base import Recipe, files_with_suffix

# A small heap and the serial collector keep the JVM inside the sandbox's memory and thread limits and start fast.
JVM_OPTIONS = ["-Xmx256m", "-Xss8m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:ActiveProcessorCount=1"]


_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)


def main_class(program) -> str:
    """The class to run, qualified by its package when the source declares one."""
    name = PurePosixPath(program.entry).stem
    declared = _PACKAGE.search(program.files.get(program.entry, ""))
    return f"{declared.group(1)}.{name}" if declared else name


RECIPE = Recipe(
    environment="java",
    language="java",
    build=lambda program: ["javac", "-J-Xmx256m", "-encoding", "UTF-8", "-d", "classes",
                           *files_with_suffix(program, ".java")],
    run=lambda program: ["java", *JVM_OPTIONS, "-cp", "classes", main_class(program)],
    needs=("javac", "java"),
)
