"""Load the demo network. Safe to run again: what exists is left as it is."""

import datetime

from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from credshare.accounts.models import User
from credshare.billing.models import CreditEntry, FeePolicy, ShareBundle
from credshare.billing.services import credit_grant
from credshare.documents.models import Document
from credshare.documents.pdf import issuer_branding, issuer_heading, transcript_pdf
from credshare.documents.services import document_issue
from credshare.network.demo_branding import demo_logo_png
from credshare.network.models import Membership, Organization, ShareField
from credshare.network.services import organization_branding_update

DEMO_PASSWORD = "credshare-demo-2026"  # noqa: S105 -- the README lists it; demo data only

ORGANIZATIONS = [
    {
        "slug": "example-university",
        "name_en": "Example University",
        "name_fr": "Université de l'Exemple",
        "description_en": "A demonstration university that issues transcripts.",
        "description_fr": "Une université de démonstration qui émet des relevés de notes.",
        "is_issuer": True,
    },
    {
        "slug": "horizon-college",
        "name_en": "Horizon College",
        "name_fr": "Collège Horizon",
        "description_en": "A demonstration college whose documents are shared for free.",
        "description_fr": (
            "Un collège de démonstration dont les documents se partagent gratuitement."
        ),
        "is_issuer": True,
    },
    {
        "slug": "boreal-institute",
        "name_en": "Boreal Institute",
        "name_fr": "Institut Boréal",
        "description_en": "A demonstration institute that asks a fee to collect its diplomas.",
        "description_fr": "Un institut de démonstration qui demande des frais pour recueillir ses "
        "diplômes.",
        "is_issuer": True,
    },
    {
        "slug": "ecole-imaginaire",
        "name_en": "École Imaginaire",
        "name_fr": "École Imaginaire",
        "description_en": "École Imaginaire is a test school for demonstration purposes.",
        "description_fr": "École Imaginaire est une école de test à des fins de démonstration.",
        "is_receiver": True,
    },
    {
        "slug": "fictional-engineers",
        "name_en": "Order of Fictional Engineers",
        "name_fr": "Ordre des ingénieurs fictifs",
        "description_en": "A demonstration licensing body.",
        "description_fr": "Un ordre professionnel de démonstration.",
        "is_receiver": True,
    },
    {
        "slug": "acme-employer",
        "name_en": "Acme Employer Inc.",
        "name_fr": "Employeur Acme inc.",
        "description_en": "A demonstration employer that checks candidates' diplomas.",
        "description_fr": "Un employeur de démonstration qui vérifie les diplômes des candidats.",
        "is_receiver": True,
    },
    {
        "slug": "hidden-registry",
        "name_en": "Unlisted Registry",
        "name_fr": "Registre non répertorié",
        "description_en": "Receives shares but is not in the directory.",
        "description_fr": "Reçoit des partages, mais n'est pas dans le répertoire.",
        "is_receiver": True,
        "listed_in_directory": False,
    },
]

ECOLE_FIELDS = [
    {
        "key": "application_number",
        "label_en": "Application number",
        "label_fr": "Numéro de demande",
        "help_en": "The number on your application confirmation.",
        "help_fr": "Le numéro inscrit sur la confirmation de votre demande.",
        "field_type": ShareField.FieldType.TEXT,
        "required": True,
        "position": 1,
    },
    {
        "key": "intended_program",
        "label_en": "Intended program",
        "label_fr": "Programme visé",
        "field_type": ShareField.FieldType.CHOICE,
        "choices": [
            {"value": "science", "label_en": "Sciences", "label_fr": "Sciences"},
            {"value": "arts", "label_en": "Arts", "label_fr": "Arts"},
            {"value": "engineering", "label_en": "Engineering", "label_fr": "Génie"},
        ],
        "required": False,
        "position": 2,
    },
]

# The demo issuers' colours (primary, accent); each gets a crest in them as its logo.
ISSUER_BRANDING = {
    "example-university": ("#7a1f2b", "#c9a227"),
    "horizon-college": ("#0f5e63", "#e07a1f"),
    "boreal-institute": ("#1d4d3a", "#8fb3c9"),
}

