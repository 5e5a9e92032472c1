"""Sites and people: the properties, households and members of the deployment."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, gen, invariant, task

from . import sim

PROPERTIES = (("Main Residence", "123 Oak Street, Springfield, IL 62704", "America/Chicago"),
              ("Lake House", "456 Lakeview Drive, Lake Geneva, WI 53147", "America/Chicago"))
HOUSEHOLDS = (("Smith Family", 1), ("Guest House", 1), ("Johnson Family", 2))
MEMBERS = {  # household name -> (name, role)
    "Smith Family": (("John Smith", "owner"), ("Jane Smith", "spouse"),
                     ("Tommy Smith", "child"), ("Max", "pet")),
    "Guest House": (("Margaret Smith", "relative"),),
    "Johnson Family": (("Robert Johnson", "owner"), ("Linda Johnson", "spouse"),
                       ("Ana Rivera", "caregiver")),
}
VEHICLES = (("Toyota", "Camry"), ("Honda", "CR-V"), ("Ford", "F-150"), ("Tesla", "Model 3"),
            ("Subaru", "Outback"), ("Chevrolet", "Equinox"), ("BMW", "X3"), ("Kia", "Sorento"))
COLORS = ("Silver", "Black", "White", "Blue", "Red", "Gray")
VISITORS = ("Mail Carrier", "Dog Walker", "Neighbor (Dave)", "Landscaper")


def _created(ctx: TaskContext, n: int, lo_days: int = 60, hi_days: int = 400) -> np.ndarray:
    """Creation times well before the detection window: *lo_days* to *hi_days* days ago."""
    return gen.timestamps(ctx.rng, n, ctx.as_of - timedelta(days=lo_days),
                          days=hi_days - lo_days)


@task("properties", tags=["sites", "config"], params=["properties"])
async def properties(ctx: TaskContext) -> None:
    """Properties (sites) of the deployment: "Main Residence" and "Lake House" first."""
    n = int(ctx.params["properties"])
    rows = list(PROPERTIES[:n])
    for i in range(len(rows), n):
        rows.append((f"{ctx.faker.last_name()} Property {i + 1}", ctx.faker.street_address()
                     + ", " + ctx.faker.city(), ctx.faker.timezone()))
    await ctx.write({
        "id": gen.ids(n),
        "name": [r[0] for r in rows], "address": [r[1] for r in rows],
        "timezone": [r[2] for r in rows], "created_at": np.sort(_created(ctx, n, 300, 700)),
    })


@task("households", upstream=["properties"], tags=["sites", "config"], params=["households"])
async def households(ctx: TaskContext) -> None:
    """Households within properties (each property gets one or two)."""
    n = int(ctx.params["households"])
    props = await ctx.read("properties", ["id", "created_at"])
    rows = [(name, pid) for name, pid in HOUSEHOLDS if pid <= len(props["id"])][:n]
    while len(rows) < n:
        pid = int(props["id"][len(rows) % len(props["id"])])
        rows.append((f"{ctx.faker.last_name()} Family", pid))
    await ctx.write({
        "id": gen.ids(n), "property_id": [r[1] for r in rows],
        "name": [r[0] for r in rows], "created_at": np.sort(_created(ctx, n, 200, 300)),
    })


@task("household_members", upstream=["households"], tags=["sites", "config"])
async def household_members(ctx: TaskContext) -> None:
    """Family members with roles; the Smiths are John, Jane, Tommy and Max the dog."""
    hh = await ctx.read("households", ["id", "name"])
    rows: list[tuple[Any, ...]] = []
    for hid, name in zip(hh["id"].tolist(), hh["name"], strict=True):
        members = MEMBERS.get(name)
        if members is None:
            last = name.split()[0]
            k = int(ctx.rng.integers(2, 4))
            others = [(f"{ctx.faker.first_name()} {last}",
                       str(ctx.rng.choice(["spouse", "child"]))) for _ in range(k - 1)]
            members = ((f"{ctx.faker.first_name()} {last}", "owner"), *others)
        rows.extend((hid, m, role) for m, role in members)
    n = len(rows)
    await ctx.write({
        "id": gen.ids(n), "household_id": [r[0] for r in rows],
        "name": [r[1] for r in rows], "role": [r[2] for r in rows],
        "created_at": np.sort(_created(ctx, n, 100, 200)),
    })


@task("registered_vehicles", upstream=["households", "household_members"],
      tags=["sites", "config"], params={"vehicles": 5})
async def registered_vehicles(ctx: TaskContext) -> None:
    """Known vehicles; ABC-1234, a silver 2022 Toyota Camry, belongs to the Smiths."""
    n = int(ctx.params["vehicles"])
    hh = await ctx.read("households", ["id"])
    mem = await ctx.read("household_members", ["id", "household_id", "role"])
    owners = {int(h): int(m) for m, h, r in zip(mem["id"], mem["household_id"], mem["role"],
                                                 strict=True) if r == "owner"}
    letters = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"))
    plates = {"ABC-1234"}
    rows = [(1, owners.get(1), "ABC-1234", "Toyota", "Camry", "Silver", 2022)]
    while len(rows) < n:
        plate = "".join(ctx.rng.choice(letters, 3)) + "-" + str(int(ctx.rng.integers(1000, 9999)))
        if plate in plates:
            continue
        plates.add(plate)
        hid = int(hh["id"][len(rows) % len(hh["id"])])
        make, model = VEHICLES[int(ctx.rng.integers(len(VEHICLES)))]
        rows.append((hid, owners.get(hid), plate, make, model,
                     str(ctx.rng.choice(COLORS)), int(ctx.rng.integers(2012, 2026))))
    rows = [(*r, at) for r, at in zip(rows[:n], _created(ctx, n), strict=True)]
    await ctx.write_rows(["household_id", "owner_member_id", "plate_number", "make", "model",
                          "color", "year", "created_at"], rows)


@task("notification_preferences", upstream=["household_members"], tags=["sites", "config"])
async def notification_preferences(ctx: TaskContext) -> None:
    """Push/email settings and severity thresholds for every person (pets excluded)."""
    mem = await ctx.read("household_members", ["id", "role"])
    people = mem["id"][mem["role"] != "pet"]
    n = len(people)
    await ctx.write({
        "id": gen.ids(n), "household_member_id": people,
        "push_enabled": gen.booleans(ctx.rng, n, 0.9),
        "email_enabled": gen.booleans(ctx.rng, n, 0.45),
        "min_severity": gen.choice(ctx.rng, ["low", "medium", "high"], n, weights=[0.2, 0.5, 0.3]),
        "sound": gen.choice(ctx.rng, ["default", "chime", "alarm", "silent"], n,
                            weights=[0.5, 0.3, 0.15, 0.05]),
        "created_at": np.sort(_created(ctx, n, 60, 100)),
    })


@task("quiet_hours", upstream=["notification_preferences"], tags=["sites", "config"])
async def quiet_hours(ctx: TaskContext) -> None:
    """Quiet periods: 23:00-07:00 on weekdays and a 14:00-15:00 weekend nap for the Smiths."""
    prefs = await ctx.read("notification_preferences", ["id"])
    rows: list[tuple[Any, ...]] = [
        (1, time(23, 0), time(7, 0), [0, 1, 2, 3, 4], True, "Overnight (weekdays)"),
        (1, time(14, 0), time(15, 0), [5, 6], True, "Nap time"),
    ]
    for pid in prefs["id"][1:].tolist():
        if ctx.rng.random() < 0.5:
            start = int(ctx.rng.choice([21, 22, 23]))
            rows.append((pid, time(start, 0), time(int(ctx.rng.choice([6, 7])), 0),
                         list(range(7)), bool(ctx.rng.random() < 0.85), "Overnight"))
    await ctx.write_rows(["notification_preference_id", "start_time", "end_time",
                          "days_of_week", "enabled", "label"], rows)


@task("known_persons", upstream=["household_members"], tags=["sites", "config"])
async def known_persons(ctx: TaskContext) -> None:
    """People the face recogniser knows: household members and regular visitors."""
    mem = await ctx.read("household_members", ["id", "name", "role"])
    rows: list[tuple[Any, ...]] = [(int(i), n, True, None) for i, n, r in
                                   zip(mem["id"], mem["name"], mem["role"], strict=True)
                                   if r != "pet"]
    rows += [(None, v, False, "Regular visitor") for v in VISITORS]
    n = len(rows)
    await ctx.write({
        "id": gen.ids(n), "household_member_id": [r[0] for r in rows],
        "name": [r[1] for r in rows], "is_household_member": [r[2] for r in rows],
        "notes": [r[3] for r in rows], "created_at": np.sort(_created(ctx, n, 30, 90)),
    })


def face_centroids(seed_rng: np.random.Generator, n: int) -> np.ndarray:
    return sim.unit_vectors(seed_rng, n)


@task("face_embeddings", upstream=["known_persons"], tags=["sites"])
async def face_embeddings(ctx: TaskContext) -> None:
    """ArcFace embeddings, 2-4 per known person, clustered around that person's face."""
    kp = await ctx.read("known_persons", ["id", "created_at"])
    centroids = face_centroids(ctx.rng_for("face-centroids"), len(kp["id"]))
    per = ctx.rng.integers(2, 5, len(kp["id"]))
    owner = np.repeat(np.arange(len(kp["id"])), per)
    n = len(owner)
    await ctx.write({
        "id": gen.ids(n), "known_person_id": kp["id"][owner],
        "embedding": sim.around(ctx.rng, centroids[owner], 0.35),
        "quality_score": np.round(ctx.rng.beta(8, 2, n), 3),
        "source_image_path": [f"/data/faces/{int(k)}/{j}.jpg" for j, k in
                              enumerate(kp["id"][owner].tolist())],
        "created_at": gen.after(ctx.rng, kp["created_at"][owner], max_gap_days=3),
    })


