import streamlit as st

st.title("Arena")
st.write(
    "One prompt, two models answering side by side — anonymous battles or named side-by-side — with every "
    "answer's code run in a local sandbox, then your vote. This page arrives with the arena itself; until then, "
    "`python -m core ask MODEL PROMPT` generates an answer and `python -m core run FILE` runs one."
)
