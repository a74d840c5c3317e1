//! Criterion benchmarks of the core on the real EWR 2013 daily series.
//! scripts/bench.sh runs these beside statsmodels and writes BENCHMARKS.md.

use arima::{internals, walk_forward_mse, Arima, Order};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

fn ewr_2013() -> Vec<f64> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fits.json");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["series"]["nyc_ewr_2013"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn fit(c: &mut Criterion) {
    let y = ewr_2013();
    c.bench_function("fit_predict_511_365", |b| {
        b.iter(|| {
            let fit = Arima::new(Order::DEFAULT).fit(black_box(&y)).unwrap();
            let pred = fit.in_sample_prediction();
            black_box(pred.interval(0.8).unwrap())
        })
    });
}

/// One likelihood evaluation three ways: the conventional filter written
/// by hand, the same filter on dense ndarray matrices, and the search's
/// Chandrasekhar pass; then one exact gradient (that pass and its adjoint).
fn loglike(c: &mut Criterion) {
    let y = ewr_2013();
    let mut group = c.benchmark_group("loglike_365");
    for order in [Order::new(5, 1, 1), Order::new(10, 2, 2)] {
        let params = Arima::new(order).fit(&y).unwrap().params().clone();
        group.bench_with_input(BenchmarkId::new("structured", order), &params, |b, p| {
            b.iter(|| internals::loglike(&order, p, black_box(&y)))
        });
        group.bench_with_input(BenchmarkId::new("chandrasekhar", order), &params, |b, p| {
            b.iter(|| internals::search_loglike(&order, p, black_box(&y)))
        });
        group.bench_with_input(BenchmarkId::new("dense_ndarray", order), &params, |b, p| {
            b.iter(|| internals::dense_loglike(&order, p, black_box(&y)))
        });
        group.bench_with_input(BenchmarkId::new("gradient", order), &params, |b, p| {
            b.iter(|| internals::loglike_gradient(&order, p, black_box(&y)))
        });
    }
    group.finish();
}

fn walk_forward(c: &mut Criterion) {
    let y = ewr_2013();
    let mut group = c.benchmark_group("walk_forward");
    group.sample_size(10);
    group.bench_function("511_365", |b| {
        b.iter(|| walk_forward_mse(black_box(&y), Order::DEFAULT, 0.66).unwrap())
    });
    group.finish();
}

criterion_group!(benches, fit, loglike, walk_forward);
criterion_main!(benches);
