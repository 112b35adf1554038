"""Each page runs under Streamlit's AppTest (no browser) and shows what it should."""

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT

PAGES = {"arena": "Arena", "leaderboard": "Leaderboard", "history": "History", "auto_arena": "Auto Arena",
         "settings": "Settings"}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_runs_and_shows_its_title(page):
    app = AppTest.from_file(str(REPO_ROOT / "pages" / f"{page}.py"), default_timeout=60).run()
    assert not app.exception, app.exception
    assert app.title[0].value == PAGES[page]


def test_entry_point_navigates_over_the_five_pages():
    app = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not app.exception
    assert app.title[0].value == "Arena"  # the default page
    for page, title in PAGES.items():
        app.switch_page(f"pages/{page}.py").run()
        assert not app.exception, (page, app.exception)
        assert app.title[0].value == title


def test_settings_lists_the_builtin_models_and_reports_a_missing_ollama():
    app = AppTest.from_file(str(REPO_ROOT / "pages" / "settings.py"), default_timeout=60).run()
    table = app.dataframe[0].value
    assert {"smollm2-precise", "smollm2-creative"} <= set(table["name"])
    warnings = [w.value for w in app.warning]
    assert any("Ollama is not reachable" in w for w in warnings)


def test_history_shows_stored_conversations():
    from core.store import open_store

    with open_store() as store:
        store.upsert_model("m", "M", "manual", "manual")
        conversation = store.create_conversation("single", "m")
        store.add_prompt(conversation, 1, "sort a list in rust", sides=("a",))
    app = AppTest.from_file(str(REPO_ROOT / "pages" / "history.py"), default_timeout=60).run()
    assert not app.exception
    assert "sort a list in rust" in set(app.dataframe[0].value["prompt"])


def test_settings_saves_the_sandbox_choice_and_limits_for_the_cli_too():
    from core import sandbox_settings
    from core.store import open_store

    app = AppTest.from_file(str(REPO_ROOT / "pages" / "settings.py"), default_timeout=60).run()
    app.selectbox[0].select("bwrap")
    app.number_input[0].set_value(7.0)
    app.number_input[2].set_value(256)
    app.button[0].click().run()
    assert not app.exception
    assert any("Saved" in s.value for s in app.success)
    with open_store() as store:
        assert sandbox_settings.chosen_backend(store) == "bwrap"
        limits = sandbox_settings.saved_limits(store)
    assert (limits.run_timeout_s, limits.memory_mb, limits.build_timeout_s) == (7.0, 256, 60.0)
