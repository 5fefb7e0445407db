//! The index as the browser reads it. `rollbook build` cuts every file of the index into
//! chunks (of a fixed size, or the doc store at its blocks: [`Layout`]), each a file named by
//! a hash of its file's bytes (so that a host may let browsers cache it forever), and packs
//! what opening the index reads (the meta, the files' footers, the term dictionaries' block
//! indexes…) into one file fetched first. A query then
//! fetches only the chunks that hold its words' blocks, postings and documents.
//!
//! The open pack: `RBW1`, a little-endian `u32` length, the [`Manifest`] as JSON of that
//! length, then the bytes of the manifest's ranges one after another; stored compressed as
//! a chunk is.

use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"RBW1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub files: Vec<PackedFile>,
    /// Parts of files whose bytes follow the manifest, in this order.
    pub ranges: Vec<Range>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackedFile {
    /// The file's name in the index directory, e.g. `meta.json` or `<segment>.term`.
    pub name: String,
    pub len: usize,
    /// A hash of the file's bytes and its layout, which names its chunks.
    pub hash: String,
    pub layout: Layout,
    /// The first bytes of the chunks whose bytes are all zero, in order: the engine makes
    /// them rather than fetch them, and they are not written. At 10,000 reports the `title`
    /// norms of the lessons and actions, which have no title, are six such chunks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zeros: Vec<usize>,
    /// For [`Layout::Words`], the first byte of each chunk after the first, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cuts: Vec<usize>,
}

/// How a file is cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Chunk `i` holds the file's bytes from `i * size`, `size` of them (the last may be
    /// shorter).
    Fixed { size: usize },
    /// A doc store, a chunk per compressed block, named by the block's first byte. tantivy
    /// reads a block whole, at the range the store's skip index gives (which is in the open
    /// pack), so a hit shown costs one chunk of just its block, and the manifest needs no
    /// table of where chunks start. The skip index and footer after the blocks are only in
    /// the pack.
    Blocks { count: usize },
    /// Postings or positions, cut only where one word's run ends and the next begins, at
    /// [`PackedFile::cuts`]: tantivy reads a word's run whole, so a word costs one chunk
    /// (cut in fixed sizes, a run of 5-20 KB mostly straddled two). Chunks are about `size`
    /// bytes; a word whose run is longer has a chunk of its own.
    Words { size: usize },
}

impl PackedFile {
    pub fn chunks(&self) -> usize {
        match self.layout {
            Layout::Fixed { size } => self.len.div_ceil(size),
            Layout::Blocks { count } => count,
            Layout::Words { .. } => self.cuts.len() + 1,
        }
    }

    /// The chunk that holds byte `at`, for files cut at fixed sizes or at words (a doc
    /// store's blocks are where its skip index says).
    pub fn chunk_at(&self, at: usize) -> usize {
        match self.layout {
            Layout::Fixed { size } => at / size,
            Layout::Blocks { .. } | Layout::Words { .. } => {
                self.cuts.partition_point(|&cut| cut <= at)
            }
        }
    }

    /// The bytes of chunk `i`, for files cut at fixed sizes or at words.
    pub fn chunk_range(&self, i: usize) -> std::ops::Range<usize> {
        match self.layout {
            Layout::Fixed { size } => i * size..((i + 1) * size).min(self.len),
            Layout::Blocks { .. } | Layout::Words { .. } => {
                let start = match i {
                    0 => 0,
                    _ => self.cuts.get(i - 1).copied().unwrap_or(self.len),
                };
                start..self.cuts.get(i).copied().unwrap_or(self.len)
            }
        }
    }

    /// Whether the chunk that starts at byte `start` is all zeros.
    pub fn is_zeros(&self, start: usize) -> bool {
        self.zeros.binary_search(&start).is_ok()
    }

    /// The file name of the chunk that starts at byte `start`: chunk `start / size` of a
    /// [`Layout::Fixed`] file, the block at `start` of a [`Layout::Blocks`] one. The same
    /// name is always the same bytes.
    pub fn chunk_name(&self, start: usize) -> String {
        match self.layout {
            Layout::Fixed { size } => format!("{}-{}.bin", self.hash, start / size),
            Layout::Blocks { .. } | Layout::Words { .. } => format!("{}-{start}.bin", self.hash),
        }
    }
}

/// Chunk names start from a hash of this, then of the file's bytes: a change to how chunks are
/// stored renames every chunk, since browsers may keep one forever.
pub const FORMAT: &[u8] = b"rollbook chunks: u32 length, raw DEFLATE";

/// A chunk as stored: raw DEFLATE, which the engine inflates. At 10,000 reports it stores
/// the norms in two thirds of LZ4's bytes, postings and dictionaries in three quarters, and
/// the doc store (already LZ4 inside) in five sixths. `level` is miniz's, 1 (fast) to 9.
/// Stored as the chunk's length (little-endian `u32`), then the DEFLATE stream.
pub fn compress(chunk: &[u8], level: u8) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(chunk, level);
    let mut out = Vec::with_capacity(4 + deflated.len());
    out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
    out.extend_from_slice(&deflated);
    out
}

