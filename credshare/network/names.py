"""Organization names compared as people read them.

Two names that a learner would take for the same organization have the same key: capitals,
accents, the Unicode spelling of an accented letter (composed or decomposed), compatibility
forms (full-width letters, ligatures), invisible format characters (zero-width spaces, soft
hyphens), punctuation and runs of spaces do not count. "École Imaginaire", "ecole
imaginaire", "ÉCOLE  IMAGINAIRE" and "Ecole-Imaginaire" are one name."""

import unicodedata


def name_key(name: str) -> str:
    """NAME's comparison key: casefolded, without accents, format characters or
    punctuation, its words separated by one space."""
    # Decompose (compatibility forms too) before and after casefolding: casefold can
    # produce a letter with a combining mark ("İ" → "i̇"), which the second pass splits.
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category.startswith("M") or category == "Cf":  # accents, invisible characters
            continue
        # Letters and digits stay; punctuation, symbols, separators and controls separate.
        kept.append(char if category[0] in "LN" else " ")
    return " ".join("".join(kept).split())
