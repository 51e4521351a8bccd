//! Median and maximum of a handful of runs.

/// Summary of repeated measurements of one quantity.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Summary {
    pub runs: usize,
    pub median: f64,
    pub max: f64,
}

/// `None` for no values. The median of an even count is the mean of the two middle values.
pub fn summarise(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    };
    Some(Summary {
        runs: sorted.len(),
        median,
        max: sorted[sorted.len() - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_count_takes_the_middle_value() {
        let s = summarise(&[9.0, 1.0, 5.0]).unwrap();
        assert_eq!((s.runs, s.median, s.max), (3, 5.0, 9.0));
    }

    #[test]
    fn even_count_takes_the_mean_of_the_middle_two() {
        let s = summarise(&[4.0, 1.0, 3.0, 10.0]).unwrap();
        assert_eq!((s.median, s.max), (3.5, 10.0));
    }

    #[test]
    fn nothing_measured_is_no_summary() {
        assert_eq!(summarise(&[]), None);
    }
}
