//! The options table (`tests/data/options.json`): what each application option becomes — the
//! default when absent, the meaning of 0, the bounds — as core settles it. consult-client runs
//! the same file through both of its drivers (`src/options_table.rs`), so the two drivers
//! cannot give one option two meanings.

use consult_core::connection::ConnectionConfig;
use consult_core::json::Json;
use consult_core::poll;
use consult_core::session::SessionConfig;

/// One row: its name, then each option as given (`None`: absent) and as settled.
struct Row {
    name: String,
    given: Json,
    settled: Json,
}

fn rows() -> Vec<Row> {
    let table = Json::parse(include_str!("data/options.json")).expect("options.json is JSON");
    let Json::Array(rows) = table else {
        panic!("options.json is an array")
    };
    rows.into_iter()
        .map(|row| Row {
            name: row
                .get("row")
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_owned(),
            given: row.get("given").cloned().unwrap_or(Json::Null),
            settled: row.get("settled").cloned().unwrap_or(Json::Null),
        })
        .collect()
}

fn number(json: &Json, key: &str) -> Option<f64> {
    json.get(key).and_then(Json::as_f64)
}

fn text(json: &Json, key: &str) -> Option<String> {
    json.get(key).and_then(Json::as_str).map(str::to_owned)
}

#[test]
fn core_settles_every_option_of_the_table() {
    for row in rows() {
        let (given, settled, name) = (&row.given, &row.settled, &row.name);
        let session = SessionConfig::from_options(
            number(given, "marginSeconds"),
            number(given, "timeoutMs"),
            number(given, "retries"),
        );
        assert_eq!(
            Some(session.policy.margin_ms as f64),
            number(settled, "marginMs"),
            "{name}: margin"
        );
        let timeout =
            (session.request_timeout_ms != u64::MAX).then_some(session.request_timeout_ms);
        assert_eq!(
            timeout.map(|ms| ms as f64),
            number(settled, "timeoutMs"),
            "{name}: request timeout (null: none)"
        );
        assert_eq!(
            Some(f64::from(session.refresh_retries)),
            number(settled, "retries"),
            "{name}: retries"
        );
        let interval = poll::interval_ms(number(given, "intervalMs"));
        assert_eq!(
            Some(interval as f64),
            number(settled, "intervalMs"),
            "{name}: interval"
        );
        let socket = ConnectionConfig::from_options(
            text(given, "namespace"),
            number(given, "attempts"),
            number(given, "delayMs"),
            number(given, "maxDelayMs"),
        );
        assert_eq!(Some(socket.namespace), text(settled, "namespace"), "{name}");
        let socket_numbers = [
            f64::from(socket.reconnect_attempts),
            socket.reconnect_delay_ms as f64,
            socket.reconnect_max_delay_ms as f64,
        ];
        let expected = ["attempts", "delayMs", "maxDelayMs"].map(|key| number(settled, key));
        assert_eq!(socket_numbers.map(Some), expected, "{name}: reconnection");
    }
}
