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
use rollbook_search::pack::{self, Layout, Manifest, PackedFile};
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback, WatchHandle,
    WritePtr,
};
use tantivy::schema::IndexRecordOption;
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

/// How each file is cut: the doc stores at their blocks ([`Layout::Blocks`]: a hit shown
/// costs one request of just its block, about 6 KB), other files in fixed-size chunks. At
/// 10,000 reports the first query's five excerpts cost 94 KiB in 16 KiB chunks and 34 KiB
/// in 8 KiB chunks (9 requests), as a block of 6 KB mostly straddles two of them
/// (`bench/browser.sh`). `ROLLBOOK_STORE_CHUNK_KB` cuts the stores in fixed chunks of that
/// size instead, for such measurements.
struct ChunkSizes {
    other: usize,
    /// `None`: at the blocks.
    store: Option<usize>,
}

impl ChunkSizes {
    fn from_env() -> ChunkSizes {
        let kb = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|kb| kb.parse::<usize>().ok())
                .map(|kb| kb.max(1) * 1024)
        };
        ChunkSizes {
            other: kb("ROLLBOOK_CHUNK_KB").unwrap_or(CHUNK_SIZE),
            store: kb("ROLLBOOK_STORE_CHUNK_KB"),
        }
    }

    /// How the file `name` is cut, given the blocks of the stores that have them.
    fn of(&self, name: &str, blocks: &HashMap<String, Vec<Range<usize>>>) -> Layout {
        match (is_store(name), self.store, blocks.get(name)) {
            (true, None, Some(blocks)) => Layout::Blocks {
                count: blocks.len(),
            },
            (true, Some(size), _) => Layout::Fixed { size },
            _ => Layout::Fixed { size: self.other },
        }
    }
}

