"""Driving the sandbox page in a real headless Chromium (Selenium and Debian's chromedriver).

Used by the browser tests and by docs/screenshots.py. Every step waits for what a person
would wait for (an element, a message, a ticked box), never for a fixed time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT = 20.0
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> tuple[str, str] | None:
    """Debian's chromium and chromium-driver (or the COHORT_CHROMIUM/_CHROMEDRIVER paths)."""
    browser = os.environ.get("COHORT_CHROMIUM") or next(
        (found for name in CHROMIUM if (found := shutil.which(name))), None
    )
    driver = os.environ.get("COHORT_CHROMEDRIVER") or shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_browser(browser: str, driver: str, *, width: int = 1280, height: int = 800) -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
        "--lang=en-GB",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(driver), options=options)


class Page:
    """The sandbox page as a person uses it."""

    def __init__(self, driver: Any, url: str) -> None:
        self.driver = driver
        self.url = url

    # -- waiting ------------------------------------------------------------------------------
    def until(self, condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        def check(_: Any) -> Any:
            try:
                return condition()
            except StaleElementReferenceException:
                return None

        return WebDriverWait(self.driver, timeout).until(check, message=f"waiting for {what}")

    def css(self, selector: str) -> list[WebElement]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def one(self, selector: str) -> WebElement:
        return self.until(lambda: (self.css(selector) or [None])[0], selector)

    # -- where and who ------------------------------------------------------------------------
    def open(self) -> None:
        self.driver.get(self.url)
        self.until(lambda: self.css("#checklist li"), "the page to load")

    def act_as(self, name: str) -> None:
        picker = Select(self.one("#member-picker"))
        for option in picker.options:
            if option.text.split(" (")[0] == name:
                picker.select_by_value(str(option.get_attribute("value")))
                break
        else:
            raise LookupError(name)
        self.until(lambda: picker.first_selected_option.text.startswith(name), f"acting as {name}")

    def channel(self, name: str) -> None:
        def clicked() -> bool:  # the list is redrawn as messages arrive: find it afresh
            for item in self.css("#channels li, #dms li"):
                if item.text.split("\n")[0].lstrip("#@ ").strip() == name:
                    item.click()
                    return True
            return False

        self.until(clicked, f"the channel {name!r} in the list")
        self.until(lambda: name in self.one("#channel-title").text, f"#{name}")

    # -- the command box ----------------------------------------------------------------------
    def type_command(self, typed: str) -> list[str]:
        """Type into the command box; return the commands it suggests."""
        box = self.one("#command-input")
        box.clear()
        box.click()
        box.send_keys(typed)
        self.until(
            lambda: not self.one("#command-suggestions").get_attribute("hidden"), "suggestions"
        )
        return [
            i.get_attribute("data-command") or "" for i in self.css("#command-suggestions .item")
        ]

    def choose_command(self, name: str) -> None:
        self.one(f'#command-suggestions .item[data-command="{name}"]').click()
        self.until(lambda: self.one("#command-input").get_attribute("value") == f"/{name}", name)

    def fill(self, option: str, value: str) -> None:
        field = self.one(f'#options [data-option="{option}"]')
        if field.tag_name == "select":  # by value, or by what it shows ("#announcements")
            select = Select(field)
            values = [o.get_attribute("value") for o in select.options]
            if value in values:
                select.select_by_value(value)
            else:
                select.select_by_visible_text(value)
        else:
            field.clear()
            field.send_keys(value)

    def autocomplete(self, option: str, typed: str) -> list[WebElement]:
        """Type into an autocomplete option; return the choices the bot offered."""
        field = self.one(f'#options [data-option="{option}"]')
        field.click()
        field.send_keys(typed)
        return self.until(
            lambda: (
                not self.one("#choices").get_attribute("hidden")
                and self.css("#choices .autocomplete-choice")
            ),
            f"choices for {option}",
        )

    def send(self) -> None:
        self.one("#send-command").click()

    def run(self, command: str, **options: str) -> None:
        self.type_command(f"/{command}")
        self.choose_command(command)
        for name, value in options.items():
            self.fill(name, value)
        self.send()

    # -- messages, modals, buttons, clock -----------------------------------------------------
    def texts(self, selector: str) -> list[str]:
        """The text of each element matching `selector` (read again if the page re-rendered)."""
        found = self.until(lambda: ([e.text for e in self.css(selector)],), selector)
        return list(found[0])

    def _message(self, text: str) -> WebElement | None:
        return next((m for m in self.css("#messages .message") if text in m.text), None)

    def message(self, text: str) -> str:
        """Wait for a message saying `text`; return all it says."""
        return str(
            self.until(
                lambda: (found := self._message(text)) is not None and found.text,
                f"a message saying {text!r}",
            )
        )

    def press(self, text: str, label: str) -> None:
        """Press the button `label` on the message saying `text`."""

        def pressed() -> bool:
            found = self._message(text)
            if found is None:
                return False
            found.find_element(By.CSS_SELECTOR, f'button[data-label="{label}"]').click()
            return True

        self.until(pressed, f"{label!r} on the message saying {text!r}")

    def chart_width(self, text: str) -> int:
        """Wait for the message saying `text` to show a loaded image; return its width."""

        def width() -> int:
            found = self._message(text)
            images = found.find_elements(By.CSS_SELECTOR, "img.chart") if found else []
            if not images:
                return 0
            return int(
                self.driver.execute_script(
                    "return arguments[0].complete ? arguments[0].naturalWidth : 0", images[0]
                )
            )

        return int(self.until(width, f"a chart on the message saying {text!r}"))

    def modal(self) -> WebElement:
        return self.until(
            lambda: not self.one("#modal-backdrop").get_attribute("hidden") and self.one("#modal"),
            "a modal",
        )

    def fill_modal(self, values: dict[str, str]) -> None:
        self.modal()
        for label, value in values.items():
            field = self.one(f'#modal-fields [data-label^="{label}"]')
            field.clear()
            field.send_keys(value)
        self.one("#modal-submit").click()
        self.until(
            lambda: self.one("#modal-backdrop").get_attribute("hidden") is not None, "modal closed"
        )

    def jump(self) -> None:
        before = self.texts("#clock-now")
        button = self.until(
            lambda: (b := self.one("#jump-next")).is_enabled() and b, "the jump button"
        )
        button.click()
        self.until(lambda: self.texts("#clock-now") != before, "the clock to move")

    def ticked(self, key: str) -> bool:
        return bool(
            self.until(
                lambda: self.one(f'#checklist li[data-key="{key}"]').get_attribute("data-done"),
                f"the checklist item {key!r}",
            )
            == "true"
        )

    def wait_ticked(self, key: str) -> None:
        self.until(lambda: self.ticked(key), f"the checklist to tick {key!r}")

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(WebDriverException):  # evidence, not the test itself
            self.driver.save_screenshot(str(path))
