"""Which of an article's images a page may show: the first one a browser can display.

Hot-linked publishers' images fail often (old URLs are gone, hosts refuse other sites); that is the
theme's to hide (static/site.js and the CSS). What can be known before a browser asks is the format:
a URL whose path names one that browsers do not display (TIFF, HEIC, JPEG 2000, camera raw, PDF ...)
is never shown. A URL without a telling extension is kept: most image CDNs name none.
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from .model import Article, Image

UNDISPLAYABLE = frozenset(
    {
        ".tif",
        ".tiff",
        ".heic",
        ".heif",
        ".jp2",
        ".j2k",
        ".jpx",
        ".jpf",
        ".jxr",
        ".wdp",
        ".hdp",
        ".psd",
        ".eps",
        ".ai",
        ".pdf",
        ".raw",
        ".cr2",
        ".cr3",
        ".nef",
        ".arw",
        ".dng",
        ".orf",
        ".rw2",
        ".xcf",
        ".exr",
        ".dds",
        ".mp4",
        ".webm",
        ".mov",
        ".m4v",
        ".html",
        ".htm",
    }
)


def displayable(image: Image) -> bool:
    ext = posixpath.splitext(urlsplit(image.url).path.lower())[1]
    return ext not in UNDISPLAYABLE


def shown_image(article: Article) -> Image | None:
    """The image a card or a story's header shows for `article`, if any."""
    return next((i for i in article.images if displayable(i)), None)
