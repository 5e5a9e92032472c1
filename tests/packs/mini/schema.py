import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

METADATA = sa.MetaData()

JSONB = postgresql.JSONB().with_variant(sa.JSON(), "sqlite")

regions = sa.Table(
    "regions", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
)
customers = sa.Table(
    "customers", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("region_id", sa.Integer, sa.ForeignKey("regions.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("signup_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("score", sa.Numeric(6, 2), nullable=False),
    sa.Column("vip", sa.Boolean, nullable=False, server_default=sa.false()),
)
products = sa.Table(
    "products", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sku", sa.Text, nullable=False, unique=True),
    sa.Column("price", sa.Numeric(10, 2), nullable=False),
    sa.CheckConstraint("price >= 0", name="ck_products_price"),
)
orders = sa.Table(
    "orders", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("placed_on", sa.Date, nullable=False),
    sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("meta", JSONB),
)
order_items = sa.Table(
    "order_items", METADATA,
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"), primary_key=True),
    sa.Column("qty", sa.Integer, nullable=False),
    sa.CheckConstraint("qty > 0", name="ck_items_qty"),
)
shipments = sa.Table(
    "shipments", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
)
audit_notes = sa.Table(
    "audit_notes", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("noted_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
)
