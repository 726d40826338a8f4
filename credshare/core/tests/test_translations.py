"""The French catalog: complete, true to the code's placeholders, up to date with the code, and
shown on the share window with the seed's French wording of the learner's share flow."""

import html
import io
import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from credshare.core.testing import require_program

CATALOG = Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES" / "django.po"
# A python-format named placeholder: %(name)s, %(count)d, %(ratio).2f...
PLACEHOLDER = re.compile(r"%\(([^)]+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
# Folders of the repository that hold no product strings (as for `make messages`).
NOT_PRODUCT = {"bench", "var"}


def _key(entry: polib.POEntry) -> tuple[str | None, str, str]:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def _label(key: tuple[str | None, str, str]) -> str:
    context, msgid, plural = key
    return (f"[{context}] " if context else "") + msgid + (f" | {plural}" if plural else "")


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def catalog() -> polib.POFile:
    return polib.pofile(str(CATALOG))


def _ignore_for_extraction(folder: str, names: list[str]) -> set[str]:
    ignored = {n for n in names if n.startswith(".") or n in {"locale", "__pycache__"}}
    if Path(folder) == settings.BASE_DIR:
        ignored |= set(NOT_PRODUCT) & set(names)
    return ignored


@pytest.fixture(scope="module")
def code_catalog(tmp_path_factory) -> polib.POFile:
    """A fresh catalog that makemessages extracts from a copy of the code. makemessages writes
    into every `locale` folder it meets, so it runs on a copy without them (never touching the
    committed catalog), writing into a temporary LOCALE_PATHS."""
    require_program("xgettext", package="gettext")
    work = tmp_path_factory.mktemp("makemessages")
    shutil.copytree(settings.BASE_DIR, work / "code", ignore=_ignore_for_extraction)
    locale = work / "locale"
    committed = CATALOG.read_bytes()
    here = os.getcwd()
    os.chdir(work / "code")  # makemessages reads the files under the current directory
    try:
        with override_settings(LOCALE_PATHS=[locale]):
            call_command("makemessages", locale=["fr"], no_obsolete=True, verbosity=0)
    finally:
        os.chdir(here)
    assert CATALOG.read_bytes() == committed, "makemessages wrote into the committed catalog"
    return polib.pofile(str(locale / "fr" / "LC_MESSAGES" / "django.po"))


def test_catalog_header_declares_french(catalog):
    assert catalog.metadata["Language"] == "fr"
    assert catalog.metadata["Plural-Forms"] == "nplurals=2; plural=(n > 1);"
    assert "charset=UTF-8" in catalog.metadata["Content-Type"]
    assert not catalog.metadata_is_fuzzy, "gettext ignores a catalog whose header is fuzzy"


def test_every_entry_is_translated(catalog):
    assert len(catalog) > 0
    untranslated = []
    for entry in catalog:
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            if sorted(forms) != [0, 1] or not all(forms.values()):
                untranslated.append(_label(_key(entry)))
        elif not entry.msgstr:
            untranslated.append(_label(_key(entry)))
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


def test_no_entry_is_fuzzy_or_obsolete(catalog):
    fuzzy = [_label(_key(entry)) for entry in catalog.fuzzy_entries()]
    assert not fuzzy, "fuzzy entries (gettext ignores them):\n" + "\n".join(fuzzy)
    obsolete = [_label(_key(entry)) for entry in catalog.obsolete_entries()]
    assert not obsolete, "obsolete entries:\n" + "\n".join(obsolete)


def test_translations_keep_the_placeholders(catalog):
    """A singular translation has exactly the placeholders of its msgid. A plural form has at
    least those of its English form and no others than the entry's (French uses the singular
    form for 0 too, so it may show %(counter)s where the English singular does not)."""
    wrong = []
    for entry in catalog:
        if not entry.msgid_plural:
            if _placeholders(entry.msgstr) != _placeholders(entry.msgid):
                wrong.append(f"{entry.msgid!r} -> {entry.msgstr!r}")
            continue
        allowed = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural)
        for index, form in sorted(entry.msgstr_plural.items()):
            english = entry.msgid if index == 0 else entry.msgid_plural
            found = _placeholders(form)
            if not _placeholders(english) <= found <= allowed:
                wrong.append(f"{english!r} -> [{index}] {form!r}")
    assert not wrong, "placeholders changed:\n" + "\n".join(wrong)


