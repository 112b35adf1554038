import streamlit as st

st.title("Auto Arena")
st.write(
    "Batch runs of models over a prompt set, judged by an LLM against a baseline, and the judge's agreement with "
    "your own votes. Not built yet."
)
