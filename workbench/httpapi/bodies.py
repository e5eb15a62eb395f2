"""Request bodies of the API (pydantic models: FastAPI checks them and the OpenAPI document
describes them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class NewProject(BaseModel):
    name: str = Field(description="Unique in the organization")
    description: str | None = None


class NewConnection(BaseModel):
    name: str
    url: str = Field(description="kind://user@host:port/database; a password here is stored "
                     "encrypted and never shown again")  # fmt: skip
    role: Literal["source", "target"] = "source"
    password: str | None = Field(default=None, description="Write-only; stored encrypted")
    replace: bool = Field(default=False, description="Replace a connection of that name")


class ProfileRequest(BaseModel):
    tables: list[str] | None = Field(default=None, description="Default: every table")
    refresh: bool = False


class MatchRequest(BaseModel):
    source: str = Field(description="The source connection's name")
    target: str = Field(description="The target connection's name")
    sample_rows: int = Field(default=500, ge=0, le=100_000)


class DecisionBody(BaseModel):
    action: Literal["accept", "reject", "override"]
    source_column: str
    target_column: str | None = Field(default=None, description="Required by override")


class Decisions(BaseModel):
    decisions: list[DecisionBody]


class AcceptAll(BaseModel):
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class NewJob(BaseModel):
    kind: Literal["migrate", "copy"] = Field(
        default="migrate",
        description="migrate: the accepted mappings from the project's source to its target; "
        "copy: every table (or options.tables) of `source` into `target`",
    )
    source: str | None = Field(default=None, description="copy: the source connection's name")
    target: str | None = Field(default=None, description="copy: the target connection's name")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="CopyOptions fields, as `workbench copy` takes them (tables, if_exists, "
        "max_connections, ...)",
    )
    allow_unmasked_pii: bool = False


class ValidateRequest(BaseModel):
    repair: bool = Field(default=False, description="Re-copy differing partitions, check again")
