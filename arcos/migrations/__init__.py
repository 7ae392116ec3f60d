"""The store's schema migrations: Tortoise migration files for the one app, "models",
which holds every domain's models and the outbox (arcos/db.py).

`arcos migrate` and `arcos serve` apply them (arcos/store/migrator.py). A model change
comes with the migration `arcos make-migration --name what_changed` writes here;
tests/test_migrations.py fails while the models and what these files build differ.
`0001_initial` is the baseline a store made before migrations is adopted at: its DDL as
those releases ran it is frozen beside it (`baseline_sqlite.sql`, `baseline_postgres.sql`,
arcos/store/adoption.py). The files are written by Tortoise's migration writer; they
import the enums and codecs the models use, as the writer records them.
"""
