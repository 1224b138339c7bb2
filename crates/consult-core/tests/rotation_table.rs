//! The rotation conformance table (`tests/data/rotation.json`), run against the simulator's
//! server model (`tests/simulator/server.rs`), the judge every simulated tab is checked
//! against. consult-stub's `tests/rotation_table.rs` runs the same file against its
//! `MemoryStorage` and `RedisStorage`: the model cannot judge by a rule the server does not
//! keep.

#[allow(dead_code)] // the simulator uses the rest of the model
#[path = "simulator/server.rs"]
mod server;

use std::collections::HashMap;

use consult_core::json::Json;
use server::{Outcome, Refusal, Rules, Server};

fn number(json: &Json, key: &str) -> i64 {
    json.get(key)
        .and_then(Json::as_f64)
        .unwrap_or_else(|| panic!("rotation.json: {key}")) as i64
}

fn text<'a>(json: &'a Json, key: &str) -> Option<&'a str> {
    json.get(key).and_then(Json::as_str)
}

/// The refusal as the stub's error code (what the client sees on the wire).
fn code(why: Refusal) -> &'static str {
    match why {
        Refusal::Unknown => "invalid_token",
        Refusal::Revoked | Refusal::SignedOut => "session_revoked",
        Refusal::PastGrace => "refresh_window_expired",
        Refusal::PastCap => "session_expired",
        Refusal::Reuse => "token_reused",
    }
}

/// Runs one case on a fresh server; its failures, each naming the case and the step.
fn run_case(rules: &Json, case: &Json) -> Vec<String> {
    let name = text(case, "case").unwrap_or("?");
    let mut server = Server::new(Rules {
        ttl_ms: number(rules, "ttl_ms"),
        grace_ms: number(rules, "grace_ms"),
        max_age_ms: number(rules, "max_age_ms"),
        reuse_window_ms: number(rules, "reuse_window_ms"),
        rotated_tokens_work: true,
        instance_offsets_ms: vec![0],
    });
    let (first, _) = server.sign_in(0);
    let mut names = HashMap::from([("t0".to_owned(), first)]);
    let mut failures = Vec::new();
    let steps = match case.get("steps") {
        Some(Json::Array(steps)) => steps.as_slice(),
        _ => &[],
    };
    for (index, step) in steps.iter().enumerate() {
        let at = number(step, "at_ms");
        let where_ = format!("{name}, step {} (at {at} ms)", index + 1);
        let token_of = |key: &str| {
            let token_name = text(step, key).unwrap_or("?");
            names
                .get(token_name)
                .cloned()
                .unwrap_or_else(|| panic!("{where_}: {token_name} was never issued"))
        };
        if let Some(Json::String(_)) = step.get("logout") {
            server.logout(&token_of("logout"));
            continue;
        }
        let token = token_of("refresh");
        let together = step.get("together").and_then(Json::as_f64).unwrap_or(1.0) as usize;
        for _ in 0..together {
            let answer = match server.refresh(at, 0, &token, None) {
                Outcome::Issued(text, _, _) => Ok(text),
                Outcome::Refused(why) => Err(code(why).to_owned()),
            };
            let described = match &answer {
                Ok(t) => names
                    .iter()
                    .find(|(_, known)| *known == t)
                    .map_or_else(|| "a new token".to_owned(), |(n, _)| format!("token {n}")),
                Err(code) => format!("refused {code}"),
            };
            match (text(step, "gets"), text(step, "refused"), answer) {
                (Some(wanted), _, Ok(got)) => match names.get(wanted) {
                    Some(known) if *known == got => {}
                    None if !names.values().any(|t| *t == got) => {
                        names.insert(wanted.to_owned(), got);
                    }
                    _ => failures.push(format!("{where_}: expected {wanted}, got {described}")),
                },
                (None, Some(wanted), Err(got)) if wanted == got => {}
                (gets, refused, _) => failures.push(format!(
                    "{where_}: expected {}, got {described}",
                    gets.map_or_else(|| format!("refused {refused:?}"), str::to_owned)
                )),
            }
        }
    }
    failures
}

#[test]
fn the_simulators_server_model_follows_the_rotation_table() {
    let table = Json::parse(include_str!("data/rotation.json")).expect("rotation.json is JSON");
    let rules = table.get("rules").expect("rotation.json has rules");
    let Some(Json::Array(cases)) = table.get("cases") else {
        panic!("rotation.json has cases")
    };
    assert!(cases.len() >= 8, "rotation.json has its cases");
    let failures: Vec<String> = cases.iter().flat_map(|c| run_case(rules, c)).collect();
    assert!(
        failures.is_empty(),
        "the simulator's server model disagrees with the rotation table:\n{}",
        failures.join("\n")
    );
}
