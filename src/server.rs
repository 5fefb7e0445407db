//! HTTP for `rollbook serve`: the output directory's files as they are on disk, with a
//! live-reload script (and, when the last edit broke the content, the problems) injected into
//! every HTML response, plus the endpoints that script talks to under `/__rollbook/`.
//!
//! The request path is a security boundary: the server may be reachable by a whole team, and
//! the output directory sits next to the sources, so no request may read a byte outside it.
//! Requests are answered by a thread each, so a slow client, a live-reload stream that stays
//! open, or a handler that panics never holds up anyone else.
//!
//! This is the only module that uses tiny_http.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tiny_http::{Header, Method, Request, Response};

use crate::diagnostic::Helpful;
use crate::live::{Live, Snapshot};

/// Paths under this prefix belong to the server, never to the site.
const RESERVED: &str = "__rollbook";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("port {port} on {bind} is already in use")]
    PortInUse { bind: IpAddr, port: u16 },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl Helpful for StartError {
    fn help(&self) -> Option<String> {
        match self {
            StartError::PortInUse { .. } => {
                Some("stop the other server, or choose another port with --port".into())
            }
            StartError::Listen { .. } => None,
        }
    }
}

/// How often the server looks up from waiting, and how long it waits for others. Tests
/// shorten them; users get [`Timing::DEFAULT`].
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// A comment on an idle event stream this often keeps proxies from closing it and finds
    /// clients that went away (the write fails).
    keepalive: Duration,
    /// How soon the server notices `stop`, in its accept loop and in each event stream.
    poll: Duration,
    /// How long `stop` waits for responses still being written before it leaves them.
    drain: Duration,
}

impl Timing {
    const DEFAULT: Timing = Timing {
        keepalive: Duration::from_secs(15),
        poll: Duration::from_millis(200),
        drain: Duration::from_secs(2),
    };
}

/// A request body larger than this is never read or dropped: tiny_http 0.12 drains an unread
/// body on drop into a buffer of the *declared* length, so `Content-Length: 10^14` would
/// abort the process. Pages are only read (GET and HEAD), so no browser sends one.
const MAX_BODY: usize = 1 << 20;

/// What the request threads share.
struct Shared {
    output: PathBuf,
    /// Only loopback names are answered (see [`local_host`]).
    loopback: bool,
    live: Arc<Live>,
    timing: Timing,
    stopping: AtomicBool,
    /// Requests being answered, so that `stop` can wait for them.
    handlers: Mutex<usize>,
    handler_done: Condvar,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The count, even if a thread panicked while holding it (it is a plain number).
    fn handlers(&self) -> MutexGuard<'_, usize> {
        self.handlers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Counts one request being answered, until dropped (also when its thread panics).
struct Handling(Arc<Shared>);

impl Handling {
    fn new(shared: &Arc<Shared>) -> Handling {
        *shared.handlers() += 1;
        Handling(Arc::clone(shared))
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        let mut count = self.0.handlers();
        *count = count.saturating_sub(1);
        drop(count);
        self.0.handler_done.notify_all();
    }
}

/// A running server; `stop` it (or drop it) to shut it down.
pub struct Server {
    address: SocketAddr,
    shared: Arc<Shared>,
    dispatcher: Option<JoinHandle<()>>,
}

/// A bound socket the server has not started answering on yet. `rollbook serve` binds before
/// its first build, so that a port in use is said at once rather than after the build, and
/// then serves on the same socket.
pub struct Listening {
    listener: TcpListener,
    asked: SocketAddr,
    address: SocketAddr,
}

impl Listening {
    /// Binds to `bind:port` (port 0: any free port).
    pub fn bind(bind: IpAddr, port: u16) -> Result<Listening, StartError> {
        let asked = SocketAddr::new(bind, port);
        let listen_error = |source: io::Error| StartError::Listen {
            addr: asked,
            source,
        };
        // Bound here rather than by tiny_http, to tell "in use" from other failures.
        let listener = TcpListener::bind(asked).map_err(|source| {
            if source.kind() == io::ErrorKind::AddrInUse {
                StartError::PortInUse { bind, port }
            } else {
                listen_error(source)
            }
        })?;
        let address = listener.local_addr().map_err(listen_error)?;
        Ok(Listening {
            listener,
            asked,
            address,
        })
    }

    /// The address bound, with the real port when 0 was asked.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The site's address for a browser, as [`Server::url`] will give it.
    pub fn url(&self) -> String {
        url_of(self.address)
    }
}

impl Server {
    /// Starts answering on a socket bound earlier, serving `output`: spawns the server's
    /// threads and returns at once.
    pub fn serve(
        listening: Listening,
        output: PathBuf,
        live: Arc<Live>,
    ) -> Result<Server, StartError> {
        Server::serve_with(listening, output, live, Timing::DEFAULT)
    }

