"""The staff console: server-rendered pages under ``/staff/`` for librarians in a browser.

Every page works with plain links and form posts (no script needed); sessions are
``HttpOnly``/``SameSite=Strict`` cookies, every form carries a CSRF token, and every
action checks the signed-in role on the server. Bahasa Indonesia first, English by
the language switch. The pages read the server's own tables; what changes
circulation or attendance goes through the same rules as a kiosk's transaction.
"""
