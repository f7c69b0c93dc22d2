//! The OpenAPI document as served: what the routes' derives say, plus the values only the
//! running server knows — the contract's tiers and severities (the contract is data: another
//! vendor's file has other names) and the time zones of its time-zone database — so that a
//! client, or a fuzzer, knows every value the server takes.

use serde_json::{Value, json};
use stringer_core::access::Scopes;
use stringer_core::contract::Contract;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Field and query-parameter names whose values are the contract's tiers.
const TIER_FIELDS: [&str; 1] = ["tier"];
/// Field and query-parameter names whose values are the contract's severities.
const SEVERITY_FIELDS: [&str; 1] = ["severity"];
/// Schemas each of whose fields is a severity of the contract (a key's map from the
/// monitor's levels to severities).
const ALL_SEVERITY_SCHEMAS: [&str; 1] = ["LevelSeverities"];
/// The component holding the time-zone names.
const TIME_ZONE: &str = "TimeZone";
/// Field names whose values are lists of user ids (a rotation's members).
const USER_LIST_FIELDS: [&str; 1] = ["members"];

/// The served document: `doc` with the contract's tiers and severities, and the time zones,
/// given as `enum`s wherever a field or query parameter takes one.
pub fn served(doc: &utoipa::openapi::OpenApi, contract: &Contract) -> Value {
    let mut doc = serde_json::to_value(doc).expect("an OpenAPI document is JSON");
    let tiers: Vec<Value> = contract.tiers.keys().map(|t| json!(t.as_str())).collect();
    let severities: Vec<Value> = contract.severities.keys().map(|s| json!(s.as_str())).collect();
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            let all_severities = ALL_SEVERITY_SCHEMAS.contains(&name.as_str());
            let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else { continue };
            for (field, property) in properties.iter_mut() {
                if all_severities || SEVERITY_FIELDS.contains(&field.as_str()) {
                    restrict(property, &severities);
                } else if TIER_FIELDS.contains(&field.as_str()) {
                    restrict(property, &tiers);
                } else if field == "time_zone" {
                    refer(property, TIME_ZONE);
                } else if USER_LIST_FIELDS.contains(&field.as_str()) && property["type"] == "array" {
                    property["items"] = json!({ "$ref": "#/components/schemas/UserRef" });
                }
            }
        }
        let zones: Vec<Value> = jiff::tz::db().available().map(|name| json!(name.as_str())).collect();
        let description = "An IANA time zone of the server's time-zone database, e.g. Europe/Paris.";
        let mut zone = json!({ "type": "string", "description": description });
        if !zones.is_empty() {
            zone["enum"] = Value::Array(zones);
        }
        schemas.insert(TIME_ZONE.into(), zone);
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for parameter in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
            .filter_map(|operation| operation.get_mut("parameters").and_then(Value::as_array_mut))
            .flatten()
        {
            let name = parameter.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            if let Some(schema) = parameter.get_mut("schema") {
                if SEVERITY_FIELDS.contains(&name.as_str()) {
                    restrict(schema, &severities);
                } else if TIER_FIELDS.contains(&name.as_str()) {
                    restrict(schema, &tiers);
                }
            }
        }
    }
    doc
}

/// Gives a string schema (or a nullable one, `["string","null"]`) its allowed values; any
/// other schema (an object of severities, say) is left alone.
fn restrict(schema: &mut Value, values: &[Value]) {
    let string = |t: &Value| t == "string";
    let kind = schema.get("type");
    if !kind.is_some_and(|t| string(t) || t.as_array().is_some_and(|a| a.iter().any(string))) {
        return;
    }
    let nullable = kind.and_then(Value::as_array).is_some_and(|t| t.contains(&json!("null")));
    let mut allowed = values.to_vec();
    if nullable {
        allowed.push(Value::Null);
    }
    if let Some(object) = schema.as_object_mut() {
        object.remove("pattern");
        object.insert("enum".into(), Value::Array(allowed));
    }
}

