//! `keel relay` as a child process: started with flags, found by the port it prints, and
//! signalled by pid (SIGKILL, SIGSTOP, SIGCONT), never by name.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::keel_binary;

pub struct RelayProcess {
    child: Child,
    pub base_url: String,
    pub log: PathBuf,
}

/// What `/health/ready` answered.
#[derive(Debug, Clone)]
pub struct Readiness {
    pub status: u16,
    pub body: String,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.status == 200
    }
}

impl RelayProcess {
    /// Starts `keel relay <args>` (plus `--relay-port 0`) and waits until it listens.
    pub fn spawn(name: &str, args: &[String]) -> RelayProcess {
        let log = std::env::temp_dir().join(format!("keel-relay-{name}.log"));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("relay log file");
        let mut child = Command::new(keel_binary())
            .arg("relay")
            .args(args)
            .args(["--relay-port", "0"])
            .env("RUST_LOG", "info,keel_services::relay=debug,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start keel relay");
        let stdout = child.stdout.take().expect("relay stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("relay listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let base_url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!(
                    "keel relay did not start within 30 s; log {}:\n{text}",
                    log.display()
                );
            }
        };
        RelayProcess {
            child,
            base_url,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {} failed", self.pid());
    }

    /// SIGKILL, and reap the process.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pause(&self) {
        self.signal("STOP");
    }

    pub fn resume(&self) {
        self.signal("CONT");
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub async fn readiness(&self) -> Option<Readiness> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .ok()?;
        let response = client
            .get(format!("{}/health/ready", self.base_url))
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        let body = response.text().await.ok()?;
        Some(Readiness { status, body })
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base_url))
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body")
    }

    /// Waits until `/health/ready` answers `ready`; returns how long that took.
    pub async fn wait_ready(&self, ready: bool, within: Duration) -> Duration {
        let started = Instant::now();
        let what = || {
            let log = self.log.display();
            format!("relay {} not ready={ready}; log {log}", self.pid())
        };
        crate::eventually(within, what, || async {
            let now = self.readiness().await.is_some_and(|r| r.ready() == ready);
            now.then(|| started.elapsed())
        })
        .await
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        // Only a child not yet reaped: its pid cannot have been reused. A paused one is
        // resumed so that it dies promptly.
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(self.child.id().to_string())
                .status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
