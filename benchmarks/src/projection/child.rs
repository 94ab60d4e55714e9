//! keel processes run as children of the release binary, their stdout and stderr in log
//! files; services are found through the "... listening on http://..." line they print.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct KeelProcess {
    pub name: String,
    child: Child,
    pub stdout: PathBuf,
    /// Its stderr, each line prefixed with the seconds since its start.
    pub stderr: PathBuf,
    /// Its stderr lines with their arrival times since its start.
    lines: Arc<Mutex<Vec<(Duration, String)>>>,
}

/// The release binary next to this one (`target/release/keel`), or `$KEEL_BIN`.
pub fn keel_binary() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("KEEL_BIN") {
        return Ok(PathBuf::from(path));
    }
    let me = std::env::current_exe().context("this program's path")?;
    let keel = me.with_file_name("keel");
    anyhow::ensure!(
        keel.exists(),
        "{} is missing: cargo build --release -j2 -p keel-services --bin keel (or set KEEL_BIN)",
        keel.display()
    );
    Ok(keel)
}

/// `keel <args>` with its output captured (for short commands like `keel token`).
pub async fn output(keel: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(keel)
        .args(args)
        .env_remove("JWT_SECRET")
        .output()
        .await
        .with_context(|| format!("running keel {}", args.join(" ")))?;
    anyhow::ensure!(
        out.status.success(),
        "keel {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl KeelProcess {
    /// Starts `keel <args>`, with `env` set, JWT_SECRET unset and its output in
    /// `logs/<name>.{out,err}` (stderr lines timestamped).
    pub fn spawn(
        keel: &Path,
        name: &str,
        args: &[String],
        env: &[(&str, &str)],
        logs: &Path,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(logs)?;
        let stdout = logs.join(format!("{name}.out"));
        let stderr = logs.join(format!("{name}.err"));
        let mut command = Command::new(keel);
        command
            .args(args)
            .env_remove("JWT_SECRET")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout)?)
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("starting keel {}", args.join(" ")))?;
        let lines: Arc<Mutex<Vec<(Duration, String)>>> = Arc::default();
        if let Some(pipe) = child.stderr.take() {
            let mut file = std::fs::File::create(&stderr)?;
            let lines = lines.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(pipe).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    let at = started.elapsed();
                    let _ = writeln!(file, "[{:>8.3}s] {line}", at.as_secs_f64());
                    if let Ok(mut lines) = lines.lock() {
                        lines.push((at, line));
                    }
                }
            });
        }
        Ok(Self {
            name: name.to_owned(),
            child,
            stdout,
            stderr,
            lines,
        })
    }

    /// When the first stderr line came that follows lines starting with `prefix` and does
    /// not start with it (the end of a phase reported once a second), since the start.
    pub fn after_lines_of(&self, prefix: &str) -> Option<Duration> {
        let lines = self.lines.lock().ok()?;
        let first = lines.iter().position(|(_, l)| l.starts_with(prefix))?;
        lines[first..]
            .iter()
            .find(|(_, l)| !l.starts_with(prefix))
            .map(|(at, _)| *at)
    }

    /// When the first stderr line containing `needle` arrived, since the start.
    pub fn said_at(&self, needle: &str) -> Option<Duration> {
        let lines = self.lines.lock().ok()?;
        lines
            .iter()
            .find(|(_, l)| l.contains(needle))
            .map(|(at, _)| *at)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The last `n` lines of its stderr (for error messages).
    pub fn stderr_tail(&self, n: usize) -> String {
        tail(&self.stderr, n)
    }

    /// Waits for the "listening on http://..." line on stdout; returns the URL.
    pub async fn listening(&mut self, timeout: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let out = std::fs::read_to_string(&self.stdout).unwrap_or_default();
            if let Some(url) = out.lines().find_map(|l| {
                l.split_once(" listening on ")
                    .map(|(_, url)| url.trim().to_owned())
            }) {
                let url = if url.starts_with("http") {
                    url
                } else {
                    format!("http://{url}")
                };
                return Ok(url);
            }
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "{} exited ({status}) before listening:\n{}",
                    self.name,
                    self.stderr_tail(20)
                );
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{} did not say where it listens within {timeout:?}:\n{}",
                self.name,
                self.stderr_tail(20)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether it has exited (and how).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub async fn wait(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        Ok(self.child.wait().await?)
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    pub async fn stop(mut self, grace: Duration) -> anyhow::Result<()> {
        if self.exited().is_some() {
            return Ok(());
        }
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await?;
        }
        Ok(())
    }
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
