from credshare.accounts.models import User
from credshare.accounts.selectors import user_with_email


def test_an_address_is_stored_in_one_spelling_and_found_however_it_is_typed(db):
    user = User(email="  Zoe.Citoyenne@Example.ORG ", full_name="Zoé Citoyenne")
    user.save()

    assert User.objects.get(pk=user.pk).email == "zoe.citoyenne@example.org"
    assert user_with_email("ZOE.citoyenne@example.org ") == user
    assert user_with_email("nobody@example.org") is None
