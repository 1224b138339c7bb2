//! The hostile suite's harness: the real `consult-stub` binary on 127.0.0.1 (a port it picks),
//! raw HTTP over TCP, a raw Socket.IO client over WebSocket, and signing with the stub's secret.
//! Every wait is bounded.
#![allow(dead_code)] // not every test uses every helper

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// A running stub; killed when dropped.
pub struct Stub {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The HS256 secret it signs with.
    pub secret: String,
    stderr_path: std::path::PathBuf,
    pub http: reqwest::Client,
}

/// The binary under test: `CONSULT_STUB_BIN` (e.g. the release build) or cargo's own build.
pub fn binary() -> String {
    std::env::var("CONSULT_STUB_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_consult-stub").to_owned())
}

fn random_secret() -> String {
    format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    )
}

/// What a start that must fail printed, and its exit status.
pub fn start_expecting_failure(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(binary());
    if !args.contains(&"--bind") {
        command.args(["--bind", "127.0.0.1"]);
    }
    command
        .args(["--port", "0"])
        .args(args)
        .env_remove("CONSULT_JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let Ok(mut child) = command.spawn() else {
        panic!("cannot spawn {}", binary());
    };
    // A refused configuration exits at once; give it 5 s, then kill (it started: a failure).
    for _ in 0..50 {
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            return (status.success(), stderr);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    (true, "still running after 5 s".to_owned())
}

impl Stub {
    /// Starts the stub with `--dev` and these extra flags.
    pub fn dev(args: &[&str]) -> Stub {
        let mut all = vec!["--dev"];
        all.extend_from_slice(args);
        Stub::start(&all, &[])
    }

    /// Starts the stub with these flags and environment (secret: a random 64-byte one).
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Stub {
        let secret = random_secret();
        let stderr_path = std::env::temp_dir().join(format!(
            "consult-stub-hostile-{}-{:x}.log",
            std::process::id(),
            rand::random::<u32>()
        ));
        let stderr_file =
            std::fs::File::create(&stderr_path).unwrap_or_else(|e| panic!("stderr file: {e}"));
        let mut command = Command::new(binary());
        command
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .args(args)
            .env("CONSULT_JWT_SECRET", &secret)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr_file));
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", binary()));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|e| panic!("consult-stub did not print its address: {e}"));
        let base = line
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let addr = base.trim_start_matches("http://").to_owned();
        Stub {
            child,
            addr,
            base,
            secret,
            stderr_path,
            // Idle connections are dropped before the stub's header-read timeout (5 s) closes
            // them: reusing one the stub is closing fails the request (a keep-alive race that
            // any client must avoid by idling less than its server).
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .pool_idle_timeout(Duration::from_secs(2))
                .build()
                .unwrap_or_else(|e| panic!("client: {e}")),
        }
    }

    /// The process id (to read its memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in KiB, from `/proc`.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Everything the stub wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// A request; returns (status, JSON body or Null, headers).
    pub async fn call(
        &self,
        request: reqwest::RequestBuilder,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_default();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        )
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let (status, body, _) = self
            .call(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await;
        (status, body)
    }

    /// Mints a token (dev); panics unless 200.
    pub async fn mint(&self, user_id: &str, ttl_secs: i64) -> String {
        let (status, body) = self
            .post(
                "/api/dev/token",
                json!({"user_id": user_id, "ttl_secs": ttl_secs}),
            )
            .await;
        assert_eq!(status, 200, "mint: {body}");
        body["access_token"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn refresh(&self, token: &str) -> (u16, Value) {
        let (status, body, _) = self
            .call(
                self.http
                    .post(format!("{}/api/video/auth/refresh-token", self.base))
                    .bearer_auth(token),
            )
            .await;
        (status, body)
    }

    pub async fn logout(&self, token: &str) -> u16 {
        self.call(
            self.http
                .post(format!("{}/api/video/auth/logout", self.base))
                .bearer_auth(token),
        )
        .await
        .0
    }

    pub async fn whoami(&self, token: &str) -> (u16, Value) {
        let (status, body, _) = self
            .call(
                self.http
                    .get(format!("{}/api/dev/whoami", self.base))
                    .bearer_auth(token),
            )
            .await;
        (status, body)
    }

    pub async fn get_session(&self, id: &str, token: &str) -> (u16, Value) {
        let (status, body, _) = self
            .call(
                self.http
                    .get(format!("{}/api/video/sessions/{id}", self.base))
                    .bearer_auth(token),
            )
            .await;
        (status, body)
    }

    /// Asserts the stub still answers (a fresh mint and refresh work).
    pub async fn assert_alive(&self) {
        let token = self.mint("alive-check", 600).await;
        let (status, body) = self.refresh(&token).await;
        assert_eq!(status, 200, "the server no longer answers: {body}");
    }

    /// Asserts the stub (started without `--dev`) still answers: a JSON 401 to a garbage token.
    pub async fn assert_alive_without_dev(&self) {
        let (status, body) = self.refresh("garbage").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_token"))
        );
    }

    /// Signs arbitrary claims with the stub's secret, `typ` as given.
    pub fn sign(&self, claims: &Value, typ: Option<&str>) -> String {
        let key =
            EncodingKey::from_secret(self.secret.as_bytes()).unwrap_or_else(|e| panic!("key: {e}"));
        let mut header = Header::new(Algorithm::HS256);
        header.typ = typ.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &key).unwrap_or_else(|e| panic!("sign: {e}"))
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}