    fn serve_with(
        listening: Listening,
        output: PathBuf,
        live: Arc<Live>,
        timing: Timing,
    ) -> Result<Server, StartError> {
        let Listening {
            listener,
            asked,
            address,
        } = listening;
        let listen_error = |source: io::Error| StartError::Listen {
            addr: asked,
            source,
        };
        // A second handle on the socket, to listen again if tiny_http's accept loop gives up.
        let spare = listener.try_clone().map_err(listen_error)?;
        let http = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| listen_error(io::Error::other(e)))?;
        let shared = Arc::new(Shared {
            output,
            loopback: address.ip().is_loopback(),
            live,
            timing,
            stopping: AtomicBool::new(false),
            handlers: Mutex::new(0),
            handler_done: Condvar::new(),
        });
        let dispatcher = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("rollbook-serve".into())
                .spawn(move || dispatch(http, spare, &shared))
                .map_err(listen_error)?
        };
        Ok(Server {
            address,
            shared,
            dispatcher: Some(dispatcher),
        })
    }

    /// The address listened on, with the real port when 0 was asked.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The site's address for a browser: `http://127.0.0.1:1111/`, `http://[::1]:1111/`. A
    /// server listening on every interface (0.0.0.0 or ::) is reachable on loopback, and
    /// browsers refuse to open the unspecified address.
    pub fn url(&self) -> String {
        url_of(self.address)
    }

    /// Stops accepting connections, ends the live-reload streams and waits for the responses
    /// being written. Closing the [`Live`] state first is the caller's job, but not needed:
    /// this returns within a fraction of a second either way, and within about two seconds
    /// when a client has stopped reading a response.
    pub fn stop(mut self) {
        self.shut_down();
    }

    /// Once: `stop` and then `drop` both call it.
    fn shut_down(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let Some(dispatcher) = self.dispatcher.take() else {
            return;
        };
        // A panic there has already ended it; there is nothing left to stop.
        let _panicked = dispatcher.join();
        // A client that stopped reading can hold its thread in a write for good: wait a
        // little, then leave such threads behind rather than hang the caller.
        let deadline = Instant::now() + self.shared.timing.drain;
        let mut count = self.shared.handlers();
        while *count > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            count = match self.shared.handler_done.wait_timeout(count, left) {
                Ok((count, _)) => count,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// See [`Server::url`].
fn url_of(address: SocketAddr) -> String {
    let port = address.port();
    match address {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => format!("http://127.0.0.1:{port}/"),
        SocketAddr::V4(v4) => format!("http://{}:{port}/", v4.ip()),
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => format!("http://[::1]:{port}/"),
        // A zone in a URL is written %25 (RFC 6874).
        SocketAddr::V6(v6) if v6.scope_id() != 0 => {
            format!("http://[{}%25{}]:{port}/", v6.ip(), v6.scope_id())
        }
        SocketAddr::V6(v6) => format!("http://[{}]:{port}/", v6.ip()),
    }
}

/// The accept loop: hands each request to a thread of its own until `stop`.
fn dispatch(mut http: tiny_http::Server, spare: TcpListener, shared: &Arc<Shared>) {
    while !shared.stopping() {
        match http.recv_timeout(shared.timing.poll) {
            Ok(Some(request)) if request.body_length().is_some_and(|n| n > MAX_BODY) => {
                // See MAX_BODY: leaking the request (and its connection) is the only way not
                // to drop its body. Only a broken or hostile client gets here.
                std::mem::forget(request);
            }
            Ok(Some(request)) => {
                let handling = Handling::new(shared);
                // The thread runs detached; `stop` waits for it through `handling`. Without a
                // thread the request is dropped unanswered, tiny_http answers 500 for it,
                // and the server goes on.
                let _detached = std::thread::Builder::new()
                    .name("rollbook-request".into())
                    .spawn(move || {
                        let shared = Arc::clone(&handling.0);
                        answer(request, &shared);
                        drop(handling);
                    });
            }
            Ok(None) => {}
            Err(_accept_failed) => {
                // tiny_http's accept loop ends at its first error (most likely the process
                // is out of file descriptors); listen again on the same socket once some of
                // them may be free, rather than stay up without answering.
                std::thread::sleep(shared.timing.poll.max(Duration::from_millis(100)));
                if let Ok(listener) = spare.try_clone()
                    && let Ok(fresh) = tiny_http::Server::from_listener(listener, None)
                {
                    http = fresh;
                }
            }
        }
    }
    // Dropping `http` and `spare` closes the listening socket.
}

/// Answers one request.
fn answer(request: Request, shared: &Shared) {
    let head = match request.method() {
        Method::Get => false,
        Method::Head => true,
        _ => {
            let reply = Reply::text(405, "Only GET and HEAD are supported.\n")
                .with_header("Allow", "GET, HEAD".into());
            return send(request, reply);
        }
    };
    let host = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_string());
    if shared.loopback
        && let Some(host) = host.filter(|host| !local_host(host))
    {
        let reply = Reply::text(
            403,
            &format!(
                "Forbidden: this server answers only to localhost, not to {host:?}; `rollbook serve --bind` listens elsewhere.\n"
            ),
        );
        return send(request, reply);
    }
    let reply = match route(request.url()) {
        Err(Refusal::BadRequest(why)) => Reply::text(400, &format!("Bad request: {why}.\n")),
        Err(Refusal::Traversal) => Reply::text(403, "Forbidden: the path leaves the site.\n"),
        Ok(Route::Reserved(name)) => match name.as_str() {
            "events" if !head => return stream_events(request, shared),
            "events" => Reply::bytes(200, EVENT_STREAM, Vec::new()),
            "live.js" => Reply::bytes(200, JAVASCRIPT, LIVE_JS.as_bytes().to_vec()),
            "status" => status(&shared.live.snapshot()),
            _ => Reply::text(404, "Not found.\n"),
        },
        Ok(Route::Site(path)) => site_file(&path, shared),
    };
    send(request, reply);
}

/// Whether a `Host` header names this machine by a loopback name or address. A server on
/// loopback answers nothing else, so that a web page whose name an attacker points at
/// 127.0.0.1 (DNS rebinding) cannot read the reports, drafts included, through the visitor's
/// browser.
fn local_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A response, before tiny_http turns it into bytes.
#[derive(Debug)]
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn bytes(status: u16, content_type: &'static str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            content_type,
            body,
            headers: Vec::new(),
        }
    }

    fn text(status: u16, text: &str) -> Reply {
        Reply::bytes(status, TEXT, text.as_bytes().to_vec())
    }

    fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

fn send(request: Request, reply: Reply) {
    let mut response = Response::from_data(reply.body)
        .with_status_code(reply.status)
        // Always a Content-Length (tiny_http would chunk bodies over 32 KiB), so that HEAD
        // tells the size and a browser shows progress.
        .with_chunked_threshold(usize::MAX);
    let common = [
        ("Content-Type", reply.content_type),
        // A development server must never let a browser show a stale page.
        ("Cache-Control", "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
    ];
    let extra = reply.headers.iter().map(|(n, v)| (*n, v.as_str()));
    for (name, value) in common.into_iter().chain(extra) {
        // Values are ours or checked to be ASCII (the redirect's), so none is refused.
        if let Ok(header) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    // An error here is a client that went away; there is no one left to tell.
    let _client_gone = request.respond(response);
}

/// Why a request target is refused before the file system is looked at.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    BadRequest(&'static str),
    /// A `.` or `..` segment, after decoding: an attempt to leave the site.
    Traversal,
}

/// What a request target asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// A server endpoint: the rest of the path after `/__rollbook/`.
    Reserved(String),
    Site(SitePath),
}

/// A path into the site, decoded and checked, not yet looked up.
#[derive(Debug, PartialEq, Eq)]
struct SitePath {
    /// Decoded, each a single plain file name.
    segments: Vec<String>,
    /// As sent (still percent-encoded): the base of a redirect.
    raw: String,
    query: Option<String>,
}

