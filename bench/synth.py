"""Synthetic inputs for the benchmarks: varied policy-like text and a large taxonomy.

Everything is generated from a seed, so two runs measure the same input.
"""

from __future__ import annotations

import json
import random
import re
import textwrap
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml


def _words(text: str) -> list[str]:
    return text.split()


COMMON = _words("""
the of and to in a is that for on with as by be are this will it at from or an which has
have was their its not been were but more also all can new other into these our than they
we such between both under through over must should would could may most each further
including within across while well where when who whose there those them then only about
""")

POLICY = _words("""
development cooperation government policy economic countries region regional support
national international growth investment trade energy infrastructure digital finance
partners agreement bilateral sector sectors industry industrial markets market capacity
projects project programme framework strategy sustainable security technology innovation
services financial public private exports imports supply production manufacturing
transport ports logistics power grid renewable solar wind oil gas minerals mining
agriculture food health education skills workers jobs employment standards regulation
institutions dialogue mechanism mutual benefit shared prosperity connectivity corridor
network networks data platforms banks credit loans bonds currency settlement tariffs
customs duties procurement competition reform reforms ministers summit declaration plan
""")

SYLLABLES = _words("""
ka ro bel tu na vi mo ra sen di lo pa ze qui fa nor st el an ter ul ix om ba re cha gu
""")

TERMS = """
free trade agreement|foreign direct investment|supply chain|renewable energy|power grid|
electric vehicles|digital economy|5G networks|artificial intelligence|industrial parks|
local currency settlement|development finance|green bonds|tariffs|WTO rules|
semiconductor plants|critical minerals|e-commerce|market access|energy security
""".replace("\n", "").split("|")


def _word(rng: random.Random) -> str:
    return "".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))


def _fresh(rng: random.Random) -> str:
    """A token that is probably new: a name, a number, an amount or a code."""
    kind = rng.random()
    if kind < 0.5:
        return _word(rng).capitalize()
    if kind < 0.7:
        return f"{rng.randint(1, 999_999):,}"
    if kind < 0.85:
        return f"${rng.randint(1, 999)}.{rng.randint(0, 9)}bn"
    return f"{_word(rng)[:2].upper()}-{rng.randint(100, 99_999)}"


