//! The engine's interface to its worker (`worker.js`): plain functions over linear memory, so
//! that no bindings generator is needed.
//!
//! Strings and bytes go in through a buffer from [`alloc`], which the called function takes
//! over; answers come out as JSON in a buffer read with [`output_ptr`] and the returned
//! length. Chunks are fetched through the imports `rollbook.fetch` (fetch synchronously, keep
//! the bytes, return their length or -1) and `rollbook.take` (copy them to a pointer).

use std::cell::RefCell;
use std::io;

use crate::{Answer, Engine, Query};

#[link(wasm_import_module = "rollbook")]
unsafe extern "C" {
    fn fetch(name: *const u8, name_len: usize) -> isize;
    fn take(dest: *mut u8);
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reading an index never draws random numbers, but tantivy's dependencies link getrandom
/// (built with `--cfg getrandom_backend="custom"`, see .cargo/config.toml).
#[unsafe(no_mangle)]
unsafe extern "Rust" fn __getrandom_v03_custom(
    _dest: *mut u8,
    _len: usize,
) -> Result<(), getrandom::Error> {
    Err(getrandom::Error::UNSUPPORTED)
}

fn fetch_chunk(name: &str) -> io::Result<Vec<u8>> {
    // SAFETY: the host reads `name` during the call and writes `len` bytes into `bytes`.
    let len = unsafe { fetch(name.as_ptr(), name.len()) };
    if len < 0 {
        return Err(io::Error::other(format!("cannot fetch search/web/{name}")));
    }
    let mut bytes = vec![0u8; len as usize];
    unsafe { take(bytes.as_mut_ptr()) };
    Ok(bytes)
}

/// A buffer of `len` bytes for the host to fill and pass to one of the functions below.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len.max(1));
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

/// Takes back a buffer from [`alloc`].
unsafe fn taken(ptr: *mut u8, len: usize) -> Vec<u8> {
    // SAFETY: `ptr` came from `alloc(len)` and the host filled `len` bytes.
    unsafe { Vec::from_raw_parts(ptr, len, len.max(1)) }
}

fn answer(json: String) -> usize {
    OUTPUT.with(|out| {
        let mut out = out.borrow_mut();
        *out = json.into_bytes();
        out.len()
    })
}

/// Where the last answer is.
#[unsafe(no_mangle)]
pub extern "C" fn output_ptr() -> *const u8 {
    OUTPUT.with(|out| out.borrow().as_ptr())
}

/// Opens the index from the open pack; answers `{"ok":true}` or an error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn open(ptr: *mut u8, len: usize) -> usize {
    let pack = unsafe { taken(ptr, len) };
    match Engine::open(&pack, Box::new(fetch_chunk)) {
        Ok(engine) => {
            ENGINE.with(|e| *e.borrow_mut() = Some(engine));
            answer(r#"{"ok":true}"#.to_string())
        }
        Err(message) => answer(to_json(&Answer::error(
            message,
            "rebuild the site with `rollbook build` and reload the page",
        ))),
    }
}

/// Adds a chunk the host fetched because an answer needed it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn put(name_ptr: *mut u8, name_len: usize, ptr: *mut u8, len: usize) {
    let name = unsafe { taken(name_ptr, name_len) };
    let bytes = unsafe { taken(ptr, len) };
    ENGINE.with(|e| {
        if let Some(engine) = e.borrow().as_ref() {
            engine.put(&String::from_utf8_lossy(&name), bytes);
        }
    });
}

/// Runs a query (JSON, see [`Query`]); answers with results, an error, or chunks to fetch.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn query(ptr: *mut u8, len: usize) -> usize {
    let json = unsafe { taken(ptr, len) };
    let reply = match serde_json::from_slice::<Query>(&json) {
        Err(e) => Answer::error(
            format!("the query is malformed: {e}"),
            "send the fields of a query as JSON",
        ),
        Ok(query) => ENGINE.with(|e| match e.borrow().as_ref() {
            Some(engine) => engine.query(&query),
            None => Answer::error("the search index is not open", "open it first"),
        }),
    };
    answer(to_json(&reply))
}

fn to_json(answer: &Answer) -> String {
    serde_json::to_string(answer).unwrap_or_else(|e| {
        format!(r#"{{"ok":false,"error":{{"message":"cannot encode the answer: {e}","help":""}}}}"#)
    })
}
