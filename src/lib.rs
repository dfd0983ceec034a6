//! Native core of `knitting`.
//!
//! Pure Rust logic lives in modules that know nothing of N-API, so `cargo test`
//! covers it alone; `bindings` is the thin `#[napi]` ring around it.
#![deny(clippy::all)]

pub mod copy_engine;
pub mod errors;
pub mod registry;
pub mod shared_memory;

// The napi-rs registration that makes these items reachable is compiled out of
// unit-test builds.
#[cfg_attr(test, allow(dead_code))]
mod bindings;
