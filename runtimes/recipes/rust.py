"""Rust programs compiled with rustc directly: answers are single files, and cargo would want the network."""

from runtimes.recipes.base import Recipe

RECIPE = Recipe(
    environment="rust",
    language="rust",
    build=lambda program: ["rustc", "--edition", "2021", "-C", "opt-level=1", "-o", "main", program.entry],
    run=lambda program: ["./main"],
    needs=("rustc",),
)
