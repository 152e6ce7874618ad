//! Just enough of Go's `text/tabwriter` to reproduce the reference's tables:
//! left-aligned cells padded with spaces; the last cell of a line is not aligned.

pub struct Table {
    minwidth: usize,
    padding: usize,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(minwidth: usize, padding: usize) -> Self {
        Table {
            minwidth,
            padding,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let ncols = self.rows.iter().map(|r| r.len()).max().unwrap_or(0);
        let mut widths = vec![0usize; ncols];
        // A cell is aligned only when a tab follows it, i.e. it is not last.
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
                widths[i] = widths[i].max(c.chars().count() + self.padding);
            }
        }
        for w in &mut widths {
            *w = (*w).max(self.minwidth);
        }
        let mut out = String::new();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                out.push_str(c);
                if i + 1 < r.len() {
                    out.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count()));
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_columns_to_the_widest_cell_plus_padding() {
        let mut t = Table::new(3, 2);
        t.row(vec!["Event".into(), "Bytes".into(), "%".into()]);
        t.row(vec!["-".into(), "-".into(), "-".into()]);
        t.row(vec!["GoStart".into(), "12".into(), "1.00%".into()]);
        assert_eq!(
            t.render(),
            "Event    Bytes  %\n-        -      -\nGoStart  12     1.00%\n"
        );
    }
}
