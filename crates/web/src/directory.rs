//! A read-only tantivy directory over the chunked index: the open pack's ranges are in memory,
//! and any other byte is read from its chunk, fetched from the host the first time it is
//! needed and kept.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rollbook_search::pack::{self, Layout, Manifest, PackedFile};
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    DirectoryLock, FileHandle, Lock, OwnedBytes, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::{Directory, HasLen};

/// Fetches a chunk by name, synchronously.
pub type Fetch = Box<dyn Fn(&str) -> io::Result<Vec<u8>> + Send + Sync>;

#[derive(Clone)]
pub struct ChunkDirectory {
    shared: Arc<Shared>,
}

struct Shared {
    manifest: Manifest,
    by_name: HashMap<PathBuf, usize>,
    /// Per file, the packed ranges: start and bytes, sorted by start.
    packed: Vec<Vec<(usize, OwnedBytes)>>,
    chunks: Mutex<HashMap<String, OwnedBytes>>,
    fetch: Fetch,
    /// While set, a missing chunk is noted here and its read fails, instead of being fetched:
    /// the host then fetches all noted chunks at once.
    deferred: Mutex<Option<Vec<String>>>,
}

impl fmt::Debug for ChunkDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChunkDirectory")
    }
}

impl ChunkDirectory {
    pub fn open(pack_bytes: &[u8], fetch: Fetch) -> Result<ChunkDirectory, String> {
        let pack_bytes = pack::decompress(pack_bytes)?;
        let (manifest, ranges) = pack::decode(&pack_bytes)?;
        let mut packed: Vec<Vec<(usize, OwnedBytes)>> = vec![Vec::new(); manifest.files.len()];
        for (range, bytes) in ranges {
            packed[range.file].push((range.start, OwnedBytes::new(bytes.to_vec())));
        }
        for ranges in &mut packed {
            ranges.sort_by_key(|(start, _)| *start);
        }
        let by_name = manifest
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (PathBuf::from(&f.name), i))
            .collect();
        Ok(ChunkDirectory {
            shared: Arc::new(Shared {
                manifest,
                by_name,
                packed,
                chunks: Mutex::default(),
                fetch,
                deferred: Mutex::default(),
            }),
        })
    }

    /// Adds a chunk fetched by the host, as stored.
    pub fn put(&self, name: &str, stored: &[u8]) -> Result<(), String> {
        let bytes = pack::decompress(stored)?;
        if let Ok(mut chunks) = self.shared.chunks.lock() {
            chunks.insert(name.to_string(), OwnedBytes::new(bytes));
        }
        Ok(())
    }

    /// From now on, missing chunks are noted instead of fetched.
    pub fn defer(&self) {
        if let Ok(mut deferred) = self.shared.deferred.lock() {
            *deferred = Some(Vec::new());
        }
    }

    /// Ends [`defer`](Self::defer): the chunks noted, each once.
    pub fn deferred(&self) -> Vec<String> {
        let mut names = match self.shared.deferred.lock() {
            Ok(mut deferred) => deferred.take().unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names.dedup();
        names
    }

    fn file(&self, path: &Path) -> Result<usize, OpenReadError> {
        self.shared
            .by_name
            .get(path)
            .copied()
            .ok_or_else(|| OpenReadError::FileDoesNotExist(path.to_path_buf()))
    }
}

impl Shared {
    fn chunk(&self, name: &str) -> io::Result<OwnedBytes> {
        if let Some(bytes) = self.chunks.lock().ok().and_then(|c| c.get(name).cloned()) {
            return Ok(bytes);
        }
        if let Ok(mut deferred) = self.deferred.lock()
            && let Some(noted) = deferred.as_mut()
        {
            noted.push(name.to_string());
            return Err(io::Error::new(io::ErrorKind::WouldBlock, "deferred"));
        }
        let stored = (self.fetch)(name)?;
        let bytes = OwnedBytes::new(pack::decompress(&stored).map_err(io::Error::other)?);
        if let Ok(mut chunks) = self.chunks.lock() {
            chunks.insert(name.to_string(), bytes.clone());
        }
        Ok(bytes)
    }