/// Makes a string schema (or a nullable one) refer to the named component, keeping its
/// description.
fn refer(schema: &mut Value, component: &str) {
    let nullable = schema.get("type").and_then(Value::as_array).is_some_and(|t| t.contains(&json!("null")));
    let reference = json!({ "$ref": format!("#/components/schemas/{component}") });
    let mut replaced = if nullable { json!({ "oneOf": [reference, { "type": "null" }] }) } else { reference };
    if let (Some(description), Some(object)) = (schema.get("description").cloned(), replaced.as_object_mut()) {
        object.insert("description".into(), description);
    }
    *schema = replaced;
}

/// A user's id as the API writes it (`usr_…`), for lists of users in a body.
pub(crate) struct UserRef;

impl utoipa::PartialSchema for UserRef {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).pattern(Some("^usr_[0-9A-HJKMNP-TV-Z]{26}$")).into()
    }
}

impl utoipa::ToSchema for UserRef {}

/// A token scope's name (`read`, `write`, `admin`), as the access policy names them.
pub(crate) struct ScopeName;

impl utoipa::PartialSchema for ScopeName {
    fn schema() -> RefOr<Schema> {
        let names = Scopes::ALL.names();
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names)).into()
    }
}

impl utoipa::ToSchema for ScopeName {}

/// A mail domain: dot-separated labels of letters, digits and hyphens (a leading `@` is
/// dropped), as the org mail rules check them.
pub(crate) struct DomainName;

impl utoipa::PartialSchema for DomainName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(253))
            .pattern(Some(r"^ *@?[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+ *$"))
            .into()
    }
}

impl utoipa::ToSchema for DomainName {}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> utoipa::openapi::OpenApi {
        serde_json::from_value(json!({
            "openapi": "3.1.0",
            "info": { "title": "t", "version": "1" },
            "paths": { "/t": { "get": {
                "parameters": [{ "name": "tier", "in": "query", "required": false, "schema": { "type": "string" } }],
                "responses": {}
            } } },
            "components": { "schemas": {
                "Org": { "type": "object", "properties": {
                    "tier": { "type": "string" },
                    "severity": { "type": ["string", "null"] },
                    "time_zone": { "type": ["string", "null"], "description": "Where." }
                } },
                "LevelSeverities": { "type": "object", "properties": { "critical": { "type": "string" } } },
                "Rotation": { "type": "object", "properties": {
                    "members": { "type": "array", "items": { "type": "string" } }
                } },
                "Key": { "type": "object", "properties": {
                    "severity": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/LevelSeverities" }] }
                } }
            } }
        }))
        .unwrap()
    }

    #[test]
    fn the_contracts_names_and_the_zones_become_enums() {
        let served = served(&doc(), &Contract::default_contract());
        let org = &served["components"]["schemas"]["Org"]["properties"];
        assert_eq!(org["tier"]["enum"], json!(["pro", "enterprise"]));
        assert_eq!(org["severity"]["enum"], json!(["P1", "P2", "P3", "P4", null]));
        assert_eq!(org["time_zone"]["oneOf"][0]["$ref"], "#/components/schemas/TimeZone");
        assert_eq!(org["time_zone"]["description"], "Where.");
        assert_eq!(served["components"]["schemas"]["LevelSeverities"]["properties"]["critical"]["enum"][0], "P1");
        assert_eq!(served["paths"]["/t"]["get"]["parameters"][0]["schema"]["enum"], json!(["pro", "enterprise"]));
        let rotation = &served["components"]["schemas"]["Rotation"]["properties"];
        assert_eq!(rotation["members"]["items"]["$ref"], "#/components/schemas/UserRef");
        let key = &served["components"]["schemas"]["Key"]["properties"]["severity"];
        assert!(key.get("enum").is_none(), "an object of severities is not itself one: {key}");
        let zones = served["components"]["schemas"]["TimeZone"]["enum"].as_array().unwrap();
        assert!(zones.contains(&json!("Europe/Paris")) && zones.contains(&json!("UTC")));
    }
}
