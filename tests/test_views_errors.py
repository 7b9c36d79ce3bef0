"""Error pages (DEBUG off): the layout with its navigation, in the user's language."""

import pytest
from django.template import loader
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "title", "reason"),
    [("vi", "Không được phép", "Danh sách chờ duyệt chỉ dành cho lãnh đạo."),
     ("en", "Not allowed", "The review queue is for managers.")],
)
def test_forbidden_shows_the_layout_and_the_reason(client, people, language, title, reason):
    client.force_login(people["staff"])
    client.cookies["django_language"] = language
    response = client.get(reverse("targets:review"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="navbar' in html and f'lang="{language}"' in html
    assert title in html and reason in html


@pytest.mark.parametrize(
    ("language", "title"), [("vi", "Không tìm thấy trang"), ("en", "Page not found")]
)
def test_not_found_shows_the_layout(client, people, language, title):
    client.force_login(people["staff"])
    client.cookies["django_language"] = language
    for url in (reverse("targets:target", args=["NOPE"]), "/no/such/page/"):
        response = client.get(url)
        assert response.status_code == 404
        html = response.content.decode()
        assert 'class="navbar' in html and 'id="user-menu"' in html
        assert title in html and "No Target matches" not in html


def test_the_server_error_page_needs_no_context():
    with translation.override("vi"):
        html = loader.get_template("500.html").render()
    assert "Lỗi máy chủ" in html