/// Decodes and checks a request target. Only origin-form targets (`/path?query`) are
/// accepted; every `.` and `..` is refused after decoding, so no encoding of a traversal
/// (`%2e%2e`, `..%2f`, `..\`) gets through.
fn route(target: &str) -> Result<Route, Refusal> {
    if target
        .bytes()
        .any(|b| !b.is_ascii() || b.is_ascii_control() || b == b' ')
    {
        return Err(Refusal::BadRequest(
            "the path has characters that must be encoded",
        ));
    }
    if !target.starts_with('/') {
        return Err(Refusal::BadRequest("the request target must be a path"));
    }
    let without_fragment = target.split('#').next().unwrap_or_default();
    let (raw, query) = match without_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query.to_string())),
        None => (without_fragment, None),
    };
    let decoded = percent_decode(raw).ok_or(Refusal::BadRequest("malformed percent-encoding"))?;
    let decoded =
        String::from_utf8(decoded).map_err(|_| Refusal::BadRequest("the path is not UTF-8"))?;
    // A backslash is a separator on Windows: `..\` is a traversal there.
    if decoded.split(['/', '\\']).any(|s| s == "." || s == "..") {
        return Err(Refusal::Traversal);
    }
    if decoded.contains(['\0', '\\']) {
        return Err(Refusal::BadRequest(
            "the path has a NUL byte or a backslash",
        ));
    }
    let segments: Vec<String> = decoded
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    // Whatever else the platform reads as more than a file name (a Windows drive `C:`).
    let plain = |s: &String| {
        let mut components = Path::new(s).components();
        matches!(components.next(), Some(Component::Normal(_))) && components.next().is_none()
    };
    if !segments.iter().all(plain) {
        return Err(Refusal::Traversal);
    }
    if let Some((first, rest)) = segments.split_first()
        && first == RESERVED
    {
        return Ok(Route::Reserved(rest.join("/")));
    }
    Ok(Route::Site(SitePath {
        segments,
        raw: raw.to_string(),
        query,
    }))
}

/// `%XX` → byte; `None` for a `%` not followed by two hex digits. `+` stays `+` (it means a
/// space only in query strings).
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    fn hex(byte: u8) -> Option<u8> {
        char::from(byte)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let high = hex(bytes.next()?)?;
            let low = hex(bytes.next()?)?;
            out.push(high << 4 | low);
        } else {
            out.push(byte);
        }
    }
    Some(out)
}

/// Why a site path has no file to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Miss {
    NotFound,
    /// Outside the output directory (through a symbolic link), or unreadable.
    Forbidden,
}

/// The canonical path of `segments` under the output directory, if it exists and is inside
/// it once every symbolic link is followed. Nothing is opened before this check.
fn resolve(output: &Path, segments: &[String]) -> Result<PathBuf, Miss> {
    // Looked up on every request: each rebuild swaps in a new output directory.
    let root = output.canonicalize().map_err(|_| Miss::NotFound)?;
    let mut path = root.clone();
    path.extend(segments);
    let path = path.canonicalize().map_err(|e| match e.kind() {
        io::ErrorKind::PermissionDenied => Miss::Forbidden,
        _ => Miss::NotFound,
    })?;
    if path.starts_with(&root) {
        Ok(path)
    } else {
        Err(Miss::Forbidden)
    }
}

/// A file of the site, a redirect to a directory's slash, or the not-found page.
fn site_file(path: &SitePath, shared: &Shared) -> Reply {
    let found = resolve(&shared.output, &path.segments).and_then(|file| {
        let metadata = std::fs::metadata(&file).map_err(|_| Miss::NotFound)?;
        if !metadata.is_dir() {
            // `/report.html/` names a directory that is not there.
            return if path.raw.ends_with('/') {
                Err(Miss::NotFound)
            } else {
                Ok(Some(file))
            };
        }
        if !path.raw.ends_with('/') {
            return Ok(None);
        }
        let mut index = path.segments.clone();
        index.push("index.html".into());
        resolve(&shared.output, &index).map(Some)
    });
    match found {
        Ok(Some(file)) => match read_file(&file) {
            Ok(body) => page(200, &file, body, &shared.live),
            Err(miss) => not_found(miss, shared),
        },
        Ok(None) => {
            // Relative links in a directory's index resolve against the slash. The target is
            // built from the path as sent, with one leading slash (`//host/` would send the
            // browser to another site).
            let query = path
                .query
                .as_ref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            let location = format!("/{}/{query}", path.raw.trim_start_matches('/'));
            Reply::text(301, "Moved permanently: the address ends with a slash.\n")
                .with_header("Location", location)
        }
        Err(miss) => not_found(miss, shared),
    }
}

/// A regular file's bytes (a FIFO or a device in the output would block or never end).
fn read_file(file: &Path) -> Result<Vec<u8>, Miss> {
    let metadata = std::fs::metadata(file).map_err(|_| Miss::NotFound)?;
    if !metadata.is_file() {
        return Err(Miss::NotFound);
    }
    std::fs::read(file).map_err(|e| match e.kind() {
        io::ErrorKind::PermissionDenied => Miss::Forbidden,
        _ => Miss::NotFound,
    })
}

/// 403 for a file outside the site or unreadable; 404 with the site's `404.html` when it has one.
fn not_found(miss: Miss, shared: &Shared) -> Reply {
    if miss == Miss::Forbidden {
        return Reply::text(403, "Forbidden: outside the site, or not readable.\n");
    }
    let page_404 = resolve(&shared.output, &["404.html".to_string()]);
    match page_404.and_then(|file| read_file(&file).map(|body| (file, body))) {
        Ok((file, body)) => page(404, &file, body, &shared.live),
        Err(_) => Reply::text(404, "Not found.\n"),
    }
}

/// A file's response: its content type, and the live-reload snippet when it is HTML.
fn page(status: u16, file: &Path, body: Vec<u8>, live: &Live) -> Reply {
    let content_type = content_type(file);
    let body = if content_type == HTML {
        inject(body, &live.snapshot())
    } else {
        body
    };
    Reply::bytes(status, content_type, body)
}

const HTML: &str = "text/html; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const EVENT_STREAM: &str = "text/event-stream";

