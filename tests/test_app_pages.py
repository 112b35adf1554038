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


def test_settings_says_so_when_the_machine_report_cannot_be_imported(monkeypatch):
    import sys

    import core

    monkeypatch.delattr(core, "doctor", raising=False)
    monkeypatch.setitem(sys.modules, "core.doctor", None)  # makes `from core import doctor` raise ImportError
    app = AppTest.from_file(str(REPO_ROOT / "pages" / "settings.py"), default_timeout=60).run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Settings"
    assert any("machine report is unavailable" in w.value for w in app.warning)
