"""Node.js scripts."""

from runtimes.recipes.base import NODE_PATH, Recipe

RECIPE = Recipe(
    environment="javascript",
    language="javascript",
    run=lambda program: ["node", program.entry],
    env={"NODE_PATH": NODE_PATH},
    needs=("node",),
)
