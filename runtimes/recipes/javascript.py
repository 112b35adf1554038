"""Node.js scripts."""

from runtimes.recipes.base import Recipe

RECIPE = Recipe(
    environment="javascript",
    language="javascript",
    run=lambda program: ["node", program.entry],
    env={"NODE_PATH": "/opt/deps/node_modules"},
    needs=("node",),
)