/// The content type of a file of the site, by its name.
fn content_type(file: &Path) -> &'static str {
    if file.file_name().is_some_and(|n| n == "atom.xml") {
        return "application/atom+xml; charset=utf-8";
    }
    let extension = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => HTML,
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => JAVASCRIPT,
        "json" | "map" => "application/json; charset=utf-8",
        "xml" => "application/xml; charset=utf-8",
        "txt" => TEXT,
        "svg" => "image/svg+xml; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        // WebAssembly.instantiateStreaming refuses any other type.
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Inserts the live-reload script, and the problems when there are some, before the last
/// `</body>` (at the end when there is none). Only the response changes, never the file.
fn inject(mut html: Vec<u8>, snapshot: &Snapshot) -> Vec<u8> {
    const CLOSE: &[u8] = b"</body>";
    let mut snippet = String::new();
    if let Some(problems) = &snapshot.problems {
        snippet.push_str(&overlay(problems));
    }
    snippet.push_str(&format!(
        r#"<script src="/{RESERVED}/live.js" data-generation="{}"></script>"#,
        snapshot.generation
    ));
    let at = html
        .windows(CLOSE.len())
        .rposition(|w| w.eq_ignore_ascii_case(CLOSE))
        .unwrap_or(html.len());
    html.splice(at..at, snippet.into_bytes());
    html
}

