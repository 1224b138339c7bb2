//! The options table (`consult-core/tests/data/options.json`, which core's own test settles and
//! consult-client's Rust driver runs too) fed to the JavaScript driver's machines as `js/*.js`
//! builds them: a number as given, anything else — absent — as `undefined` (NaN here). It must
//! settle every option as the table says: one default, one meaning of 0, one set of bounds.

use alloc::string::String;
use consult_core::connection::ConnectionConfig;
use consult_core::json::Json;
use consult_core::session::SessionConfig;

use super::poll::PollMachine;
use super::session::TokenMachine;
use super::socket::SocketMachine;

/// What a driver settled, in the table's terms.
#[derive(Debug, PartialEq)]
struct Settled {
    margin_ms: f64,
    timeout_ms: Option<f64>,
    retries: f64,
    interval_ms: f64,
    namespace: String,
    reconnection: [f64; 3],
}

impl Settled {
    fn of(session: &SessionConfig, interval_ms: u64, socket: &ConnectionConfig) -> Settled {
        Settled {
            margin_ms: session.policy.margin_ms as f64,
            timeout_ms: (session.request_timeout_ms != u64::MAX)
                .then_some(session.request_timeout_ms as f64),
            retries: f64::from(session.refresh_retries),
            interval_ms: interval_ms as f64,
            namespace: socket.namespace.clone(),
            reconnection: [
                f64::from(socket.reconnect_attempts),
                socket.reconnect_delay_ms as f64,
                socket.reconnect_max_delay_ms as f64,
            ],
        }
    }

    fn expected(settled: &Json) -> Settled {
        let number = |key| settled.get(key).and_then(Json::as_f64).unwrap_or(f64::NAN);
        Settled {
            margin_ms: number("marginMs"),
            timeout_ms: settled.get("timeoutMs").and_then(Json::as_f64),
            retries: number("retries"),
            interval_ms: number("intervalMs"),
            namespace: settled
                .get("namespace")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
            reconnection: ["attempts", "delayMs", "maxDelayMs"].map(number),
        }
    }
}

/// The JavaScript driver: every number option as given, the rest `undefined` (NaN).
fn javascript(given: &Json) -> Settled {
    let number = |key| given.get(key).and_then(Json::as_f64).unwrap_or(f64::NAN);
    let session = TokenMachine::new(
        number("marginSeconds"),
        number("timeoutMs"),
        number("retries"),
        true,
        true,
        true,
        1.0,
    );
    let poll = PollMachine::new(number("intervalMs"), 1.0);
    let namespace = given
        .get("namespace")
        .and_then(Json::as_str)
        .map(str::to_owned);
    let socket = SocketMachine::new(
        "http://127.0.0.1:9",
        namespace,
        number("attempts"),
        number("delayMs"),
        number("maxDelayMs"),
        "r".into(),
        "s".into(),
        "u".into(),
        "PATIENT".into(),
        1.0,
    );
    Settled::of(session.config(), poll.interval_ms(), socket.config())
}

#[test]
fn the_javascript_driver_settles_every_option_of_the_table_as_core_does() {
    let table = Json::parse(include_str!("../../consult-core/tests/data/options.json"));
    let Some(Json::Array(rows)) = table else {
        panic!("options.json is a JSON array")
    };
    let mut ran = 0;
    for row in &rows {
        let name = row.get("row").and_then(Json::as_str).unwrap_or("?");
        let given = row.get("given").cloned().unwrap_or(Json::Null);
        let expected = Settled::expected(row.get("settled").unwrap_or(&Json::Null));
        assert_eq!(
            javascript(&given),
            expected,
            "the JavaScript driver: {name}"
        );
        ran += 1;
    }
    assert_eq!(ran, rows.len());
}
