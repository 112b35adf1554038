import pandas as pd
import streamlit as st

try:
    from core import availability, doctor, registry
except ImportError as error:  # the page still opens while core/ is being worked on
    import_error: ImportError | None = error
else:
    import_error = None

st.title("Settings")
st.caption("What this machine offers: model servers, keys (names only), sandboxes and toolchains. Read-only for now.")
if import_error is not None:
    st.warning(f"The machine report is unavailable: `{import_error}`.")
    st.stop()


@st.cache_data(ttl=30, show_spinner="Checking providers and sandboxes…")
def machine_report() -> dict:
    return doctor.collect()


@st.cache_data(ttl=30, show_spinner=False)
def model_table() -> list[dict]:
    reg = registry.load()
    ollama = availability.discover(reg)
    return [s.as_dict() for s in availability.model_statuses(reg, ollama)]


try:
    report = machine_report()
    models = model_table()
except registry.RegistryError as error:
    st.error(str(error))
    st.stop()

st.subheader("Models")
st.dataframe(pd.DataFrame(models)[["name", "display_name", "provider", "model", "enabled", "reachable", "detail"]],
             hide_index=True, width="stretch")
st.caption(f"Registry file: `{report['registry']}` (edit it to add models; see models.example.toml).")

left, right = st.columns(2)
with left:
    st.subheader("Ollama")
    ollama = report["ollama"]
    (st.success if ollama["reachable"] else st.warning)(ollama["message"])
    st.subheader("Built-in model")
    local = report["local_model"]
    (st.success if local["installed"] else st.info)(local["detail"])
    st.subheader("API keys")
    st.write(", ".join(f"`{name}`" for name in report["keys_set"]) or "No keys set (environment or `.env`).")
with right:
    st.subheader("Sandbox")
    sandbox = report["sandbox"]
    if sandbox["chosen"]:
        st.success(f"Code runs in: **{sandbox['chosen']}**")
    else:
        st.error(sandbox["message"])
    st.dataframe(pd.DataFrame(report["backends"]), hide_index=True, width="stretch")
    st.subheader("Toolchains")
    st.dataframe(pd.DataFrame(report["toolchains"]).fillna("not found"), hide_index=True, width="stretch")
st.caption(f"Database: `{report['database']}`")
