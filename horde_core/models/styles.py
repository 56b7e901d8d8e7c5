"""Styles (a prompt template with generation parameters and models, made by customizers) and collections
of styles, as AI Horde has them. Models and tags are rows of their own so lists can filter by them."""

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class Style(Base):
    __tablename__ = "styles"
    # A name is unique per creator; across creators `creator::style::name` tells them apart.
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), index=True)  # image | text
    name: Mapped[str] = mapped_column(String(100), index=True)
    info: Mapped[str] = mapped_column(String(1000), default="")
    prompt: Mapped[str] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON: only the parameters the creator set
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    nsfw: Mapped[bool] = mapped_column(Boolean, default=False)
    use_count: Mapped[int] = mapped_column(Integer, default=0, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class StyleModel(Base):
    __tablename__ = "style_models"

    style_id: Mapped[str] = mapped_column(ForeignKey("styles.id"), primary_key=True)
    model: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class StyleTag(Base):
    __tablename__ = "style_tags"

    style_id: Mapped[str] = mapped_column(ForeignKey("styles.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class StyleExample(Base):
    """An image showing what an image style makes; one of a style's examples is its primary one."""

    __tablename__ = "style_examples"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    style_id: Mapped[str] = mapped_column(ForeignKey("styles.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    primary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)


class StyleCollection(Base):
    __tablename__ = "style_collections"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), index=True)  # the kind of every style in it
    name: Mapped[str] = mapped_column(String(100), index=True)
    info: Mapped[str] = mapped_column(String(1000), default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    use_count: Mapped[int] = mapped_column(Integer, default=0, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class StyleCollectionMember(Base):
    __tablename__ = "style_collection_members"

    collection_id: Mapped[str] = mapped_column(ForeignKey("style_collections.id"), primary_key=True)
    style_id: Mapped[str] = mapped_column(ForeignKey("styles.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
