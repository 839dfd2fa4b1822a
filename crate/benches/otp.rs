//! Benchmarks of the OTP core (none yet).

fn main() {}
