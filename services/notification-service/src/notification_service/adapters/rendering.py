"""Templates (maler) in Jinja2: the shipped defaults in nb and en, or a tenant's own.

Every template runs in Jinja's sandbox (a tenant's template is code written by someone
else), with undefined variables as errors, and sees only a ``MessageContext``. The HTML part
is autoescaped; subject, text and SMS are plain text. A subject is one header line: one with
a line break is refused when stored and stripped when rendered.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

from notification_service.domain.headers import has_line_break, header_safe
from notification_service.domain.messages import TEMPLATE_NAMES, MessageContext, sample_context
from notification_service.domain.vocabulary import LANGUAGES, Language

MAX_SMS_CHARS = 480  # three concatenated SMS segments


class TemplateInvalid(ValueError):
    """A template cannot be stored: why, in words safe to show to the tenant."""


@dataclass(frozen=True)
class TemplateText:
    """The source of one template in one language: four parts."""

    subject: str
    text: str
    html: str
    sms: str


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    sms: str


class Renderer:
    """Renders templates; knows the defaults and checks a tenant's before it is stored."""

    def __init__(self) -> None:
        common = {"undefined": StrictUndefined, "trim_blocks": True, "lstrip_blocks": True}
        self._plain = SandboxedEnvironment(autoescape=False, **common)
        self._html = SandboxedEnvironment(autoescape=True, **common)
        self._defaults = _load_defaults()

    def default(self, name: str, language: Language) -> TemplateText:
        """The shipped template; ``KeyError`` for an unknown name."""
        return self._defaults[(name, language)]

    def render(self, template: TemplateText, context: MessageContext) -> RenderedMessage:
        """The message; raises (``jinja2.TemplateError`` …) when the template does not render."""
        values = context.as_dict()
        return RenderedMessage(
            subject=header_safe(self._compile(False, template.subject).render(values)),
            text=self._compile(False, template.text).render(values).strip() + "\n",
            html=self._compile(True, template.html).render(values).strip() + "\n",
            sms=" ".join(self._compile(False, template.sms).render(values).split())[:MAX_SMS_CHARS],
        )

    def check(self, template: TemplateText) -> None:
        """Refuse a template that would inject headers or does not render in both languages."""
        if has_line_break(template.subject):
            raise TemplateInvalid("the subject must be one line (no CR or LF)")
        for language in LANGUAGES:
            try:
                self.render(template, sample_context(language))
            except Exception as error:  # whatever a tenant's template does wrong, refuse it
                raise TemplateInvalid(f"the template does not render: {error}") from None

    @lru_cache(maxsize=512)  # noqa: B019 - one renderer lives as long as the service
    def _compile(self, html: bool, source: str) -> Template:
        return (self._html if html else self._plain).from_string(source)


def _load_defaults() -> dict[tuple[str, Language], TemplateText]:
    defaults: dict[tuple[str, Language], TemplateText] = {}
    folder = files("notification_service") / "templates"
    for language in LANGUAGES:
        parsed = tomllib.loads((folder / f"{language}.toml").read_text(encoding="utf-8"))
        for name in TEMPLATE_NAMES:
            defaults[(name, language)] = TemplateText(**parsed[name])
    return defaults
