//! The subset of pprof's `profile.proto` that blocking profiles use,
//! encoded the way the reference's `traceviewer.BuildProfile` fills it.

use super::Profile;
use rustc_hash::FxHashMap;
use std::io::Write;

/// `perftools.profiles.Profile`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PprofProfile {
    /// Kinds of the sample values.
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// The samples.
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<PprofSample>,
    /// Locations (one per PC).
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// Functions.
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// Strings referred to by index; entry 0 is "".
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    /// What one period counts.
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// The sampling period.
    #[prost(int64, tag = "12")]
    pub period: i64,
}

/// A value's type and unit, as string-table indexes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueType {
    /// Type (e.g. `delay`).
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    /// Unit (e.g. `nanoseconds`).
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// A sample: locations leaf first, and one value per sample type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PprofSample {
    /// Location IDs, leaf first.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    /// Values, one per sample type.
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
}

/// A code location.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Location {
    /// Unique nonzero ID.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Mapping ID (unused here).
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    /// The PC.
    #[prost(uint64, tag = "3")]
    pub address: u64,
    /// Source lines (one: trace stacks are already expanded).
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
}

/// A source line of a location.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Line {
    /// Function ID.
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    /// Line number.
    #[prost(int64, tag = "2")]
    pub line: i64,
}

/// A function.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Function {
    /// Unique nonzero ID.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Name (string index).
    #[prost(int64, tag = "2")]
    pub name: i64,
    /// System name (string index).
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    /// Source file (string index).
    #[prost(int64, tag = "4")]
    pub filename: i64,
}

struct StringTable {
    strings: Vec<String>,
    index: FxHashMap<String, i64>,
}

impl StringTable {
    fn new() -> Self {
        let mut t = StringTable {
            strings: Vec::new(),
            index: FxHashMap::default(),
        };
        t.add("");
        t
    }

    fn add(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strings.len() as i64;
        self.strings.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

/// Builds the `profile.proto` message: one location per PC (the first
/// frame seen with it) and one function per file+name, as the reference.
pub fn build(p: &Profile<'_>) -> PprofProfile {
    let mut st = StringTable::new();
    let vt = |st: &mut StringTable, t: &str, u: &str| ValueType {
        r#type: st.add(t),
        unit: st.add(u),
    };
    let mut out = PprofProfile {
        sample_type: vec![
            vt(&mut st, "contentions", "count"),
            vt(&mut st, "delay", "nanoseconds"),
        ],
        period_type: Some(vt(&mut st, "trace", "count")),
        period: 1,
        ..Default::default()
    };
    let mut locs: FxHashMap<u64, u64> = FxHashMap::default();
    let mut funcs: FxHashMap<String, u64> = FxHashMap::default();
    for s in &p.samples {
        let mut ids = Vec::new();
        for f in p.stacks.frames(s.stack) {
            let loc = match locs.get(&f.pc) {
                Some(&l) => l,
                None => {
                    // The reference keys functions by file+name concatenated.
                    let key = format!("{}{}", f.file, f.func);
                    let fid = match funcs.get(&key) {
                        Some(&id) => id,
                        None => {
                            let id = out.function.len() as u64 + 1;
                            let name = st.add(&f.func);
                            out.function.push(Function {
                                id,
                                name,
                                system_name: name,
                                filename: st.add(&f.file),
                            });
                            funcs.insert(key, id);
                            id
                        }
                    };
                    let id = out.location.len() as u64 + 1;
                    out.location.push(Location {
                        id,
                        mapping_id: 0,
                        address: f.pc,
                        line: vec![Line {
                            function_id: fid,
                            line: f.line as i64,
                        }],
                    });
                    locs.insert(f.pc, id);
                    id
                }
            };
            ids.push(loc);
        }
        out.sample.push(PprofSample {
            location_id: ids,
            value: vec![s.count as i64, s.delay],
        });
    }
    out.string_table = st.strings;
    out
}

/// The gzipped `profile.proto` of a profile.
pub fn encode_gzipped(p: &Profile<'_>) -> Vec<u8> {
    use prost::Message;
    let raw = build(p).encode_to_vec();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).expect("writing to a Vec cannot fail");
    gz.finish().expect("writing to a Vec cannot fail")
}
