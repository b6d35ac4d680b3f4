//! The estimators the emulated compute tasks run: the samples in a (rotated) search ellipsoid,
//! the nearest `max_samples` of them by anisotropic distance, then inverse distance weighting
//! or their mean (k-nearest neighbours).

/// A search ellipsoid and how many samples an estimate takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Neighbourhood {
    /// Major, semi-major and minor ranges.
    pub(super) ranges: [f64; 3],
    /// Dip azimuth, dip and pitch, in degrees.
    pub(super) rotation: [f64; 3],
    pub(super) max_samples: usize,
    pub(super) min_samples: usize,
}

impl Neighbourhood {
    /// The rotation matrix `R` of the Python SDK's `Rotation.as_rotation_matrix` (clockwise
    /// about Z by the dip azimuth, about X by the dip, about Z by the pitch): the ellipsoid's
    /// axes (major along x, semi-major along y, minor along z) are turned by `R` into the
    /// world, so world offsets are taken back to the axes with its transpose.
    fn matrix(&self) -> [[f64; 3]; 3] {
        let [az, dip, pitch] = self.rotation.map(f64::to_radians);
        let rz = |a: f64| {
            [
                [a.cos(), a.sin(), 0.0],
                [-a.sin(), a.cos(), 0.0],
                [0.0, 0.0, 1.0],
            ]
        };
        let rx = |a: f64| {
            [
                [1.0, 0.0, 0.0],
                [0.0, a.cos(), a.sin()],
                [0.0, -a.sin(), a.cos()],
            ]
        };
        mul(mul(rz(az), rx(dip)), rz(pitch))
    }
}

fn mul(a: [[f64; 3]; 3], b: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

/// Which estimator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Estimator {
    /// Weights `1 / d^power` of the anisotropic distance; a sample at distance 0 gives its
    /// value (the mean of such samples).
    InverseDistance { power: f64 },
    /// The mean of the neighbours.
    NearestNeighbours,
}

/// For each target, the estimate from the samples (`None` where fewer than `min_samples`
/// samples, or none, lie in the ellipsoid). Samples with a NaN value or position are ignored.
pub(super) fn estimate(
    samples: &[[f64; 3]],
    values: &[f64],
    targets: &[[f64; 3]],
    n: &Neighbourhood,
    estimator: Estimator,
) -> Vec<Option<f64>> {
    let m = n.matrix();
    let usable: Vec<usize> = (0..samples.len().min(values.len()))
        .filter(|&i| values[i].is_finite() && samples[i].iter().all(|c| c.is_finite()))
        .collect();
    let mut found: Vec<(f64, f64)> = Vec::new();
    targets
        .iter()
        .map(|t| {
            found.clear();
            for &i in &usable {
                let d = [0, 1, 2].map(|k| samples[i][k] - t[k]);
                let local = [0, 1, 2].map(|r| (0..3).map(|k| m[k][r] * d[k]).sum::<f64>());
                // Distance in units of the ranges: inside the ellipsoid when at most 1.
                let scaled: f64 = (0..3)
                    .map(|k| (local[k] / n.ranges[k]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                if scaled <= 1.0 {
                    found.push((scaled, values[i]));
                }
            }
            found.sort_by(|a, b| a.0.total_cmp(&b.0));
            found.truncate(n.max_samples);
            if found.is_empty() || found.len() < n.min_samples {
                return None;
            }
            Some(match estimator {
                Estimator::NearestNeighbours => {
                    found.iter().map(|(_, v)| v).sum::<f64>() / found.len() as f64
                }
                Estimator::InverseDistance { power } => {
                    let exact: Vec<f64> = found
                        .iter()
                        .filter(|(d, _)| *d == 0.0)
                        .map(|(_, v)| *v)
                        .collect();
                    if !exact.is_empty() {
                        exact.iter().sum::<f64>() / exact.len() as f64
                    } else {
                        let w: Vec<f64> = found.iter().map(|(d, _)| d.powf(-power)).collect();
                        let total: f64 = w.iter().sum();
                        found.iter().zip(&w).map(|((_, v), w)| v * w).sum::<f64>() / total
                    }
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sphere(r: f64, max: usize) -> Neighbourhood {
        Neighbourhood {
            ranges: [r; 3],
            rotation: [0.0; 3],
            max_samples: max,
            min_samples: 1,
        }
    }

    #[test]
    fn idw_by_hand() {
        let samples = [[0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 4.0, 0.0]];
        let values = [1.0, 2.0, 3.0];
        let out = estimate(
            &samples,
            &values,
            &[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [100.0, 0.0, 0.0]],
            &sphere(10.0, 8),
            Estimator::InverseDistance { power: 2.0 },
        );
        assert_eq!(out[0], Some(1.0), "a sample at the target gives its value");
        // d = 1, 2, sqrt(17) (scaled by 10: the same weights up to a factor).
        let w = [1.0, 0.25, 1.0 / 17.0];
        let expected = (1.0 * w[0] + 2.0 * w[1] + 3.0 * w[2]) / w.iter().sum::<f64>();
        assert!((out[1].unwrap() - expected).abs() < 1e-12);
        assert_eq!(out[2], None, "nothing in range");
    }

    #[test]
    fn knn_takes_the_nearest_and_needs_the_minimum() {
        let samples = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [5.0, 0.0, 0.0]];
        let values = [10.0, 20.0, 90.0];
        let out = estimate(
            &samples,
            &values,
            &[[0.2, 0.0, 0.0]],
            &sphere(10.0, 2),
            Estimator::NearestNeighbours,
        );
        assert_eq!(out, vec![Some(15.0)]);
        let mut n = sphere(2.0, 5);
        n.min_samples = 3;
        let out = estimate(
            &samples,
            &values,
            &[[0.2, 0.0, 0.0]],
            &n,
            Estimator::NearestNeighbours,
        );
        assert_eq!(out, vec![None]);
    }

    #[test]
    fn the_ellipsoid_is_anisotropic_and_rotates() {
        let samples = [[8.0, 0.0, 0.0], [0.0, 8.0, 0.0]];
        let values = [1.0, 2.0];
        let mut n = sphere(10.0, 4);
        n.ranges = [10.0, 5.0, 5.0];
        // Not rotated, the major axis lies along x: only the sample on x is in range.
        let out = estimate(
            &samples,
            &values,
            &[[0.0; 3]],
            &n,
            Estimator::NearestNeighbours,
        );
        assert_eq!(out, vec![Some(1.0)]);
        // Turned 90 degrees clockwise: the major axis lies along y.
        n.rotation = [90.0, 0.0, 0.0];
        let out = estimate(
            &samples,
            &values,
            &[[0.0; 3]],
            &n,
            Estimator::NearestNeighbours,
        );
        assert_eq!(out, vec![Some(2.0)]);
    }
}
