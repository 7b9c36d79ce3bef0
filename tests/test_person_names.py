"""People's names in Vietnamese order, family name first: "Đỗ Văn Hải", not "Văn Hải Đỗ"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from targets.formatting import person_name
from targets.models import Digest, Profile, Target
from targets.notifications import digest_message
from targets.services.demo import demo_load
from tests.alerting import evaluate, lagging_occupancy
from tests.conftest import plan_operator, submitted_entry

pytestmark = pytest.mark.django_db

SITE = "https://tracker.example.vn"
FROM = "Target Tracker <canhbao@tracker.example.vn>"


def named(user, last_name: str, first_name: str):
    user.last_name, user.first_name = last_name, first_name
    user.save(update_fields=["last_name", "first_name"])
    return user


@pytest.mark.parametrize(
    ("last_name", "first_name", "expected"),
    [
        ("Đỗ", "Văn Hải", "Đỗ Văn Hải"),
        ("Hoàng", "Thị Lan", "Hoàng Thị Lan"),
        ("Lò", "", "Lò"),
        ("", "Hải", "Hải"),
        ("", "", "mlt.manager"),  # no name recorded: the username
    ],
)
def test_a_person_is_named_family_name_first(last_name, first_name, expected):
    user = get_user_model()(username="mlt.manager", last_name=last_name, first_name=first_name)
    assert person_name(user) == expected


def test_nobody_has_no_name():
    assert person_name(None) == ""


def test_the_menu_the_target_page_and_the_review_screens_name_people_family_first(client, people):
    manager = named(people["manager"], "Đỗ", "Văn Hải")
    named(people["staff"], "Lò", "Thị Hoa")
    Target.objects.filter(code="BX-IP").update(owner=people["staff"])
    entry = submitted_entry(people["staff"])
    client.force_login(manager)

    page = client.get(reverse("targets:target", args=["BX-IP"])).content.decode()
    assert "Đỗ Văn Hải" in page  # the menu
    assert "Lò Thị Hoa" in page  # the owner, and who submitted the entry
    assert "Văn Hải Đỗ" not in page and "Thị Hoa Lò" not in page

    queue = client.get(reverse("targets:review")).content.decode()
    assert '<td class="d-none d-md-table-cell">Lò Thị Hoa</td>' in queue

    review = client.get(reverse("targets:review-entry", args=[entry.pk])).content.decode()
    assert '<dd class="col-7 col-sm-8">Lò Thị Hoa</dd>' in review
    assert "Thị Hoa Lò" not in review


@pytest.fixture
def named_readers(people):
    """bx.manager (Vietnamese) and ind.staff (English) each get a digest at 2026-11-24."""
    named(people["manager"], "Đỗ", "Văn Hải")
    named(people["dept_staff"], "Hoàng", "Thị Lan")
    Profile.objects.create(user=people["manager"], language="vi")
    Profile.objects.create(user=people["dept_staff"], language="en")
    lagging_occupancy(people)
    run = evaluate(date(2026, 11, 24))
    return {d.user.username: d for d in Digest.objects.filter(pk__in=run.digest_ids)}


def test_a_vietnamese_digest_greets_its_reader_family_name_first(named_readers):
    message = digest_message(named_readers["bx.manager"], site_url=SITE, from_email=FROM)
    assert message.body.startswith("Kính gửi Đỗ Văn Hải,\n")
    html = message.alternatives[0][0]
    assert '<p style="margin: 0 0 12px">Kính gửi Đỗ Văn Hải,</p>' in html
    assert "Văn Hải Đỗ" not in message.body + html


def test_an_english_digest_keeps_the_vietnamese_order_too(named_readers):
    message = digest_message(named_readers["ind.staff"], site_url=SITE, from_email=FROM)
    assert message.body.startswith("Hello Hoàng Thị Lan,\n")
    html = message.alternatives[0][0]
    assert '<p style="margin: 0 0 12px">Hello Hoàng Thị Lan,</p>' in html
    assert "Thị Lan Hoàng" not in message.body + html


def test_the_user_admin_asks_for_the_family_name_first(client, people):
    named(people["manager"], "Đỗ", "Văn Hải")
    client.force_login(people["admin"])
    client.cookies["django_language"] = "vi"
    form = client.get(reverse("admin:auth_user_change", args=[people["manager"].pk]))
    html = form.content.decode()
    family = html.index('<label for="id_last_name">Họ:</label>')
    given = html.index('<label for="id_first_name">Tên đệm và tên:</label>')
    assert family < given
    listing = client.get(reverse("admin:auth_user_changelist"), {"q": "bx.manager"})
    assert '<td class="field-name">Đỗ Văn Hải</td>' in listing.content.decode()


def test_the_demo_people_are_stored_family_name_apart(db):
    """fixtures/demo.yaml: last_name is the family name, first_name the middle and given
    names."""
    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        call_command(
            "import_plan", str(fixtures / name), "--user", plan_operator().username, stdout=None
        )
    demo_load(fixtures / "demo.yaml", operator=plan_operator())
    people = {u.username: u for u in get_user_model().objects.all()}
    assert (people["mlt.manager"].last_name, people["mlt.manager"].first_name) == ("Đỗ", "Văn Hải")
    assert person_name(people["mlt.manager"]) == "Đỗ Văn Hải"
    assert person_name(people["bx.staff"]) == "Lò Thị Hoa"
    assert person_name(people["lc.manager"]) == "Trần Quốc Bảo"
