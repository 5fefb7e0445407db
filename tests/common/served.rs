//! `rollbook serve` running on a fixture site, for the serve and browser tests.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{TODAY_EPOCH, TestSite};

/// A running `rollbook serve`, stopped (with SIGTERM, as Ctrl-C would) when dropped.
pub struct Served {
    child: Child,
    pub address: String,
    pub output: PathBuf,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    pub fn start(site: &TestSite, extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollbook"))
            .args(["serve", "--port", "0"])
            .args(extra)
            .current_dir(site.path())
            .env("SOURCE_DATE_EPOCH", TODAY_EPOCH)
            .env("CI", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rollbook serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr");
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = collected.lock().expect("stderr lock");
                text.push_str(&line);
                text.push('\n');
            }
        });
        let mut served = Served {
            child,
            address: String::new(),
            output: PathBuf::new(),
            stderr,
        };
        served.wait_for_stderr("Serving at");
        let text = served.stderr();
        let url = text
            .split("Serving at http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .expect("the address in the Serving line");
        served.address = url.to_string();
        let output = text
            .split(" from ")
            .nth(1)
            .and_then(|rest| rest.split(" (").next())
            .expect("the output directory in the Serving line");
        served.output = PathBuf::from(output);
        served
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    #[track_caller]
    pub fn wait_for_stderr(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.stderr().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} on stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn get(&self, target: &str) -> Response {
        request(&self.address, "GET", target)
    }

    /// Polls `target` until `check` accepts the response (10 s at most).
    #[track_caller]
    pub fn wait_until(
        &self,
        target: &str,
        what: &str,
        check: impl Fn(&Response) -> bool,
    ) -> Response {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let response = self.get(target);
            if check(&response) {
                return response;
            }
            assert!(
                Instant::now() < deadline,
                "{target}: never {what}; last response {} {}\n--- stderr\n{}",
                response.status,
                &response.body[..response.body.len().min(2000)],
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
    }
}

pub struct Response {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// One HTTP/1.1 request with the target sent exactly as given (no normalisation).
pub fn request(address: &str, method: &str, target: &str) -> Response {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Response {
        status,
        headers: head.to_string(),
        body: body.to_string(),
    }
}

/// Replaces `from` with `to` in a file of the site, which must contain it.
pub fn edit(site: &TestSite, relative: &str, from: &str, to: &str) {
    let text = site.read(relative);
    assert!(text.contains(from), "{relative} has no {from:?}");
    site.write(relative, &text.replace(from, to));
}
