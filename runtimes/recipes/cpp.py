"""C++ programs: every C++ source compiled together with g++ in C++17 (the newest gcc 12 supports fully)."""

from runtimes.recipes.base import Recipe, files_with_suffix

RECIPE = Recipe(
    environment="cpp",
    language="cpp",
    build=lambda program: [
        "g++", "-O2", "-Wall", "-std=gnu++17", "-o", "main",
        *files_with_suffix(program, ".cpp", ".cc", ".cxx", ".c++"), "-lm",
    ],
    run=lambda program: ["./main"],
    needs=("g++",),
)
