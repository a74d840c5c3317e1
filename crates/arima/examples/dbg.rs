use arima::*;
use std::io::BufRead;
fn main() {
    let y: Vec<f64> = std::io::stdin()
        .lock()
        .lines()
        .map(|l| l.unwrap().trim().parse().unwrap())
        .collect();
    let orders: Vec<Order> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    for order in orders {
        let spec = Arima::new(order).statsmodels_stopping();
        let train = (y.len() as f64 * 0.66) as usize;
        let t0 = std::time::Instant::now();
        let mut last: Option<FittedArima> = None;
        let (mut iters, mut maxit, mut nonconv) = (0, 0, 0);
        for t in train..y.len() {
            let f = match &last {
                Some(p) => spec.refit(&y[..t], p).unwrap(),
                None => spec.fit(&y[..t]).unwrap(),
            };
            iters += f.iterations();
            maxit = maxit.max(f.iterations());
            nonconv += usize::from(!f.converged());
            last = Some(f);
        }
        println!(
            "{order} {:?} iters {iters} max {maxit} nonconv {nonconv}",
            t0.elapsed()
        );
    }
}
