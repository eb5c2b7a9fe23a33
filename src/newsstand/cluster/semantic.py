"""Headline meaning: a small static embedding of each report, as a second signal beside the shared terms.

Two outlets word one event differently ("Moscow rolls out live facial recognition" and "Moscow Surveillance
System"); shared terms miss what a word embedding catches. The model is WordLlama's bundled 256-dimension
one (token vectors averaged over the headline: a static embedding; ~100,000 headlines a second on one core,
each distinct word tokenized once: `token_ids`), read straight from the files its wheel ships with
`tokenizers` and `safetensors`: nothing is downloaded, and
neither the `wordllama` package itself (its loader looks for the tokenizer under another folder name, then
downloads it) nor its HTTP and settings libraries are imported. A report's embedding is a pure function of
its headline, made with its term row (and spliced with it: cluster.splice).

On a one-subject site every headline points along the subject's direction, so raw cosines glue unrelated
stories on the subject together (on the seeds, 34 stories became 27). So each day's step of the stream
centres the embeddings of the reports it groups on their subject: it subtracts the mean over the step's
stories (each open story, by its mean, and each held report counting once: a big event, many reports of one
day, would otherwise be most of the mean and be taken out of itself). The step reads nothing else, so the
stream stays local and resumable.

The signal only adds evidence: a merge scores max(term score, (1 - w) × term score + w × cosine of the two
groups' summed centred embeddings). Blended both ways (the meaning also lowering pairs whose headlines share
names but not wording), it split the seeds' 24 January story into four.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain, islice
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .candidates import cluster_members, unique_sorted
from .params import ClusterParams

WEIGHTS = ("weights", "l2_supercat_256.safetensors")
TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")
TENSOR = "embedding.weight"
_TEXTS = 4096  # texts `embed` takes at a time: bounds its temporaries
_PAIRS = 1 << 14  # pairs `Semantic.blend` scores at a time: bounds its temporaries


def model_files() -> tuple[Path, Path]:
    """The weights and tokenizer files inside the installed `wordllama` package, found without importing
    it (its __init__ sets up logging and imports its download code)."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the wordllama package is not installed: pip install wordllama")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root.joinpath(*WEIGHTS), root.joinpath(*TOKENIZER)


@cache
def _model() -> tuple[object, np.ndarray]:
    """The tokenizer and the token vectors (float16, as stored: 16 MB), loaded once per process. `embed`
    widens only the rows it uses: the whole table widened took a tenth of a second, for a build that
    embeds the one headline an editor changed."""
    # Imported here: a build that does not cluster never pays for them.
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    weights, tokenizer = model_files()
    table = load_file(str(weights))[TENSOR]
    tok = Tokenizer.from_file(str(tokenizer))
    tok.no_padding()
    tok.no_truncation()
    return tok, table


def embed(texts: Sequence[str], dims: int = 256, dtype: type = np.float32) -> np.ndarray:
    """Each text's unit embedding (n × dims; a text without a token: zeros): the mean of its tokens' vectors
    (the first `dims` components: the model is trained to be cut), scaled to unit length, as float32, then
    as `dtype`. A pure function of the text, one row at a time: the same text gives the same bits in any
    batch."""
    _, table = _model()
    out = np.zeros((len(texts), dims), dtype=dtype)
    pieces = Pieces()
    for a in range(0, len(texts), _TEXTS):
        flat, lengths = token_ids(texts[a : a + _TEXTS], pieces)
        np.clip(flat, 0, len(table) - 1, out=flat)
        # Text × token counts times the vectors of the tokens used (numbered in token order, so each row's
        # sum runs over its own tokens in the same order as over the whole table, to the same bits).
        used, column = np.unique(flat, return_inverse=True)
        counts = sp.csr_matrix(
            (np.ones(len(flat), dtype=np.float32), column.ravel(), np.r_[0, np.cumsum(lengths)]),
            shape=(len(lengths), len(used)),
        )
        counts.sum_duplicates()
        sums = np.asarray(counts @ table[used, :dims].astype(np.float32), dtype=np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", sums, sums))
        full = np.flatnonzero(norms > 0)
        out[a + full] = (sums[full] / norms[full, None]).astype(np.float32).astype(dtype)
    return out


class Pieces:
    """The distinct pieces of text met so far (see `token_ids`), each numbered in the order first met, with
    its token ids: piece k's are flat[start[k] : start[k] + length[k]]."""

    def __init__(self) -> None:
        self.number: dict[object, int] = {}
        self.flat = np.zeros(0, dtype=np.int64)
        self.start = np.zeros(0, dtype=np.int64)
        self.length = np.zeros(0, dtype=np.int64)

    def __getitem__(self, piece: object) -> int:
        return self.number.setdefault(piece, len(self.number))

    def tokenize(self) -> None:
        """Tokenize the pieces numbered since the last call."""
        tok, _ = _model()
        model = tok.model  # type: ignore[attr-defined]
        ids: list[list[int]] = []
        for piece in islice(self.number, len(self.length), None):
            if isinstance(piece, tuple):
                ids.append(tok.encode(piece[1], add_special_tokens=False).ids)  # type: ignore[attr-defined]
            else:
                ids.append([t.id for t in model.tokenize(piece)])
        length = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        self.start = np.r_[self.start, len(self.flat) + np.cumsum(length) - length]
        self.length = np.r_[self.length, length]
        self.flat = np.r_[self.flat, np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(length.sum()))]


