//! The index as the browser reads it. `rollbook build` cuts every file of the index into
//! chunks of a fixed size, each a file named by a hash of its bytes (so that a host may let
//! browsers cache it forever), and packs what opening the index reads (the meta, the files'
//! footers, the term dictionaries' block indexes…) into one file fetched first. A query then
//! fetches only the chunks that hold its words' blocks, postings and documents.
//!
//! The open pack: `RBW1`, a little-endian `u32` length, the [`Manifest`] as JSON of that
//! length, then the bytes of the manifest's ranges one after another.

use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"RBW1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Bytes per chunk; the last chunk of a file may be shorter.
    pub chunk_size: usize,
    pub files: Vec<PackedFile>,
    /// Parts of files whose bytes follow the manifest, in this order.
    pub ranges: Vec<Range>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackedFile {
    /// The file's name in the index directory, e.g. `meta.json` or `<segment>.term`.
    pub name: String,
    pub len: usize,
    /// The names of its chunks, in order.
    pub chunks: Vec<String>,
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

/// The manifest, and each range with its bytes.
pub fn decode(pack: &[u8]) -> Result<(Manifest, Vec<(Range, &[u8])>), String> {
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
    fn a_pack_decodes_to_what_was_encoded() {
        let manifest = Manifest {
            chunk_size: 4,
            files: vec![PackedFile {
                name: "meta.json".into(),
                len: 6,
                chunks: vec!["a.bin".into(), "b.bin".into()],
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
        assert_eq!(decoded.files[0].chunks, ["a.bin", "b.bin"]);
        assert_eq!(ranges[0].1, b"{}");
        assert_eq!(ranges[1], (manifest.ranges[1], &b"xy"[..]));
    }

    #[test]
    fn damage_is_reported_not_read() {
        assert!(decode(b"RBW0\0\0\0\0").is_err());
        let mut pack = encode(
            &Manifest {
                chunk_size: 1,
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
