"""TypeScript scripts: types are stripped by esbuild (transpile only, as models' answers rarely type-check
strictly), then run by Node."""

from pathlib import PurePosixPath

from runtimes.recipes.base import NODE_PATH, Recipe


def output_file(program) -> str:
    return str(PurePosixPath(program.entry).with_suffix(".cjs"))


RECIPE = Recipe(
    environment="typescript",
    language="typescript",
    build=lambda program: [
        "esbuild", program.entry, "--platform=node", "--format=cjs", f"--outfile={output_file(program)}",
        "--log-level=warning",
    ],
    run=lambda program: ["node", output_file(program)],
    env={"NODE_PATH": NODE_PATH},
    needs=("node", "esbuild"),
)
