//! A real `redis-server` for the cluster tests: loopback only, a free port, persistence as
//! consult-stub requires it (an append-only file, `noeviction`) in its own temporary folder;
//! killed (and the folder removed) when dropped. `scripts/setup.sh`
//! installs it: a missing `redis-server` fails the test with a clear message, never skips it.
#![allow(dead_code)] // each test file uses a different part of the harness

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`.
pub struct RedisServer {
    child: Child,
    /// `redis://127.0.0.1:<port>` (`rediss://` for a TLS one).
    pub url: String,
    /// Its port.
    pub port: u16,
    dir: PathBuf,
    tls: Option<TlsFiles>,
}

/// A test CA and a server certificate it signed (for 127.0.0.1), made with the openssl CLI in a
/// temporary folder removed on drop.
pub struct TlsFiles {
    dir: PathBuf,
    /// The CA certificate (PEM).
    pub ca: PathBuf,
    /// The server's certificate (PEM).
    pub cert: PathBuf,
    /// The server's key (PEM).
    pub key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("openssl (scripts/setup.sh installs it): {e}"));
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl TlsFiles {
    /// A fresh CA (P-256) named `name`, and a server certificate for 127.0.0.1 it signed.
    pub fn generate(name: &str) -> TlsFiles {
        let dir = std::env::temp_dir().join(format!(
            "consult-tls-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("tls dir: {e}"));
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let subject = format!("/CN={name}");
        let mut ca = vec!["req", "-x509"];
        ca.extend_from_slice(&ec);
        ca.extend_from_slice(&["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj"]);
        ca.push(&subject);
        openssl(&dir, &ca);
        let mut csr = vec!["req"];
        csr.extend_from_slice(&ec);
        csr.extend_from_slice(&[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        openssl(&dir, &csr);
        std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n")
            .unwrap_or_else(|e| panic!("san.ext: {e}"));
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "san.ext",
            ],
        );
        TlsFiles {
            ca: dir.join("ca.crt"),
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
            dir,
        }
    }
}

impl Drop for TlsFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([name, &pid.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill {name}: {e}"));
    assert!(status.success(), "kill {name} {pid} failed");
}

fn spawn(port: u16, dir: &Path, tls: Option<&TlsFiles>) -> Child {
    let mut command = Command::new("redis-server");
    command.args(["--bind", "127.0.0.1"]);
    match tls {
        None => command.args(["--port", &port.to_string()]),
        // TLS only: the plain port is closed.
        Some(tls) => command
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(&tls.cert)
            .arg("--tls-key-file")
            .arg(&tls.key)
            .arg("--tls-ca-cert-file")
            .arg(&tls.ca)
            .args(["--tls-auth-clients", "no"]),
    };
    command
        .args([
            "--save",
            "",
            "--appendonly",
            "yes",
            "--maxmemory-policy",
            "noeviction",
            "--protected-mode",
            "yes",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start redis-server ({e}): the cluster tests need it; \
                 run scripts/setup.sh (or apt-get install -y redis-server)"
            )
        })
}

impl RedisServer {
    /// Starts one and waits (at most 10 s) until it answers `PING`.
    pub fn start() -> RedisServer {
        Self::start_with(None)
    }

    /// Starts one that speaks only TLS, with this certificate.
    pub fn start_tls(tls: TlsFiles) -> RedisServer {
        Self::start_with(Some(tls))
    }

    fn start_with(tls: Option<TlsFiles>) -> RedisServer {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "consult-redis-{}-{port}-{:x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("redis dir: {e}"));
        let scheme = if tls.is_some() { "rediss" } else { "redis" };
        let server = RedisServer {
            child: spawn(port, &dir, tls.as_ref()),
            url: format!("{scheme}://127.0.0.1:{port}"),
            port,
            dir,
            tls,
        };
        server.wait_until_ready();
        server
    }

    /// Kills the server (SIGKILL) and starts a new, empty one on the same port: its files are
    /// deleted first, as when a Redis without persistence crashes or its disk is lost.
    pub fn restart_empty(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
        std::fs::create_dir_all(&self.dir).unwrap_or_else(|e| panic!("redis dir: {e}"));
        self.child = spawn(self.port, &self.dir, self.tls.as_ref());
        self.wait_until_ready();
    }

    /// Kills the server (SIGKILL) and starts it again on the same port from its append-only
    /// file: what it acknowledged is still there.
    pub fn restart_from_disk(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.port, &self.dir, self.tls.as_ref());
        self.wait_until_ready();
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.cli(&["PING"]).trim() == "PONG" {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server on port {} did not answer PING", self.port);
    }

    /// Runs `redis-cli` against it; its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let mut command = Command::new("redis-cli");
        if let Some(tls) = &self.tls {
            command.arg("--tls").arg("--cacert").arg(&tls.ca);
        }
        let output = command
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("redis-cli: {e}"));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing answers.
    pub fn pause(&self) {
        signal(self.child.id(), "-STOP");
    }

    /// Lets a paused server go on (SIGCONT), with everything it held.
    pub fn resume(&self) {
        signal(self.child.id(), "-CONT");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A stopped process is continued first, so that nothing is left frozen.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
