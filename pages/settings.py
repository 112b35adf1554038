import pandas as pd
import streamlit as st

from core import availability, doctor, registry, sandbox_settings
from core.store import open_store

st.title("Settings")
st.caption("What this machine offers: model servers, keys (names only), sandboxes and toolchains. ")


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

st.subheader("Sandbox choices")
with open_store() as store:
    current_backend = sandbox_settings.chosen_backend(store)
    current = sandbox_settings.saved_limits(store)
with st.form("sandbox"):
    backend = st.selectbox("Backend", sandbox_settings.CHOICES, index=sandbox_settings.CHOICES.index(current_backend),
                           help="auto: the first that works here (docker, then bwrap). ARENA_SANDBOX overrides.")
    first, second, third = st.columns(3)
    run_timeout = first.number_input("Run time limit (s)", 1.0, 600.0, float(current.run_timeout_s))
    build_timeout = first.number_input("Build time limit (s)", 1.0, 600.0, float(current.build_timeout_s))
    memory = second.number_input("Memory (MiB)", 32, 16384, int(current.memory_mb))
    processes = second.number_input("Processes and threads", 8, 4096, int(current.processes))
    output_kib = third.number_input("Output (KiB)", 16, 65536, int(current.output_bytes // 1024))
    workspace = third.number_input("Workspace (MiB)", 16, 8192, int(current.workspace_mb))
    if st.form_submit_button("Save"):
        with open_store() as store:
            sandbox_settings.save_backend(store, backend)
            sandbox_settings.save_limits(store, current.with_overrides(
                run_timeout_s=run_timeout, build_timeout_s=build_timeout, memory_mb=memory, processes=processes,
                output_bytes=output_kib * 1024, workspace_mb=workspace))
        st.success("Saved. New runs use these settings.")
st.caption(f"Database: `{report['database']}`")
