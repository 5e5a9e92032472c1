import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

METADATA = sa.MetaData()


def _array(item: sa.types.TypeEngine) -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return postgresql.ARRAY(item).with_variant(sa.JSON(), "sqlite")


def _table(name: str) -> sa.Table:
    return sa.Table(
        name, METADATA,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("i2", sa.SmallInteger), sa.Column("i4", sa.Integer),
        sa.Column("i8", sa.BigInteger), sa.Column("f4", sa.REAL), sa.Column("f8", sa.Float),
        sa.Column("num", sa.Numeric(12, 2)), sa.Column("flag", sa.Boolean),
        sa.Column("txt", sa.Text), sa.Column("day", sa.Date), sa.Column("at", sa.DateTime),
        sa.Column("atz", sa.DateTime(timezone=True)), sa.Column("clock", sa.Time),
        sa.Column("uid", sa.Uuid(as_uuid=False)),
        sa.Column("doc", sa.JSON),
        sa.Column("docb", postgresql.JSONB().with_variant(sa.JSON(), "sqlite")),
        sa.Column("vec4", _array(sa.REAL)), sa.Column("vec8", _array(sa.Float)),
        sa.Column("ragged", _array(sa.Float)),
        sa.Column("ints4", _array(sa.Integer)), sa.Column("ints8", _array(sa.BigInteger)),
        sa.Column("words", _array(sa.Text)), sa.Column("raw", sa.LargeBinary),
    )


# dense: no NULLs (the dense forms); holes: a NULL in every nullable column; empty: no rows
dense, holes, empty = _table("dense"), _table("holes"), _table("empty")
