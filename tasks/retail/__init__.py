"""The Forge: a retail forecasting platform's history (stores, products, calendar, prices,
promotions, daily inventory and sales), with time-series patterns a forecaster can learn.

    seedgraph run --pack tasks/retail                              # retail_standard
    seedgraph run --pack tasks/retail --profile holiday_rush --set stores=20
    seedgraph run --pack tasks/retail --config tasks/retail/examples/config_holiday.yaml
    seedgraph run --pack tasks/retail --append --set start_date=2025-01-01 --set end_date=2025-03-31
    seedgraph clean --pack tasks/retail --only tag:facts --dry-run
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seedgraph import Profile, UsageError

from . import checks, feed, tasks  # noqa: F401  (the loader scans them for tasks and invariants)
from .schema import METADATA

NAME = "retail"

PARAMS: dict[str, Any] = {
    "stores": 10,
    "products": 50,
    "regions": ["North", "South", "East", "West"],
    "store_types": ["supermarket", "express", "warehouse"],
    "categories": ["Beverage", "Snack", "Dairy", "Frozen"],
    "brands": ["BrandA", "BrandB", "Generic"],
    "start_date": "2024-01-01",
    "end_date": "2024-12-31",
    "sparsity": 0.0,
    "random_gaps_per_series": 0,
    "base_demand": 100.0,
    "trend": "linear",
    "trend_slope": 0.1,  # % per day
    "weekly_seasonality": [0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 1.2],  # Monday .. Sunday
    "weekend_spike": 1.2,  # Saturday and Sunday, on top of weekly_seasonality
    "monthly_seasonality": {"11": 1.1, "12": 1.4},
    "holidays": None,  # None: US retail holidays of the years in range
    "noise_sigma": 0.1,
    "anomaly_probability": 0.01,
    "anomaly_magnitude": 2.0,
    "promotion_lift": 1.3,
    "promotion_probability": 0.1,
    "price_elasticity": -0.5,
    "stockout_behavior": "zero",
    "stockout_probability": 0.05,
    "new_product_ramp_days": 30,
    "new_product_fraction": 0.1,
    "eol_fraction": 0.05,
    "category_seasonality": {},  # {"Dairy": {"7": 0.7}}: months that differ per category
    "new_store_fraction": 0.0,
    "new_store_ramp_days": 90,
    "competitor_fraction": 0.0,
    "competitor_impact": 0.7,
    # dirty-data mode (profile dirty, or --only '+sales_daily_raw'): sales_daily_raw
    # receives the sales feed with these shares of defects
    "dirty_duplicates": 0.02,  # records sent twice
    "dirty_nulls": 0.02,  # records with one field missing
    "dirty_out_of_range": 0.01,  # records with a negative quantity or price
    "dirty_late": 0.05,  # records arriving 2-30 days after their date, not the next night
}

# summer_slowdown: dairy and snacks sell less in the summer months; drinks and frozen food
# (the categories summer helps) are left alone
SUMMER_DIP = {"Dairy": {"6": 0.8, "7": 0.65, "8": 0.7},
              "Snack": {"6": 0.85, "7": 0.75, "8": 0.8}}

# holiday_rush is 001's config_holiday.yaml (use --seed 2024 for its seed); its holidays
# are the default ones, which in Q4 2024 are the YAML's four with its multipliers, plus
# Cyber Monday, which 001's scenario table names ("Black Friday/Cyber Monday")
HOLIDAY_RUSH: dict[str, Any] = {
    "stores": 15, "products": 100, "regions": ["North", "South", "East", "West", "Central"],
    "categories": ["Beverage", "Snack", "Dairy", "Frozen", "Gift", "Seasonal"],
    "start_date": "2024-10-01", "end_date": "2024-12-31", "base_demand": 80.0,
    "trend": "exponential", "trend_slope": 0.02,
    "monthly_seasonality": {"10": 1.0, "11": 1.3, "12": 1.8},
    "promotion_probability": 0.25, "stockout_probability": 0.15}

# the dirty-data feed is seeded by the dirty profile only (or --only '+sales_daily_raw')
CLEAN = "tag:raw"

PROFILES = [
    Profile("retail_standard", "normal retail patterns (default)", exclude=CLEAN),
    Profile("holiday_rush", "Q4 surge with Black Friday and Christmas peaks (001's "
            "config_holiday.yaml)", params=HOLIDAY_RUSH, exclude=CLEAN),
    Profile("high_variance", "noisy, unpredictable demand with frequent anomalies", params={
        "noise_sigma": 0.6, "anomaly_probability": 0.05, "anomaly_magnitude": 3.0}, exclude=CLEAN),
    Profile("stockout_heavy", "frequent supply outages: the shelf is empty one day in five",
            params={"stockout_probability": 0.2}, exclude=CLEAN),
    Profile("new_launches", "many new products ramping up", params={
        "new_product_fraction": 0.4, "new_product_ramp_days": 45}, exclude=CLEAN),
    Profile("sparse", "many missing store x product combinations and data gaps", params={
        "sparsity": 0.5, "random_gaps_per_series": 3}, exclude=CLEAN),
    Profile("summer_slowdown", "seasonal summer dip for dairy and snacks", params={
        "category_seasonality": SUMMER_DIP}, exclude=CLEAN),
    Profile("new_store_opening", "new stores opening in the range and ramping up", params={
        "new_store_fraction": 0.3, "new_store_ramp_days": 90}, exclude=CLEAN),
    Profile("competitor_entry", "rivals open near some stores: a lasting demand drop", params={
        "competitor_fraction": 0.3, "competitor_impact": 0.7}, exclude=CLEAN),
    Profile("dirty", "the defaults plus the sales feed with duplicates, NULLs, out-of-range "
            "values and late rows (sales_daily_raw)"),
]
DEFAULT_PROFILE = "retail_standard"

# the document's YAML sections -> flat parameter names
_SECTIONS: dict[str, dict[str, str]] = {
    "time_series": {k: k for k in ("base_demand", "trend", "trend_slope", "noise_sigma",
                                   "anomaly_probability", "anomaly_magnitude",
                                   "monthly_seasonality")}
    | {"weekly_seasonality": "weekly_seasonality"},
    "retail": {k: k for k in ("promotion_lift", "promotion_probability", "price_elasticity",
                              "weekend_spike",
                              "stockout_behavior", "stockout_probability",
                              "new_product_ramp_days", "new_product_fraction", "eol_fraction",
                              "category_seasonality", "new_store_fraction",
                              "new_store_ramp_days", "competitor_fraction",
                              "competitor_impact")},
    "dirty_data": {"duplicates": "dirty_duplicates",
                   "nulls": "dirty_nulls", "out_of_range": "dirty_out_of_range",
                   "late": "dirty_late"},
    "sparsity": {"missing_combinations_pct": "sparsity",
                 "random_gaps_per_series": "random_gaps_per_series"},
    "date_range": {"start": "start_date", "end": "end_date"},
}
_DIMENSIONS = {"stores": {"count": "stores", "regions": "regions", "types": "store_types"},
               "products": {"count": "products", "categories": "categories",
                            "brands": "brands"}}


def _unknown(where: str, key: str, valid: Any) -> UsageError:
    return UsageError(f"unknown key '{key}' in {where}; valid keys: {', '.join(sorted(valid))}")


def config_params(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Translate The Forge's YAML configuration (dimensions, date_range, time_series, retail,
    sparsity, holidays) into this pack's flat parameters."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "holidays":
            out["holidays"] = [{**h, "date": str(h["date"])} for h in value]
        elif key == "dimensions":
            for dim, body in dict(value).items():
                if dim not in _DIMENSIONS:
                    raise _unknown("dimensions", dim, _DIMENSIONS)
                for k, v in dict(body).items():
                    if k not in _DIMENSIONS[dim]:
                        raise _unknown(f"dimensions.{dim}", k, _DIMENSIONS[dim])
                    out[_DIMENSIONS[dim][k]] = v
        elif key in _SECTIONS:
            for k, v in dict(value).items():
                if k not in _SECTIONS[key]:
                    raise _unknown(key, k, _SECTIONS[key])
                out[_SECTIONS[key][k]] = str(v) if key == "date_range" else v
        elif key in PARAMS:
            out[key] = value
        else:
            raise _unknown("the config file", key,
                           [*_SECTIONS, "dimensions", "holidays", *PARAMS])
    if "monthly_seasonality" in out:
        out["monthly_seasonality"] = {str(k): v for k, v in out["monthly_seasonality"].items()}
    return out


__all__ = ["DEFAULT_PROFILE", "METADATA", "NAME", "PARAMS", "PROFILES", "config_params"]
