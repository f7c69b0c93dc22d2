//! Answers calendar queries read as JSON lines on stdin, one answer line per request line.
//! The differential test against Python's `businesstimedelta` and the `bench/` comparison
//! script drive the real calendar engine through it.
//!
//! Request: `{"calendar": {CalendarSpec}, "queries": [{"op": "between", "a": 0, "b": 0} |
//! {"op": "due", "start": 0, "seconds": 0}]}` (instants in Unix seconds).
//! Answer: `{"results": [seconds | unix seconds, …]}`, or `{"error": "…"}`.
//!
//! Request `{"calendar": {…}, "bench": {"starts": […], "seconds": […], "rounds": N}}` times
//! the due computations pairwise over `rounds` passes and answers
//! `{"ns_per_due": f, "count": n, "checksum": i}`.

use std::hint::black_box;
use std::io::{BufRead, Write};
use std::time::Instant;
use stringer_core::calendar::CalendarSpec;

#[derive(serde::Deserialize)]
struct Request {
    calendar: CalendarSpec,
    #[serde(default)]
    queries: Vec<Query>,
    bench: Option<Bench>,
}

#[derive(serde::Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Query {
    Between { a: i64, b: i64 },
    Due { start: i64, seconds: i64 },
}

#[derive(serde::Deserialize)]
struct Bench {
    starts: Vec<i64>,
    seconds: Vec<i64>,
    rounds: u32,
}

fn answer(line: &str) -> serde_json::Value {
    let request: Request = match serde_json::from_str(line) {
        Ok(r) => r,
        Err(e) => return serde_json::json!({ "error": e.to_string() }),
    };
    let calendar = match request.calendar.compile() {
        Ok(c) => c,
        Err(e) => return serde_json::json!({ "error": format!("{:?}: {}", e.path, e.message) }),
    };
    if let Some(bench) = request.bench {
        let started = Instant::now();
        let mut checksum = 0i64;
        for _ in 0..bench.rounds {
            for (s, d) in bench.starts.iter().zip(&bench.seconds) {
                checksum = checksum.wrapping_add(calendar.due_secs(black_box(*s), black_box(*d)));
            }
        }
        let count = bench.starts.len() as f64 * f64::from(bench.rounds);
        let ns = started.elapsed().as_nanos() as f64 / count;
        return serde_json::json!({ "ns_per_due": ns, "count": count, "checksum": checksum });
    }
    let results: Vec<i64> = request
        .queries
        .iter()
        .map(|q| match *q {
            Query::Between { a, b } => calendar.between_secs(a, b),
            Query::Due { start, seconds } => calendar.due_secs(start, seconds),
        })
        .collect();
    serde_json::json!({ "results": results })
}

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line.expect("stdin is readable");
        if line.trim().is_empty() {
            continue;
        }
        writeln!(out, "{}", answer(&line)).expect("stdout is writable");
        out.flush().expect("stdout is writable");
    }
}
