"""Subtitle files (.srt, .vtt) -> plain transcript text.

pysubs2 does the parsing; around it we decode the bytes defensively, strip what pysubs2
keeps or mis-reads (WebVTT cue ids, NOTE/STYLE blocks, YouTube's inline word timestamps,
HTML-ish and ASS markup), and collapse the repeated lines of rolling auto-captions.
"""

from __future__ import annotations

import re
import unicodedata

import pysubs2

from tubetags.markup import strip_markup
from tubetags.openvocab.evidence import Segment

EXTENSIONS = {".srt": "srt", ".vtt": "vtt"}


class SubtitleError(ValueError):
    """The upload is not a usable subtitle file; the message says why (422)."""


# <00:00:01.319> word timings in YouTube auto-captions: pysubs2's parser takes them for cue times.
_INLINE_TIMESTAMP = re.compile(r"<(?:\d+:)?\d{2}:\d{2}[.,]\d{3}>")
_ASS_OVERRIDE = re.compile(r"\{\\[^}]*\}")  # {\an8}, {\i1}
_SPACES = re.compile(r"\s+")
_VTT_BLOCKS = ("NOTE", "STYLE", "REGION")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252; refuse binary data."""
    if not data:
        raise SubtitleError("The file is empty.")
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        if b"\x00" in data:
            raise SubtitleError("The file looks binary (it contains NUL bytes), not a text subtitle file.")
        encodings = ["utf-8", "cp1252"]  # cp1252: old SRTs; it leaves 5 bytes undefined, so it can fail
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SubtitleError("The file could not be decoded as text; save it as UTF-8.")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f")
    if "\x00" in text or controls > max(2, len(text) // 100):
        raise SubtitleError("The file looks binary (it is full of control characters), not a text subtitle file.")
    return text


def _prepare_vtt(text: str) -> str:
    """Drop WebVTT NOTE/STYLE/REGION blocks and cue identifiers, which pysubs2 would keep as text."""
    lines = text.splitlines()
    out: list[str] = []
    skipping = False
    for i, line in enumerate(lines):
        if not line.strip():
            skipping = False
            out.append(line)
            continue
        starts_block = i == 0 or not lines[i - 1].strip()
        if skipping or (starts_block and line.split(" ", 1)[0] in _VTT_BLOCKS):
            skipping = True
            continue
        if "-->" not in line and i + 1 < len(lines) and "-->" in lines[i + 1] and starts_block:
            continue  # a cue identifier
        out.append(line)
    return "\n".join(out)


def clean_line(line: str) -> str:
    """One caption line as plain text. Entities are decoded and markup stripped until neither is left
    (`strip_markup`), so `&lt;img ...&gt;` cannot come back as a live tag after decoding."""
    line = strip_markup(_ASS_OVERRIDE.sub("", line)).replace("\u200b", "")
    line = _SPACES.sub(" ", line).strip()
    return line.lstrip(">").strip() if line.startswith(">>") else line  # ">>" marks a new speaker


def transcript_from_subtitles(data: bytes, filename: str) -> str:
    """The spoken text of an .srt/.vtt file, one caption line per line, repeats collapsed."""
    return "\n".join(segment.text for segment in subtitle_segments(data, filename))


def subtitle_segments(data: bytes, filename: str) -> list[Segment]:
    """The caption lines of an .srt/.vtt file with their start times (s), repeats collapsed."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in EXTENSIONS:
        raise ValueError(f"unsupported extension {suffix!r}")  # callers check first; this is a guard
    text = _INLINE_TIMESTAMP.sub("", decode(data).replace("\r\n", "\n").replace("\r", "\n"))
    if text.lstrip("\ufeff").startswith("WEBVTT"):
        text = _prepare_vtt(text)
        fmt = "vtt"
    else:
        fmt = "srt"
    try:
        subs = pysubs2.SSAFile.from_string(text, format_=fmt)
    except Exception as exc:  # pysubs2 raises several types on malformed input
        raise SubtitleError(f"The file is not a valid {EXTENSIONS[suffix].upper()} subtitle file: {exc}") from exc
    if not len(subs):
        raise SubtitleError(f"No subtitle cues (timed lines) found: is this really a {suffix} file?")
    lines: list[Segment] = []
    for event in subs:
        if event.is_comment:
            continue
        for raw in event.plaintext.split("\n"):
            line = clean_line(raw)
            # Rolling auto-captions repeat the previous line at the top of each cue.
            if line and (not lines or line != lines[-1].text):
                lines.append(Segment(line, event.start / 1000))
    if not lines:
        raise SubtitleError("The subtitle file has cues but no text.")
    return lines
