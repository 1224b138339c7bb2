//! Issue 20, N8: instances whose clocks disagree judge the reuse window and the refresh rate
//! limit on one clock, Redis's. Two instances of the application in this process, each with its
//! own manual clock, share one real `redis-server`.

#[path = "common/redis_server.rs"]
mod redis_server;

use std::sync::Arc;

use consult_stub::clock::ManualClock;
use consult_stub::config::Settings;
use redis_server::RedisServer;
use serde_json::{Value, json};

const SECRET: &[u8] = b"cluster-clock-test-secret-of-at-least-32-bytes";

/// One instance on `redis` with its own clock; its base URL.
async fn instance(
    redis: &RedisServer,
    clock: &ManualClock,
    configure: impl Fn(&mut Settings),
) -> String {
    let mut settings = Settings::with_secret(SECRET.to_vec());
    settings.redis_url = Some(redis.url.clone());
    configure(&mut settings);
    let limits = settings.limits;
    let (router, _state) = consult_stub::connect_app(settings, Arc::new(clock.clone()))
        .await
        .unwrap_or_else(|e| panic!("connect_app: {e}"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(consult_stub::serve::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    format!("http://{address}")
}

async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("request: {e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn mint(http: &reqwest::Client, base: &str, user: &str) -> String {
    let (status, body) = call(
        http.post(format!("{base}/api/dev/token"))
            .json(&json!({"user_id": user, "ttl_secs": 3600})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap_or_default().to_owned()
}

async fn refresh(http: &reqwest::Client, base: &str, token: &str) -> (u16, Value) {
    call(
        http.post(format!("{base}/api/video/auth/refresh-token"))
            .bearer_auth(token),
    )
    .await
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test]
async fn n8_an_instance_whose_clock_runs_ahead_does_not_turn_a_repeat_into_reuse() {
    let redis = RedisServer::start();
    let on_time = ManualClock::starting_at_unix(now());
    let ahead = ManualClock::starting_at_unix(now() + 20);
    let window = |s: &mut Settings| s.reuse_window = std::time::Duration::from_secs(5);
    let a = instance(&redis, &on_time, window).await;
    let b = instance(&redis, &ahead, window).await;
    let http = reqwest::Client::new();
    let token = mint(&http, &a, "pat-n8").await;
    let (status, first) = refresh(&http, &a, &token).await;
    assert_eq!(status, 200, "{first}");
    // At once, through the instance 20 s ahead: a repeat inside the window, by Redis's clock.
    let (status, again) = refresh(&http, &b, &token).await;
    assert_eq!(
        (status, again["access_token"].clone()),
        (200, first["access_token"].clone()),
        "a repeat inside the window was judged on the instance's clock: {again}"
    );
    // And reading with the predecessor there is inside the window too.
    let (status, body) = call(
        http.get(format!("{b}/api/dev/whoami"))
            .bearer_auth(first["access_token"].as_str().unwrap_or_default()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn n8_an_instance_whose_clock_runs_ahead_earns_no_refreshes_early() {
    let redis = RedisServer::start();
    let on_time = ManualClock::starting_at_unix(now());
    let ahead = ManualClock::starting_at_unix(now() + 90 * 60);
    let limits = |s: &mut Settings| {
        s.limits.refresh_burst = 1;
        s.limits.refresh_interval = std::time::Duration::from_secs(3600);
    };
    let a = instance(&redis, &on_time, limits).await;
    let b = instance(&redis, &ahead, limits).await;
    let http = reqwest::Client::new();
    let token = mint(&http, &a, "pat-n8-rate").await;
    let (status, body) = refresh(&http, &a, &token).await;
    assert_eq!(status, 200, "{body}");
    let successor = body["access_token"].as_str().unwrap_or_default().to_owned();
    let (status, body) = refresh(&http, &b, &successor).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited")),
        "the burst was refilled by an instance's clock 90 min ahead: {body}"
    );
}
