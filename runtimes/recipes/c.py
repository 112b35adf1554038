"""C programs: every .c file compiled together with gcc, linked with libm."""

from runtimes.recipes.base import Recipe, files_with_suffix

RECIPE = Recipe(
    environment="c",
    language="c",
    build=lambda program: ["gcc", "-O2", "-Wall", "-std=gnu17", "-o", "main", *files_with_suffix(program, ".c"), "-lm"],
    run=lambda program: ["./main"],
    needs=("gcc",),
)
