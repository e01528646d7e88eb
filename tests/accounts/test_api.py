"""/api/v1/auth: registration, tokens, lockout; nothing that tells whether an email is registered."""

import pytest
from django.contrib.auth.models import Group

from tests.conftest import ApiClient
from tests.factories import PASSWORD, UserFactory
from vigencia.accounts.models import ApiToken, User
from vigencia.accounts.services import api_token_authenticate, api_token_issue

pytestmark = pytest.mark.django_db

STRONG = "a-long-passphrase-7"


def test_register_creates_a_subscriber_and_answers_id_and_email(anon_api):
    response = anon_api.post_json(
        "/api/v1/auth/register",
        {"email": " Ana@Example.COM ", "password": STRONG, "name": "Ana", "language": "es"},
    )

    assert response.status_code == 201, response.content
    user = User.objects.get()
    assert response.json() == {"id": user.pk, "email": "ana@example.com"}
    assert (user.name, user.language) == ("Ana", "es")
    assert user.check_password(STRONG)
    assert list(user.groups.values_list("name", flat=True)) == ["subscriber"]


def test_register_without_language_takes_the_request_language(anon_api):
    response = anon_api.post_json(
        "/api/v1/auth/register",
        {"email": "li@example.com", "password": STRONG},
        HTTP_ACCEPT_LANGUAGE="zh-Hans",
    )

    assert response.status_code == 201
    assert User.objects.get().language == "zh-hans"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "not-an-email", "password": STRONG}, "invalid_email"),
        ({"email": "a@example.com", "password": "123"}, "weak_password"),
        ({"email": "a@example.com", "password": "password"}, "weak_password"),
        ({"email": "a@example.com", "password": STRONG, "language": "fr"}, "invalid_language"),
        ({"email": "a@example.com"}, "invalid"),
        ({"email": 42, "password": STRONG}, "invalid"),
        ({"email": "a@example.com", "password": STRONG, "name": "x" * 10_000}, "invalid"),
        ({"email": "a" * 10_000 + "@example.com", "password": STRONG}, "invalid"),
        ({"email": "a@example.com", "password": STRONG, "name": "nul\x00byte"}, "invalid"),
        ({"email": "a@example.com", "password": "pass\ud800word-long-enough"}, "invalid"),
    ],
)
def test_register_refuses_bad_input_with_422_and_writes_nothing(anon_api, body, code):
    response = anon_api.post_json("/api/v1/auth/register", body)

    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{not json", "application/json"), (b"\xff\xfe", "application/json"), ("email=a", "text/plain")],
)
def test_register_with_a_malformed_body_is_400_and_writes_nothing(anon_api, body, content_type):
    response = anon_api.post("/api/v1/auth/register", body, content_type=content_type)

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_body"
    assert User.objects.count() == 0


def test_register_an_existing_email_in_any_case_is_409_and_changes_nothing(anon_api, user):
    response = anon_api.post_json(
        "/api/v1/auth/register", {"email": user.email.upper(), "password": STRONG, "name": "Mallory"}
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "email_taken"
    # the answer carries nothing about the account that exists
    assert body["details"] is None
    assert str(user.pk) not in response.content.decode()
    assert User.objects.count() == 1
    user.refresh_from_db()
    assert user.name != "Mallory"
    assert user.check_password(PASSWORD)
    assert Group.objects.get(name="subscriber").user_set.count() == 0


def test_token_for_the_right_password_authenticates_as_the_user(anon_api, user):
    response = anon_api.post_json("/api/v1/auth/token", {"email": user.email.upper(), "password": PASSWORD})

    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert token.startswith("vg_")
    assert api_token_authenticate(token=token) == user
    assert ApiToken.objects.get().digest != token  # only the digest is stored
    me = ApiClient(token).get("/api/v1/lines")
    assert me.status_code == 200


def test_wrong_password_and_unknown_email_get_the_identical_401(anon_api, user):
    wrong = anon_api.post_json("/api/v1/auth/token", {"email": user.email, "password": "nope-nope-nope"})
    unknown = anon_api.post_json("/api/v1/auth/token", {"email": "nobody@example.com", "password": "nope"})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"
    assert ApiToken.objects.count() == 0


def test_inactive_user_gets_the_same_401(anon_api):
    inactive = UserFactory(is_active=False)

    response = anon_api.post_json("/api/v1/auth/token", {"email": inactive.email, "password": PASSWORD})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@example.com"},
        {"email": "nul\x00@example.com", "password": "x"},
        {"email": [], "password": 1},
    ],
)
def test_token_with_bad_input_is_422(anon_api, body):
    response = anon_api.post_json("/api/v1/auth/token", body)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("email", ["victim@example.com", "ghost@example.com"])
