"""Code Arena's domain: store, providers, extraction, rating, judging and the CLI. Never imports Streamlit."""
