//! `keel up`: several services in one process. When one stops on its own, the others are
//! stopped too and the failure names the service.

use std::future::Future;
use std::pin::Pin;

use tokio::task::JoinSet;

use crate::app::Application;
use crate::config::ServiceKind;
use crate::shutdown::Shutdown;

/// A supervised service stopped without being asked to.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("{service} failed")]
    Failed {
        service: ServiceKind,
        #[source]
        source: std::io::Error,
    },
    #[error("{service} stopped unexpectedly")]
    Stopped { service: ServiceKind },
    #[error("{service} crashed: {reason}")]
    Crashed { service: String, reason: String },
    #[error("{process} failed: {reason}")]
    ProcessFailed { process: String, reason: String },
    #[error("{process} stopped unexpectedly")]
    ProcessStopped { process: String },
}

/// A supervised process that is not an HTTP service (the relay): a name and a future that
/// runs it until the shared [`Shutdown`] is triggered.
pub struct Supervised {
    pub name: String,
    pub task: Pin<Box<dyn Future<Output = Result<(), String>> + Send>>,
}

enum Outcome {
    Service(ServiceKind, std::io::Result<()>),
    Process(String, Result<(), String>),
}

/// Runs every application until `shutdown` is triggered (then all finish their requests and
/// this returns `Ok`), or until one of them stops (then the others are stopped and this
/// returns that service's failure).
pub async fn run_all(apps: Vec<Application>, shutdown: Shutdown) -> Result<(), SupervisorError> {
    run_with(apps, Vec::new(), shutdown).await
}

/// [`run_all`], with other processes supervised beside the services.
pub async fn run_with(
    apps: Vec<Application>,
    others: Vec<Supervised>,
    shutdown: Shutdown,
) -> Result<(), SupervisorError> {
    let mut tasks = JoinSet::new();
    for app in apps {
        let kind = app.kind();
        let stop = shutdown.wait();
        tasks.spawn(async move { Outcome::Service(kind, app.run_until(stop).await) });
    }
    for other in others {
        tasks.spawn(async move { Outcome::Process(other.name, other.task.await) });
    }
    let mut first_failure = None;
    while let Some(joined) = tasks.join_next().await {
        let failure = match joined {
            Ok(Outcome::Service(_, Ok(())) | Outcome::Process(_, Ok(())))
                if shutdown.is_triggered() =>
            {
                None
            }
            Ok(Outcome::Service(service, Ok(()))) => Some(SupervisorError::Stopped { service }),
            Ok(Outcome::Service(service, Err(source))) => {
                Some(SupervisorError::Failed { service, source })
            }
            Ok(Outcome::Process(process, Ok(()))) => {
                Some(SupervisorError::ProcessStopped { process })
            }
            Ok(Outcome::Process(process, Err(reason))) => {
                Some(SupervisorError::ProcessFailed { process, reason })
            }
            Err(e) => Some(SupervisorError::Crashed {
                service: "a service".into(),
                reason: e.to_string(),
            }),
        };
        if let Some(failure) = failure {
            let cause = std::error::Error::source(&failure).map(ToString::to_string);
            tracing::error!(error = %failure, cause, "stopping the other services");
            shutdown.trigger();
            first_failure.get_or_insert(failure);
        }
    }
    first_failure.map_or(Ok(()), Err)
}