@task("person_embeddings", upstream=["household_members"], tags=["sites"])
async def person_embeddings(ctx: TaskContext) -> None:
    """Enrolment embeddings of household members (pets excluded), two or three each."""
    mem = await ctx.read("household_members", ["id", "role", "created_at"])
    people = np.flatnonzero(mem["role"] != "pet")
    centroids = sim.unit_vectors(ctx.rng_for("member-centroids"), len(people))
    per = ctx.rng.integers(2, 4, len(people))
    owner = np.repeat(np.arange(len(people)), per)
    n = len(owner)
    ids = mem["id"][people][owner]
    await ctx.write({
        "id": gen.ids(n), "household_member_id": ids,
        "embedding": sim.around(ctx.rng, centroids[owner], 0.3),
        "quality_score": np.round(ctx.rng.beta(9, 2, n), 3),
        "source_image_path": [f"/data/enrolment/member_{int(m)}_{j}.jpg"
                              for j, m in enumerate(ids.tolist())],
        "created_at": mem["created_at"][people][owner]
        + sim.seconds(ctx.rng.integers(3600, 10 * sim.DAY, n)),
    })


@invariant("embeddings_are_unit_length", tables=["face_embeddings", "person_embeddings"])
async def embeddings_are_unit_length(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Face and person embeddings are 512-dim and L2-normalised."""
    bad: list[tuple[Any, ...]] = []
    for table in ("face_embeddings", "person_embeddings"):
        rows = await ctx.read(table, ["id", "embedding"])
        emb = rows["embedding"]
        if len(emb) and (emb.ndim != 2 or emb.shape[1] != 512):
            return [(table, "shape", getattr(emb, "shape", None))]
        norms = np.linalg.norm(emb, axis=1)
        for i in np.flatnonzero(np.abs(norms - 1) > 1e-3)[:5]:
            bad.append((table, int(rows["id"][i]), float(norms[i])))
    return bad


@invariant("showcase_rows_present", tables=["properties", "households", "quiet_hours"])
async def showcase_rows_present(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """The documents' fixed rows exist: Main Residence, the Smiths, weekday quiet hours."""
    missing = []
    if not await ctx.query("SELECT 1 FROM properties WHERE name = 'Main Residence' "
                           "AND address LIKE '123 Oak Street%'"):
        missing.append(("properties", "Main Residence at 123 Oak Street"))
    if not await ctx.query("SELECT 1 FROM households WHERE name = 'Smith Family'"):
        missing.append(("households", "Smith Family"))
    q = await ctx.read("quiet_hours", ["start_time", "end_time", "days_of_week"])
    want = (np.timedelta64(23 * 3600, "s"), np.timedelta64(7 * 3600, "s"))
    if not any(s == want[0] and e == want[1] and list(d) == [0, 1, 2, 3, 4]
               for s, e, d in zip(q["start_time"], q["end_time"], q["days_of_week"], strict=True)):
        missing.append(("quiet_hours", "23:00-07:00 Mon-Fri"))
    return missing

