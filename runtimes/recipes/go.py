"""Go programs, built outside module mode so a single main.go needs no go.mod."""

from runtimes.recipes.base import Recipe, files_with_suffix

RECIPE = Recipe(
    environment="go",
    language="go",
    build=lambda program: ["go", "build", "-o", "main", *files_with_suffix(program, ".go")],
    run=lambda program: ["./main"],
    env={"GO111MODULE": "off", "GOCACHE": "/tmp/go-cache", "GOPATH": "/tmp/go", "CGO_ENABLED": "0", "GOFLAGS": ""},
    needs=("go",),
)
