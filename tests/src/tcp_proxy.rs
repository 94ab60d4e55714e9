//! A TCP proxy on 127.0.0.1 in front of a real server, which a test cuts and restores: a real
//! network fault for one client (connections refused, open ones reset) without stopping a
//! server that tests running beside it share.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

pub struct TcpProxy {
    pub port: u16,
    target: SocketAddr,
    accepting: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// Forwards a free port on 127.0.0.1 to `target`.
    pub async fn start(target: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let mut proxy = TcpProxy {
            port,
            target,
            accepting: None,
        };
        proxy.accepting = Some(tokio::spawn(forward(listener, target)));
        proxy
    }

    /// Closes the port and every connection through it.
    pub fn cut(&mut self) {
        if let Some(task) = self.accepting.take() {
            // Aborting drops the listener and the JoinSet, which aborts each connection.
            task.abort();
        }
    }

    /// Listens on the same port again.
    pub async fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the proxy's port again");
        self.accepting = Some(tokio::spawn(forward(listener, self.target)));
    }
}

async fn forward(listener: TcpListener, target: SocketAddr) {
    let mut connections = JoinSet::new();
    while let Ok((mut client, _)) = listener.accept().await {
        connections.spawn(async move {
            if let Ok(mut server) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
        // Reap finished connections so the set does not grow for ever.
        while connections.try_join_next().is_some() {}
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
