"""Headline text → weighted terms: the vocabulary clustering compares articles by.

An editor matches coverage of one event by its names and rare words ("Stratford", "$550", "Clearview"),
not by the words every headline on the subject shares ("facial", "recognition"). So: wire prefixes
are stripped, stopwords dropped, plurals folded, and each term weighted by its rarity (IDF) in the corpus
being clustered. The title is what a headline writer distils the event into, so it counts in full; the
excerpt only adds a little, because it also carries background that other stories share.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from itertools import chain, pairwise

import numpy as np
import scipy.sparse as sp

from .candidates import run_starts, unique_inverse

# "UPDATE 1-", "REFILE-", "Editorial: " ...: labels of the copy, not of the event.
WIRE_PREFIX = re.compile(
    r"^\s*(?:(?:update|refile|corrected|correction|rpt|repeat|wrapup|exclusive|breaking|editorial|analysis"
    r"|opinion|explainer|factbox|instant view|video|watch|live)\b[\s\d]*[-:–—|]\s*)+",
    re.IGNORECASE,
)
TOKEN = re.compile(r"\$?\d[\d,.]*%?|[^\W\d_]+(?:['’][^\W\d_]+)*")
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "new",
        "news",
        "says",
        "said",
        "say",
        "report",
        "reports",
        "amid",
        "via",
        "vs",
        "get",
        "gets",
        "one",
        "two",
        "first",
        "still",
        "back",
        "may",
        "might",
        "must",
        "make",
        "makes",
        "made",
        "us",
        "video",
        "photos",
        "watch",
        "live",
        "update",
        "updates",
    ]
)
EXCERPT_WEIGHT = 0.3  # an excerpt word counts this much of a title word: an excerpt also carries background
NAME_WEIGHT = 0.7  # ... but a name in it ("MSPs", "Holyrood", "Hoylman") is what two outlets' reports share
EXCERPT_TOKENS = 40  # the lede is enough; the rest of an excerpt is mostly background
BIGRAM_WEIGHT = 0.3  # adjacent title terms ("time warner", "flappy bird"): names that single words blur


def headline(title: str) -> str:
    """The headline without wire and section prefixes, for comparing copies."""
    return WIRE_PREFIX.sub("", title).strip()


# The same prefixes, for `headlines`: one pass over many titles joined by newlines, so no match may cross one.
# Each match starts at the newline before its line (the text gets one in front): a literal first character
# lets the regex engine skip to the line starts instead of trying the pattern at every character.
_WIRE_PREFIX_LINES = re.compile(
    WIRE_PREFIX.pattern.replace(r"^\s*", r"\n[^\S\n]*")
    .replace(r"[\s\d]*", r"(?:[^\S\n]|\d)*")
    .replace(r"\s*)+", r"[^\S\n]*)+"),
    re.IGNORECASE,
)


def headlines(titles: Sequence[str]) -> list[str]:
    """`headline` of each title, in one regex pass over them all (newlines inside a title become spaces)."""
    if not titles:
        return []
    joined = "\n".join(chain(("",), titles))
    if joined.count("\n") != len(titles):  # a title with a newline of its own
        joined = "\n".join(chain(("",), (t.replace("\n", " ") for t in titles)))
    return list(map(str.strip, _WIRE_PREFIX_LINES.sub("\n", joined)[1:].split("\n")))


def char_classes(text: str, keep: re.Pattern[str], to: str = " ") -> dict[int, str]:
    """A str.translate table sending every character of `text` that `keep` does not match to `to`."""
    chars = _ASCII if text.isascii() else set(text)
    return {ord(c): to for c in chars if not keep.match(c)}


_ASCII = [chr(i) for i in range(128)]


def fold(word: str) -> str:
    """Light stemming: lowercase, no possessive, plurals folded ("cameras" → "camera", "policies" → "policy")."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if w[0] == "$" or w[0].isdigit():
        return w.rstrip(".,")
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


