"""The headline-meaning signal of clustering (cluster.semantic): the model is read from the installed wheel's
files with no network, off the import path of code that does not cluster, each headline's embedding is a
pure function of it, and the blend only adds evidence."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsstand.cluster import DEFAULT, ClusterParams, cluster
from newsstand.cluster.semantic import _model, _pieces_are_exact, embed, for_step, model_files, token_ids

from .test_cluster import SEEDS, key_of, story_of

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT / "tests" / "no-home")},  # no proxy, no hub cache
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_the_model_is_read_from_the_wheel_without_touching_the_network() -> None:
    """In a fresh process whose sockets raise: embedding headlines and clustering the seeds work, and
    nothing of wordllama's own loader, of its HTTP or of the hub's client is imported."""
    out = run_python(
        """
        import json, socket, sys

        class NoNetwork(socket.socket):
            def __init__(self, *a, **k):
                raise OSError("network touched")

        socket.socket = NoNetwork
        socket.create_connection = lambda *a, **k: (_ for _ in ()).throw(OSError("network touched"))
        from newsstand.cluster.semantic import embed
        e = embed(["Moscow rolls out live facial recognition", "Remember FindFace?"])
        sys.path.insert(0, "tests")
        from test_cluster import SEEDS
        from newsstand.cluster import cluster
        stories = cluster(SEEDS)
        loaded = sorted(m for m in ("wordllama", "requests", "pydantic", "huggingface_hub", "urllib3") if m in sys.modules)
        print(json.dumps({"shape": list(e.shape), "norms": e.astype(float).__pow__(2).sum(1).tolist(),
                          "stories": len(stories), "loaded": loaded, "tokenizers": "tokenizers" in sys.modules}))
        """
    )
    got = json.loads(out)
    assert got["shape"] == [2, 256]
    assert got["norms"] == pytest.approx([1.0, 1.0], abs=1e-5)
    assert got["stories"] == len(cluster(SEEDS))
    assert got["loaded"] == [] and got["tokenizers"]


def test_the_model_stays_off_the_import_path_of_builds_that_do_not_cluster() -> None:
    """Importing the build and the clustering package loads neither the tokenizer nor the weights reader;
    nor does clustering with the signal off."""
    out = run_python(
        """
        import json, sys
        import newsstand.build, newsstand.cli, newsstand.cluster
        from newsstand.cluster import ClusterParams, cluster
        sys.path.insert(0, "tests")
        from test_cluster import SEEDS
        cluster(SEEDS, params=ClusterParams(semantic_weight=0.0))
        print(json.dumps(sorted(m for m in ("tokenizers", "safetensors") if m in sys.modules)))
        """
    )
    assert json.loads(out) == []


def test_the_files_are_the_wheels_own() -> None:
    weights, tokenizer = model_files()
    assert weights.name == "l2_supercat_256.safetensors" and weights.stat().st_size == 16_384_096
    assert tokenizer.stat().st_size > 1_000_000
    assert weights.parent.parent == tokenizer.parent.parent  # both inside the one installed package


def test_an_embedding_is_a_function_of_its_text_alone() -> None:
    titles = [a.title for a in SEEDS]
    whole = embed(titles)
    assert np.array_equal(embed(titles[5:9]), whole[5:9])  # the same bits in any batch
    assert np.array_equal(embed(list(reversed(titles)))[::-1], whole)
    assert np.allclose(np.linalg.norm(whole, axis=1), 1.0, atol=1e-5)
    empty = embed(["", "Moscow"])
    assert not empty[0].any() and empty[1].any()  # no token: no direction
    assert embed([]).shape == (0, 256)
    cut = embed(titles[:3], dims=128)
    assert cut.shape == (3, 128) and np.allclose(np.linalg.norm(cut, axis=1), 1.0, atol=1e-5)


ODD_TEXTS = [
    "",
    " ",
    "  two  spaces  ",
    "tab\there and\nnewline",
    "▁already ▁▁written",
    "über café 日本語 🎉 naïve",
    "a\u00a0b",
    "a <s> in a headline",
    "</s>",
    "<unk>x",
    "<not special>",
    "UPDATE 1-Moscow rolls out live facial recognition",
    "Remember FindFace? The Creepy App Is Back As A Moscow Surveillance System",
]


def _encoded(texts: list[str]) -> tuple[list[int], list[int]]:
    tok = _model()[0]
    ids = [tok.encode(t, add_special_tokens=False).ids for t in texts]  # type: ignore[attr-defined]
    return [i for row in ids for i in row], [len(row) for row in ids]


def test_pieces_give_the_tokens_the_whole_text_gives() -> None:
    """Tokenizing each distinct piece once gives what the tokenizer gives each whole text: on the seeds,
    on odd spacing and characters, and on the special tokens' spellings."""
    assert _pieces_are_exact()  # else token_ids encodes every text whole, and this test proves nothing new
    texts = [a.title for a in SEEDS] + [a.excerpt for a in SEEDS] + ODD_TEXTS
    flat, lengths = token_ids(texts)
    want_flat, want_lengths = _encoded(texts)
    assert lengths.tolist() == want_lengths and flat.tolist() == want_flat
    assert sum(want_lengths) > 1000


