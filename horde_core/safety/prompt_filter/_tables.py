"""Character tables for normalisation: look-alikes, invisibles, leetspeak, transliteration, emoji.

Kept apart from the logic so the tables can grow without the code getting harder to read.  Every
mapping targets what a human reader would see, which is what an abuser relies on.
"""

# ruff: noqa: RUF001, RUF003  (look-alike characters are the whole point of this module)

from __future__ import annotations

# --- Single characters folded before matching (case-sensitive: uppercase Greek H looks like H, lowercase
# eta looks like n).  Cyrillic is NOT here: Russian words are matched too, so Cyrillic is handled per token.
_PAIRS = {
    # Latin letters that NFKD does not decompose
    "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ħ": "h", "Ħ": "h", "ı": "i", "ŧ": "t",
    "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ß": "ss", "ẞ": "ss", "þ": "th", "Þ": "th", "ð": "d",
    "ƙ": "k", "ƈ": "c", "ɓ": "b", "ɗ": "d", "ƒ": "f", "ɠ": "g", "ɦ": "h", "ɨ": "i", "ʝ": "j", "ɱ": "m",
    "ɲ": "n", "ɵ": "o", "ʠ": "q", "ʂ": "s", "ƭ": "t", "ʋ": "v", "ƴ": "y", "ȥ": "z", "ɀ": "z",
    # IPA and "upside-down text" letters
    "ɑ": "a", "ɐ": "a", "ɒ": "a", "ǝ": "e", "ə": "e", "ɛ": "e", "ɡ": "g", "ƃ": "g", "ɥ": "h", "ɪ": "i",
    "ɩ": "i", "ʞ": "k", "ɯ": "m", "ɹ": "r", "ɾ": "r", "ʇ": "t", "ʌ": "v", "ʍ": "w", "ʎ": "y", "ɔ": "c",
    "ɟ": "f", "ʃ": "s", "ʒ": "z", "ʊ": "u",
    # small capitals
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ᴊ": "j", "ᴋ": "k",
    "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ǫ": "q", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u",
    "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    # Greek capitals that look Latin, then lowercase look-alikes
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n", "Ο": "o",
    "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x", "Ϲ": "c", "Ϳ": "j", "Δ": "d", "Ω": "o", "Σ": "e", "Π": "n",
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "σ": "o", "ς": "s", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "μ": "u", "ϲ": "c", "ϳ": "j",
    "θ": "o", "ϱ": "p", "ϰ": "k",
    # Armenian and Cherokee look-alikes
    "օ": "o", "ս": "u", "ո": "n", "հ": "h", "ց": "g", "զ": "q", "ա": "w", "ք": "p", "Տ": "s", "Ս": "u",
    "Ꭺ": "a", "Ᏼ": "b", "Ꮯ": "c", "Ꭰ": "d", "Ꭼ": "e", "Ꮐ": "g", "Ꮋ": "h", "Ꭵ": "i", "Ꭻ": "j", "Ꮶ": "k",
    "Ꮮ": "l", "Ꮇ": "m", "Ꮲ": "p", "Ꮪ": "s", "Ꭲ": "t", "Ꮩ": "v", "Ꮃ": "w", "Ꮤ": "w", "Ꮓ": "z",
    # punctuation that separates like a space or a hyphen
    "・": " ", "·": " ", "•": " ", "‧": " ", "∙": " ", "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-",
    "―": "-", "−": "-", "＿": "_", "ǀ": "l", "¡": "i", "ℓ": "l", "¢": "c", "©": "c", "®": "r",
    "♀": " ", "♂": " ", "⚧": " ",
}
CHAR_MAP: dict[str, str] = dict(_PAIRS)

# Letters whose accent makes a different letter that a term list relies on (Spanish "niña" vs "Nina").
KEEP_ACCENTED = frozenset("ñÑ")

# Fillers that render as nothing but are letters or symbols, so Unicode categories alone miss them.
_INVISIBLE = frozenset({0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x1D159, 0x133FC, 0x1D455})


