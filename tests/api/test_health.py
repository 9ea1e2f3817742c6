from chalicelib.db.users import User


def test_health_answers_ok_when_tables_are_reachable(client):
    response = client.http.get("/health")

    assert response.status_code == 200
    assert response.json_body == {"status": "ok"}


def test_health_answers_503_in_the_error_shape_when_a_table_is_missing(client):
    User.delete_table()

    response = client.http.get("/health")

    assert response.status_code == 503
    assert response.json_body == {
        "error": "Storage is not reachable.",
        "code": "storage_unavailable",
    }
    assert "users" not in response.body.decode()


def test_every_response_carries_the_callers_request_id(client):
    response = client.http.get("/health", headers={"X-Request-Id": "trace-123"})

    assert response.headers["X-Request-Id"] == "trace-123"


def test_an_unsafe_request_id_is_replaced_by_a_generated_one(client):
    response = client.http.get("/health", headers={"X-Request-Id": "bad id\twith spaces"})

    request_id = response.headers["X-Request-Id"]
    assert request_id != "bad id\twith spaces"
    assert len(request_id) == 32


def test_uptime_checkers_head_health(client):
    ok = client.http.request("HEAD", "/health")
    assert (ok.status_code, ok.body) == (200, b"")

    User.delete_table()

    assert client.http.request("HEAD", "/health").status_code == 503
