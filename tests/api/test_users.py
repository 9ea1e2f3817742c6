"""User administration: /users and /users/{id}."""

import pytest

from chalicelib.db.allocations import Allocation
from chalicelib.db.tickets import Ticket
from chalicelib.db.uniques import UniqueClaim
from chalicelib.db.users import User
from tests.conftest import DEFAULT_PASSWORD, admin_user, make_user, random_email, token_for


@pytest.fixture
def admin(client):
    return admin_user()


def ids(response, key="users"):
    return [item["id"] for item in response.json_body[key]]


# --- listing ---------------------------------------------------------------------------


def test_admin_lists_users_page_by_page(api, admin):
    created = {make_user("reseller").id for _ in range(4)}

    first = api.get("/users?limit=3", as_=admin)
    second = api.get(f"/users?limit=3&next_token={first.json_body['next_token']}", as_=admin)

    assert first.status_code == second.status_code == 200
    assert len(ids(first)) == 3
    seen = ids(first) + ids(second)
    assert len(seen) == len(set(seen)) == 5
    assert created | {admin.id} == set(seen)
    assert (
        second.json_body["next_token"] is None
        or ids(api.get(f"/users?next_token={second.json_body['next_token']}", as_=admin)) == []
    )


def test_users_filtered_by_role(api, admin):
    resellers = {make_user("reseller").id for _ in range(2)}
    make_user("organizer")

    response = api.get("/users?role=reseller", as_=admin)

    assert set(ids(response)) == resellers


def test_users_filtered_by_blocked(api, admin):
    blocked = make_user("reseller")
    make_user("reseller")
    api.put(f"/users/{blocked.id}", {"blocked": True}, as_=admin)

    only_blocked = api.get("/users?blocked=true", as_=admin)
    blocked_resellers = api.get("/users?blocked=true&role=reseller", as_=admin)
    blocked_organizers = api.get("/users?blocked=true&role=organizer", as_=admin)
    not_blocked = api.get("/users?blocked=false&role=reseller", as_=admin)

    assert ids(only_blocked) == [blocked.id]
    assert ids(blocked_resellers) == [blocked.id]
    assert ids(blocked_organizers) == []
    assert blocked.id not in ids(not_blocked)
    assert all(user["blocked"] for user in only_blocked.json_body["users"])


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=201",
        "limit=abc",
        "limit=-1",
        "role=buyer",
        "blocked=yes",
        "next_token=zzz",
    ],
)
def test_bad_list_parameters_are_a_400(api, admin, query):
    response = api.get(f"/users?{query}", as_=admin)

    assert response.status_code == 400
    assert response.json_body["details"]


def test_a_forged_next_token_is_a_400(api, admin):
    make_user()
    token = api.get("/users?limit=1", as_=admin).json_body["next_token"]
    payload, _, signature = token.partition(".")

    response = api.get(f"/users?next_token={payload[:-2]}xx.{signature}", as_=admin)

    assert response.status_code == 400
    assert "next_token" in response.json_body["details"]


# --- creating ------------------------------------------------------------------------


def test_admin_creates_a_verified_seller_who_can_log_in_at_once(api, admin):
    email = random_email()

    response = api.post(
        "/users",
        {"email": email, "password": "password1", "name": "Sam", "role": "reseller"},
        as_=admin,
    )

    assert response.status_code == 201
    user = response.json_body["user"]
    assert (user["email"], user["role"], user["verified"]) == (email, "reseller", True)
    assert api.post("/login", {"email": email, "password": "password1"}).status_code == 200


def test_admin_cannot_create_a_duplicate_or_an_admin(api, admin):
    existing = make_user()

    duplicate = api.post(
        "/users",
        {"email": existing.email, "password": "password1", "name": "X", "role": "reseller"},
        as_=admin,
    )
    new_admin = api.post(
        "/users",
        {"email": random_email(), "password": "password1", "name": "X", "role": "admin"},
        as_=admin,
    )

    assert (duplicate.status_code, duplicate.json_body["error"]) == (409, "User already exists.")
    assert new_admin.status_code == 400
    assert User.count() == 2


# --- reading -------------------------------------------------------------------------


def test_admin_reads_anyone_and_users_read_themselves(api, admin):
    user = make_user()
    other = make_user()

    assert api.get(f"/users/{user.id}", as_=admin).json_body["user"]["id"] == user.id
    assert api.get(f"/users/{user.id}", as_=user).status_code == 200
    assert api.get(f"/users/{other.id}", as_=user).status_code == 403


def test_unknown_user_is_a_404_for_admins_and_a_403_for_others(api, admin):
    user = make_user()

    assert api.get("/users/nope", as_=admin).status_code == 404
    assert api.get("/users/nope", as_=user).status_code == 403


# --- updating ------------------------------------------------------------------------


