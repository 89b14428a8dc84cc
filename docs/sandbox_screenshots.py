"""Take the README's screenshots of the sandbox (run: .venv/bin/python docs/sandbox_screenshots.py).

Starts `python -m bot sandbox`, walks through the first minute in a headless Chromium (Debian's
chromium and chromium-driver) and writes docs/sandbox-*.png. For emoji to show, install a
colour emoji font first (Debian: fonts-noto-color-emoji).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.sandbox.browser import Page, find_chromium, start_browser  # noqa: E402
from tests.sandbox.process import sandbox_process  # noqa: E402


def scroll_to(page: Page, text: str) -> None:
    page.message(text)
    page.driver.execute_script(
        "const m = [...document.querySelectorAll('#messages .message')]"
        ".filter(e => e.textContent.includes(arguments[0])).pop();"
        "m.scrollIntoView({block: 'end'});",
        text,
    )


def take(page: Page) -> None:
    page.open()
    page.act_as("Mia")
    page.run("settings channel", purpose="announcements", channel="#announcements")
    page.wait_ticked("announcements")

    page.act_as("Sam")
    page.run("goal add", text="Finish the Django models module", hours="4")
    page.message("Added to your goals")
    page.run("goal add", text="Peer-review two assignments", hours="1")
    page.message("Peer-review two")
    page.type_command("/goal d")
    page.choose_command("goal done")
    page.autocomplete("goal", "")
    page.screenshot(HERE / "sandbox-command-box.png")

    page.one("#command-input").clear()
    page.channel("check-ins")
    page.run("checkin")
    page.modal()
    page.one('#modal-fields [data-label^="Hours"]').send_keys("2")
    page.one('#modal-fields [data-label^="What did you do"]').send_keys(
        "Models, migrations and the admin site"
    )
    page.screenshot(HERE / "sandbox-checkin-modal.png")
    page.one("#modal-submit").click()
    page.message("Checked in for")

    page.act_as("Ada")
    page.channel("faq")
    page.run("faq ask", question="How long does the certificate take?")
    page.press("Not helpful", "Helpful")
    page.message("Glad it helped")

    page.channel("announcements")
    for expected in ("set your goals", "Time to check in", "in numbers"):
        page.jump()
        page.message(expected)
    page.chart_width("in numbers")
    scroll_to(page, "in numbers")
    page.screenshot(HERE / "sandbox-summary.png")


def main() -> int:
    found = find_chromium()
    if found is None:
        sys.stderr.write("needs chromium and chromedriver (Debian: chromium chromium-driver)\n")
        return 1
    driver = start_browser(*found, width=1280, height=900)
    try:
        with sandbox_process("--members", "4") as sandbox:
            take(Page(driver, sandbox.url))
    finally:
        driver.quit()
    for name in ("sandbox-command-box.png", "sandbox-checkin-modal.png", "sandbox-summary.png"):
        sys.stdout.write(f"{HERE / name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