ZOE_DOCUMENTS = [
    {
        "issuer": "example-university",
        "type": Document.Type.TRANSCRIPT,
        "title": "Relevé de notes officiel — Baccalauréat en sciences",
        "issue_date": datetime.date(2026, 6, 15),
        "program": "Baccalauréat en sciences / Bachelor of Science",
        "courses": [
            ("BIO101", "Biologie cellulaire / Cell Biology", "3", "A"),
            ("CHM110", "Chimie générale / General Chemistry", "3", "A-"),
            ("MAT120", "Calcul I / Calculus I", "3", "B+"),
            ("PHY101", "Physique / Physics", "3", "A"),
        ],
    },
    {
        "issuer": "horizon-college",
        "type": Document.Type.CERTIFICATE,
        "title": "Attestation de secourisme / First aid certificate",
        "issue_date": datetime.date(2025, 9, 2),
        "program": "Secourisme / First aid",
        "courses": [("SEC100", "Premiers soins / First aid", "1", "Réussi / Pass")],
    },
    {
        "issuer": "boreal-institute",
        "type": Document.Type.DIPLOMA,
        "title": "Diplôme d'études collégiales — Techniques de laboratoire",
        "issue_date": datetime.date(2024, 6, 20),
        "program": "Techniques de laboratoire / Laboratory technology",
        "courses": [("LAB300", "Stage / Internship", "6", "A")],
    },
]


def person(email: str, full_name: str, language: str = "fr", **extra) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email, DEMO_PASSWORD, full_name=full_name, language=language, **extra
        )
    # Signing in needs a verified address (allauth); the demo's are.
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


class Command(BaseCommand):
    help = "Load the demo organizations, people and documents (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        organizations, branded = {}, []
        for values in ORGANIZATIONS:
            values = dict(values)
            slug = values.pop("slug")
            # The demo's organizations are the platform's own: approved as they are made.
            organizations[slug], created = Organization.objects.get_or_create(
                slug=slug, defaults={**values, "approved_at": timezone.now()}
            )
            if created and slug in ISSUER_BRANDING:
                branded.append(organizations[slug])
        FeePolicy.objects.get_or_create(
            issuer=organizations["example-university"],
            defaults={"sharing_is_free": False, "tax_rate_basis_points": 1300},
        )
        for quantity, price_cents in ((1, 500), (3, 1200), (10, 3500)):
            ShareBundle.objects.get_or_create(
                issuer=organizations["example-university"],
                quantity=quantity,
                defaults={"price_cents": price_cents},
            )
        FeePolicy.objects.get_or_create(
            issuer=organizations["boreal-institute"],
            defaults={"sharing_is_free": True, "collection_fee_cents": 1500},
        )
        FeePolicy.objects.get_or_create(
            issuer=organizations["horizon-college"], defaults={"sharing_is_free": True}
        )
        for values in ECOLE_FIELDS:
            values = dict(values)
            ShareField.objects.get_or_create(
                organization=organizations["ecole-imaginaire"],
                key=values.pop("key"),
                defaults=values,
            )

        zoe = person("zoe@example.org", "Zoé Citoyenne")
        staff = person("admissions@ecole-imaginaire.example", "Camille Tremblay")
        Membership.objects.get_or_create(
            user=staff,
            organization=organizations["ecole-imaginaire"],
            defaults={"role": Membership.Role.ADMIN},
        )
        registrar = person("registrar@example-university.example", "Dominique Registraire")
        Membership.objects.get_or_create(
            user=registrar,
            organization=organizations["example-university"],
            defaults={"role": Membership.Role.ADMIN},
        )
        platform_admin = person(
            "admin@credshare.example",
            "Platform Admin",
            language="en",
            is_staff=True,
            is_superuser=True,
        )
        for issuer in branded:
            primary_color, accent_color = ISSUER_BRANDING[issuer.slug]
            logo = demo_logo_png(primary_color=primary_color, accent_color=accent_color)
            organization_branding_update(
                organization=issuer,
                by=platform_admin,
                primary_color=primary_color,
                accent_color=accent_color,
                logo=SimpleUploadedFile("logo.png", logo, content_type="image/png"),
            )

        for document in ZOE_DOCUMENTS:
            issuer = organizations[document["issuer"]]
            if not Document.objects.filter(learner=zoe, issuer=issuer).exists():
                document_issue(
                    issuer=issuer,
                    learner=zoe,
                    document_type=document["type"],
                    title=document["title"],
                    issue_date=document["issue_date"],
                    pdf=transcript_pdf(
                        issuer_name=issuer_heading(issuer),
                        learner_name=zoe.full_name,
                        program=document["program"],
                        courses=document["courses"],
                        issue_date=document["issue_date"],
                        title=document["title"],
                        branding=issuer_branding(issuer),
                    ),
                )
        university = organizations["example-university"]
        if not CreditEntry.objects.filter(learner=zoe, issuer=university).exists():
            credit_grant(learner=zoe, issuer=university, amount=1, note="demo")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
