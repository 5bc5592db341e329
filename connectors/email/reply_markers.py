"""How mail clients mark quoted history, per language: the data ``quoting`` reads.

Each table is words, not code: adding a language means adding its words here.
Sources are the shapes the clients write (Outlook desktop and web, Gmail, Apple
Mail, Thunderbird, Foxmail, QQ Mail, NetEase) in English, German, French,
Spanish, Swedish, Dutch, Italian, Chinese (simplified and traditional) and
Japanese. Colons may be ASCII or full-width (U+FF1A), with a space before them
(French), and wrapped in ``*`` (a bold header turned into text).
"""

from __future__ import annotations

import re

# "-----Original Message-----", Foxmail/QQ "------------------ 原始邮件 ------------------"
ORIGINAL_MESSAGE_WORDS = (
    "original message",
    "original",  # Foxmail in English: "------------------ Original ------------------"
    "ursprüngliche nachricht",
    "original-nachricht",
    "message d'origine",
    "mensaje original",
    "ursprungligt meddelande",
    "oorspronkelijk bericht",
    "messaggio originale",
    "原始邮件",
    "原始郵件",
    "邮件原件",
    "原始信件",
    "元のメッセージ",
)

# an Outlook-style header block: a From line, then (within a few lines) two more of these
HEADER_FROM = (
    "from", "von", "de", "van", "da", "från",
    "发件人", "發件人", "寄件者", "寄件人", "差出人", "送信者",
)  # fmt: skip
HEADER_OTHERS = (
    "sent", "date", "to", "subject", "cc",
    "gesendet", "datum", "an", "betreff",
    "envoyé", "à", "objet",
    "enviado", "enviado el", "fecha", "para", "asunto",
    "skickat", "till", "ämne", "kopia",
    "verzonden", "aan", "onderwerp",
    "inviato", "a", "oggetto",
    "发送时间", "發送時間", "时间", "時間", "日期", "寄件日期", "收件人", "收件者",
    "主题", "主題", "主旨", "抄送", "副本",
    "送信日時", "日時", "宛先", "件名",
)  # fmt: skip

# a line introducing a quote ("On ... wrote:"), one regular expression per client shape
ATTRIBUTIONS = (
    r"(on|op|il)\s.+\s(wrote|schreef|ha scritto)\s?:",
    r"am\s.+\sschrieb(\s.+)?:",  # German names follow "schrieb"
    r"le\s.+\sa\s+écrit\s?:",
    r"el\s.+\sescribió\s?:",
    r"(den\s)?.{0,80}\d.{0,80}\sskrev\s.+:",  # Swedish: "Den lör 6 dec. 2026 kl 06:59 skrev"
    r"(在|於|于)?.{0,200}\d.{0,200}(写道|寫道)\s?[:\uff1a]",  # Gmail, Apple Mail, NetEase
    r"\d{4}[年/.-].{0,200}<[^<>\s]+@[^<>\s]+>\s?[:\uff1a]",  # Gmail in Japanese
    r".{0,200}\d.{0,200}(のメール|さんは書きました)\s?[:\uff1a]",  # Apple Mail, Thunderbird (ja)
)
# the short form some clients write ("ana@example.com wrote:"); tried after the others,
# so that the end of a wrapped attribution is not taken for a whole one
ADDRESS_WROTE = re.compile(
    r"^.{0,100}<?[^\s<>]+@[^\s<>]+>?\s(wrote|schrieb|a écrit|escribió|skrev)\s?:$",
    re.IGNORECASE,
)

# what phones and webmail add below the text
TRAILERS = (
    r"sent from my \w+( \w+)?",
    r"sent from (mail|outlook|yahoo mail) for \w+",
    r"get outlook for \w+",
    r"von meinem \w+ gesendet",
    r"outlook für \w+ beziehen",
    r"envoyé de mon \w+",
    r"obtenir outlook pour \w+",
    r"enviado desde mi \w+",
    r"obtener outlook para \w+",
    r"skickat från min \w+",
    r"hämta outlook för \w+",
    r"发自我的\s?\S+",
    r"从我的\s?\S+\s?发送",
    r"從我的\s?\S+\s?傳送",
    r"发自网易邮箱(大师)?",
    r"获取\s?outlook for \w+",
    r"\S+から送信",
    r"outlook for \w+ を入手",
)

_COLON = r"\s?\*?\s?[:\uff1a]\*?(?:&nbsp;)?"


def _words(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_SPACE = r"(?:\s|&nbsp;)*"  # QQ Mail's text part keeps HTML's &nbsp; as it is
ORIGINAL_MESSAGE = re.compile(
    rf"^{_SPACE}[-_]{{2,}}{_SPACE}({_words(ORIGINAL_MESSAGE_WORDS)}){_SPACE}[-_]{{2,}}{_SPACE}$",
    re.IGNORECASE,
)
HEADER_FROM_LINE = re.compile(r"^\s*\*?(" + _words(HEADER_FROM) + ")" + _COLON + r"\s*\S", re.I)
HEADER_OTHER_LINE = re.compile(
    r"^\s*\*?(" + _words(HEADER_OTHERS) + ")" + _COLON + r"\s*\S", re.IGNORECASE
)
ATTRIBUTION = re.compile(r"^(" + "|".join(ATTRIBUTIONS) + r")$", re.IGNORECASE)
TRAILER = re.compile(r"^\s*(" + "|".join(TRAILERS) + r")\.?\s*$", re.IGNORECASE)
