"""Reading the prompt deck from a TOML file (the parsing and its rules are core/deck.py)."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

from bridgechat.core.deck import Deck, DeckError, parse_deck

# "prompts[3]" in a DeckError: the fourth [[prompts]] table of the file.
ENTRY = re.compile(r"^(?P<source>.*?): (?P<table>[a-z_]+)\[(?P<index>\d+)\]: ")


def load_deck(path: Path | None = None) -> Deck:
    """Load the operator's deck, or the default one shipped with the package."""
    if path is None:
        text = resources.files("bridgechat.data").joinpath("deck.toml").read_text("utf-8")
        return parse_deck(tomllib.loads(text), "default deck")
    text = path.read_text("utf-8")
    try:
        return parse_deck(tomllib.loads(text), str(path))
    except tomllib.TOMLDecodeError as e:
        raise DeckError(f"{path}: {e}") from e
    except DeckError as e:
        raise DeckError(with_line(str(e), text)) from e


def with_line(message: str, text: str) -> str:
    """The message with the line of the table it is about, which tomllib does not keep."""
    found = ENTRY.match(message)
    if found is None:
        return message
    header = f"[[{found['table']}]]"
    starts = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == header]
    index = int(found["index"])
    if index >= len(starts):
        return message
    rest = message[found.end():]
    return f"{found['source']}, line {starts[index]} ({found['table']}[{index}]): {rest}"
