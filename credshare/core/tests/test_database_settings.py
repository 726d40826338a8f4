"""PostgreSQL's prepared statements (CREDSHARE_DB_PREPARED_STATEMENTS): on by default, off
when a pooler cannot keep them."""

import pytest
from django.db import connection

from credshare.accounts.models import User
from credshare.settings import database_from_url

URL = "postgres://credshare@db.example:5432/credshare"


def test_by_default_statements_are_bound_on_the_server_and_prepared(monkeypatch):
    monkeypatch.delenv("CREDSHARE_DB_PREPARED_STATEMENTS", raising=False)

    options = database_from_url(URL)["OPTIONS"]

    assert options == {"server_side_binding": True, "prepare_threshold": 5}


def test_turned_off_the_connection_is_django_s_default(monkeypatch):
    monkeypatch.setenv("CREDSHARE_DB_PREPARED_STATEMENTS", "0")

    options = database_from_url(URL)["OPTIONS"]

    assert options == {}


def test_the_url_s_own_options_are_kept(monkeypatch):
    monkeypatch.delenv("CREDSHARE_DB_PREPARED_STATEMENTS", raising=False)

    options = database_from_url(URL + "?sslmode=require")["OPTIONS"]

    assert options["sslmode"] == "require"
    assert options["server_side_binding"] is True


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
@pytest.mark.skipif(
    connection.settings_dict["OPTIONS"].get("prepare_threshold") is None,
    reason="CREDSHARE_DB_PREPARED_STATEMENTS=0",
)
@pytest.mark.django_db
def test_a_query_run_five_times_on_a_connection_is_prepared_on_the_server():
    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ['%FROM "accounts_user"%'],
            )
            return cursor.fetchone()[0]

    before = prepared()
    for pk in range(1, 7):
        list(User.objects.filter(pk=pk))

    assert prepared() == before + 1
