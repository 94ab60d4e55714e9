//! What each relayed database's task reports to `/health/ready` and `/metrics`: whether it
//! leads, and since when Kafka has not been answering.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Connecting, or waiting for the lease.
    Standby,
    /// Holds the lease and publishes.
    Leader,
}

#[derive(Debug)]
pub struct TargetStatus {
    pub name: String,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    role: Role,
    kafka_down_since: Option<Instant>,
    last_error: Option<String>,
    /// A leader has finished recovery and publishes (not just holds the lease).
    publishing: bool,
}

impl TargetStatus {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            inner: Mutex::new(Inner {
                role: Role::Standby,
                kafka_down_since: None,
                last_error: None,
                publishing: false,
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        // A panic while holding this lock cannot leave it inconsistent (plain fields).
        let mut guard = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    pub fn set_role(&self, role: Role) {
        self.with(|s| {
            s.role = role;
            s.publishing = false;
        });
    }

    /// The leader's first Kafka session is up (recovered, publishing).
    pub fn set_publishing(&self) {
        self.with(|s| s.publishing = true);
    }

    pub fn publishing(&self) -> bool {
        self.with(|s| s.publishing)
    }

    pub fn role(&self) -> Role {
        self.with(|s| s.role)
    }

    pub fn kafka_failed(&self, error: &str) {
        self.with(|s| {
            s.kafka_down_since.get_or_insert_with(Instant::now);
            s.last_error = Some(error.to_owned());
        });
    }

    pub fn kafka_ok(&self) {
        self.with(|s| {
            s.kafka_down_since = None;
            s.last_error = None;
        });
    }

    /// How long Kafka has been failing, and the last error.
    pub fn kafka_down_for(&self) -> Option<(Duration, String)> {
        self.with(|s| {
            s.kafka_down_since
                .map(|t| (t.elapsed(), s.last_error.clone().unwrap_or_default()))
        })
    }
}
