# Pelican settings for the benchmark's peer site: the same URLs and pages as Newsstand's.
# Tags are topics, authors are the outlets covering a story; no categories, archives or static pages.
SITENAME = "Newsstand"
SITEURL = "https://example.org"
PATH = "content"
OUTPUT_PATH = "output"
THEME = "theme"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%d %b %Y %H:%M"
RELATIVE_URLS = False

# Only the outputs Newsstand has.
DIRECT_TEMPLATES = ["index", "tags", "authors"]
PAGINATED_TEMPLATES = {"index": None, "tag": None, "author": None}
DEFAULT_PAGINATION = 20
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)
ARTICLE_URL = "stories/{slug}/"
ARTICLE_SAVE_AS = "stories/{slug}/index.html"
TAG_URL = "topics/{slug}/"
TAG_SAVE_AS = "topics/{slug}/index.html"
TAGS_URL = "topics/"
TAGS_SAVE_AS = "topics/index.html"
AUTHOR_URL = "providers/{slug}/"
AUTHOR_SAVE_AS = "providers/{slug}/index.html"
AUTHORS_URL = "providers/"
AUTHORS_SAVE_AS = "providers/index.html"
CATEGORY_URL = ""
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
PAGE_SAVE_AS = ""
PAGE_LANG_SAVE_AS = ""
ARTICLE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = ""
DRAFT_LANG_SAVE_AS = ""
STATIC_PATHS = []

# Atom feeds like Newsstand's: the front page, each topic, each outlet; 50 entries.
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feed.xml"
TAG_FEED_ATOM = "topics/{slug}/feed.xml"
AUTHOR_FEED_ATOM = "providers/{slug}/feed.xml"
AUTHOR_FEED_RSS = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
FEED_MAX_ITEMS = 50

# Content cache: what a Pelican user turns on for fast rebuilds (cold runs delete it).
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
CHECK_MODIFIED_METHOD = "mtime"
DELETE_OUTPUT_DIRECTORY = False
