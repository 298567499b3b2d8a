"""Reading the prompt deck from a TOML file (the parsing and its rules are core/deck.py)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from bridgechat.core.deck import Deck, DeckError, parse_deck


def load_deck(path: Path | None = None) -> Deck:
    """Load the operator's deck, or the default one shipped with the package."""
    if path is None:
        text = resources.files("bridgechat.data").joinpath("deck.toml").read_text("utf-8")
        return parse_deck(tomllib.loads(text), "default deck")
    try:
        return parse_deck(tomllib.loads(path.read_text("utf-8")), str(path))
    except tomllib.TOMLDecodeError as e:
        raise DeckError(f"{path}: {e}") from e
