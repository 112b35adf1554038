"""Code execution: environment recipes, sandbox backends and previews. Never imports Streamlit."""
