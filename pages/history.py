import streamlit as st

from core.store import open_store

st.title("History")
st.write("Past conversations, newest first. Search, filters, replay and export come with the arena.")

store = open_store()
try:
    conversations = store.list_conversations(limit=50)
finally:
    store.close()
if conversations:
    st.dataframe(
        [
            {"created": c["created"], "mode": c["mode"], "model A": c["model_a"], "model B": c.get("model_b"),
             "prompt": (c.get("first_prompt") or "")[:120], "vote": c.get("winner")}
            for c in conversations
        ],
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No conversations yet. `python -m core ask MODEL PROMPT` stores one from the command line.")
