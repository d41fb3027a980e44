"""What only the app needs: the survey's pages and checks, the store (SQLAlchemy), the published
reference, accounts and sign-in, and the folders of uploaded files."""

# the app's modules, each imported by name (``from dmi.service import store``): this package
# holds no names of its own
__all__ = [
    "auth",
    "bulkview",
    "dashboard",
    "ladder",
    "ladderbulk",
    "reference",
    "store",
    "survey",
    "uploads",
]
