"""Helpers for translation tests: our gettext catalogue, and English that escaped translation.

Django ships no ``.po`` reader and the project has no ``polib``, so :func:`parse_po` is a small
reader of the subset of the format that ``makemessages`` writes: comments and flags, ``msgctxt``,
``msgid``, ``msgid_plural``, ``msgstr`` and ``msgstr[n]``, each possibly continued over several
quoted lines. Obsolete entries (``#~``) are skipped, as ``msgfmt`` skips them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"

# Placeholders a rendered page fills in: %(name)s (Python), {{ name }} left in a blocktranslate
# msgid as %(name)s already, and {s}-style ones used by our JS texts.
_PLACEHOLDER = re.compile(r"%\([^)]*\)[sdfi]|%[sdfi]|\{\{[^}]*\}\}|\{[a-z_]*\}")


@dataclass
class Entry:
    """One catalogue entry; ``msgstr`` holds the singular form, ``plurals`` every form."""

    msgid: str
    msgstr: str = ""
    msgid_plural: str | None = None
    plurals: dict[int, str] = field(default_factory=dict)
    msgctxt: str | None = None
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    msgid_seen: bool = field(default=False, repr=False)

    @property
    def translated(self) -> bool:
        if self.msgid_plural is not None:
            return bool(self.plurals) and all(self.plurals.values())
        return bool(self.msgstr)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def _unquote(text: str) -> str:
    # A .po string is a C string literal; Python's literal syntax reads the escapes we meet.
    return str(ast.literal_eval(text))


def parse_po(path: Path) -> list[Entry]:
    """Every live entry of a ``.po`` file, the header (msgid "") included."""
    entries: list[Entry] = []
    current: Entry | None = None
    key: str | None = None  # the keyword whose quoted continuation lines may follow
    pending_flags: set[str] = set()  # comments come before the entry they describe
    pending_references: list[str] = []

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line and current is not None:
                entries.append(current)
                current, key = None, None
            continue
        if line.startswith("#,"):
            pending_flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#:"):
            pending_references += line[2:].split()
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            if current is None or key is None:
                raise ValueError(f"{path}:{number}: a string outside an entry")
            _append(current, key, _unquote(line))
            continue
        key, _, rest = line.partition(" ")
        if current is not None and key in {"msgctxt", "msgid"} and current.msgid_seen:
            entries.append(current)  # a new entry without a blank line before it
            current = None
        if current is None:
            current = Entry(msgid="", flags=pending_flags, references=pending_references)
            pending_flags, pending_references = set(), []
        if key.startswith("msgstr["):
            current.plurals[int(key[len("msgstr[") : -1])] = ""
        elif key not in {"msgctxt", "msgid", "msgid_plural", "msgstr"}:
            raise ValueError(f"{path}:{number}: unknown keyword {key!r}")
        current.msgid_seen = current.msgid_seen or key == "msgid"
        _append(current, key, _unquote(rest.strip()))
    if current is not None:
        entries.append(current)
    for entry in entries:
        if entry.plurals:
            entry.msgstr = entry.plurals.get(0, "")
    return entries


def _append(entry: Entry, key: str, value: str) -> None:
    if key == "msgid":
        entry.msgid += value
    elif key == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + value
    elif key == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + value
    elif key == "msgstr":
        entry.msgstr += value
    else:
        entry.plurals[int(key[len("msgstr[") : -1])] += value


def po_path(lang: str = "pt_BR") -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"


def catalogue(lang: str = "pt_BR") -> dict[str, str]:
    """English msgid -> translation (singular form) of our ``django`` catalogue; plural msgids
    map to their singular translation and are also listed under the plural msgid."""
    return dict(_catalogue(lang))


@cache
def _catalogue(lang: str) -> tuple[tuple[str, str], ...]:
    pairs: dict[str, str] = {}
    for entry in parse_po(po_path(lang)):
        if not entry.msgid:
            continue  # the header
        pairs[entry.msgid] = entry.msgstr
        if entry.msgid_plural is not None:
            pairs[entry.msgid_plural] = entry.plurals.get(1, entry.msgstr)
    return tuple(pairs.items())


def normalise(text: str) -> str:
    return " ".join(text.split())


@cache
def _english_patterns(lang: str) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """The English msgids whose translation differs: exact texts, and patterns for those with
    placeholders (each placeholder matches any text)."""
    exact: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for msgid, msgstr in catalogue(lang).items():
        if not msgstr or normalise(msgid) == normalise(msgstr):
            continue  # same in both languages ("Sharpe", "USDT"), or untranslated (test a) says so)
        english = normalise(msgid.replace("%%", "%"))
        if _PLACEHOLDER.search(english):
            parts = _PLACEHOLDER.split(english)
            if not "".join(parts).strip(" .,:;()…-"):
                continue  # nothing but placeholders: it would match any text
            patterns.append(re.compile(".+?".join(re.escape(p) for p in parts) + r"\Z", re.S))
        else:
            exact.add(english)
    return frozenset(exact), tuple(patterns)


def english_leftovers(texts: Iterable[str], lang: str = "pt_BR") -> list[str]:
    """The texts (visible text nodes of a page rendered in ``lang``) that are one of our English
    msgids with a different translation: words that escaped translation."""
    exact, patterns = _english_patterns(lang)
    leftovers = []
    for text in texts:
        candidate = normalise(text)
        if not candidate:
            continue
        if candidate in exact or any(p.match(candidate) for p in patterns):
            leftovers.append(candidate)
    return leftovers


# Small English words that are not Portuguese words: two of them in one text is an English
# sentence (or half of one). Words Portuguese shares ("a", "as", "do", "no", "for", "me", "se")
# are left out, and so are nouns, so product and brand names (Bybit, USDT, orderLinkId, RSI,
# EMA, 'Contract - Orders') never count; only the grammar of an English sentence does.
ENGLISH_STOP_WORDS = frozenset(
    [
        "the",
        "is",
        "are",
        "was",
        "were",
        "has",
        "have",
        "been",
        "of",
        "and",
        "to",
        "with",
        "by",
        "your",
        "our",
        "not",
        "this",
        "that",
        "its",
        "it",
        "at",
        "on",
        "from",
        "will",
        "there",
        "which",
        "than",
        "be",
        "an",
        "or",
        "into",
        "after",
        "before",
        "until",
        "when",
        "would",
        "could",
        "should",
        "their",
        "they",
        "you",
        "we",
        "here",
    ]
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def english_words(text: str) -> list[str]:
    """The English stop words in ``text``, in order (numbers, symbols and names never count)."""
    return [word for word in _WORD.findall(text.lower()) if word in ENGLISH_STOP_WORDS]


def english_sentences(texts: Iterable[str], *, threshold: int = 2) -> list[str]:
    """The texts that read as English: ``threshold`` or more English stop words in one text."""
    return [normalise(text) for text in texts if len(english_words(text)) >= threshold]


def sentences_of(text: str) -> list[str]:
    """A stored text cut into its sentences (at ". ", ": " and "; "), each of three words or more:
    the pieces of engine English a page must not show."""
    pieces = re.split(r"(?<=[.:;])\s+", normalise(text))
    return [p.strip() for p in pieces if len(_WORD.findall(p)) >= 3]
