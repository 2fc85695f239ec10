//! Sources: where bytes come from. A walked or named file (whole, or streamed through a
//! decompressor), standard input, a followed log, a git blob; each hands its bytes to
//! the scanner ([`crate::scan`]), which cuts them into chunks and turns the engine's
//! matches into findings; [`reread`] reads a reported finding's place again. Sources
//! never print and never decide exit codes.

pub mod file;
pub mod follow;
pub mod git;
pub mod input;
pub mod reread;
pub mod stream;
pub mod walk;
