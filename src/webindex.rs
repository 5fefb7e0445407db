//! The index → what the browser's search engine reads, in `search/`: the engine itself
//! (`engine-<hash>.wasm`), its worker script (`worker.js`), and the index cut into chunks with
//! an open pack (`web/`; the format is in [`rollbook_search::pack`]).
//!
//! What the pack holds is recorded, not listed: the build opens the index the way the engine
//! does ([`rollbook_search::pack::open`]) through a directory that notes every byte range
//! read, and packs those ranges. So the engine's open is one request whatever tantivy reads.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use rayon::prelude::*;
use rollbook_search::pack::{self, Manifest, PackedFile};
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback, WatchHandle,
    WritePtr,
};
use tantivy::{Directory, HasLen, Index};

use crate::freshness::{HASH_START, hash, hash_more};

/// Where the chunks and the open pack go, relative to the output directory.
pub const DIR: &str = "search/web";

/// The engine and its worker, relative to the output directory.
pub const WORKER: &str = "search/worker.js";

/// Bytes per chunk. Smaller chunks waste fewer bytes around what a query reads; larger ones
/// take fewer requests. Chosen with `bench/browser.sh` (the README's Benchmarks has the
/// measurements); `ROLLBOOK_CHUNK_KB` overrides it for such measurements.
const CHUNK_SIZE: usize = 16 * 1024;

/// Bytes per chunk of the doc store, of which a query reads one block (16 KB of documents,
/// about 6 KB in LZ4) per hit shown: small chunks hold little more than the block. At 10,000
/// reports the first query's five excerpts cost 94 KiB in 16 KiB chunks, 34 KiB in 8 KiB
/// chunks (5 requests) and 35 KiB in 4 KiB chunks (10 requests; `bench/browser.sh`).
/// `ROLLBOOK_STORE_CHUNK_KB` overrides it.
const STORE_CHUNK_SIZE: usize = 8 * 1024;

/// The chunk size of each index file.
struct ChunkSizes {
    other: usize,
    store: usize,
}

impl ChunkSizes {
    fn from_env() -> ChunkSizes {
        let kb = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|kb| kb.parse::<usize>().ok())
                .map_or(default, |kb| kb.max(1) * 1024)
        };
        ChunkSizes {
            other: kb("ROLLBOOK_CHUNK_KB", CHUNK_SIZE),
            store: kb("ROLLBOOK_STORE_CHUNK_KB", STORE_CHUNK_SIZE),
        }
    }

    fn of(&self, name: &str) -> usize {
        match name.ends_with(".store") {
            true => self.store,
            false => self.other,
        }
    }
}

/// The engine, built by `crates/web/build.sh` (see its README) and committed.
const ENGINE: &[u8] = include_bytes!("../crates/web/dist/engine.wasm");
const WORKER_SOURCE: &str = include_str!("../crates/web/worker.js");

/// What was written, for the build's summary and tests.
#[derive(Debug)]
pub struct Exported {
    pub pack: String,
    pub pack_bytes: usize,
    pub chunks: usize,
}

/// Index files already cut into chunks, by name. tantivy never rewrites a segment's file
/// under the same name, so after an update (`serve`) only the new files need cutting.
#[derive(Debug, Default)]
pub struct Cut {
    files: HashMap<String, PackedFile>,
}

/// Writes the engine, its worker and the index in `index_dir` as chunks into `search_dir`.
pub fn export(index_dir: &Path, search_dir: &Path) -> anyhow::Result<Exported> {
    export_again(index_dir, search_dir, &mut Cut::default())
}

