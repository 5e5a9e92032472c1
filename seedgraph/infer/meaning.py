"""What a text column's name says it holds, as a generator expression for its module."""

from __future__ import annotations

import re

import sqlalchemy as sa

from seedgraph.gen import meaning_for, numbers_when_unique

__all__ = ["other_generator", "text_generator"]

# PostgreSQL types without a binary encoder here, written from text the database casts
_FROM_TEXT = {
    "INET": ("gen.by_meaning(rng, faker, 'ip', n)", "an IPv4 address (inet, cast from text)"),
    "CIDR": ("gen.by_meaning(rng, faker, 'ip', n)", "a host address (cidr /32, from text)"),
    "MACADDR": ("gen.by_meaning(rng, faker, 'mac', n)", "a MAC address (macaddr, from text)"),
    "INTERVAL": ("gen.interval_texts(rng, n)", "a duration up to 30 days (interval, from text)"),
    "MONEY": ("gen.amount_texts(rng, n)", "an amount up to 1,000 (money, from text)"),
    # ranges SQLAlchemy knows by name; a multirange, or a range over a type of your own,
    # has no row here and a NOT NULL one is refused by name
    "INT4RANGE": ("gen.int_range_texts(rng, n)",
                  "a non-empty range [lo,hi) inside 1..1000 (int4range, from text)"),
    "INT8RANGE": ("gen.int_range_texts(rng, n)",
                  "a non-empty range [lo,hi) inside 1..1000 (int8range, from text)"),
    "NUMRANGE": ("gen.num_range_texts(rng, n)",
                 "a non-empty range [lo,hi) inside 0..1000, two decimals (numrange, from text)"),
    "DATERANGE": ("gen.date_range_texts(rng, n, ctx.as_of)",
                  "up to 30 days in the year before as_of (daterange, from text)"),
    "TSRANGE": ("gen.time_range_texts(rng, n, ctx.as_of)",
                "up to 30 days in the year before as_of (tsrange, from text)"),
    "TSTZRANGE": ("gen.time_range_texts(rng, n, ctx.as_of)",
                  "up to 30 days in the year before as_of (tstzrange, from text)"),
    # geometric types and xml, named at reflection (seedgraph.backends.kinds.PG_TEXT_TYPES)
    "POINT": ("gen.point_texts(rng, n)", "a point, x and y in [-100, 100) (point, from text)"),
    "BOX": ("gen.box_texts(rng, n)", "a box up to 20 x 20 (box, from text)"),
    "CIRCLE": ("gen.circle_texts(rng, n)", "a circle of radius 0 < r <= 10 (circle, from text)"),
    "LSEG": ("gen.lseg_texts(rng, n)", "a segment between two points (lseg, from text)"),
    "LINE": ("gen.line_texts(rng, n)", "a line {A,B,C}, A and B not both 0 (line, from text)"),
    "PATH": ("gen.path_texts(rng, n)", "an open path of 2-6 points (path, from text)"),
    "POLYGON": ("gen.polygon_texts(rng, n)",
                "a star-shaped polygon of 3-6 points (polygon, from text)"),
    "XML": ("gen.xml_texts(rng, faker, n)", "a small well-formed document (xml, from text)"),
}

_PERSON = re.compile(r"(customer|user|employee|staff|person|people|author|member|artist|"
                     r"actor|student|teacher|patient|contact|owner|client|driver|player)",
                     re.IGNORECASE)
_COMPANY = re.compile(r"(compan|organi[sz]ation|vendor|supplier|publisher|manufacturer|"
                      r"brand|agency|firm)", re.IGNORECASE)
_PLACE = {"city": "city", "cities": "city", "country": "country", "countries": "country",
          "language": "language", "languages": "language", "state": "state"}


def text_generator(t: sa.Table, name: str, unique: bool,
                   max_len: int | None) -> tuple[str, str]:
    """The generator of text column *name* of table *t*, and why: by what its name means
    (a bare ``name`` by its table: a person's, a company's, a place's), else text."""
    meaning = meaning_for(name)
    why = f"the name {name!r} means {meaning}"
    if meaning is None and name.lower() == "name":
        table = t.name.lower()
        meaning = ("full_name" if _PERSON.search(table) else "company"
                   if _COMPANY.search(table) else _PLACE.get(table))
        why = f"a name in table {t.name!r}: {meaning}"
    opts = (", unique=True" if unique else "") + (
        ", pool=max(1000, 2 * n)" if unique and meaning is not None
        and not numbers_when_unique(meaning) else "") + (
        f", max_length={max_len}" if max_len is not None else "")
    if meaning == "email":
        names = [c.name for c in t.columns]
        first = next((n for n in names if meaning_for(n) == "first_name"), None)
        last = next((n for n in names if meaning_for(n) == "last_name"), None)
        if first and last and (max_len is None or max_len >= 100):
            return (f"gen.emails_for(rng, cols[{first!r}], cols[{last!r}])",
                    "email made from the person's name")
    if meaning is not None:
        return f"gen.by_meaning(rng, faker, {meaning!r}, n{opts})", why
    return f"gen.strings(rng, n{opts})", "text" + (" (unique)" if unique else "")


def other_generator(type_: sa.types.TypeEngine[object]) -> tuple[str, str] | None:
    """The generator of a column whose type has no binary encoder here, when the type
    (or a domain's base type) reads a text form seedgraph can make: inet, cidr,
    macaddr, interval, money, the built-in ranges, the geometric types and xml."""
    base = getattr(type_, "data_type", None) or type_
    return _FROM_TEXT.get(type(base).__name__.upper())
