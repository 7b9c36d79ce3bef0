"""The public pages of published plans: /public/… in Vietnamese, /en/public/… in English.

The language is in the address rather than in the language cookie: a page is then the same
for every visitor of an address, so that browsers and shared caches may keep it.
"""

from django.urls import path, register_converter

from targets.views import public


class LanguagePrefix:
    """Nothing for Vietnamese (the default), ``en/`` for English."""

    regex = "(?:en/)?"

    def to_python(self, value: str) -> str:
        return "en" if value else "vi"

    def to_url(self, value: str) -> str:
        return "en/" if value == "en" else ""


register_converter(LanguagePrefix, "public_language")

app_name = "public"

urlpatterns = [
    path("<public_language:language>public/", public.plan_index, name="index"),
    path("<public_language:language>public/<str:plan>/", public.plan_page, name="plan"),
    path(
        "<public_language:language>public/<str:plan>/<str:code>/", public.target_page,
        name="target",
    ),
]
