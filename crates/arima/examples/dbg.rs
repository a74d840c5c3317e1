use arima::{walk_forward_mse, Grid};
use std::io::BufRead;
fn main() {
    let y: Vec<f64> = std::io::stdin()
        .lock()
        .lines()
        .map(|l| l.unwrap().trim().parse().unwrap())
        .collect();
    let mut tot = 0.0;
    for o in Grid::default().orders() {
        let t = std::time::Instant::now();
        let r = walk_forward_mse(&y, o, 0.66);
        let s = t.elapsed().as_secs_f64();
        tot += s;
        println!("{o} {s:.3} {:?}", r.map(|m| (m * 1000.0).round() / 1000.0));
    }
    println!("total {tot:.2}");
}