def test_catalog_holds_every_string_of_the_code(catalog, code_catalog):
    in_code = {_key(entry) for entry in code_catalog}
    assert len(in_code) > 0
    missing = sorted(in_code - {_key(entry) for entry in catalog}, key=str)
    assert not missing, "strings of the code missing from the catalog (run `make messages`):\n" + (
        "\n".join(_label(key) for key in missing)
    )


def test_catalog_has_no_string_the_code_dropped(catalog, code_catalog):
    stale = sorted({_key(e) for e in catalog} - {_key(e) for e in code_catalog}, key=str)
    assert not stale, "catalog entries no longer in the code (run `make messages`):\n" + (
        "\n".join(_label(key) for key in stale)
    )


@pytest.fixture(scope="module")
def compiled_catalog():
    """The .mo of the catalog, compiled when missing or older than the .po (`make test`
    compiles it first, so other test processes never read a half-written file)."""
    mo = CATALOG.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < CATALOG.stat().st_mtime:
        call_command("compiletranslations", verbosity=0, stdout=io.StringIO())
    return mo


@pytest.fixture
def french_client(client, settings, compiled_catalog):
    # Assigning LOCALE_PATHS drops Django's cached catalogs, so the compiled .mo is read.
    settings.LOCALE_PATHS = list(settings.LOCALE_PATHS)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    return client


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_share_window_in_french_uses_the_seed_wording(french_client, zoe, zoe_transcript, ecole):
    french_client.force_login(zoe)
    response = french_client.get(
        reverse("sharing:with_organization"), {"documents": zoe_transcript.pk}
    )
    assert response.status_code == 200
    page = _text(response)
    assert '<html lang="fr">' in page
    for wording in [
        "Partage de documents",
        "Vous disposez actuellement de 1 partage. Le partage de ce document utilisera un partage.",
        "Vous pouvez partager vos documents avec la personne ou l'organisme de votre choix.",
        "Afficher le document (1)",
        "Avec un organisme participant",
        "Partage avec un organisme participant à la grandeur de notre réseau mondial.",
        "* indique un champ obligatoire",
        "Nom du partage",
        "Vous serez la seule personne à voir le nom que vous choisissez. Ce nom ne sera pas "
        "visible pour le destinataire de votre partage.",
        "But du partage",
        "Vous serez la seule personne à voir le but du partage.",
        "Destinataire",
        "Référence",
        "Le destinataire pourra voir cette référence.",
        "Date d'expiration",
        "Je confirme l'utilisation d'un partage. Nombre de partages restants : 1",
        ">Aide<",
        ">Retour<",
        ">Partager<",
        "Conditions d'utilisation",
        "Politique de confidentialité",
        "Déconnexion",
    ]:
        assert wording in page, wording
    for english in ["Document sharing", "Share name", "Recipient", "Shares remaining"]:
        assert english not in page, english


def test_documents_page_in_french(french_client, zoe, zoe_transcript):
    french_client.force_login(zoe)
    page = _text(french_client.get(reverse("documents:detail", args=[zoe_transcript.pk])))
    assert ">Partager<" in page
    assert "Vous disposez actuellement de 1 partage." in page
    assert "Boîte de réception" not in page  # zoe is a learner only
    assert "Mes partages" in page


def test_english_stays_english(client, zoe, zoe_transcript, compiled_catalog):
    """Zoé's account says English and she has no language cookie: no French leaks in."""
    client.force_login(zoe)
    page = _text(client.get(reverse("sharing:with_organization"), {"documents": zoe_transcript.pk}))
    assert "Document sharing" in page
    assert "I confirm the use of a share. Shares remaining: 1" in page
    assert "Partage de documents" not in page
