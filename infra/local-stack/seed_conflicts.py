"""Opens conflicts on the local stack the way they open in use, for schemathesis' stateful phase
to resolve: a Zammad agent nobody mapped books time on a fresh ticket, a person starts a sync
of that ticket in the console, and reconcile waits the time as conflicts.

Earlier passes may have changed the sync policy; the policy is set back to keep unmapped time
as a conflict first. They also purge made-up agent ids, so the agent gets a random large id. Prints the ids of the open conflicts of the ticket; fails when none opened
within the time given.

Usage: seed_conflicts.py API_BASE ZAMMAD_URL TOKEN [BOOKINGS]
  API_BASE    the API's origin and path up to, not including, /api (127.0.0.1 only)
  ZAMMAD_URL  the Zammad simulator (its /__admin routes)
  TOKEN       an admin's bearer token
"""

import json
import random
import sys
import time
import urllib.error
import urllib.request

WAIT_SECONDS = 180
# Loopback only: no proxy, whatever the environment says.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with OPENER.open(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, (json.loads(text) if text else None), response.headers
    except urllib.error.HTTPError as e:
        sys.exit(f"seed_conflicts.py: {method} {url}: HTTP {e.code}: {e.read().decode()[:500]}")


def main(api, zammad, token, bookings):
    for url in (api, zammad):
        if not url.startswith("http://127.0.0.1:"):
            sys.exit(f"seed_conflicts.py: only local URLs, not {url}")
    auth = {"Authorization": f"Bearer {token}"}

    _, policies, _ = call("GET", f"{api}/api/policies", headers=auth)
    if policies.get("unmapped_user") != "conflict":
        version = policies.pop("version")
        policies["unmapped_user"] = "conflict"
        call("PUT", f"{api}/api/policies", policies, {**auth, "If-Match": str(version)})

    # An id of our own choosing, far from the small ones generators favour: the earlier passes
    # purge made-up agent ids, and a purged id's time is left out for good.
    agent_id = random.SystemRandom().randrange(100_000_000, 900_000_000)
    login = f"stateful-{agent_id}"
    _, agent, _ = call("POST", f"{zammad}/__admin/agents", {
        "id": agent_id, "login": login, "firstname": "Stateful", "lastname": "Phase",
        "email": f"{login}@support.example", "group_ids": [2],
    })
    _, ticket, _ = call("POST", f"{zammad}/__admin/tickets", {
        "title": "schemathesis: conflicts to resolve", "group_id": 2, "customer_id": 6,
    })
    for i in range(bookings):
        call("POST", f"{zammad}/__admin/accountings", {
            "ticket_id": ticket["id"], "created_by_id": agent["id"], "time_unit": str(10 + i),
            "type_id": 1, "created_at": f"2026-04-2{i % 10}T09:00:00Z",
        })
    call("POST", f"{api}/api/sync-runs", {"tickets": [ticket["id"]]}, auth)

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        _, page, _ = call("GET", f"{api}/api/conflicts?ticket={ticket['id']}", headers=auth)
        if page["items"]:
            print(" ".join(c["id"] for c in page["items"]))
            return
        time.sleep(3)
    sys.exit(f"seed_conflicts.py: no conflict opened on ticket {ticket['id']} in {WAIT_SECONDS} s")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) == 5 else 4)