fn is_store(name: &str) -> bool {
    name.ends_with(".store")
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
    /// How long each part took (`ROLLBOOK_TIMINGS` shows them).
    pub timings: Vec<(&'static str, std::time::Duration)>,
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

    let mut names: Vec<String> = std::fs::read_dir(index_dir)?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    // meta.json is rewritten in place on every commit; other files keep their bytes.
    let known = |name: &str| cut.files.get(name).filter(|_| name != "meta.json");
    // How long each part took, for `ROLLBOOK_TIMINGS`.
    let mut timings = Vec::new();
    let mut last = std::time::Instant::now();
    let mut lap = |part: &'static str| {
        let now = std::time::Instant::now();
        timings.push((part, now - last));
        last = now;
    };
    let recorded = record(
        index_dir,
        |name| known(name).is_none(),
        sizes.store.is_none(),
    )?;
    lap("record");
    // Hash the files first (a chunk's name holds its file's hash), then cut them: the store's
    // thousands of chunks are shared out between the threads, not cut by one.
    let files: Vec<PackedFile> = names
        .par_iter()
        .map(|name| match known(name) {
            Some(known) => Ok(known.clone()),
            None => {
                let starts = recorded.words.get(name);
                let layout = match starts {
                    Some(_) => Layout::Words { size: sizes.other },
                    None => sizes.of(name, &recorded.blocks),
                };
                let mut file = hash_file(&index_dir.join(name), name, layout)?;
                if let Some(starts) = starts {
                    file.cuts = cuts_at_words(starts, file.len, sizes.other);
                }
                // meta.json, hashed again, may be as it was, chunks and zeros.
                Ok(match cut.files.get(name) {
                    Some(known) if known.hash == file.hash => known.clone(),
                    _ => file,
                })
            }
        })
        .collect::<anyhow::Result<_>>()?;
    lap("hash");
    // A file whose hash `cut` holds has its chunks already: the same name, the same bytes.
    let pieces: Vec<(usize, &PackedFile, Vec<Range<usize>>)> = files
        .iter()
        .enumerate()
        .filter(|(_, file)| {
            cut.files
                .get(&file.name)
                .is_none_or(|known| known.hash != file.hash)
        })
        .map(|(i, file)| (i, file, pieces(file, &recorded.blocks)))
        .collect();
    let runs: Vec<(usize, &PackedFile, &[Range<usize>])> = pieces
        .iter()
        .flat_map(|(i, file, pieces)| {
            pieces
                .chunks(CHUNKS_PER_TASK)
                .map(move |run| (*i, *file, run))
        })
        .collect();
    let zeros: Vec<(usize, Vec<usize>)> = runs
        .par_iter()
        .map(|(i, file, run)| Ok((*i, cut_chunks(index_dir, file, run, &web_dir)?)))
        .collect::<anyhow::Result<_>>()?;
    lap("cut + write");
    // In order: a file's runs are in order, and so are the results.
    let mut files = files;
    for (file, starts) in zeros {
        files[file].zeros.extend(starts);
    }
    for file in &files {
        cut.files.insert(file.name.clone(), file.clone());
    }
    let chunks = files.iter().map(|f| f.chunks() - f.zeros.len()).sum();

    let mut ranges = Vec::new();
    let mut data = Vec::new();
    for (file_number, name) in names.iter().enumerate() {
        let Some(read) = recorded.opened.get(name) else {
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
    lap("pack");
    Ok(Exported {
        pack: pack_name,
        pack_bytes: packed.len(),
        chunks,
        timings,
    })
}

/// Chunks that one task cuts in a row, through its own handle on the file: enough tasks to
/// keep every thread busy on the store's thousands of chunks, few handles.
const CHUNKS_PER_TASK: usize = 64;

/// The byte ranges of `file`'s chunks, in order.
fn pieces(file: &PackedFile, blocks: &HashMap<String, Vec<Range<usize>>>) -> Vec<Range<usize>> {
    match file.layout {
        Layout::Fixed { .. } | Layout::Words { .. } => {
            (0..file.chunks()).map(|i| file.chunk_range(i)).collect()
        }
        Layout::Blocks { .. } => blocks.get(&file.name).cloned().unwrap_or_default(),
    }
}

/// A file's length and hash, read a piece at a time so that the store's tens of megabytes are
/// never in memory at once.
fn hash_file(path: &Path, name: &str, layout: Layout) -> anyhow::Result<PackedFile> {
    let cannot_read = || format!("cannot read {}", path.display());
    let mut piece = vec![0; 256 * 1024];
    let mut hash = hash_more(HASH_START, pack::FORMAT);
    hash = match layout {
        Layout::Fixed { size } => hash_more(hash, &(size as u64).to_le_bytes()),
        Layout::Blocks { .. } => hash_more(hash, b"blocks"),
        Layout::Words { size } => {
            hash_more(hash_more(hash, b"words"), &(size as u64).to_le_bytes())
        }
    };
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
        layout,
        zeros: Vec::new(),
        cuts: Vec::new(),
    })
}

/// Where to cut a file of postings or positions whose words' runs start at `starts` (sorted):
/// at starts only, each chunk as long as it can be without passing `size`, unless one run
/// alone is longer.
fn cuts_at_words(starts: &[usize], len: usize, size: usize) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut chunk = 0;
    let mut previous = 0;
    for &start in starts.iter().filter(|&&s| s > 0 && s < len).chain([&len]) {
        if start - chunk > size && previous > chunk {
            cuts.push(previous);
            chunk = previous;
        }
        previous = start;
    }
    cuts
}

