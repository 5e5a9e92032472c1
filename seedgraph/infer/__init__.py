"""From a live schema to a pack's source code: what ``--auto`` runs and ``init`` writes.

Inference writes Python, not an in-memory recipe: ``run --auto`` imports the
modules it writes and ``seedgraph init`` saves the very same text, so an
``init`` pack reproduces ``--auto`` byte for byte, and a user who edits one
module reruns only that table and its descendants (one module per table, so
a task's code digest is its own).

A column's generator is chosen by, in order: what fills it without us
(generated, identity ``ALWAYS``, a sequence, a trigger), its constraints
(foreign key, enum, CHECK list or range, partition bounds, unique), its name
(:func:`seedgraph.gen.meaning_for`), then its type. Each choice carries a
short comment saying why.
"""

from __future__ import annotations

from seedgraph.infer.pack import Inferred, infer_pack, module_name

__all__ = ["Inferred", "infer_pack", "module_name"]
