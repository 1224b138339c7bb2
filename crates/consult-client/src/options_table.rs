//! The options table (`consult-core/tests/data/options.json`, which core's own test settles and
//! the JavaScript driver runs too) fed to this driver's options (absent: what
//! `ClientOptions::new` and the `Default`s hold; a value its Rust type cannot hold is skipped).
//! It must settle every option as the table says: one default, one meaning of 0, one set of
//! bounds.

use consult_core::connection::{ConnectionConfig, RoomJoin};
use consult_core::json::Json;
use consult_core::session::SessionConfig;

use crate::client::{ClientOptions, request_timeout};

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
            timeout_ms: request_timeout(session).map(f64::from),
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

fn room() -> RoomJoin {
    RoomJoin {
        room_id: "r".into(),
        session_id: "s".into(),
        user_id: "u".into(),
        role: "PATIENT".into(),
    }
}

/// The Rust driver, or `None` when a given value does not fit its option's Rust type (the
/// compiler refuses it there).
fn rust(given: &Json) -> Option<Settled> {
    fn whole<T: TryFrom<u64>>(value: Option<f64>, default: T) -> Option<T> {
        match value {
            None => Some(default),
            Some(v) if v >= 0.0 && v.fract() == 0.0 => T::try_from(v as u64).ok(),
            Some(_) => None,
        }
    }
    let number = |key| given.get(key).and_then(Json::as_f64);
    let mut options = ClientOptions::new("http://127.0.0.1:9");
    if let Some(margin) = number("marginSeconds") {
        options.refresh_margin_seconds = margin;
    }
    options.request_timeout_ms = whole(number("timeoutMs"), options.request_timeout_ms)?;
    options.refresh_retries = whole(number("retries"), options.refresh_retries)?;
    let interval_ms = whole(number("intervalMs"), 5_000u32)?;
    let poll = crate::poller::PollOptions {
        interval_ms,
        on_update: std::rc::Rc::new(|_| {}),
        on_error: None,
        on_end: None,
    };
    let defaults = ConnectionConfig::default();
    let mut reconnection = ConnectionConfig::default();
    if let Some(namespace) = given.get("namespace").and_then(Json::as_str) {
        reconnection.namespace = namespace.to_owned();
    }
    reconnection.reconnect_attempts = whole(number("attempts"), defaults.reconnect_attempts)?;
    reconnection.reconnect_delay_ms = whole(number("delayMs"), defaults.reconnect_delay_ms)?;
    reconnection.reconnect_max_delay_ms =
        whole(number("maxDelayMs"), defaults.reconnect_max_delay_ms)?;
    let socket = crate::socket::connection_config(reconnection, room());
    Some(Settled::of(
        &options.session_config(true),
        poll.settled_interval_ms(),
        &socket,
    ))
}

#[test]
fn the_rust_driver_settles_every_option_of_the_table_as_core_does() {
    let table = Json::parse(include_str!("../../consult-core/tests/data/options.json"));
    let Some(Json::Array(rows)) = table else {
        panic!("options.json is a JSON array")
    };
    let mut ran = 0;
    for row in &rows {
        let name = row.get("row").and_then(Json::as_str).unwrap_or("?");
        let given = row.get("given").cloned().unwrap_or(Json::Null);
        let expected = Settled::expected(row.get("settled").unwrap_or(&Json::Null));
        if let Some(settled) = rust(&given) {
            assert_eq!(settled, expected, "the Rust driver: {name}");
            ran += 1;
        }
    }
    assert!(ran >= 5, "the Rust driver ran {ran} rows");
}
