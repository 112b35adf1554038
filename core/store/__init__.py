"""Persistence for Code Arena: one SQLite file holding conversations, answers, executions and votes."""

from core.store.errors import NotFound, VoteLocked
from core.store.store import Store, open_store

__all__ = ["NotFound", "Store", "VoteLocked", "open_store"]
