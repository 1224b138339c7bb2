//! The wasm boundary, hand-written: plain numbers in and out, strings through two buffers, and
//! machines behind handles. The JavaScript side is `js/consult_core.js`; nothing else calls it.
//!
//! - **Machines** live in a [`Slab`] per kind; JavaScript holds a handle (a positive number).
//!   A handle that names no machine (freed, never made, not a number) is ignored: a getter
//!   answers its "none", an action does nothing. No pointer crosses, so no input can reach
//!   memory it does not own.
//! - **Strings in**: the driver asks [`io_in`] for a buffer of the total byte length of a
//!   call's strings, writes them there (UTF-8) one after the other, and passes each one's
//!   length (negative, or NaN: none). [`Strings`] takes them back in order; bytes that are not
//!   UTF-8, or lengths beyond what was written, read as none.
//! - **Strings out**: a getter copies its string into the out buffer and returns its byte
//!   length (−1: none); the driver reads that many bytes at [`io_out`].
//!
//! wasm-bindgen's generated boundary did the same with classes, `RefCell` borrow flags and a
//! glue file four times the size of `js/consult_core.js` (BENCHMARKS.md, "Package size").
//! Nothing here can panic or trap on any input: every length is checked and every borrow is
//! tried.

use alloc::{boxed::Box, string::String, vec::Vec};
use core::cell::RefCell;

/// A value of the boundary's one thread. On the host (the tests, several threads) it is a
/// `thread_local!`; the package's wasm is `no_std`, where wasm32 without atomics has one thread
/// and a plain `static` ([`SingleThreaded`]) is that thread's.
#[cfg(not(target_arch = "wasm32"))]
pub type Local<T> = std::thread::LocalKey<T>;
#[cfg(target_arch = "wasm32")]
pub type Local<T> = SingleThreaded<T>;

/// Declares boundary state: `local! { static NAME: Type = const { value }; }` (see [`Local`]).
#[cfg(not(target_arch = "wasm32"))]
macro_rules! local {
    ($($tokens:tt)*) => { std::thread_local! { $($tokens)* } };
}
#[cfg(target_arch = "wasm32")]
macro_rules! local {
    ($(static $name:ident: $ty:ty = const { $value:expr };)*) => {
        $(static $name: $crate::abi::Local<$ty> = $crate::abi::SingleThreaded($value);)*
    };
}
pub(crate) use local;

/// A `static` for the package's wasm, which runs on one thread (wasm32 without atomics): read
/// with [`SingleThreaded::with`], as a `thread_local!` is.
#[cfg(target_arch = "wasm32")]
pub struct SingleThreaded<T>(pub T);

// SAFETY: the package's wasm (`no_std`, wasm32 without the atomics feature) has one thread, so
// no second thread can see the value. The host build (threads) uses `thread_local!`.
#[cfg(target_arch = "wasm32")]
unsafe impl<T> Sync for SingleThreaded<T> {}

#[cfg(target_arch = "wasm32")]
impl<T> SingleThreaded<T> {
    /// Runs `f` on the value, as `LocalKey::with` does.
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }
}

