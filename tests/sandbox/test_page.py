"""The sandbox page in a real headless Chromium: a person's first minute with Cohort.

The steps share one sandbox and one browser and run in order, like a person would: each test
leaves a screenshot in test-artefacts/sandbox/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.browser import Page
from tests.sandbox.process import Sandbox, sandbox_process

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with sandbox_process("--members", "3") as running:
        yield running


@pytest.fixture(scope="module")
def page(chromium: Any, sandbox: Sandbox) -> Page:
    opened = Page(chromium, sandbox.url)
    opened.open()
    return opened


@pytest.fixture
def shot(page: Page, artefacts: Path, request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    page.screenshot(artefacts / f"{request.node.name}.png")


def no_error(page: Page) -> None:
    notice = page.one("#notice")
    assert notice.get_attribute("hidden") is not None, notice.text


def test_the_page_shows_the_server_and_an_unticked_checklist(page: Page, shot: None) -> None:
    channels = [text.split("\n")[0] for text in page.texts("#channels li")]
    assert channels == ["# general", "# announcements", "# check-ins", "# reviews", "# faq"]
    assert page.texts("#guild-name") == ["Study Group (sandbox)"]
    members = page.texts("#member-picker option")
    assert members == ["Mia (moderator)", "Ada", "Lin", "Sam"]
    labels = page.texts("#checklist li .label")
    assert labels == [
        "Set the announcements channel", "Add a goal", "Check in", "Ask the FAQ",
        "Jump to Sunday's summary",
    ]  # fmt: skip
    assert not any(page.ticked(key) for key in ("announcements", "goal", "checkin", "faq"))


def test_the_moderator_sets_the_announcements_channel(page: Page, shot: None) -> None:
    page.act_as("Mia")
    page.run("settings channel", purpose="announcements", channel="#announcements")
    reply = page.message("Announcements will be posted in")
    assert "Only you can see this" in reply and "weekly rhythm" in reply
    page.wait_ticked("announcements")
    # Which of the week's posts comes next depends on the day the test runs.
    rhythm = [f"next: {kind}" for kind in ("goal-prompt", "checkin-prompt", "weekly-summary")]
    page.until(lambda: any(n in page.texts("#clock-next")[0] for n in rhythm), "the next post")
    no_error(page)


def test_a_member_adds_a_goal_through_the_command_box(page: Page, shot: None) -> None:
    page.act_as("Sam")
    suggested = page.type_command("/goal")
    assert {"goal add", "goal done", "goal list"} <= set(suggested)
    assert "settings channel" not in page.type_command("/set")  # not for members
    page.type_command("/goal a")
    page.choose_command("goal add")
    required = [o.text for o in page.css("#options .option.required span")]
    assert required == ["text"]
    page.fill("text", "Read chapter 2 of Django models")
    page.fill("hours", "2.5")
    page.send()
    reply = page.message("Added to your goals")
    assert "Read chapter 2 of Django models" in reply and "2.5 h planned" in reply
    page.wait_ticked("goal")
    page.act_as("Ada")
    page.until(
        lambda: not any("Added to your goals" in t for t in page.texts(".message")),
        "Sam's reply to disappear for Ada",
    )
    page.act_as("Sam")
    page.message("Added to your goals")
    no_error(page)


def test_autocomplete_shows_the_bots_choices_as_you_type(
    page: Page, shot: None, artefacts: Path
) -> None:
    page.act_as("Sam")
    page.type_command("/goal d")
    page.choose_command("goal done")
    choices = page.autocomplete("goal", "Django")
    assert ["Django" in c.text for c in choices] == [True]
    page.screenshot(artefacts / "autocomplete-choices.png")
    choices[0].click()
    page.send()
    page.message("Done: Read chapter 2")
    no_error(page)


def test_the_checkin_modal_is_rendered_and_submitted(page: Page, shot: None) -> None:
    page.act_as("Sam")
    page.channel("check-ins")
    page.run("checkin")
    modal = page.modal()
    assert "Check in" in modal.text and "hours studied today" in modal.text.lower()
    page.fill_modal({"Hours studied": "1.5", "What did you do?": "Models and migrations"})
    reply = page.message("Checked in for")
    assert "streak" in reply and "Only you can see this" in reply
    page.wait_ticked("checkin")
    no_error(page)


def test_helpful_on_an_faq_answer(page: Page, shot: None) -> None:
    page.act_as("Ada")
    page.channel("faq")
    page.run("faq ask", question="How long does the certificate take?")
    answer = page.message("Helpful")
    assert "Only you can see this" not in answer  # answers are public
    page.press("Not helpful", "Helpful")
    page.message("Glad it helped!")
    page.wait_ticked("faq")
    no_error(page)


def test_jumping_the_clock_posts_the_summary_with_its_chart(page: Page, shot: None) -> None:
    page.channel("announcements")
    for _ in range(3):  # the week's three posts, in the order the week brings them from today
        page.jump()
    for text in ("set your goals", "Time to check in", "in numbers"):
        page.message(text)
    assert page.chart_width("in numbers") > 200
    page.wait_ticked("summary")
    assert all(page.ticked(k) for k in ("announcements", "goal", "checkin", "faq", "summary"))
    no_error(page)


def test_nothing_the_bot_sent_would_be_refused_by_discord(sandbox: Sandbox) -> None:
    assert sandbox.state()["problems"] == []
