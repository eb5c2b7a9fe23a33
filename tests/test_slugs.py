from newsstand.slugs import assign_slugs, slug_of


def test_slug_of_is_ascii_and_hyphenated() -> None:
    assert slug_of("Élan vital — The Verge!") == "elan-vital-the-verge"


def test_collisions_get_distinct_slugs_never_an_overwrite() -> None:
    slugs = assign_slugs([("theverge.com", "The Verge"), ("verge.io", "the-verge"), ("x.org", "THE VERGE")])
    assert slugs["theverge.com"] == "the-verge"
    assert len(set(slugs.values())) == 3
    assert all(s.startswith("the-verge") for s in slugs.values())


def test_empty_or_path_like_text_never_gives_an_empty_or_escaping_segment() -> None:
    slugs = assign_slugs([(1, ""), (2, ".."), (3, "!!!"), (4, "../../etc"), (5, "/")])
    assert len(set(slugs.values())) == 5
    for slug in slugs.values():
        assert slug and "/" not in slug and slug not in (".", "..")


def test_a_slug_does_not_change_when_other_items_are_added() -> None:
    before = assign_slugs([("b", "Same"), ("c", "Other")])
    after = assign_slugs([("b", "Same"), ("c", "Other"), ("d", "Same")])
    assert before["b"] == after["b"] and before["c"] == after["c"]
