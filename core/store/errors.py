"""Errors the store raises, so callers can tell "no such thing" and "already decided" apart from bugs."""

from __future__ import annotations


class NotFound(LookupError):
    """A conversation, message, execution or model that the caller named is not in the database."""


class VoteLocked(Exception):
    """A conversation already has its vote: votes are final so ratings cannot be gamed by re-voting."""
