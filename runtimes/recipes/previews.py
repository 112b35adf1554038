"""Environments shown as live previews (web pages, Python apps, games, diagrams). They are prepared and served by
the previews; the program runner only recognizes them so it can say so instead of running them as scripts."""

from runtimes.recipes.base import Recipe

PREVIEW_RECIPES = {
    environment: Recipe(environment=environment, language=language, serves_preview=True)
    for environment, language in (
        ("html", "html"),
        ("react", "javascript"),
        ("vue", "javascript"),
        ("mermaid", "markdown"),
        ("streamlit", "python"),
        ("gradio", "python"),
        ("pygame", "python"),
    )
}
