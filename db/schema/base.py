"""The one MetaData every table module registers on."""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