def sentence(rng: random.Random) -> str:
    """One sentence: common and policy words, sometimes a term, a fresh token or a number."""
    n = rng.randint(8, 30)
    words = rng.choices(COMMON, k=n // 2) + rng.choices(POLICY, k=n - n // 2)
    rng.shuffle(words)
    for _ in range(rng.randint(0, 2)):
        words.insert(rng.randrange(len(words)), _fresh(rng))
    if rng.random() < 0.25:
        words.insert(rng.randrange(len(words)), rng.choice(TERMS))
    if rng.random() < 0.3:
        words[rng.randrange(1, len(words))] += ","
    end = rng.choices([".", ".", ".", "?", ";"], k=1)[0]
    return words[0].capitalize() + " " + " ".join(words[1:]) + end


def document(rng: random.Random, size: int) -> str:
    """A document of about ``size`` characters: headings, paragraphs and bullets."""
    parts: list[str] = []
    total = 0
    while total < size:
        roll = rng.random()
        if roll < 0.1:
            block = " ".join(w.capitalize() for w in rng.choices(POLICY, k=rng.randint(2, 6)))
        elif roll < 0.25:
            block = "\n".join("- " + sentence(rng) for _ in range(rng.randint(2, 5)))
        else:
            block = " ".join(sentence(rng) for _ in range(rng.randint(2, 8)))
        parts.append(block)
        total += len(block) + 2
    return "\n\n".join(parts)


def documents(seed: int, total_chars: int, *, mean_size: int = 4000) -> Iterator[str]:
    """Varied documents whose sizes add up to about ``total_chars``."""
    rng = random.Random(seed)
    made = 0
    while made < total_chars:
        text = document(rng, int(rng.uniform(0.2, 1.8) * mean_size))
        made += len(text)
        yield text


def write_jsonl(path: Path, seed: int, total_bytes: int) -> int:
    """Write varied documents as JSON Lines (``id``, ``text``); return the bytes written."""
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for n, text in enumerate(documents(seed, total_bytes)):
            line = json.dumps({"id": f"doc-{n}", "text": text}, ensure_ascii=False) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            if written >= total_bytes:
                break
    return written


def large_taxonomy(texts: Sequence[str], n_terms: int, seed: int, *, dense: bool = False) -> str:
    """YAML of the default taxonomy grown to ``n_terms`` terms with generated ones.

    The generated terms go into 10 new topics of 10 sub-topics. Sparse (the
    default), like a large thesaurus whose extra entries are rarely met: 70%
    two-word phrases of any two corpus words (most pairs never meet, but every
    word occurs, so the prefilter must check them), 20% single words and 5%
    wildcards that are not in the corpus, 5% such words with a context rule.
    Dense: 30% of the terms are single corpus words (past its 3,000 most
    common), so most sentences get tagged many times over.
    """
    rng = random.Random(seed)
    counts = Counter(w for t in texts for w in re.findall(r"[a-z]{4,}", t.lower()))
    ranked = [w for w, _ in counts.most_common()]
    common, rare = ranked[300:20_300] or ranked, ranked[3000:] or ranked
    base = yaml.safe_load(
        (Path(__file__).resolve().parent.parent / "taxonomies" / "default.yaml").read_text(
            encoding="utf-8"
        )
    )
    have = _count_terms(base["topics"])
    terms: list[object] = []
    seen: set[str] = set()
    tries = 0
    while len(terms) < n_terms - have:
        tries += 1
        if tries > 50 * n_terms:
            raise ValueError(f"the corpus has too few words for {n_terms} distinct terms")
        roll = rng.random()
        single = rng.choice(rare) if dense else _word(rng) + _word(rng)
        term: object
        if roll < (0.6 if dense else 0.7):
            key = term = f"{rng.choice(common)} {rng.choice(common)}"
        elif roll < 0.9:
            key = term = single
        elif roll < 0.95:
            if len(single) < 7:
                continue
            key = term = f"{single[:6]}*"
        else:
            key = single
            term = {"term": single, "near": [rng.choice(common) for _ in range(3)]}
        if key in seen:
            continue
        seen.add(key)
        terms.append(term)
    topics = dict(base["topics"])
    per_topic = len(terms) // 10
    for t in range(10):
        chunk = terms[t * per_topic : (t + 1) * per_topic if t < 9 else len(terms)]
        per_sub = len(chunk) // 10
        topics[f"generated_{t}"] = {
            "label": f"Generated {t}",
            "subtopics": {
                f"sub_{s}": {
                    "label": f"Sub {t}.{s}",
                    "terms": chunk[s * per_sub : (s + 1) * per_sub if s < 9 else len(chunk)],
                }
                for s in range(10)
            },
        }
    data = {**base, "name": "large", "topics": topics}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def _count_terms(topics: dict[str, dict[str, object]]) -> int:
    total = 0
    for topic in topics.values():
        listed = topic.get("terms") or []
        total += len(listed) if isinstance(listed, list) else 0
        subtopics = topic.get("subtopics") or {}
        total += _count_terms(subtopics) if isinstance(subtopics, dict) else 0
    return total


def pdf(pages: Sequence[Sequence[str]]) -> bytes:
    """A minimal valid PDF: each page shows its lines in Helvetica, one under another."""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "",  # the page tree, once the pages are numbered
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for lines in pages:
        shown = " ".join(
            "("
            + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            + ") Tj 0 -14 Td"
            for line in lines
        )
        content = f"BT /F1 11 Tf 72 760 Td {shown} ET".encode("latin-1", "replace")
        objects.append(
            f"<< /Length {len(content)} >>\nstream\n{content.decode('latin-1')}\nendstream"
        )
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {len(objects)} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>"
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1", "replace")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


def write_pdfs(folder: Path, seed: int, n_files: int, pages: int) -> int:
    """``n_files`` PDFs of ``pages`` pages of varied text (50 lines of 90 characters a page)."""
    rng = random.Random(seed)
    written = 0
    for k in range(n_files):
        lines = textwrap.wrap(document(rng, pages * 50 * 90), 90)
        written += (folder / f"paper-{k:04d}.pdf").write_bytes(
            pdf([lines[i : i + 50] for i in range(0, len(lines), 50)][:pages])
        )
    return written
