"""Code Arena: the Streamlit entry point. Pages are thin; everything they do lives in core/ and runtimes/."""

import streamlit as st

st.set_page_config(page_title="Code Arena", page_icon=":material/swords:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/arena.py", title="Arena", icon=":material/swords:", default=True),
        st.Page("pages/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
        st.Page("pages/history.py", title="History", icon=":material/history:"),
        st.Page("pages/auto_arena.py", title="Auto Arena", icon=":material/smart_toy:"),
        st.Page("pages/settings.py", title="Settings", icon=":material/settings:"),
    ]
)
navigation.run()