local! {
    static INBOX: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTBOX: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The in buffer, resized to `len` bytes (zeroed), for the driver to write a call's strings
/// into; its address in the wasm memory.
#[unsafe(no_mangle)]
pub extern "C" fn io_in(len: u32) -> usize {
    INBOX.with(|inbox| match inbox.try_borrow_mut() {
        Ok(mut inbox) => {
            inbox.clear();
            inbox.resize(len as usize, 0);
            inbox.as_mut_ptr() as usize
        }
        Err(_) => 0,
    })
}

/// The address of the out buffer, where the last string getter put its bytes.
#[unsafe(no_mangle)]
pub extern "C" fn io_out() -> usize {
    OUTBOX.with(|out| {
        out.try_borrow_mut()
            .map_or(0, |mut out| out.as_mut_ptr() as usize)
    })
}

/// Takes back the strings the driver wrote into the in buffer, in order: each [`Strings::next`]
/// reads the next `length` bytes; a negative or non-finite length is none, as is a string that
/// is not UTF-8 or does not fit in what was written.
#[derive(Debug, Default)]
pub struct Strings {
    at: usize,
}

impl Strings {
    /// The next string, `length` bytes long (none: see [`Strings`]).
    #[inline(never)]
    pub fn next(&mut self, length: f64) -> Option<String> {
        if length.is_nan() || length < 0.0 {
            return None;
        }
        INBOX.with(|inbox| {
            let inbox = inbox.try_borrow().ok()?;
            let end = self.at.checked_add(length as usize)?;
            let text = inbox.get(self.at..end)?;
            self.at = end;
            consult_core::utf8::decode(text)
        })
    }
}

/// The one string of a call ([`Strings::next`] on a fresh reader).
pub fn string(length: f64) -> Option<String> {
    Strings::default().next(length)
}

/// Puts `text` into the out buffer; its byte length, or −1 for none.
pub fn out(text: Option<&str>) -> f64 {
    let Some(text) = text else { return -1.0 };
    OUTBOX.with(|out| match out.try_borrow_mut() {
        Ok(mut out) => {
            out.clear();
            out.extend_from_slice(text.as_bytes());
            out.len() as f64
        }
        Err(_) => -1.0,
    })
}

/// An optional number as JavaScript reads it: NaN for none.
pub fn number(value: Option<impl Into<f64>>) -> f64 {
    value.map_or(f64::NAN, Into::into)
}

/// The machines of one kind, each behind a handle: its index + 1 (0 is never a handle). A call
/// takes its machine out of the slot and puts it back ([`with`]): the two moves are one shared
/// function each per kind, so an export costs a few instructions over the method it calls.
pub struct Slab<T>(RefCell<Vec<Option<Box<T>>>>);

impl<T> Slab<T> {
    /// An empty slab (for a [`local!`]).
    pub const fn new() -> Self {
        Slab(RefCell::new(Vec::new()))
    }

    /// Keeps `value`, in a freed slot when there is one; its handle (0 if the slab is busy,
    /// which a single-threaded caller never sees).
    pub fn insert(&self, value: T) -> f64 {
        let Ok(mut slots) = self.0.try_borrow_mut() else {
            return 0.0;
        };
        let value = Some(Box::new(value));
        let index = match slots.iter().position(Option::is_none) {
            Some(free) => {
                slots[free] = value;
                free
            }
            None => {
                slots.push(value);
                slots.len() - 1
            }
        };
        (index + 1) as f64
    }

    /// Takes the machine behind `handle` out of its slot (put it back with [`Slab::put`]), or
    /// drops it for good when the caller does not.
    #[inline(never)]
    pub fn take(&self, handle: f64) -> Option<Box<T>> {
        let mut slots = self.0.try_borrow_mut().ok()?;
        slots.get_mut(Self::index(handle)?)?.take()
    }

    /// Puts a machine taken by [`Slab::take`] back behind `handle`.
    #[inline(never)]
    pub fn put(&self, handle: f64, value: Box<T>) {
        if let (Ok(mut slots), Some(index)) = (self.0.try_borrow_mut(), Self::index(handle))
            && let Some(slot) = slots.get_mut(index)
        {
            *slot = Some(value);
        }
    }

    fn index(handle: f64) -> Option<usize> {
        (handle >= 1.0 && handle <= u32::MAX as f64).then(|| handle as usize - 1)
    }
}

/// Runs `f` on the machine behind `handle` in the slab `key`; `None` when there is none.
pub fn with<T, R>(
    key: &'static Local<Slab<T>>,
    handle: f64,
    f: impl FnOnce(&mut T) -> R,
) -> Option<R> {
    let mut machine = key.with(|slab| slab.take(handle))?;
    let result = f(&mut machine);
    key.with(|slab| slab.put(handle, machine));
    Some(result)
}

/// Drops the machine behind `handle` in the slab `key`, if any; its slot is reused.
pub fn free<T>(key: &'static Local<Slab<T>>, handle: f64) {
    key.with(|slab| drop(slab.take(handle)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(texts: &[&str]) {
        INBOX.with(|inbox| *inbox.borrow_mut() = texts.concat().into_bytes());
    }

    #[test]
    fn strings_come_back_in_order_and_a_bad_length_is_none() {
        let read = |lengths: &[f64]| {
            let mut strings = Strings::default();
            lengths
                .iter()
                .map(|&len| strings.next(len))
                .collect::<Vec<_>>()
        };
        write(&["tök", "en"]);
        assert_eq!(
            read(&[4.0, f64::NAN, -1.0, 2.0]),
            [Some("tök".into()), None, None, Some("en".into())]
        );
        write(&["ab"]);
        assert_eq!(read(&[3.0]), [None], "longer than what was written");
        assert_eq!(read(&[f64::INFINITY]), [None]);
        write(&["\u{e4}"]);
        assert_eq!(
            read(&[1.0, 1.0]),
            [None, None],
            "half a character is not UTF-8"
        );
    }

    #[test]
    fn out_reports_the_byte_length_or_none() {
        assert_eq!(out(Some("ä€")), 5.0);
        OUTBOX.with(|o| assert_eq!(o.borrow().as_slice(), "ä€".as_bytes()));
        assert_eq!(out(None), -1.0);
        assert!(number(None::<u16>).is_nan());
        assert_eq!(number(Some(404u16)), 404.0);
    }

    local! {
        static NAMES: Slab<&'static str> = const { Slab::new() };
    }

    #[test]
    fn handles_name_one_machine_until_freed_and_slots_are_reused() {
        let (a, b) = NAMES.with(|slab| (slab.insert("a"), slab.insert("b")));
        assert_eq!((a, b), (1.0, 2.0));
        assert_eq!(with(&NAMES, b, |m| *m), Some("b"));
        assert_eq!(
            with(&NAMES, b, |m| *m),
            Some("b"),
            "put back after the call"
        );
        free(&NAMES, a);
        assert_eq!(with(&NAMES, a, |m| *m), None, "freed");
        for bad in [0.0, -1.0, f64::NAN, 1e300, 3.0] {
            assert_eq!(with(&NAMES, bad, |m| *m), None, "{bad}");
            free(&NAMES, bad);
        }
        assert_eq!(NAMES.with(|slab| slab.insert("c")), a, "the freed slot");
        assert_eq!(with(&NAMES, b, |m| *m), Some("b"), "the others untouched");
    }
}
