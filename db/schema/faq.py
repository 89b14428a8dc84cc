"""Tables for faq (created by their migration in db/migrations/versions/)."""

from __future__ import annotations