def token_ids(texts: Sequence[str], pieces: Pieces | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The model's token ids of each text (as `Tokenizer.encode` without special tokens gives them), all
    texts' one after the other (int64), and how many each text has; `pieces` keeps the pieces tokenized
    from one call to the next.

    A headline's words come back thousands of times across an archive, and one `encode` call costs
    more than the words it looks up: each distinct piece is tokenized once. The tokenizer is the model's
    BPE after a normalizer that writes "▁" before the text and for every space, with no pre-tokenizer, so
    BPE sees the whole text as one word; but no token of its vocabulary has "▁" after another character
    (checked in `_pieces_are_exact`), so no merge joins across the start of a run of "▁": the text's tokens
    are its pieces' (each run of "▁" with the characters up to the next run), one after the other. A text
    the special tokens' matcher would cut ("<s>" written in a headline), and the empty text, are encoded
    whole."""
    pieces = Pieces() if pieces is None else pieces
    numbers: list[int] = []
    per_text = np.zeros(len(texts), dtype=np.int64)
    exact = _pieces_are_exact()
    number = pieces.__getitem__
    for k, text in enumerate(texts):
        if not exact or not text or ("<" in text and any(s in text for s in _SPECIAL)):
            found = [number(("whole", text))]
        else:
            found = list(map(number, _PIECE.findall("▁" + text.replace(" ", "▁"))))
        numbers += found
        per_text[k] = len(found)
    pieces.tokenize()
    which = np.asarray(numbers, dtype=np.int64)
    lens = pieces.length[which]
    ends = np.cumsum(lens)
    flat = pieces.flat[
        np.repeat(pieces.start[which] - ends + lens, lens) + np.arange(int(ends[-1]) if len(ends) else 0)
    ]
    text_of = np.repeat(np.arange(len(texts), dtype=np.int64), per_text)
    lengths = np.bincount(text_of, weights=lens, minlength=len(texts)).astype(np.int64)
    return flat, lengths


_PIECE = re.compile("▁+[^▁]*")
_SPECIAL = ("<unk>", "<s>", "</s>")


@cache
def _pieces_are_exact() -> bool:
    """Whether the model's texts may be tokenized piece by piece (see `token_ids`): its tokenizer is the one
    described there, and no token of its vocabulary has "▁" after another character."""
    tok, _ = _model()
    try:
        # From the tokenizer's own getters: its whole configuration as JSON, parsed again, took 0.1 s a build.
        normalizers = json.loads(tok.normalizer.__getstate__()).get("normalizers", [])  # type: ignore[attr-defined]
        specials = {t.content for t in tok.get_added_tokens_decoder().values()}  # type: ignore[attr-defined]
        vocabulary = tok.get_vocab(with_added_tokens=False)  # type: ignore[attr-defined]
        return (
            type(tok.model).__name__ == "BPE"  # type: ignore[attr-defined]
            and tok.pre_tokenizer is None  # type: ignore[attr-defined]
            and normalizers
            == [
                {"type": "Prepend", "prepend": "▁"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
            ]
            and specials <= set(_SPECIAL)
            and not any(_INNER.search(t) for t in vocabulary)
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return False


_INNER = re.compile("[^▁]▁")


@dataclass(frozen=True, slots=True)
class Semantic:
    """A step's items' headline embeddings (as stored: float16) and the centre of the step, to score merges with; and
    each cluster's unit centred sum, kept until the cluster grows (clusters only grow, and a cluster goes by
    its smallest item: its label and size tell its members). Each cluster's plain sum is kept too, and a
    merge adds the two (`merged`): summed again from its members each time it grew, a big story cost a
    sixth of clustering 100k stories."""

    e: np.ndarray  # item × dims
    centre: np.ndarray  # dims
    weight: float
    unit: np.ndarray  # cluster label × dims: the unit centred sum of its members ...
    size: np.ndarray  # ... when it had this many (0: not computed)
    sums: np.ndarray  # cluster label × dims: the sum of its members' rows ...
    summed: np.ndarray  # ... when it had this many (0: not known)

    def merged(self, moved: np.ndarray, into: np.ndarray, before: np.ndarray) -> None:
        """Clusters `moved` joined `into` (one each: a round merges pairs), which had `before` members."""
        known = (self.summed[moved] == before[moved]) & (self.summed[into] == before[into])
        add, lost = into[known], into[~known]
        self.sums[add] += self.sums[moved[known]]
        self.summed[add] = before[add] + before[moved[known]]
        self.summed[lost] = 0

    def blend(self, score: np.ndarray, lab: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """max(score, (1 - weight) × score + weight × the cosine of the clusters' summed centred embeddings)
        for each pair of clusters (p, q) labelled in `lab`; a pair the terms forbid (negative: see
        agglomerate._centroid_dots) stays forbidden."""
        if len(p) == 0:
            return score
        ids = unique_sorted(np.concatenate([p, q]))
        sizes = np.bincount(lab, minlength=len(lab))
        stale = ids[self.size[ids] != sizes[ids]]
        if len(stale):
            unknown = stale[self.summed[stale] != sizes[stale]]
            if len(unknown):
                self.sums[unknown] = _per_cluster(self.e, lab, unknown)
                self.summed[unknown] = sizes[unknown]
            sums = self.sums[stale] - sizes[stale, None] * self.centre
            norms = np.sqrt(np.einsum("ij,ij->i", sums, sums))
            self.unit[stale] = sums / np.maximum(norms, 1e-12)[:, None]
            self.size[stale] = sizes[stale]
        cos = np.empty(len(p), dtype=np.float32)
        for a in range(0, len(p), _PAIRS):  # a chunk at a time: two rows of 1 kB gathered per pair
            cos[a : a + _PAIRS] = np.einsum("ij,ij->i", self.unit[p[a : a + _PAIRS]], self.unit[q[a : a + _PAIRS]])
        mixed = np.maximum(score, (1.0 - self.weight) * score + self.weight * cos)
        return np.where(score < 0, score, mixed)


def _per_cluster(e: np.ndarray, lab: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The rows of `e` summed per cluster in float64, for the clusters `ids` (sorted, distinct, each with a
    member), members in index order, one after the other (as a product with the member lists sums them; + 0.0: a
    sum of zeros is +0, as there)."""
    members, counts = cluster_members(lab, ids)
    rows = e[members].astype(np.float64)
    several = (counts > 1).nonzero()[0]
    if len(several) == 0:
        return rows + 0.0
    # reduceat pays a call per cluster; a cluster of one (most of a step's) is its row.
    starts = np.cumsum(counts) - counts
    out = rows[starts]
    grouped = np.repeat(counts > 1, counts)
    out[several] = np.add.reduceat(rows[grouped], np.cumsum(counts[several]) - counts[several], axis=0)
    return out + 0.0


def rows(texts: Sequence[str], p: ClusterParams, known: Sequence[np.ndarray | None] = ()) -> np.ndarray | None:
    """The embedding of each report's headline (float16: half the memory, and a cosine needs no more), or
    None when the signal is off; `known[i]`, where given, is text i's, made before."""
    if not p.semantic_weight:
        return None
    todo = [i for i in range(len(texts)) if i >= len(known) or known[i] is None]
    if len(todo) == len(texts):
        return embed(texts, p.semantic_dims, np.float16)
    out = np.zeros((len(texts), p.semantic_dims), dtype=np.float16)
    have = [i for i in range(len(texts)) if i < len(known) and known[i] is not None]
    out[have] = np.stack([known[i] for i in have])
    if todo:
        out[todo] = embed([texts[i] for i in todo], p.semantic_dims, np.float16)
    return out


def for_step(
    e: np.ndarray,
    initial: np.ndarray,
    p: ClusterParams,
    known: Sequence[int] = (),
    known_sums: Sequence[np.ndarray] = (),
) -> Semantic:
    """The embeddings `e` of a step's items, whose clusters start as `initial` (labels), centred on the
    step's stories: the mean of each starting cluster's mean (see the module's docstring). `known_sums`
    are the sums of the starting clusters labelled `known`, as `_per_cluster` makes them."""
    ids = unique_sorted(initial)
    counts = np.bincount(initial)[ids]
    # Only a cluster's label (its smallest item) is ever read from the rows by label: the others stay zero
    # pages, never touched (most of a step's items are the open stories' members).
    sums = np.zeros(e.shape, dtype=np.float64)
    carried = np.asarray(known, dtype=np.int64)
    is_known = np.zeros(len(e), dtype=bool)
    is_known[carried] = True
    todo = ids[~is_known[ids]]
    if len(todo):
        sums[todo] = _per_cluster(e, initial, todo)
    if len(carried):
        sums[carried] = np.stack(known_sums)
    summed = np.ones(len(e), dtype=np.int64)
    summed[ids] = counts
    centre = (sums[ids] / counts[:, None]).mean(axis=0)
    n = len(e)
    unit = np.zeros(e.shape, dtype=np.float32)
    return Semantic(e, centre, p.semantic_weight, unit, np.zeros(n, dtype=np.int64), sums, summed)
