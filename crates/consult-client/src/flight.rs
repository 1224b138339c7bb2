//! Single-flight: one refresh at a time; every caller that arrives meanwhile waits for the same
//! result instead of starting its own request.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    result: Option<T>,
    wakers: Vec<Waker>,
}

/// A result that several tasks await; completed once.
pub(crate) struct Flight<T: Clone> {
    slot: Rc<RefCell<Slot<T>>>,
}

impl<T: Clone> Clone for Flight<T> {
    fn clone(&self) -> Self {
        Self {
            slot: self.slot.clone(),
        }
    }
}

impl<T: Clone> Flight<T> {
    pub(crate) fn new() -> Self {
        Self {
            slot: Rc::new(RefCell::new(Slot {
                result: None,
                wakers: Vec::new(),
            })),
        }
    }

    /// Sets the result and wakes every waiter.
    pub(crate) fn complete(&self, value: T) {
        let wakers = {
            let mut slot = self.slot.borrow_mut();
            slot.result = Some(value);
            std::mem::take(&mut slot.wakers)
        };
        for waker in wakers {
            waker.wake();
        }
    }

    /// Waits for the result.
    pub(crate) fn wait(&self) -> FlightWait<T> {
        FlightWait {
            slot: self.slot.clone(),
        }
    }
}

/// Future of [`Flight::wait`].
pub(crate) struct FlightWait<T> {
    slot: Rc<RefCell<Slot<T>>>,
}

impl<T: Clone> Future for FlightWait<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.slot.borrow_mut();
        match &slot.result {
            Some(value) => Poll::Ready(value.clone()),
            None => {
                slot.wakers.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A wake-up signal for one waiting task (the poller's loop).
#[derive(Clone, Default)]
pub(crate) struct Notify {
    state: Rc<RefCell<(bool, Option<Waker>)>>,
}

impl Notify {
    pub(crate) fn notify(&self) {
        let waker = {
            let mut state = self.state.borrow_mut();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn notified(&self) -> Notified {
        Notified {
            state: self.state.clone(),
        }
    }
}

/// Future of [`Notify::notified`].
pub(crate) struct Notified {
    state: Rc<RefCell<(bool, Option<Waker>)>>,
}

impl Future for Notified {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        if state.0 {
            state.0 = false;
            Poll::Ready(())
        } else {
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Runs two futures, returning when the first finishes (`true` if it was `a`).
pub(crate) async fn first_of<A: Future, B: Future>(a: A, b: B) -> bool {
    let mut a = Box::pin(a);
    let mut b = Box::pin(b);
    std::future::poll_fn(move |cx| {
        if a.as_mut().poll(cx).is_ready() {
            Poll::Ready(true)
        } else if b.as_mut().poll(cx).is_ready() {
            Poll::Ready(false)
        } else {
            Poll::Pending
        }
    })
    .await
}