def test_admin_blocks_a_user_and_their_token_stops_working(api, admin):
    user = make_user()
    token = token_for(user)

    response = api.put(f"/users/{user.id}", {"blocked": True}, as_=admin)

    assert response.status_code == 200
    assert response.json_body["user"]["blocked"] is True
    assert api.get("/myself", as_=token).status_code in (401, 403)
    login = api.post("/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert login.json_body["error"] == "Account blocked."


def test_admin_changes_a_users_email_and_the_claim_moves(api, admin):
    user = make_user()
    new_email = random_email("moved")

    response = api.put(f"/users/{user.id}", {"email": new_email.upper()}, as_=admin)

    assert response.status_code == 200
    assert User.get(user.id).email == new_email
    assert UniqueClaim.get(f"user-email:{new_email}").owner_id == user.id
    assert UniqueClaim.count(f"user-email:{user.email}") == 0
    assert api.post("/login", {"email": new_email, "password": DEFAULT_PASSWORD}).status_code == 200


def test_changing_to_a_taken_email_is_a_409_and_changes_nothing(api, admin):
    user = make_user()
    other = make_user()

    response = api.put(f"/users/{user.id}", {"email": other.email, "name": "Z"}, as_=admin)

    assert response.status_code == 409
    stored = User.get(user.id)
    assert (stored.email, stored.name) == (user.email, user.name)
    assert UniqueClaim.get(f"user-email:{user.email}").owner_id == user.id


def test_admin_sets_password_role_name_and_verification(api, admin):
    user = make_user("reseller", verified=False)

    response = api.put(
        f"/users/{user.id}",
        {"password": "set-by-admin", "role": "organizer", "name": "Renamed", "verified": True},
        as_=admin,
    )

    assert response.status_code == 200
    assert (response.json_body["user"]["role"], response.json_body["user"]["name"]) == (
        "organizer",
        "Renamed",
    )
    assert api.post("/login", {"email": user.email, "password": "set-by-admin"}).status_code == 200


def test_users_cannot_block_or_promote_themselves(api):
    user = make_user("reseller")

    blocked = api.put(f"/users/{user.id}", {"blocked": False}, as_=user)
    promoted = api.put(f"/users/{user.id}", {"role": "organizer"}, as_=user)
    admin_role = api.put(f"/users/{user.id}", {"role": "admin"}, as_=user)

    assert blocked.status_code == 403
    assert promoted.status_code == 409
    assert admin_role.status_code == 400
    assert User.get(user.id).role == "reseller"


def test_users_edit_their_own_name_through_users_id(api):
    user = make_user()

    response = api.put(f"/users/{user.id}", {"name": "Mine"}, as_=user)

    assert response.status_code == 200
    assert User.get(user.id).name == "Mine"


def test_users_cannot_edit_others(api):
    user = make_user()
    other = make_user(name="Theirs")

    response = api.put(f"/users/{other.id}", {"name": "Hacked"}, as_=user)

    assert response.status_code == 403
    assert User.get(other.id).name == "Theirs"


def test_updating_an_unknown_user_is_a_404(api, admin):
    assert api.put("/users/nope", {"name": "x"}, as_=admin).status_code == 404


def test_an_empty_update_is_a_400(api, admin):
    user = make_user()

    assert api.put(f"/users/{user.id}", {}, as_=admin).status_code == 400


# --- deleting ------------------------------------------------------------------------


def test_admin_deletes_a_user_and_frees_the_email(api, admin):
    user = make_user()

    response = api.delete(f"/users/{user.id}", as_=admin)

    assert response.status_code == 204
    assert response.body == b""
    assert User.count(user.id) == 0
    assert UniqueClaim.count(f"user-email:{user.email}") == 0
    again = api.post(
        "/register", {"email": user.email, "password": "password1", "role": "organizer"}
    )
    assert again.status_code == 201


def test_deleting_a_seller_with_allocations_or_sales_is_a_409(api, admin):
    with_allocation = make_user("reseller")
    with_sales = make_user("reseller")
    Allocation(
        event_id="e1", seller_id=with_allocation.id, seller_role="reseller", number_of_tickets=1
    ).save()
    Ticket(
        id="t1",
        event_id="e1",
        seller_id=with_sales.id,
        organizer_id="o1",
        buyer_id="b1",
        code="C1",
        price_minor=100,
        currency_code="GBP",
    ).save()

    first = api.delete(f"/users/{with_allocation.id}", as_=admin)
    second = api.delete(f"/users/{with_sales.id}", as_=admin)

    assert (first.status_code, first.json_body["code"]) == (409, "user_has_allocations")
    assert (second.status_code, second.json_body["code"]) == (409, "user_has_sales")
    assert User.count(with_allocation.id) == User.count(with_sales.id) == 1


def test_admin_cannot_delete_themselves_and_unknown_is_404(api, admin):
    assert api.delete(f"/users/{admin.id}", as_=admin).status_code == 409
    assert api.delete("/users/nope", as_=admin).status_code == 404


def test_non_admins_cannot_delete(api):
    user = make_user()
    other = make_user()

    assert api.delete(f"/users/{other.id}", as_=user).status_code == 403
    assert api.delete(f"/users/{user.id}", as_=user).status_code == 403
    assert User.count(other.id) == 1


def test_a_next_token_only_continues_the_listing_that_issued_it(api, admin):
    for _ in range(3):
        make_user("reseller")
    from_all = api.get("/users?limit=1", as_=admin).json_body["next_token"]

    response = api.get(f"/users?role=reseller&next_token={from_all}", as_=admin)

    assert response.status_code == 400
    assert "next_token" in response.json_body["details"]