def test_a_tokenizer_unlike_the_models_is_never_tokenized_piece_by_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    """`_pieces_are_exact` reads the tokenizer through its getters: each way a tokenizer can differ from the
    one token_ids assumes makes it say no (and every text is then encoded whole)."""
    from tokenizers import Tokenizer, pre_tokenizers

    real = _model()[0]
    config = json.loads(real.to_str())  # type: ignore[attr-defined]

    def variant(change: object) -> object:
        changed = json.loads(json.dumps(config))
        change(changed)  # type: ignore[operator]
        return Tokenizer.from_str(json.dumps(changed))

    def whitespace(c: dict) -> None:  # type: ignore[type-arg]
        c["pre_tokenizer"] = json.loads(pre_tokenizers.Whitespace().__getstate__())

    def inner_space(c: dict) -> None:  # type: ignore[type-arg]
        c["model"]["vocab"]["a▁b"] = len(c["model"]["vocab"])

    def other_normalizer(c: dict) -> None:  # type: ignore[type-arg]
        c["normalizer"]["normalizers"] = c["normalizer"]["normalizers"][:1]

    def other_special(c: dict) -> None:  # type: ignore[type-arg]
        c["added_tokens"].append({**c["added_tokens"][0], "id": 1 << 20, "content": "<mask>"})

    table = _model()[1]
    try:
        for change in (whitespace, inner_space, other_normalizer, other_special):
            _pieces_are_exact.cache_clear()
            monkeypatch.setattr("newsstand.cluster.semantic._model", lambda c=change: (variant(c), table))
            assert not _pieces_are_exact(), change.__name__
        monkeypatch.undo()
        _pieces_are_exact.cache_clear()
        assert _pieces_are_exact()
    finally:
        _pieces_are_exact.cache_clear()


# Any text a headline can be (normalize.clean_text keeps printable characters: never a lone surrogate),
# with spaces, "▁" and the special tokens' characters often.
headline_texts = st.text(
    alphabet=st.sampled_from(list("ab ▁<s>/ü日")) | st.characters(blacklist_categories=("Cs",)), max_size=30
)


@settings(max_examples=200, deadline=None)
@given(st.lists(headline_texts, max_size=6))
def test_pieces_give_the_tokens_of_any_text(texts: list[str]) -> None:
    flat, lengths = token_ids(texts)
    want_flat, want_lengths = _encoded(texts)
    assert lengths.tolist() == want_lengths and flat.tolist() == want_flat


def test_alike_meaning_scores_higher_than_unrelated_news() -> None:
    """Centred on a step's stories, two outlets' wordings of one event are closer than a report of other
    news on the same subject."""
    titles = [a.title for a in SEEDS]
    step = for_step(embed(titles).astype(np.float16), np.arange(len(titles)), DEFAULT)
    lab = np.arange(len(titles))
    at = {a.key: i for i, a in enumerate(SEEDS)}
    london = [at[key_of("engadget.com/2020/01/24")], at[key_of("usnews.com")]]
    moscow = [at[key_of("21115119")], at[key_of("findface")]]
    chicago = at[key_of("jet-fuel")]
    zero = np.zeros(2)
    same = step.blend(zero, lab, np.array([london[0], moscow[0]]), np.array([london[1], moscow[1]]))
    other = step.blend(zero, lab, np.array([london[0], moscow[0]]), np.array([chicago, chicago]))
    assert (same > other).all() and (other >= 0.0).all()  # and the blend never lowers a score
    forbidden = step.blend(np.array([-1.0]), lab, np.array(london[:1]), np.array(london[1:]))
    assert forbidden[0] == -1.0  # a pair the terms forbid stays forbidden


def test_the_signal_joins_more_without_moving_the_seeds_events() -> None:
    on, off = cluster(SEEDS), cluster(SEEDS, params=replace(DEFAULT, semantic_weight=0.0))
    assert len(on) <= len(off)
    london = story_of(on, "nytimes.com/2020/01/24/business")
    assert key_of("computing.co.uk") not in london


@pytest.mark.parametrize("bad", [{"semantic_weight": 1.0}, {"semantic_weight": -0.1}, {"semantic_dims": 100}])
def test_the_knobs_are_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="semantic_"):
        ClusterParams(**bad)  # type: ignore[arg-type]
