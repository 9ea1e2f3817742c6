"""Abuse limits: past a limit, 429 `rate_limited` with Retry-After, and nothing else happens."""

import pytest

from chalicelib.db import rate_limits as counters
from chalicelib.db.rate_limits import RateCounter
from chalicelib.db.tickets import Ticket
from chalicelib.db.users import User
from tests.conftest import DEFAULT_PASSWORD, buyer_body, make_event, make_user, sent_emails


def assert_rate_limited(response):
    assert response.status_code == 429, response.json_body
    assert response.json_body["code"] == "rate_limited"
    assert set(response.json_body) == {"error", "code"}
    assert 1 <= int(response.headers["Retry-After"]) <= 60 * 60


def emails_to(address):
    return [m for m in sent_emails() if address in m.to]


def test_a_counter_refuses_exactly_past_its_limit_and_says_how_long_to_wait(tables):
    answers = [counters.hit("t", "1.2.3.4", limit=3, window_s=60) for _ in range(5)]

    assert answers[:3] == [0, 0, 0]
    assert all(1 <= wait <= 60 for wait in answers[3:])
    assert counters.hit("t", "5.6.7.8", limit=3, window_s=60) == 0  # per subject
    # Subjects are stored hashed: no address or email in clear.
    assert not [c for c in RateCounter.scan() if "1.2.3.4" in c.key]


def test_logins_past_the_address_limit_check_no_password(api, rate_limits):
    rate_limits(auth_ip="3/60")
    user, others = make_user(), [make_user() for _ in range(3)]
    for other in others:
        assert api.post("/login", {"email": other.email, "password": "wrong-one"}).status_code
    before = User.get(user.id).attribute_values

    response = api.post("/login", {"email": user.email, "password": "wrong-one"})

    assert_rate_limited(response)
    assert User.get(user.id).attribute_values == before  # no check counted, none ran


def test_logins_naming_one_email_are_limited_whatever_the_address(api, rate_limits):
    rate_limits(login_email="2/60")
    user, other = make_user(), make_user()

    answers = [api.post("/login", {"email": user.email, "password": DEFAULT_PASSWORD})
               for _ in range(3)]  # fmt: skip

    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_rate_limited(answers[2])
    assert (
        api.post("/login", {"email": other.email, "password": DEFAULT_PASSWORD}).status_code == 200
    )


def test_registrations_past_the_address_limit_send_nothing(api, rate_limits):
    rate_limits(email_ip="2/3600")
    bodies = [{"email": f"r{i}@example.com", "password": "password1", "role": "organizer"}
              for i in range(3)]  # fmt: skip

    answers = [api.post("/register", body) for body in bodies]

    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert_rate_limited(answers[2])
    assert emails_to("r2@example.com") == []
    assert User.count() == 3  # the admin and two


@pytest.mark.parametrize("path", ["/forgot-password", "/resend-verification", "/buyer-access"])
def test_link_requests_for_one_email_are_limited(api, rate_limits, path):
    rate_limits(link_email="2/3600")

    # One address however it is spelt: case in the local part must not buy more requests.
    spellings = ["someone@example.com", "SomeOne@example.com", " SOMEONE@example.com"]
    answers = [api.post(path, {"email": email}) for email in spellings]

    assert [a.status_code for a in answers[:2]] == [202, 202]
    assert_rate_limited(answers[2])


def test_no_recipient_gets_more_than_ten_emails_an_hour_from_any_route(api, rate_limits):
    rate_limits(booking_ip="100/3600")
    event_id = make_event(number_of_tickets=50)
    buyer = buyer_body(email="victim@example.com")

    answers = [api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer})
               for _ in range(11)]  # fmt: skip

    assert [a.status_code for a in answers[:10]] == [201] * 10
    assert_rate_limited(answers[10])
    assert len(emails_to("victim@example.com")) == 10
    assert Ticket.count() == 10  # nothing booked past the limit


def test_past_the_recipient_ceiling_a_reset_request_still_answers_202_and_sends_nothing(
    api, rate_limits
):
    rate_limits(recipient="1/3600")
    user = make_user()

    first = api.post("/forgot-password", {"email": user.email})
    second = api.post("/forgot-password", {"email": user.email})

    assert (first.status_code, second.status_code) == (202, 202)  # no account enumeration
    assert len(emails_to(user.email)) == 1


def test_anonymous_bookings_are_limited_per_address(api, rate_limits):
    rate_limits(booking_ip="2/3600")
    event_id = make_event()

    answers = [api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()})
               for _ in range(3)]  # fmt: skip

    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert_rate_limited(answers[2])
    assert Ticket.count() == 2


