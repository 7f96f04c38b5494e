"""What the text of a request must be before a model sees it: plain text, with enough words to tag.

- Markup goes first, before anything else looks at the text (`tubetags.markup.strip_markup`): tags, script and
  style content, entities decoded (also when encoded twice).
- Then the words: a transcript with fewer than TUBETAGS_MIN_WORDS real words (runs of letters; emoji, digits and
  symbols are not words) is answered 422, never with tags the model would invent for it.
- Scripts written without spaces: Chinese is cut into words (`tubetags.segmentation`, rjieba); Japanese, Thai,
  Lao, Khmer, Burmese and Tibetan have no segmenter here, so a transcript mostly in them is answered 422 saying
  the language is not supported, instead of returning whole clauses as tags.
"""

from __future__ import annotations

from django.conf import settings

from api.errors import ApiError
from tubetags.markup import strip_markup
from tubetags.segmentation import real_words, unsupported_script


def plain_text(text: str | None) -> str | None:
    """Optional text (title, description) without markup; None when nothing is left."""
    if text is None:
        return None
    stripped = strip_markup(text).strip()
    return stripped or None


def check_readable(transcript: str) -> None:
    """422 for a transcript (markup already stripped) in an unsupported script or with too few words."""
    script = unsupported_script(transcript)
    if script:
        raise ApiError(
            422,
            f"{script} is not supported: it is written without spaces between words and tubetags has no word "
            "segmenter for it (Chinese and languages written with spaces are supported).",
            script=script,
        )
    found = len(real_words(transcript))
    if found < settings.TUBETAGS_MIN_WORDS:
        raise ApiError(
            422,
            f"The transcript has {found} word(s) once markup, emoji, digits and symbols are left out; at least "
            f"{settings.TUBETAGS_MIN_WORDS} are needed to suggest tags.",
            words=found,
            min_words=settings.TUBETAGS_MIN_WORDS,
        )
