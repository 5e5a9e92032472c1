"""The Forge's seven tables, with the document's grain and check constraints."""

from __future__ import annotations

import sqlalchemy as sa

METADATA = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


def _fk(name: str, target: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target), nullable=False)


store = sa.Table(
    "store", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(16), nullable=False, unique=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("store_type", sa.String(32), nullable=False),
    sa.Column("size_factor", sa.Float, nullable=False),
    sa.Column("opened_on", sa.Date, nullable=False),
    sa.Column("competitor_opened_on", sa.Date),  # a rival store opened nearby (demand drops)
)
product = sa.Table(
    "product", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("brand", sa.String(32), nullable=False),
    sa.Column("base_price", sa.Numeric(10, 2), nullable=False),
    sa.Column("launch_date", sa.Date),
    sa.Column("eol_date", sa.Date),
    sa.CheckConstraint("base_price >= 0", name="base_price_nonneg"),
    sa.CheckConstraint("eol_date IS NULL OR launch_date IS NULL OR eol_date > launch_date",
                       name="life_order"),
)
calendar = sa.Table(
    "calendar", METADATA,
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("day_of_week", sa.SmallInteger, nullable=False),  # 0 = Monday
    sa.Column("day_of_month", sa.SmallInteger, nullable=False),
    sa.Column("month", sa.SmallInteger, nullable=False),
    sa.Column("quarter", sa.SmallInteger, nullable=False),
    sa.Column("year", sa.SmallInteger, nullable=False),
    sa.Column("is_weekend", sa.Boolean, nullable=False),
    sa.Column("is_holiday", sa.Boolean, nullable=False),
    sa.Column("holiday_name", sa.String(64)),
    sa.CheckConstraint("day_of_week BETWEEN 0 AND 6", name="dow_range"),
    sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
    sa.CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
    sa.CheckConstraint("is_holiday = (holiday_name IS NOT NULL)", name="holiday_named"),
)
price_history = sa.Table(
    "price_history", METADATA,
    sa.Column("store_id", sa.Integer, sa.ForeignKey("store.id"), primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), primary_key=True),
    sa.Column("valid_from", sa.Date, primary_key=True),
    sa.Column("valid_to", sa.Date, nullable=False),
    sa.Column("price", sa.Numeric(10, 2), nullable=False),
    sa.CheckConstraint("price >= 0", name="price_nonneg"),
    sa.CheckConstraint("valid_to >= valid_from", name="window_order"),
)
promotion = sa.Table(
    "promotion", METADATA,
    sa.Column("store_id", sa.Integer, sa.ForeignKey("store.id"), primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), primary_key=True),
    sa.Column("start_date", sa.Date, primary_key=True),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("discount_pct", sa.Numeric(4, 3), nullable=False),
    sa.CheckConstraint("discount_pct >= 0 AND discount_pct <= 1", name="discount_range"),
    sa.CheckConstraint("end_date >= start_date", name="window_order"),
)
inventory_snapshot_daily = sa.Table(
    "inventory_snapshot_daily", METADATA,
    sa.Column("date", sa.Date, sa.ForeignKey("calendar.date"), primary_key=True),
    sa.Column("store_id", sa.Integer, sa.ForeignKey("store.id"), primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), primary_key=True),
    sa.Column("on_hand_qty", sa.Integer, nullable=False),  # end of day
    sa.Column("received_qty", sa.Integer, nullable=False),  # arrived this morning
    sa.Column("on_order_qty", sa.Integer, nullable=False),
    sa.Column("lost_sales_qty", sa.Integer, nullable=False),  # demand not served
    sa.CheckConstraint("on_hand_qty >= 0 AND received_qty >= 0 AND on_order_qty >= 0 "
                       "AND lost_sales_qty >= 0", name="quantities_nonneg"),
)
sales_daily = sa.Table(
    "sales_daily", METADATA,
    sa.Column("date", sa.Date, sa.ForeignKey("calendar.date"), primary_key=True),
    sa.Column("store_id", sa.Integer, sa.ForeignKey("store.id"), primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.Numeric(10, 2), nullable=False),
    sa.Column("revenue", sa.Numeric(12, 2), nullable=False),
    sa.Column("on_promotion", sa.Boolean, nullable=False),
    sa.CheckConstraint("quantity >= 0", name="quantity_nonneg"),
    sa.CheckConstraint("unit_price >= 0", name="unit_price_nonneg"),
    sa.CheckConstraint("revenue >= 0", name="revenue_nonneg"),
)

# The sales feed as the stores' point-of-sale export delivers it, before validation: the
# landing table of an ingest. It declares no constraint, so the dirty-data mode's
# duplicates, NULLs, out-of-range values and late rows break none; ``defect`` names what
# is wrong with a row (NULL: a clean record). Seeded only by the dirty profile (or --only
# "+sales_daily_raw"); every other built-in profile excludes tag:raw.
sales_daily_raw = sa.Table(
    "sales_daily_raw", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),  # the feed's row number, in arrival order
    sa.Column("date", sa.Date),
    sa.Column("store_id", sa.Integer),
    sa.Column("product_id", sa.Integer),
    sa.Column("quantity", sa.Integer),
    sa.Column("unit_price", sa.Numeric(10, 2)),
    sa.Column("revenue", sa.Numeric(12, 2)),
    sa.Column("on_promotion", sa.Boolean),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("defect", sa.String(16)),  # duplicate, null, out_of_range, late; NULL: clean
)
