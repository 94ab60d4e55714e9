//! `keel projector <name>` as a child process: started with flags, found by the port it
//! prints, and signalled by pid (SIGKILL, SIGTERM), never by name.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::{keel_binary, Readiness};

pub struct ProjectorProcess {
    child: Child,
    pub base_url: String,
    pub log: PathBuf,
}

impl ProjectorProcess {
    /// Starts `keel projector <projector> <args> --port 0` and waits until it listens
    /// (it listens once it has joined its consumer group).
    pub fn spawn(projector: &str, name: &str, args: &[String]) -> ProjectorProcess {
        let log = std::env::temp_dir().join(format!("keel-projector-{name}.log"));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("projector log file");
        let mut child = Command::new(keel_binary())
            .args(["projector", projector])
            .args(args)
            .args(["--port", "0"])
            .env(
                "RUST_LOG",
                "info,keel_projections=debug,sqlx=warn,librdkafka=warn",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start keel projector");
        let stdout = child.stdout.take().expect("projector stdout");
        let (tx, rx) = mpsc::channel();
        let prefix = format!("projector {projector} listening on ");
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
                    "keel projector {projector} did not start within 30 s; log {}:\n{text}",
                    log.display()
                );
            }
        };
        ProjectorProcess {
            child,
            base_url,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and reap the process.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and wait (up to 30 s) for a graceful exit; returns whether it exited 0.
    pub fn terminate(mut self) -> bool {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => return false,
            }
        }
    }

    pub async fn readiness(&self) -> Option<Readiness> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
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

    /// The value of a counter or gauge line `<name>{...} <value>` (summed over label sets);
    /// 0 when absent.
    pub async fn metric(&self, name: &str) -> f64 {
        metric_value(&self.metrics().await, name)
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

impl Drop for ProjectorProcess {
    fn drop(&mut self) {
        // Only a child not yet reaped: its pid cannot have been reused.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
