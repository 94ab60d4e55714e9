//! Pieces of the relay benchmark: a backlog written in bulk, the relay run in-process, and a
//! read_committed consumer that records when each event became visible.

pub mod backlog;
pub mod visible;

use std::net::SocketAddr;

use keel_services::relay::{Relay, RelayConfig, RelayTarget};
use keel_services::shutdown::Shutdown;
use tokio::task::JoinHandle;

/// A relay running in this process until [`RunningRelay::stop`].
pub struct RunningRelay {
    shutdown: Shutdown,
    task: JoinHandle<Result<(), keel_services::relay::RelayError>>,
}

impl RunningRelay {
    pub async fn start(
        database_url: &str,
        name: &str,
        topic: &str,
        progress_topic: &str,
        brokers: &str,
        batch_size: usize,
        linger: std::time::Duration,
    ) -> anyhow::Result<Self> {
        let mut config = RelayConfig::new(
            vec![RelayTarget {
                name: name.to_owned(),
                database_url: database_url.to_owned(),
                topic: topic.to_owned(),
            }],
            brokers,
        );
        config.progress_topic = progress_topic.to_owned();
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.batch_size = batch_size;
        config.linger = linger;
        let relay = Relay::start(config).await?;
        let shutdown = Shutdown::new();
        let task = tokio::spawn(relay.run_until(shutdown.clone()));
        Ok(Self { shutdown, task })
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        self.task.await??;
        Ok(())
    }
}
