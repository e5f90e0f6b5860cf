"""Sessions in the cache, backed by the database, that keep working while the cache is away.

Django's cached_db store already survives a failed cache write on save; reading a session whose
copy it cannot then put back in the cache, or asking whether a key exists, would fail the whole
request. Here both fall back to the database, so people stay signed in and pages answer while
Redis restarts. Deleting a session (signing out) still needs the cache: a copy left there would
keep the session alive after Redis came back, so that request is answered 503 instead.
"""

from django.contrib.sessions.backends import cached_db, db

from portal import outages


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            return super().load()
        except outages.OUTAGE_ERRORS as exc:
            # cached_db read the row already; only putting it back in the cache failed. Read
            # again as the database store does: a second small query, while the cache is away.
            outages.proceed_without("Caching a session", exc)
            return db.SessionStore.load(self)

    def exists(self, session_key):
        try:
            return super().exists(session_key)
        except outages.OUTAGE_ERRORS as exc:
            outages.proceed_without("Looking up a session in the cache", exc)
            return db.SessionStore.exists(self, session_key)
