//! The OpenAPI 3.1 document of the JSON API, served at `/api/openapi.json`. Written here by
//! hand next to the routes; a snapshot test keeps it from changing unnoticed and another
//! checks that every `/api` route of the router is in it and answers.

use axum::Json;
use axum::response::IntoResponse;
use iip_exchange::spec;
use serde_json::{Map, Value, json};

/// Request body schema for a file of the exchange format: its columns as string (or number)
/// properties, without the ones the server sets; no other property.
fn record_schema(file: &spec::FileSpec, server_keys: &[&str]) -> Value {
    let columns: Vec<&spec::Column> = file.columns.iter().filter(|c| !server_keys.contains(&c.name)).collect();
    let properties: Map<String, Value> = columns
        .iter()
        .map(|c| {
            // A required field must be there and not empty; an optional one may be null (absent).
            let mut schema = if c.required {
                json!({ "type": ["string", "number"], "minLength": 1 })
            } else {
                json!({ "type": ["string", "number", "null"] })
            };
            if c.identifying {
                schema["description"] = json!("Identifying: stored apart, never logged or shown in aggregates.");
            }
            (c.name.to_owned(), schema)
        })
        .collect();
    let required: Vec<&str> = columns.iter().filter(|c| c.required).map(|c| c.name).collect();
    json!({
        "type": "object",
        "description": format!("The columns of {} (docs/exchange-format.md).", file.name),
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn error_responses() -> Value {
    json!({
        "400": { "description": "Malformed request", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "401": { "description": "Not signed in", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "403": { "description": "Not allowed for this account", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "404": { "description": "Not found (or not in your organization)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "413": { "description": "The body is larger than the server accepts" },
        "415": { "description": "The body is not JSON (Content-Type: application/json)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "503": { "description": "The store is unavailable for now (Retry-After): nothing was written, or, when the message says so, the connection was lost during the commit and the write may be recorded (send it again with its Idempotency-Key)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
    })
}

fn with_errors(mut responses: Value) -> Value {
    if let (Some(target), Value::Object(errors)) = (responses.as_object_mut(), error_responses()) {
        for (code, response) in errors {
            target.entry(code).or_insert(response);
        }
    }
    responses
}

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// The whole document.
pub fn spec_document() -> Value {
    let participant_id = json!({ "name": "participant_id", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$" } });
    let idempotency_key = json!({ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "pattern": "^\"?[!-~]{1,255}\"?$" }, "description": "A key of your choosing (a UUID) for this write: sent again with the same key, after an answer was lost, the write is not recorded twice and the first answer comes back with `Idempotent-Replayed: true`. Kept for a day, per organization. The same key with a different request: 422." });
    let query = |name: &str, description: &str| json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" }, "description": description });
    let dimension = iip_metrics::Dimension::ALL
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join("|");
    let year = json!({ "name": "year", "in": "query", "required": false, "schema": { "type": "string", "pattern": "^([0-9]{4}-[0-9]{2})?$" }, "description": "Program year, e.g. 2024-25; empty: the latest" });
    let by = json!({ "name": "by", "in": "query", "required": false, "schema": { "type": "string", "pattern": format!("^(({dimension})(,({dimension}))?)?$") }, "description": "Up to two comma-separated breakdowns; empty: none" });
    let invalid = json_response(
        "The record breaks a rule; every field is named (or the Idempotency-Key was used for another request)",
        json!({ "$ref": "#/components/schemas/FieldErrors" }),
    );
    let gap_report = json!({ "type": "object", "required": ["threshold", "cells", "gaps", "heat_map"], "properties": {
                    "threshold": { "type": "integer" }, "cells": { "type": "array", "items": { "type": "object" } },
                    "gaps": { "type": "array", "items": { "type": "object", "required": ["rank", "area", "element", "gap_score", "sentence"], "properties": {
                        "rank": { "type": "integer" }, "area": { "type": "string" }, "element": { "type": "string" }, "language": { "type": ["string", "null"] },
                        "need_count": { "type": ["integer", "null"], "description": "Never 1 to 9" }, "gap_score": { "type": "number" }, "sentence": { "type": "string" } } } },
                    "heat_map": { "type": "object" }, "unplaced_needs": { "type": ["integer", "null"] } } });
    let referral_report = json!({ "type": "object", "required": ["rows"], "properties": { "rows": { "type": "array", "items": { "type": "object",
                    "required": ["breakdown", "group"], "properties": {
                        "breakdown": { "type": "string" }, "group": { "type": "string" },
                        "sent": { "type": ["integer", "null"], "description": "Never 1 to 9" }, "accepted": { "type": ["integer", "null"] }, "completed": { "type": ["integer", "null"] },
                        "acceptance_rate": { "type": ["number", "null"] }, "completion_rate": { "type": ["number", "null"] },
                        "median_days_to_acceptance": { "type": ["number", "null"] }, "median_days_to_completion": { "type": ["number", "null"] } } } } } });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "IIP — Immigrant Integration Pathway API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Case work and suppressed metrics. Authenticate with a bearer token (`iip token create`) or a signed-in session. Every count from 1 to 9 is withheld in every response.",
            "license": { "name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later" },
        },
        "security": [ { "bearer": [] }, { "session": [] } ],
        "paths": {
            "/api/metrics": { "get": {
                "summary": "Suppressed metrics for a program year, every scope in view or one",
                "parameters": [ year.clone(), query("scope", "An organization or roll-up (sector:…, level:…)"), query("metric", "Comma-separated metric ids; the core set when omitted"), by ],
                "responses": with_errors(json!({ "200": json_response("The report", json!({ "$ref": "#/components/schemas/Report" })) })),
            } },
            "/api/funding": { "get": {
                "summary": "The funding simulator's allocations (state-wide roles)",
                "parameters": [ year, { "name": "w0", "in": "query", "required": false, "schema": { "type": "number", "minimum": 0, "maximum": 1000 }, "description": "Weight of indicator 0 (w1, w2, … likewise)" } ],
                "responses": with_errors(json!({ "200": json_response("Allocations in cents", json!({ "type": "object" })) })),
            } },
            "/api/participants": {
                "get": {
                    "summary": "The first 200 participants of your organization",
                    "responses": with_errors(json!({ "200": json_response("Participants", json!({ "$ref": "#/components/schemas/ParticipantList" })) })),
                },
                "post": {
                    "summary": "Intake: a new participant of your organization",
                    "parameters": [ idempotency_key.clone() ],
                    "requestBody": json_body(record_schema(&spec::PARTICIPANTS, &["org_id"])),
                    "responses": with_errors(json!({
                        "201": json_response("Created", json!({ "type": "object", "properties": { "participant_id": { "type": "string" } }, "required": ["participant_id"] })),
                        "409": json_response("The participant_id is taken", json!({ "$ref": "#/components/schemas/Error" })),
                        "422": invalid.clone(),
                    })),
                },
            },
            "/api/participants/search": { "post": {
                "summary": "Search your organization's participants by id prefix or name (POST: a name never goes in a URL)",
                "requestBody": json_body(json!({ "type": "object", "properties": { "q": { "type": ["string", "null"], "maxLength": 100, "description": "Empty or null: the first 200" } }, "additionalProperties": false })),
                "responses": with_errors(json!({ "200": json_response("Participants", json!({ "$ref": "#/components/schemas/ParticipantList" })), "422": json_response("Bad search", json!({ "$ref": "#/components/schemas/Error" })) })),
            } },
            "/api/participants/{participant_id}": { "get": {
                "summary": "A participant of your organization and their pathway",
                "parameters": [ participant_id.clone() ],
                "responses": with_errors(json!({ "200": json_response("The participant", json!({ "type": "object", "required": ["participant", "activities", "milestones", "assessments", "needs", "goals"] })) })),
            } },
            "/api/participants/{participant_id}/activities": { "post": {
                "summary": "Record an activity session",
                "parameters": [ participant_id.clone(), idempotency_key.clone() ],
                "requestBody": json_body(record_schema(&spec::ACTIVITIES, &["org_id", "participant_id"])),
                "responses": with_errors(json!({ "201": json_response("Recorded", json!({ "$ref": "#/components/schemas/Recorded" })), "422": invalid.clone() })),
            } },
            "/api/participants/{participant_id}/milestones": { "post": {
                "summary": "Record a milestone (ids from the framework)",
                "parameters": [ participant_id.clone(), idempotency_key.clone() ],
                "requestBody": json_body(record_schema(&spec::MILESTONES, &["org_id", "participant_id"])),
                "responses": with_errors(json!({ "201": json_response("Recorded", json!({ "$ref": "#/components/schemas/Recorded" })), "409": json_response("Already recorded on that date", json!({ "$ref": "#/components/schemas/Error" })), "422": invalid.clone() })),
            } },
            "/api/participants/{participant_id}/assessments": { "post": {
                "summary": "Record an assessment score (the same instrument and date replaces it)",
                "parameters": [ participant_id, idempotency_key ],
                "requestBody": json_body(record_schema(&spec::ASSESSMENTS, &["org_id", "participant_id"])),
                "responses": with_errors(json!({ "201": json_response("Recorded", json!({ "$ref": "#/components/schemas/Recorded" })), "422": invalid })),
            } },
            "/api/services": { "get": {
                "summary": "Search the service directory (not personal data): every filter is optional",
                "parameters": [
                    { "name": "element", "in": "query", "required": false, "schema": { "type": "string", "pattern": "^[a-z_]{0,40}$" }, "description": "A framework element id" },
                    { "name": "language", "in": "query", "required": false, "schema": { "type": "string", "pattern": "^([a-z]{2})?$" }, "description": "ISO 639-1 code" },
                    { "name": "area", "in": "query", "required": false, "schema": { "type": "string", "maxLength": 100 }, "description": "A city, county or ZIP code" },
                    { "name": "regardless_of_status", "in": "query", "required": false, "schema": { "type": "string", "enum": ["", "true", "false", "on", "1", "0"] } },
                    { "name": "free", "in": "query", "required": false, "schema": { "type": "string", "enum": ["", "true", "false", "on", "1", "0"] } },
                    { "name": "q", "in": "query", "required": false, "schema": { "type": "string", "maxLength": 100 }, "description": "Words in the name or description" },
                ],
                "responses": with_errors(json!({ "200": json_response("Matching services", json!({ "$ref": "#/components/schemas/ServiceList" })) })),
            } },
            "/api/gaps": { "get": {
                "summary": "Community gap analysis of the areas in your view: need against capacity by area, element and language, ranked, with the heat map (participant counts from 1 to 9 withheld)",
                "responses": with_errors(json!({ "200": json_response("The gap report", gap_report) })),
            } },
            "/api/referrals/metrics": { "get": {
                "summary": "Referral metrics of a program year: sent, accepted, completed, median days, by element, partner and sector (suppressed)",
                "parameters": [ { "name": "year", "in": "query", "required": false, "schema": { "type": "string", "pattern": "^([0-9]{4}-[0-9]{2})?$" }, "description": "Program year, e.g. 2024-25; empty: the default" } ],
                "responses": with_errors(json!({ "200": json_response("The referral report", referral_report) })),
            } },
            "/api/openapi.json": { "get": {
                "summary": "This document",
                "security": [],
                "responses": { "200": json_response("OpenAPI 3.1", json!({ "type": "object" })) },
            } },
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "A token from `iip token create`, acting as one account" },
                "session": { "type": "apiKey", "in": "cookie", "name": "iip_session" },
            },
            "schemas": {
                "Error": { "type": "object", "properties": { "error": { "type": "string" } }, "required": ["error"] },
                "FieldErrors": { "type": "object", "properties": { "error": { "type": "string" }, "fields": { "type": "object", "additionalProperties": { "type": "string" }, "description": "Each refused field and why (absent when the body is not an object)" } }, "required": ["error"] },
                "ServiceList": { "type": "object", "required": ["services"], "properties": { "services": { "type": "array", "items": { "type": "object",
                    "required": ["service_id", "org_id", "name", "elements", "languages", "regardless_of_status", "free", "areas", "locations"],
                    "properties": {
                        "service_id": { "type": "string" }, "org_id": { "type": "string" }, "name": { "type": "string" },
                        "description": { "type": ["string", "null"] }, "elements": { "type": "array", "items": { "type": "string" } },
                        "languages": { "type": "array", "items": { "type": "string" } }, "eligibility": { "type": ["string", "null"] },
                        "regardless_of_status": { "type": "boolean" }, "free": { "type": "boolean" }, "fees": { "type": ["string", "null"] },
                        "schedule": { "type": ["string", "null"] }, "areas": { "type": "array", "items": { "type": "string" } },
                        "locations": { "type": "array", "items": { "type": "object" } }, "url": { "type": ["string", "null"] }, "email": { "type": ["string", "null"] } } } } } },
                "Recorded": { "type": "object", "properties": { "recorded": { "type": "string" } }, "required": ["recorded"] },
                "ParticipantList": { "type": "object", "properties": { "participants": { "type": "array", "items": { "type": "object", "properties": {
                    "participant_id": { "type": "string" }, "first_name": { "type": ["string", "null"] }, "last_name": { "type": ["string", "null"] },
                    "primary_language": { "type": ["string", "null"] }, "last_activity": { "type": ["string", "null"], "format": "date" } }, "required": ["participant_id"] } } }, "required": ["participants"] },
                "Report": { "type": "object", "required": ["year", "rows"], "properties": {
                    "year": { "type": "string" }, "framework_version": { "type": "string" }, "metrics_version": { "type": "string" },
                    "by": { "type": "array", "items": { "type": "string" } },
                    "rows": { "type": "array", "items": { "type": "object", "required": ["scope_id", "metric", "suppressed"], "properties": {
                        "scope_id": { "type": "string" }, "metric": { "type": "string" }, "groups": { "type": "object", "additionalProperties": { "type": "string" } },
                        "numerator": { "type": ["integer", "null"], "description": "Never 1 to 9" }, "denominator": { "type": ["integer", "null"] },
                        "rate": { "type": ["number", "null"] }, "value": { "type": ["number", "null"] }, "suppressed": { "type": "boolean" } } } } } },
            },
        },
    })
}

pub async fn document() -> impl IntoResponse {
    Json(spec_document())
}
