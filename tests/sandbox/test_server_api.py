"""The sandbox's HTTP and websocket API, against `python -m bot sandbox` as a real process."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from tests.sandbox.process import Sandbox, by_name, sandbox_process

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with sandbox_process("--members", "3") as running:
        yield running


def texts(state: Any, channel: str | None = None) -> list[str]:
    return [
        m["content"]
        for m in state["messages"]
        if channel is None or m["channel_id"] == by_name(state, channel)
    ]


def command(sandbox: Sandbox, who: str, name: str, where: str = "general", **options: Any) -> Any:
    state = sandbox.state()
    return sandbox.post(
        "/api/command",
        {
            "as": by_name(state, who),
            "channel": by_name(state, where),
            "command": name,
            "options": options,
        },
    )


def test_the_demo_server_has_its_channels_people_and_checklist(sandbox: Sandbox) -> None:
    state = sandbox.state()
    assert [c["name"] for c in state["channels"]] == [
        "general", "announcements", "check-ins", "reviews", "faq",
    ]  # fmt: skip
    assert [(m["name"], m["moderator"]) for m in state["members"]] == [
        ("Mia", True), ("Ada", False), ("Lin", False), ("Sam", False),
    ]  # fmt: skip
    assert state["as"]["name"] == "Mia"  # the moderator, unless the page says otherwise
    assert [item["key"] for item in state["checklist"]] == [
        "announcements", "goal", "checkin", "faq", "summary",
    ]  # fmt: skip
    assert state["clock"]["now"] is not None
    assert state["problems"] == []


def test_members_see_only_the_commands_they_may_run(sandbox: Sandbox) -> None:
    state = sandbox.state()
    moderator = {c["name"] for c in state["commands"]}
    member = {c["name"] for c in sandbox.state(by_name(state, "Sam"))["commands"]}
    assert {"goal add", "checkin", "faq ask"} <= member
    assert "settings channel" in moderator and "settings channel" not in member
    goal_add = next(c for c in state["commands"] if c["name"] == "goal add")
    assert [(o["name"], o.get("required", False)) for o in goal_add["options"]] == [
        ("text", True), ("hours", False),
    ]  # fmt: skip


def test_the_faq_starts_with_the_starter_pack(sandbox: Sandbox) -> None:
    answer = command(sandbox, "Lin", "faq list", "faq")
    assert answer == {"ok": True}
    state = sandbox.state(by_name(sandbox.state(), "Lin"))
    (listing,) = [m for m in state["messages"] if m["interaction"] and m["ephemeral"]]
    (embed,) = listing["embeds"]
    assert "No entries yet" not in embed["description"]
    assert embed["footer"]["text"].startswith("Page 1 of")


def test_an_ephemeral_reply_is_seen_only_by_whoever_ran_the_command(sandbox: Sandbox) -> None:
    command(sandbox, "Sam", "goal add", text="Read chapter 2 ✨", hours="2.5")
    state = sandbox.state()
    sam = sandbox.state(by_name(state, "Sam"))
    ada = sandbox.state(by_name(state, "Ada"))
    (reply,) = [m for m in sam["messages"] if "Read chapter 2 ✨" in m["content"]]
    assert reply["ephemeral"] and reply["interaction"] == {"name": "goal add", "user": "Sam"}
    assert not any("Read chapter 2" in t for t in texts(ada))
    assert sam["checklist"][1] == {**sam["checklist"][1], "key": "goal", "done": True}


def test_autocomplete_comes_from_the_bot(sandbox: Sandbox) -> None:
    state = sandbox.state()
    command(sandbox, "Lin", "goal add", text="Finish the SQL quiz")
    answer = sandbox.post(
        "/api/autocomplete",
        {
            "as": by_name(state, "Lin"),
            "channel": by_name(state, "general"),
            "command": "goal done",
            "option": "goal",
            "typed": "SQL",
        },
    )
    assert [c["name"] for c in answer["choices"]] == [
        c["name"] for c in answer["choices"] if "SQL quiz" in c["name"]
    ]
    assert len(answer["choices"]) == 1


def test_bad_input_gets_a_clear_answer(sandbox: Sandbox) -> None:
    state = sandbox.state()
    sam = by_name(state, "Sam")
    general = by_name(state, "general")

    def refused(body: dict[str, Any]) -> str:
        return str(sandbox.post("/api/command", body, expect=400)["error"])

    assert "not a command you can use" in refused({"as": sam, "command": "settings show"})
    assert "not a command" in refused({"as": sam, "command": "nope"})
    bad_hours = {"text": "x", "hours": "two"}
    assert "hours" in refused(
        {"as": sam, "channel": general, "command": "goal add", "options": bad_hours}
    )
    assert "Discord would not send that" in refused(
        {"as": sam, "channel": general, "command": "goal add", "options": {}}
    )
    assert "has no option" in refused(
        {"as": sam, "command": "goal add", "options": {"text": "x", "colour": "red"}}
    )
    assert "member" in refused({"as": "123", "command": "goal add"})
    assert "channel" in refused({"as": sam, "channel": "999", "command": "goal carry"})
    too_long = "x" * 201
    assert "Discord would not send that" in refused(
        {"as": sam, "channel": general, "command": "goal add", "options": {"text": too_long}}
    )


def test_the_checkin_modal_is_rendered_and_submitted_by_its_owner_only(sandbox: Sandbox) -> None:
    state = sandbox.state()
    opened = command(sandbox, "Sam", "checkin", "check-ins")
    modal = opened["modal"]
    assert modal["title"] == "Check in"
    fields = {f["label"]: f["custom_id"] for f in modal["fields"]}
    hours = next(cid for label, cid in fields.items() if label.startswith("Hours"))
    other = sandbox.post(
        "/api/modal",
        {"as": by_name(state, "Ada"), "modal": modal["id"], "values": {hours: "2"}},
        expect=400,
    )
    assert "not open for this member" in other["error"]
    done = sandbox.post(
        "/api/modal", {"as": by_name(state, "Sam"), "modal": modal["id"], "values": {hours: "2"}}
    )
    assert done == {"ok": True}
    sam = sandbox.state(by_name(state, "Sam"))
    assert any("Checked in for" in t for t in texts(sam, "check-ins"))
    assert next(i for i in sam["checklist"] if i["key"] == "checkin")["done"]


def test_helpful_on_an_faq_answer(sandbox: Sandbox) -> None:
    state = sandbox.state()
    command(sandbox, "Ada", "faq ask", "faq", question="How long does the certificate take?")
    ada = sandbox.state(by_name(state, "Ada"))
    answer = next(m for m in ada["messages"] if m["interaction"] and not m["ephemeral"])
    assert answer["interaction"]["name"] == "faq ask"
    buttons = [c for row in answer["components"] for c in row["components"]]
    helpful = next(b for b in buttons if b.get("label") == "Helpful")
    assert sandbox.post(
        "/api/click",
        {"as": by_name(state, "Ada"), "message": answer["id"], "custom_id": helpful["custom_id"]},
    ) == {"ok": True}
    ada = sandbox.state(by_name(state, "Ada"))
    assert "Glad it helped! 👍" in texts(ada)
    assert next(i for i in ada["checklist"] if i["key"] == "faq")["done"]
    hidden = sandbox.post(
        "/api/click",
        {"as": by_name(state, "Sam"), "message": ada["messages"][-1]["id"], "custom_id": "x"},
        expect=400,
    )
    assert "cannot see that message" in hidden["error"]


def test_the_clock_jumps_to_the_next_post_until_the_summary(sandbox: Sandbox) -> None:
    state = sandbox.state()
    assert sandbox.post("/api/clock/jump", {}, expect=400)["error"] == "Nothing is scheduled yet."
    command(
        sandbox, "Mia", "settings channel", purpose="announcements",
        channel=by_name(state, "announcements"),
    )  # fmt: skip
    state = sandbox.state()
    assert next(i for i in state["checklist"] if i["key"] == "announcements")["done"]
    kinds = [s["kind"] for s in state["clock"]["upcoming"]]
    assert sorted(kinds) == ["checkin-prompt", "goal-prompt", "weekly-summary"]
    before = state["clock"]["now"]
    jumped_to = []
    for _ in range(3):
        jumped = sandbox.post("/api/clock/jump", {})
        assert jumped["fired"] == 1 and jumped["now"] > before
        before = jumped["now"]
        jumped_to.append(datetime.fromisoformat(before))
    state = sandbox.state()
    assert all(item["done"] for item in state["checklist"])
    summary = next(
        m for m in state["messages"] if any("in numbers" in e.get("title", "") for e in m["embeds"])
    )
    # Posted on the sandbox's clock, not the machine's: the page shows the simulated time.
    posted = datetime.fromisoformat(summary["created_at"])
    assert any(timedelta(0) <= posted - at < timedelta(minutes=1) for at in jumped_to), posted
    (chart,) = summary["attachments"]
    assert chart["content_type"] == "image/png"
    with urllib.request.urlopen(sandbox.url.rstrip("/") + chart["url"]) as response:
        assert response.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sandbox.post("/api/clock/jump", {"to": "tomorrow"}, expect=400)["error"].startswith(
        "`to` must be"
    )
    assert state["problems"] == []


def test_only_this_machine_and_json_may_drive_it(sandbox: Sandbox) -> None:
    def status(request: urllib.request.Request) -> int:
        try:
            with urllib.request.urlopen(request) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    base = sandbox.url.rstrip("/")
    assert status(urllib.request.Request(base + "/", headers={"Host": "evil.example"})) == 403
    form = urllib.request.Request(
        base + "/api/command",
        data=b"command=goal+add",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status(form) == 415
    assert status(urllib.request.Request(base + "/control?key=guess")) == 403
    assert status(urllib.request.Request(base + "/api/attachments/1/0")) == 404


async def test_changes_are_pushed_over_the_websocket(sandbox: Sandbox) -> None:
    state = await asyncio.to_thread(sandbox.state)
    base = sandbox.url.rstrip("/")
    async with aiohttp.ClientSession() as http, http.ws_connect(base + "/api/live") as ws:
        hello = await ws.receive_json(timeout=10)
        assert hello["type"] == "hello"
        await asyncio.to_thread(
            sandbox.post,
            "/api/command",
            {"as": by_name(state, "Lin"), "command": "goal add", "options": {"text": "Live"}},
        )
        changed = await ws.receive_json(timeout=10)
        assert changed["type"] == "changed" and changed["generation"] > hello["generation"]


def wait_for(check: Any, what: str, tries: int = 100) -> Any:
    """Poll the sandbox (a separate process) until `check()` returns something."""
    for _ in range(tries):
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_dm_from_the_bot_is_shown_to_its_recipient_only(sandbox: Sandbox) -> None:
    state = sandbox.state()
    lin, ada = by_name(state, "Lin"), by_name(state, "Ada")
    command(sandbox, "Lin", "me reminders", enabled="true")
    command(sandbox, "Lin", "faq ask", "faq", question="Can I bring my cat to the study call?")
    choices = sandbox.post(
        "/api/autocomplete",
        {"as": by_name(state, "Mia"), "command": "faq answer", "option": "item", "typed": "cat"},
    )["choices"]
    assert len(choices) == 1
    command(sandbox, "Mia", "faq answer", item=str(choices[0]["value"]), answer="Cats welcome.")

    def dms() -> list[Any]:
        return [m for m in sandbox.state(lin)["messages"] if m["dm"]]

    (dm,) = wait_for(dms, "Lin's DM")
    assert "Cats welcome." in json.dumps(dm)
    assert dm["channel_id"] == sandbox.state(lin)["dm_channel"]
    assert not [m for m in sandbox.state(ada)["messages"] if m["dm"]]


def test_attachments_go_both_ways(sandbox: Sandbox) -> None:
    state = sandbox.state()
    command(sandbox, "Mia", "faq export", "faq")
    mia = sandbox.state()
    exported = next(
        a for m in mia["messages"] for a in m["attachments"] if a["filename"] == "faq.json"
    )
    with urllib.request.urlopen(sandbox.url.rstrip("/") + exported["url"]) as response:
        body = json.load(response)
    assert body["version"] == 1 and body["entries"]
    body["entries"] = [
        {"question": "Where do we meet on Fridays?", "answer": "In the voice channel, 18:00."}
    ]
    upload = {"filename": "more.json", "data": base64.b64encode(json.dumps(body).encode()).decode()}
    command(sandbox, "Mia", "faq import", "faq", file=upload)
    # The import is acknowledged first and finished after (the index is rebuilt off the loop).
    wait_for(
        lambda: [m for m in sandbox.state()["messages"] if "1 entry new" in m["content"]],
        "the import's result",
    )
    ada = by_name(state, "Ada")
    command(sandbox, "Ada", "faq ask", "faq", question="Where do we meet on Fridays?")
    answer = wait_for(
        lambda: [m for m in sandbox.state(ada)["messages"] if "18:00" in json.dumps(m["embeds"])],
        "the imported answer",
    )
    assert not answer[0]["ephemeral"]
