#!/usr/bin/env python3
"""Deterministic synthetic article corpus for feed-generator benchmarks.

    python3 make_corpus.py OUTDIR N [--format seed|markdown] [--seed S]
                                     [--seed-file PATH] [--end ISO8601]

Paragraphs and title vocabulary come from the sample article file
000_c5ae1000a567dda7.txt (found beside this script in ../seed/, or in
../../shared/seed/ or ../articles/ when the script is copied into a
project's bench/; --seed-file overrides).  Articles are spread evenly over
the five sections (article i -> SECTIONS[i % 5]); bodies are 2-6 KB of
shuffled seed paragraphs; titles are unique; dates are spread over the two
years before --end (fixed default, so output is byte-identical run to run).

--format seed      OUTDIR/NNNNNN.txt, one article per file in the seed
                   format: section line, title line, blank line, one
                   paragraph per line.  File mtime = article date.
--format markdown  OUTDIR/<section-slug>/NNNNNN-<slug>.md with a '---'
                   delimited front matter block that is both valid YAML
                   (Hugo) and Python-Markdown "meta" syntax (Pelican):
                   title, slug, date, category, section.  Paragraphs are
                   separated by blank lines.  File mtime = article date.
"""

import argparse
import datetime as dt
import os
import random
import re
import sys

SECTIONS = ["America", "Europe", "Middle East", "Asia", "Diplomacy"]
_HERE = os.path.dirname(os.path.abspath(__file__))
_SEED_NAME = "000_c5ae1000a567dda7.txt"
DEFAULT_SEED_FILE = next(
    (
        p
        for p in (
            os.path.join(_HERE, "..", "seed", _SEED_NAME),
            os.path.join(_HERE, "..", "..", "shared", "seed", _SEED_NAME),
            os.path.join(_HERE, "..", "articles", _SEED_NAME),
        )
        if os.path.exists(p)
    ),
    os.path.join(_HERE, "..", "seed", _SEED_NAME),
)
DEFAULT_END = "2025-07-15T12:00:00+00:00"
TWO_YEARS = 2 * 365 * 86400
MIN_BODY, MAX_BODY = 2000, 6000  # bytes (UTF-8) of body text


def parse_seed(path):
    """Return (paragraphs, titles) from the seed document.

    Articles: section line, title line, blank line, paragraphs (one per
    line) until the next section/title/blank triple.  Everything after the
    first line that is exactly '-' is the related-headlines block
    ('Europe2 weeks ago' + title); only its titles are kept (as extra
    title vocabulary).
    """
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    try:
        cut = lines.index("-")
    except ValueError:
        cut = len(lines)
    body, tail = lines[:cut], lines[cut:]
    paragraphs, titles = [], []
    i = 0
    while i < len(body):
        if (
            body[i] in SECTIONS
            and i + 2 < len(body)
            and body[i + 1].strip()
            and not body[i + 2].strip()
        ):
            titles.append(body[i + 1].strip())
            i += 3
            continue
        if body[i].strip():
            paragraphs.append(body[i].strip())
        i += 1
    for j, ln in enumerate(tail):
        if (
            ln.strip() == "-"
            and j + 2 < len(tail)
            and tail[j + 2].strip()
            and any(tail[j + 1].startswith(s) for s in SECTIONS)
        ):
            titles.append(tail[j + 2].strip())
    if not paragraphs:
        sys.exit(f"no paragraphs parsed from {path}")
    return paragraphs, titles


def title_vocab(titles):
    words = []
    for t in titles:
        for w in t.split():
            # keep titles safe as unquoted YAML scalars and as
            # Python-Markdown meta values: no ':', '#', ASCII quotes, etc.
            w = re.sub("[^\\w\u2019\u2018$%.,-]", "", w)
            w = w.strip(",.")
            if w and w not in words:
                words.append(w)
    return words


def slugify(s):
    s = s.lower().replace("\u2019", "").replace("\u2018", "")
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s[:60].rstrip("-") or "x"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("n", type=int)
    ap.add_argument("--format", choices=["seed", "markdown"], default="seed")
    ap.add_argument("--seed", type=int, default=20250715)
    ap.add_argument("--seed-file", default=DEFAULT_SEED_FILE)
    ap.add_argument(
        "--end", default=DEFAULT_END, help="newest possible date (ISO 8601, default %(default)s)"
    )
    a = ap.parse_args(argv)

    paragraphs, titles = parse_seed(a.seed_file)
    vocab = title_vocab(titles)
    psize = [len(p.encode("utf-8")) + 1 for p in paragraphs]
    end = int(dt.datetime.fromisoformat(a.end).timestamp())
    rng = random.Random(a.seed)
    os.makedirs(a.outdir, exist_ok=True)
    if a.format == "markdown":
        for s in SECTIONS:
            os.makedirs(os.path.join(a.outdir, slugify(s)), exist_ok=True)

    seen = set()
    total = 0
    width = max(6, len(str(a.n)))
    for i in range(a.n):
        section = SECTIONS[i % len(SECTIONS)]
        # unique title: 5-11 vocabulary words, first letter capitalised
        while True:
            words = rng.sample(vocab, rng.randint(5, 11))
            title = " ".join(words)
            title = title[0].upper() + title[1:]
            if title not in seen:
                seen.add(title)
                break
        # body: shuffled paragraphs until a random 2-6 KB target
        target = rng.randint(MIN_BODY, MAX_BODY)
        order = list(range(len(paragraphs)))
        rng.shuffle(order)
        body, size = [], 0
        for k in order:
            if size >= target:
                break
            if size + psize[k] > MAX_BODY and size >= MIN_BODY:
                continue
            body.append(paragraphs[k])
            size += psize[k]
        ts = end - rng.randrange(TWO_YEARS)
        date = dt.datetime.fromtimestamp(ts, dt.UTC)

        num = str(i).zfill(width)
        if a.format == "seed":
            path = os.path.join(a.outdir, num + ".txt")
            text = "{}\n{}\n\n{}\n".format(section, title, "\n".join(body))
        else:
            slug = f"{num}-{slugify(title)}"
            path = os.path.join(a.outdir, slugify(section), slug + ".md")
            text = (
                "---\ntitle: {}\nslug: {}\ndate: {}\ncategory: {}\nsection: {}\n---\n\n{}\n".format(
                    title, slug, date.isoformat(), section, section, "\n\n".join(body)
                )
            )
        data = text.encode("utf-8")
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (ts, ts))
        total += len(data)
    print(
        f"wrote {a.n} {a.format} articles ({total / 1e6:.1f} MB) to {a.outdir}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
