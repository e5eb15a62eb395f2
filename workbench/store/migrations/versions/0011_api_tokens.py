"""The HTTP API's tokens, and a cancel any process can ask for.

- ``api_tokens``: one row per token a user made for the HTTP API (``workbench token create``),
  in the organization it acts in. Only the SHA-256 of the token is kept (tokens are 256 random
  bits, so a fast hash is enough), with its first characters to tell tokens apart.
- ``migration_jobs.cancel_requested_at``: a cancel asked for by another process (the API, a
  second terminal); the job's driver reads it with its heartbeat and stops.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CURRENT_ORGANIZATION = "nullif(current_setting('workbench.organization_id', true), '')::bigint"


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
        sa.Column(
            "organization_id",
            sa.BigInteger(),
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            server_default=sa.text(CURRENT_ORGANIZATION),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        sa.UniqueConstraint(
            "organization_id",
            "user_id",
            "name",
            name=op.f("uq_api_tokens_organization_id_user_id_name"),
        ),
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 200", name=op.f("ck_api_tokens_name_length")
        ),
    )
    op.add_column(
        "migration_jobs",
        sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("migration_jobs", "cancel_requested_at")
    op.drop_table("api_tokens")
