"""Java programs: every class compiled with javac; the class holding `main` is run."""

from pathlib import PurePosixPath

from runtimes.recipes.base import Recipe, files_with_suffix

# A small heap and the serial collector keep the JVM inside the sandbox's memory and thread limits and start fast.
JVM_OPTIONS = ["-Xmx256m", "-Xss8m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:ActiveProcessorCount=1"]


def main_class(program) -> str:
    return PurePosixPath(program.entry).stem


RECIPE = Recipe(
    environment="java",
    language="java",
    build=lambda program: ["javac", "-J-Xmx256m", "-encoding", "UTF-8", "-d", "classes",
                           *files_with_suffix(program, ".java")],
    run=lambda program: ["java", *JVM_OPTIONS, "-cp", "classes", main_class(program)],
    needs=("javac", "java"),
)
