class ApplicationError(Exception):
    """A rule of the product refused an action. `code` is stable for clients; `message`
    is translated for people."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
