//! Waiting for work: `LISTEN keel_outbox`, with polling as the fallback when a notification
//! is lost or the listening connection is down.
//!
//! Appends notify only when the relay asked for it (the outbox trigger and
//! `outbox_arm_wakeup`): a relay that finds the outbox empty arms the flag, reads once more,
//! then waits. An append whose statement ran just before the flag was set can commit just
//! after that read without notifying, so the first waits after activity are short (a few
//! ms, doubling) before they lengthen to the poll interval.

use std::time::Duration;

use sqlx::postgres::PgListener;

pub const CHANNEL: &str = "keel_outbox";

/// The first wait after the outbox was found empty; each later one doubles.
const FIRST_IDLE_WAIT: Duration = Duration::from_millis(5);

pub struct Wakeup {
    url: String,
    poll: Duration,
    listener: Option<PgListener>,
    /// The next wait while idle, `FIRST_IDLE_WAIT` after activity.
    next_wait: Duration,
}

impl Wakeup {
    pub fn new(url: &str, poll: Duration) -> Self {
        Self {
            url: url.to_owned(),
            poll,
            listener: None,
            next_wait: FIRST_IDLE_WAIT,
        }
    }

    /// Listens before the first read, so no notification after it is missed.
    pub async fn listen(&mut self) {
        if self.listener.is_some() {
            return;
        }
        let listening = async {
            let mut listener = PgListener::connect(&self.url).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match tokio::time::timeout(Duration::from_secs(5), listening).await {
            Ok(Ok(listener)) => self.listener = Some(listener),
            Ok(Err(e)) => tracing::warn!(error = %e, "LISTEN failed; polling meanwhile"),
            Err(_) => tracing::warn!("LISTEN timed out; polling meanwhile"),
        }
    }

    /// Work was found: the next idle period starts with short waits again.
    pub fn busy(&mut self) {
        self.next_wait = FIRST_IDLE_WAIT;
    }

    /// Returns on a notification or after the current idle wait, whichever comes first.
    pub async fn wait(&mut self) {
        self.listen().await;
        let wait = self.next_wait.min(self.poll);
        self.next_wait = (self.next_wait * 2).min(self.poll);
        let Some(listener) = self.listener.as_mut() else {
            tokio::time::sleep(wait).await;
            return;
        };
        match tokio::time::timeout(wait, listener.recv()).await {
            Ok(Ok(_)) => {
                // Notifications that queued meanwhile are covered by the read that follows.
                while listener.next_buffered().is_some() {}
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the LISTEN connection failed; reconnecting");
                self.listener = None;
            }
            Err(_) => {}
        }
    }
}
