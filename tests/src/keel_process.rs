//! `keel relay` and `keel projector <name>` as child processes: started with flags, found by
//! the port they print, and signalled by pid (SIGKILL, SIGTERM, SIGSTOP, SIGCONT), never by
//! name.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::keel_binary;

pub struct KeelProcess {
    child: Child,
    /// What it is, for messages (`relay`, `projector search`).
    what: String,
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

impl KeelProcess {
    /// Starts `keel relay <args> --relay-port 0` and waits until it listens.
    pub fn relay(name: &str, args: &[String]) -> KeelProcess {
        let mut command = vec!["relay".to_owned()];
        command.extend(args.iter().cloned());
        command.extend(["--relay-port".to_owned(), "0".to_owned()]);
        Self::spawn(
            "relay",
            &format!("keel-relay-{name}"),
            &command,
            "info,keel_services::relay=debug,sqlx=warn",
        )
    }

    /// Starts `keel projector <projector> <args> --port 0` and waits until it listens (it
    /// listens once it has joined its consumer group).
    pub fn projector(projector: &str, name: &str, args: &[String]) -> KeelProcess {
        let mut command = vec!["projector".to_owned(), projector.to_owned()];
        command.extend(args.iter().cloned());
        command.extend(["--port".to_owned(), "0".to_owned()]);
        Self::spawn(
            &format!("projector {projector}"),
            &format!("keel-projector-{name}"),
            &command,
            "info,keel_projections=debug,sqlx=warn,librdkafka=warn",
        )
    }

    /// Runs `keel <command>`, its stderr into a log file, and waits (30 s) for its
    /// `<what> listening on <url>` line.
    fn spawn(what: &str, log_name: &str, command: &[String], rust_log: &str) -> KeelProcess {
        let log = std::env::temp_dir().join(format!("{log_name}.log"));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let mut child = Command::new(keel_binary())
            .args(command)
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("start keel {what}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let prefix = format!("{what} listening on ");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix(&prefix) {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let base_url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!(
                    "keel {what} did not start within 30 s; log {}:\n{text}",
                    log.display()
                );
            }
        };
        KeelProcess {
            child,
            what: what.to_owned(),
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

    /// SIGTERM, and wait (up to 30 s) for a graceful exit; returns whether it exited 0.
    pub fn terminate(mut self) -> bool {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                // Polling the child's exit with a deadline (std has no wait with timeout).
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => return false,
            }
        }
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
            .timeout(Duration::from_secs(5))
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

    /// The value of a counter or gauge `<name>` (summed over label sets); 0 when absent.
    pub async fn metric(&self, name: &str) -> f64 {
        metric_value(&self.metrics().await, name)
    }

    /// Waits until `/health/ready` answers `ready`; returns how long that took.
    pub async fn wait_ready(&self, ready: bool, within: Duration) -> Duration {
        let started = Instant::now();
        let what = || {
            let log = self.log.display();
            format!("{} {} not ready={ready}; log {log}", self.what, self.pid())
        };
        crate::eventually(within, what, || async {
            let now = self.readiness().await.is_some_and(|r| r.ready() == ready);
            now.then(|| started.elapsed())
        })
        .await
    }
}

/// Sums the samples of `name` in an OpenMetrics text.
pub fn metric_value(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

impl Drop for KeelProcess {
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
