//! One test per bug, each named for the bug and the issue that reported it. Every test here failed
//! on the code before its fix.
mod common;

#[allow(unused_imports)]
use common::*;