pub fn decompress(stored: &[u8]) -> Result<Vec<u8>, String> {
    let damaged = |what: &str| format!("a chunk of the search index is damaged: {what}");
    let (len, deflated) = match stored {
        [a, b, c, d, deflated @ ..] => (u32::from_le_bytes([*a, *b, *c, *d]) as usize, deflated),
        _ => return Err(damaged("it is too short")),
    };
    match miniz_oxide::inflate::decompress_to_vec_with_limit(deflated, len) {
        Ok(out) if out.len() == len => Ok(out),
        Ok(_) => Err(damaged("it is shorter than it says")),
        Err(e) => Err(damaged(&format!("{:?}", e.status))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// Index into [`Manifest::files`].
    pub file: usize,
    pub start: usize,
    pub len: usize,
}

/// The pack's bytes: the manifest, then `data`, which holds the ranges' bytes in order.
pub fn encode(manifest: &Manifest, data: &[u8]) -> Vec<u8> {
    let json = serde_json::to_vec(manifest).unwrap_or_default();
    let mut out = Vec::with_capacity(8 + json.len() + data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(data);
    out
}

/// The packed ranges, each with its bytes.
pub type Packed<'a> = Vec<(Range, &'a [u8])>;

/// The manifest, and each range with its bytes.
pub fn decode(pack: &[u8]) -> Result<(Manifest, Packed<'_>), String> {
    let bad = |what: &str| format!("the search index's open pack is damaged: {what}");
    if pack.len() < 8 || &pack[..4] != MAGIC {
        return Err(bad("it does not start with RBW1"));
    }
    let json_len = u32::from_le_bytes([pack[4], pack[5], pack[6], pack[7]]) as usize;
    let json = pack
        .get(8..8 + json_len)
        .ok_or_else(|| bad("the manifest is cut short"))?;
    let manifest: Manifest =
        serde_json::from_slice(json).map_err(|e| bad(&format!("the manifest: {e}")))?;
    let mut rest = &pack[8 + json_len..];
    let mut ranges = Vec::with_capacity(manifest.ranges.len());
    for range in &manifest.ranges {
        if range.len > rest.len() || range.file >= manifest.files.len() {
            return Err(bad("a range is out of bounds"));
        }
        let (bytes, tail) = rest.split_at(range.len);
        ranges.push((*range, bytes));
        rest = tail;
    }
    Ok((manifest, ranges))
}

/// What opening reads, done the same way by the build (which records it) and the browser.
pub fn open(index: &tantivy::Index) -> tantivy::Result<tantivy::Searcher> {
    crate::analyzer::register(index);
    let reader: tantivy::IndexReader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .doc_store_cache_num_blocks(0)
        .try_into()?;
    let searcher = reader.searcher();
    let fields = crate::schema::Fields::of(index)?;
    for segment in searcher.segment_readers() {
        for field in [fields.title, fields.body, fields.category, fields.kind] {
            segment.inverted_index(field)?;
        }
    }
    Ok(searcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_come_back_from_compression() {
        let chunk: Vec<u8> = (0..5000u32).map(|i| (i % 7) as u8).collect();
        let stored = compress(&chunk, 1);
        assert!(stored.len() < chunk.len() / 4);
        assert_eq!(decompress(&stored).expect("decompresses"), chunk);
        assert!(decompress(&stored[..stored.len() / 2]).is_err());
    }

    #[test]
    fn a_pack_decodes_to_what_was_encoded() {
        let manifest = Manifest {
            files: vec![PackedFile {
                name: "meta.json".into(),
                len: 6,
                hash: "0123".into(),
                layout: Layout::Fixed { size: 4 },
                zeros: vec![4],
                cuts: Vec::new(),
            }],
            ranges: vec![
                Range {
                    file: 0,
                    start: 0,
                    len: 2,
                },
                Range {
                    file: 0,
                    start: 4,
                    len: 2,
                },
            ],
        };
        let pack = encode(&manifest, b"{}xy");
        let (decoded, ranges) = decode(&pack).expect("decodes");
        assert_eq!(decoded.files[0].chunks(), 2);
        assert_eq!(decoded.files[0].chunk_name(4), "0123-1.bin");
        assert!(decoded.files[0].is_zeros(4) && !decoded.files[0].is_zeros(0));
        let blocks = PackedFile {
            layout: Layout::Blocks { count: 3 },
            ..decoded.files[0].clone()
        };
        assert_eq!(blocks.chunks(), 3);
        assert_eq!(blocks.chunk_name(4), "0123-4.bin");
        assert_eq!(ranges[0].1, b"{}");
        assert_eq!(decoded.files[0].chunk_range(1), 4..6);
        assert_eq!(decoded.files[0].chunk_at(5), 1);
        assert_eq!(ranges[1], (manifest.ranges[1], &b"xy"[..]));
    }

    #[test]
    fn a_file_cut_at_words_has_a_chunk_between_cuts() {
        let file = PackedFile {
            name: "s.idx".into(),
            len: 100,
            hash: "ab".into(),
            layout: Layout::Words { size: 40 },
            zeros: Vec::new(),
            cuts: vec![30, 75],
        };
        assert_eq!(file.chunks(), 3);
        let ranges: Vec<_> = (0..3).map(|i| file.chunk_range(i)).collect();
        assert_eq!(ranges, [0..30, 30..75, 75..100]);
        assert_eq!(
            [0, 29, 30, 74, 75, 99].map(|at| file.chunk_at(at)),
            [0, 0, 1, 1, 2, 2]
        );
        assert_eq!(file.chunk_name(30), "ab-30.bin");
    }

    #[test]
    fn damage_is_reported_not_read() {
        assert!(decode(b"RBW0\0\0\0\0").is_err());
        let mut pack = encode(
            &Manifest {
                files: vec![],
                ranges: vec![Range {
                    file: 0,
                    start: 0,
                    len: 9,
                }],
            },
            b"",
        );
        assert!(decode(&pack).is_err());
        pack.truncate(10);
        assert!(decode(&pack).is_err());
    }
}