/// The problems over the page: styled inline (the site's CSS may be the broken part), and
/// dismissed by live.js rather than an inline handler, which a Content-Security-Policy may
/// forbid.
fn overlay(problems: &str) -> String {
    format!(
        concat!(
            r#"<div id="rollbook-problems" role="alert" style="position:fixed;top:0;left:0;"#,
            r#"right:0;z-index:2147483647;box-sizing:border-box;max-height:60vh;"#,
            r#"overflow:auto;margin:0;padding:16px 20px;background:#fff5f5;color:#3b0a0a;"#,
            r#"border-bottom:4px solid #c62828;box-shadow:0 4px 16px rgba(0,0,0,.35);"#,
            r#"font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;text-align:left">"#,
            r#"<button type="button" data-rollbook-hide aria-label="Hide the errors" "#,
            r#"style="float:right;margin:0 0 8px 16px;padding:4px 12px;font:inherit;"#,
            r#"cursor:pointer;color:#3b0a0a;background:#fff;border:1px solid #c62828;"#,
            r#"border-radius:4px">Hide</button>"#,
            r#"<strong style="display:block;margin:0 0 8px;font-size:17px;color:#b71c1c">"#,
            "The site has errors; showing the last good build</strong>",
            r#"<pre style="margin:0;white-space:pre-wrap;overflow-wrap:anywhere;"#,
            r#"font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"#,
            r#"color:inherit;background:none;border:0;padding:0">{}</pre></div>"#,
        ),
        escape_html(problems)
    )
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `GET /__rollbook/status`: the live state for scripts and people.
fn status(snapshot: &Snapshot) -> Reply {
    let json = serde_json::json!({
        "generation": snapshot.generation,
        "problems": snapshot.problems,
    });
    Reply::bytes(
        200,
        "application/json; charset=utf-8",
        json.to_string().into_bytes(),
    )
}

/// The page side of live reload: reload when the server's generation differs from the one
/// the page was served with. `hello` is checked too, so a rebuild that finished between the
/// page's load and the stream's start is not missed, and a restarted server reloads pages.
const LIVE_JS: &str = r#"// rollbook serve: reloads this page when the site is rebuilt.
(function () {
  'use strict';
  var script = document.currentScript ||
    document.querySelector('script[data-generation]');
  var shown = script ? script.getAttribute('data-generation') : null;
  var problems = document.getElementById('rollbook-problems');
  var hide = problems && problems.querySelector('[data-rollbook-hide]');
  if (hide) {
    hide.addEventListener('click', function () { problems.style.display = 'none'; });
  }
  if (typeof EventSource === 'undefined') { return; }
  var events;
  try {
    events = new EventSource('/__rollbook/events');
  } catch (e) {
    return;
  }
  function check(event) {
    if (shown === null ? event.type === 'reload' : event.data !== shown) {
      events.close();
      location.reload();
    }
  }
  events.addEventListener('hello', check);
  events.addEventListener('reload', check);
})();
"#;

/// `GET /__rollbook/events`: a Server-Sent Events stream of the live state's generations,
/// open until the live state is closed, the server stops or the client goes away.
fn stream_events(request: Request, shared: &Shared) {
    // HTTP/1.1 gets chunks, so that the stream can end and the connection be reused; HTTP/1.0
    // has no chunks, and its connection closes when the stream ends.
    let chunked = *request.http_version() >= (1, 1);
    let version = if chunked { "1.1" } else { "1.0" };
    let framing = if chunked {
        "Transfer-Encoding: chunked"
    } else {
        "Connection: close"
    };
    let mut events = EventStream {
        out: request.into_writer(),
        chunked,
    };
    let head = format!(
        "HTTP/{version} 200 OK\r\nContent-Type: {EVENT_STREAM}\r\nCache-Control: no-cache\r\n\
         X-Content-Type-Options: nosniff\r\n{framing}\r\n\r\n"
    );
    if events.raw(head.as_bytes()).is_err() {
        return;
    }
    let timing = shared.timing;
    let mut seen = shared.live.snapshot().generation;
    let hello = format!("retry: 1000\nevent: hello\ndata: {seen}\n\n");
    if events.send(&hello).is_err() {
        return;
    }
    let mut last_sent = Instant::now();
    // Short waits, so that `stop` is noticed even when the live state is never closed.
    while !shared.stopping() && !shared.live.is_closed() {
        let sent = match shared.live.wait_newer(seen, timing.poll) {
            Some(snapshot) => {
                seen = snapshot.generation;
                events.send(&format!("event: reload\ndata: {seen}\n\n"))
            }
            None if last_sent.elapsed() >= timing.keepalive => events.send(": keepalive\n\n"),
            None => continue,
        };
        if sent.is_err() {
            // The client went away.
            return;
        }
        last_sent = Instant::now();
    }
    events.finish();
}

/// The writing side of an event stream, flushed after every event.
struct EventStream {
    out: Box<dyn Write + Send>,
    chunked: bool,
}

impl EventStream {
    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.out.flush()
    }

    fn send(&mut self, event: &str) -> io::Result<()> {
        if self.chunked {
            let chunk = format!("{:x}\r\n{event}\r\n", event.len());
            self.raw(chunk.as_bytes())
        } else {
            self.raw(event.as_bytes())
        }
    }

    /// Ends the response; the client reconnects after `retry`, to a restarted server.
    fn finish(mut self) {
        if self.chunked {
            // A client that went away cannot be told the stream ended.
            let _client_gone = self.raw(b"0\r\n\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6, TcpStream};

    /// Short waits, so that the tests see keepalives and stops quickly.
    const FAST: Timing = Timing {
        keepalive: Duration::from_millis(300),
        poll: Duration::from_millis(20),
        drain: Duration::from_secs(2),
    };
    /// How long a test waits for anything before it fails rather than hang.
    const PATIENCE: Duration = Duration::from_secs(10);
    /// In files outside the output directory; no response may ever contain it.
    const SECRET: &str = "SECRET-outside-the-site";

    const PAGE: &str = "<!doctype html><html><body><p>Failover</p>\
                        <!-- a literal </body> in a comment --></BODY></html>\n";

    /// A site in `dir/public`, with a secret beside it in `dir/secret.txt` and `dir/outside/`.
    struct Site {
        dir: tempfile::TempDir,
        live: Arc<Live>,
        server: Server,
    }

    impl Site {
        fn new() -> Site {
            Site::with_timing(FAST)
        }

        fn with_timing(timing: Timing) -> Site {
            let dir = tempfile::tempdir().expect("tempdir");
            let output = dir.path().join("public");
            let files: &[(&str, &[u8])] = &[
                ("index.html", b"<html><body><h1>Home</h1></body></html>"),
                (
                    "reports/index.html",
                    b"<html><body>All reports</body></html>",
                ),
                ("reports/db-failover.html", PAGE.as_bytes()),
                (
                    "404.html",
                    b"<html><body><h1>No such report</h1></body></html>",
                ),
                ("no-body.html", b"<p>fragment"),
                ("style.css", b"body{}"),
                ("search/engine.wasm", b"\0asm\x01\0\0\0\xff\xfe"),
                ("atom.xml", b"<feed/>"),
                ("sitemap.xml", b"<urlset/>"),
                ("reports.json", b"[]"),
                ("data.bin", b"\x00\x01\x02\xff"),
                ("notes.unknown", b"?"),
            ];
            for (name, bytes) in files {
                let path = output.join(name);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(&path, bytes).expect("write");
            }
            std::fs::write(dir.path().join("secret.txt"), SECRET).expect("write");
            std::fs::create_dir(dir.path().join("outside")).expect("mkdir");
            std::fs::write(dir.path().join("outside/passwd"), SECRET).expect("write");
            std::fs::write(dir.path().join("outside/index.html"), SECRET).expect("write");
            let live = Arc::new(Live::new());
            let listening = Listening::bind(IpAddr::V4(Ipv4Addr::LOCALHOST), 0).expect("bind");
            let server =
                Server::serve_with(listening, output, Arc::clone(&live), timing).expect("start");
            Site { dir, live, server }
        }

        fn output(&self) -> PathBuf {
            self.dir.path().join("public")
        }

        fn get(&self, target: &str) -> Answer {
            self.request("GET", target)
        }

        fn request(&self, method: &str, target: &str) -> Answer {
            exchange(
                self.server.address(),
                &format!(
                    "{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                ),
            )
        }
    }

    /// A response as the client saw it.
    #[derive(Debug)]
    struct Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Answer {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }

        fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
    }

    /// Sends `raw` on a new connection and reads the response to the end of the connection.
    fn exchange(address: SocketAddr, raw: &str) -> Answer {
        let mut stream = TcpStream::connect(address).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        stream.write_all(raw.as_bytes()).expect("send");
        let mut bytes = Vec::new();
        stream
            .read_to_end(&mut bytes)
            .expect("read the response to its end");
        parse(&bytes)
    }

    fn parse(bytes: &[u8]) -> Answer {
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(bytes)));
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        Answer {
            status,
            headers,
            body: bytes[end + 4..].to_vec(),
        }
    }

    /// Reads from an open connection until `needle` has arrived; false after PATIENCE.
    fn read_until(stream: &mut TcpStream, seen: &mut Vec<u8>, needle: &str) -> bool {
        let deadline = Instant::now() + PATIENCE;
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let needle = needle.as_bytes();
        let mut buffer = [0; 4096];
        while !seen.windows(needle.len()).any(|w| w == needle) {
            if Instant::now() > deadline {
                return false;
            }
            match stream.read(&mut buffer) {
                Ok(0) => return false,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("read: {e}"),
            }
        }
        true
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    fn script(generation: u64) -> String {
        format!(r#"<script src="/__rollbook/live.js" data-generation="{generation}"></script>"#)
    }

    fn assert_common_headers(answer: &Answer) {
        assert_eq!(
            answer.header("Cache-Control"),
            Some("no-cache"),
            "{answer:?}"
        );
        assert_eq!(
            answer.header("X-Content-Type-Options"),
            Some("nosniff"),
            "{answer:?}"
        );
    }

    #[test]
    fn a_page_is_served_with_its_type_and_the_live_script_before_the_last_body_tag() {
        let site = Site::new();
        let answer = site.get("/reports/db-failover.html");
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert_common_headers(&answer);
        let expected = PAGE.replace("</BODY>", &format!("{}</BODY>", script(0)));
        assert_eq!(answer.text(), expected);
        assert_eq!(
            answer.header("Content-Length"),
            Some(expected.len().to_string().as_str())
        );
        // Only the response changes.
        let on_disk = std::fs::read_to_string(site.output().join("reports/db-failover.html"));
        assert_eq!(on_disk.expect("read"), PAGE);
    }

    #[test]
    fn html_without_a_body_tag_gets_the_script_at_the_end() {
        let site = Site::new();
        let answer = site.get("/no-body.html");
        assert_eq!(answer.text(), format!("<p>fragment{}", script(0)));
    }

    #[test]
    fn a_directory_serves_its_index_and_gets_its_trailing_slash() {
        let site = Site::new();
        let root = site.get("/");
        assert_eq!(root.status, 200);
        assert!(root.text().starts_with("<html><body><h1>Home</h1>"));
        let index = site.get("/reports/?sort=date");
        assert_eq!(index.status, 200);
        assert!(index.text().contains("All reports"));
        assert!(index.text().contains(&script(0)));

        let redirect = site.get("/reports?sort=date");
        assert_eq!(redirect.status, 301);
        assert_eq!(redirect.header("Location"), Some("/reports/?sort=date"));
        assert_common_headers(&redirect);
        // Never `//reports/`, which a browser reads as another host.
        assert_eq!(site.get("//reports").header("Location"), Some("/reports/"));
        // A file is not a directory.
        assert_eq!(site.get("/reports/db-failover.html/").status, 404);
    }

    #[test]
    fn a_missing_page_gets_the_sites_404_page_with_status_404() {
        let site = Site::new();
        let answer = site.get("/reports/no-such-report.html");
        assert_eq!(answer.status, 404);
        assert_eq!(
            answer.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert!(answer.text().contains("No such report"));
        assert!(answer.text().contains(&format!("{}</body>", script(0))));
        assert_eq!(site.get("/reports/missing/").status, 404);

        std::fs::remove_file(site.output().join("404.html")).expect("remove");
        let plain = site.get("/missing");
        assert_eq!(plain.status, 404);
        assert_eq!(plain.header("Content-Type"), Some(TEXT));
        assert_common_headers(&plain);
    }

    #[test]
    fn a_missing_output_directory_is_a_404_not_an_error() {
        let site = Site::new();
        std::fs::remove_dir_all(site.output()).expect("remove");
        assert_eq!(site.get("/").status, 404);
    }

    #[test]
    fn traversal_attempts_are_refused_and_never_read_outside_the_site() {
        let site = Site::new();
        let attempts: &[(&str, u16)] = &[
            ("/../secret.txt", 403),
            ("/reports/../../secret.txt", 403),
            ("/%2e%2e/secret.txt", 403),
            ("/%2E%2E/secret.txt", 403),
            ("/.%2e/secret.txt", 403),
            ("/..%2fsecret.txt", 403),
            ("/..%2f..%2fetc%2fpasswd", 403),
            ("/%2e%2e%5csecret.txt", 403),
            ("/%2e%2e%5c..", 403),
            ("/..\\secret.txt", 403),
            ("/./index.html", 403),
            ("//etc/passwd", 404),
            ("///..//secret.txt", 403),
            ("/outside/passwd", 404),
            ("http://127.0.0.1/../secret.txt", 400),
            ("http://127.0.0.1/index.html", 400),
            ("*", 400),
            ("/a%5cb", 400),
            ("/index.html%00.css", 400),
            ("/%zz", 400),
            ("/%2", 400),
            ("/%c3%28", 400),
        ];
        for (target, status) in attempts {
            let answer = site.get(target);
            assert_eq!(answer.status, *status, "{target}: {answer:?}");
            assert!(
                !contains(&answer.body, SECRET),
                "{target} leaked the secret"
            );
            assert!(
                !contains(&answer.body, "root:"),
                "{target} leaked /etc/passwd"
            );
            assert_common_headers(&answer);
        }
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_out_of_the_site_are_refused() {
        use std::os::unix::fs::symlink;
        let site = Site::new();
        let output = site.output();
        symlink("/etc", output.join("link")).expect("symlink");
        symlink(site.dir.path().join("outside"), output.join("outdir")).expect("symlink");
        symlink(site.dir.path().join("secret.txt"), output.join("leak.txt")).expect("symlink");
        symlink("../secret.txt", output.join("relative.txt")).expect("symlink");
        std::fs::create_dir(output.join("trap")).expect("mkdir");
        symlink(
            site.dir.path().join("outside/index.html"),
            output.join("trap/index.html"),
        )
        .expect("symlink");
        for target in [
            "/link/passwd",
            "/link/",
            "/outdir/passwd",
            "/outdir/",
            "/leak.txt",
            "/relative.txt",
            "/trap/",
        ] {
            let answer = site.get(target);
            assert_eq!(answer.status, 403, "{target}: {answer:?}");
            assert!(
                !contains(&answer.body, SECRET),
                "{target} leaked the secret"
            );
            assert!(
                !contains(&answer.body, "root:"),
                "{target} leaked /etc/passwd"
            );
        }
        // A link that stays inside the site is followed.
        symlink("index.html", output.join("home.html")).expect("symlink");
        let home = site.get("/home.html");
        assert_eq!(home.status, 200);
        assert!(home.text().contains("Home"));
    }

    #[test]
    fn files_get_their_content_types_and_their_exact_bytes() {
        let site = Site::new();
        let types = [
            ("/style.css", "text/css; charset=utf-8"),
            ("/search/engine.wasm", "application/wasm"),
            ("/atom.xml", "application/atom+xml; charset=utf-8"),
            ("/sitemap.xml", "application/xml; charset=utf-8"),
            ("/reports.json", "application/json; charset=utf-8"),
            ("/data.bin", "application/octet-stream"),
            ("/notes.unknown", "application/octet-stream"),
            ("/__rollbook/live.js", JAVASCRIPT),
        ];
        for (target, content_type) in types {
            let answer = site.get(target);
            assert_eq!(answer.status, 200, "{target}");
            assert_eq!(
                answer.header("Content-Type"),
                Some(content_type),
                "{target}"
            );
            assert_common_headers(&answer);
        }
        let wasm = site.get("/search/engine.wasm");
        assert_eq!(wasm.body, b"\0asm\x01\0\0\0\xff\xfe", "never injected into");
    }

    #[test]
    fn content_types_by_name() {
        let cases = [
            ("a.html", HTML),
            ("A.HTM", HTML),
            ("app.mjs", JAVASCRIPT),
            ("notes.txt", TEXT),
            ("logo.svg", "image/svg+xml; charset=utf-8"),
            ("logo.png", "image/png"),
            ("photo.JPG", "image/jpeg"),
            ("photo.jpeg", "image/jpeg"),
            ("anim.gif", "image/gif"),
            ("pic.webp", "image/webp"),
            ("favicon.ico", "image/x-icon"),
            ("font.woff", "font/woff"),
            ("font.woff2", "font/woff2"),
            ("reports/atom.xml", "application/atom+xml; charset=utf-8"),
            ("index.bin", "application/octet-stream"),
            ("Makefile", "application/octet-stream"),
        ];
        for (name, expected) in cases {
            assert_eq!(content_type(Path::new(name)), expected, "{name}");
        }
    }

    #[test]
    fn head_sends_the_headers_of_get_without_a_body() {
        let site = Site::new();
        let get = site.get("/reports/db-failover.html");
        let head = site.request("HEAD", "/reports/db-failover.html");
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty(), "{head:?}");
        assert_eq!(head.header("Content-Type"), get.header("Content-Type"));
        assert_eq!(head.header("Content-Length"), get.header("Content-Length"));
        assert_eq!(site.request("HEAD", "/missing").status, 404);
    }

    #[test]
    fn on_loopback_only_local_host_names_are_answered() {
        let site = Site::new();
        let asked = |host: &str| {
            exchange(
                site.server.address(),
                &format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
            )
        };
        // A rebinding attack's page is served under its own name.
        let rebound = asked("attacker.example:1111");
        assert_eq!(rebound.status, 403);
        assert!(
            String::from_utf8_lossy(&rebound.body).starts_with("Forbidden"),
            "{rebound:?}"
        );
        for host in [
            "localhost:1111",
            "127.0.0.1",
            "[::1]:80",
            "kb.localhost",
            "LOCALHOST.",
        ] {
            assert_eq!(asked(host).status, 200, "{host}");
        }
    }

    #[test]
    fn local_host_names() {
        for host in [
            "localhost",
            "localhost:1",
            "127.0.0.1:1111",
            "127.1.2.3",
            "[::1]:8080",
            "a.localhost",
        ] {
            assert!(local_host(host), "{host}");
        }
        for host in [
            "example.com",
            "localhost.example.com",
            "10.0.0.1:1111",
            "[::2]",
            "127.0.0.1.nip.io",
            "",
        ] {
            assert!(!local_host(host), "{host}");
        }
    }

    #[test]
    fn other_methods_get_405_with_allow() {
        let site = Site::new();
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"] {
            let answer = site.request(method, "/index.html");
            assert_eq!(answer.status, 405, "{method}");
            assert_eq!(answer.header("Allow"), Some("GET, HEAD"), "{method}");
            assert_common_headers(&answer);
        }
        let with_body = exchange(
            site.server.address(),
            "POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello",
        );
        assert_eq!(with_body.status, 405);
    }

    #[test]
    fn a_huge_declared_body_does_not_take_the_server_down() {
        let site = Site::new();
        for method in ["GET", "POST"] {
            // tiny_http would drain this into a buffer of 100 TB when the request is dropped.
            let mut stream = TcpStream::connect(site.server.address()).expect("connect");
            let raw = format!(
                "{method} / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000000000000\r\n\r\nab"
            );
            stream.write_all(raw.as_bytes()).expect("send");
            // Gives the server time to handle it (and to abort, were it going to).
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(site.get("/").status, 200);
    }

    #[test]
    fn the_problems_overlay_is_shown_escaped_until_the_next_good_build() {
        let site = Site::new();
        site.live
            .failed("content/a.md:3:1: error: <script>alert(1)</script> & \"more\"".into());
        let broken = site.get("/");
        let text = broken.text();
        assert_eq!(broken.status, 200);
        assert!(
            text.contains(r#"id="rollbook-problems" role="alert""#),
            "{text}"
        );
        assert!(text.contains("The site has errors; showing the last good build"));
        assert!(
            text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;"),
            "{text}"
        );
        assert!(!text.contains("<script>alert(1)"), "{text}");
        assert!(text.contains(&format!("</pre></div>{}</body>", script(1))));
        assert_eq!(
            broken.header("Content-Length"),
            Some(broken.body.len().to_string().as_str())
        );
        // The 404 page shows them too.
        assert!(site.get("/missing").text().contains("rollbook-problems"));
        let status: serde_json::Value =
            serde_json::from_slice(&site.get("/__rollbook/status").body).expect("json");
        assert_eq!(status["generation"], 1);
        assert_eq!(
            status["problems"],
            "content/a.md:3:1: error: <script>alert(1)</script> & \"more\""
        );

        site.live.rebuilt();
        let fixed = site.get("/");
        assert!(!fixed.text().contains("rollbook-problems"));
        assert!(fixed.text().contains(&script(2)));
        let status: serde_json::Value =
            serde_json::from_slice(&site.get("/__rollbook/status").body).expect("json");
        assert_eq!(
            status,
            serde_json::json!({ "generation": 2, "problems": null })
        );
        let on_disk = std::fs::read_to_string(site.output().join("index.html")).expect("read");
        assert!(!on_disk.contains("rollbook"));
    }

    #[test]
    fn the_live_script_and_status_are_served_and_the_rest_of_the_prefix_is_404() {
        let site = Site::new();
        let script = site.get("/__rollbook/live.js");
        assert_eq!(script.status, 200);
        let text = script.text();
        assert!(text.contains("new EventSource('/__rollbook/events')"));
        assert!(text.contains("location.reload()"));
        assert!(text.contains("typeof EventSource === 'undefined'"));
        assert!(text.contains("'hello'") && text.contains("'reload'"));
        let status = site.get("/__rollbook/status");
        assert_eq!(
            status.header("Content-Type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(status.text(), r#"{"generation":0,"problems":null}"#);
        for target in [
            "/__rollbook",
            "/__rollbook/",
            "/__rollbook/nope",
            "/__rollbook/live.js/x",
        ] {
            assert_eq!(site.get(target).status, 404, "{target}");
        }
    }

    #[test]
    fn an_event_stream_says_hello_then_each_new_generation_while_open() {
        let site = Site::new();
        let mut stream = TcpStream::connect(site.server.address()).expect("connect");
        // A browser's request: the connection stays open.
        let request = "GET /__rollbook/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n";
        stream.write_all(request.as_bytes()).expect("send");
        let mut seen = Vec::new();
        assert!(
            read_until(
                &mut stream,
                &mut seen,
                "retry: 1000\nevent: hello\ndata: 0\n\n"
            ),
            "no hello in {:?}",
            String::from_utf8_lossy(&seen)
        );
        let head = parse(&seen);
        assert_eq!(head.status, 200);
        assert_eq!(head.header("Content-Type"), Some(EVENT_STREAM));
        assert_eq!(head.header("Cache-Control"), Some("no-cache"));
        assert_eq!(head.header("Transfer-Encoding"), Some("chunked"));
        assert_eq!(head.header("Content-Length"), None);

        site.live.rebuilt();
        assert!(
            read_until(&mut stream, &mut seen, "event: reload\ndata: 1\n\n"),
            "no reload in {:?}",
            String::from_utf8_lossy(&seen)
        );
        site.live.failed("broken".into());
        assert!(read_until(
            &mut stream,
            &mut seen,
            "event: reload\ndata: 2\n\n"
        ));
        assert!(read_until(&mut stream, &mut seen, ": keepalive\n\n"));
        // Files are still served while the stream is open.
        assert_eq!(site.get("/").status, 200);

        site.live.close();
        assert!(
            read_until(&mut stream, &mut seen, "\r\n0\r\n\r\n"),
            "the stream did not end: {:?}",
            String::from_utf8_lossy(&seen)
        );
    }

    #[test]
    fn a_late_connection_says_hello_with_the_current_generation() {
        let site = Site::new();
        site.live.rebuilt();
        site.live.rebuilt();
        let mut stream = TcpStream::connect(site.server.address()).expect("connect");
        stream
            .write_all(b"GET /__rollbook/events HTTP/1.0\r\n\r\n")
            .expect("send");
        let mut seen = Vec::new();
        assert!(read_until(
            &mut stream,
            &mut seen,
            "event: hello\ndata: 2\n\n"
        ));
        // HTTP/1.0 has no chunks: the stream is the raw events, ended by closing.
        assert_eq!(parse(&seen).header("Connection"), Some("close"));
        site.live.close();
        let mut rest = Vec::new();
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        stream.read_to_end(&mut rest).expect("closed");
    }

    #[test]
    fn a_second_server_on_the_same_port_is_told_the_port_is_in_use() {
        let site = Site::new();
        let port = site.server.address().port();
        let error = Listening::bind(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
            .err()
            .expect("the port is taken");
        assert!(
            matches!(error, StartError::PortInUse { port: p, .. } if p == port),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!("port {port} on 127.0.0.1 is already in use")
        );
        assert_eq!(
            error.help().as_deref(),
            Some("stop the other server, or choose another port with --port")
        );
    }

    #[test]
    fn stop_returns_promptly_with_an_event_stream_open_and_the_live_state_never_closed() {
        // The real timings: this is the promise the serve command relies on.
        let site = Site::with_timing(Timing::DEFAULT);
        let address = site.server.address();
        let mut stream = TcpStream::connect(address).expect("connect");
        stream
            .write_all(
                b"GET /__rollbook/events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            )
            .expect("send");
        let mut seen = Vec::new();
        assert!(read_until(&mut stream, &mut seen, "event: hello"));
        let started = Instant::now();
        site.server.stop();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "stop took {:?}",
            started.elapsed()
        );
        assert!(!site.live.is_closed());
        assert!(
            read_until(&mut stream, &mut seen, "\r\n0\r\n\r\n"),
            "stream ended"
        );
        // The port is released (tiny_http's accept thread lets go of it as it wakes).
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(address).is_ok() {
            assert!(Instant::now() < deadline, "still listening after stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_stalled_client_does_not_hold_up_others() {
        let site = Site::new();
        let address = site.server.address();
        let mut stalled = TcpStream::connect(address).expect("connect");
        stalled.write_all(b"GET /index.ht").expect("send");
        let mut slow_reader = TcpStream::connect(address).expect("connect");
        slow_reader
            .write_all(b"GET /__rollbook/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .expect("send");
        let started = Instant::now();
        for _ in 0..5 {
            assert_eq!(site.get("/").status, 200);
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn http_1_0_and_keep_alive_requests_are_answered() {
        let site = Site::new();
        let old = exchange(site.server.address(), "GET /style.css HTTP/1.0\r\n\r\n");
        assert_eq!(old.status, 200);
        assert_eq!(old.body, b"body{}");
        // Two requests on one connection, the second closing it.
        let both = exchange(
            site.server.address(),
            "GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n\
             GET /atom.xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(both.status, 200);
        assert!(contains(&both.body, "HTTP/1.1 200"), "{both:?}");
        assert!(contains(&both.body, "<feed/>"), "{both:?}");
    }

    #[test]
    fn routes_decode_then_refuse_dots() {
        let site = |segments: &[&str], raw: &str, query: Option<&str>| {
            Ok(Route::Site(SitePath {
                segments: segments.iter().map(|s| s.to_string()).collect(),
                raw: raw.into(),
                query: query.map(String::from),
            }))
        };
        assert_eq!(route("/"), site(&[], "/", None));
        assert_eq!(
            route("/reports/a%20b.html?x=1#top"),
            site(&["reports", "a b.html"], "/reports/a%20b.html", Some("x=1"))
        );
        assert_eq!(
            route("/a%2Fb//c/"),
            site(&["a", "b", "c"], "/a%2Fb//c/", None)
        );
        assert_eq!(route("/caf%C3%A9"), site(&["café"], "/caf%C3%A9", None));
        assert_eq!(route("/a+b"), site(&["a+b"], "/a+b", None));
        assert_eq!(route("/..."), site(&["..."], "/...", None));
        assert_eq!(route("/a..b"), site(&["a..b"], "/a..b", None));
        assert_eq!(
            route("/__rollbook/live.js?v=2"),
            Ok(Route::Reserved("live.js".into()))
        );
        assert_eq!(
            route("/%5F_rollbook/events"),
            Ok(Route::Reserved("events".into()))
        );
        assert_eq!(route("/a/%2e"), Err(Refusal::Traversal));
        assert_eq!(route("/a/.%2E/b"), Err(Refusal::Traversal));
        assert!(matches!(route("/a b"), Err(Refusal::BadRequest(_))));
        assert!(matches!(route("/a\r\nX: y"), Err(Refusal::BadRequest(_))));
        assert!(matches!(route("/caf\u{e9}"), Err(Refusal::BadRequest(_))));
        assert!(matches!(route(""), Err(Refusal::BadRequest(_))));
        assert!(matches!(route("/%+1"), Err(Refusal::BadRequest(_))));
    }

    #[test]
    fn injection_goes_before_the_last_body_tag_in_any_case() {
        let snapshot = Snapshot {
            generation: 7,
            problems: None,
        };
        let html = b"<body>a</body><!-- x --></Body >".to_vec();
        // `</Body >` is not `</body>`: the last exact match wins.
        assert_eq!(
            String::from_utf8(inject(html, &snapshot)).expect("utf-8"),
            format!("<body>a{}</body><!-- x --></Body >", script(7))
        );
        let bytes = b"\xff</BODY>".to_vec();
        assert_eq!(
            inject(bytes, &snapshot),
            [b"\xff".as_slice(), script(7).as_bytes(), b"</BODY>"].concat()
        );
    }

    #[test]
    fn urls_name_loopback_for_the_unspecified_address_and_bracket_ipv6() {
        let url = url_of;
        assert_eq!(
            url(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 1111)),
            "http://127.0.0.1:1111/"
        );
        assert_eq!(
            url(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 1111)),
            "http://127.0.0.1:1111/"
        );
        assert_eq!(
            url(SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 1111)),
            "http://[::1]:1111/"
        );
        assert_eq!(
            url(SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 8080)),
            "http://[::1]:8080/"
        );
        let link_local = SocketAddrV6::new("fe80::1".parse().expect("ip"), 80, 0, 3);
        assert_eq!(url(link_local.into()), "http://[fe80::1%253]:80/");
    }
}