def test_anonymous_orders_are_limited_per_address_and_hold_nothing_past_it(api, rate_limits):
    from chalicelib.db.orders import Order

    rate_limits(order_ip="2/3600")
    event_id = make_event()
    body = {"event_id": event_id, "items": [{"quantity": 1}]}

    answers = [api.post("/orders", {**body, "buyer": buyer_body()}) for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert_rate_limited(answers[2])
    assert Order.count() == 2 and Ticket.count() == 2


def test_a_seller_booking_for_buyers_is_limited_per_seller_not_per_address(api, rate_limits):
    rate_limits(booking_ip="1/3600", booking_seller="2/3600")
    organizer = make_user("organizer")
    event_id = make_event(organizer)

    by_seller = [api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()},
                          as_=organizer) for _ in range(3)]  # fmt: skip
    anonymous = api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()})

    assert [a.status_code for a in by_seller[:2]] == [201, 201]
    assert_rate_limited(by_seller[2])
    assert anonymous.status_code == 201  # the address's own allowance was untouched


def test_device_flow_and_token_exchange_are_limited_per_address(api, rate_limits):
    rate_limits(device_ip="1/60", auth_ip="1/60")

    api.get("/google-device-auth-step-1")  # counted whatever the provider answers
    api.post("/auth/google", {"id_token": "x"})

    assert_rate_limited(api.get("/github-device-auth-step-1"))
    assert_rate_limited(api.post("/auth/github", {"access_token": "x"}))


def test_buyer_access_requests_from_one_address_are_limited_and_send_nothing(api, rate_limits):
    rate_limits(email_ip="2/3600")
    email = "holder@example.com"
    api.post("/sold-tickets", {"event_id": make_event(), "buyer": buyer_body(email=email)})
    before = len(emails_to(email))

    answers = [api.post("/buyer-access", {"email": email}) for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [202, 202]
    assert_rate_limited(answers[2])
    assert len(emails_to(email)) == before + 2


def test_buyer_link_pages_and_session_exchanges_are_limited_per_address(api, rate_limits):
    rate_limits(auth_ip="2/60")

    answers = [api.post("/buyer-sessions", {"token": f"guess-{n}"}) for n in range(2)]
    page = api.get("/my-tickets/guess-3")

    assert [a.status_code for a in answers] == [400, 400]
    assert_rate_limited(page)


def test_rate_limits_off_lifts_every_limit(api):
    user = make_user()  # the suite runs with RATE_LIMITS=off

    answers = [api.post("/login", {"email": user.email, "password": DEFAULT_PASSWORD})
               for _ in range(40)]  # fmt: skip

    assert {a.status_code for a in answers} == {200}
    assert RateCounter.count() == 0


def test_joining_a_waiting_list_is_limited_per_address_and_per_email(api, rate_limits):
    from tests.api.test_orders import new_event, place

    organizer = make_user("organizer")
    event_id = new_event(api, organizer, payment="online", capacity=1)
    place(api, event_id, [{"quantity": 1}])  # sold out: the list is open
    url = f"/events/{event_id}/waiting-list"

    def join(email):
        return api.post(url, {"ticket_type_id": event_id, "quantity": 1,
                              "buyer": buyer_body(email=email)})  # fmt: skip

    rate_limits(email_ip="2/3600")
    assert [join(f"w{n}@example.com").status_code for n in range(2)] == [202, 202]
    assert_rate_limited(join("w2@example.com"))
    assert emails_to("w2@example.com") == []  # refused before anything happened
    rate_limits(email_ip="100/3600", link_email="1/3600")
    assert join("same@example.com").status_code == 202
    assert_rate_limited(join("SAME@example.com"))


def test_waiting_list_leave_links_are_limited_per_address(api, rate_limits):
    rate_limits(auth_ip="2/60")

    answers = [api.post("/waiting-list/x/leave", {"token": f"guess-{n}"}) for n in range(2)]
    page = api.get("/waiting-list/x?token=guess-3")

    assert [a.status_code for a in answers] == [400, 400]
    assert page.status_code == 429


def test_places_in_an_on_sale_queue_are_limited_per_address(api, rate_limits):
    from datetime import timedelta

    from chalicelib.db.base import utcnow

    organizer = make_user("organizer")
    body = {"title": "Hot", "time": (utcnow() + timedelta(days=3)).isoformat(), "price": "9",
            "currency_code": "GBP", "number_of_tickets": 10,
            "queue": {"opens_at": utcnow().isoformat(), "admit_per_second": 5}}  # fmt: skip
    event_id = api.post("/events", body, as_=organizer).json_body["event"]["id"]
    rate_limits(queue_ip="2/3600")

    answers = [api.post(f"/events/{event_id}/queue", {}) for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert_rate_limited(answers[2])