    /// The chunk of `file` that starts at byte `start`, `len` bytes long: made if it is all
    /// zeros, fetched otherwise.
    fn piece(&self, file: &PackedFile, start: usize, len: usize) -> io::Result<OwnedBytes> {
        match file.is_zeros(start) {
            true => Ok(OwnedBytes::new(vec![0; len])),
            false => self.chunk(&file.chunk_name(start)),
        }
    }

    fn read(&self, file: usize, range: Range<usize>) -> io::Result<OwnedBytes> {
        if range.is_empty() {
            return Ok(OwnedBytes::empty());
        }
        // The packed range holding all of it, if any: the last one starting at or before it.
        let packed = &self.packed[file];
        let at = packed.partition_point(|(start, _)| *start <= range.start);
        if at > 0 {
            let (start, bytes) = &packed[at - 1];
            if range.end <= start + bytes.len() {
                return Ok(bytes.slice(range.start - start..range.end - start));
            }
        }
        let packed_file = &self.manifest.files[file];
        if let Layout::Blocks { .. } = packed_file.layout {
            let bytes = self.piece(packed_file, range.start, range.len())?;
            if bytes.len() < range.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a read of the doc store that is not one of its blocks",
                ));
            }
            return Ok(bytes.slice(0..range.len()));
        }
        if range.end > packed_file.len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of an index file",
            ));
        }
        let (first, last) = (
            packed_file.chunk_at(range.start),
            packed_file.chunk_at(range.end - 1),
        );
        let piece = |c: usize| {
            let bounds = packed_file.chunk_range(c);
            match self.piece(packed_file, bounds.start, bounds.len())? {
                bytes if bytes.len() == bounds.len() => Ok((bounds.start, bytes)),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a chunk of the search index is not as long as its file says",
                )),
            }
        };
        if first == last {
            let (offset, bytes) = piece(first)?;
            return Ok(bytes.slice(range.start - offset..range.end - offset));
        }
        let mut out = Vec::with_capacity(range.len());
        // Every chunk is asked for before any error, so that a deferred read notes them all.
        let pieces: Vec<io::Result<(usize, OwnedBytes)>> = (first..=last).map(piece).collect();
        for piece in pieces {
            let (offset, piece) = piece?;
            let from = range.start.max(offset) - offset;
            let to = range.end.min(offset + piece.len()) - offset;
            out.extend_from_slice(&piece.as_slice()[from..to]);
        }
        Ok(OwnedBytes::new(out))
    }
}

struct ChunkFile {
    shared: Arc<Shared>,
    file: usize,
}

impl fmt::Debug for ChunkFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ChunkFile({})",
            self.shared.manifest.files[self.file].name
        )
    }
}

impl HasLen for ChunkFile {
    fn len(&self) -> usize {
        self.shared.manifest.files[self.file].len
    }
}

impl FileHandle for ChunkFile {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        self.shared.read(self.file, range)
    }
}

fn read_only() -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, "the index is read-only")
}

impl Directory for ChunkDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        Ok(Arc::new(ChunkFile {
            shared: Arc::clone(&self.shared),
            file: self.file(path)?,
        }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        Err(DeleteError::IoError {
            io_error: Arc::new(read_only()),
            filepath: path.to_path_buf(),
        })
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        Ok(self.shared.by_name.contains_key(path))
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        Err(OpenWriteError::IoError {
            io_error: Arc::new(read_only()),
            filepath: path.to_path_buf(),
        })
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        // `.managed.json` is not shipped: nothing here garbage-collects files.
        let file = self.file(path)?;
        let len = self.shared.manifest.files[file].len;
        self.shared
            .read(file, 0..len)
            .map(|bytes| bytes.as_slice().to_vec())
            .map_err(|e| OpenReadError::IoError {
                io_error: Arc::new(e),
                filepath: path.to_path_buf(),
            })
    }

    fn atomic_write(&self, _path: &Path, _data: &[u8]) -> io::Result<()> {
        Err(read_only())
    }

    fn acquire_lock(&self, _lock: &Lock) -> Result<DirectoryLock, LockError> {
        // Nothing writes, so there is nothing to exclude.
        Ok(DirectoryLock::from(Box::new(())))
    }

    fn watch(&self, _callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        Ok(WatchHandle::empty())
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }
}