/// [`export`], cutting only the files that `cut` does not hold yet (and adding them to it).
/// Chunks of files that the index no longer has stay behind: `serve`'s output is temporary.
pub fn export_again(
    index_dir: &Path,
    search_dir: &Path,
    cut: &mut Cut,
) -> anyhow::Result<Exported> {
    let sizes = ChunkSizes::from_env();
    let web_dir = search_dir.join("web");
    std::fs::create_dir_all(&web_dir)
        .with_context(|| format!("cannot create {}", web_dir.display()))?;

    let reads = record_open(index_dir)?;
    let mut names: Vec<String> = std::fs::read_dir(index_dir)?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();

    // Hash the files first (a chunk's name holds its file's hash), then cut them: the store's
    // thousands of chunks are shared out between the threads, not cut by one.
    let files: Vec<PackedFile> = names
        .par_iter()
        .map(|name| match cut.files.get(name) {
            // meta.json is rewritten in place on every commit.
            Some(known) if name != "meta.json" => Ok(known.clone()),
            _ => hash_file(&index_dir.join(name), name, sizes.of(name)),
        })
        .collect::<anyhow::Result<_>>()?;
    // A file whose hash `cut` holds has its chunks already: the same name, the same bytes.
    let runs: Vec<(&PackedFile, Range<usize>)> = files
        .iter()
        .filter(|file| {
            cut.files
                .get(&file.name)
                .is_none_or(|known| known.hash != file.hash)
        })
        .flat_map(|file| tasks(file.chunks()).map(move |chunks| (file, chunks)))
        .collect();
    runs.par_iter()
        .try_for_each(|(file, chunks)| cut_chunks(index_dir, file, chunks.clone(), &web_dir))?;
    for file in &files {
        cut.files.insert(file.name.clone(), file.clone());
    }
    let chunks = files.iter().map(PackedFile::chunks).sum();

    let mut ranges = Vec::new();
    let mut data = Vec::new();
    for (file_number, name) in names.iter().enumerate() {
        let Some(read) = reads.get(name) else {
            continue;
        };
        let path = index_dir.join(name);
        let mut file =
            File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        for range in merge(read.clone()) {
            let mut bytes = vec![0; range.len()];
            file.seek(SeekFrom::Start(range.start as u64))?;
            let n = read_full(&mut file, &mut bytes)?;
            data.extend_from_slice(&bytes[..n]);
            ranges.push(pack::Range {
                file: file_number,
                start: range.start,
                len: n,
            });
        }
    }
    let manifest = Manifest { files, ranges };
    let packed = pack::compress(&pack::encode(&manifest, &data), SMALL_FILE_LEVEL);
    let pack_name = format!("open-{:016x}.bin", hash(&packed));
    std::fs::write(web_dir.join(&pack_name), &packed)?;

    let engine_name = format!("engine-{:016x}.wasm", hash(ENGINE));
    std::fs::write(search_dir.join(&engine_name), ENGINE)?;
    let worker = format!(
        "const ENGINE = {engine:?};\nconst PACK = {pack:?};\n{WORKER_SOURCE}",
        engine = engine_name,
        pack = format!("web/{pack_name}"),
    );
    std::fs::write(search_dir.join("worker.js"), worker)?;
    Ok(Exported {
        pack: pack_name,
        pack_bytes: packed.len(),
        chunks,
    })
}

/// Chunks that one task cuts in a row, through its own handle on the file: enough tasks to
/// keep every thread busy on the store's thousands of chunks, few handles.
const CHUNKS_PER_TASK: usize = 64;

/// The chunk numbers of a file of `chunks` chunks, in runs of at most [`CHUNKS_PER_TASK`].
fn tasks(chunks: usize) -> impl Iterator<Item = Range<usize>> {
    (0..chunks)
        .step_by(CHUNKS_PER_TASK)
        .map(move |first| first..(first + CHUNKS_PER_TASK).min(chunks))
}

/// A file's length and hash, read a piece at a time so that the store's tens of megabytes are
/// never in memory at once.
fn hash_file(path: &Path, name: &str, chunk_size: usize) -> anyhow::Result<PackedFile> {
    let cannot_read = || format!("cannot read {}", path.display());
    let mut piece = vec![0; 256 * 1024];
    let mut hash = hash_more(HASH_START, pack::FORMAT);
    hash = hash_more(hash, &(chunk_size as u64).to_le_bytes());
    let mut len = 0;
    let mut file = File::open(path).with_context(cannot_read)?;
    loop {
        let n = read_full(&mut file, &mut piece).with_context(cannot_read)?;
        hash = hash_more(hash, &piece[..n]);
        len += n;
        if n < piece.len() {
            break;
        }
    }
    Ok(PackedFile {
        name: name.to_string(),
        len,
        hash: format!("{hash:016x}"),
        chunk_size,
    })
}

/// Writes chunks `chunks` of `file` (in `index_dir`), compressed, into `web_dir`.
fn cut_chunks(
    index_dir: &Path,
    file: &PackedFile,
    chunks: Range<usize>,
    web_dir: &Path,
) -> anyhow::Result<()> {
    let chunk_size = file.chunk_size;
    let path = index_dir.join(&file.name);
    let cannot_read = || format!("cannot read {}", path.display());
    let mut piece = vec![0; chunk_size];
    let mut source = File::open(&path).with_context(cannot_read)?;
    source
        .seek(SeekFrom::Start((chunks.start * chunk_size) as u64))
        .with_context(cannot_read)?;
    let level = level(file);
    for i in chunks {
        let n = read_full(&mut source, &mut piece).with_context(cannot_read)?;
        let target = web_dir.join(file.chunk_name(i));
        std::fs::write(&target, pack::compress(&piece[..n], level))
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

/// The level files under 4 MiB are compressed at (norms, dictionaries, fast fields, the open
/// pack), which a first query reads most of: miniz's default, a tenth smaller than its
/// fastest for the norms, and a few milliseconds at 10,000 reports.
const SMALL_FILE_LEVEL: u8 = 6;

/// How hard a file's chunks are compressed. The large files (doc store, postings, positions;
/// 110 MB at 10,000 reports) at miniz's fastest: 130 MB/s a thread, and for postings no
/// bigger than its default, which is five times slower.
fn level(file: &PackedFile) -> u8 {
    match file.len < 4 * 1024 * 1024 {
        true => SMALL_FILE_LEVEL,
        false => 1,
    }
}

/// Fills `buffer` unless the file ends first; how much was read.
fn read_full(file: &mut File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Sorted ranges with overlapping or nearly touching ones joined.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    const GAP: usize = 64;
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match out.last_mut() {
            Some(last) if range.start <= last.end + GAP => last.end = last.end.max(range.end),
            _ => out.push(range),
        }
    }
    out
}

/// Every byte range that opening the index reads, by file name.
fn record_open(index_dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<Range<usize>>>> {
    let recording = Recording {
        inner: MmapDirectory::open(index_dir)
            .with_context(|| format!("cannot open the index in {}", index_dir.display()))?,
        reads: Arc::default(),
    };
    let reads = Arc::clone(&recording.reads);
    let index = Index::open(recording).context("cannot open the index to pack it")?;
    pack::open(&index).context("cannot open the index to pack it")?;
    let reads = reads
        .lock()
        .map_err(|_| anyhow::anyhow!("recording failed"))?;
    let mut by_file: BTreeMap<String, Vec<Range<usize>>> = BTreeMap::new();
    for (path, range) in reads.iter() {
        by_file
            .entry(path.to_string_lossy().into_owned())
            .or_default()
            .push(range.clone());
    }
    Ok(by_file)
}

type Reads = Arc<Mutex<Vec<(PathBuf, Range<usize>)>>>;

/// A directory that notes what is read from it.
#[derive(Clone)]
struct Recording {
    inner: MmapDirectory,
    reads: Reads,
}

impl fmt::Debug for Recording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Recording")
    }
}

