"""Sentences for people, kept as a code with parameters until a page or an email says them.

The engine's pure modules (the risk manager, the strategies, the instrument rules) know no Django
and no language, yet they explain themselves: each explanation is a :class:`Phrase`, a ``str``
whose value is the English sentence (for logs, tests and the old text columns) and which also
carries its ``code`` and ``params``. The services store ``Phrase.as_json()`` next to the text, and
``bots.texts`` renders the code in the reader's language when it is shown, as
``accounts.templatetags.audit`` does for audit actions. A parameter may itself be a phrase (the
reason a quantity is refused inside "position too small"); it is stored nested and rendered in
the same language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# A stored phrase: {"code": "risk.closing", "params": {"qty": "0.01", "why": {"code": ...}}}.
PhraseJson = dict[str, Any]


class Phrase(str):
    """An English sentence that remembers its code and parameters (see the module docstring)."""

    code: str
    params: dict[str, str]  # a value may be a nested Phrase

    def __new__(cls, code: str, english: str, /, **params: object) -> Phrase:
        values = {
            key: value if isinstance(value, Phrase) else str(value) for key, value in params.items()
        }
        phrase = super().__new__(cls, english % values if values else english)
        phrase.code, phrase.params = code, values
        return phrase

    def as_json(self) -> PhraseJson:
        return {"code": self.code, "params": params_json(self.params)}

    def __reduce__(self) -> tuple[Any, ...]:
        # Kept whole through pickling (task results, caches), not reduced to its English text.
        return (phrase_from_json, (self.as_json(), str(self)))


def params_json(params: Mapping[str, object]) -> dict[str, Any]:
    """Parameters for storing: nested phrases as their JSON, everything else as text."""
    return {
        key: value.as_json() if isinstance(value, Phrase) else str(value)
        for key, value in params.items()
    }


def phrase_json(text: str) -> PhraseJson:
    """A text for storing: a phrase's code and parameters, else the text itself (no code)."""
    if isinstance(text, Phrase):
        return text.as_json()
    return {"code": "", "params": {}, "text": str(text)}


def phrases_json(texts: Iterable[str]) -> list[PhraseJson]:
    """Several texts for storing, the empty ones left out."""
    return [phrase_json(text) for text in texts if text]


def phrase_from_json(data: Mapping[str, Any], english: str = "") -> str:
    """A stored phrase back as a :class:`Phrase` with ``english`` as its text (or a plain text)."""
    code = str(data.get("code") or "")
    if not code:
        return str(data.get("text") or english)
    phrase = str.__new__(Phrase, english or code)
    phrase.code = code
    phrase.params = {
        key: phrase_from_json(value) if isinstance(value, Mapping) else str(value)
        for key, value in (data.get("params") or {}).items()
    }
    return phrase
