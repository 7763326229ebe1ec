"""The client app in Brazilian Portuguese: a complete catalogue, compiled, and no English on pages.

``makemessages`` needs GNU gettext's ``xgettext`` and ``msgfmt`` (``bin/system-deps`` installs
them); the demo itself needs neither, because the compiled ``.mo`` is committed.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone, translation

from bots.models import Alert, Bot, RiskTemplate
from bots.services.tuning import bot_create
from demo.perf_data import seed_history
from exchange.models import ExchangeConnection, ExchangeEnvironment
from tests.factories import client_with_2fa, login_with_2fa
from tests.i18n import english_leftovers, parse_po, po_path

ROOT = Path(__file__).resolve().parents[2]
LANG = "pt_BR"
# The exclusions of our makemessages command (written out in the catalogue's header comment).
MAKEMESSAGES_IGNORE = (".venv", ".tools", "tests", "bench", "staticfiles", "exchange/simulator")
# What the ``django`` domain reads (makemessages' default extensions).
SOURCE_SUFFIXES = {".py", ".html", ".txt"}
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdfi]|\{[a-z_]*\}")

pytestmark = pytest.mark.django_db

CLIENT_PAGES = [
    "/app/",
    "/app/performance/",
    "/app/history/",
    "/app/activity/",
    "/app/notifications/",
    "/app/bots/new/",
    "/app/keys/",
    "/app/team/",
    "/app/security/",
    "/app/activity/audit/",
]


@pytest.fixture(autouse=True)
def _language_restored():
    """LocaleMiddleware activates pt-BR in the test's thread and nothing switches it back after a
    request: restore the language, or tests run later would get Portuguese messages."""
    with translation.override(translation.get_language()):
        yield


def test_every_entry_is_translated_and_none_is_fuzzy() -> None:
    """Each msgid of the pt_BR catalogue has a translation that is not fuzzy, keeps the same
    placeholders, and fills every plural form."""
    entries = parse_po(po_path(LANG))
    header, entries = entries[0], entries[1:]
    assert header.msgid == "" and not header.fuzzy, "the catalogue header is fuzzy"
    assert entries, "the catalogue is empty"
    untranslated = [e.msgid for e in entries if not e.translated]
    fuzzy = [e.msgid for e in entries if e.fuzzy]
    assert untranslated == [], f"untranslated in {po_path(LANG)}: {untranslated}"
    assert fuzzy == [], f"fuzzy in {po_path(LANG)}: {fuzzy}"
    broken = [
        e.msgid
        for e in entries
        if e.msgid_plural is None
        and sorted(PLACEHOLDER.findall(e.msgstr)) != sorted(PLACEHOLDER.findall(e.msgid))
    ]
    assert broken == [], f"translations that lost or changed a placeholder: {broken}"
    plural_forms = [e.msgid for e in entries if e.msgid_plural is not None and len(e.plurals) != 2]
    assert plural_forms == [], (
        f"pt_BR has two plural forms; these have another count: {plural_forms}"
    )


def test_committed_mo_matches_the_po(tmp_path: Path) -> None:
    """The committed ``.mo`` is the compiled ``.po``: compiling it again gives the same catalogue
    (so nobody forgot ``compilemessages`` after editing translations)."""
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "msgfmt is missing: run bin/system-deps (installs gettext)"
    compiled = tmp_path / "django.mo"
    # The flags compilemessages uses.
    subprocess.run(
        [msgfmt, "--check-format", "-o", str(compiled), str(po_path(LANG))],
        check=True,
        capture_output=True,
    )
    committed = po_path(LANG).with_suffix(".mo")
    assert committed.exists(), f"{committed} is not committed: run compilemessages"
    with compiled.open("rb") as fresh, committed.open("rb") as stored:
        fresh_catalogue = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        stored_catalogue = gettext.GNUTranslations(stored)._catalog  # type: ignore[attr-defined]
    stale = sorted(
        str(key)
        for key in fresh_catalogue.keys() | stored_catalogue.keys()
        if fresh_catalogue.get(key) != stored_catalogue.get(key)
    )
    assert stale == [], f"{committed} is stale, run compilemessages; differs on: {stale[:20]}"


def _copy_sources(destination: Path) -> None:
    """The files makemessages reads, minus the ignored directories, and our catalogue."""
    ignored = {ROOT / name for name in MAKEMESSAGES_IGNORE} | {ROOT / ".git", ROOT / "var"}
    for directory, subdirs, files in os.walk(ROOT):
        here = Path(directory)
        subdirs[:] = [
            d
            for d in subdirs
            if here / d not in ignored and d not in {"__pycache__", "node_modules"}
        ]
        for name in files:
            source = here / name
            if source.suffix in SOURCE_SUFFIXES:
                target = destination / source.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    target = destination / po_path(LANG).relative_to(ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(po_path(LANG), target)


def test_makemessages_finds_no_string_missing_from_the_catalogue(tmp_path: Path) -> None:
    """A translatable string added to the code or templates without a pt_BR translation fails here.

    makemessages always writes into a ``locale`` directory of the tree it scans, so it runs on a
    copy: the ``.py``/``.html``/``.txt`` sources and the committed ``.po`` copied into a temporary
    directory (well under a second), and run there without Django settings, so it writes to the
    copy's ``locale/``. Its output then lists every msgid the sources use today.
    """
    assert shutil.which("xgettext"), "xgettext is missing: run bin/system-deps (installs gettext)"
    _copy_sources(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-m", "django", "makemessages", "-l", LANG]
    command += [f"--ignore={name}" for name in MAKEMESSAGES_IGNORE]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    fresh = {e.msgid: e for e in parse_po(tmp_path / po_path(LANG).relative_to(ROOT)) if e.msgid}
    committed = {e.msgid for e in parse_po(po_path(LANG)) if e.msgid}
    missing = {msgid: fresh[msgid].references for msgid in sorted(fresh.keys() - committed)}
    assert missing == {}, (
        "strings without a pt_BR translation (run makemessages, translate, compilemessages): "
        f"{missing}"
    )


class _VisibleText(HTMLParser):
    """Text a person sees: text nodes outside script/style, and the attributes shown or read out
    (placeholders, titles, labels for screen readers, button values, our JS texts in data-t-*)."""

    SHOWN_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}
    HIDDEN_ELEMENTS = {"script", "style", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN_ELEMENTS:
            self._hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            if value and (name in self.SHOWN_ATTRIBUTES or name.startswith("data-t-")):
                self.texts.append(value)
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.texts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN_ELEMENTS and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.texts


@pytest.fixture
def portuguese_client() -> tuple[Client, Bot]:
    """An owner signed in with a browser that asks for pt-BR, and a tenant with something on
    every page: a bot with a month of orders, fills and equity, alerts (one dismissed), an
    exchange key and an open invitation."""
    owner = client_with_2fa()
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="Trend BTC",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot
    seed_history(bot=bot, orders=60, days=30)
    Alert.objects.create(tenant=bot.tenant, bot=bot, kind="test", message="Loss above threshold")
    Alert.objects.create(
        tenant=bot.tenant, bot=bot, kind="test", message="Old alert", dismissed_at=timezone.now()
    )
    ExchangeConnection.objects.create(
        tenant=owner.tenant,
        environment=ExchangeEnvironment.DEMO,
        api_key_last4="AB12",
        status=ExchangeConnection.Status.ACTIVE,
        permissions={"ContractTrade": ["Order"]},
        last_validated_at=timezone.now(),
        key_expires_at=timezone.now() + timedelta(days=80),
    )
    from accounts.models import Invitation

    Invitation.objects.create(
        tenant=owner.tenant,
        email="viewer@example.test",
        role="viewer",
        token_hash="0" * 64,
        expires_at=timezone.now() + timedelta(days=3),
        invited_by=owner.user,
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    login_with_2fa(client, owner)
    return client, bot


def test_client_pages_in_portuguese_show_no_english(portuguese_client: tuple[Client, Bot]) -> None:
    """Every client page rendered for a pt-BR browser shows none of our English msgids: a
    leftover means a literal outside {% translate %} / gettext, or a translation the page skips."""
    client, bot = portuguese_client
    pages = [*CLIENT_PAGES, f"/app/bots/{bot.pk}/settings/"]
    found = {}
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        html = response.content.decode()
        assert '<html lang="pt-br">' in html, f"{path} was not rendered in pt-BR"
        leftovers = english_leftovers(visible_texts(html), lang=LANG)
        if leftovers:
            found[path] = sorted(set(leftovers))
    assert found == {}, f"English left on pt-BR pages: {found}"


def test_english_leftovers_spots_english_and_accepts_portuguese() -> None:
    """The helper flags our English msgids (placeholders matched as wildcards), and passes
    Portuguese text and words that are the same in both languages."""
    texts = ["Painel", "Dashboard", "  Emergency\n stop ", "Join Acme Ltd", "Participe de Acme"]
    texts += ["Bybit mainnet", "Drawdown (%)"]  # msgstr == msgid: Portuguese too
    assert english_leftovers(texts) == ["Dashboard", "Emergency stop", "Join Acme Ltd"]
