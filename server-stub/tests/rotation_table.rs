//! The rotation conformance table (`crates/consult-core/tests/data/rotation.json`), run
//! against the stub's own refresh and logout (`AppState::refresh`, `AppState::logout`: the
//! lenient token checks, then the store's atomic rotation) over each storage backend:
//! `MemoryStorage`, and `RedisStorage` on a real `redis-server` (append-only, `noeviction`).
//! consult-core's `tests/rotation_table.rs` runs the same file against the simulator's server
//! model, so the three readings of the rule cannot drift apart.
//!
//! Each case is its own sign-in on its own application with a manual clock. In Redis the reuse
//! window and the rate limit are judged on Redis's `TIME`, so the Redis run also waits, after
//! each step, the real time to the next (a loaded machine only lengthens the gaps, which the
//! table's margins allow); the cases run side by side.

#[path = "common/redis_server.rs"]
mod redis_server;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use consult_stub::clock::ManualClock;
use consult_stub::config::Settings;
use consult_stub::error::ApiError;
use consult_stub::state::AppState;
use consult_stub::tokens::User;
use redis_server::RedisServer;
use serde_json::Value;

const SECRET: &[u8] = b"rotation-table-secret-of-32-bytes!!";

fn table() -> Value {
    serde_json::from_str(include_str!(
        "../../crates/consult-core/tests/data/rotation.json"
    ))
    .unwrap_or_else(|e| panic!("rotation.json: {e}"))
}

fn millis(rules: &Value, key: &str) -> Duration {
    let ms = rules[key]
        .as_u64()
        .unwrap_or_else(|| panic!("rotation.json rules: {key}"));
    Duration::from_millis(ms)
}

/// The table's rules as the stub's settings; the rate limit out of the way.
fn settings(rules: &Value, redis_url: Option<&str>) -> Settings {
    let mut settings = Settings::with_secret(SECRET.to_vec());
    settings.token_ttl = millis(rules, "ttl_ms");
    settings.refresh_grace = millis(rules, "grace_ms");
    settings.session_max_age = millis(rules, "max_age_ms");
    settings.reuse_window = millis(rules, "reuse_window_ms");
    settings.limits.refresh_burst = 1_000;
    settings.redis_url = redis_url.map(str::to_owned);
    settings
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let value =
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap_or_else(|e| panic!("header: {e}"));
    headers.insert(header::AUTHORIZATION, value);
    headers
}

/// What one refresh got, in the table's words.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Token(String),
    Refused(String),
}

fn got(answer: Result<consult_stub::auth::TokenResponse, ApiError>) -> Got {
    match answer {
        Ok(response) => Got::Token(response.access_token),
        Err(ApiError::Auth(reason)) => Got::Refused(reason.code().to_owned()),
        Err(other) => Got::Refused(format!("not a credential refusal: {other:?}")),
    }
}

/// Runs one case; its failures, each naming the case and the step.
async fn run_case(rules: &Value, case: &Value, redis_url: Option<&str>) -> Vec<String> {
    let name = case["case"].as_str().unwrap_or("?");
    let start_unix = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = ManualClock::starting_at_unix(start_unix);
    let (_router, app): (_, AppState) =
        consult_stub::connect_app(settings(rules, redis_url), Arc::new(clock.clone()))
            .await
            .unwrap_or_else(|e| panic!("{name}: the application: {e}"));
    let user = User {
        user_id: "u1".into(),
        email: "u1@example.test".into(),
        role: "PATIENT".into(),
        name: "u1".into(),
    };
    let first: consult_stub::auth::TokenResponse = app
        .mint(user, i64::MAX)
        .await
        .unwrap_or_else(|e| panic!("{name}: mint: {e:?}"));
    let mut names: HashMap<String, String> = HashMap::from([("t0".to_owned(), first.access_token)]);
    let mut failures = Vec::new();
    let mut at = 0;
    for (index, step) in case["steps"].as_array().into_iter().flatten().enumerate() {
        let where_ = format!("{name}, step {} (at {} ms)", index + 1, step["at_ms"]);
        let step_at = step["at_ms"].as_u64().unwrap_or(0);
        let gap = step_at.saturating_sub(at);
        clock.advance(time::Duration::milliseconds(
            i64::try_from(gap).unwrap_or(0),
        ));
        at = step_at;
        if redis_url.is_some() {
            tokio::time::sleep(Duration::from_millis(gap)).await;
        }
        let token_of = |key: &str| {
            let token_name = step[key].as_str().unwrap_or("?");
            names
                .get(token_name)
                .cloned()
                .unwrap_or_else(|| panic!("{where_}: {token_name} was never issued"))
        };
        if step.get("logout").is_some() {
            let token = token_of("logout");
            if let Err(e) = app.logout(&bearer(&token)).await {
                failures.push(format!("{where_}: logout refused: {e:?}"));
            }
            continue;
        }
        let token = token_of("refresh");
        let together = step["together"].as_u64().unwrap_or(1) as usize;
        let headers = bearer(&token);
        let answers: Vec<Got> =
            futures::future::join_all((0..together).map(|_| app.refresh(&headers)))
                .await
                .into_iter()
                .map(got)
                .collect();
        for answer in answers {
            let expected = match (step["gets"].as_str(), step["refused"].as_str()) {
                (Some(token_name), _) => match names.get(token_name) {
                    Some(known) => Got::Token(known.clone()),
                    None => match &answer {
                        Got::Token(new) if !names.values().any(|t| t == new) => {
                            names.insert(token_name.to_owned(), new.clone());
                            continue;
                        }
                        _ => Got::Token(format!("a new token {token_name}")),
                    },
                },
                (None, Some(code)) => Got::Refused(code.to_owned()),
                (None, None) => panic!("{where_}: neither 'gets' nor 'refused'"),
            };
            if answer != expected {
                failures.push(format!(
                    "{where_}: expected {expected:?}, got {}",
                    describe(&answer, &names)
                ));
            }
        }
    }
    failures
}

/// An answer with tokens by their table name where they have one.
fn describe(answer: &Got, names: &HashMap<String, String>) -> String {
    match answer {
        Got::Token(token) => match names.iter().find(|(_, t)| *t == token) {
            Some((name, _)) => format!("token {name}"),
            None => "an unknown token".to_owned(),
        },
        Got::Refused(code) => format!("refused {code}"),
    }
}

async fn run_table(redis_url: Option<&str>) {
    let table = table();
    let rules = &table["rules"];
    let cases = table["cases"].as_array().cloned().unwrap_or_default();
    assert!(cases.len() >= 8, "rotation.json has its cases");
    let failures: Vec<String> =
        futures::future::join_all(cases.iter().map(|case| run_case(rules, case, redis_url)))
            .await
            .into_iter()
            .flatten()
            .collect();
    assert!(
        failures.is_empty(),
        "the stub ({}) disagrees with the rotation table:\n{}",
        if redis_url.is_some() {
            "Redis"
        } else {
            "memory"
        },
        failures.join("\n")
    );
}

#[tokio::test]
async fn memory_storage_follows_the_rotation_table() {
    run_table(None).await;
}

#[tokio::test]
async fn redis_storage_follows_the_rotation_table() {
    let redis = RedisServer::start();
    run_table(Some(&redis.url)).await;
}
