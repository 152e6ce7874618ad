//! Corpus walking shared by the analysis golden tests.

use std::path::{Path, PathBuf};

/// The repository's corpus directory.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

/// All (version, name) pairs of the corpus that have analysis goldens, sorted.
pub fn traces() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let root = corpus().join("traces");
    let mut vers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    vers.sort();
    for ver in vers {
        let ver = ver.to_string_lossy().to_string();
        let mut names: Vec<_> = std::fs::read_dir(root.join(&ver))
            .unwrap()
            .filter_map(|e| {
                e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .strip_suffix(".trace")
                    .map(str::to_string)
            })
            .collect();
        names.sort();
        for name in names {
            if corpus()
                .join("golden")
                .join(&ver)
                .join(format!("{name}.analysis/index.tsv"))
                .exists()
            {
                out.push((ver.clone(), name));
            }
        }
    }
    out
}

/// The decompressed contents of a gzipped golden file.
#[allow(dead_code)] // Not every test binary uses every helper.
pub fn gunzip(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    out
}

/// `f(version, name)` for every corpus trace with goldens, on up to 8
/// threads; results in corpus order. Asserts the corpus is complete.
#[allow(dead_code)]
pub fn par_map<T: Send>(f: impl Fn(&str, &str) -> T + Sync) -> Vec<T> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let all = traces();
    assert!(
        all.len() >= 60,
        "corpus has only {} traces with goldens",
        all.len()
    );
    let out = std::sync::Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((ver, name)) = all.get(i) else { break };
                let r = f(ver, name);
                out.lock().unwrap().push((i, r));
            });
        }
    });
    let mut v = out.into_inner().unwrap();
    v.sort_by_key(|(i, _)| *i);
    v.into_iter().map(|(_, r)| r).collect()
}
