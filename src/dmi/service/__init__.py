"""What only the app needs: the survey's pages and checks, the store (SQLAlchemy), the published
reference, accounts and sign-in, and the folders of uploaded files."""
