//! 1:1 fingerprint comparisons per second of **user CPU time of the measuring thread**, for genuine and
//! impostor pairs, on the development set (when `../shared/data/fingerprints/fvc2002_db2_b` is present) and on
//! synthetic impressions (10 fingers × 8 of a chosen seed).
//!
//! ```text
//! cargo run --release -p cgi-match-core --example finger_cpu_time -- --seconds 2 --rounds 3 --seed 11
//! ```
//!
//! Criterion measures wall time, which on a shared, loaded machine mostly measures the other processes. User
//! CPU time of the one thread that compares (Linux `/proc/thread-self/stat`, field 14, in USER_HZ = 100 ticks
//! per second, the fixed unit of that file) does not count time spent waiting for a core, so the figures stay
//! comparable between runs on a busy machine; each measurement repeats all pairs until at least `--seconds` of
//! CPU time have passed (10 ms tick: ±0.5 % at 2 s). Interleave two builds (`--rounds`) to compare them.
//! Without `/proc` (not Linux) it falls back to wall time and says so.
//!
//! Each line also prints an FNV-1a hash of the bits of every score in pair order, so two builds can be checked
//! for bit-identical scores at a glance; `--dump FILE` writes every score (set, kind, a, b, bits, value) for a
//! closer look; `--only TEXT` times only the measurements whose "set kind" name contains TEXT (e.g. `devset
//! genuine`, for a profiler).

// A measuring tool like the benches: its output is stdout, and a bad argument or an unreadable file ends the
// run with a message.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use cgi_match_core::finger::synth::{dataset, protocol_pairs, ImpressionParams, SynthParams};
use cgi_match_core::finger::{iso19794_2, Matcher, PreparedTemplate, Template};

struct Args {
    seconds: f64,
    rounds: u32,
    seed: u64,
    dump: Option<PathBuf>,
    only: Option<String>,
}

fn parse() -> Args {
    let mut a = Args { seconds: 2.0, rounds: 3, seed: 11, dump: None, only: None };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let (key, value) = (pair[0].as_str(), pair.get(1).map_or("", String::as_str));
        match key {
            "--seconds" => a.seconds = value.parse().expect("--seconds S (CPU seconds per measurement)"),
            "--rounds" => a.rounds = value.parse().expect("--rounds N"),
            "--seed" => a.seed = value.parse().expect("--seed S (synthetic impressions)"),
            "--dump" => a.dump = Some(PathBuf::from(value)),
            "--only" => a.only = Some(value.to_owned()),
            other => panic!("unknown argument {other} (--seconds, --rounds, --seed, --dump, --only)"),
        }
    }
    a
}

/// The development set's 80 templates (fingers 101–110 × 8 impressions), or `None` when it is not there.
fn devset() -> Option<Vec<Template>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fingerprints/fvc2002_db2_b");
    let mut out = Vec::new();
    for f in 101..=110 {
        for i in 1..=8 {
            let bytes = std::fs::read(dir.join(format!("{f}_{i}.iso"))).ok()?;
            out.push(iso19794_2::read(&bytes).ok()?.swap_remove(0));
        }
    }
    Some(out)
}

/// Synthetic impressions from the generator: 10 fingers × 8 impressions of `seed`.
fn synthetic(seed: u64) -> Vec<Template> {
    dataset(seed, 10, 1, 8, &SynthParams::default(), &ImpressionParams::default())
        .into_iter()
        .map(|r| r.template)
        .collect()
}

/// User CPU seconds this thread has run, or `None` without `/proc/thread-self/stat`.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after it, so utime (field 14) is the 12th.
    let ticks: u64 = rest.split_whitespace().nth(11)?.parse().ok()?;
    Some(ticks as f64 / 100.0)
}

/// One clock reading: CPU seconds of this thread when available, else wall seconds since `start`.
fn now(start: Instant) -> f64 {
    thread_cpu_seconds().unwrap_or_else(|| start.elapsed().as_secs_f64())
}

/// FNV-1a over the bits of the scores, in order.
fn fingerprint(scores: &[f32]) -> u64 {
    scores
        .iter()
        .flat_map(|s| s.to_bits().to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325, |h, byte| (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Comparisons per second over all `pairs`, repeated until `seconds` of the clock passed.
fn rate(m: &Matcher, t: &[PreparedTemplate], pairs: &[(usize, usize)], seconds: f64, start: Instant) -> f64 {
    let mut sink = 0.0_f32;
    let mut done = 0_u64;
    let begin = now(start);
    loop {
        for &(a, b) in pairs {
            sink += m.compare(&t[a], &t[b]);
        }
        done += pairs.len() as u64;
        let spent = now(start) - begin;
        if spent >= seconds {
            std::hint::black_box(sink);
            return done as f64 / spent;
        }
    }
}

fn main() {
    let args = parse();
    let m = Matcher::default();
    let start = Instant::now();
    let clock = if thread_cpu_seconds().is_some() { "user CPU time of one thread" } else { "wall time (no /proc)" };
    let mut sets = Vec::new();
    if let Some(dev) = devset() {
        sets.push(("devset".to_owned(), dev));
    } else {
        println!("devset: ../shared/data/fingerprints/fvc2002_db2_b not found, skipped");
    }
    sets.push((format!("synthetic_seed{}", args.seed), synthetic(args.seed)));
    let mut dump = String::new();
    let mut measured = Vec::new();
    for (name, raw) in &sets {
        let t: Vec<PreparedTemplate> = raw.iter().map(|r| m.prepare(r)).collect();
        let (genuine, impostor) = protocol_pairs(t.len(), 8);
        for (kind, pairs) in [("genuine", genuine), ("impostor", impostor)] {
            let scores: Vec<f32> = pairs.iter().map(|&(a, b)| m.compare(&t[a], &t[b])).collect();
            println!("{name} {kind}: {} pairs, score bits hash {:016x}", pairs.len(), fingerprint(&scores));
            if args.dump.is_some() {
                for (&(a, b), s) in pairs.iter().zip(&scores) {
                    writeln!(dump, "{name}\t{kind}\t{a}\t{b}\t{:08x}\t{s}", s.to_bits()).expect("write to a String");
                }
            }
            measured.push((name.clone(), kind, t.clone(), pairs));
        }
    }
    if let Some(path) = &args.dump {
        std::fs::write(path, dump).expect("--dump FILE must be writable");
    }
    println!("comparisons per second of {clock}, {} s per measurement:", args.seconds);
    for round in 1..=args.rounds {
        for (name, kind, t, pairs) in &measured {
            if args.only.as_ref().is_some_and(|only| !format!("{name} {kind}").contains(only.as_str())) {
                continue;
            }
            let r = rate(&m, t, pairs, args.seconds, start);
            println!("round {round} {name} {kind}: {r:.0} comparisons/s");
        }
    }
}
