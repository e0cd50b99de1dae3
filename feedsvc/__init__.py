"""feedsvc: article files in, Atom, RSS and JSON Feed out."""

__version__ = "0.1.0"
