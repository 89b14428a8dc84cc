"""Stored sentence embeddings of FAQ texts.

Why: embedding a large FAQ takes seconds of CPU; keeping each text's vector (keyed by the model
that made it and the sha256 of the text) means a restart, or an index rebuild after an import or
an edit, embeds only texts it has not embedded before. Rows are per guild, so they leave with the
guild's data, and rows of texts no entry uses any more are deleted.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_vectors",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("model", sa.String(64), primary_key=True),
        sa.Column("digest", sa.LargeBinary(32), primary_key=True),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("faq_vectors")
