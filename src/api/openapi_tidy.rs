//! What the handlers' annotations leave out of the OpenAPI document, filled in once for every
//! operation so that standard tools (openapi-spec-validator, client generators) accept it:
//! - every `{name}` in a path is declared as a required path parameter (a uuid for the ids);
//! - a parameter declared "in path" that the path does not have is a query parameter;
//! - every response has a description (its status's reason phrase when none was written);
//! - operation ids are unique (`{tag}_{handler}`, the handler names repeat across resources).

use std::collections::{BTreeSet, HashSet};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

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
    let (description, format) = match name {
        "ws" => ("The workspace's id.", Some("uuid")),
        "user_id" => ("The person's id.", Some("uuid")),
        "channel" => ("`email`, `sms` or `ai`.", None),
        _ => ("The object's id.", None),
    };
    let mut schema = json!({"type": "string"});
    if let Some(f) = format {
        schema["format"] = json!(f);
    }
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
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
}
