#!/usr/bin/env python3
"""A client of ActAs's OpenAPI surface in Python's standard library only (issue 23).

Reads the document at ACTAS_URL/openapi.json, finds each operation by its operationId, and
searches, starts, reads, lists, ends and exports an impersonation with MACHINE_TOKEN (a Clerk M2M
token of a machine granted impersonation.start and .end), starting and ending on behalf of the
staff member STAFF_USER_ID (onBehalfOf); the one people-only call (active) with STAFF_TOKEN (that
staff member's session token). Prints every answer as one JSON document:
[{"operationId", "path", "status", "body"}, ...]. Exit 1 when a step does not answer as expected.
"""
import json
import os
import sys
import urllib.error
import urllib.request

BASE = os.environ["ACTAS_URL"].rstrip("/")
MACHINE = os.environ["MACHINE_TOKEN"]
STAFF = os.environ["STAFF_TOKEN"]
STAFF_USER_ID = os.environ["STAFF_USER_ID"]
TARGET = os.environ["TARGET_QUERY"]


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as res:
        return json.load(res)


document = get_json(BASE + "/openapi.json")
paths = {
    op["operationId"]: path
    for path, item in document["paths"].items()
    for method, op in item.items()
    if method == "post"
}
answers = []


def call(operation_id, token, body=None):
    path = paths[operation_id]
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(BASE + path, data=data, method="POST")
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status, payload = res.status, json.load(res)
    except urllib.error.HTTPError as err:
        status, payload = err.code, json.load(err)
    answers.append({"operationId": operation_id, "path": path, "status": status, "body": payload})
    return status, payload


def expect(condition, what):
    if not condition:
        print(json.dumps(answers), file=sys.stdout)
        print("client.py: " + what, file=sys.stderr)
        sys.exit(1)


status, found = call("usersSearch", MACHINE, {"query": TARGET, "limit": 5})
expect(status == 200 and len(found["items"]) >= 1, "search found nobody")
user_id = found["items"][0]["id"]

# The operation's body schema names the field a machine acts on behalf of someone with.
start_body = document["paths"][paths["impersonationStart"]]["post"]["requestBody"]
expect(
    "onBehalfOf" in start_body["content"]["application/json"]["schema"]["properties"],
    "the document does not offer onBehalfOf",
)
status, started = call(
    "impersonationStart",
    MACHINE,
    {
        "userId": user_id,
        "reason": "Python client over the OpenAPI surface",
        "onBehalfOf": STAFF_USER_ID,
    },
)
expect(status == 200, "start on behalf of the staff member failed")
impersonation_id = started["impersonationId"]

status, record = call("impersonationGet", MACHINE, {"impersonationId": impersonation_id})
expect(status == 200 and record["status"] == "issued", "get did not read the issued ticket")

status, listed = call("impersonationList", MACHINE, {"userId": user_id, "limit": 5})
expect(status == 200 and listed["items"][0]["id"] == impersonation_id, "list missed it")

status, active = call("impersonationActive", STAFF)
expect(status == 200, "active failed")

status, ended = call(
    "impersonationEnd",
    MACHINE,
    {
        "impersonationId": impersonation_id,
        "reason": "Done from Python",
        "onBehalfOf": STAFF_USER_ID,
    },
)
expect(status == 200 and ended["status"] == "ended", "end did not end it")

status, record = call("impersonationGet", MACHINE, {"impersonationId": impersonation_id})
expect(status == 200 and record["endCause"] == "ended_by_staff", "get after end")

status, exported = call("auditExport", MACHINE, {"format": "ocsf", "limit": 100})
expect(status == 200 and len(exported["ocsf"]) >= 3, "export: requested, issued, ended")

status, revoked = call("sessionsRevoked", MACHINE, {})
expect(status == 200, "revoked")

# Refusals answer the document's error shape.
status, _ = call("impersonationGet", MACHINE, {"impersonationId": "not-a-uuid"})
expect(status == 400, "a bad id is a 400")
status, _ = call("impersonationStart", MACHINE, {"userId": user_id, "reason": "A machine alone"})
expect(status == 400, "a machine may not start for nobody")
status, _ = call(
    "impersonationStart",
    MACHINE,
    {"userId": STAFF_USER_ID, "reason": "For a staff member, of a staff member", "onBehalfOf": user_id},
)
expect(status == 403, "a machine may not start for a customer")

print(json.dumps(answers))
