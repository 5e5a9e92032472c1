"""Text: generic two-word strings, realistic values by meaning, emails, column-name hints.

Faker builds a small pool of values and numpy picks from it, so a million rows cost
one pool and one index draw. :data:`MEANINGS` lists what :func:`by_meaning` can make;
:func:`meaning_for` guesses a meaning from a column name (what ``--auto`` uses), and
:func:`emails_for` makes addresses that match the people named in the same row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from seedgraph.errors import UsageError, did_you_mean
from seedgraph.gen._arrays import Rng, _objects
from seedgraph.gen.errors import GenerationError, _too_many

__all__ = [
    "MEANINGS",
    "by_meaning",
    "emails_for",
    "meaning_for",
    "numbers_when_unique",
    "strings",
]


_WORDS = ("amber", "anchor", "apex", "arrow", "aspen", "birch", "blaze", "brook", "cedar",
          "cinder", "cobalt", "coral", "crest", "delta", "drift", "ember", "falcon", "fern",
          "flint", "frost", "glade", "granite", "harbor", "hazel", "indigo", "iris", "juniper",
          "lagoon", "lark", "maple", "meadow", "mesa", "north", "oak", "onyx", "orbit",
          "pine", "prairie", "quartz", "raven", "ridge", "river", "sage", "slate", "spruce",
          "summit", "thistle", "willow")
_PHRASES = tuple(f"{a} {b}" for a in _WORDS for b in _WORDS if a != b)


def strings(rng: Rng, n: int, *, max_length: int | None = None, unique: bool = False,
            prefix: str = "") -> np.ndarray:
    """Generic text for a column with no known meaning: two words (``"cedar harbor"``), or
    with *unique* ``prefix`` and a row number (``"item-17"``); none longer than *max_length*."""
    if max_length is not None and max_length < 1:
        raise UsageError(f"max_length must be at least 1, got {max_length}")
    if unique:
        if max_length is not None and len(prefix) + len(str(n)) > max_length:
            most = 10 ** (max_length - len(prefix)) - 1 if max_length > len(prefix) else 0
            raise _too_many(f"distinct strings of at most {max_length} characters "
                            f"starting {prefix!r}", n, most)
        return _objects([f"{prefix}{i}" for i in range(1, n + 1)])
    pool = _objects(list(dict.fromkeys(p[:max_length].rstrip() for p in _PHRASES)))
    return pool[rng.integers(0, len(pool), n)]


# -- text by meaning ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Meaning:
    description: str
    make: Callable[[Any], str]  # one value from a seeded Faker
    number_before: str | None = ""  # where unique numbering goes ("" = at the end, None: never)


_TABLE: dict[str, _Meaning] = {
    "first_name": _Meaning("a given name", lambda f: f.first_name()),
    "last_name": _Meaning("a family name", lambda f: f.last_name()),
    "full_name": _Meaning("a person's full name", lambda f: f.name()),
    "email": _Meaning("an email address at an example domain", lambda f: f.email(), "@"),
    "username": _Meaning("a login handle", lambda f: f.user_name()),
    "phone": _Meaning("a phone number", lambda f: f.phone_number(), None),
    "street": _Meaning("a street address", lambda f: f.street_address()),
    "address": _Meaning("a full postal address on one line",
                        lambda f: f.address().replace("\n", ", ")),
    "city": _Meaning("a city name", lambda f: f.city()),
    "state": _Meaning("a state or province", lambda f: f.administrative_unit(), None),
    "postal_code": _Meaning("a postal code", lambda f: f.postcode(), None),
    "country": _Meaning("a country name", lambda f: f.country(), None),
    "country_code": _Meaning("an ISO 3166 alpha-2 country code",
                             lambda f: f.country_code(), None),
    "company": _Meaning("a company name", lambda f: f.company()),
    "url": _Meaning("a web address", lambda f: f.url()),
    "domain": _Meaning("an internet domain name", lambda f: f.domain_name(), "."),
    "job": _Meaning("a job title", lambda f: f.job()),
    "title": _Meaning("a short title of a few words",
                      lambda f: f.sentence(nb_words=4).rstrip(".")),
    "sentence": _Meaning("one sentence", lambda f: f.sentence()),
    "paragraph": _Meaning("a paragraph of a few sentences", lambda f: f.paragraph()),
    "description": _Meaning("a one- or two-sentence description",
                            lambda f: f.paragraph(nb_sentences=2)),
    "word": _Meaning("a single word", lambda f: f.word()),
    "slug": _Meaning("a URL slug", lambda f: f.slug()),
    "color": _Meaning("a color name", lambda f: f.color_name(), None),
    "file_path": _Meaning("an absolute file path", lambda f: f.file_path(), "."),
    "ip": _Meaning("an IPv4 address", lambda f: f.ipv4(), None),
    "ipv6": _Meaning("an IPv6 address", lambda f: f.ipv6(), None),
    "mac": _Meaning("a MAC address", lambda f: f.mac_address(), None),
    "currency_code": _Meaning("an ISO 4217 currency code", lambda f: f.currency_code(), None),
    "iban": _Meaning("an IBAN", lambda f: f.iban(), None),
    "isbn": _Meaning("an ISBN-13", lambda f: f.isbn13(), None),
    "language": _Meaning("a language name", lambda f: f.language_name(), None),
    "user_agent": _Meaning("a browser user agent", lambda f: f.user_agent()),
    "mime_type": _Meaning("a MIME type", lambda f: f.mime_type(), None),
}

MEANINGS: dict[str, str] = {name: m.description for name, m in _TABLE.items()}
"""Every meaning :func:`by_meaning` knows, with what its values look like."""


def numbers_when_unique(meaning: str) -> bool:
    """Whether ``by_meaning(unique=True)`` numbers values once its pool runs out; a
    meaning with a fixed format (phone, ISBN, IP) only has as many as its pool."""
    return meaning in _TABLE and _TABLE[meaning].number_before is not None


def by_meaning(rng: Rng, faker: Any, meaning: str, n: int, *, unique: bool = False,
               max_length: int | None = None, pool: int = 1000) -> np.ndarray:
    """``n`` realistic strings for *meaning* (see MEANINGS), none longer than *max_length*.

    Faker makes *pool* values and numpy picks among them. With *unique* the values are
    distinct: each pool value once, then pool values numbered (``ada7``,
    ``ada.smith7@example.com``); a closed set or fixed format (country codes, IPs) is
    never numbered, so it is limited to the distinct values a pool finds.
    """
    entry = _TABLE.get(meaning)
    if entry is None:
        raise GenerationError(f"unknown meaning {meaning!r}.{did_you_mean(meaning, _TABLE)} "
                              f"Known meanings: {', '.join(sorted(_TABLE))}")
    if max_length is not None and max_length < 1:
        raise UsageError(f"max_length must be at least 1, got {max_length}")
    made = (entry.make(faker)[:max_length] for _ in range(pool))
    distinct = _objects(list(dict.fromkeys(made)))
    if not unique:
        if n and len(distinct) == 0:
            raise _too_many(f"{meaning!r} values from an empty pool", n, 0)
        return distinct[rng.integers(0, max(len(distinct), 1), n)]
    if n <= len(distinct):
        return distinct[rng.choice(len(distinct), size=n, replace=False)]
    if entry.number_before is None:
        raise _too_many(f"distinct {meaning!r} values", n, len(distinct),
                        f" with pool={pool}; a larger pool may find more")
    out = distinct[rng.permutation(len(distinct))].tolist()
    seen, number = set(out), 0
    while len(out) < n:
        for base in distinct[rng.integers(0, len(distinct), n - len(out))].tolist():
            number += 1
            value = _numbered(base, number, entry.number_before, max_length)
            if value is None:
                raise _too_many(f"distinct {meaning!r} values of at most {max_length} "
                                "characters", n, len(out))
            if value not in seen:
                seen.add(value)
                out.append(value)
    return _objects(out)


def _numbered(value: str, number: int, before: str, max_length: int | None) -> str | None:
    """*value* with *number* inserted before the first *before* (``ada7@example.com``), the
    part before it cut to fit *max_length*; None when not one character of it is left."""
    head, sep, tail = value.partition(before) if before else (value, "", "")
    digits = str(number)
    if max_length is not None:
        room = max_length - len(digits) - len(sep) - len(tail)
        if room < 1:
            return None
        head = head[:room]
    return f"{head}{digits}{sep}{tail}"


_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved by RFC 2606
_SEPARATORS = (".", "_", "")


def _letters(names: np.ndarray) -> np.ndarray:
    """Each name as the lower-case ASCII letters an address uses (``José`` -> ``jose``)."""
    def letters(name: Any) -> str:
        text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z]", "", text.lower()) or "user"

    mapping = {name: letters(name) for name in dict.fromkeys(names.tolist())}
    out: np.ndarray = np.frompyfunc(mapping.__getitem__, 1, 1)(names)
    return out.astype(object)


def emails_for(rng: Rng, first: np.ndarray, last: np.ndarray, *,
               unique: bool = True) -> np.ndarray:
    """Addresses that belong to the people named (``ada.lovelace42@example.com``) at reserved
    example domains. With *unique* each address ends in its own number, so they are
    distinct by construction; otherwise about half end in a number from 1 to 99."""
    n = len(first)
    if len(last) != n:
        raise UsageError(f"emails_for got {n} first names and {len(last)} last names")
    style = rng.integers(0, 3, n)  # ada.lovelace, ada_lovelace, alovelace
    if unique:
        number = rng.permutation(n) + 1
    else:
        number = np.where(rng.random(n) < 0.5, rng.integers(1, 100, n), 0)
    domain = rng.integers(0, len(_EMAIL_DOMAINS), n)
    rows = zip(_letters(np.asarray(first)).tolist(), _letters(np.asarray(last)).tolist(),
               style.tolist(), number.tolist(), domain.tolist(), strict=True)
    # one f-string per row makes each address once: four object-array joins take twice as long
    return _objects([f"{f if s < 2 else f[0]}{_SEPARATORS[s]}{last_}{k or ''}@{_EMAIL_DOMAINS[d]}"
                     for f, last_, s, k, d in rows])


# What a column name suggests: the first pattern that ends the snake_cased name wins
# (after the start or an underscore), so "billing_city" is a city and "city_id" is not.
_COLUMN_MEANINGS: list[tuple[str, str | None]] = [
    (r"mac(_address)?|.*_id|id", None),  # not text we make up
    (r"e_?mail(_address|_addr)?", "email"),
    (r"(first|given|fore)_?name|fname", "first_name"),
    (r"(last|family|sur)_?name|lname", "last_name"),
    (r"(full|display|contact|customer|person|author)_?name", "full_name"),
    (r"user_?name|login_?name|nick_?name|handle", "username"),
    (r"(tele)?phone(_?number|_no)?|mobile(_?number|_phone)?|cell(_?phone)?|fax", "phone"),
    (r"zip(_?code)?|postal_?code|post_?code", "postal_code"),
    (r"ip(v4)?(_?addr(ess)?)?", "ip"),
    (r"ipv6(_?addr(ess)?)?", "ipv6"),
    (r"street(_?address)?|address(_?line)?(_?[12])?", "street"),
    (r"city|town", "city"),
    (r"state|province", "state"),
    (r"country_?code|country_iso", "country_code"),
    (r"country", "country"),
    (r"company(_?name)?|employer|organi[sz]ation(_?name)?", "company"),
    (r"url|web_?site|home_?page|link", "url"),
    (r"domain(_?name)?|host_?name", "domain"),
    (r"job(_?title)?|occupation|profession", "job"),
    (r"title|headline|subject", "title"),
    (r"description|desc", "description"),
    (r"bio(graphy)?|about|body|content|text", "paragraph"),
    (r"notes?|summary|comments?|caption|sentence", "sentence"),
    (r"slug", "slug"),
    (r"colou?r", "color"),
    (r"(file_?)?path", "file_path"),
    (r"currency(_?code)?", "currency_code"),
    (r"iban", "iban"),
    (r"isbn(_?1[03])?", "isbn"),
    (r"lang(uage)?", "language"),
    (r"user_?agent", "user_agent"),
    (r"mime_?type|content_type", "mime_type"),
    (r"word|keyword|tag", "word"),
]
_COLUMN_PATTERNS = [(re.compile(rf"(?:^|_)(?:{p})$"), m) for p, m in _COLUMN_MEANINGS]


def meaning_for(column_name: str) -> str | None:
    """The meaning a column name suggests (``user_email`` -> ``"email"``), or None.

    The name is snake_cased first (``firstName`` -> ``first_name``); see _COLUMN_MEANINGS.
    """
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", column_name).lower()
    name = re.sub(r"[^a-z0-9]+", "_", name).strip("_")
    for pattern, meaning in _COLUMN_PATTERNS:
        if pattern.search(name):
            return meaning
    return None