/// Writes the chunks of `file` (in `index_dir`) at byte ranges `run`, in order and
/// compressed, into `web_dir`, except those all of zeros: their first bytes.
fn cut_chunks(
    index_dir: &Path,
    file: &PackedFile,
    run: &[Range<usize>],
    web_dir: &Path,
) -> anyhow::Result<Vec<usize>> {
    let mut zeros = Vec::new();
    let path = index_dir.join(&file.name);
    let cannot_read = || format!("cannot read {}", path.display());
    let mut piece = Vec::new();
    let mut source = File::open(&path).with_context(cannot_read)?;
    let mut at = None;
    let level = level(file);
    for range in run {
        if at != Some(range.start) {
            source
                .seek(SeekFrom::Start(range.start as u64))
                .with_context(cannot_read)?;
        }
        piece.resize(range.len(), 0);
        let n = read_full(&mut source, &mut piece).with_context(cannot_read)?;
        if n < range.len() {
            anyhow::bail!("{} is shorter than its index says", path.display());
        }
        at = Some(range.end);
        if piece.iter().all(|&b| b == 0) {
            zeros.push(range.start);
            continue;
        }
        let target = web_dir.join(file.chunk_name(range.start));
        std::fs::write(&target, pack::compress(&piece, level))
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(zeros)
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

/// What the pack and the cutting need to know of the index, read through a [`Recording`].
struct Recorded {
    /// Every byte range that opening the index reads, by file name.
    opened: BTreeMap<String, Vec<Range<usize>>>,
    /// The compressed blocks of the doc stores asked for, in order, by file name; a store
    /// whose blocks do not tile its data is not here, and is cut in fixed chunks.
    blocks: HashMap<String, Vec<Range<usize>>>,
    /// Where each word's postings and positions start, sorted, by file name.
    words: HashMap<String, Vec<usize>>,
}

/// Documents a task reads to find its part of a doc store's blocks.
const DOCS_PER_TASK: u32 = 8192;

/// Opens the index the way the engine does, noting what that reads; then, of the files that
/// `wanted` names (those still to cut), finds where the words of postings and positions
/// start, and (if `blocks`) reads every document of each store: with a cache of one block,
/// each block is read once, at the range the store's skip index gives, which is what the
/// engine will read.
fn record(
    index_dir: &Path,
    wanted: impl Fn(&str) -> bool,
    blocks: bool,
) -> anyhow::Result<Recorded> {
    let recording = Recording {
        inner: MmapDirectory::open(index_dir)
            .with_context(|| format!("cannot open the index in {}", index_dir.display()))?,
        reads: Arc::default(),
    };
    let reads = Arc::clone(&recording.reads);
    let index = Index::open(recording).context("cannot open the index to pack it")?;
    let searcher = pack::open(&index).context("cannot open the index to pack it")?;
    let opened = by_file(take(&reads));

    let mut tasks = Vec::new();
    for segment in searcher.segment_readers() {
        let name = format!("{}.store", segment.segment_id().uuid_string());
        if !blocks || !wanted(&name) {
            continue;
        }
        let docs = segment.max_doc();
        for first in (0..docs).step_by(DOCS_PER_TASK as usize) {
            let store = segment
                .get_store_reader(1)
                .context("cannot open the index to pack it")?;
            tasks.push((store, first..(first + DOCS_PER_TASK).min(docs)));
        }
    }
    // What opening the stores read is not a block.
    take(&reads);
    tasks.par_iter().try_for_each(|(store, docs)| {
        docs.clone()
            .try_for_each(|doc| store.get_document_bytes(doc).map(drop))
    })?;
    let blocks = by_file(take(&reads))
        .into_iter()
        .filter(|(name, _)| is_store(name))
        .filter_map(|(name, mut blocks)| {
            blocks.sort_by_key(|block| block.start);
            blocks.dedup();
            tiles(&blocks).then_some((name, blocks))
        })
        .collect();
    let words =
        word_starts(&searcher, &reads, &wanted).context("cannot read the index to pack it")?;
    Ok(Recorded {
        opened,
        blocks,
        words,
    })
}

/// Where each word's postings and positions start in the `.idx` and `.pos` files: their
/// term infos give offsets in the field's part of the file, and a read of one word's
/// through the recording gives where that part is.
fn word_starts(
    searcher: &tantivy::Searcher,
    reads: &Reads,
    wanted: impl Fn(&str) -> bool,
) -> tantivy::Result<HashMap<String, Vec<usize>>> {
    let mut starts: HashMap<String, Vec<usize>> = HashMap::new();
    for segment in searcher.segment_readers() {
        let uuid = segment.segment_id().uuid_string();
        let (postings, positions) = (format!("{uuid}.idx"), format!("{uuid}.pos"));
        if !wanted(&postings) && !wanted(&positions) {
            continue;
        }
        let (mut in_postings, mut in_positions) = (Vec::new(), Vec::new());
        for (field, entry) in segment.schema().fields() {
            if !entry.is_indexed() {
                continue;
            }
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted.terms().stream()?;
            // Where the field's parts of the two files start, once a word's read shows it.
            let mut at = (None, None);
            while stream.advance() {
                let info = stream.value();
                let has_positions = !info.positions_range.is_empty();
                if at.0.is_none() || (at.1.is_none() && has_positions) {
                    at = place(reads, &inverted, info, (&postings, &positions), at)?;
                }
                if let Some(at) = at.0 {
                    in_postings.push(at + info.postings_range.start);
                }
                if let (Some(at), true) = (at.1, has_positions) {
                    in_positions.push(at + info.positions_range.start);
                }
            }
        }
        for (file, found) in [(postings, in_postings), (positions, in_positions)] {
            if !found.is_empty() {
                starts.insert(file, found);
            }
        }
    }
    for starts in starts.values_mut() {
        starts.sort_unstable();
        starts.dedup();
    }
    Ok(starts)
}

/// Where a field's parts of the postings and positions files (named `files`) start, as far
/// as `known` and a recorded read of the word `info` tell.
fn place(
    reads: &Reads,
    inverted: &tantivy::InvertedIndexReader,
    info: &tantivy::postings::TermInfo,
    files: (&str, &str),
    known: (Option<usize>, Option<usize>),
) -> tantivy::Result<(Option<usize>, Option<usize>)> {
    let (mut postings_at, mut positions_at) = known;
    take(reads);
    inverted.read_postings_from_terminfo(info, IndexRecordOption::WithFreqsAndPositions)?;
    for (path, range) in take(reads) {
        let name = path.to_string_lossy();
        if name == files.0 && postings_at.is_none() {
            postings_at = range.start.checked_sub(info.postings_range.start);
        } else if name == files.1 && !info.positions_range.is_empty() {
            positions_at = range.start.checked_sub(info.positions_range.start);
        }
    }
    Ok((postings_at, positions_at))
}

/// Whether `blocks` follow one another from the file's start, with no gap or overlap.
fn tiles(blocks: &[Range<usize>]) -> bool {
    blocks.first().is_some_and(|first| first.start == 0)
        && blocks.windows(2).all(|pair| pair[0].end == pair[1].start)
}

fn take(reads: &Reads) -> Vec<(PathBuf, Range<usize>)> {
    reads
        .lock()
        .map(|mut reads| std::mem::take(&mut *reads))
        .unwrap_or_default()
}

fn by_file(reads: Vec<(PathBuf, Range<usize>)>) -> BTreeMap<String, Vec<Range<usize>>> {
    let mut by_file: BTreeMap<String, Vec<Range<usize>>> = BTreeMap::new();
    for (path, range) in reads {
        by_file
            .entry(path.to_string_lossy().into_owned())
            .or_default()
            .push(range);
    }
    by_file
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

        let file =
            hash_file(&path, "segment.store", Layout::Fixed { size: chunk_size }).expect("hash");
        assert_eq!(file.len, bytes.len());
        // Named by the chunks' format and size, then the file's bytes.
        let format = hash_more(HASH_START, pack::FORMAT);
        let named = hash_more(hash_more(format, &1024u64.to_le_bytes()), &bytes);
        assert_eq!(file.hash, format!("{named:016x}"));
        let pieces = pieces(&file, &HashMap::new());
        assert_eq!(pieces.len(), 2 * CHUNKS_PER_TASK + 4);
        assert_eq!(pieces[3], 3 * chunk_size..4 * chunk_size);
        let runs: Vec<&[Range<usize>]> = pieces.chunks(CHUNKS_PER_TASK).collect();
        assert_eq!(runs.len(), 3);
        // Cut out of order, as the threads may.
        for run in runs.iter().rev() {
            cut_chunks(dir.path(), &file, run, &web).expect("cut");
        }
        let mut whole = Vec::new();
        for piece in &pieces {
            let stored = std::fs::read(web.join(file.chunk_name(piece.start))).expect("chunk");
            whole.extend(pack::decompress(&stored).expect("decompress"));
        }
        assert_eq!(whole, bytes);
    }

    #[test]
    fn a_store_is_cut_at_its_blocks_and_its_tail_left_to_the_pack() {
        let dir = tempfile::tempdir().expect("temp dir");
        let bytes: Vec<u8> = (0..10_000usize).map(|i| (i * 13 % 241) as u8).collect();
        std::fs::write(dir.path().join("s.store"), &bytes).expect("write");
        let web = dir.path().join("web");
        std::fs::create_dir(&web).expect("web dir");
        let blocks = HashMap::from([("s.store".to_string(), vec![0..3000, 3000..7100])]);
        let sizes = ChunkSizes {
            other: 4096,
            store: None,
        };
        let layout = sizes.of("s.store", &blocks);
        assert_eq!(layout, Layout::Blocks { count: 2 });
        assert_eq!(sizes.of("s.idx", &blocks), Layout::Fixed { size: 4096 });
        assert_eq!(sizes.of("t.store", &blocks), Layout::Fixed { size: 4096 });
        let file = hash_file(&dir.path().join("s.store"), "s.store", layout).expect("hash");
        let pieces = pieces(&file, &blocks);
        cut_chunks(dir.path(), &file, &pieces, &web).expect("cut");
        let chunk = |start: usize| {
            pack::decompress(&std::fs::read(web.join(file.chunk_name(start))).expect("chunk"))
                .expect("decompress")
        };
        assert_eq!(chunk(0), bytes[..3000]);
        assert_eq!(chunk(3000), bytes[3000..7100]);
        assert_eq!(std::fs::read_dir(&web).expect("web").count(), 2);
        // The same bytes cut at fixed sizes are other chunks.
        let fixed = hash_file(
            &dir.path().join("s.store"),
            "s.store",
            Layout::Fixed { size: 3000 },
        )
        .expect("hash");
        assert_ne!(fixed.hash, file.hash);
    }

    #[test]
    fn chunks_of_zeros_are_listed_not_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut bytes = vec![7u8; 4 * 1024 + 10];
        bytes[1024..3 * 1024].fill(0);
        bytes[3 * 1024 + 5] = 0;
        std::fs::write(dir.path().join("s.fieldnorm"), &bytes).expect("write");
        let web = dir.path().join("web");
        std::fs::create_dir(&web).expect("web dir");
        let layout = Layout::Fixed { size: 1024 };
        let file = hash_file(&dir.path().join("s.fieldnorm"), "s.fieldnorm", layout).expect("hash");
        let pieces = pieces(&file, &HashMap::new());
        assert_eq!(pieces.len(), 5);
        let zeros = cut_chunks(dir.path(), &file, &pieces, &web).expect("cut");
        assert_eq!(zeros, [1024, 2048]);
        for (start, written) in [
            (0, true),
            (1024, false),
            (2048, false),
            (3072, true),
            (4096, true),
        ] {
            assert_eq!(
                web.join(file.chunk_name(start)).exists(),
                written,
                "chunk at {start}"
            );
        }
    }

    #[test]
    fn postings_are_cut_only_where_a_word_starts() {
        // Words' runs at 0, 10, 25, 31, 90 in a file of 100 bytes, in chunks of about 30.
        assert_eq!(cuts_at_words(&[0, 10, 25, 31, 90], 100, 30), [25, 31, 90]);
        // A run longer than a chunk is a chunk of its own; small files are one chunk.
        assert_eq!(cuts_at_words(&[0, 5, 80, 85], 100, 30), [5, 80]);
        assert_eq!(cuts_at_words(&[0, 3, 7], 20, 30), Vec::<usize>::new());
        assert_eq!(cuts_at_words(&[], 20, 30), Vec::<usize>::new());
    }

    #[test]
    fn blocks_must_follow_one_another_from_the_start() {
        assert!(tiles(&[0..10, 10..25]));
        assert!(!tiles(&[1..10, 10..25]));
        assert!(!tiles(&[0..10, 12..25]));
        assert!(!tiles(&[0..10, 5..25]));
        assert!(!tiles(&[]));
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
