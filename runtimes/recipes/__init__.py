"""One recipe module per environment. Adding a language = one module here + its tests."""

from __future__ import annotations

from runtimes.recipes import c, cpp, go, java, javascript, python, rust, typescript
from runtimes.recipes.base import Recipe
from runtimes.recipes.previews import PREVIEW_RECIPES

PROGRAM_RECIPES: dict[str, Recipe] = {
    module.RECIPE.environment: module.RECIPE for module in (python, javascript, typescript, c, cpp, java, go, rust)
}
RECIPES: dict[str, Recipe] = {**PROGRAM_RECIPES, **PREVIEW_RECIPES}


def recipe_for(environment: str) -> Recipe:
    try:
        return RECIPES[environment]
    except KeyError:
        raise ValueError(f"No recipe for environment '{environment}' (known: {', '.join(sorted(RECIPES))}).") from None