/// Claims as the stub would sign them now for `sub` (4 h token, new sign-in).
pub fn claims_now(sub: &str) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({
        "sub": sub, "email": format!("{sub}@example.test"), "role": "PATIENT", "name": sub,
        "iat": now, "exp": now + 4 * 3600, "jti": format!("jti-{sub}-{now}"),
        "sid": format!("sid-{sub}-{now}"), "auth_time": now,
        "iss": "consult-stub", "aud": "consult-video"
    })
}

/// Sets `field` of a JSON object.
pub fn with(mut claims: Value, field: &str, value: Value) -> Value {
    if let Some(map) = claims.as_object_mut() {
        map.insert(field.to_owned(), value);
    }
    claims
}

/// Sends raw bytes on a new TCP connection and reads the answer (until close or `wait`).
pub async fn raw_http(addr: &str, request: &[u8], wait: Duration) -> String {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return String::new();
    };
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(wait, async {
        let mut buf = [0_u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.len() > 12 {
                        // Head received; give the body a moment.
                        if let Ok(Ok(n)) =
                            tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf))
                                .await
                        {
                            answer.extend_from_slice(&buf[..n]);
                        }
                        break;
                    }
                }
            }
        }
    })
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status code of a raw HTTP answer (0 if none).
pub fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A raw Socket.IO client (Engine.IO v4 over WebSocket).
pub struct Sio {
    ws: Ws,
}

/// What a socket saw next.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// `42["name", data]`.
    Event(String, Value),
    /// `41`: the server disconnected the socket.
    Disconnect,
    /// The transport closed (or errored).
    Closed,
    /// Nothing within the wait.
    Nothing,
}

