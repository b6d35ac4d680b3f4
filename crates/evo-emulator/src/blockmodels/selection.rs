//! The blocks a query or a report selects, in block order (`i` fastest). A whole model or a
//! full slab is a run of consecutive block numbers and is held as its ends, not as a list:
//! a 4-million-block model is not 16 MB of numbers written into fresh memory before the
//! first row is encoded.

use arrow_array::ArrayRef;

use super::state::{Area, ModelRec};

/// Sorted, distinct block numbers: a run of consecutive ones, or any list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Selection {
    /// The `len` blocks from `first` on.
    Run { first: u32, len: usize },
    /// Blocks in ascending order.
    List(Vec<u32>),
}

/// A borrowed piece of a [`Selection`]: what a row group or a slice of one covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Blocks<'a> {
    /// The `len` blocks from `first` on.
    Run { first: u32, len: usize },
    /// Blocks in ascending order.
    List(&'a [u32]),
}

impl Selection {
    /// The blocks of `m` within `area` (indices, or centroids in world coordinates).
    pub(super) fn of(m: &ModelRec, area: Option<Area>) -> Self {
        let (n, _) = m.geometry.parents();
        let full = [
            [0, i64::from(n[0]) - 1],
            [0, i64::from(n[1]) - 1],
            [0, i64::from(n[2]) - 1],
        ];
        let clamp = |r: [i64; 2], a: usize| [r[0].max(full[a][0]), r[1].min(full[a][1])];
        let (ranges, coords) = match area {
            None => (full, None),
            Some(Area::Indices(b)) => ([clamp(b[0], 0), clamp(b[1], 1), clamp(b[2], 2)], None),
            Some(Area::Coordinates(b)) => (full, Some(b)),
        };
        if ranges.iter().any(|r| r[0] > r[1]) {
            return Self::List(Vec::new());
        }
        let number =
            |i: i64, j: i64, k: i64| (i + i64::from(n[0]) * (j + i64::from(n[1]) * k)) as u32;
        // Whole rows in whole layers are consecutive blocks.
        if coords.is_none() && ranges[0] == full[0] && ranges[1] == full[1] {
            let first = number(0, 0, ranges[2][0]);
            let last = number(full[0][1], full[1][1], ranges[2][1]);
            return Self::Run {
                first,
                len: (last - first) as usize + 1,
            };
        }
        let rot = m.rotation_matrix();
        let mut out = Vec::new();
        for k in ranges[2][0]..=ranges[2][1] {
            for j in ranges[1][0]..=ranges[1][1] {
                for i in ranges[0][0]..=ranges[0][1] {
                    if let Some(b) = coords {
                        let c = m.centroid(&rot, [i as u32, j as u32, k as u32]);
                        if (0..3).any(|a| c[a] < b[a][0] || c[a] > b[a][1]) {
                            continue;
                        }
                    }
                    out.push(number(i, j, k));
                }
            }
        }
        Self::List(out)
    }

    /// The whole selection as a piece.
    pub(super) fn as_blocks(&self) -> Blocks<'_> {
        match self {
            Self::Run { first, len } => Blocks::Run {
                first: *first,
                len: *len,
            },
            Self::List(list) => Blocks::List(list),
        }
    }

    /// The block numbers, in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.as_blocks().iter()
    }

    /// Keeps the blocks where any of `columns` has a value. A column without nulls keeps
    /// every block, and then nothing is walked.
    pub(super) fn retain_valid(&mut self, columns: &[ArrayRef]) {
        if columns.is_empty() || columns.iter().any(|a| a.null_count() == 0) {
            return;
        }
        let kept: Vec<u32> = self
            .iter()
            .filter(|b| columns.iter().any(|a| a.is_valid(*b as usize)))
            .collect();
        *self = Self::List(kept);
    }
}

impl<'a> Blocks<'a> {
    /// The number of blocks.
    pub(super) fn len(self) -> usize {
        match self {
            Self::Run { len, .. } => len,
            Self::List(list) => list.len(),
        }
    }