def is_invisible(code: int) -> bool:
    """True for code points that draw nothing (Hangul fillers, braille blank, ...)."""
    return code in _INVISIBLE


# --- Emoji that carry meaning in a prompt.  Each maps to a word in the term lists; weights live in the
# term data, so an eggplant emoji is a weak hint, not a verdict ("a kid eating an eggplant 🍆").
EMOJI_WORDS: dict[str, str] = {
    "👶": "baby", "🧒": "child", "👧": "child", "👦": "child", "🚸": "child", "👼": "emojicherub",
    "🍼": "emojibottle", "🧸": "emojiteddy", "🎒": "emojibackpack", "🏫": "school", "🪀": "emojitoy",
    "🍆": "emojieggplant", "🍑": "emojipeach", "💦": "emojidroplets", "🔞": "nsfw", "👅": "emojitongue",
    "👙": "bikini", "🩲": "underwear", "👄": "emojilips", "🫦": "emojibitinglip", "🥵": "emojihotface",
    "💋": "emojikiss", "🍒": "emojicherries", "🌭": "emojihotdog", "🥒": "emojicucumber", "🤤": "emojidrool",
    "😈": "emojidevil", "🔥": "emojifire", "🌶": "emojipepper", "🍌": "emojibanana", "🌮": "emojitaco",
    "👩": "woman", "👨": "man", "🧑": "person", "🧓": "elderly", "👴": "old man", "👵": "old woman",
    "🧔": "beard", "👱": "person", "💃": "woman", "🤰": "pregnant", "🫃": "pregnant",
}

# --- Leetspeak.  Two readings: "1" is i or l, "6" is g or b; the caller tries both.
_LEET_COMMON = {"0": "o", "2": "z", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a",
                "$": "s", "!": "i", "|": "l", "€": "e", "£": "l", "¥": "y"}
LEET_A = str.maketrans({**_LEET_COMMON, "1": "i", "6": "g"})
LEET_B = str.maketrans({**_LEET_COMMON, "1": "l", "6": "b"})
LEET_SURE = str.maketrans(_LEET_COMMON)  # everything but the ambiguous 1 and 6
LEET_AMBIGUOUS = {"1": "il", "6": "gb"}

# Latin letters and digits that pass for Cyrillic inside a Russian word ("гoлая" with a Latin o).
LATIN_AS_CYRILLIC = str.maketrans({
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "n": "п", "o": "о", "p": "р", "r": "г",
    "t": "т", "u": "и", "x": "х", "y": "у", "3": "з", "4": "ч", "6": "б", "0": "о",
})

# Letters drawn with two or three characters ("|_0|_1"); replaced before the word is split on punctuation.
MULTI_CHAR_LEET = {"|_": "l", "|<": "k", "|\\|": "n", "/\\": "a", "\\/": "v", "|-|": "h", "(_)": "u", "|)": "d",
                   "><": "x"}

# --- Cyrillic.  Look-alikes for mixed-script tokens ("сhild" with a Cyrillic с) ...
CYRILLIC_HOMOGLYPHS = str.maketrans({
    "А": "a", "В": "b", "Е": "e", "Ё": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c",
    "Т": "t", "Х": "x", "У": "y", "Ѕ": "s", "І": "i", "Ј": "j", "Ԁ": "d", "Ԛ": "q", "Ԝ": "w", "Ү": "y",
    "Ӏ": "l", "З": "3", "Ь": "b", "Б": "6",
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "х": "x", "у": "y", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y",
    "һ": "h", "ӏ": "l", "ь": "b", "ъ": "b", "п": "n", "г": "r", "и": "u", "б": "6", "з": "3", "ч": "4",
    "ԍ": "g", "ɡ": "g", "ї": "i", "й": "u",
})
# ... and transliteration for real Russian ("девочка" -> "devochka"), so Latin-typed Russian matches too.
CYRILLIC_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ѕ": "s", "ј": "j",
})
