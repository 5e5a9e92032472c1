"""The home-security platform pack: all 53 tables of the platform's database.

Cameras upload images; each image yields 0-4 detections; detections are batched
into events with an LLM-style risk analysis; events raise alerts, collect
feedback and audits; person detections get AI enrichment; zones get baselines
and anomalies; jobs, prompts and monitoring fill the rest.

    seedgraph run                          # profile "full", images=100
    seedgraph run --profile minimal        # the core pipeline only
    seedgraph run --profile config-only    # configuration, no image-derived data
    seedgraph run --set images=100000 --set days=30
"""

from seedgraph import Profile

from . import (  # noqa: F401  (the loader scans these modules for tasks and invariants)
    baselines,
    cameras,
    enrichment,
    jobs,
    ops,
    pipeline,
    prompts,
    sites,
    space,
    tracking,
)
from .schema import METADATA

NAME = "home_security"

PARAMS = {
    "images": 100,  # simulated camera uploads; each yields 0-4 detections
    "days": 7,  # the window before as_of that detections fall into
    "cameras": 6,
    "properties": 2,
    "households": 3,
}

PROFILES = [
    Profile("full", "every one of the 53 tables (default)"),
    Profile("minimal", "the core pipeline: cameras, detections, events, event_detections, "
            "alerts, alert_rules and the tables they need",
            only="+alerts +event_detections +alert_rules"),
    Profile("config-only", "configuration tables only: no detections, events or anything "
            "derived from images", only="tag:config"),
]
DEFAULT_PROFILE = "full"

__all__ = ["DEFAULT_PROFILE", "METADATA", "NAME", "PARAMS", "PROFILES"]