impl Recording {
    fn note(&self, path: &Path, range: Range<usize>) {
        if let Ok(mut reads) = self.reads.lock() {
            reads.push((path.to_path_buf(), range));
        }
    }
}

struct RecordedFile {
    path: PathBuf,
    inner: Arc<dyn FileHandle>,
    reads: Reads,
}

impl fmt::Debug for RecordedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordedFile({})", self.path.display())
    }
}

impl HasLen for RecordedFile {
    fn len(&self) -> usize {
        self.inner.len()
    }
}

impl FileHandle for RecordedFile {
    fn read_bytes(&self, range: Range<usize>) -> std::io::Result<OwnedBytes> {
        if let Ok(mut reads) = self.reads.lock() {
            reads.push((self.path.clone(), range.clone()));
        }
        self.inner.read_bytes(range)
    }
}

impl Directory for Recording {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        Ok(Arc::new(RecordedFile {
            path: path.to_path_buf(),
            inner: self.inner.get_file_handle(path)?,
            reads: Arc::clone(&self.reads),
        }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.inner.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        let bytes = self.inner.atomic_read(path)?;
        self.note(path, 0..bytes.len());
        Ok(bytes)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.inner.atomic_write(path, data)
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(callback)
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        self.inner.sync_directory()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_cut_in_several_tasks_comes_back_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let chunk_size = 1024;
        // Two full runs of chunks and a short last chunk, in bytes that do not repeat by chunk.
        let bytes: Vec<u8> = (0..(2 * CHUNKS_PER_TASK + 3) * chunk_size + 17)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let path = dir.path().join("segment.store");
        std::fs::write(&path, &bytes).expect("write");
        let web = dir.path().join("web");
        std::fs::create_dir(&web).expect("web dir");

        let file = hash_file(&path, "segment.store", chunk_size).expect("hash");
        assert_eq!(file.len, bytes.len());
        // Named by the chunks' format and size, then the file's bytes.
        let format = hash_more(HASH_START, pack::FORMAT);
        let named = hash_more(hash_more(format, &1024u64.to_le_bytes()), &bytes);
        assert_eq!(file.hash, format!("{named:016x}"));
        let runs: Vec<Range<usize>> = tasks(file.chunks()).collect();
        assert_eq!(
            runs,
            [
                0..CHUNKS_PER_TASK,
                CHUNKS_PER_TASK..2 * CHUNKS_PER_TASK,
                2 * CHUNKS_PER_TASK..2 * CHUNKS_PER_TASK + 4
            ]
        );
        // Cut out of order, as the threads may.
        for run in runs.iter().rev() {
            cut_chunks(dir.path(), &file, run.clone(), &web).expect("cut");
        }
        let mut whole = Vec::new();
        for i in 0..file.chunks() {
            let stored = std::fs::read(web.join(file.chunk_name(i))).expect("chunk");
            whole.extend(pack::decompress(&stored).expect("decompress"));
        }
        assert_eq!(whole, bytes);
        assert!(tasks(0).next().is_none());
    }

    #[test]
    fn ranges_that_overlap_or_nearly_touch_are_joined() {
        assert_eq!(
            merge(vec![1000..1020, 0..5, 1015..1030, 2000..2010]),
            [0..5, 1000..1030, 2000..2010]
        );
        assert_eq!(
            merge(vec![0..10, 40..50]),
            vec![Range { start: 0, end: 50 }]
        );
        assert_eq!(merge(vec![0..10, 75..80]), [0..10, 75..80]);
        assert_eq!(merge(vec![]), Vec::<Range<usize>>::new());
    }
}
