from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "credshare.documents"
    label = "documents"