def test_five_failures_lock_the_email_out_with_429_json_even_for_the_right_password(anon_api, email):
    UserFactory(email="victim@example.com")

    statuses = [
        anon_api.post_json("/api/v1/auth/token", {"email": email, "password": f"wrong-{n}"}).status_code
        for n in range(5)
    ]
    locked = anon_api.post_json("/api/v1/auth/token", {"email": email, "password": PASSWORD})

    assert statuses == [401, 401, 401, 401, 429]
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert locked.json()["code"] == "rate_limited"
    assert ApiToken.objects.count() == 0


def test_lockout_counts_one_email_only(anon_api, user):
    for n in range(5):
        anon_api.post_json("/api/v1/auth/token", {"email": "other@example.com", "password": f"wrong-{n}"})

    response = anon_api.post_json("/api/v1/auth/token", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer vg_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000],
)
def test_no_or_bad_token_is_401_json(authorization):
    client = ApiClient() if authorization is None else ApiClient(HTTP_AUTHORIZATION=authorization)

    response = client.get("/api/v1/lines")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_revoking_the_current_token_ends_it_and_only_it(user):
    _row, token = api_token_issue(user=user)
    _other_row, other_token = api_token_issue(user=user)

    response = ApiClient(token).delete("/api/v1/auth/token")

    assert response.status_code == 204
    assert ApiClient(token).get("/api/v1/lines").status_code == 401
    assert ApiClient(other_token).get("/api/v1/lines").status_code == 200


def test_revoking_without_a_token_is_401():
    response = ApiClient().delete("/api/v1/auth/token")

    assert response.status_code == 401


def test_credential_errors_speak_the_request_language(anon_api):
    response = anon_api.post_json(
        "/api/v1/auth/token", {"email": "x@example.com", "password": "nope"}, HTTP_ACCEPT_LANGUAGE="zh-Hans"
    )

    assert response.json() == {"code": "invalid_credentials", "message": "邮箱或密码错误。", "details": None}


@pytest.mark.parametrize(
    ("language", "accept", "content_language", "message"),
    [
        ("es", None, "es", "No es un número de celular válido de Perú."),
        ("zh-hans", None, "zh-hans", "这不是有效的秘鲁手机号码。"),
        ("es", "en", "en", "This is not a valid mobile number for Peru."),
    ],
)
def test_an_api_client_that_names_no_language_is_answered_in_the_users(
    user, demo_catalog, language, accept, content_language, message
):
    # given a user who chose a language, and a client that may or may not send Accept-Language
    from tests.conftest import ApiClient
    from vigencia.accounts.services import api_token_issue

    user.language = language
    user.save(update_fields=["language"])
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    client = ApiClient(api_token_issue(user=user)[1], **headers)

    # when the client sends a number that is not valid
    response = client.post_json("/api/v1/lines", {"msisdn": "12", "carrier": "claro-pe"})

    # then the error speaks the header's language if there is one, else the user's
    assert response.status_code == 422
    assert response["Content-Language"] == content_language
    assert response.json()["message"] == message
