from chalicelib.errors import BY_STATUS, Conflict, InvalidRequest, NotFound


def test_error_body_has_message_and_code():
    assert NotFound().body() == {"error": "Not found.", "code": "not_found"}


def test_error_body_includes_details_only_when_given():
    error = InvalidRequest(details={"email": "not a valid email"})

    assert error.body() == {
        "error": "Invalid request.",
        "code": "invalid_request",
        "details": {"email": "not a valid email"},
    }


def test_message_and_code_can_be_specialised_per_raise():
    error = Conflict("User already exists.", code="user_exists")

    assert (error.status, error.body()) == (
        409,
        {"error": "User already exists.", "code": "user_exists"},
    )
    # The class keeps its defaults for the next raise.
    assert Conflict().body()["code"] == "conflict"


def test_each_status_maps_to_one_error_class():
    assert {status: cls.status for status, cls in BY_STATUS.items()} == {
        status: status for status in BY_STATUS
    }
