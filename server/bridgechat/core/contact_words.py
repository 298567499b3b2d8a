"""The words the contact check (core/contact.py) knows, in the deck's languages: data only.

Messengers' names, "dot" and "at" as words, mail providers, messengers' invitation
hosts, and the words that look like names or domains but are not ("@home", "the dot").
"""

from __future__ import annotations

# Messengers' names, "dot" in the deck's languages and mail providers (for "x at gmail"),
# in lower case: any of them, or a mark, opens the slower checks.
PLATFORM_WORDS = (
    "insta", "snap", "teleg", "discord", "tiktok", "whats", "viber", "facebook", "twitter", "ig:",
    "skype", "kik", "wechat", "messenger", "youtube", "reddit", "twitch", "onlyfans", "linkedin",
    "tik tok", "tg:", "fb:", "sc:")

PLATFORM_WORDS_OTHER = (
    "інст", "инст", "телег", "тг", "вайбер", "вотсап", "ватсап", "вацап", "дискорд",
    "тікток", "тикток", "снеп", "снап", "фейсбук", "твітер", "твиттер", "انست", "إنست",
    "سناب", "تلغرام", "تليجرام", "تلجرام", "تيليجرام", "واتس", "ديسكورد", "تيك", "فيس",
    "تويتر", "فايبر")

DOT_WORDS = ("dot", "punkt", "point", "punto", "kropka", "крапка", "точка", "نقطة", "دوت")

MARKS = ("@", "#", "_", "(.", "[.", "www", "u/", "mail", "yahoo", "icloud", "gmx")

# What the prefilter looks for in an ASCII text, lower case: the marks, platforms and dots,
# and a dot before a letter (".com"), so that one automaton pass finds them all.
ASCII_WORD_LIST = (*MARKS, *PLATFORM_WORDS, *DOT_WORDS[:5],
                   *(f".{c}" for c in "abcdefghijklmnopqrstuvwxyz"))
WORD_LIST = (*MARKS, *PLATFORM_WORDS, *DOT_WORDS, *PLATFORM_WORDS_OTHER)  # in any text

# Words after '@' or "my insta is" that are not names ("see you @home", "it's private").
NOT_NAMES = frozenset((
    "home", "work", "school", "uni", "college", "office", "night", "noon", "midnight", "lunch",
    "dinner", "breakfast", "the", "my", "your", "his", "her", "our", "their", "a", "an", "all",
    "everyone", "here", "someone", "this", "that", "once", "least", "last", "first", "private",
    "public", "dead", "down", "empty", "boring", "closed", "deleted", "gone", "inactive", "old",
    "new", "full", "just", "only", "not", "mostly", "really", "so", "very", "on", "off", "blocked",
    "banned", "hacked", "broken", "weird", "fine", "ok", "okay", "great", "never", "nope", "yes",
    "no", "none", "nothing", "lol", "haha", "useless", "privat", "tot", "leer", "nur", "nicht",
    "gelöscht", "privé", "vide", "privado", "privada", "vacío", "solo", "inte", "tom", "prywatny",
    "pusty", "martwy", "me", "you", "him", "us", "them", "it", "cool", "nice", "trend", "video",
    "videos", "story", "stories", "reel", "reels", "live", "online", "offline", "like", "likes",
    "follow", "followers", "post", "posts", "app", "account", "group", "chat", "channel", "page",
    "profile", "feed", "stream"))

GENERIC_TLDS = (
    "com", "net", "org", "info", "biz", "edu", "gov", "pro", "name", "asia", "travel", "app",
    "dev", "xyz", "online", "site", "website", "store", "shop", "blog", "club", "live", "top",
    "link", "page", "design", "studio", "tech", "space", "cloud", "рф", "укр")

INVITES = frozenset((  # a link to one, with a path, is an invitation or profile: a handle
    "wa.me", "t.me", "telegram.me", "telegram.dog", "discord.gg", "discord.com", "m.me",
    "ig.me", "snapchat.com", "chat.whatsapp.com", "signal.me", "viber.click", "line.me",
    "instagram.com", "tiktok.com", "facebook.com", "fb.com", "twitter.com", "x.com"))

PROVIDERS = ("gmail", "googlemail", "hotmail", "outlook", "yahoo", "icloud", "gmx", "web",
             "posteo", "yandex", "proton", "protonmail", "wp", "onet", "interia", "o2", "ukr")

# Short words before "dot" or "point" in sentences ("the dot in", "ce point de vue",
# "mi punto de vista"), never the domain of an address.
NOT_DOMAINS = frozenset((
    "a", "an", "the", "my", "your", "his", "her", "our", "their", "this", "that", "on", "at", "in",
    "of", "to", "by", "it", "its", "is", "be", "we", "me", "us", "i", "you", "he", "she", "they",
    "am", "are", "was", "were", "been", "im", "worked", "work", "works", "working", "le", "la",
    "les", "un", "une", "du", "de", "des", "ce", "cet", "cette", "mon", "ton", "son", "ma", "ta",
    "sa", "notre", "votre", "leur", "el", "los", "las", "una", "mi", "tu", "su", "este", "ese",
    "esta", "esa", "der", "die", "das", "ein", "eine", "dem", "den", "mein", "dein", "sein",
    "kein", "en", "ett", "min", "din", "sin", "ten", "mój", "twój", "na"))
