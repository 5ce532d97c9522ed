"""SQL tables of the inventory capability."""

from __future__ import annotations

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel


class WarehouseRow(SQLModel, table=True):
    """A warehouse and the region rules it serves ("1", "19_1601", "*")."""

    __tablename__ = "warehouse"
    __table_args__ = (UniqueConstraint("shop_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    code: str = Field(max_length=64)
    regions: list[str] = Field(default_factory=list, sa_type=JSON)
