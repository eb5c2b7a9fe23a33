"""Headline text → weighted terms: the vocabulary clustering compares articles by.

An editor matches coverage of one event by its names and rare words ("Stratford", "$550", "Clearview"),
not by the words every headline on the subject shares ("facial", "recognition"). So: wire prefixes
are stripped, stopwords dropped, plurals folded, and each term weighted by its rarity (IDF) in the corpus
being clustered. The title is what a headline writer distils the event into, so it counts in full; the
excerpt only adds a little, because it also carries background that other stories share.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

# "UPDATE 1-", "REFILE-", "Editorial: " ...: labels of the copy, not of the event.
WIRE_PREFIX = re.compile(
    r"^\s*(?:(?:update|refile|corrected|correction|rpt|repeat|wrapup|exclusive|breaking|editorial|analysis"
    r"|opinion|explainer|factbox|instant view|video|watch|live)\b[\s\d]*[-:–—|]\s*)+",
    re.IGNORECASE,
)
TOKEN = re.compile(r"\$?\d[\d,.]*%?|[^\W\d_]+(?:['’][^\W\d_]+)*")
STOPWORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "new", "news", "says", "said", "say", "report", "reports", "amid", "via", "vs", "get", "gets", "one", "two", "first", "still", "back", "may", "might", "must", "make", "makes", "made", "us", "video", "photos", "watch", "live", "update", "updates"]
)
EXCERPT_WEIGHT = 0.3  # an excerpt word counts this much of a title word
EXCERPT_TOKENS = 40
BIGRAM_WEIGHT = 0.3  # adjacent title terms ("time warner", "flappy bird"): names that single words blur  # the lede is enough; the rest of an excerpt is mostly background


def headline(title: str) -> str:
    """The headline without wire and section prefixes, for comparing copies."""
    return WIRE_PREFIX.sub("", title).strip()


# The same prefixes, for `headlines`: one pass over many titles joined by newlines, so no match may cross one.
# Each match starts at the newline before its line (the text gets one in front): a literal first character
# lets the regex engine skip to the line starts instead of trying the pattern at every character.
_WIRE_PREFIX_LINES = re.compile(
    WIRE_PREFIX.pattern.replace(r"^\s*", r"\n[^\S\n]*").replace(r"[\s\d]*", r"(?:[^\S\n]|\d)*")
    .replace(r"\s*)+", r"[^\S\n]*)+"),
    re.IGNORECASE,
)


def headlines(titles: Sequence[str]) -> list[str]:
    """`headline` of each title, in one regex pass over them all (newlines inside a title become spaces)."""
    if not titles:
        return []
    joined = "\n" + "\n".join(t.replace("\n", " ") for t in titles)
    return [h.strip() for h in _WIRE_PREFIX_LINES.sub("\n", joined)[1:].split("\n")]


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


def _term_ids(texts: Sequence[str], limit: int | None, ids: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(document index, term id) of every kept token, in order. All documents are tokenised in one pass
    over a joined string and each distinct word is folded once: on 470k articles this is what keeps
    tokenising to about a second instead of a Python loop per token.

    The pass is a split, not a regex: characters that no token contains become spaces and the text is split
    into chunks; a chunk of letters only is one token, any other chunk is tokenised by TOKEN alone (a match
    never crosses a character no token contains), once per distinct chunk."""
    joined = f" {_SEPARATOR} ".join(t.replace(_SEPARATOR, " ") for t in texts)
    chunks = joined.translate(char_classes(joined, _TOKEN_CHAR)).split()
    del joined
    distinct: dict[str, int] = dict.fromkeys([_SEPARATOR], 0)
    distinct.update(dict.fromkeys(chunks))
    for k, c in enumerate(distinct):
        distinct[c] = k
    seen: dict[str, int] = {_SEPARATOR: -2}
    per_chunk: list[list[int]] = []
    for c in distinct:
        words = [c] if c.isalpha() else TOKEN.findall(c) if c != _SEPARATOR else [c]
        for w in words:
            if w not in seen:
                folded = fold(w)
                seen[w] = -1 if len(folded) < 2 or folded in STOPWORDS else ids.setdefault(folded, len(ids))
        per_chunk.append([seen[w] for w in words])
    chunk_ids = np.fromiter(map(distinct.__getitem__, chunks), dtype=np.int64, count=len(chunks))
    del chunks
    counts = np.fromiter(map(len, per_chunk), dtype=np.int64, count=len(per_chunk))
    if (counts == 1).all():
        codes = np.fromiter((c[0] for c in per_chunk), dtype=np.int64, count=len(per_chunk))[chunk_ids]
    else:  # some chunks hold several tokens (or none): expand each occurrence into its tokens
        flat = np.fromiter((t for c in per_chunk for t in c), dtype=np.int64, count=int(counts.sum()))
        offsets = np.r_[0, np.cumsum(counts)[:-1]]
        n_tok = counts[chunk_ids]
        total = int(n_tok.sum())
        out_starts = np.cumsum(n_tok) - n_tok
        codes = flat[np.repeat(offsets[chunk_ids] - out_starts, n_tok) + np.arange(total)]
    del chunk_ids
    boundary = codes == -2
    doc = np.cumsum(boundary)
    if limit is not None:  # position within the document, to keep only its first `limit` tokens
        starts = np.flatnonzero(np.r_[True, boundary[:-1]])
        pos = np.arange(len(codes)) - np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
        keep = ~boundary & (pos <= limit)
    else:
        keep = ~boundary
    return doc[keep], codes[keep]


