//! Counts of the matching documents by kind, severity, service, tag, team and year, read from
//! the fast fields in the same pass that ranks them.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DateTime, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::schema::date_of;
use crate::search::Facets;

/// The exact fields counted, in the order of [`Facets`]' fields before `year`.
const COUNTED: [&str; 5] = ["kind", "severity", "service", "tag", "team"];

pub struct FacetCounter;

/// One segment's counts: per field, per term ordinal; per year.
pub struct SegmentCounts {
    columns: Vec<Option<StrColumn>>,
    counts: Vec<Vec<u64>>,
    dates: Column<DateTime>,
    years: HashMap<i16, u64>,
}

/// A segment's counts with the ordinals resolved to values.
#[derive(Default)]
pub struct Counts {
    fields: [HashMap<String, u64>; COUNTED.len()],
    years: HashMap<i16, u64>,
}

impl Collector for FacetCounter {
    type Fruit = Facets;
    type Child = SegmentCounts;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentCounts> {
        let fast = reader.fast_fields();
        let mut columns = Vec::with_capacity(COUNTED.len());
        let mut counts = Vec::with_capacity(COUNTED.len());
        for name in COUNTED {
            let column = fast.str(name)?;
            counts.push(vec![0; column.as_ref().map_or(0, |c| c.num_terms())]);
            columns.push(column);
        }
        Ok(SegmentCounts {
            columns,
            counts,
            dates: fast.date("date")?,
            years: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Counts>) -> tantivy::Result<Facets> {
        let mut total = Counts::default();
        for segment in segments {
            for (all, one) in total.fields.iter_mut().zip(segment.fields) {
                for (value, n) in one {
                    *all.entry(value).or_default() += n;
                }
            }
            for (year, n) in segment.years {
                *total.years.entry(year).or_default() += n;
            }
        }
        let [kind, severity, service, tag, team] = total.fields.map(most_first);
        Ok(Facets {
            kind,
            severity,
            service,
            tag,
            team,
            year: most_first(
                total
                    .years
                    .into_iter()
                    .map(|(y, n)| (y.to_string(), n))
                    .collect(),
            ),
        })
    }
}

impl SegmentCollector for SegmentCounts {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in self.columns.iter().zip(&mut self.counts) {
            if let Some(column) = column {
                for ord in column.ords().values_for_doc(doc) {
                    if let Some(n) = counts.get_mut(ord as usize) {
                        *n += 1;
                    }
                }
            }
        }
        if let Some(date) = self.dates.first(doc).and_then(date_of) {
            *self.years.entry(date.year()).or_default() += 1;
        }
    }

    fn harvest(self) -> Counts {
        let mut fields: [HashMap<String, u64>; COUNTED.len()] = Default::default();
        for ((column, counts), out) in self.columns.iter().zip(self.counts).zip(&mut fields) {
            let Some(column) = column else { continue };
            for (ord, n) in counts.into_iter().enumerate() {
                let mut value = String::new();
                if n > 0 && column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                    out.insert(value, n);
                }
            }
        }
        Counts {
            fields,
            years: self.years,
        }
    }
}

/// The counts of several queries' matches together (a request for sections and lessons, say).
pub fn merge(all: Vec<Facets>) -> Facets {
    let mut sums: [HashMap<String, u64>; 6] = Default::default();
    for facets in all {
        let lists = [
            facets.kind,
            facets.severity,
            facets.service,
            facets.tag,
            facets.team,
            facets.year,
        ];
        for (sum, list) in sums.iter_mut().zip(lists) {
            for (value, n) in list {
                *sum.entry(value).or_default() += n;
            }
        }
    }
    let [kind, severity, service, tag, team, year] = sums.map(most_first);
    Facets {
        kind,
        severity,
        service,
        tag,
        team,
        year,
    }
}

/// Most documents first, then by value; years newest first when counts tie.
fn most_first(counts: HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut list: Vec<(String, u64)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list
}