_SEPARATOR = "\x00"  # between documents in the joined text; never a token character
_DROPPED = -3  # a chunk without a token ("...")


NAME = 1 << 30  # set on a term id by `_term_ids(names=True)` where the word was written with a capital


def _term_ids(
    texts: Sequence[str],
    limit: int | None,
    ids: dict[str, int],
    names: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(document index, term id) of every kept token, in order; with `names`, the id of a word written
    with a capital ("Holyrood", "ALBANY") carries NAME. All documents are tokenised in one pass
    over a joined string and each distinct word is folded once: on 470k articles this is what keeps
    tokenising to about a second instead of a Python loop per token.

    The pass is a split, not a regex: characters that no token contains become spaces and the text is split
    into chunks; a chunk of letters only is one token, any other chunk is tokenised by TOKEN alone (a match
    never crosses a character no token contains), once per distinct chunk (see `_split`)."""
    joined = f" {_SEPARATOR} ".join(t.replace(_SEPARATOR, " ") for t in texts)
    split = _split_ascii(joined) if joined.isascii() else None
    if split is None:
        split = _split(joined)
    del joined
    chunk_ids, distinct = split
    seen: dict[str, int] = {_SEPARATOR: -2}
    per_chunk: list[list[int]] = []
    for c in distinct:
        words = [c] if c.isalpha() else TOKEN.findall(c) if c != _SEPARATOR else [c]
        for w in words:
            if w not in seen:
                folded = fold(w)
                seen[w] = -1 if len(folded) < 2 or folded in STOPWORDS else ids.setdefault(folded, len(ids))
                if names and seen[w] >= 0 and w[0].isupper():
                    seen[w] |= NAME
        per_chunk.append([seen[w] for w in words])
    counts = np.fromiter(map(len, per_chunk), dtype=np.int64, count=len(per_chunk))
    if (counts <= 1).all():  # one token per chunk, or none
        code = np.fromiter((c[0] if c else _DROPPED for c in per_chunk), dtype=np.int32, count=len(per_chunk))
        codes = np.empty(len(chunk_ids), dtype=np.int32)
        for a in range(0, len(codes), _CHUNKS):  # a piece at a time: an index array is widened to 64 bits
            codes[a : a + _CHUNKS] = code[chunk_ids[a : a + _CHUNKS]]
        if not counts.all():
            codes = codes[codes != _DROPPED]
    else:  # some chunks hold several tokens (or none): expand each occurrence into its tokens
        flat = np.fromiter((t for c in per_chunk for t in c), dtype=np.int64, count=int(counts.sum()))
        offsets = np.r_[0, np.cumsum(counts)[:-1]]
        n_tok = counts[chunk_ids]
        total = int(n_tok.sum())
        out_starts = np.cumsum(n_tok) - n_tok
        codes = flat[np.repeat(offsets[chunk_ids] - out_starts, n_tok) + np.arange(total)]
    del chunk_ids
    boundary = codes == -2
    doc = np.cumsum(boundary, dtype=np.int32)
    if limit is not None:  # position within the document, to keep only its first `limit` tokens
        starts = np.flatnonzero(np.r_[True, boundary[:-1]]).astype(np.int32)
        pos = np.arange(len(codes), dtype=np.int32)
        pos -= np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
        keep = pos <= limit
        del pos
        keep &= ~boundary
    else:
        keep = ~boundary
    return doc[keep], codes[keep].astype(np.int32, copy=False)


_TOKEN_CHAR = re.compile(rf"[^\W_]|[$%,.'’{_SEPARATOR}]")  # every character a token (or the separator) may contain
_ASCII_TOKEN_BYTES = bytes(c if _TOKEN_CHAR.match(chr(c)) else 32 for c in range(256))  # char_classes, bytes


def _split(joined: str) -> tuple[np.ndarray, list[str]]:
    """The chunks of `joined` (runs of token characters): each one's id, and the distinct chunks by id, the
    separator first and the others in order of first appearance."""
    chunks = joined.translate(char_classes(joined, _TOKEN_CHAR)).split()
    distinct: dict[str, int] = dict.fromkeys([_SEPARATOR], 0)
    distinct.update(dict.fromkeys(chunks))
    for k, c in enumerate(distinct):
        distinct[c] = k
    return np.fromiter(map(distinct.__getitem__, chunks), dtype=np.int64, count=len(chunks)), list(distinct)


_LOW_BYTES = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_PIECE = 1 << 22  # bytes `_split_ascii` scans at a time ...
_CHUNKS = 1 << 18  # ... and chunks it keys at a time: keeps its temporaries small
_WINDOW_CELLS = 1 << 20  # cells `_window_counts` counts at a time


def _split_ascii(joined: str) -> tuple[np.ndarray, list[str]] | None:
    """`_split` of an ASCII text without a Python string per chunk (millions of them are most of the cost
    of tokenising): chunks are found as byte runs and numbered by `run_ids`; None (use `_split`) if that
    cannot tell them apart. Piece by piece, in 32-bit positions: on 470k excerpts the whole-text
    temporaries took hundreds of megabytes."""
    size = len(joined)
    if size == 0 or size > (1 << 31) - _PIECE:
        return None
    text = np.empty(size + 16, dtype=np.uint8)  # padded: 8 bytes can be read from any offset
    text[size:] = 32
    text[:size] = np.frombuffer(joined.encode("ascii").translate(_ASCII_TOKEN_BYTES), dtype=np.uint8)
    starts, ends = [], []
    for a in range(0, size, _PIECE):
        b = min(size, a + _PIECE)
        # A chunk starts where a token byte follows a space (or the text's start), ends where a space follows one.
        is_char = text[max(0, a - 1) : b + (b == size)] != 32  # flips at a .. b - 1, and at the text's end
        if a == 0:
            is_char = np.r_[False, is_char]
        flips = np.flatnonzero(is_char[1:] != is_char[:-1]).astype(np.int32) + np.int32(a)
        inside = int(is_char[0])  # the piece begins inside a chunk: its first flip is that chunk's end
        starts.append(flips[inside::2])
        ends.append(flips[1 - inside :: 2])
    start = np.concatenate(starts)
    length = np.concatenate(ends) - start
    del starts, ends
    if len(start) == 0:
        return np.zeros(0, dtype=np.int32), [_SEPARATOR]
    runs = run_ids(text, start, length)
    if runs is None:
        return None
    chunk, first = runs
    distinct = [
        bytes(text[h : h + n]).decode("ascii")
        for h, n in zip(start[first].tolist(), length[first].tolist(), strict=True)
    ]
    # The separator (the one chunk of a zero byte) goes first, whether or not it occurs.
    at = distinct.index(_SEPARATOR) if _SEPARATOR in distinct else len(distinct)
    separator = chunk == at
    chunk[chunk < at] += 1
    chunk[separator] = 0
    distinct.insert(0, distinct.pop(at) if at < len(distinct) else _SEPARATOR)
    return chunk, distinct


def run_ids(text: np.ndarray, start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Number the byte runs text[start[k]:start[k] + length[k]] (`text` padded with 8 bytes) by first
    appearance, equal runs alike: (int32 id of each run, the first run of each id). Runs are told apart by
    their bytes packed into a 64-bit key, exact up to 8 bytes and mixed for longer runs, so every run is
    checked against the first run with its key: None if two differ. A piece of runs at a time."""
    words = np.ndarray(shape=(len(text) - 8,), dtype="<u8", buffer=text, strides=(1,))  # 8 bytes from each offset
    chunk = np.empty(len(start), dtype=np.int32)
    known = np.zeros(0, dtype=np.uint64)  # sorted keys seen so far
    known_id = np.zeros(0, dtype=np.int64)
    firsts: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]  # the first run of each id, id after id
    for a in range(0, len(start), _CHUNKS):
        st, ln = start[a : a + _CHUNKS].astype(np.int64), length[a : a + _CHUNKS]
        key = words[st] & _LOW_BYTES[np.minimum(ln, 8)]
        longer = np.flatnonzero(ln > 8)
        for offset in range(8, int(ln.max(initial=0)), 8):
            longer = longer[ln[longer] > offset]
            k = key[longer]
            key[longer] = ((k ^ (k >> np.uint64(31))) * np.uint64(0x9E3779B97F4A7C15)) ^ (
                words[st[longer] + offset] & _LOW_BYTES[np.minimum(ln[longer] - offset, 8)]
            )
        at = np.searchsorted(known, key)
        new = np.flatnonzero(known[np.minimum(at, len(known) - 1)] != key) if len(known) else np.arange(len(key))
        if len(new):
            # The piece's new keys (sorted), numbered by first appearance after those known.
            order = np.argsort(key[new], kind="stable")
            sorted_new = key[new][order]
            head = run_starts(sorted_new)
            first_new = new[order][head]
            ids = np.empty(len(first_new), dtype=np.int64)
            ids[np.argsort(first_new)] = len(known_id) + np.arange(len(first_new))
            firsts.append(np.sort(first_new) + a)
            # Two sorted runs: a stable sort (timsort) merges them in one pass.
            by_key = np.argsort(np.concatenate([known, sorted_new[head]]), kind="stable")
            known = np.concatenate([known, sorted_new[head]])[by_key]
            known_id = np.concatenate([known_id, ids])[by_key]
            at = np.searchsorted(known, key)
        chunk[a : a + _CHUNKS] = known_id[at]
    first = np.concatenate(firsts)
    for a in range(0, len(start), _CHUNKS):
        st, ln = start[a : a + _CHUNKS].astype(np.int64), length[a : a + _CHUNKS]
        rep = first[chunk[a : a + _CHUNKS]]
        if not np.array_equal(ln, length[rep]):
            return None
        rep_start = start[rep].astype(np.int64)
        longer = np.flatnonzero(ln > 8)
        for offset in range(0, int(ln.max(initial=0)), 8):
            longer = longer[ln[longer] > offset]
            differ = (words[st[longer] + offset] ^ words[rep_start[longer] + offset]) & _LOW_BYTES[
                np.minimum(ln[longer] - offset, 8)
            ]
            if differ.any():
                return None
    return chunk, first


