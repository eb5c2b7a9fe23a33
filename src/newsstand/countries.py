"""Where an outlet's domain suggests it is: the country of its top-level domain, when it has one.

A guess, and said as one on the page: `.co.uk` suggests the United Kingdom, `.com` suggests nothing
(generic domains are everyone's). Country-code domains sold worldwide as brands (.io, .tv, .ai, .co,
.me, .fm, .ly ...) suggest nothing either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# ISO 3166 country-code top-level domains, by the name a reader knows; brand-like ones are left out on purpose.
COUNTRIES: dict[str, str] = {
    "ar": "Argentina",
    "at": "Austria",
    "au": "Australia",
    "be": "Belgium",
    "bd": "Bangladesh",
    "bg": "Bulgaria",
    "br": "Brazil",
    "ca": "Canada",
    "ch": "Switzerland",
    "cl": "Chile",
    "cn": "China",
    "cz": "Czechia",
    "de": "Germany",
    "dk": "Denmark",
    "ee": "Estonia",
    "eg": "Egypt",
    "es": "Spain",
    "fi": "Finland",
    "fr": "France",
    "gh": "Ghana",
    "gr": "Greece",
    "hk": "Hong Kong",
    "hr": "Croatia",
    "hu": "Hungary",
    "id": "Indonesia",
    "ie": "Ireland",
    "il": "Israel",
    "in": "India",
    "iq": "Iraq",
    "ir": "Iran",
    "is": "Iceland",
    "it": "Italy",
    "jm": "Jamaica",
    "jo": "Jordan",
    "jp": "Japan",
    "ke": "Kenya",
    "kr": "South Korea",
    "kw": "Kuwait",
    "lb": "Lebanon",
    "lk": "Sri Lanka",
    "lt": "Lithuania",
    "lu": "Luxembourg",
    "lv": "Latvia",
    "ma": "Morocco",
    "mt": "Malta",
    "mx": "Mexico",
    "my": "Malaysia",
    "ng": "Nigeria",
    "nl": "Netherlands",
    "no": "Norway",
    "np": "Nepal",
    "nz": "New Zealand",
    "om": "Oman",
    "pe": "Peru",
    "ph": "Philippines",
    "pk": "Pakistan",
    "pl": "Poland",
    "pt": "Portugal",
    "qa": "Qatar",
    "ro": "Romania",
    "rs": "Serbia",
    "ru": "Russia",
    "sa": "Saudi Arabia",
    "se": "Sweden",
    "sg": "Singapore",
    "si": "Slovenia",
    "sk": "Slovakia",
    "th": "Thailand",
    "tr": "Turkey",
    "tw": "Taiwan",
    "tz": "Tanzania",
    "ua": "Ukraine",
    "ug": "Uganda",
    "uk": "United Kingdom",
    "us": "United States",
    "uy": "Uruguay",
    "ve": "Venezuela",
    "vn": "Vietnam",
    "za": "South Africa",
    "zw": "Zimbabwe",
    "ae": "United Arab Emirates",
}


def country_of(domain: str) -> str | None:
    """The country a domain's top-level domain names, or None for a generic or brand-like one."""
    tld = domain.lower().rstrip(".").rsplit(".", 1)[-1]
    return COUNTRIES.get(tld)


def countries(domains: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """(country, how many of `domains` suggest it), the most first; generic domains are not counted."""
    counts = Counter(c for d in dict.fromkeys(domains) if (c := country_of(d)) is not None)
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def generic_count(domains: Iterable[str]) -> int:
    """How many of the distinct `domains` suggest no country."""
    return sum(1 for d in dict.fromkeys(domains) if country_of(d) is None)
