"""Identity bound to the database login, and a key per organization.

- ``users.db_role``: the PostgreSQL role a user works as (their own login, or a role the
  store's gateway may SET ROLE to). Row-level security reads the organizations a session may
  see from the memberships of *that role*, so a session cannot widen them by changing a
  setting (``workbench.organization_id`` only chooses among them).
- ``organization_keys``: each organization's data key (Fernet), wrapped with the store's key;
  readable only by the organization's members, so a process can decrypt only the secrets of
  the organizations its user belongs to.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("db_role", sa.Text(), nullable=True))
    op.create_unique_constraint(op.f("uq_users_db_role"), "users", ["db_role"])
    op.create_table(
        "organization_keys",
        sa.Column(
            "organization_id",
            sa.BigInteger(),
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("wrapped_key", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_table("organization_keys")
    op.drop_constraint(op.f("uq_users_db_role"), "users", type_="unique")
    op.drop_column("users", "db_role")