def term_rows(
    titles: Sequence[str],
    excerpts: Sequence[str],
    *,
    stripped: bool = False,
) -> tuple[sp.csr_matrix, np.ndarray, sp.csr_matrix]:
    """Rows: each document's terms with their weight before rarity (binary term frequency: a headline
    rarely repeats a word): a title word 1, a title bigram BIGRAM_WEIGHT, an excerpt word EXCERPT_WEIGHT
    or, written with a capital (a name: "Holyrood", "Hoylman"), NAME_WEIGHT. `stripped`: the titles are
    already `headlines` (wire prefixes off). Columns are the terms the rows hold, in the order of their
    64-bit hashes (a word's from its text, a bigram's from its words'), which is also returned: a
    document's row is stored the same way whatever else is in the corpus, so sums over it run in the same
    order and give the same bits (the stream's resume and the splice of a slice rely on it)."""
    n = len(titles)
    ids: dict[str, int] = {}
    t_doc, t_term = _term_ids(titles if stripped else headlines(titles), None, ids)
    # Only an excerpt's first EXCERPT_TOKENS words count: cut the rest before tokenising (cut at a space).
    cut = EXCERPT_TOKENS * 16
    e_doc, e_term = _term_ids(
        [e if len(e) <= cut else e[:cut].rsplit(None, 1)[0] for e in excerpts], EXCERPT_TOKENS, ids, names=True
    )
    # Bigrams of adjacent kept title terms, numbered after the words.
    width = len(ids) + 1
    t_ok = t_term >= 0
    b_doc_all, b_term_all = t_doc[t_ok], t_term[t_ok]
    same = b_doc_all[1:] == b_doc_all[:-1]
    pair_codes = b_term_all[:-1][same].astype(np.int64) * width + b_term_all[1:][same]
    pair_ids, pair_inv = unique_inverse(pair_codes)
    cols = max(1, width + len(pair_ids))
    # Binary tf: each (doc, term) cell once, with its largest weight (a title word beats the same excerpt word).
    e_ok = e_term >= 0
    e_doc, e_term = e_doc[e_ok], e_term[e_ok]
    name = e_term >= NAME
    m = _binary(e_doc[~name], e_term[~name], EXCERPT_WEIGHT, n, cols)
    title = _binary(t_doc[t_ok], t_term[t_ok], 1.0, n, cols)
    named = _binary(e_doc[name], e_term[name] & (NAME - 1), 1.0, n, cols)
    if name.any():
        m = m.maximum(named * NAME_WEIGHT)
    named = named.multiply(title).tocsr()  # title words its lede writes as a name
    del e_doc, e_term, e_ok, name
    m = m.maximum(title)
    if BIGRAM_WEIGHT and len(pair_ids):
        m = m.maximum(_binary(b_doc_all[1:][same], pair_inv + width, BIGRAM_WEIGHT, n, cols))
    place, hashes = _canonical_columns(ids, pair_ids, width, np.bincount(m.indices, minlength=cols) > 0)
    m = sp.csr_matrix((m.data, place[m.indices], m.indptr), shape=(n, max(1, len(hashes))))
    m.sort_indices()
    named = sp.csr_matrix((named.data, place[named.indices], named.indptr), shape=m.shape)
    named.sort_indices()
    return m, hashes, named


