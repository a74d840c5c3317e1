//! Times one full grid search (the replaced system's 72 orders) on a
//! series read from stdin, one value per line; prints JSON. Run with
//! RAYON_NUM_THREADS=1 for the one-core figure. Used by scripts/bench.sh.

use std::io::BufRead;
use std::time::Instant;

fn main() {
    let y: Vec<f64> = std::io::stdin()
        .lock()
        .lines()
        .map(|l| l.unwrap().trim().parse().unwrap())
        .collect();
    let start = Instant::now();
    let result = arima::grid_search(&y, &arima::Grid::default()).expect("some order fits");
    let seconds = start.elapsed().as_secs_f64();
    let failed = result.table.iter().filter(|r| r.mse.is_err()).count();
    println!(
        "{{\"n\": {}, \"seconds\": {seconds:.3}, \"best\": \"{}\", \"best_mse\": {}, \"failed_orders\": {failed}, \"threads\": {}}}",
        y.len(),
        result.best,
        result.best_mse,
        rayon::current_num_threads()
    );
}
