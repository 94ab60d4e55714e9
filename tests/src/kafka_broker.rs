//! A throwaway Kafka broker for a test that stops and starts Kafka (stopping the shared
//! one would break every other test): the stack's jars (`.stack/cache/kafka-*/lib`), its
//! own free ports, its own data folder under `.stack/data/`, removed on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

pub struct TestKafka {
    pub port: u16,
    dir: PathBuf,
    java: PathBuf,
    classpath: String,
    child: Option<Child>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Kafka's cluster ids are 16 bytes in unpadded URL-safe base64.
fn cluster_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut bits: u32 = 0;
    let mut n = 0;
    let mut out = String::new();
    for b in bytes {
        bits = (bits << 8) | u32::from(b);
        n += 8;
        while n >= 6 {
            n -= 6;
            out.push(ALPHABET[((bits >> n) & 63) as usize] as char);
        }
    }
    if n > 0 {
        out.push(ALPHABET[((bits << (6 - n)) & 63) as usize] as char);
    }
    // A leading '-' would read as a flag.
    if out.starts_with('-') {
        out.replace_range(0..1, "A");
    }
    out
}

fn java() -> PathBuf {
    let jdk17 = Path::new("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
    if jdk17.exists() {
        jdk17.to_owned()
    } else {
        PathBuf::from("java")
    }
}

fn kafka_lib() -> PathBuf {
    let cache = root().join(".stack/cache");
    std::fs::read_dir(&cache)
        .ok()
        .and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.path().join("lib"))
                .find(|lib| lib.join(".complete").exists())
        })
        .unwrap_or_else(|| {
            panic!(
                "no Kafka jars under {}: run scripts/stack up",
                cache.display()
            )
        })
}

impl TestKafka {
    /// Formats and starts a broker; waits until it answers (up to 120 s).
    pub fn start() -> TestKafka {
        let port = free_port();
        let controller = free_port();
        let dir = root()
            .join(".stack/data")
            .join(format!("test-kafka-{}", crate::unique_suffix()));
        std::fs::create_dir_all(dir.join("logs")).expect("broker folder");
        let properties = format!(
            "process.roles=broker,controller\nnode.id=1\n\
             controller.quorum.bootstrap.servers=127.0.0.1:{controller}\n\
             listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}\n\
             advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
             controller.listener.names=CONTROLLER\n\
             listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
             inter.broker.listener.name=PLAINTEXT\nlog.dirs={data}\n\
             num.partitions=1\noffsets.topic.replication.factor=1\n\
             offsets.topic.num.partitions=3\ntransaction.state.log.num.partitions=3\n\
             transaction.state.log.replication.factor=1\ntransaction.state.log.min.isr=1\n\
             share.coordinator.state.topic.replication.factor=1\n\
             share.coordinator.state.topic.min.isr=1\ngroup.initial.rebalance.delay.ms=0\n",
            data = dir.join("kraft").display()
        );
        std::fs::write(dir.join("server.properties"), properties).expect("server.properties");
        std::fs::write(
            dir.join("log4j2.properties"),
            "status = warn\nappender.file.type = File\nappender.file.name = file\n\
             appender.file.fileName = ${sys:kafka.logs.dir}/server.log\n\
             appender.file.layout.type = PatternLayout\n\
             appender.file.layout.pattern = [%d] %p %m (%c)%n\n\
             rootLogger.level = INFO\nrootLogger.appenderRef.file.ref = file\n",
        )
        .expect("log4j2.properties");
        let mut broker = TestKafka {
            port,
            classpath: format!("{}/*", kafka_lib().display()),
            java: java(),
            dir,
            child: None,
        };
        let format = broker
            .command("kafka.tools.StorageTool")
            .args(["format", "--standalone", "-t", &cluster_id(), "-c"])
            .arg(broker.dir.join("server.properties"))
            .output()
            .expect("run the storage tool");
        assert!(
            format.status.success(),
            "formatting the test broker failed: {}",
            String::from_utf8_lossy(&format.stderr)
        );
        broker.resume();
        broker
    }

    fn command(&self, main: &str) -> Command {
        let mut command = Command::new(&self.java);
        command
            .arg(format!(
                "-Dlog4j2.configurationFile={}",
                self.dir.join("log4j2.properties").display()
            ))
            .arg(format!(
                "-Dkafka.logs.dir={}",
                self.dir.join("logs").display()
            ))
            .args(["-cp", &self.classpath, main]);
        command
    }

    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the broker on its existing data and waits until it answers.
    pub fn resume(&mut self) {
        let out = std::fs::File::create(self.dir.join("logs/kafka.out")).expect("kafka.out");
        let child = self
            .command("kafka.Kafka")
            .arg(self.dir.join("server.properties"))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("kafka.out"))
            .stderr(out)
            .spawn()
            .expect("start the test broker");
        self.child = Some(child);
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.brokers())
            .create()
            .expect("client");
        let started = Instant::now();
        while consumer
            .fetch_metadata(None, Duration::from_secs(2))
            .map(|m| m.brokers().is_empty())
            .unwrap_or(true)
        {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the test broker did not answer within 120 s; see {}",
                self.dir.join("logs").display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the broker (SIGTERM by pid, SIGKILL after 60 s) and waits for it to exit.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let started = Instant::now();
        while matches!(child.try_wait(), Ok(None)) {
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestKafka {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
