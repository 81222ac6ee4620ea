//! What the handlers' annotations leave out of the OpenAPI document, filled in once for every
//! operation so that standard tools (openapi-spec-validator, client generators) accept it:
//! - every `{name}` in a path is declared as a required path parameter (a uuid for the ids);
//! - a parameter declared "in path" that the path does not have is a query parameter;
//! - every response has a description (its status's reason phrase when none was written);
//! - operation ids are unique (`{tag}_{handler}`, the handler names repeat across resources);
//! - every operation lists the errors any request can meet (a malformed query or body, no or a
//!   bad key, a missing scope, an object that is not there or not the caller's, a refused value,
//!   the rate limit; and for a body, too large or not JSON), so a client knows every status;
//! - `limit` is bounded as `PageRequest` checks it.

use std::collections::{BTreeSet, HashSet};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::api::shapes::ids::uuid_schema;
use crate::model::page::{DEFAULT_LIMIT, MAX_LIMIT};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

pub fn tidy(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let mut ids = HashSet::new();
    for (path, item) in paths.iter_mut() {
        let in_path = template_names(path);
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            declare_path_parameters(op, &in_path);
            bound_limits(op);
            list_common_errors(op);
            describe_responses(op);
            unique_operation_id(op, method, &mut ids);
        }
    }
}

/// The `{name}`s of a path template, in order.
fn template_names(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect()
}

fn declare_path_parameters(op: &mut Map<String, Value>, in_path: &[String]) {
    let params = op.entry("parameters").or_insert_with(|| Value::Array(Vec::new()));
    let Some(params) = params.as_array_mut() else {
        return;
    };
    let names: BTreeSet<String> = in_path.iter().cloned().collect();
    for p in params.iter_mut() {
        let Some(p) = p.as_object_mut() else { continue };
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        if p.get("in").and_then(Value::as_str) == Some("path") && !names.contains(&name) {
            p.insert("in".into(), json!("query"));
            p.insert("required".into(), json!(false));
        }
    }
    for name in in_path {
        let declared = params.iter().any(|p| {
            p.get("in").and_then(Value::as_str) == Some("path") && p.get("name").and_then(Value::as_str) == Some(name)
        });
        if !declared {
            params.push(path_parameter(name));
        }
    }
    if params.is_empty() {
        op.remove("parameters");
    }
}

fn path_parameter(name: &str) -> Value {
    let (description, schema) = match name {
        "ws" => ("The workspace's id.", json!(uuid_schema())),
        "user_id" => ("The person's id.", json!(uuid_schema())),
        "channel" => (
            "The provider: `email`, `sms` or `ai`.",
            json!({"type": "string", "enum": ["email", "sms", "ai"]}),
        ),
        _ => ("The object's id.", json!(uuid_schema())),
    };
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
}

fn bound_limits(op: &mut Map<String, Value>) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params {
        if p.get("name").and_then(Value::as_str) == Some("limit") {
            p["schema"] = json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT});
            p["description"] = json!(format!(
                "How many to return, 1 to {MAX_LIMIT} ({DEFAULT_LIMIT} when left out)."
            ));
        }
    }
}

/// The errors any operation can answer with, and when.
const COMMON_ERRORS: [(&str, &str); 6] = [
    ("400", "The query or body could not be read (`bad_request`)."),
    (
        "401",
        "No key, or a key that is invalid, revoked or expired (`unauthorized`).",
    ),
    (
        "403",
        "The key lacks the scope, or the caller's role does not allow it (`forbidden`).",
    ),
    ("404", "Not there, or not the caller's (`not_found`)."),
    ("422", "A value was refused; `field` names it (`invalid`)."),
    (
        "429",
        "Too many requests; `Retry-After` says when to try again (`rate_limited`).",
    ),
];

/// What only a request with a body can meet.
const BODY_ERRORS: [(&str, &str); 2] = [
    ("413", "The body is larger than the server takes (`payload_too_large`)."),
    (
        "415",
        "The body is not of the declared type (`unsupported_media_type`).",
    ),
];

fn list_common_errors(op: &mut Map<String, Value>) {
    let has_body = op.contains_key("requestBody");
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    let body_errors: &[(&str, &str)] = if has_body { &BODY_ERRORS } else { &[] };
    for (status, description) in COMMON_ERRORS.iter().chain(body_errors) {
        responses.entry(status.to_string()).or_insert_with(|| {
            json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
            })
        });
    }
}

