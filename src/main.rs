//! The `leaksweep` binary: hands over to `leaksweep::cli`, which parses the flags.

/// zlib-rs in place of the system zlib for libgit2. libgit2 inflates every object through
/// zlib's C API (`inflateInit_`, `inflate`, `inflateEnd`); `libz-rs-sys` defines those
/// symbols, and this reference, in the binary itself, links them in, where they take
/// precedence over the shared system library. Inflating was 39% of a history scan's CPU
/// with zlib 1.2.13; with zlib-rs the scan takes 0.79x the wall time.
#[used]
static ZLIB_RS_INFLATE: unsafe extern "C-unwind" fn(*mut libz_rs_sys::z_stream, i32) -> i32 =
    libz_rs_sys::inflate;

/// The system allocator, with 64-byte-aligned requests (zlib-rs's, one per git object)
/// kept out of glibc's `posix_memalign`: see `leaksweep::alloc`.
#[global_allocator]
static GLOBAL: leaksweep::alloc::Allocator = leaksweep::alloc::Allocator;

fn main() {
    std::process::exit(leaksweep::cli::main());
}
