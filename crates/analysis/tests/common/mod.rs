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