    /// The block numbers, in order.
    pub(super) fn iter(self) -> impl Iterator<Item = u32> + 'a {
        let (run, list) = match self {
            // A run's numbers fit in u32: they are block numbers of one model.
            Self::Run { first, len } => (first..first + len as u32, &[][..]),
            Self::List(list) => (0..0, list),
        };
        run.chain(list.iter().copied())
    }

    /// The first block when the blocks are consecutive (a list of sorted, distinct numbers
    /// is consecutive when its ends are `len - 1` apart).
    pub(super) fn consecutive_from(self) -> Option<usize> {
        match self {
            Self::Run { first, .. } => Some(first as usize),
            Self::List(list) => {
                let (first, last) = (*list.first()?, *list.last()?);
                ((last - first) as usize == list.len() - 1).then_some(first as usize)
            }
        }
    }

    /// Consecutive pieces of at most `size` blocks (at least 1), in order.
    pub(super) fn pieces(self, size: usize) -> impl Iterator<Item = Blocks<'a>> {
        let size = size.max(1);
        let count = self.len().div_ceil(size);
        (0..count).map(move |p| {
            let start = p * size;
            let len = size.min(self.len() - start);
            match self {
                Self::Run { first, .. } => Self::Run {
                    first: first + start as u32,
                    len,
                },
                Self::List(list) => Self::List(&list[start..start + len]),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::Float64Array;

    use super::*;
    use crate::blockmodels::result_file::tests::model;

    /// The blocks of a box by the definition: every (i, j, k) within it, numbered i fastest.
    fn by_definition(n: [u32; 3], b: [[i64; 2]; 3]) -> Vec<u32> {
        let mut out = Vec::new();
        for k in 0..n[2] {
            for j in 0..n[1] {
                for i in 0..n[0] {
                    let inside = [i, j, k]
                        .iter()
                        .zip(b)
                        .all(|(&v, r)| i64::from(v) >= r[0] && i64::from(v) <= r[1]);
                    if inside {
                        out.push(i + n[0] * (j + n[1] * k));
                    }
                }
            }
        }
        out
    }

    /// A whole model and whole layers are runs; any other box is a list; all of them hold
    /// exactly the blocks of the box, clamped to the model.
    #[test]
    fn boxes_select_their_blocks_and_whole_layers_are_runs() {
        let m = model([4, 3, 5]);
        let cases = [
            (None, true),
            (Some([[0, 3], [0, 2], [1, 3]]), true),
            (Some([[-5, 9], [-1, 7], [2, 2]]), true),
            (Some([[1, 2], [0, 2], [1, 3]]), false),
            (Some([[0, 3], [1, 1], [0, 4]]), false),
            (Some([[3, 1], [0, 2], [0, 4]]), false),
        ];
        for (area, run) in cases {
            let selection = Selection::of(&m, area.map(Area::Indices));
            let expected = by_definition([4, 3, 5], area.unwrap_or([[0, 3], [0, 2], [0, 4]]));
            assert_eq!(selection.iter().collect::<Vec<_>>(), expected, "{area:?}");
            assert_eq!(selection.as_blocks().len(), expected.len());
            assert_eq!(matches!(selection, Selection::Run { .. }), run, "{area:?}");
        }
    }

    /// Pieces cover the selection in order, none longer than asked; consecutive pieces of a
    /// list are found consecutive, others are not.
    #[test]
    fn pieces_cover_the_selection_in_order() {
        let run = Selection::Run { first: 10, len: 7 };
        let list = Selection::List(vec![1, 2, 3, 7, 8, 10, 11]);
        for selection in [&run, &list] {
            let pieces: Vec<Blocks<'_>> = selection.as_blocks().pieces(3).collect();
            assert_eq!(
                pieces.iter().map(|p| p.len()).collect::<Vec<_>>(),
                [3, 3, 1]
            );
            let joined: Vec<u32> = pieces.iter().flat_map(|p| p.iter()).collect();
            assert_eq!(joined, selection.iter().collect::<Vec<_>>());
        }
        let list_pieces: Vec<Blocks<'_>> = list.as_blocks().pieces(3).collect();
        assert_eq!(list_pieces[0].consecutive_from(), Some(1));
        assert_eq!(list_pieces[1].consecutive_from(), None);
        assert_eq!(run.as_blocks().consecutive_from(), Some(10));
        assert_eq!(list.as_blocks().consecutive_from(), None);
    }

    /// Blocks where every queried column is null are left out; a column without nulls keeps
    /// the run a run.
    #[test]
    fn rows_without_any_value_are_left_out() {
        let sparse: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0), None, None, Some(2.0)]));
        let other: ArrayRef = Arc::new(Float64Array::from(vec![None, None, Some(3.0), None]));
        let mut selection = Selection::Run { first: 0, len: 4 };
        selection.retain_valid(&[sparse.clone(), other]);
        assert_eq!(selection, Selection::List(vec![0, 2, 3]));
        let full: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0]));
        let mut selection = Selection::Run { first: 0, len: 4 };
        selection.retain_valid(&[sparse, full]);
        assert_eq!(selection, Selection::Run { first: 0, len: 4 });
    }
}