impl Sio {
    /// Opens the WebSocket and reads the Engine.IO open packet.
    pub async fn open(addr: &str) -> Sio {
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(5),
            tokio_tungstenite::connect_async(url),
        )
        .await
        .unwrap_or_else(|_| panic!("websocket connect timed out"))
        .unwrap_or_else(|e| panic!("websocket connect: {e}"));
        let mut sio = Sio { ws };
        match sio.next_text(Duration::from_secs(5)).await {
            Some(open) if open.starts_with('0') => sio,
            other => panic!("no Engine.IO open packet: {other:?}"),
        }
    }

    /// Connects to `/` with `auth: {token}`: `Ok(())` or `Err(connect_error message)`.
    pub async fn connect(addr: &str, token: &str) -> Result<Sio, String> {
        let mut sio = Sio::open(addr).await;
        sio.send(&format!("40{}", json!({ "token": token }))).await;
        loop {
            match sio.next_text(Duration::from_secs(5)).await {
                Some(text) if text.starts_with("40") => return Ok(sio),
                Some(text) if text.starts_with("44") => {
                    let body: Value = serde_json::from_str(&text[2..]).unwrap_or(Value::Null);
                    return Err(body["message"].as_str().unwrap_or_default().to_owned());
                }
                Some(_) => continue,
                None => return Err("closed".to_owned()),
            }
        }
    }

    /// Sends a text frame (errors ignored: the server may have closed).
    pub async fn send(&mut self, text: &str) {
        let _ = self.ws.send(Message::text(text.to_owned())).await;
    }

    /// Connects to `addr` with `token` and joins `room` as `user` (a patient); panics with the
    /// `error` the server answers instead, or with whatever else ends the wait.
    pub async fn joined(addr: &str, user: &str, token: &str, room: &str) -> Sio {
        let mut socket = Sio::connect(addr, token)
            .await
            .unwrap_or_else(|e| panic!("connect {user}: {e}"));
        socket
            .emit(
                "join_room",
                json!({"room_id": room, "user_id": user, "role": "PATIENT", "token": token}),
            )
            .await;
        loop {
            match socket.next(Duration::from_secs(5)).await {
                Seen::Event(name, _) if name == "joined_room" => return socket,
                Seen::Event(name, data) if name == "error" => panic!("{user}'s join: {data}"),
                Seen::Event(..) => continue,
                other => panic!("{user}'s join: {other:?}"),
            }
        }
    }

    /// Says `41` (disconnect) and closes the WebSocket at once, in one write, as a browser
    /// tab can when its page closes the socket.
    pub async fn disconnect_and_close(mut self) {
        let _ = self.ws.feed(Message::text("41")).await;
        let _ = self.ws.close(None).await;
    }

    /// Emits `42["name", data]`.
    pub async fn emit(&mut self, name: &str, data: Value) {
        self.send(&format!("42{}", json!([name, data]))).await;
    }

    /// The next text frame, answering pings; `None` when closed or after `wait`.
    async fn next_text(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??;
            match frame {
                Ok(Message::Text(text)) if text.as_str() == "2" => self.send("3").await,
                Ok(Message::Text(text)) => return Some(text.as_str().to_owned()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// The next event, disconnect or close within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Seen {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Seen::Nothing;
            }
            let Ok(frame) = tokio::time::timeout(left, self.ws.next()).await else {
                return Seen::Nothing;
            };
            let text = match frame {
                Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Seen::Closed,
                Some(Ok(_)) => continue,
            };
            if text == "2" {
                self.send("3").await;
            } else if text.starts_with("41") {
                return Seen::Disconnect;
            } else if text == "1" {
                return Seen::Closed;
            } else if let Some(body) = text.strip_prefix("42") {
                let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
                let name = parsed[0].as_str().unwrap_or_default().to_owned();
                return Seen::Event(name, parsed[1].clone());
            }
        }
    }

    /// Waits for the event `name` (skipping others) within `wait`.
    pub async fn expect_event(&mut self, name: &str, wait: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Seen::Event(n, data) if n == name => return data,
                Seen::Event(..) => continue,
                other => panic!("expected event {name}, saw {other:?}"),
            }
        }
    }

    /// Whether the server ends this socket (41 or close) within `wait`, with the codes of the
    /// `error` events seen first.
    pub async fn ended_within(&mut self, wait: Duration) -> (bool, Vec<String>) {
        let deadline = tokio::time::Instant::now() + wait;
        let mut errors = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Seen::Event(name, data) if name == "error" => {
                    errors.push(data["code"].as_str().unwrap_or_default().to_owned());
                }
                Seen::Event(..) => continue,
                Seen::Disconnect | Seen::Closed => return (true, errors),
                Seen::Nothing => return (false, errors),
            }
        }
    }
}

/// The `sid` claim of a token (read, not verified).
pub fn payload_sid(token: &str) -> String {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_default();
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|claims| claims["sid"].as_str().map(str::to_owned))
        .unwrap_or_default()
}