fn describe_responses(op: &mut Map<String, Value>) {
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let Some(r) = response.as_object_mut() else { continue };
        if r.contains_key("$ref") {
            continue;
        }
        let missing = r
            .get("description")
            .and_then(Value::as_str)
            .is_none_or(|d| d.trim().is_empty());
        if missing {
            let reason = status
                .parse::<u16>()
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Answer");
            r.insert("description".into(), json!(reason));
        }
    }
}

fn unique_operation_id(op: &mut Map<String, Value>, method: &str, ids: &mut HashSet<String>) {
    let handler = op
        .get("operationId")
        .and_then(Value::as_str)
        .unwrap_or(method)
        .to_string();
    let tag = op
        .get("tags")
        .and_then(Value::as_array)
        .and_then(|t| t.first())
        .and_then(Value::as_str)
        .unwrap_or("api")
        .replace(['-', ' '], "_");
    let mut id = if handler.starts_with(&format!("{tag}_")) {
        handler
    } else {
        format!("{tag}_{handler}")
    };
    let mut n = 2;
    while ids.contains(&id) {
        id = format!(
            "{tag}_{handler}_{n}",
            handler = op.get("operationId").and_then(Value::as_str).unwrap_or(method)
        );
        n += 1;
    }
    ids.insert(id.clone());
    op.insert("operationId".into(), json!(id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_descriptions_and_ids_are_filled_in() {
        let mut doc = json!({"paths": {
            "/api/v1/workspaces/{ws}/contacts/{id}": {
                "get": {"operationId": "get", "tags": ["contacts"],
                        "parameters": [{"name": "q", "in": "path", "required": true, "schema": {"type": "string"}}],
                        "responses": {"200": {"content": {}}, "404": {"description": "gone"}}},
                "delete": {"operationId": "delete", "tags": ["contacts"], "responses": {"204": {}}}
            },
            "/api/v1/workspaces/{ws}": {
                "get": {"operationId": "get", "tags": ["workspaces"], "responses": {"200": {}}}
            }
        }});
        tidy(&mut doc);
        let get = &doc["paths"]["/api/v1/workspaces/{ws}/contacts/{id}"]["get"];
        let params = get["parameters"].as_array().unwrap();
        assert_eq!(params[0]["in"], "query", "q is not in the path");
        assert_eq!(params[0]["required"], false);
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "ws" && p["in"] == "path" && p["required"] == true)
        );
        assert!(params.iter().any(|p| p["name"] == "id" && p["in"] == "path"));
        assert_eq!(get["responses"]["200"]["description"], "OK");
        assert_eq!(get["responses"]["404"]["description"], "gone", "a written one is kept");
        assert_eq!(get["operationId"], "contacts_get");
        assert_eq!(
            doc["paths"]["/api/v1/workspaces/{ws}"]["get"]["operationId"],
            "workspaces_get"
        );
    }

    #[test]
    fn every_operation_lists_the_errors_it_can_meet_and_limits_are_bounded() {
        let mut doc = json!({"paths": {
            "/api/v1/workspaces/{ws}/contacts": {
                "get": {"operationId": "list", "tags": ["contacts"],
                        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
                        "responses": {"200": {"description": "the page"}, "404": {"description": "no such workspace"}}},
                "post": {"operationId": "create", "tags": ["contacts"], "requestBody": {"content": {}},
                         "responses": {"201": {"description": "made"}}}
            }
        }});
        tidy(&mut doc);
        let list = &doc["paths"]["/api/v1/workspaces/{ws}/contacts"]["get"];
        for status in ["400", "401", "403", "422", "429"] {
            assert_eq!(
                list["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{status}"
            );
        }
        assert_eq!(
            list["responses"]["404"]["description"], "no such workspace",
            "a written one is kept"
        );
        assert!(list["responses"].get("413").is_none(), "no body, no 413");
        let limit = &list["parameters"][0]["schema"];
        assert_eq!(
            (limit["minimum"].as_u64(), limit["maximum"].as_u64()),
            (Some(1), Some(u64::from(MAX_LIMIT)))
        );
        let create = &doc["paths"]["/api/v1/workspaces/{ws}/contacts"]["post"];
        assert!(create["responses"].get("413").is_some() && create["responses"].get("415").is_some());
    }
}