_TOKEN_CHAR = re.compile(rf"[^\W_]|[$%,.'’{_SEPARATOR}]")  # every character a token (or the separator) may contain


def tfidf(titles: Sequence[str], excerpts: Sequence[str], *, stripped: bool = False) -> sp.csr_matrix:
    """Rows: L2-normalised TF-IDF vectors (binary term frequency: a headline rarely repeats a word).
    `stripped`: the titles are already `headlines` (wire prefixes off)."""
    n = len(titles)
    ids: dict[str, int] = {}
    t_doc, t_term = _term_ids(titles if stripped else headlines(titles), None, ids)
    # Only an excerpt's first EXCERPT_TOKENS words count: cut the rest before tokenising (cut at a space).
    cut = EXCERPT_TOKENS * 16
    e_doc, e_term = _term_ids([e if len(e) <= cut else e[:cut].rsplit(None, 1)[0] for e in excerpts], EXCERPT_TOKENS, ids)
    # Bigrams of adjacent kept title terms, numbered after the words.
    width = len(ids) + 1
    t_ok = t_term >= 0
    b_doc_all, b_term_all = t_doc[t_ok], t_term[t_ok]
    same = b_doc_all[1:] == b_doc_all[:-1]
    pair_codes = b_term_all[:-1][same] * width + b_term_all[1:][same]
    pair_ids, pair_inv = np.unique(pair_codes, return_inverse=True)
    docs = [e_doc[e_term >= 0], t_doc[t_ok]]
    terms = [e_term[e_term >= 0], t_term[t_ok]]
    weights = [np.full(int((e_term >= 0).sum()), EXCERPT_WEIGHT), np.ones(int(t_ok.sum()))]
    if BIGRAM_WEIGHT and len(pair_ids):
        docs.append(b_doc_all[1:][same])
        terms.append(pair_inv.ravel() + width)
        weights.append(np.full(len(pair_inv), BIGRAM_WEIGHT))
    doc, term, weight = np.concatenate(docs), np.concatenate(terms), np.concatenate(weights)
    # Binary tf: a (doc, term) cell keeps its largest weight (a title word beats the same excerpt word).
    order = np.lexsort((-weight, term, doc))
    doc, term, weight = doc[order], term[order], weight[order]
    # (No term at all, e.g. every title "0": `first` must still match `doc` in length.)
    first = np.r_[np.ones(min(1, len(doc)), dtype=bool), (doc[1:] != doc[:-1]) | (term[1:] != term[:-1])]
    doc, term, weight = doc[first], term[first], weight[first]
    cols = max(1, width + len(pair_ids))
    m = sp.csr_matrix((weight.astype(np.float32), (doc, term)), shape=(n, cols))
    df = np.bincount(m.indices, minlength=cols)
    # Plain IDF over the corpus being clustered: a site about one subject has its subject's words
    # ("facial", "recognition", "police") in most articles, and they must weigh little, or every story on
    # the subject merges (a floor that treated small corpora as 1,000 documents did exactly that on the seeds).
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    m.data *= idf[m.indices]
    return normalize_rows(m)


def normalize_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """Scale each row to unit length (empty rows stay empty), so that a dot product is a cosine."""
    m = sp.csr_matrix(m)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1), dtype=np.float64).ravel())
    scale = 1.0 / np.maximum(norms, 1e-12)
    m.data = (m.data * np.repeat(scale, np.diff(m.indptr))).astype(np.float32)
    return m
