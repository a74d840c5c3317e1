//! Times the full grid search (the replaced system's 72 orders) on a
//! series read from stdin, one value per line: the median of three runs,
//! as JSON. Run with RAYON_NUM_THREADS=1 for the one-core figure. Used by
//! scripts/bench.sh.

use std::io::BufRead;
use std::time::Instant;

fn main() {
    let y: Vec<f64> = std::io::stdin()
        .lock()
        .lines()
        .map(|l| l.unwrap().trim().parse().unwrap())
        .collect();
    let mut runs = Vec::new();
    let mut result = None;
    for _ in 0..3 {
        let start = Instant::now();
        result = Some(arima::grid_search(&y, &arima::Grid::default()).expect("some order fits"));
        runs.push(start.elapsed().as_secs_f64());
    }
    let result = result.expect("three runs");
    runs.sort_by(f64::total_cmp);
    let seconds = runs[1];
    let failed = result.table.iter().filter(|r| r.mse.is_err()).count();
    println!(
        "{{\"n\": {}, \"seconds\": {seconds:.3}, \"best\": \"{}\", \"best_mse\": {}, \"failed_orders\": {failed}, \"threads\": {}}}",
        y.len(),
        result.best,
        result.best_mse,
        rayon::current_num_threads()
    );
}
