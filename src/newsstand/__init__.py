"""Newsstand: a static news-aggregator site generator."""

__version__ = "0.1.0"
