//! Waiting for work: `LISTEN keel_outbox` (the outbox trigger notifies once per committed
//! append statement), with polling as the fallback when a notification is lost or the
//! listening connection is down.

use std::time::Duration;

use sqlx::postgres::PgListener;

pub const CHANNEL: &str = "keel_outbox";

pub struct Wakeup {
    url: String,
    poll: Duration,
    listener: Option<PgListener>,
}

impl Wakeup {
    pub fn new(url: &str, poll: Duration) -> Self {
        Self {
            url: url.to_owned(),
            poll,
            listener: None,
        }
    }

    /// Listens before the first read, so no notification after it is missed.
    pub async fn arm(&mut self) {
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

    /// Returns on a notification or after the poll interval, whichever comes first.
    pub async fn wait(&mut self) {
        self.arm().await;
        let Some(listener) = self.listener.as_mut() else {
            tokio::time::sleep(self.poll).await;
            return;
        };
        match tokio::time::timeout(self.poll, listener.recv()).await {
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
