import streamlit as st

st.title("Leaderboard")
st.write(
    "Bradley–Terry ratings with bootstrap confidence intervals from your own votes, matched by environment and "
    "language, with win-rate heatmaps. It fills in once the arena records votes."
)
