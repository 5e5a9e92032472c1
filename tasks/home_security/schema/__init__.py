"""The home-security schema: 53 tables on one MetaData, one module per feature area."""

from . import (  # noqa: F401  (importing a module registers its tables)
    baselines,
    cameras,
    enrichment,
    jobs,
    ops,
    pipeline,
    prompts,
    sites,
    space,
)
from .base import METADATA

__all__ = ["METADATA"]
