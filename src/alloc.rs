//! The binary's global allocator: the system allocator, with over-aligned requests served
//! by plain `malloc` blocks.
//!
//! glibc serves a request aligned beyond 16 bytes with `posix_memalign`, which carves the
//! aligned block out of a larger chunk and returns the pieces around it to the arena. A
//! history scan makes one such request for every git object it reads: zlib-rs, which
//! libgit2 inflates objects with, asks Rust's allocator for each stream's window and state
//! (about 40 KiB) aligned to 64 bytes. Those requests took the scan's peak memory from
//! 140 to 250 MiB, in new arena heaps. Here an over-aligned block is a `malloc` block of
//! `size + align` bytes, the aligned address inside it, and the `malloc` address stored
//! just before it; every block is then an ordinary one, reused as glibc reuses any other.

use std::alloc::{GlobalAlloc, Layout, System};

/// The alignment every `malloc` block has on the 64-bit targets we build for.
const MALLOC_ALIGN: usize = 16;

/// See the module documentation.
#[derive(Debug, Default, Clone, Copy)]
pub struct Allocator;

/// The `malloc` block an over-aligned `layout` lives in: room for the block at any
/// alignment offset and for the pointer stored before it.
fn outer(layout: Layout) -> Option<Layout> {
    Layout::from_size_align(layout.size().checked_add(layout.align())?, MALLOC_ALIGN).ok()
}

/// Allocates an over-aligned block (`layout.align() > MALLOC_ALIGN`).
///
/// # Safety
/// `layout` has a non-zero size.
unsafe fn alloc_aligned(layout: Layout, zeroed: bool) -> *mut u8 {
    let Some(outer) = outer(layout) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `outer` has a non-zero size (at least the alignment).
    let base = unsafe {
        if zeroed {
            System.alloc_zeroed(outer)
        } else {
            System.alloc(outer)
        }
    };
    if base.is_null() {
        return base;
    }
    // `base` is 16-aligned and `align` is a power of two above 16, so the offset of the
    // first aligned address past `base + 8` is between 16 and `align`: the block fits in
    // the `size + align` bytes and the pointer before it stays inside them.
    let offset = (base as usize + std::mem::size_of::<*mut u8>()).next_multiple_of(layout.align())
        - base as usize;
    // SAFETY: `offset <= align`, inside the block just allocated; the word before the
    // returned address is at `offset - 8 >= 8` from `base`, also inside, and 8-aligned
    // because `ptr` is.
    unsafe {
        let ptr = base.add(offset);
        ptr.cast::<*mut u8>().sub(1).write(base);
        ptr
    }
}

// SAFETY: blocks come from `System`; an over-aligned block is freed through the `malloc`
// address stored before it, with the layout it was allocated with (`outer` is a function
// of the caller's layout, which `GlobalAlloc` callers pass back unchanged).
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc(layout) }
        } else {
            // SAFETY: `GlobalAlloc` callers pass non-zero sizes.
            unsafe { alloc_aligned(layout, false) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc_zeroed(layout) }
        } else {
            // SAFETY: as in `alloc`.
            unsafe { alloc_aligned(layout, true) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.dealloc(ptr, layout) };
            return;
        }
        // SAFETY: `ptr` came from `alloc_aligned` with this layout, which stored the
        // `malloc` address before it and allocated it with `outer(layout)`.
        unsafe {
            let base = ptr.cast::<*mut u8>().sub(1).read();
            if let Some(outer) = outer(layout) {
                System.dealloc(base, outer);
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: forwarded with the caller's guarantees.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: `new_size` is non-zero (a `realloc` requirement); the old block holds
        // `layout.size()` readable bytes and is freed only after the copy.
        unsafe {
            let new = alloc_aligned(new_layout, false);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every alignment come back aligned, hold what was written, keep it over
    /// a realloc, start zeroed when asked, and free without complaint (the test runs
    /// under the system allocator, so a wrong free would abort it).
    #[test]
    #[allow(clippy::cast_possible_truncation)]
    fn blocks_are_aligned_and_keep_their_contents() {
        let a = Allocator;
        for align in [1, 8, 16, 32, 64, 128, 4096] {
            for size in [1, 7, 64, 1000, 40_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: non-zero sizes; every block is freed once with its layout.
                unsafe {
                    let z = a.alloc_zeroed(layout);
                    assert!(!z.is_null());
                    assert_eq!(z as usize % align, 0, "align {align} size {size}");
                    assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
                    a.dealloc(z, layout);

                    let p = a.alloc(layout);
                    assert_eq!(p as usize % align, 0);
                    for i in 0..size {
                        p.add(i).write((i % 251) as u8);
                    }
                    let bigger = size * 3;
                    let q = a.realloc(p, layout, bigger);
                    assert_eq!(q as usize % align, 0);
                    for i in 0..size {
                        assert_eq!(q.add(i).read(), (i % 251) as u8);
                    }
                    a.dealloc(q, Layout::from_size_align(bigger, align).unwrap());
                }
            }
        }
    }
}
