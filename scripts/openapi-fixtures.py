"""Makes one of each object through the API and writes two schemathesis.toml files: one in the
first folder naming them, so schemathesis's requests on `{id}` reach the handlers' logic rather
than a 404; one in the second naming only the workspace (for the stateful phase).
Reads PI_CRM_BASE and PI_CRM_KEY; standard library only (scripts/openapi-check runs it)."""

import json
import os
import sys
import urllib.error
import urllib.request

BASE = os.environ["PI_CRM_BASE"]
KEY = os.environ["PI_CRM_KEY"]


def call(method, path, body=None, content_type="application/json"):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {KEY}")
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req) as answer:
            text = answer.read()
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read().decode()}") from None
    return json.loads(text) if text else None


ws = call("POST", "/api/v1/workspaces", {"name": "Andy Loans"})["id"]
w = f"/api/v1/workspaces/{ws}"
me = call("GET", "/api/v1/me")["id"]
field = call("POST", f"{w}/custom-fields", {"field_name": "loan_amount", "field_type": "number"})["id"]
global_field = call("POST", "/api/v1/custom-fields", {"field_name": "birthday", "field_type": "date"})["id"]
contact = call("POST", f"{w}/contacts", {"first_name": "Maria", "last_name": "Gonzalez", "primary_email": "maria@example.com"})["id"]
call("POST", f"{w}/contacts", {"first_name": "Maria", "last_name": "Gonzales", "primary_phone": "+14155550134"})
entry = call("POST", f"{w}/contacts/{contact}/communications", {"type": "note", "content": {"body": "Called about rates"}})["id"]
lst = call("POST", f"{w}/lists", {"name": "Past clients"})["id"]
template = call("POST", f"{w}/templates", {"name": "Rates fell", "channel": "email", "subject": "Rates fell, {{ first_name }}", "body": "Hi {{ first_name }}, rates fell this week."})["id"]
campaign = call("POST", f"{w}/campaigns", {"name": "Rate update", "channel": "email", "template_id": template})["id"]
suppression = call("POST", f"{w}/suppressions", {"address": "gone@example.com", "channel": "email"})["id"]
invite = call("POST", "/api/v1/invites", {"email": "monalisa@example.com"})["id"]
boundary = "piCrmFixture"
upload = (
    f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\n"
    "Content-Type: text/csv\r\n\r\nFirst Name,Last Name,E-mail Address\r\nAda,Lovelace,ada@example.com\r\n"
    f"\r\n--{boundary}--\r\n"
).encode()
imported = call("POST", f"{w}/imports", upload, f"multipart/form-data; boundary={boundary}")["id"]

# The first matching [[operations]] entry wins: the deepest paths come first. DELETE keeps its
# generated ids: a fixture deleted early would turn every later request on it into a 404.
by_path = [
    (r"/communications/\{entry\}", {"path.id": contact, "path.entry": entry}),
    (r"/contacts/\{id\}/lists/\{list_id\}", {"path.id": contact, "path.list_id": lst}),
    (r"/contacts/\{id\}", {"path.id": contact}),
    (r"^/api/v1/workspaces/\{ws\}/custom-fields/\{id\}", {"path.id": field}),
    (r"^/api/v1/custom-fields/\{id\}", {"path.id": global_field}),
    (r"/lists/\{id\}", {"path.id": lst}),
    (r"/templates/\{id\}", {"path.id": template}),
    (r"/campaigns/\{id\}", {"path.id": campaign}),
    (r"/suppressions/\{id\}", {"path.id": suppression}),
    (r"/imports/\{id\}", {"path.id": imported}),
    (r"^/api/v1/invites/\{id\}", {"path.id": invite}),
    (r"/members/\{user_id\}", {"path.user_id": me}),
]


def toml_string(text):
    return json.dumps(text)


with_ids, ws_only = sys.argv[1], sys.argv[2]
for folder in (with_ids, ws_only):
    os.makedirs(folder, exist_ok=True)
with open(os.path.join(ws_only, "schemathesis.toml"), "w") as out:
    out.write(f'[parameters]\n"path.ws" = {toml_string(ws)}\n')
with open(os.path.join(with_ids, "schemathesis.toml"), "w") as out:
    out.write(f'[parameters]\n"path.ws" = {toml_string(ws)}\n')
    for regex, params in by_path:
        inline = ", ".join(f"{toml_string(k)} = {toml_string(v)}" for k, v in params.items())
        out.write(
            f"\n[[operations]]\ninclude-path-regex = {toml_string(regex)}\n"
            f'include-method-regex = "^(GET|POST|PUT|PATCH)$"\nparameters = {{ {inline} }}\n'
        )