def _canonical_columns(
    ids: dict[str, int], pair_ids: np.ndarray, width: int, used: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Column → its place among the `used` columns sorted by their term's hash, and the hash at each place
    (a word's from its text, a bigram's from its words' hashes). Hash order is the same in any corpus, so
    the columns of a slice of the archive map into the archive's by a search over the sorted hashes, and
    every sum that runs in column order runs alike on both (see splice). Columns no row uses (words met
    only past an excerpt's first EXCERPT_TOKENS) are left out: the columns are the terms the rows hold."""
    by_id = [""] * len(ids)
    for w, i in ids.items():
        by_id[i] = w
    word_hash = np.zeros(width, dtype=np.uint64)  # by column; the last is the unused one before the bigrams
    word_hash[: len(ids)] = np.fromiter(
        (int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little") for w in by_id),
        dtype=np.uint64,
        count=len(ids),
    )
    hashes = np.zeros(width + len(pair_ids), dtype=np.uint64)
    hashes[:width] = word_hash
    with np.errstate(over="ignore"):  # wrapping multiplication: a mix, not arithmetic
        hashes[width:] = word_hash[pair_ids // width] * np.uint64(0x9E3779B97F4A7C15) ^ word_hash[pair_ids % width]
    kept = np.flatnonzero(used[: len(hashes)])
    # Two terms of one hash (about one chance in 10^8 at a million terms) keep their order of first use.
    kept = kept[np.argsort(hashes[kept], kind="stable")]
    place = np.full(len(hashes), -1, dtype=np.int32)
    place[kept] = np.arange(len(kept), dtype=np.int32)
    return place, hashes[kept]


def weigh(m: sp.csr_matrix, seconds: np.ndarray, half_width: float) -> sp.csr_matrix:
    """`term_rows` (rows in time order, `seconds` their int64 Unix times) weighted by each term's rarity
    *around the document's time*: IDF over the documents within `half_width` hours either side, then each
    row scaled to unit length, so that a dot product is a cosine.

    The subject of a one-subject site ("facial", "recognition", "police") is in most documents of any
    window and weighs little, while a name in the news this week weighs much; and, unlike IDF over the whole
    archive, a document's weights depend only on the documents near it in time, so adding or editing one
    story moves the weights of its neighbours alone. Integer times throughout: the same document gets the
    same weights whatever else is in the corpus."""
    n = m.shape[0]
    if n == 0 or m.nnz == 0:
        return normalize_rows(m)
    xt = _by_term(m)
    for c0, c1, df, around in _window_counts(xt, seconds, half_width):
        xt.data[c0:c1] *= (np.log((1.0 + around) / (1.0 + df)) + 1.0).astype(np.float32)
    return normalize_rows(xt.T.tocsr())


def _by_term(m: sp.csr_matrix) -> sp.csr_matrix:
    """m transposed: per term, its documents in time order."""
    xt = m.T.tocsr()
    xt.sort_indices()
    return xt


def _window_counts(
    xt: sp.csr_matrix, seconds: np.ndarray, half_width: float, around: bool = True
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray | None]]:
    """For the cells of `xt` (`_by_term`), a run of whole terms at a time (c0..c1, about _WINDOW_CELLS
    cells: a few arrays of every cell of a 100k archive were 300 MB at once): the number of documents
    within `half_width` hours of each cell's document that hold the term, and (if `around`) that there
    are at all."""
    span = int(half_width * 3600)
    base = int(seconds.min()) - span - 1
    width = int(seconds.max()) - base + span + 1
    indptr = xt.indptr
    cuts = np.searchsorted(indptr, np.arange(0, xt.nnz, _WINDOW_CELLS), side="right") - 1
    terms = np.unique(np.r_[cuts, xt.shape[0]]).tolist()
    for t0, t1 in pairwise(terms):
        c0, c1 = int(indptr[t0]), int(indptr[t1])
        at = seconds[xt.indices[c0:c1]]
        key = np.repeat(np.arange(t1 - t0, dtype=np.int64) * width, np.diff(indptr[t0 : t1 + 1])) + (at - base)
        df = np.searchsorted(key, key + span, side="right") - np.searchsorted(key, key - span, side="left")
        near = None
        if around:
            near = np.searchsorted(seconds, at + span, side="right") - np.searchsorted(seconds, at - span, side="left")
        yield c0, c1, df, near


def rare_title_words(
    m: sp.csr_matrix, named: sp.csr_matrix, seconds: np.ndarray, half_width: float, most: int
) -> sp.csr_matrix:
    """The title words of each row of `term_rows` (weight 1) held by at most `most` documents within
    `half_width` hours of it: a name only a couple of reports this week carry in their headline."""
    if m.nnz == 0:
        return m.copy()
    xt = _by_term(m)
    for c0, c1, df, _ in _window_counts(xt, seconds, half_width, around=False):
        xt.data[c0:c1] = (xt.data[c0:c1] == 1.0) & (df <= most)
    xt.eliminate_zeros()
    return xt.T.tocsr().multiply(named).tocsr()


def _binary(doc: np.ndarray, term: np.ndarray, weight: float, n: int, cols: int) -> sp.csr_matrix:
    """(doc, term) occurrences, `doc` ascending, as a matrix with `weight` in each cell that has any."""
    indptr = np.r_[0, np.cumsum(np.bincount(doc, minlength=n))]
    m = sp.csr_matrix((np.ones(len(term), dtype=np.float32), term, indptr), shape=(n, cols))
    m.sum_duplicates()
    m.data[:] = weight
    return m


def normalize_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """Scale each row to unit length (empty rows stay empty), so that a dot product is a cosine."""
    m = sp.csr_matrix(m)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1), dtype=np.float64).ravel())
    scale = 1.0 / np.maximum(norms, 1e-12)
    m.data = (m.data * np.repeat(scale, np.diff(m.indptr))).astype(np.float32)
    return m
