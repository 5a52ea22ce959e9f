//! A delay line with loss for the test network, in place of `tc netem`
//! (the kernel of these machines has no `sch_netem`). The router hands
//! a site's packets to NFQUEUE queue `--queue`; this holds each for
//! `--delay-ms` and drops it with probability `--loss-percent`, in order,
//! until it is stopped.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::collections::VecDeque;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What may wait in the kernel's queue before packets pass unseen.
const KERNEL_QUEUE: u32 = 8192;

struct Options {
    queue: u16,
    delay: Duration,
    loss_percent: f64,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        queue: 0,
        delay: Duration::ZERO,
        loss_percent: 0.0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: std::num::ParseIntError| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--queue" => options.queue = value.parse().map_err(bad)?,
            "--delay-ms" => options.delay = Duration::from_millis(value.parse().map_err(bad)?),
            "--loss-percent" => {
                options.loss_percent = value.parse().map_err(|e| format!("{flag} {value}: {e}"))?;
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(options)
}

/// xorshift64*: enough randomness to drop packets, seeded from the clock.
struct Dice(u64);

impl Dice {
    fn percent(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let n = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (n >> 11) as f64 / (1u64 << 53) as f64 * 100.0
    }
}

fn run(options: &Options) -> std::io::Result<()> {
    let mut queue = nfq::Queue::open()?;
    queue.bind(options.queue)?;
    queue.set_queue_max_len(options.queue, KERNEL_QUEUE)?;
    // Past that, packets pass rather than vanish unaccounted.
    queue.set_fail_open(options.queue, true)?;
    queue.set_nonblocking(true);
    // The harness adds the rules that feed the queue only after this.
    println!("tandem-netem: queue {} bound", options.queue);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    let mut dice = Dice(seed ^ u64::from(std::process::id()));
    let mut held = VecDeque::new();
    let (mut passed, mut dropped) = (0u64, 0u64);
    let mut report_at = Instant::now();
    loop {
        loop {
            match queue.recv() {
                Ok(mut message) => {
                    if dice.percent() < options.loss_percent {
                        message.set_verdict(nfq::Verdict::Drop);
                        queue.verdict(message)?;
                        dropped += 1;
                    } else {
                        passed += 1;
                        message.set_verdict(nfq::Verdict::Accept);
                        held.push_back((Instant::now() + options.delay, message));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        let now = Instant::now();
        while held.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, message)) = held.pop_front() {
                queue.verdict(message)?;
            }
        }
        if now >= report_at {
            // For the harness: what this line did so far.
            println!("tandem-netem: passed {passed} dropped {dropped}");
            report_at = now + Duration::from_secs(1);
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(why) => {
            eprintln!("tandem-netem: {why}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tandem-netem: {error}");
            ExitCode::FAILURE
        }
    }
}
